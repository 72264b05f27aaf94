"""Refuse compose files compose would take for ever to read, before compose reads them.

Two shapes do that in a few lines: nested anchors (`&a [*b, *b, ...]`, the "billion laughs"),
which expand to billions of nodes, and nesting thousands of levels deep (`[[[[...]]]]`): compose
works on the first for ever and on the second for half a minute, and any walk over them, ours
included, exhausts time or stack. The node graph PyYAML composes shares each anchored node
instead of copying it, so the expanded size and depth are counted here in one pass over the
distinct nodes.

Only that is judged here: a file PyYAML cannot read for another reason is left to compose,
whose own message names the problem (PyYAML and compose's YAML parser disagree on a few corners).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from devtools.errors import UnusableInput

# Expanded nodes (scalars, sequences and mappings, each key counted) a compose file may hold.
# Real ones hold hundreds to a few thousand, merges included (compose itself needs ~10 s for
# 50,000); a bomb holds billions.
MAX_EXPANDED_NODES = 50_000
# Levels of nesting: real compose files use fewer than ten.
MAX_DEPTH = 100

_checked: set[tuple[Path, int, int, int]] = set()  # files already judged, by identity


def check_expansion(path: Path) -> None:
    """Raise `UnusableInput` when `path` expands past `MAX_EXPANDED_NODES`, nests deeper than
    `MAX_DEPTH` or holds an anchor that contains itself; a file that is missing, unreadable or
    otherwise not YAML is left to compose to report."""
    try:
        stat = path.stat()
        key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if key in _checked:
            return
        data = path.read_bytes()
    except OSError:
        return
    try:
        for root in yaml.compose_all(data, Loader=_LOADER):
            if root is not None:
                _judge(path, root)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own limit (1,000 levels)
            raise _too_deep(path, getattr(exc, "problem_mark", None)) from None
    except RecursionError:  # PyYAML without libyaml: its composer recurses
        raise _too_deep(path, None) from None
    _checked.add(key)


def _too_deep(path: Path, mark: yaml.Mark | None) -> UnusableInput:
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    return UnusableInput(
        f"{where}: nested more than {MAX_DEPTH} levels deep: compose would take minutes to read "
        "it; flatten it"
    )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _judge(path: Path, root: yaml.Node) -> None:
    """Expanded size and height of every distinct node, children first, without recursion."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    open_: set[int] = set()  # on the current path from the root: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        ident = id(node)
        if children_done:
            open_.discard(ident)
            children = _children(node)
            size[ident] = 1 + sum(size[id(child)] for child in children)
            height[ident] = 1 + max((height[id(child)] for child in children), default=0)
            line = node.start_mark.line + 1
            if size[ident] > MAX_EXPANDED_NODES:
                raise UnusableInput(
                    f"{path}:{line}: its YAML aliases expand to more than "
                    f"{MAX_EXPANDED_NODES:,} nodes (an alias bomb): compose would not finish "
                    "reading it; write the repeated parts out, or nest fewer aliases"
                )
            if height[ident] > MAX_DEPTH:
                raise _too_deep(path, node.start_mark)
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


# libyaml's composer when PyYAML has it: fast, and it bounds nesting depth itself.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
