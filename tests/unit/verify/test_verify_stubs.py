"""Stub rules, their exceptions, and symbol definitions."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.findings import Severity
from devtools.verify.linediff import changed_lines
from devtools.verify.stubs import defined_symbols, find_stubs, python_stubs, script_stubs
from tests.fixtures.verify import REAL_CLIENT, REAL_COMPONENT, STUB_COMPONENT


def messages(path: str, text: str, **kwargs: Any) -> list[str]:
    return [s.message for s in find_stubs(path, text, **kwargs)]


# ---- Python --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("pass", "is only `pass`"),
        ("...", "is only `...`"),
        ('"""Later."""', "has only a docstring"),
        ("raise NotImplementedError", "only raises NotImplementedError"),
        ('raise NotImplementedError("soon")', "only raises NotImplementedError"),
        ("return None", "only returns None"),
        ("return", "only returns None"),
        ('return "TODO"', "only returns placeholder text 'TODO'"),
        ('"""Doc."""\n    return "coming soon"', "only returns placeholder text 'coming soon'"),
    ],
)
def test_python_stub_bodies(body: str, reason: str) -> None:
    source = f"import os\n\n\ndef create_order(x):\n    {body}\n"
    (stub,) = python_stubs(source)
    assert stub.line == 4
    assert stub.message == f"create_order() {reason}"


@pytest.mark.parametrize(
    "body", ["return 0", "return []", "return x + 1", 'log.info("x")\n    return None']
)
def test_python_real_bodies(body: str) -> None:
    assert python_stubs(f"def f(x):\n    {body}\n") == []


def test_python_exceptions() -> None:
    source = """\
import abc
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Protocol, overload
import typing


class Store(ABC):
    @abstractmethod
    def get(self, key: str) -> str:
        raise NotImplementedError

    @property
    @abc.abstractmethod
    def size(self) -> int: ...


class Reader(Protocol):
    def read(self, n: int) -> bytes: ...


class Typed(typing.Protocol[int]):
    def value(self) -> int: ...


@overload
def parse(x: int) -> int: ...
@overload
def parse(x: str) -> str: ...
def parse(x):
    return x


if TYPE_CHECKING:
    def helper() -> None: ...
"""
    assert python_stubs(source) == []


def test_pyi_and_package_init_are_not_stubs() -> None:
    assert find_stubs("pkg/api.pyi", "def f() -> int: ...\n") == []
    assert find_stubs("pkg/__init__.py", '"""The package."""\nfrom .api import f\n') == []
    assert messages("pkg/api.py", '"""The module."""\nfrom .x import f\n') == [
        "defines nothing: only a docstring and imports"
    ]


def test_methods_and_nested_functions_are_named() -> None:
    source = "class Orders:\n    def post(self):\n        def inner():\n            pass\n        return inner()\n"
    assert [s.message for s in python_stubs(source)] == ["Orders.post.inner() is only `pass`"]


def test_unparseable_python_is_a_warning() -> None:
    (stub,) = python_stubs("def f(:\n")
    assert stub.severity is Severity.WARNING and "cannot parse it" in stub.message
    # outside the deliverables, unparseable code is the linters' business (newer syntax, too)
    assert (
        find_stubs("app/deps.py", "try:\n    x()\nexcept A, B:\n    pass\n", code_only=True) == []
    )


# ---- TypeScript / TSX / JavaScript ---------------------------------------------------------------


def test_the_nine_line_stub_component() -> None:
    found = messages("web/src/pages/Orders.tsx", STUB_COMPONENT)
    assert any("OrdersPage() renders placeholder text 'Orders coming soon'" in m for m in found)
    assert any("TODO" in m for m in found)
    assert any(m.startswith("only 5 lines of code for component OrdersPage") for m in found)


def test_real_component_and_small_real_module_pass() -> None:
    assert find_stubs("web/src/pages/Orders.tsx", REAL_COMPONENT) == []
    assert find_stubs("web/src/api/client.ts", REAL_CLIENT) == []  # small, but no component


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("export const Empty = () => null\n", "Empty() returns null"),
        ("export function Page() { return null; }\n", "Page() returns null"),
        ("export function saveOrder() {}\n", "saveOrder() has an empty body"),
        ("const Page = (): JSX.Element => <></>;\n", "Page() renders an empty fragment"),
        (
            "export default function Page() {\n  return (\n    <main>\n      <h1>Lorem ipsum</h1>\n    </main>\n  );\n}\n",
            "Page() renders placeholder text 'Lorem ipsum'",
        ),
        (
            "async function load(): Promise<string> {\n  return 'not implemented';\n}\n",
            "load() returns placeholder text 'not implemented'",
        ),
        ("const f = x => 'placeholder';\n", "f() returns placeholder text 'placeholder'"),
        (
            "export const Title = function () { /* later */ return undefined }\n",
            "Title() returns undefined",
        ),
    ],
)
def test_script_stubs(source: str, message: str) -> None:
    assert message in [s.message for s in script_stubs(source, min_lines=0)]


@pytest.mark.parametrize(
    "source",
    [
        "export default function Page({ a }) {\n  if (!a) return null;\n  return <main>{a}</main>;\n}\n",
        "const x = (1 + 2) * 3\nconst y = () => compute(x)\n",
        "export const Title = ({ text }: { text: string }) => <h1>{text}</h1>;\n",
        "const s = 'return null; // TODO'\n",  # strings are not code
        "// const Page = () => null\n",  # nor are comments
    ],
)
def test_script_real_code(source: str) -> None:
    assert script_stubs(source, min_lines=0) == []


def test_component_size_rule_is_configurable() -> None:
    component = "export const Orders = () => <div>Orders</div>;\n"
    (stub,) = script_stubs(component, min_lines=10)
    assert stub.line == 1
    assert stub.message == (
        "only 1 lines of code for component Orders, which renders one bare <div> with no "
        "attributes, props or data (see stub-min-lines)"
    )
    assert script_stubs(component, min_lines=1) == []
    assert script_stubs(component, min_lines=0) == []


# A complete component of six lines: it renders a prop and real markup.
SMALL_COMPONENT = """\
type Props = { count: number };

