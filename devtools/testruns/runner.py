"""Where pytest runs: in the service's container (as `omc-dev run` would), or right here when
already inside one. Every run writes pytest's own JUnit XML, which comes back as a ResultSet.

In a container the XML is written to the container's /tmp and read back through the engine's
archive API (what `docker cp` uses): no bind mount of the project root is needed (the reference
stack mounts only source folders), and no file owned by the container's user lands in the tree.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from devtools.errors import EnvironmentMissing, UserError
from devtools.report.verbosity import show_command
from devtools.testruns.junit import parse_junit
from devtools.testruns.model import ResultSet

PYTEST_INTERRUPTED = 2  # pytest's own code for Ctrl-C (and for collection errors)
NOT_STARTED = (126, 127)  # the shell's codes: the command could not be run
ISOLATED = ("-p", "no:randomly", "-p", "no:cacheprovider")  # every run in the order we give
PYTEST_USAGE_ERROR = 4
# One process, in the order given: pytest-xdist would spread the tests over workers (a project's
# `addopts = -n auto`), and an order across workers is no order. `-p no:xdist` turns it off where
# it is installed and is harmless where it is not; but with `-n` in the project's addopts pytest
# then refuses `-n` as unknown (exit 4), and `-n 0` (xdist's own "no workers") is the way.
SERIAL = ("-p", "no:xdist")
SERIAL_WITH_N = ("-n", "0")
_JUNITXML = ("--junitxml", "--junit-xml")


class Interrupted(UserError):
    exit_code = 130


class PytestRun:
    """One finished pytest run: its exit code and the outcomes it recorded (None: it wrote none)."""

    def __init__(self, code: int, junit: bytes | None) -> None:
        self.code = code
        self.junit = junit

    def results(self, where: str) -> ResultSet:
        if self.junit is None:
            raise EnvironmentMissing(f"pytest wrote no JUnit XML in {where} (exit {self.code})")
        return parse_junit(self.junit, f"pytest's JUnit XML from {where}")

    def interrupted(self) -> bool:
        if self.code in (130, 128 + signal.SIGTERM, 128 + signal.SIGKILL):
            return True
        if self.code != PYTEST_INTERRUPTED or not self.junit:
            return False
        # Exit 2 is also pytest's answer to a collection error, which the XML records.
        return b"collection failure" not in self.junit and b'classname=""' not in self.junit


class Runner:
    """Runs pytest with extra arguments; subclasses say where."""

    where = "here"

    def __init__(self, command: Sequence[str]) -> None:
        self.command = list(command)
        self.serial: tuple[str, ...] = SERIAL

    def pytest(self, args: Sequence[str], *, env: Mapping[str, str] | None = None) -> PytestRun:
        raise NotImplementedError

    def pytest_in_order(self, args: Sequence[str]) -> PytestRun:
        """pytest in one process, running the tests in the order `args` names them."""
        run = self.pytest([*self.serial, *args])
        if run.junit is None and run.code == PYTEST_USAGE_ERROR and self.serial == SERIAL:
            # `-n` in the project's addopts: xdist is there, so ask it for no workers instead.
            retry = self.pytest([*SERIAL_WITH_N, *args])
            if retry.junit is not None or retry.code != PYTEST_USAGE_ERROR:
                self.serial = SERIAL_WITH_N
                return retry
        return run

    def argv(self, args: Sequence[str], junit_path: str) -> list[str]:
        # xunit1 whatever the project configures: its `file` attribute makes ids exact. A
        # --junitxml of the user's own is taken out (pytest writes one file: ours); `tests run`
        # writes theirs from ours afterwards (user_junitxml).
        return [
            *self.command,
            *without_junitxml(args),
            "-o",
            "junit_family=xunit1",
            f"--junitxml={junit_path}",
        ]

    def check_started(self, run: PytestRun) -> PytestRun:
        """A run that wrote no XML and failed to start: pytest is missing (exit 125)."""
        if run.junit is None and (run.code in NOT_STARTED or run.code == 1):
            raise EnvironmentMissing(
                f"pytest did not run in {self.where} (`{' '.join(self.command)}` exited {run.code}, "
                "no results): install pytest there, or set command in [tool.omc-dev.tests]"
            )
        return run


class LocalRunner(Runner):
    """Inside a container already (or told so): pytest as a child process of omc-dev."""

    def __init__(self, command: Sequence[str], reason: str) -> None:
        super().__init__(command)
        self.where = f"this container ({reason})"

    def pytest(self, args: Sequence[str], *, env: Mapping[str, str] | None = None) -> PytestRun:
        fd, path = tempfile.mkstemp(prefix="omc-tests-", suffix=".xml")
        os.close(fd)
        Path(path).unlink()  # pytest creates it; an empty file left behind would look like a crash
        try:
            sys.stdout.flush()
            argv = self.argv(args, path)
            show_command(argv)
            try:
                proc = subprocess.Popen(argv, env={**os.environ, **(env or {})})
            except FileNotFoundError:
                return self.check_started(PytestRun(127, None))
            try:
                code = proc.wait()
            except KeyboardInterrupt:
                proc.wait()  # pytest got the same Ctrl-C: let it finish writing, then stop
                raise Interrupted("interrupted: the run was not recorded") from None
            try:
                data: bytes | None = Path(path).read_bytes()
            except FileNotFoundError:
                data = None
            return self.check_started(PytestRun(code, data))
        finally:
            Path(path).unlink(missing_ok=True)


class ContainerRunner(Runner):
    """In the service's running container, through `omc-dev run`'s own resolution and exec."""

    def __init__(self, command: Sequence[str], service: str | None, track: str | None) -> None:
        from devtools.container.request import RunRequest
        from devtools.container.run import resolve_service

        super().__init__(command)
        self.track = track
        self.resolved = resolve_service(RunRequest(["true"], service=service, track=track))
        self.service = self.resolved.info.name
        self.where = f"service {self.service}"

    def pytest(self, args: Sequence[str], *, env: Mapping[str, str] | None = None) -> PytestRun:
        from devtools.container.request import RunRequest
        from devtools.container.run import exec_resolved

        path = f"/tmp/omc-tests-{os.urandom(8).hex()}.xml"
        show_command(["omc-dev", "run", "-s", self.service, "--", *self.argv(args, path)])
        pairs = [f"{k}={v}" for k, v in (env or {}).items()]
        request = RunRequest(
            self.argv(args, path), service=self.service, track=self.track, env=pairs
        )
        code = exec_resolved(self.resolved, request)
        data = self._read_back(path)
        return self.check_started(PytestRun(code, data))

    def _read_back(self, path: str) -> bytes | None:
        from devtools.docker.engine_api import EngineError

        engine, container = self.resolved.engine, self.resolved.info.container
        try:
            archive = engine.read_archive(container, path)
        except EngineError as exc:
            if exc.status == 404:
                return None
            raise EnvironmentMissing(
                f"cannot read pytest's results from {self.where}: {exc.message}"
            ) from None
        try:
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                member = tar.next()
                handle = tar.extractfile(member) if member is not None else None
                data = handle.read() if handle is not None else None
        except tarfile.TarError:
            data = b""  # reported as a truncated file by the parser
        self._remove(path)
        return data

    def _remove(self, path: str) -> None:
        from devtools.docker.engine_api import EngineError

        try:
            exec_id = self.resolved.engine.create_exec(
                self.resolved.info.container, {"Cmd": ["rm", "-f", path], "User": "0"}
            )
            self.resolved.engine.start_detached(exec_id)
        except EngineError:
            pass  # a file in the container's /tmp: harmless if it stays


def make_runner(command: Sequence[str], service: str | None, track: str | None) -> Runner:
    from devtools.container.detect import inside_container

    reason = inside_container()
    if reason:
        return LocalRunner(command, reason)
    return ContainerRunner(command, service, track)


def user_junitxml(args: Sequence[str]) -> str | None:
    """The path of a --junitxml/--junit-xml among pytest's arguments (the last one, as pytest
    takes it); None when there is none. Arguments after a bare `--` are not options."""
    found = None
    items = list(args)
    for index, arg in enumerate(items):
        if arg == "--":
            break
        name, eq, value = arg.partition("=")
        if name in _JUNITXML:
            if eq:
                found = value
            elif index + 1 < len(items):
                found = items[index + 1]
    return found


def without_junitxml(args: Sequence[str]) -> list[str]:
    out: list[str] = []
    items = list(args)
    skip = False
    for index, arg in enumerate(items):
        if skip:
            skip = False
            continue
        if arg == "--":
            out += items[index:]
            break
        name, eq, _ = arg.partition("=")
        if name in _JUNITXML:
            skip = not eq
            continue
        out.append(arg)
    return out
