"""The graph rules, registered as `Check`s (devtools/report/checks.py) on a `GraphModel`.

Each check produces `Finding`s whose ids are the rule ids below (tests, docs and `--select` name
them); a check may produce several ids (`revision-files`: whatever keeps a file from being read
exactly). `graph_findings` runs them in order through the one runner.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from devtools.findings import Finding, Severity
from devtools.migrations.graph.alembic import alembic_cycle_error
from devtools.migrations.graph.model import (
    EMPTY_DOWN_REVISION,
    ILLEGAL_CHARS,
    MAX_ID_LENGTH,
    RESERVED_IDS,
    RevisionFile,
    RevisionGraph,
)
from devtools.report.checks import Check, CheckLike, rule, run_checks

GRAPH_RULES = (
    "multiple-heads",
    "missing-parent",
    "duplicate-revision",
    "revision-cycle",
    "invalid-revision-id",
    "unresolvable-value",
    "syntax-error",
    EMPTY_DOWN_REVISION,
)

M = TypeVar("M")


@dataclass(frozen=True)
class GraphModel:
    """What the graph rules read: the graph, how many heads a branch label may have, and with
    `--base REF` the history at REF (revisions new since then must build on its head)."""

    graph: RevisionGraph
    allowed_heads: Mapping[str, int] = field(default_factory=dict)
    base: RevisionGraph | None = None
    base_ref: str = ""


def findings_of(checks: Sequence[CheckLike[M]], model: M) -> list[Finding]:
    """Every finding of `checks` on `model`, in check order."""
    return [f for result in run_checks(checks, model) for f in result.findings]


def _revision_files(model: GraphModel) -> Iterator[Finding]:
    """syntax-error, unresolvable-value, empty-down-revision (a note), invalid-revision-id."""
    for rev in model.graph.files:
        for p in rev.problems:
            yield Finding(
                p.rule,
                Severity.INFO if p.rule == EMPTY_DOWN_REVISION else Severity.ERROR,
                p.message,
                rev.display,
                p.line,
                fix="write down_revision = None" if p.rule == EMPTY_DOWN_REVISION else None,
            )
        yield from _invalid_id(rev)


def _since_base(model: GraphModel) -> list[Finding]:
    if model.base is None:
        return []
    return base_findings(model.graph, model.base, model.base_ref)


GRAPH_CHECKS: tuple[Check[GraphModel], ...] = (
    rule("revision-files", "Revision files are read exactly", _revision_files),
    rule(
        "duplicate-revision",
        "Revision ids and branch labels are unique",
        lambda m: _duplicates(m.graph),
    ),
    rule("missing-parent", "Every parent a revision names exists", lambda m: _missing(m.graph)),
    rule("revision-cycle", "No revision descends from itself", lambda m: _cycle_findings(m.graph)),
    rule(
        "multiple-heads",
        "One head (per allowed branch label)",
        lambda m: heads_findings(m.graph, m.allowed_heads),
    ),
    rule("base-head", "Revisions new since --base build on its head", _since_base),
)


def graph_findings(
    graph: RevisionGraph,
    allowed_heads: Mapping[str, int] | None = None,
    *,
    base: RevisionGraph | None = None,
    base_ref: str = "",
) -> list[Finding]:
    return findings_of(GRAPH_CHECKS, GraphModel(graph, allowed_heads or {}, base, base_ref))


def _invalid_id(rev: RevisionFile) -> list[Finding]:
    if rev.revision is None:
        return []
    rid = rev.revision
    reasons = []
    if rev.bad_revision_type:
        reasons.append("it is not a string")
    else:
        bad = sorted(set(rid) & set(ILLEGAL_CHARS))
        if bad:
            reasons.append(f"Alembic forbids {', '.join(repr(c) for c in bad)} in revision ids")
        if len(rid) > MAX_ID_LENGTH:
            reasons.append(
                f"it is {len(rid)} characters long and alembic_version.version_num holds {MAX_ID_LENGTH}"
            )
        if not rid.strip():
            reasons.append("it is empty")
        if rid in RESERVED_IDS:
            reasons.append(f"{rid!r} is one of Alembic's symbolic names")
    if not reasons:
        return []
    return [
        Finding(
            "invalid-revision-id",
            Severity.ERROR,
            f"revision id {rid!r} in {rev.display} is invalid: {'; '.join(reasons)}",
            rev.display,
            rev.line(),
            fix="use a short id of letters, digits and underscores (`alembic revision` generates 12 hex digits)",
        )
    ]


def _duplicates(graph: RevisionGraph) -> list[Finding]:
    findings = []
    for first, second in graph.duplicates:
        findings.append(
            Finding(
                "duplicate-revision",
                Severity.ERROR,
                f"revision id {second.revision!r} is declared by both {first.display} (line "
                f"{first.line()}) and {second.display} (line {second.line()}); Alembic only warns and "
                f"keeps the last one loaded ({second.display}), silently dropping the other",
                second.display,
                second.line(),
                fix="give one of the two files a new revision id and re-point its children's "
                "down_revision; a merge revision is the wrong fix (it cannot tell the two apart)",
            )
        )
    for rev, label, holder in graph.label_conflicts:
        findings.append(
            Finding(
                "duplicate-revision",
                Severity.ERROR,
                f"branch label {label!r} in {rev.display} is already used by revision "
                f"{holder.revision} ({holder.display}); Alembic refuses to load the history",
                rev.display,
                rev.line("branch_labels"),
                fix="rename one of the labels",
            )
        )
    return findings


def _missing(graph: RevisionGraph) -> list[Finding]:
    findings = []
    unreadable = [f for f in graph.files if f.revision is None and f.source is not None]
    for rev, ref, kind in graph.missing:
        holder = next(
            (f for f in unreadable if ref and f"'{ref}'".encode() in f.source.replace(b'"', b"'")),  # type: ignore[union-attr]
            None,
        )
        if holder is not None:
            findings.append(
                Finding(
                    "missing-parent",
                    Severity.ERROR,
                    f"{rev.revision} ({rev.display}) names {ref!r} in {kind}, which "
                    f"{holder.display} seems to declare, but that file cannot be read (see its "
                    "finding), so the history has no such revision",
                    rev.display,
                    rev.line(kind),
                    fix=f"fix {holder.display} first",
                )
            )
            continue
        similar = [rid for rid in graph.by_id if ref and rid.startswith(ref) and rid != ref]
        hint = f"; did you mean {similar[0]!r}?" if len(similar) == 1 else ""
        if ref in graph.labels:
            labelled = graph.labels[ref].revision
            hint = f" ({ref!r} is a branch label: down_revision needs the id, here {labelled!r}, or use depends_on)"
        findings.append(
            Finding(
                "missing-parent",
                Severity.ERROR,
                f"{rev.revision} ({rev.display}) names {ref!r} in {kind}, but no revision in the "
                f"history has that id{hint}; Alembic stops with a bare KeyError: {ref!r}",
                rev.display,
                rev.line(kind),
                fix=_missing_fix(graph, rev, ref, kind),
            )
        )
    return findings


def _missing_fix(graph: RevisionGraph, rev: RevisionFile, ref: str, kind: str) -> str:
    """Only a head that does not descend from `rev` can be its parent without a cycle."""
    below_rev = {
        head
        for head in graph.distinct_heads()
        if rev.revision in graph.ancestors(graph.by_id[head], dependencies=True)
    }
    others = [h for h in graph.distinct_heads() if h not in below_rev]
    built_on = (
        f" ({', '.join(sorted(below_rev))} {'is' if len(below_rev) == 1 else 'are'} built on "
        f"{rev.revision} and cannot be its parent)"
        if below_rev
        else ""
    )
    if kind == "depends_on":
        return f"remove {ref!r} from depends_on, or restore the revision that has that id"
    if not others:
        return (
            f"if {rev.revision} is the first revision, write down_revision = None; otherwise "
            f"restore the revision {ref!r}{built_on}"
        )
    listed = ", ".join(others)
    return (
        f"point down_revision at the revision {rev.revision} was written on top of (heads "
        f"outside its own descendants: {listed}){built_on}"
    )


def _cycle_findings(graph: RevisionGraph) -> list[Finding]:
    findings = []
    refusal = alembic_cycle_error(graph) if graph.cycles else None
    for cycle in graph.cycles:
        rev = graph.by_id[cycle[0]]
        fix = "make one of them revise the revision it was really written on top of"
        if len(cycle) == 1:
            kind = "down_revision" if cycle[0] in rev.down_revisions else "depends_on"
            fix = f"remove {cycle[0]!r} from its own {kind}"
            what = f"revision {cycle[0]} names itself in {kind}"
            consequence = "Alembic refuses to load the history (" + (
                "LoopDetected)" if kind == "down_revision" else "DependencyLoopDetected)"
            )
        else:
            loop = " -> ".join([*cycle, cycle[0]])
            what = f"revisions revise each other in a cycle: {loop}"
            consequence = (
                f"Alembic refuses to load the history ({refusal})"
                if refusal
                else "Alembic does not notice it (every revision of the cycle lies between a "
                "base and a head): `heads`, `history` and `upgrade` go on, and `upgrade` runs "
                "these revisions in an order that breaks one of these links"
            )
        findings.append(
            Finding(
                "revision-cycle",
                Severity.ERROR,
                f"{what}; {consequence}",
                rev.display,
                rev.line("down_revision"),
                fix=fix,
            )
        )
    return findings


def heads_findings(graph: RevisionGraph, allowed_heads: Mapping[str, int]) -> list[Finding]:
    """`multiple-heads`, after setting aside the heads of branch labels allowed their own."""
    heads = graph.distinct_heads()
    claimed: dict[str, list[str]] = {label: [] for label in allowed_heads}
    unclaimed: list[str] = []
    for head in heads:
        labels = graph.head_labels(head)
        label = next((name for name in allowed_heads if name in labels), None)
        (claimed[label] if label is not None else unclaimed).append(head)
    groups = [(None, unclaimed, 1)] + [
        (label, claimed[label], allowed_heads[label]) for label in allowed_heads
    ]
    findings = []
    for label, group, allowed in groups:
        if len(group) <= allowed:
            continue
        revs = [graph.by_id[h] for h in group]
        listed = ", ".join(f"{r.revision} ({r.display})" for r in revs)
        scope = f"branch {label!r} has" if label else "the history has"
        last = revs[-1]
        separate = _separate_roots(graph, revs)
        if separate is not None:
            message = (
                f"{scope} {len(group)} heads from {len(separate[0])} separate roots "
                f"({', '.join(separate[0])}): {listed}; `alembic upgrade head` refuses to "
                "choose between them"
            )
        else:
            message = (
                f"{scope} {len(group)} heads: {listed}; `alembic upgrade head` refuses to choose "
                "between them"
            )
        findings.append(
            Finding(
                "multiple-heads",
                Severity.ERROR,
                message,
                last.display,
                last.line(),
                fix=(
                    "break the revision cycle first (see revision-cycle): a merge revision "
                    "cannot fix a history that loops"
                    if graph.cycles
                    else "first fix the revision files that cannot be read (see their "
                    "findings): these heads are counted without them"
                    if any(f.revision is None for f in graph.files)
                    else separate[1]
                    if separate is not None
                    else f'alembic merge -m "merge heads" {" ".join(group)}'
                ),
            )
        )
    return findings


def _separate_roots(
    graph: RevisionGraph, heads: list[RevisionFile]
) -> tuple[list[str], str] | None:
    """When some head shares no revision with the others, the history has two independent
    roots (`down_revision = None` twice): usually an initial revision written twice, which an
    `alembic merge` would only cement. The roots, and the fix to suggest; None otherwise."""
    below = [graph.ancestors(head) for head in heads]
    alone = [
        i
        for i, mine in enumerate(below)
        if not any(mine & o for j, o in enumerate(below) if j != i)
    ]
    if not alone:
        return None
    roots = [
        rid
        for rid in dict.fromkeys(r for ids in below for r in sorted(ids))
        if not graph.by_id[rid].down_revisions
    ]
    # A history cut off by a missing parent is not a second root (missing-parent says so).
    if not all(any(r in ids for r in roots) for ids in below):
        return None
    # The smaller history is the likely duplicate; its root should build on the other's head.
    small = min(alone, key=lambda i: (len(below[i]), -i))
    dup_root = next(r for r in roots if r in below[small])
    others = [h.revision for i, h in enumerate(heads) if i != small and h.revision]
    target = others[0] if len(others) == 1 else "(" + ", ".join(others) + ")"
    fix = (
        f"two separate histories: {dup_root} ({graph.by_id[dup_root].display}) starts one of "
        f"them with down_revision = None, likely a duplicate initial revision; remove it if the "
        f"other history already creates the same tables, or set its down_revision = "
        f"{target!r}; `alembic merge` would join two independent schemas, rarely what is meant"
    )
    return roots, fix


def base_findings(graph: RevisionGraph, base: RevisionGraph, ref: str) -> list[Finding]:
    """Green PRs, red merge: revisions added since `ref` must build on `ref`'s head."""
    base_heads = base.distinct_heads()
    findings = []
    for rid, rev in graph.by_id.items():
        if rid in base.by_id:
            continue
        stale = [p for p in rev.down_revisions if p in base.by_id and p not in base_heads]
        new_root = not rev.down_revisions and base.by_id and not rev.branch_labels
        if not stale and not new_root:
            continue
        after = ", ".join([*base_heads, rid]) if base_heads else rid
        written_on = f"revises {', '.join(stale)}" if stale else "starts a new base"
        target = base_heads[0] if len(base_heads) == 1 else "(" + ", ".join(base_heads) + ")"
        findings.append(
            Finding(
                "multiple-heads",
                Severity.ERROR,
                f"{rid} ({rev.display}) is new since {ref} and {written_on}, but {ref}'s head is "
                f"{', '.join(base_heads) or 'empty'}: merging will leave several heads ({after})",
                rev.display,
                rev.line("down_revision"),
                fix=f"rebase the revision: set down_revision = {target!r} in {rev.display}",
            )
        )
    return findings
