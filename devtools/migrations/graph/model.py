"""The revision graph's data model: what one revision file declares, then the graph Alembic
derives from all of them (its queries: parents, heads, ancestors, topological order)."""

from __future__ import annotations

from dataclasses import dataclass, field

GRAPH_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")
EMPTY_DOWN_REVISION = "empty-down-revision"  # a note, not an error
ILLEGAL_CHARS = "@-+:"  # alembic.script.revision._revision_illegal_chars
MAX_ID_LENGTH = 32  # alembic_version.version_num is VARCHAR(32)
RESERVED_IDS = {"head", "heads", "base"}  # Alembic's symbolic names


@dataclass(frozen=True)
class Problem:
    """Something in a file that keeps the graph from being read exactly."""

    rule: str  # "unresolvable-value" or "syntax-error"
    message: str
    line: int | None


@dataclass(frozen=True)
class Declarations:
    """What a revision file's module-level code declares: a pure function of its bytes."""

    revision: str | None = None
    down_revisions: tuple[str, ...] = ()  # versioned parents; () is a base
    dependencies: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()
    has_dependencies: bool = False  # depends_on is not None (Alembic's "real base" test)
    bad_revision_type: bool = False
    lines: tuple[tuple[str, int], ...] = ()
    problems: tuple[Problem, ...] = ()

    def to_record(self) -> tuple[object, ...]:
        """Plain tuples: quick to pickle and to load."""
        problems = tuple((p.rule, p.message, p.line) for p in self.problems)
        return (*(getattr(self, f) for f in _DECLARED_FIELDS), problems)

    @classmethod
    def from_record(cls, record: tuple[object, ...]) -> Declarations:
        *values, problems = record
        declared = dict(zip(_DECLARED_FIELDS, values, strict=True))
        found = tuple(Problem(*p) for p in problems)  # type: ignore[attr-defined]
        return cls(**declared, problems=found)  # type: ignore[arg-type]


_DECLARED_FIELDS = (
    "revision",
    "down_revisions",
    "dependencies",
    "branch_labels",
    "has_dependencies",
    "bad_revision_type",
    "lines",
)


@dataclass
class RevisionFile:
    """One file in a versions folder and what it declares, as Alembic's `Revision` holds it."""

    path: str
    display: str  # the path as findings show it
    declared: Declarations = field(default_factory=Declarations)
    digest: str = ""  # of the file's bytes: the cache key
    source: bytes | None = None

    @property
    def revision(self) -> str | None:
        return self.declared.revision

    @property
    def down_revisions(self) -> tuple[str, ...]:
        return self.declared.down_revisions

    @property
    def dependencies(self) -> tuple[str, ...]:
        return self.declared.dependencies

    @property
    def branch_labels(self) -> tuple[str, ...]:
        return self.declared.branch_labels

    @property
    def bad_revision_type(self) -> bool:
        return self.declared.bad_revision_type

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.declared.problems

    def line(self, name: str = "revision") -> int | None:
        lines = dict(self.declared.lines)
        return lines.get(name) or lines.get("revision")


@dataclass
class RevisionGraph:
    """All revisions in load order and the relations Alembic derives from them."""

    files: list[RevisionFile]
    by_id: dict[str, RevisionFile]  # the last file loaded wins, as in Alembic
    labels: dict[str, RevisionFile]
    heads: tuple[str, ...]
    bases: tuple[str, ...]
    missing: list[tuple[RevisionFile, str, str]]  # (file, id, "down_revision" | "depends_on")
    duplicates: list[tuple[RevisionFile, RevisionFile]]
    label_conflicts: list[tuple[RevisionFile, str, RevisionFile]]
    cycles: list[list[str]]
    _parents: dict[tuple[int, bool], list[RevisionFile]] = field(default_factory=dict)

    def resolve(self, ref: str, *, labels: bool = False) -> RevisionFile | None:
        """A down_revision reference (a revision id), or a depends_on one (an id or a branch
        label: Alembic resolves labels for depends_on only, and fails on one in down_revision)."""
        found = self.by_id.get(ref)
        if found is None and labels:
            found = self.labels.get(ref)
        return found

    def parents(self, rev: RevisionFile, *, dependencies: bool = True) -> list[RevisionFile]:
        key = (id(rev), dependencies)
        found = self._parents.get(key)
        if found is None:
            parents = [self.resolve(ref) for ref in rev.down_revisions]
            if dependencies:
                parents += [self.resolve(ref, labels=True) for ref in rev.dependencies]
            found = [p for p in parents if p is not None]
            self._parents[key] = found
        return found

    def distinct_heads(self) -> list[str]:
        return list(dict.fromkeys(self.heads))

    def ancestors(self, rev: RevisionFile, *, dependencies: bool = False) -> set[str]:
        """Ids of `rev` and everything below it."""
        seen: set[str] = set()
        stack = [rev]
        while stack:
            node = stack.pop()
            if node.revision is None or node.revision in seen:
                continue
            seen.add(node.revision)
            stack.extend(self.parents(node, dependencies=dependencies))
        return seen

    def head_labels(self, head: str) -> set[str]:
        """Branch labels a head carries: Alembic gives a label to all descendants."""
        rev = self.by_id.get(head)
        if rev is None:
            return set()
        return {label for rid in self.ancestors(rev) for label in self.by_id[rid].branch_labels}

    def topological(self) -> list[RevisionFile]:
        """Every resolvable revision after its parents (and dependencies), in load order."""
        order: list[RevisionFile] = []
        done: set[str] = set()
        visiting: set[str] = set()
        for rev in self.by_id.values():
            stack: list[tuple[RevisionFile, bool]] = [(rev, False)]
            while stack:
                node, expanded = stack.pop()
                rid = node.revision
                assert rid is not None
                if rid in done:
                    continue
                if expanded:
                    visiting.discard(rid)
                    done.add(rid)
                    order.append(node)
                    continue
                if rid in visiting:
                    continue  # a cycle; reported by the cycle rule
                visiting.add(rid)
                stack.append((node, True))
                for parent in reversed(self.parents(node)):
                    if parent.revision not in done:
                        stack.append((parent, False))
        return order
