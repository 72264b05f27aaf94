"""Placeholder code in changed files, and the symbols a file defines.

Rules (each returns `Stub(line, message)`, with the lines the stub spans):

- Python, by AST: a function whose body is only `pass`, `...`, `raise NotImplementedError`, a
  docstring, `return None` or a placeholder string; a module with nothing but imports. Not
  stubs: `@abstractmethod`, `@overload`, methods of a `Protocol`, `.pyi` files, anything under
  `if TYPE_CHECKING:`, package `__init__.py` files, and in an Alembic revision (a module that
  sets `revision` and `down_revision`) `downgrade()` and the per-engine `upgrade_<name>()`,
  which Alembic's own templates write as `pass` (`upgrade()` too in a merge revision).
- TypeScript / TSX / JavaScript, by a light scanner (comments and strings masked): a function or
  component whose whole body returns null, nothing, or placeholder text; JSX text that is a
  placeholder ("Coming soon", "Lorem ipsum"); in a file with fewer code lines than the minimum,
  a component that renders one bare HTML element (no attributes, props, expressions or other
  statements: `<div>Orders</div>`). Content is judged, not length: a small component that
  renders real markup or data is complete. Declaration files (`.d.ts`) are exempt.
- Any language: TODO / FIXME / "not implemented" markers.

`lines` limits the answer to stubs that touch those lines (the ones a branch added or changed);
`code_only` keeps only the rules about code that does nothing (no markers, no import-only
module), for files that no deliverable names.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from devtools.findings import Severity

DEFAULT_MIN_LINES = 10

PYTHON_SUFFIXES = (".py",)
SCRIPT_SUFFIXES = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")

PLACEHOLDER = re.compile(
    r"\b(?:todo|tbd|fixme|placeholder|coming soon|not (?:yet )?implemented(?: yet)?|"
    r"lorem ipsum|stub|wip|under construction|implement me)\b",
    re.IGNORECASE,
)
_UPPER_MARKER = re.compile(r"\b(?:TODO|FIXME)\b")
_NOT_IMPLEMENTED = re.compile(r"\bnot[ _-]implemented\b", re.IGNORECASE)


@dataclass(frozen=True)
class Stub:
    line: int
    message: str
    severity: Severity = Severity.ERROR
    end_line: int = 0  # the last line the stub spans (0: only `line`)

    def touches(self, lines: Collection[int]) -> bool:
        return any(n in lines for n in range(self.line, max(self.line, self.end_line) + 1))


def _is_declaration_file(path: str) -> bool:
    return re.search(r"\.d\.[mc]?ts$", path) is not None


def checks_code(path: str) -> bool:
    """Whether the code rules (functions, components) have anything to say about `path`."""
    if path.endswith(PYTHON_SUFFIXES):
        return True
    return path.endswith(SCRIPT_SUFFIXES) and not _is_declaration_file(path)


def find_stubs(
    path: str,
    text: str,
    *,
    min_lines: int = DEFAULT_MIN_LINES,
    lines: Collection[int] | None = None,
    code_only: bool = False,
) -> list[Stub]:
    """Every stub rule that applies to `path` (chosen by its extension).

    `lines`: only stubs touching these line numbers (None: the whole file). `code_only`: no
    TODO markers and no import-only module rule.
    """
    stubs: list[Stub] = []
    name = PurePosixPath(path).name
    if path.endswith(PYTHON_SUFFIXES):
        stubs += python_stubs(
            text, package_init=name == "__init__.py", module_rule=not code_only, hooks=code_only
        )
    elif path.endswith(SCRIPT_SUFFIXES) and not _is_declaration_file(path):
        stubs += script_stubs(text, min_lines=min_lines, words=not code_only)
    if lines is not None:
        stubs = [s for s in stubs if s.touches(lines)]
    if not code_only and not path.endswith(".pyi"):
        stubs += marker_stubs(text, lines)
    return sorted(stubs, key=lambda s: s.line)


# ---- markers (any language) --------------------------------------------------------------------


def marker_stubs(text: str, lines: Collection[int] | None = None) -> list[Stub]:
    hits = [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if (lines is None or number in lines)
        and (_UPPER_MARKER.search(line) or _NOT_IMPLEMENTED.search(line))
    ]
    if not hits:
        return []
    first_line, first_text = hits[0]
    more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
    shown = first_text if len(first_text) <= 80 else first_text[:77] + "..."
    return [Stub(first_line, f"TODO/FIXME/'not implemented' marker: {shown!r}{more}")]


# ---- Python --------------------------------------------------------------------------------------

# A function named as a deliberate no-op is not a forgotten one.
_NOOP_NAME = re.compile(r"(?i)no_?op(?![a-z])")

EXEMPT_DECORATORS = frozenset(
    {
        "abstractmethod",
        "abstractproperty",
        "abstractclassmethod",
        "abstractstaticmethod",
        "overload",
    }
)


def _name_of(node: ast.expr) -> str:
    """`x`, `mod.x`, `x(...)` and `x[...]` all name `x`."""
    while isinstance(node, (ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return body[1:]
    return body


def _stub_body(body: list[ast.stmt]) -> str | None:
    rest = _without_docstring(body)
    if not rest:
        return "has only a docstring"
    if len(rest) != 1:
        return None
    stmt = rest[0]
    if isinstance(stmt, ast.Pass):
        return "is only `pass`"
    if (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and stmt.value.value is Ellipsis
    ):
        return "is only `...`"
    if isinstance(stmt, ast.Raise) and stmt.exc and _name_of(stmt.exc) == "NotImplementedError":
        return "only raises NotImplementedError"
    if isinstance(stmt, ast.Return):
        value = stmt.value
        if value is None or (isinstance(value, ast.Constant) and value.value is None):
            return "only returns None"
        if (
            isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and PLACEHOLDER.search(value.value)
        ):
            return f"only returns placeholder text {value.value!r}"
    return None


def _module_names(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level `name = value` assignments."""
    names: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            names[node.target.id] = node.value
    return names


