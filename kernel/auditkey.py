"""The audit's keys: HMAC-SHA256 keys held outside the database, and the MACs they make.

A keyring is one or more `ID:SECRET` entries, from `OMC_AUDIT_KEY` (entries separated by white
space) or from the file `OMC_AUDIT_KEY_FILE` names (one entry a line; `#` starts a comment). The
last entry signs new records; every entry verifies the records that name its id. Rotation is
adding a new last entry and keeping the old ones for as long as their records must verify.

A record's MAC covers its key id and its chain hash (which covers every field and the previous
record's hash), so nobody without the key can write a record, or rewrite one, that verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kernel.errors import UnusableInput

KEY_ENV = "OMC_AUDIT_KEY"
KEY_FILE_ENV = "OMC_AUDIT_KEY_FILE"
MIN_SECRET = 16  # characters: a short secret is guessable offline from any record's MAC
_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_RECORD, _ANCHOR = b"omc-audit-record", b"omc-audit-anchor"


@dataclass(frozen=True)
class Keyring:
    keys: Mapping[str, bytes]  # key id -> secret
    current: str  # the id that signs new records
    origin: str  # where the keys came from, for messages

    def record_mac(self, key_id: str, record_hash: str) -> str | None:
        """The MAC a record signed with `key_id` carries (None: the id is not in the keyring)."""
        secret = self.keys.get(key_id)
        if secret is None:
            return None
        return _mac(secret, _RECORD, key_id, record_hash)

    def sign_record(self, record_hash: str) -> tuple[str, str]:
        """(key id, MAC) for a new record."""
        return self.current, _mac(self.keys[self.current], _RECORD, self.current, record_hash)

    def anchor_mac(self, key_id: str, time: str, sequence: int, head: str) -> str | None:
        secret = self.keys.get(key_id)
        if secret is None:
            return None
        return _mac(secret, _ANCHOR, key_id, time, str(sequence), head)


def _mac(secret: bytes, purpose: bytes, *parts: str) -> str:
    # NUL-separated: no field holds a NUL, so no two field lists give the same message.
    message = b"\x00".join([purpose, *(p.encode() for p in parts)])
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def macs_equal(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and hmac.compare_digest(a, b)


def parse_keyring(text: str, origin: str) -> Keyring:
    """The keyring in `text` (entries `ID:SECRET`); a bad entry is one line naming `origin`."""
    keys: dict[str, bytes] = {}
    current = ""
    for number, line in enumerate(text.splitlines(), 1):
        for entry in line.split("#", 1)[0].split():
            key_id, sep, secret = entry.partition(":")
            where = f"{origin} (line {number})" if "\n" in text.strip() else origin
            if not sep or not _ID.match(key_id):
                raise UnusableInput(
                    f"{where}: expected ID:SECRET entries (an id of 1-32 letters, digits, . _ -), "
                    f"got {_redacted(entry)!r}"
                )
            if len(secret) < MIN_SECRET:
                raise UnusableInput(
                    f"{where}: the secret of key {key_id!r} is shorter than {MIN_SECRET} "
                    "characters (make one: python3 -c 'import secrets; print(secrets.token_hex(32))')"
                )
            if key_id in keys:
                raise UnusableInput(f"{where}: key id {key_id!r} is listed twice")
            keys[key_id] = secret.encode()
            current = key_id
    if not keys:
        raise UnusableInput(f"{origin} holds no key: expected ID:SECRET entries")
    return Keyring(keys, current, origin)


def _redacted(entry: str) -> str:
    key_id, sep, _secret = entry.partition(":")
    return f"{key_id}:…" if sep else (entry[:8] + "…" if len(entry) > 8 else entry)


def load_keyring(environ: Mapping[str, str] | None = None) -> Keyring | None:
    """The configured keyring, or None when no key is configured (records are then unsigned)."""
    env = os.environ if environ is None else environ
    inline, file = env.get(KEY_ENV, ""), env.get(KEY_FILE_ENV, "")
    if inline and file:
        raise UnusableInput(f"both {KEY_ENV} and {KEY_FILE_ENV} are set: set one")
    if inline:
        return parse_keyring(inline, KEY_ENV)
    if file:
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            said = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise UnusableInput(
                f"{KEY_FILE_ENV} names {path}, which cannot be read: {said}"
            ) from None
        return parse_keyring(text, f"{KEY_FILE_ENV} {path}")
    return None
