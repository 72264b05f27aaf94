"""What a failed copy means, in one line with its exit code (a pure function of the tools' stderr)."""

from __future__ import annotations

from dataclasses import dataclass

from devtools.dbcopy.container import last_line
from devtools.dbcopy.stream import Outcome
from devtools.report.exitcodes import EXIT_ENVIRONMENT, EXIT_FINDINGS, EXIT_USAGE

DISK_FULL = ("No space left on device", "could not extend file", "disk full")
INTERRUPTED = (
    "terminating connection",
    "server closed the connection",
    "connection to server was lost",
    "Broken pipe",
    "signal",
)
DAMAGED = (
    "did not find magic string",
    "does not appear to be a valid archive",
    "could not read input file",
    "unexpected end of file",
    "end of file",
    "could not uncompress",
    "corrupt",
    "invalid",
)
OTHER_VERSION = ("unsupported version",)


@dataclass(frozen=True)
class Fault:
    message: str
    exit_code: int


def _has(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(n.lower() in lowered for n in needles)


def explain(outcome: Outcome, *, source: str, target: str, kept: str, from_file: bool) -> Fault:
    """`source`: "track a" or "snapshot s1"; `target`: "track b"; `kept`: what is left as it was."""
    both = outcome.producer_err + outcome.consumer_err
    if _has(both, DISK_FULL):
        return Fault(
            f"the db of {target} ran out of disk space while restoring: free space "
            f"(`docker system df`), then try again; {kept}",
            EXIT_ENVIRONMENT,
        )
    if outcome.producer_rc != 0 and not outcome.producer_stopped:
        line = last_line(outcome.producer_err)
        if _has(outcome.producer_err, INTERRUPTED) or outcome.producer_rc < 0:
            return Fault(
                f"the dump of {source} was interrupted ({line}); {kept}: try again",
                EXIT_FINDINGS,
            )
        return Fault(f"the dump of {source} failed ({line}); {kept}", EXIT_FINDINGS)
    line = last_line(outcome.consumer_err)
    if from_file and _has(outcome.consumer_err, OTHER_VERSION):
        return Fault(
            f"{source} was written by a newer pg_dump than {target}'s PostgreSQL ({line}): "
            f"restore it into a track whose db runs that version or newer; {kept}",
            EXIT_USAGE,
        )
    if from_file and _has(outcome.consumer_err, DAMAGED):
        return Fault(
            f"{source} is damaged or incomplete ({line}): delete it and take a new one; {kept}",
            EXIT_USAGE,
        )
    if _has(outcome.consumer_err, INTERRUPTED) or outcome.consumer_rc < 0:
        return Fault(f"the restore into {target} was interrupted ({line}); {kept}: try again", 1)
    return Fault(f"the restore into {target} failed ({line}); {kept}", EXIT_FINDINGS)