export function Badge({ count }: Props) {
  return <span className="badge">{count}</span>;
}
"""


@pytest.mark.parametrize(
    "source",
    [
        SMALL_COMPONENT,
        "export const Title = ({ text }) => <h1>{text}</h1>;\n",
        "export default function Layout() {\n  return <Outlet />\n}\n",
        "export const Divider = () => <hr />;\n",
        'export const Logo = () => <img src="/logo.svg" alt="Logo" />;\n',
        "export function Empty() {\n  const { t } = useI18n();\n  return <p>{t('empty')}</p>;\n}\n",
        "const Help = () => (\n  <section>\n    <h2>Help</h2>\n    <p>Ask us.</p>\n  </section>\n);\n",
    ],
)
def test_a_complete_small_component_is_not_a_stub(source: str) -> None:
    """stub-min-lines judges content: real markup, props or statements make a component."""
    assert find_stubs("web/src/components/Small.tsx", source) == []


def test_a_deliberate_noop_is_not_a_stub() -> None:
    assert script_stubs("export const noop = () => {};\nfunction onNoop() {}\n", min_lines=0) == []
    assert python_stubs("def noop(*args: object) -> None:\n    pass\n") == []


# ---- Alembic revisions ---------------------------------------------------------------------------

REVISION = """\
\"\"\"add a status to orders

Revision ID: 3f2a1c9d8b7e
Revises: {parents}
\"\"\"
from alembic import op
import sqlalchemy as sa

revision = "3f2a1c9d8b7e"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade():
    {upgrade}


def downgrade():
    pass
