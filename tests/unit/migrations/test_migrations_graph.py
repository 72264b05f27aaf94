"""The static revision graph against Alembic's own ScriptDirectory, shape by shape."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.script.revision import RevisionError

from devtools.migrations.graph.alembic import build_graph
from devtools.migrations.graph.read import load_history, read_revision
from devtools.migrations.graph.rules import graph_findings
from devtools.migrations.location import ScriptLocation
from tests.fixtures.migrations import alembic_heads, write_versions
from tests.fixtures.migrations import revision_file as rf

Files = dict[str, str]


def chain(n: int, prefix: str = "r", style: str = "template", start: str | None = None) -> Files:
    files: Files = {}
    down = start
    for i in range(n):
        rid = f"{prefix}{i:03d}"
        files[f"{rid}_step.py"] = rf(rid, down, style=style)
        down = rid
    return files


def random_dag(seed: int) -> Files:
    """Branches, merges (tuple and list), depends_on and labels, in shuffled file names."""
    rng = random.Random(seed)
    ids: list[str] = []
    files: Files = {}
    for i in range(rng.randint(3, 25)):
        rid = f"{rng.getrandbits(40):010x}"
        down: tuple[str, ...] | str | None = None
        if ids and rng.random() > 0.1:
            parents = rng.sample(ids, k=min(len(ids), rng.choice([1, 1, 1, 2, 3])))
            down = parents[0] if len(parents) == 1 else tuple(parents)
        deps = rng.choice(ids) if ids and rng.random() < 0.2 else None
        labels = f"label{i}" if rng.random() < 0.1 else None
        style = rng.choice(["template", "plain", "list"])
        files[f"{rng.getrandbits(16):04x}_{rid}.py"] = rf(
            rid, down, depends_on=deps, labels=labels, style=style
        )
        ids.append(rid)
    return files


def misleading_doc() -> Files:
    doc = 'fake\n\nRevision ID: zzzz\nRevises: yyyy\nrevision = "zzzz"\ndown_revision = "yyyy"\n'
    return {**chain(2), "b_more.py": rf("b1", "r001", doc=doc)}


def comments() -> Files:
    text = rf("b1", "r001").replace(
        "def upgrade", '# revision = "fake"\n# down_revision = "r000"\ndef upgrade'
    )
    return {**chain(2), "b1.py": text}


def reassigned() -> Files:
    text = rf("b1", "r000", style="plain") + '\nrevision = "b2"\ndown_revision = "r001"\n'
    return {**chain(2), "b.py": text}


def helper_function_assignment() -> Files:
    text = (
        rf("b1", "r001", style="plain")
        + '\n\ndef helper():\n    revision = "nope"\n    return revision\n'
    )
    return {**chain(2), "b.py": text}


def unpacking() -> Files:
    return {**chain(1), "b.py": 'revision, down_revision = "b1", "r000"\n'}


def concatenation() -> Files:
    return {**chain(1), "b.py": 'revision = "b" "1"\ndown_revision = "r0" + "00"\n'}


def name_reference() -> Files:
    return {**chain(1), "b.py": 'PARENT = "r000"\nrevision = "b1"\ndown_revision = PARENT\n'}


def future_import() -> Files:
    return {
        "a.py": '"""doc"""\nfrom __future__ import annotations\n\nrevision = "a1"\ndown_revision = None\n'
    }


def noise_files() -> Files:
    return {
        **chain(3),
        "__init__.py": 'revision = "init"\ndown_revision = None\n',
        "README.md": "revision = 'md'",
        ".#lock.py": 'revision = "emacs"\ndown_revision = None\n',
        "notes.txt": "x",
    }


SHAPES: dict[str, Callable[[], Files]] = {
    "empty": lambda: {},
    "single": lambda: chain(1),
    "linear-3": lambda: chain(3),
    "linear-12-plain": lambda: chain(12, style="plain"),
    "two-bases": lambda: {**chain(2, "a"), **chain(2, "b")},
    "branch-point": lambda: {"a.py": rf("a", None), "b.py": rf("b", "a"), "c.py": rf("c", "a")},
    "merge-tuple": lambda: {
        "a.py": rf("a", None),
        "b.py": rf("b", "a"),
        "c.py": rf("c", "a"),
        "d.py": rf("d", ("b", "c")),
    },
    "merge-list": lambda: {
        "a.py": rf("a", None),
        "b.py": rf("b", "a"),
        "c.py": rf("c", "a"),
        "d.py": rf("d", ["b", "c"], style="list"),
    },
    "merge-of-three": lambda: {
        "a.py": rf("a", None),
        "b.py": rf("b", "a"),
        "c.py": rf("c", "a"),
        "e.py": rf("e", "a"),
        "m.py": rf("m", ("b", "c", "e")),
    },
    "merge-then-branch": lambda: {
        "a.py": rf("a", None),
        "b.py": rf("b", "a"),
        "c.py": rf("c", "a"),
        "m.py": rf("m", ("b", "c")),
        "x.py": rf("x", "m"),
        "y.py": rf("y", "m"),
    },
    "partial-merge": lambda: {
        "a.py": rf("a", None),
        "b.py": rf("b", "a"),
        "c.py": rf("c", "a"),
        "e.py": rf("e", "a"),
        "m.py": rf("m", ("b", "c")),
    },
    "depends-on-other-root": lambda: {
        **chain(2, "a"),
        **chain(2, "b"),
        "z.py": rf("z", "a001", depends_on="b000"),
    },
    "depends-on-tuple": lambda: {
        **chain(2, "a"),
        **chain(2, "b"),
        "z.py": rf("z", "a001", depends_on=("b000", "b001")),
    },
    "depends-on-label": lambda: {
        "p.py": rf("p0", None, labels="plugins"),
        "p1.py": rf("p1", "p0"),
        **chain(2),
        "z.py": rf("z", "r001", depends_on="plugins"),
    },
    "depends-on-ancestor": lambda: {**chain(3), "z.py": rf("z", "r002", depends_on="r000")},
    "merge-with-depends-on": lambda: {
        **chain(2, "a"),
        **chain(2, "b"),
        "m.py": rf("m", ("a001", "b001"), depends_on="b000"),
    },
    "branch-labels-multi-root": lambda: {
        **chain(3),
        "p.py": rf("p0", None, labels="plugins"),
        "p1.py": rf("p1", "p0"),
    },
    "labels-tuple": lambda: {**chain(2), "p.py": rf("p0", None, labels=("plugins", "extras"))},
    "annotated-template": lambda: chain(4, style="template"),
    "plain-style": lambda: chain(4, style="plain"),
    "reassigned-last-wins": reassigned,
    "misleading-docstring": misleading_doc,
    "misleading-comments": comments,
    "misleading-file-names": lambda: {
        "r001_step.py": rf("x1", None),
        "x1_step.py": rf("r001", "x1"),
        "zzz.py": rf("a", "r001"),
    },
    "implicit-concatenation": concatenation,
    "name-reference": name_reference,
    "single-element-tuple": lambda: {**chain(1), "b.py": rf("b1", ("r000",))},
    "empty-tuple-is-base": lambda: {**chain(1), "b.py": rf("b1", ())},
    "empty-list-is-base": lambda: {**chain(1), "b.py": rf("b1", [], style="list")},
    "noise-files": noise_files,
    "subfolder-not-recursive": lambda: {**chain(2), "sub/x.py": rf("x", "r001")},
    "future-import": future_import,
    "helper-function-assignment": helper_function_assignment,
    "tuple-unpacking": unpacking,
    "many-heads-order": lambda: {
        f"{name}.py": rf(rid, None) for name, rid in zip("qwertyuiop", "abcdefghij", strict=True)
    },
    "heads-order-with-branches": lambda: {
        "9.py": rf("a", None),
        "1.py": rf("b", "a"),
        "5.py": rf("c", "a"),
        "3.py": rf("d", "c"),
        "7.py": rf("e", "a"),
    },
    "long-chain-with-merges": lambda: {
        **chain(60),
        "s1.py": rf("s1", "r010"),
        "s2.py": rf("s2", "s1"),
        "m.py": rf("m", ("r059", "s2")),
    },
    # Alembic keeps a duplicate id's every Revision object as a head candidate: so do we.
    "duplicate-id-head": lambda: {**chain(2), "dup.py": rf("r001", "r000")},
    "duplicate-id-inner": lambda: {**chain(3), "dup.py": rf("r001", "r000")},
    "duplicate-id-base": lambda: {**chain(2), "zz.py": rf("r000", None), "zzz.py": rf("x", "r000")},
    **{f"random-dag-{seed}": functools.partial(random_dag, seed) for seed in range(16)},
}


def our_heads(folder: Path, recursive: bool = False) -> list[str]:
    graph = load_history(ScriptLocation((folder / "versions",), recursive), folder)
    return list(graph.heads)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_same_heads_as_alembic(shape: str, tmp_path: Path) -> None:
    folder = write_versions(tmp_path / "migrations", SHAPES[shape]())
    assert our_heads(folder) == alembic_heads(folder)


def test_there_are_at_least_forty_shapes() -> None:
    assert len(SHAPES) >= 40


def test_recursive_version_locations_match_alembic(tmp_path: Path) -> None:
    files = {
        **chain(2),
        "sub/b.py": rf("b1", "r001"),
        "sub/deeper/c.py": rf("c1", "b1"),
        "z/d.py": rf("d1", "r000"),
    }
    folder = write_versions(tmp_path / "m", files)
    assert (
        our_heads(folder, recursive=True) == alembic_heads(folder, recursive=True) == ["c1", "d1"]
    )


def test_multiple_version_locations_match_alembic(tmp_path: Path) -> None:
    a = write_versions(tmp_path / "a", chain(2, "a")) / "versions"
    b = (
        write_versions(tmp_path / "b", {"x.py": rf("x", "a001"), "y.py": rf("y", None)})
        / "versions"
    )
    graph = load_history(ScriptLocation((a, b)), tmp_path)
    assert list(graph.heads) == alembic_heads(tmp_path / "a", version_locations=[a, b])


def findings_for(tmp_path: Path, files: Files) -> list[tuple[str, int | None, str]]:
    folder = write_versions(tmp_path / "m", files)
    graph = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    return [(f.id, f.line, f.message) for f in graph_findings(graph)]


def test_missing_parent_is_reported_where_alembic_dies_with_a_bare_keyerror(tmp_path: Path) -> None:
    files = {**chain(2), "b.py": rf("b1", "r00")}
    folder = write_versions(tmp_path / "m", files)
    with pytest.raises(KeyError):
        alembic_heads(folder)
    found = findings_for(tmp_path, files)
    rules = [f[0] for f in found]
    assert "missing-parent" in rules
    message = next(m for r, _, m in found if r == "missing-parent")
    assert "'r00'" in message and "KeyError" in message


def test_a_branch_label_in_down_revision_is_a_missing_parent(tmp_path: Path) -> None:
    files = {**chain(2), "p.py": rf("p0", None, labels="plugins"), "p1.py": rf("p1", "plugins")}
    folder = write_versions(tmp_path / "m", files)
    with pytest.raises(KeyError):
        alembic_heads(folder)
    found = findings_for(tmp_path, files)
    assert [r for r, _, _ in found if r != "multiple-heads"] == ["missing-parent"]
    assert "branch label" in found[0][2] and "'p0'" in found[0][2]


def test_missing_depends_on_is_a_missing_parent(tmp_path: Path) -> None:
    found = findings_for(tmp_path, {**chain(2), "b.py": rf("b1", "r001", depends_on="nope")})
    assert [r for r, _, _ in found] == ["missing-parent"]
    assert "depends_on" in found[0][2]


def test_duplicate_revision_names_both_files_and_rejects_a_merge(tmp_path: Path) -> None:
    found = findings_for(tmp_path, {**chain(2), "dup.py": rf("r001", "r000")})
    duplicate = next(m for r, _, m in found if r == "duplicate-revision")
    assert "r001_step.py" in duplicate and "dup.py" in duplicate


def test_duplicate_revision_fix_says_merge_is_wrong(tmp_path: Path) -> None:
    folder = write_versions(tmp_path / "m", {**chain(2), "dup.py": rf("r001", "r000")})
    graph = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    finding = next(f for f in graph_findings(graph) if f.id == "duplicate-revision")
    assert finding.fix is not None and "merge revision is the wrong fix" in finding.fix


@pytest.mark.parametrize(
    ("files", "members"),
    [
        ({"a.py": rf("a", "b"), "b.py": rf("b", "a")}, {"a", "b"}),
        ({"a.py": rf("a", "a")}, {"a"}),
        (
            {
                "r.py": rf("r", None),
                "a.py": rf("a", ("r", "c")),
                "b.py": rf("b", "a"),
                "c.py": rf("c", "b"),
            },
            {"a", "b", "c"},
        ),
        (
            {"a.py": rf("a", None), "b.py": rf("b", "a", depends_on="c"), "c.py": rf("c", "b")},
            {"b", "c"},
        ),
    ],
)
def test_cycles_are_reported_where_alembic_refuses(
    tmp_path: Path, files: Files, members: set[str]
) -> None:
    folder = write_versions(tmp_path / "m", files)
    with pytest.raises(RevisionError):
        alembic_heads(folder)
    graph = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    assert [set(c) for c in graph.cycles] == [members]
    assert any(f.id == "revision-cycle" for f in graph_findings(graph))


@pytest.mark.parametrize(
    ("rid", "reason"),
    [
        ("abc-123", "'-'"),
        ("a@b", "'@'"),
        ("x+y:z", "':'"),
        ("a" * 33, "33 characters"),
        ("head", "symbolic"),
    ],
)
def test_invalid_revision_ids(tmp_path: Path, rid: str, reason: str) -> None:
    found = findings_for(tmp_path, {"a.py": rf(rid, None)})
    assert [r for r, _, _ in found] == ["invalid-revision-id"]
    assert reason in found[0][2]


def test_a_32_character_id_is_fine(tmp_path: Path) -> None:
    assert findings_for(tmp_path, {"a.py": rf("a" * 32, None)}) == []


@pytest.mark.parametrize(
    "source",
    [
        'import os\nrevision = os.environ["REV"]\ndown_revision = None\n',
        'revision = "a"\ndown_revision = compute()\n',
        'revision = "a"\nif True:\n    down_revision = "x"\n',
        "from elsewhere import revision\ndown_revision = None\n",
        "down_revision = None\n",
        'revision = "a"\ndown_revision = ("x", 3)\n',
    ],
)
def test_values_that_cannot_be_read_statically_are_reported_as_such(
    tmp_path: Path, source: str
) -> None:
    found = findings_for(tmp_path, {"a.py": source})
    assert "unresolvable-value" in [r for r, _, _ in found]


def test_syntax_errors_are_findings_with_a_line(tmp_path: Path) -> None:
    found = findings_for(tmp_path, {**chain(1), "bad.py": 'revision = "b"\ndown_revision = (\n'})
    assert found[0][0] == "syntax-error" and found[0][1] is not None


def test_multiple_heads_lists_heads_and_the_merge_command(tmp_path: Path) -> None:
    folder = write_versions(
        tmp_path / "m", {"a.py": rf("a", None), "b.py": rf("b", "a"), "c.py": rf("c", "a")}
    )
    graph = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    (finding,) = graph_findings(graph)
    assert finding.id == "multiple-heads"
    assert "b (" in finding.message and "c (" in finding.message
    assert finding.fix == 'alembic merge -m "merge heads" b c'


def test_multiple_heads_says_what_is_true_and_no_branch_was_run(tmp_path: Path) -> None:
    folder = write_versions(
        tmp_path / "m", {"a.py": rf("a", None), "b.py": rf("b", "a"), "c.py": rf("c", "a")}
    )
    (finding,) = graph_findings(load_history(ScriptLocation((folder / "versions",)), tmp_path))
    assert "passed" not in finding.message and "refuses" in finding.message
    assert "separate roots" not in finding.message


def test_heads_from_two_roots_suggest_fixing_the_duplicate_root_not_a_merge(
    tmp_path: Path,
) -> None:
    """Two `down_revision = None`: a merge would join two independent schemas; the real
    mistake is usually a second initial revision."""
    files = {**chain(3), "x.py": rf("x0", None)}
    folder = write_versions(tmp_path / "m", files)
    (finding,) = graph_findings(load_history(ScriptLocation((folder / "versions",)), tmp_path))
    assert finding.id == "multiple-heads"
    assert "separate roots (r000, x0)" in finding.message
    assert finding.fix is not None and "alembic merge -m" not in finding.fix
    # The one-revision history is the likely duplicate: point it at the other head.
    assert "x0" in finding.fix and "down_revision = 'r002'" in finding.fix
    assert "rarely what is meant" in finding.fix


def test_allowed_heads_per_branch_label(tmp_path: Path) -> None:
    files = {**chain(2), "p.py": rf("p0", None, labels="plugins"), "p1.py": rf("p1", "p0")}
    folder = write_versions(tmp_path / "m", files)
    graph = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    assert [f.id for f in graph_findings(graph)] == ["multiple-heads"]
    assert graph_findings(graph, {"plugins": 1}) == []
    # A second head inside the allowed branch is still too many for it.
    files["p2.py"] = rf("p2", "p0")
    folder = write_versions(tmp_path / "m2", files)
    graph = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    (finding,) = graph_findings(graph, {"plugins": 1})
    assert "branch 'plugins' has 2 heads" in finding.message


def test_read_revision_never_imports(tmp_path: Path) -> None:
    path = tmp_path / "boom.py"
    path.write_text(
        'raise SystemExit("imported!")\nimport nonexistent_app.models\nrevision = "a"\ndown_revision = None\n'
    )
    rev = read_revision(str(path), "boom.py")
    assert rev.revision == "a" and rev.problems == ()
    assert list(build_graph([rev]).heads) == ["a"]


def test_the_graph_rules_run_as_registered_checks(tmp_path: Path) -> None:
    """Each rule is a Check of the one report pipeline: its status says what it found."""
    from devtools.migrations.graph.rules import GRAPH_CHECKS, GRAPH_RULES, GraphModel
    from devtools.report.checks import run_checks

    files = {**chain(2), "b.py": rf("b1", "r00"), "c.py": rf("c1", "r000")}
    folder = write_versions(tmp_path / "m", files)
    graph = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    results = {r.id: r for r in run_checks(GRAPH_CHECKS, GraphModel(graph))}
    assert {i: r.status for i, r in results.items()} == {
        "revision-files": "pass",
        "duplicate-revision": "pass",
        "missing-parent": "fail",
        "revision-cycle": "pass",
        "multiple-heads": "fail",
        "base-head": "pass",
    }
    found = [f for r in results.values() for f in r.findings]
    assert found == graph_findings(graph) and {f.id for f in found} <= set(GRAPH_RULES)
