"""A deliverable that should be text (source, markup, config) but holds binary data.

Named by its path: `.py`, `.tsx`, `.md`, `Dockerfile`, ... are text; a path whose kind is not
known here (`.png`, `.onnx`, `.bin`, no extension) may be binary by design and is never judged.
Binary is git's test (a NUL byte in the first 8000 bytes) or, for bytes that are not UTF-8,
control characters no text encoding uses (more than 1 in 20 bytes: random data has ~1 in 10,
Latin-1 or Windows-1252 source has none).
"""

from __future__ import annotations

from pathlib import PurePosixPath

TEXT_SUFFIXES = frozenset(
    (  # noqa: SIM905 (a list literal of 66 strings would take 66 lines)
        ".py .pyi .ts .tsx .js .jsx .mjs .cjs .mts .cts .vue .svelte .json .jsonc .yaml .yml "
        ".toml .ini .cfg .conf .md .mdx .rst .txt .html .htm .css .scss .sass .less .sql .sh "
        ".bash .zsh .go .rs .java .kt .kts .scala .rb .php .c .h .cc .cpp .hpp .cs .swift .xml "
        ".csv .graphql .gql .proto .tf .lua .pl .r .dart .ex .exs .mako .j2 .jinja"
    ).split()
)
TEXT_NAMES = frozenset(("Dockerfile", "Makefile", "Procfile", "Justfile", "Containerfile"))
_SNIFF = 8000
_CONTROL = frozenset((*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F))


def expects_text(path: str) -> bool:
    name = PurePosixPath(path).name
    suffix = PurePosixPath(path).suffix.lower()
    return suffix in TEXT_SUFFIXES or name in TEXT_NAMES or name.startswith("Dockerfile.")


def is_binary(data: bytes) -> bool:
    head = data[:_SNIFF]
    if b"\0" in head:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        controls = sum(1 for byte in head if byte in _CONTROL)
        return controls * 20 > len(head)
    return False


def binary_problem(path: str, data: bytes) -> str | None:
    """What to say when `path` should be text and `data` is binary; None when it is fine."""
    if not data or not expects_text(path) or not is_binary(data):
        return None
    return f"{path} holds binary data, not text: commit the real file"
