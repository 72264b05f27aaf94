"""The deliverables spec: parsing, validation, and which files a deliverable owns."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools import config
from devtools.errors import UnusableInput
from devtools.verify.globs import compile_glob
from devtools.verify.spec import Deliverable, Symbol, load_spec, parse_spec


def test_full_spec_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        """
[tool.omc-dev.verify]
remote = "upstream"
base = "develop"
min-handwritten-lines = 20
stub-min-lines = 6

[[tool.omc-dev.verify.deliverables]]
name = "orders"
branch = "feature/orders"
paths = ["api/orders/**/*.py", "web/src/pages/Orders.tsx"]
symbols = ["OrdersPage", "api/orders/views.py:OrderView.post"]
min-handwritten-lines = 80
"""
    )
    spec = load_spec(config.load(tmp_path))
    assert (spec.remote, spec.base, spec.min_handwritten_lines, spec.stub_min_lines) == (
        "upstream",
        "develop",
        20,
        6,
    )
    (orders,) = spec.deliverables
    assert orders == Deliverable(
        name="orders",
        branch="feature/orders",
        paths=("api/orders/**/*.py", "web/src/pages/Orders.tsx"),
        symbols=(Symbol("OrdersPage", None), Symbol("OrderView.post", "api/orders/views.py")),
        min_handwritten_lines=80,
    )
    assert orders.applies_to("feature/orders") and not orders.applies_to("main")


def test_empty_spec_is_fine(tmp_path: Path) -> None:
    spec = load_spec(config.load(tmp_path))
    assert spec.deliverables == () and spec.base is None


def test_spec_file_top_level_or_pyproject_shaped(tmp_path: Path) -> None:
    plain = tmp_path / "deliver.toml"
    plain.write_text('base = "main"\n[[deliverables]]\nname = "a"\npaths = ["a.py"]\n')
    assert load_spec(config.load(tmp_path), plain).deliverables[0].name == "a"
    shaped = tmp_path / "other.toml"
    shaped.write_text('[[tool.omc-dev.verify.deliverables]]\nname = "b"\npaths = "b.py"\n')
    assert load_spec(config.load(tmp_path), shaped).deliverables[0].paths == ("b.py",)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"tool = 3\n", r"\[tool\] must be a table"),
        (b"[tool]\nomc-dev = 3\n", r"\[tool.omc-dev\] must be a table"),
        (b"[tool.omc-dev]\nverify = 3\n", r"\[tool.omc-dev.verify\] must be a table"),
        (b"\xff\xfebase = 'main'\n", "invalid TOML: the file is not UTF-8 text"),
        (b"base = \n", r"invalid TOML: Invalid value \(at line 1"),
    ],
)
def test_malformed_spec_file_is_unusable_input(
    tmp_path: Path, content: bytes, message: str
) -> None:
    spec = tmp_path / "deliver.toml"
    spec.write_bytes(content)
    with pytest.raises(UnusableInput, match=message):
        load_spec(config.load(tmp_path), spec)
    with pytest.raises(UnusableInput, match="no such spec file"):
        load_spec(config.load(tmp_path), tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"bases": "main"}, "unknown key 'bases'"),
        ({"deliverables": {"name": "x"}}, "must be an array of tables"),
        ({"deliverables": [{"paths": ["a"]}]}, "deliverable #1: 'name' must be a non-empty string"),
        ({"deliverables": [{"name": "x", "paths": [1]}]}, "'paths' must be a non-empty string"),
        ({"deliverables": [{"name": "x", "min-handwritten-lines": -1}]}, "whole number >= 0"),
        ({"deliverables": [{"name": "x", "min-handwritten-lines": True}]}, "whole number >= 0"),
        ({"deliverables": [{"name": "x"}, {"name": "x"}]}, "declared twice"),
        ({"deliverables": [{"name": "x", "symbols": ["F"]}]}, "names no file"),
        ({"deliverables": [{"name": "x", "symbols": ["a.py:"]}]}, "must look like"),
        ({"stub-min-lines": "ten"}, "'stub-min-lines' must be a whole number"),
        ({"generated": [3]}, "'generated' must be a non-empty string"),
    ],
)
def test_invalid_specs_name_the_problem(table: dict[str, object], message: str) -> None:
    with pytest.raises(UnusableInput, match=message):
        parse_spec(table, "spec.toml")


@pytest.mark.parametrize(
    ("pattern", "path", "owned"),
    [
        ("web/src/pages/Orders.tsx", "web/src/pages/Orders.tsx", True),
        ("web/src/api", "web/src/api/client.ts", True),  # a folder owns what is under it
        ("web/src/api", "web/src/api2/client.ts", False),
        ("api/**/*.py", "api/x.py", True),
        ("api/**/*.py", "api/a/b/x.py", True),
        ("api/*.py", "api/a/x.py", False),
        ("*.md", "docs/a.md", False),  # spec globs are anchored at the root
        ("src/[ab].py", "src/a.py", True),
        ("src/?.py", "src/ab.py", False),
    ],
)
def test_deliverable_paths(pattern: str, path: str, owned: bool) -> None:
    assert Deliverable("d", paths=(pattern,)).owns(path) is owned


def test_deliverable_without_paths_owns_everything() -> None:
    assert Deliverable("whole branch").owns("anything/at/all.py")


def test_glob_translation_edge_cases() -> None:
    assert compile_glob("**/x.py").fullmatch("x.py")
    assert compile_glob("**/x.py").fullmatch("a/b/x.py")
    assert compile_glob("a/**").fullmatch("a/b/c")
    assert not compile_glob("a/**").fullmatch("b/a/c")
    assert compile_glob(r"a\*.py").fullmatch("a*.py")
    assert not compile_glob(r"a\*.py").fullmatch("ab.py")
    assert compile_glob("[!a].py").fullmatch("b.py") and not compile_glob("[!a].py").fullmatch(
        "a.py"
    )


def test_generated_globs(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.omc-dev.verify]\ngenerated = ["frontend/src/client/**", "/api/gen/"]\n'
    )
    spec = load_spec(config.load(tmp_path))
    assert spec.generated == ("frontend/src/client/**", "api/gen")
