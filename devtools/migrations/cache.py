"""What each revision file declares, remembered by the digest of its bytes.

Parsing is most of the cost of reading a long history, and a revision file never changes once
merged, so `heads` and `lint` keep the parsed declarations (and, for lint, the operations of
`upgrade()`) in pickles per versions folder under the user's cache directory, as black and
pytest do. An edited file has a new digest; an upgraded omc-dev has a new fingerprint; either
way the entry is recomputed. `OMC_NO_CACHE=1` turns it off, `OMC_CACHE_DIR` moves it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from devtools import __version__

CACHE_FORMAT = 1
# The modules whose code decides what is stored: editing one invalidates every entry.
_PRODUCERS = (
    "graph/model.py",
    "graph/read.py",
    "ops.py",
    "sql.py",
    "ddl.py",
    "expr.py",
    "schema.py",
    "volatility.py",
)


def cache_dir() -> Path | None:
    if os.environ.get("OMC_NO_CACHE") == "1":
        return None
    configured = os.environ.get("OMC_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "omc-dev"


def _fingerprint() -> str:
    here = Path(__file__).parent
    parts = [str(CACHE_FORMAT), __version__]
    for name in _PRODUCERS:
        try:
            stat = (here / name).stat()
            parts.append(f"{name}:{stat.st_mtime_ns}:{stat.st_size}")
        except OSError:
            parts.append(name)
    return hashlib.blake2b("|".join(parts).encode(), digest_size=16).hexdigest()


class FileCache:
    """digest -> value for one kind of record ("graph", "ops") of one set of versions folders.

    One file per kind, so `heads` never loads (or imports the classes of) what only lint needs.
    """

    def __init__(self, scope: str, kind: str) -> None:
        folder = cache_dir()
        name = hashlib.blake2b(scope.encode(), digest_size=12).hexdigest()
        self.path = folder / f"migrations-{name}-{kind}.pickle" if folder is not None else None
        self.fingerprint = _fingerprint() if self.path is not None else ""
        self.entries: dict[str, object] = {}
        self.used: set[str] = set()
        self.dirty = False
        if self.path is not None:
            import pickle  # here: OMC_NO_CACHE runs never need it

            try:
                with self.path.open("rb") as fh:
                    stored = pickle.load(fh)
                if isinstance(stored, dict) and stored.get("fingerprint") == self.fingerprint:
                    self.entries = stored["entries"]
            except Exception:
                self.entries = {}

    @property
    def enabled(self) -> bool:
        """False under OMC_NO_CACHE: nothing is read, and nothing is worth storing."""
        return self.path is not None

    def get(self, digest: str) -> object | None:
        if self.path is None:
            return None
        self.used.add(digest)
        return self.entries.get(digest)

    def put(self, digest: str, value: object) -> None:
        if self.path is None:
            return
        self.used.add(digest)
        self.entries[digest] = value
        self.dirty = True

    def save(self) -> None:
        """Keep only the files seen in this run; never fail the command over the cache."""
        if self.path is None:
            return
        stale = set(self.entries) - self.used
        if not self.dirty and not stale:
            return
        import pickle

        from devtools.atomic import write_atomic

        entries = {k: v for k, v in self.entries.items() if k in self.used}
        blob = {"fingerprint": self.fingerprint, "entries": entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = pickle.dumps(blob, protocol=pickle.HIGHEST_PROTOCOL)
            write_atomic(self.path, data, mode=0o600)  # a private cache, as before
        except OSError:
            return
