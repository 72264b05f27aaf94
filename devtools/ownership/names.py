"""Paths as a terminal shows them: one name can never pass for another line or another name.

File names may hold newlines, escape sequences, bidi overrides and bytes that are not UTF-8;
printed raw, a name like "x\\n  note: kept everything" forges a line of the clean plan. Text
output shows every such character as a backslash escape (and a backslash as two), so what is
printed is one line and names exactly one file. JSON output keeps the real names (JSON escapes).
"""

from __future__ import annotations

import unicodedata

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape): show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    # Cc: control characters; Cf: format characters (bidi overrides, zero-width); Cs: surrogates;
    # Zl/Zp: line and paragraph separators.
    return char == "\\" or unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}


def shown(name: object) -> str:
    """`name` (a path or a line holding paths) with every unsafe character escaped."""
    text = str(name)
    if text.isprintable() and "\\" not in text:
        return text  # the common case, fast
    return "".join(_escape(c) if _unsafe(c) else c for c in text)
