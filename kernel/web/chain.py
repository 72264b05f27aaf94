"""The chain status every page shows: `omc-dev kernel audit verify`'s verdict, kept up to date
incrementally for the life of the server process.

One `ChainWatch` per application holds a `kernel.audit.Verifier`: a view replays only the records
added since the last view (plus one row to check the last verified record is unchanged). The
keyring is the database's (OMC_AUDIT_KEY / OMC_AUDIT_KEY_FILE) and the anchors are read from
OMC_AUDIT_ANCHOR_FILE, as the CLI reads them; when the anchor file changes, the next view
replays the chain from genesis once against the new anchors.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.anchor import anchor_path, read_anchors
from kernel.audit import Verification, Verifier
from kernel.db import Database


@dataclass(frozen=True)
class ChainStatus:
    """What the header shows; `as_json()` has the keys of `audit verify --format json`."""

    verification: Verification
    anchor_file: Path | None

    @property
    def verified(self) -> bool:
        return self.verification.ok

    @property
    def verified_upto(self) -> int:
        """The last record known good: the head when verified, else the one before the break."""
        broken = self.verification.first_break
        return self.verification.head_sequence if broken is None else broken.sequence - 1

    @property
    def summary(self) -> str:
        v = self.verification
        broken = v.first_break
        if broken is not None:
            return f"chain broken at record {broken.sequence}: {broken.detail}"
        if v.head_sequence == 0:
            return "chain verified: no records yet"
        return f"chain verified up to record {v.head_sequence}"

    def record_verified(self, sequence: int) -> bool:
        return sequence <= self.verified_upto

    def as_json(self) -> dict[str, Any]:
        v = self.verification
        broken = v.first_break
        anchor = v.last_anchor
        return {
            "verified": broken is None,
            "records": v.records,
            "head": v.head_sequence,
            "first_broken": None
            if broken is None
            else {"sequence": broken.sequence, "problem": broken.problem, "detail": broken.detail},
            "authenticated": v.authenticated,
            "key_ids": list(v.key_ids),
            "unsigned_records": v.unsigned,
            "anchor_file": None if self.anchor_file is None else str(self.anchor_file),
            "anchors": v.anchors,
            "last_anchor": None
            if anchor is None
            else {"sequence": anchor.sequence, "time": anchor.time, "key_id": anchor.key_id},
        }


class ChainWatch:
    """The process's verifier; `status(db)` is safe to call from many request threads."""

    def __init__(self, anchor_file: Path | None = None) -> None:
        self.anchor_file = anchor_path(anchor_file)
        self._lock = threading.Lock()
        self._verifier: Verifier | None = None
        self._anchors_seen: tuple[int, int] | None = None  # the anchor file's (size, mtime_ns)

    def _anchor_stamp(self) -> tuple[int, int] | None:
        if self.anchor_file is None:
            return None
        try:
            st = self.anchor_file.stat()
        except OSError:
            return (-1, -1)
        return (st.st_size, st.st_mtime_ns)

    def status(self, db: Database) -> ChainStatus:
        with self._lock:
            stamp = self._anchor_stamp()
            if self._verifier is None or stamp != self._anchors_seen:
                anchors = read_anchors(self.anchor_file) if self.anchor_file is not None else []
                self._verifier = Verifier(db.audit_keys, anchors)
                self._anchors_seen = stamp
            # One snapshot: the head and the records as of one moment, while the kernel appends.
            with db.snapshot() as session:
                result = self._verifier.run(session)
            return ChainStatus(result, self.anchor_file)

    @property
    def full_replays(self) -> int:
        return 0 if self._verifier is None else self._verifier.full_replays
