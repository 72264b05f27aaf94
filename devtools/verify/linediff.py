"""Which lines of a file a branch added or changed, from the two versions verify already read.

The blobs come through verify's one `cat-file --batch`, so this costs no git process per file.
The common head and tail are cut first (most edits touch a small middle); the middle is
matched line by line with difflib.
"""

from __future__ import annotations


def changed_lines(old: str | None, new: str) -> set[int]:
    """1-based numbers of the lines of `new` that are not in `old` (all of them when `old` is
    None: the file is new)."""
    after = new.splitlines()
    if old is None:
        return set(range(1, len(after) + 1))
    before = old.splitlines()
    shortest = min(len(before), len(after))
    head = 0
    while head < shortest and before[head] == after[head]:
        head += 1
    tail = 0
    while tail < shortest - head and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    old_mid = before[head : len(before) - tail]
    new_mid = after[head : len(after) - tail]
    if not old_mid or not new_mid:
        return set(range(head + 1, head + len(new_mid) + 1))
    from difflib import SequenceMatcher  # only for edited files, not on every start-up

    lines: set[int] = set()
    matcher = SequenceMatcher(None, old_mid, new_mid)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            lines.update(range(head + j1 + 1, head + j2 + 1))
    return lines
