"""The doctor's table in docs/commands.md is the user's list of checks: it must name every step
and finding."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from devtools.doctor.registry import CHECK_MODULES, all_checks

REPO_ROOT = Path(__file__).resolve().parents[3]
# Modules whose findings the doctor reports besides the check modules themselves.
FINDING_SOURCES = ("devtools.envfiles.rules",)


def doctor_table() -> list[tuple[str, str]]:
    commands = (REPO_ROOT / "docs" / "commands.md").read_text()
    section = commands.split("## `omc-dev doctor`", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9-]+)` \| `([a-z0-9-]+)` \|", section, flags=re.MULTILINE)
    assert rows, "docs/commands.md has no doctor checks table"
    return rows


def finding_ids(module_name: str) -> set[str]:
    source = Path(importlib.import_module(module_name).__file__ or "").read_text()
    ids = set()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        # Finding(id, ...) directly, or a module's _finding(view, id, ...) shorthand.
        position = {"Finding": 0, "_finding": 1}.get(node.func.id)
        if position is None or len(node.args) <= position:
            continue
        arg = node.args[position]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            ids.add(arg.value)
    return ids


def test_every_doctor_step_is_in_the_docs_table_in_order() -> None:
    listed_steps = list(dict.fromkeys(step for step, _ in doctor_table()))
    assert listed_steps == [check.id for check in all_checks()]


def test_every_doctor_finding_is_in_the_docs_table() -> None:
    emitted: set[str] = set()
    for name in (*CHECK_MODULES, *FINDING_SOURCES):
        emitted |= finding_ids(name)
    assert len(emitted) >= 10, emitted  # the scan itself must see the findings
    assert emitted <= {finding for _, finding in doctor_table()}
