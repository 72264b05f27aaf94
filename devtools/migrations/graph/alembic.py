"""The graph as Alembic builds it (`alembic/script/revision.py`, `RevisionMap._revision_map`
and `_detect_cycles`): the same heads in the same order, and the cycles Alembic refuses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from devtools.migrations.graph.model import RevisionFile, RevisionGraph


def build_graph(files: list[RevisionFile]) -> RevisionGraph:
    """RevisionMap._revision_map: the same heads, in the same order, on every graph."""
    readable = [f for f in files if f.revision is not None and not f.bad_revision_type]
    by_id: dict[str, RevisionFile] = {}
    duplicates: list[tuple[RevisionFile, RevisionFile]] = []
    for rev in readable:
        assert rev.revision is not None
        if rev.revision in by_id:
            duplicates.append((by_id[rev.revision], rev))
        by_id[rev.revision] = rev
    labels: dict[str, RevisionFile] = {}
    label_conflicts: list[tuple[RevisionFile, str, RevisionFile]] = []
    for rev in readable:
        for label in rev.branch_labels:
            holder = labels.get(label) or by_id.get(label)
            if holder is not None and holder is not rev:
                label_conflicts.append((rev, label, holder))
            else:
                labels[label] = rev
    graph = RevisionGraph(files, by_id, labels, (), (), [], duplicates, label_conflicts, [])
    # Alembic keeps every loaded Revision object as a head candidate, duplicates included, and
    # discards those that a surviving revision names as a versioned parent.
    referenced: set[int] = set()
    for rev in by_id.values():
        for kind, refs in (("down_revision", rev.down_revisions), ("depends_on", rev.dependencies)):
            for ref in refs:
                parent = graph.resolve(ref, labels=kind == "depends_on")
                if parent is None:
                    graph.missing.append((rev, ref, kind))
                elif kind == "down_revision":
                    referenced.add(id(parent))
    graph.heads = tuple(r.revision for r in readable if id(r) not in referenced)  # type: ignore[misc]
    graph.bases = tuple(r.revision for r in readable if not r.down_revisions)  # type: ignore[misc]
    graph.cycles = _cycles(graph)
    return graph


def _cycles(graph: RevisionGraph) -> list[list[str]]:
    """Strongly connected components through down_revision and depends_on (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for start in graph.by_id:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = [p.revision for p in graph.parents(graph.by_id[node]) if p.revision]
            if child_index < len(children):
                work.append((node, child_index + 1))
                child = children[child_index]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    item = stack.pop()
                    on_stack.discard(item)
                    component.append(item)
                    if item == node:
                        break
                rev = graph.by_id[node]
                self_loop = node in rev.down_revisions + rev.dependencies or any(
                    p is rev for p in graph.parents(rev)
                )
                if len(component) > 1 or self_loop:
                    cycles.append(list(reversed(component)))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return cycles


def alembic_cycle_error(graph: RevisionGraph) -> str | None:
    """What Alembic's `RevisionMap._detect_cycles` raises on this graph, or None: it only sees a
    cycle that cuts revisions off from every head or every base."""
    if not graph.by_id:
        return None
    for dependencies, error in ((False, "CycleDetected"), (True, "DependencyCycleDetected")):
        children: dict[str, set[str]] = {rid: set() for rid in graph.by_id}
        for rid, rev in graph.by_id.items():
            for parent in graph.parents(rev, dependencies=dependencies):
                assert parent.revision is not None
                children[parent.revision].add(rid)
        heads = [rid for rid, below in children.items() if not below]
        bases = [
            rid
            for rid, rev in graph.by_id.items()
            if not rev.down_revisions and not (dependencies and rev.dependencies)
        ]
        if not heads or not bases:
            return error
        below = {
            rid: [p.revision or "" for p in graph.parents(rev, dependencies=dependencies)]
            for rid, rev in graph.by_id.items()
        }
        down = _reach(heads, below)
        up = _reach(bases, children)
        if set(graph.by_id) - (down & up):
            return error
    return None


def _reach(starts: Iterable[str], step: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        node = stack.pop()
        if node in seen or not node:
            continue
        seen.add(node)
        stack.extend(step.get(node, ()))
    return seen
