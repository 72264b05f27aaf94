"""Refuse compose files whose YAML aliases expand without bound, before compose reads them.

A few lines of nested anchors (`&a [*b, *b, ...]`, the "billion laughs") expand to billions of
nodes: `docker compose` then works for ever, and so would any walk over the expanded tree. The
node graph PyYAML composes shares each anchored node instead of copying it, so its expanded size
is counted here in one pass over the distinct nodes.

Only that is judged here: a file PyYAML cannot read is left to compose, whose own message names
the problem (PyYAML and compose's YAML parser disagree on a few corners).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from devtools.errors import UnusableInput

# Expanded nodes (scalars, sequences and mappings, each key counted) a compose file may hold.
# Real ones hold hundreds to a few thousand, merges included (compose itself needs ~10 s for
# 50,000); a bomb holds billions.
MAX_EXPANDED_NODES = 50_000

_checked: dict[tuple[Path, int, int, int], None] = {}  # files already judged, by identity


def check_expansion(path: Path) -> None:
    """Raise `UnusableInput` when `path`'s aliases expand past `MAX_EXPANDED_NODES` or contain
    themselves; a file that is missing, unreadable or not YAML is left to compose to report."""
    try:
        stat = path.stat()
        key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if key in _checked:
            return
        data = path.read_bytes()
    except OSError:
        return
    if b"*" in data:  # no alias, nothing to expand
        try:
            nodes = yaml.compose_all(data, Loader=_LOADER)
            for root in nodes:
                if root is not None:
                    _judge(path, root)
        except (yaml.YAMLError, RecursionError, MemoryError):
            pass
    _checked[key] = None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _judge(path: Path, root: yaml.Node) -> None:
    """The expanded size of every distinct node, children first, without recursion."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        ident = id(node)
        if children_done:
            open_.discard(ident)
            total = 1 + sum(size[id(child)] for child in _children(node))
            if total > MAX_EXPANDED_NODES:
                line = node.start_mark.line + 1
                raise UnusableInput(
                    f"{path}:{line}: its YAML aliases expand to more than "
                    f"{MAX_EXPANDED_NODES:,} nodes (an alias bomb): compose would not finish "
                    "reading it; write the repeated parts out, or nest fewer aliases"
                )
            size[ident] = total
            continue
        if ident in size:
            continue
        if ident in open_:
            raise UnusableInput(
                f"{path}:{node.start_mark.line + 1}: a YAML anchor contains an alias of itself: "
                "compose cannot expand it; remove the alias"
            )
        open_.add(ident)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)


# libyaml's composer when PyYAML has it (fast, and it bounds nesting depth itself).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
