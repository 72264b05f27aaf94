"""The chain status every page shows: `omc-dev kernel audit verify`'s verdict, kept up to date
incrementally for the life of the server process.

One `ChainWatch` per application holds a `kernel.audit.Verifier`: a view replays only the records
added since the last view (plus one row to check the last verified record is unchanged). The
keyring is the database's (OMC_AUDIT_KEY / OMC_AUDIT_KEY_FILE) and the anchors are read from
OMC_AUDIT_ANCHOR_FILE, as the CLI reads them; when the anchor file changes, the chain is replayed
from genesis once against the new anchors.

A view never waits on a long replay: when more than `SYNC_LIMIT` records are to be replayed (the
first view of a large audit after a start), a background thread does it, and meanwhile the
header says how far it got ("verifying").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.anchor import anchor_path, read_anchors
from kernel.audit import Break, Verification, Verifier
from kernel.db import Database
from kernel.models import AuditHead

SYNC_LIMIT = 5_000  # records a view replays itself; a longer backlog goes to a background thread


@dataclass(frozen=True)
class ChainStatus:
    """What the header shows; `as_json()` has the keys of `audit verify --format json` (plus
    `"verifying": true` while a background replay runs)."""

    verification: Verification | None  # None: a background replay has not finished yet
    anchor_file: Path | None
    progress: tuple[int, int] = (0, 0)  # while verifying: (records verified so far, head)

    @property
    def verifying(self) -> bool:
        return self.verification is None

    @property
    def verified(self) -> bool:
        return self.verification is not None and self.verification.ok

    @property
    def first_break(self) -> Break | None:
        return None if self.verification is None else self.verification.first_break

    @property
    def authenticated(self) -> bool:
        return self.verification is not None and self.verification.authenticated

    @property
    def state(self) -> str:
        """ok | broken | verifying (the header's style)."""
        return "verifying" if self.verifying else "ok" if self.verified else "broken"

    @property
    def verified_upto(self) -> int:
        """The last record known good: the head when verified, else the one before the break."""
        v = self.verification
        if v is None:
            return self.progress[0]
        return v.head_sequence if v.first_break is None else v.first_break.sequence - 1

    @property
    def summary(self) -> str:
        v = self.verification
        if v is None:
            done, head = self.progress
            return f"verifying the chain: {done} of {head} records so far"
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
        if v is None:
            done, head = self.progress
            return {"verifying": True, "verified": None, "records": done, "head": head}
        return v.to_json(self.anchor_file)


class ChainWatch:
    """The process's verifier; `status(db)` is safe to call from many request threads."""

    def __init__(self, anchor_file: Path | None = None, sync_limit: int = SYNC_LIMIT) -> None:
        self.anchor_file = anchor_path(anchor_file)
        self.sync_limit = sync_limit
        self._lock = threading.Lock()  # guards the fields below
        self._replaying = threading.Lock()  # one replay at a time
        self._verifier: Verifier | None = None
        self._anchors_seen: tuple[int, int] | None = None  # the anchor file's (size, mtime_ns)
        self._background: threading.Thread | None = None
        self._head_seen = 0

    def _anchor_stamp(self) -> tuple[int, int] | None:
        if self.anchor_file is None:
            return None
        try:
            st = self.anchor_file.stat()
        except OSError:
            return (-1, -1)
        return (st.st_size, st.st_mtime_ns)

    def _current(self, db: Database) -> Verifier:
        with self._lock:
            stamp = self._anchor_stamp()
            if self._verifier is None or stamp != self._anchors_seen:
                anchors = read_anchors(self.anchor_file) if self.anchor_file is not None else []
                self._verifier = Verifier(db.audit_keys, anchors)
                self._anchors_seen = stamp
            return self._verifier

    def status(self, db: Database) -> ChainStatus:
        """The verdict as of now. Each replay reads its own snapshot, taken once the previous
        replay has finished, so a replay never sees an older chain than the last one did."""
        verifier = self._current(db)
        with self._lock:
            if self._background is not None and self._background.is_alive():
                return self._pending(verifier)
        with self._replaying, db.snapshot() as session:
            head = session.get(AuditHead, 1)
            self._head_seen = head.sequence if head is not None else 0
            backlog = self._head_seen - verifier.verified_upto
            if verifier.broken is None and backlog > self.sync_limit:
                with self._lock:
                    self._background = threading.Thread(
                        target=self._catch_up,
                        args=(db, verifier),
                        name="chain-verify",
                        daemon=True,
                    )
                    # It starts replaying once this view lets go of the replay lock.
                    self._background.start()
                return self._pending(verifier)
            return ChainStatus(verifier.run(session), self.anchor_file)

    def _pending(self, verifier: Verifier) -> ChainStatus:
        return ChainStatus(None, self.anchor_file, (verifier.verified_upto, self._head_seen))

    def _catch_up(self, db: Database, verifier: Verifier) -> None:
        try:
            with self._replaying, db.snapshot() as session:
                verifier.run(session)
        except Exception as exc:  # the next view tries again, in its own request
            import sys

            sys.stderr.write(f"kernel api: verifying the audit chain failed: {exc}\n")

    def wait(self, timeout: float | None = None) -> None:
        """Until a background replay (if any) has finished (tests and the benchmark)."""
        thread = self._background
        if thread is not None:
            thread.join(timeout)

    @property
    def full_replays(self) -> int:
        return 0 if self._verifier is None else self._verifier.full_replays