"""


def test_alembic_downgrade_that_is_only_pass_is_not_a_stub() -> None:
    source = REVISION.format(
        parents="1b2c",
        down='"1b2c"',
        upgrade='op.add_column("order", sa.Column("status", sa.String()))',
    )
    assert find_stubs("backend/app/alembic/versions/3f2a_status.py", source) == []


def test_alembic_upgrade_that_is_only_pass_is_a_stub_unless_a_merge() -> None:
    empty = REVISION.format(parents="1b2c", down='"1b2c"', upgrade="pass")
    assert messages("backend/app/alembic/versions/3f2a.py", empty) == ["upgrade() is only `pass`"]
    merge = REVISION.format(parents="1b2c, 9e8f", down='("1b2c", "9e8f")', upgrade="pass")
    assert find_stubs("backend/app/alembic/versions/3f2a_merge.py", merge) == []
    # without revision identifiers it is an ordinary module: downgrade() is a stub there
    assert messages("app/ops.py", "def downgrade():\n    pass\n") == ["downgrade() is only `pass`"]


# ---- only the lines a branch added ---------------------------------------------------------------


def test_stubs_only_where_the_lines_changed() -> None:
    source = (
        "def old_stub():\n"  # 1: there before the branch
        "    pass\n"  # 2
        "\n"  # 3
        "\n"  # 4
        "def new_stub():\n"  # 5: added by the branch
        "    pass\n"  # 6
        "# TODO: an old note\n"  # 7
        "# TODO: a new note\n"  # 8
    )
    found = find_stubs("app/orders.py", source, lines={5, 6, 8})
    assert [(s.line, s.message) for s in found] == [
        (5, "new_stub() is only `pass`"),
        (8, "TODO/FIXME/'not implemented' marker: '# TODO: a new note'"),
    ]
    # a body changed to `pass` under an untouched `def` line is the branch's stub
    assert [s.line for s in find_stubs("app/orders.py", source, lines={2})] == [1]
    assert find_stubs("app/orders.py", source, lines=set()) == []


def test_code_only_leaves_markers_and_import_modules_to_deliverables() -> None:
    source = "from .models import Order  # TODO: split\n"
    assert len(find_stubs("app/models.py", source)) == 2
    assert find_stubs("app/models.py", source, code_only=True) == []
    assert messages("app/x.py", "def f():\n    pass  # TODO\n", code_only=True) == [
        "f() is only `pass`"
    ]


def test_declaration_files_are_exempt() -> None:
    assert find_stubs("types/api.d.ts", "export function f(): void {}\n") == []


# ---- markers (any language) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "// TODO: finish",
        "# FIXME later",
        'panic("not implemented")',
        "raise ValueError('Not implemented yet')",
    ],
)
def test_markers_in_any_language(line: str) -> None:
    (stub,) = find_stubs("src/main.go", f"package main\n\n{line}\n")
    assert stub.line == 3 and "marker" in stub.message


def test_markers_are_counted_once_per_file_and_spare_lookalikes() -> None:
    text = "a = 1  # TODO one\nb = 2  # TODO two\nc = 3  # TODO three\n"
    (stub,) = find_stubs("src/x.rb", text)
    assert stub.line == 1 and stub.message.endswith("and 2 more")
    assert find_stubs("src/todos.rb", "class TodoList\n  def todo_items; end\nend\n") == []
    # an abstract method's NotImplementedError is not a marker
    abstract = "from abc import abstractmethod\n\nclass A:\n    @abstractmethod\n    def f(self):\n        raise NotImplementedError\n"
    assert find_stubs("src/a.py", abstract) == []


# ---- symbols -------------------------------------------------------------------------------------


def test_symbols() -> None:
    python = (
        "X = 1\nclass Orders:\n    limit: int = 3\n    def post(self): ...\nasync def load(): ...\n"
    )
    assert defined_symbols("a.py", python) == {"X", "Orders", "Orders.limit", "Orders.post", "load"}
    assert {"OrdersPage"} <= defined_symbols("a.tsx", REAL_COMPONENT)
    assert {"Order", "listOrders"} <= defined_symbols("a.ts", REAL_CLIENT)
    go = "package x\nfunc (s *Server) Handle() {}\nfunc main() {}\ntype Order struct{}\n"
    assert {"Handle", "main", "Order"} <= defined_symbols("x.go", go)
    assert "Hidden" not in defined_symbols(
        "a.ts", "// class Hidden {}\nconst s = 'function Hidden'\n"
    )


def test_changed_lines() -> None:
    old = "a\nb\nc\nd\n"
    assert changed_lines(None, old) == {1, 2, 3, 4}
    assert changed_lines(old, old) == set()
    assert changed_lines(old, "a\nB\nc\nd\n") == {2}
    assert changed_lines(old, "a\nb\nnew\nnewer\nc\nd\n") == {3, 4}
    assert changed_lines(old, "a\nd\n") == set()  # only deletions
    assert changed_lines(old, "x\n" + old + "y\n") == {1, 6}


HOOKS = """\
class Exporter:
    def export(self, rows):
        for row in rows:
            self.write(row)
        self.flush()

    def write(self, row):
        raise NotImplementedError

    def flush(self):
        pass


class Importer:
    def load(self, path):
        raise NotImplementedError("subclasses read their format")


class Orders:
    def place(self, order):
        pass
"""


def test_hooks_in_files_no_deliverable_names() -> None:
    """Outside the deliverables, a base class's hooks are ordinary code; a class of nothing
    but empty methods is still a stub."""
    assert messages("app/export.py", HOOKS, code_only=True) == ["Orders.place() is only `pass`"]
    assert len(messages("app/export.py", HOOKS)) == 4  # a deliverable's files: all of them


def test_words_are_judged_only_in_deliverables() -> None:
    todo_app = (
        "export function Title() {\n  return <h1>Todo</h1>\n}\n"
        'export const Teaser = () => <p className="muted">Reports: coming soon</p>\n'
    )
    assert find_stubs("web/src/Title.tsx", todo_app, code_only=True, min_lines=0) == []
    assert len(find_stubs("web/src/Title.tsx", todo_app, min_lines=0)) == 2
    model = 'class Task:\n    def kind(self) -> str:\n        return "todo"\n'
    assert find_stubs("app/task.py", model, code_only=True) == []
    # what does nothing is still found
    assert messages("web/src/Page.tsx", "export const Page = () => null\n", code_only=True) == [
        "Page() returns null"
    ]
