"""The audit's witness outside the database: an append-only JSONL file of anchored heads.

Each line says that at `time` the chain's record `sequence` had hash `head`, with the key id and
MAC of the keyring's signing key (both null when no key is configured). Someone who can rewrite
the database cannot rewrite this file as well: `verify` then finds the records the file witnessed
missing (a cut tail) or different (a rewritten history).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kernel.auditkey import Keyring
from kernel.errors import UnusableInput

ANCHOR_FILE_ENV = "OMC_AUDIT_ANCHOR_FILE"
_FIELDS = ("time", "sequence", "head", "key_id", "mac")


@dataclass(frozen=True)
class Anchor:
    line: int  # 1-based line number in the file
    time: str
    sequence: int
    head: str
    key_id: str | None
    mac: str | None

    def as_json(self) -> str:
        body = {name: getattr(self, name) for name in _FIELDS}
        return json.dumps(body, sort_keys=True, separators=(",", ":"))


def anchor_path(explicit: Path | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """`--anchor-file`, else `OMC_AUDIT_ANCHOR_FILE`, else None (no witness configured)."""
    env = os.environ if environ is None else environ
    if explicit is not None:
        return explicit
    named = env.get(ANCHOR_FILE_ENV)
    return Path(named) if named else None


def read_anchors(path: Path) -> list[Anchor]:
    """The file's anchors, in file order; a missing file has none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UnusableInput(f"cannot read the anchor file {path}: {exc.strerror}") from None
    anchors = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        anchors.append(_parse(raw, f"the anchor file {path} line {number}", number))
    return anchors


def _parse(raw: bytes, where: str, number: int) -> Anchor:
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise UnusableInput(f"{where} is not an anchor (not JSON)") from None
    if not isinstance(doc, dict) or set(doc) != set(_FIELDS):
        raise UnusableInput(f"{where} is not an anchor (expected the keys {', '.join(_FIELDS)})")
    time, sequence, head, key_id, mac = (doc[name] for name in _FIELDS)
    if (
        not isinstance(time, str)
        or not isinstance(sequence, int)
        or isinstance(sequence, bool)
        or sequence < 0
        or not isinstance(head, str)
        or not (key_id is None or isinstance(key_id, str))
        or not (mac is None or isinstance(mac, str))
        or (key_id is None) != (mac is None)
    ):
        raise UnusableInput(f"{where} is not an anchor (a field has the wrong type)")
    return Anchor(number, time, sequence, head, key_id, mac)


def make_anchor(sequence: int, head: str, keys: Keyring | None) -> Anchor:
    time = datetime.now(UTC).isoformat(timespec="microseconds")
    if keys is None:
        return Anchor(0, time, sequence, head, None, None)
    mac = keys.anchor_mac(keys.current, time, sequence, head)
    return Anchor(0, time, sequence, head, keys.current, mac)


def append_anchor(path: Path, anchor: Anchor) -> None:
    """Append one line with one write (O_APPEND), then fsync: the file only ever grows."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise UnusableInput(f"cannot open the anchor file {path}: {exc.strerror}") from None
    try:
        line = anchor.as_json() + "\n"
        # A line cut short by a crash must not swallow this one.
        if os.fstat(fd).st_size and not _ends_with_newline(path):
            line = "\n" + line
        os.write(fd, line.encode())
        os.fsync(fd)
    except OSError as exc:
        raise UnusableInput(f"cannot append to the anchor file {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