def _alembic_exempt(tree: ast.Module) -> re.Pattern[str] | None:
    """In an Alembic revision, the functions its templates may leave as `pass`.

    `downgrade()` (and `downgrade_<engine>()`) always: an irreversible or empty downgrade is a
    choice. `upgrade_<engine>()` of the multi-database template: an engine without changes.
    `upgrade()` only in a merge revision (`down_revision` names several parents).
    """
    names = _module_names(tree)
    if "revision" not in names or "down_revision" not in names:
        return None
    parents = names["down_revision"]
    merge = isinstance(parents, (ast.Tuple, ast.List)) and len(parents.elts) > 1
    return re.compile(r"downgrade(?:_\w+)?|upgrade(?:_\w+)" + (r"|upgrade" if merge else ""))


def python_stubs(
    text: str, *, package_init: bool = False, module_rule: bool = True, hooks: bool = False
) -> list[Stub]:
    """`hooks`, for files no deliverable names: a method is taken for a hook that subclasses
    fill in when it only raises NotImplementedError or its class has real methods too (a base
    class's empty `on_event()` is ordinary code), and returned words are not judged."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        if not module_rule:
            return []  # not a deliverable: whether it parses is the linters' business
        # Newer syntax than this interpreter's (`except A, B:` is Python 3.14) is not an error.
        python = f"Python {sys.version_info.major}.{sys.version_info.minor}"
        return [
            Stub(
                exc.lineno or 1,
                f"not checked for stubs: {python} cannot parse it ({exc.msg})",
                Severity.WARNING,
            )
        ]
    stubs: list[Stub] = []
    alembic = _alembic_exempt(tree)

    def visit(
        body: list[ast.stmt], owner: str, in_protocol: bool, real_class: bool | None = None
    ) -> None:
        """`real_class`: directly in a class, and whether it has a method with a real body."""
        for node in body:
            if isinstance(node, ast.ClassDef):
                is_protocol = any(_name_of(base) == "Protocol" for base in node.bases)
                real = any(
                    isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and _stub_body(m.body) is None
                    for m in node.body
                )
                visit(node.body, f"{owner}{node.name}.", is_protocol, real)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                exempt = (
                    in_protocol
                    or any(_name_of(d) in EXEMPT_DECORATORS for d in node.decorator_list)
                    or (not owner and alembic is not None and alembic.fullmatch(node.name))
                    or _NOOP_NAME.search(node.name) is not None
                )
                reason = None if exempt else _stub_body(node.body)
                if reason and hooks and "placeholder text" in reason:
                    reason = None  # words are not code: `return "todo"` in a to-do app
                subclass_hook = real_class or reason == "only raises NotImplementedError"
                if reason and hooks and real_class is not None and subclass_hook:
                    reason = None
                if reason:
                    end = node.end_lineno or node.lineno
                    stubs.append(Stub(node.lineno, f"{owner}{node.name}() {reason}", end_line=end))
                visit(node.body, f"{owner}{node.name}.", False)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" in ast.unparse(node.test):
                    continue  # declarations for the type checker only
                visit(node.body, owner, in_protocol, real_class)
                visit(node.orelse, owner, in_protocol, real_class)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody):
                    visit(block, owner, in_protocol, real_class)
                for handler in node.handlers:
                    visit(handler.body, owner, in_protocol, real_class)

    visit(tree.body, "", False)
    code = [
        stmt
        for stmt in _without_docstring(tree.body)
        if not isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Pass))
        and not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
    ]
    if not code and not package_init and module_rule:
        last = max(1, len(text.splitlines()))
        stubs.append(Stub(1, "defines nothing: only a docstring and imports", end_line=last))
    return stubs


def python_symbols(text: str) -> set[str]:
    tree = ast.parse(text)
    names: set[str] = set()

    def visit(body: list[ast.stmt], owner: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(owner + node.name)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{owner}{node.name}.")
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Name):
                            names.add(owner + leaf.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(owner + node.target.id)
            elif isinstance(node, ast.If):
                visit(node.body, owner)
                visit(node.orelse, owner)
            elif isinstance(node, ast.Try):
                for block in (node.body, node.orelse, node.finalbody):
                    visit(block, owner)

    visit(tree.body, "")
    return names


# ---- TypeScript / TSX / JavaScript ---------------------------------------------------------------


def mask(source: str, *, strings: bool) -> str:
    """`source` with comments (and, if `strings`, string contents) blanked; lengths and line
    numbers are kept, so offsets in the result point into the original."""
    out = list(source)
    i, n = 0, len(source)

    def blank(start: int, end: int) -> None:
        for k in range(start, end):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        char = source[i]
        pair = source[i : i + 2]
        if pair == "//":
            end = source.find("\n", i)
            end = n if end == -1 else end
            blank(i, end)
            i = end
        elif pair == "/*":
            end = source.find("*/", i + 2)
            end = n if end == -1 else end + 2
            blank(i, end)
            i = end
        elif char in "'\"`":
            j = i + 1
            while j < n and source[j] != char and (char == "`" or source[j] != "\n"):
                j += 2 if source[j] == "\\" else 1
            if strings:
                blank(i + 1, min(j, n))
            i = j + 1
        else:
            i += 1
    return "".join(out)


_IDENT = r"[A-Za-z_$][\w$]*"
_FUNCTION_START = re.compile(
    rf"\b(?:async\s+)?function\s*\*?\s*(?P<fn>{_IDENT})\s*(?:<[^>{{}}]*>)?\s*\("
    rf"|\b(?:const|let|var)\s+(?P<var>{_IDENT})\s*(?::[^=;]+)?=\s*(?:async\s+)?"
    rf"(?:function\b[^(]*\(|(?:<[^>{{}}]*>\s*)?\(|(?P<param>{_IDENT})\s*=>)"
)
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True)
class ScriptFunction:
    name: str
    line: int
    body: str  # the block's inside, or the arrow's expression; comments removed
    is_block: bool
    span: tuple[int, int]  # offsets of the body in the source


def _match_close(masked: str, start: int) -> int:
    """Index of the bracket closing the one at `start` (or the end of the text)."""
    stack = [_CLOSERS[masked[start]]]
    i = start + 1
    while i < len(masked) and stack:
        char = masked[i]
        if char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif stack and char == stack[-1]:
            stack.pop()
        i += 1
    return i - 1


def _expression_end(masked: str, start: int) -> int:
    depth = 0
    i = start
    while i < len(masked):
        char = masked[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and char == ";":
            return i
        elif depth == 0 and char == "\n" and masked[start:i].strip():
            rest = masked[i:].lstrip()
            if not rest.startswith(("?", ":", "&&", "||", ".", "+", "<", ")")):
                return i
        i += 1
    return i


def script_functions(source: str) -> Iterator[ScriptFunction]:
    masked = mask(source, strings=True)
    plain = mask(source, strings=False)  # strings kept, comments gone
    for match in _FUNCTION_START.finditer(masked):
        name = match.group("fn") or match.group("var")
        line = source.count("\n", 0, match.start()) + 1
        if match.group("param"):
            after_params = match.end() - 2  # back to the "=>"
        else:
            after_params = _match_close(masked, match.end() - 1) + 1
        body_start = _body_start(masked, after_params, arrow=_is_arrow(match))
        if body_start is None:
            continue
        if masked[body_start] == "{":
            end = _match_close(masked, body_start)
            body = plain[body_start + 1 : end].strip()
            yield ScriptFunction(name, line, body, True, (body_start, end))
        else:
            end = _expression_end(masked, body_start)
            body = plain[body_start:end].strip()
            yield ScriptFunction(name, line, body, False, (body_start, end))


def _is_arrow(match: re.Match[str]) -> bool:
    return bool(match.group("var")) and not re.search(r"=\s*(?:async\s+)?function\b", match[0])


def _body_start(masked: str, i: int, *, arrow: bool) -> int | None:
    """Where the body begins after the parameters: past an optional return type, at the `{`
    (or, for an arrow function, the first character after `=>`). None if this is no function."""
    n = len(masked)
    while i < n and masked[i].isspace():
        i += 1
    if i < n and masked[i] == ":":  # a return type, on the same line
        while (
            i < n
            and masked[i] != "\n"
            and not (masked.startswith("=>", i) if arrow else masked[i] == "{")
        ):
            i += 1
    if arrow:
        if not masked.startswith("=>", i):
            return None
        i += 2
        while i < n and masked[i].isspace():
            i += 1
        return i if i < n else None
    return i if i < n and masked[i] == "{" else None


def _placeholder_value(expr: str) -> str | None:
    """Why the returned expression is a placeholder, or None."""
    value = expr.strip().rstrip(";").strip()
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    if value in ("", "null", "undefined", "void 0"):
        return f"returns {value or 'nothing'}"
    if re.fullmatch(r"<>\s*</>|<React\.Fragment>\s*</React\.Fragment>", value):
        return "renders an empty fragment"
    if value[:1] in "'\"`" and value[-1:] == value[:1]:
        text = value[1:-1]
        if not text.strip() or PLACEHOLDER.search(text):
            return f"returns placeholder text {text!r}"
    if value.startswith("<"):
        text = " ".join(re.sub(r"<[^>]*>|\{[^}]*\}", " ", value).split())
        if text and PLACEHOLDER.search(text):
            return f"renders placeholder text {text!r}"
    return None


def _single_return(body: str) -> str | None:
    """The returned expression when a block body is exactly one `return` statement."""
    if not re.match(r"return\b", body):
        return None
    expr = body[len("return") :].strip()
    masked = mask(expr, strings=True)
    inner = masked.rstrip().rstrip(";")
    depth = 0
    for char in inner:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == ";" and depth == 0:
            return None  # more statements follow
    return expr


_JSX_TEXT = re.compile(r">([^<>{}]+)<")
# a component: a function that returns JSX (`return <div>`, `return (<>`, or an arrow's `<div>`)
_RETURNS_JSX = re.compile(r"(?:\breturn\s*|^)\(?\s*<[A-Za-z>]")


# An intrinsic element alone says nothing about what the component is for; a capitalised one
# (`<Outlet />`) composes another component, and void elements (`<hr />`) are complete as they are.
_OPEN_TAG = re.compile(r"<([A-Za-z][\w.:-]*)([^<>]*?)/?>")
_VOID_ELEMENTS = frozenset({"hr", "br", "wbr"})


def _bare_element(fn: ScriptFunction) -> str | None:
    """`<tag>` when the component does nothing but render one bare HTML element: no other
    statements, no attributes, no props or expressions, no nested elements. Else None."""
    returned = _single_return(fn.body) if fn.is_block else fn.body
    if returned is None:
        return None  # statements before the return: hooks, data, logic
    value = returned.strip().rstrip(";").strip()
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    if not value.startswith("<") or "{" in value:
        return None
    tags = _OPEN_TAG.findall(value)
    if len(tags) > 1 or any(attrs.strip() for _, attrs in tags):
        return None
    if not tags:
        return "<>"
    tag = tags[0][0]
    if not tag[0].islower() or "." in tag or tag in _VOID_ELEMENTS:
        return None
    return f"<{tag}>"


def _line_of(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def script_stubs(
    source: str, *, min_lines: int = DEFAULT_MIN_LINES, words: bool = True
) -> list[Stub]:
    """`words`: also judge text (placeholder strings and JSX text); off for files no
    deliverable names, where "Coming soon" or a to-do app's "Todo" is product copy."""
    stubs: list[Stub] = []
    functions = list(script_functions(source))
    flagged: list[tuple[int, int]] = []  # bodies already reported: their text is not repeated
    for fn in functions:
        if _NOOP_NAME.search(fn.name):
            continue
        if fn.is_block and not fn.body:
            reason: str | None = "has an empty body"
        else:
            returned = _single_return(fn.body) if fn.is_block else fn.body
            reason = _placeholder_value(returned) if returned is not None else None
            if reason and not words and "placeholder text" in reason:
                reason = None
        if reason:
            end = _line_of(source, fn.span[1])
            stubs.append(Stub(fn.line, f"{fn.name}() {reason}", end_line=end))
            flagged.append(fn.span)
    plain = mask(source, strings=False)
    for match in _JSX_TEXT.finditer(plain if words else ""):
        text = " ".join(match.group(1).split())
        if not text or not PLACEHOLDER.search(text):
            continue
        if any(start <= match.start() <= end for start, end in flagged):
            continue
        stubs.append(Stub(_line_of(source, match.start()), f"renders placeholder text {text!r}"))
        flagged.append((match.start(), match.end()))
    code_lines = sum(1 for line in plain.splitlines() if line.strip())
    if not min_lines or code_lines >= min_lines:
        return stubs
    for fn in functions:
        if not _RETURNS_JSX.search(fn.body):
            continue
        bare = _bare_element(fn)
        if bare is None:
            continue  # a small component that renders real markup or data is complete
        stubs.append(
            Stub(
                fn.line,
                f"only {code_lines} lines of code for component {fn.name}, which renders one "
                f"bare {bare} with no attributes, props or data (see stub-min-lines)",
                end_line=_line_of(source, fn.span[1]),
            )
        )
    return stubs


# ---- symbols -------------------------------------------------------------------------------------

_SCRIPT_DEFINITION = re.compile(
    rf"\b(?:function\s*\*?|class|interface|type|enum|namespace|const|let|var)\s+({_IDENT})"
)
_GENERIC_DEFINITION = re.compile(
    r"\b(?:def|func|fn|function|class|struct|interface|type|enum|trait|module|const|let|var|"
    r"val|sub|procedure)\s+(?:\([^)]*\)\s*)?([A-Za-z_][\w]*)"
)


def defined_symbols(path: str, text: str) -> set[str]:
    """Names `path` defines: Python by AST (with `Class.method`), other languages by keyword."""
    if path.endswith((*PYTHON_SUFFIXES, ".pyi")):
        try:
            return python_symbols(text)
        except SyntaxError:
            pass
    if path.endswith(SCRIPT_SUFFIXES):
        return set(_SCRIPT_DEFINITION.findall(mask(text, strings=True)))
    return set(_GENERIC_DEFINITION.findall(text))
