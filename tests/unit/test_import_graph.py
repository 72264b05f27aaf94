"""The arrows go one way: CLI -> command -> library -> model, and the kernel stands alone.

Read from the source (every import, at module level or inside a function, since a lazy import
is still an arrow), not from a running interpreter, so that a path no test exercises counts too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.cli import REPO_ROOT

PACKAGES = ("devtools", "kernel")

# Where click may be imported: the CLI itself and its command modules. Everything else is library
# code that takes plain arguments and callbacks.
CLI_MODULES = {
    "devtools.cli",  # the root group
    "devtools.entry",  # the console script
    "devtools.__main__",  # python -m devtools
    "devtools.lazy",  # the lazily loading group
    "devtools.options",  # options shared by commands
    "devtools.clihelp",  # examples and shell completers added to loaded commands
    "devtools.container",  # reexec_if_host: a script's entry point, ends like the CLI
}


def _is_cli(module: str) -> bool:
    leaf = module.rpartition(".")[2]
    return (
        module in CLI_MODULES
        or leaf == "command"
        or module.startswith("devtools.kernel_cli")
        or leaf.startswith("hook_")  # pre-commit hook entry points
    )


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            if "versions" in path.parts:  # Alembic revisions are data, loaded by Alembic
                continue
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _edges(module: str) -> set[str]:
    """The project modules `module` imports, with the packages Python imports on the way."""
    out: set[str] = set()
    for name in _imported(MODULES[module]):
        target: str | None = name
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        while target:  # importing a.b.c runs a/__init__ and a/b/__init__ first
            if target != module and not module.startswith(target + "."):
                out.add(target)
            target = target.rpartition(".")[0] or None
            if target is not None and target not in MODULES:
                break
    return out


GRAPH = {module: _edges(module) for module in MODULES}


def test_the_graph_is_read_from_the_source() -> None:
    # Guards against a scanner that finds nothing and so passes everything below.
    assert "devtools.cli" in GRAPH and "kernel.guard" in GRAPH
    assert "devtools.lazy" in GRAPH["devtools.cli"]
    assert "kernel.models" in GRAPH["kernel.status"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("kernel")))
def test_the_kernel_imports_nothing_of_devtools(module: str) -> None:
    imported = set(_imported(MODULES[module]))
    assert not {name for name in imported if name.partition(".")[0] == "devtools"}


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_anywhere() -> None:
    assert _cycles() == []


def test_only_the_cli_imports_click() -> None:
    offenders = {
        module
        for module in MODULES
        if not _is_cli(module)
        and any(name.partition(".")[0] == "click" for name in _imported(MODULES[module]))
    }
    assert offenders == set()


def test_library_modules_never_import_the_cli() -> None:
    offenders = {
        module
        for module, targets in GRAPH.items()
        if not _is_cli(module) and {"devtools.cli", "devtools.entry"} & targets
    }
    assert offenders == set()


# Docker is reached one way: the endpoint, the socket client, the SDK and the compose CLI all live in
# devtools.docker; everything else calls them.
DOCKER_BINARIES = {"docker", "docker-compose"}


def _outside_docker(module: str) -> bool:
    return module != "devtools.docker" and not module.startswith("devtools.docker.")


def _reaches_the_engine(path: Path) -> set[str]:
    """How a module reaches Docker by itself: an argv naming the docker CLI, a lookup of it on
    PATH, or the engine's socket path."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.List) and node.elts:
            first = node.elts[0]
            if isinstance(first, ast.Constant) and first.value in DOCKER_BINARIES:
                found.add(f"argv {first.value}")
        elif isinstance(node, ast.Call):
            for arg in node.args:
                value = arg.value if isinstance(arg, ast.Constant) else None
                if isinstance(value, str) and (
                    value in DOCKER_BINARIES or value.startswith("docker ")
                ):
                    found.add(f"call with {value!r}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "docker.sock" in node.value
        ):
            found.add("socket path")
    return found


def test_the_docker_scanner_finds_the_compose_cli() -> None:
    # Guards against a scanner that finds nothing and so passes the rule below.
    assert "argv docker" in _reaches_the_engine(MODULES["devtools.docker.compose"])
    assert "socket path" in _reaches_the_engine(MODULES["devtools.docker.engine_api"])


def test_only_devtools_docker_reaches_the_engine() -> None:
    offenders = {
        module: sorted(how)
        for module, path in MODULES.items()
        if _outside_docker(module) and (how := _reaches_the_engine(path))
    }
    assert offenders == {}


def test_only_devtools_docker_imports_the_sdk() -> None:
    offenders = {
        module
        for module in MODULES
        if _outside_docker(module)
        and any(name.partition(".")[0] == "docker" for name in _imported(MODULES[module]))
    }
    assert offenders == set()
