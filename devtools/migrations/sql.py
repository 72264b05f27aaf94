"""The SQL front end: `op.execute(...)` text to the DDL model (devtools/migrations/ddl.py).

The text is split into statements as psql splits it (strings, dollar quotes, comments and
BEGIN ATOMIC bodies honoured); each statement of interest is tokenized by PostgreSQL's lexical
rules and parsed by the recursive-descent parser below, which emits `ddl` operations directly.
Expressions follow gram.y's precedence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from devtools.migrations.ddl import (
    AddColumn,
    AlterColumn,
    CreateEnum,
    CreateFunction,
    CreateIndex,
    CreateMaterializedView,
    CreateTable,
    DropColumn,
    DropTable,
    IndexPart,
    Operation,
    RenameTable,
)
from devtools.migrations.expr import (
    ArrayCtor,
    ArrayOp,
    BooleanTest,
    BoolOp,
    Case,
    Cast,
    Collate,
    Column,
    Distinct,
    FuncCall,
    InList,
    Literal,
    MinMax,
    Node,
    NullTest,
    Op,
    Param,
    Subscript,
    TypedLiteral,
    TypeName,
    Unsupported,
    ValueFunction,
    canonical_type,
    to_sql,
)


class SqlError(ValueError):
    """Text the parser cannot read; `str()` says where."""


# --- tokens -------------------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: a lint makes tens of thousands, twice as fast this way
class Token:
    kind: str  # "ident", "string", "number", "param", "op", "punct", "end"
    value: str
    quoted: bool = False  # a "quoted identifier": never a keyword
    pos: int = 0

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and not self.quoted and self.value in words


_OP_SPECIAL = set("~!@#%^&|`?")
# An identifier starts with an ASCII letter, `_` or a character from U+0080 to U+FFFF, and goes
# on with those, digits and `$`. Spelled as the characters they are not: sre expands a
# \u0080-\uffff range into a 64K-entry table, which would cost 20 ms at every start.
_IDENT_START = r"[^\x00-\x40\x5b-\x5e\x60\x7b-\x7f\U00010000-\U0010ffff]"
_IDENT_PART = r"[^\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f\U00010000-\U0010ffff]"
_TOKEN = re.compile(
    rf"""
    (?P<space>\s+|--[^\n]*)
  | (?P<ident>{_IDENT_START}{_IDENT_PART}*)
  | (?P<qident>"(?:[^"]|"")*")
  | (?P<number>(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?)
  | (?P<param>\$\d+)
  | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*)?\$)
  | (?P<string>'(?:[^']|'')*')
  | (?P<punct>::|:=|=>|[()\[\],;:.])
  | (?P<op>[-+*/<>=~!@#%^&|`?]+)
    """,
    re.VERBOSE,
)
_ESTRING = re.compile(r"'(?:[^'\\]|\\.|'')*'", re.DOTALL)


def tokenize(text: str) -> list[Token]:  # noqa: PLR0915 - one branch per token kind
    """PostgreSQL's lexer, minus what index DDL never needs (U& escapes, numeric bases)."""
    tokens: list[Token] = []
    pos, end = 0, len(text)
    while pos < end:
        if text.startswith("/*", pos):
            pos = _skip_block_comment(text, pos)
            continue
        # E'...' strings and B'...' / X'...' / N'...' prefixes.
        if text[pos] in "eEbBxXnN" and pos + 1 < end and text[pos + 1] == "'":
            prefix = text[pos].lower()
            match = (_ESTRING if prefix == "e" else _TOKEN).match(text, pos + 1)
            if match is None or not match.group(0).startswith("'"):
                raise SqlError(f"unterminated string at offset {pos}")
            raw = match.group(0)[1:-1]
            value = _unescape(raw) if prefix == "e" else raw.replace("''", "'")
            tokens.append(Token("string", value, pos=pos, quoted=prefix in "bx"))
            pos = match.end()
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] == "'":
                raise SqlError(f"unterminated string at offset {pos}")
            raise SqlError(f"unexpected character {text[pos]!r} at offset {pos}")
        kind = match.lastgroup
        value = match.group(0)
        if kind == "space":
            pass
        elif kind == "ident":
            tokens.append(Token("ident", value.lower(), pos=pos))
        elif kind == "qident":
            tokens.append(Token("ident", value[1:-1].replace('""', '"'), quoted=True, pos=pos))
        elif kind == "number":
            tokens.append(Token("number", value.replace("_", ""), pos=pos))
        elif kind == "param":
            tokens.append(Token("param", value[1:], pos=pos))
        elif kind == "tag":
            pass
        elif kind == "dollar":
            close = text.find(value, match.end())
            if close < 0:
                raise SqlError(f"unterminated dollar-quoted string at offset {pos}")
            tokens.append(Token("string", text[match.end() : close], pos=pos))
            pos = close + len(value)
            continue
        elif kind == "string":
            tokens.append(Token("string", value[1:-1].replace("''", "'"), pos=pos))
        elif kind == "punct":
            tokens.append(Token("punct", value, pos=pos))
        else:
            value = _operator_prefix(value)
            tokens.append(Token("op", "<>" if value == "!=" else value, pos=pos))
            pos += len(value)
            continue
        pos = match.end()
    tokens.append(Token("end", "", pos=end))
    return tokens


def _skip_block_comment(text: str, pos: int) -> int:
    depth = 0
    while pos < len(text):
        if text.startswith("/*", pos):
            depth, pos = depth + 1, pos + 2
        elif text.startswith("*/", pos):
            depth, pos = depth - 1, pos + 2
            if depth == 0:
                return pos
        else:
            pos += 1
    raise SqlError("unterminated /* comment")


def _operator_prefix(run: str) -> str:
    """How much of a run of operator characters is one operator (scan.l's rules)."""
    for marker in ("/*", "--"):
        cut = run.find(marker)
        if cut == 0:
            raise SqlError(f"comment start inside operator {run!r}")
        if cut > 0:
            run = run[:cut]
    if len(run) > 1 and run[-1] in "+-" and not (_OP_SPECIAL & set(run)):
        run = run.rstrip("+-") or run[0]
    return run


def _unescape(raw: str) -> str:
    out, i = [], 0
    simple = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            nxt = raw[i + 1]
            out.append(simple.get(nxt, nxt))
            i += 2
        elif ch == "'" and raw.startswith("''", i):
            out.append("'")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# --- expressions --------------------------------------------------------------------------------

# Binding powers from gram.y, lowest first.
BP_OR, BP_AND, BP_NOT, BP_IS, BP_CMP, BP_LIKE, BP_OP, BP_ADD, BP_MUL, BP_EXP = range(1, 11)
BP_AT, BP_COLLATE, BP_UNARY, BP_SUBSCRIPT, BP_CAST = range(11, 16)
MAX_DEPTH = 120

_COMPARISON = {"<", ">", "=", "<=", ">=", "<>"}
_VALUE_FUNCTIONS = {
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "current_user",
    "current_role",
    "session_user",
    "user",
    "current_catalog",
    "current_schema",
}
# Reserved words that can never be a column name or function name.
_RESERVED = {
    "all",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "between",
    "case",
    "cast",
    "collate",
    "desc",
    "distinct",
    "else",
    "end",
    "escape",
    "false",
    "from",
    "ilike",
    "in",
    "is",
    "isnull",
    "like",
    "not",
    "notnull",
    "null",
    "on",
    "or",
    "order",
    "similar",
    "some",
    "symmetric",
    "then",
    "true",
    "using",
    "when",
    "where",
    "with",
}
_INTERVAL_FIELDS = {"year", "month", "day", "hour", "minute", "second"}
# First words of the type names `Parser.type_name` reads past a plain name (and modifiers).
_MULTIWORD_TYPE_STARTS = {
    "double",
    "character",
    "char",
    "national",
    "nchar",
    "bit",
    "timestamp",
    "time",
    "interval",
}


@dataclass
class Parser:
    tokens: list[Token]
    source: str = ""  # the text the tokens came from, to quote index elements as written
    i: int = 0
    depth: int = field(default=0)

    # -- token helpers --
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != "end":
            self.i += 1
        return token

    def accept_word(self, *words: str) -> bool:
        if self.tok.is_word(*words):
            self.advance()
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.accept_word(word):
            raise self.error(f"expected {word.upper()}")

    def accept_punct(self, value: str) -> bool:
        if self.tok.kind == "punct" and self.tok.value == value:
            self.advance()
            return True
        return False

    def expect_punct(self, value: str) -> None:
        if not self.accept_punct(value):
            raise self.error(f"expected {value!r}")

    def at_punct(self, value: str) -> bool:
        return self.tok.kind == "punct" and self.tok.value == value

    def error(self, message: str) -> SqlError:
        shown = self.tok.value or "end of input"
        return SqlError(f"{message} at {shown!r} (offset {self.tok.pos})")

    def skip_balanced(self) -> None:
        """Skip one token, or a whole parenthesized group."""
        if not self.at_punct("("):
            self.advance()
            return
        depth = 0
        while self.tok.kind != "end":
            if self.at_punct("("):
                depth += 1
            elif self.at_punct(")"):
                depth -= 1
                if depth == 0:
                    self.advance()
                    return
            self.advance()
        raise self.error("unbalanced parentheses")

    # -- expressions --
    def expression(self, min_bp: int = 0) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("expression nested too deeply")
        try:
            left = self.prefix()
            while True:
                step = self.infix(left, min_bp)
                if step is None:
                    break
                left = step
        finally:
            self.depth -= 1
        if self.depth == 0 and _height(left) > MAX_HEIGHT:
            raise self.error(f"expression nested more than {MAX_HEIGHT} operators deep")
        return left

    def prefix(self) -> Node:
        tok = self.tok
        if tok.is_word("not"):
            self.advance()
            return BoolOp("not", (self.expression(BP_NOT),))
        if tok.kind == "op" and tok.value in ("-", "+"):
            self.advance()
            operand = self.expression(BP_UNARY)
            if (
                tok.value == "-"
                and isinstance(operand, Literal)
                and operand.kind in ("integer", "numeric")
            ):
                return Literal(operand.kind, "-" + operand.value)
            return Op(tok.value, None, operand)
        if tok.kind == "op":
            self.advance()
            return Op(tok.value, None, self.expression(BP_OP))
        if tok.is_word("operator") and self.peek().kind == "punct" and self.peek().value == "(":
            name = self.operator_name()
            return Op(name, None, self.expression(BP_OP))
        return self.postfix(self.primary())

    def operator_name(self) -> str:
        self.expect_word("operator")
        self.expect_punct("(")
        while self.tok.kind == "ident" and self.peek().kind == "punct" and self.peek().value == ".":
            self.advance()
            self.advance()
        if self.tok.kind != "op":
            raise self.error("expected an operator")
        name = self.advance().value
        self.expect_punct(")")
        return name

    def postfix(self, node: Node) -> Node:
        while True:
            if self.accept_punct("::"):
                node = Cast(node, self.type_name())
            elif self.at_punct("["):
                self.advance()
                lower: Node = self.expression() if not self.at_punct(":") else Literal("null", "")
                if self.accept_punct(":"):
                    upper = None if self.at_punct("]") else self.expression()
                    node = Subscript(node, lower, upper, is_slice=True)
                else:
                    node = Subscript(node, lower)
                self.expect_punct("]")
            elif self.at_punct(".") and self.peek().kind == "ident":
                self.advance()
                node = Unsupported(f"field selection .{self.advance().value}", (node,))
            else:
                return node

    def infix(self, left: Node, min_bp: int) -> Node | None:
        tok = self.tok
        if tok.kind == "punct" and tok.value == "::":
            return None  # handled in postfix
        if tok.is_word("or") and min_bp < BP_OR:
            self.advance()
            return _flatten("or", left, self.expression(BP_OR))
        if tok.is_word("and") and min_bp < BP_AND:
            self.advance()
            return _flatten("and", left, self.expression(BP_AND))
        if (tok.is_word("is") or tok.is_word("isnull", "notnull")) and min_bp < BP_IS:
            return self.is_clause(left)
        if tok.kind == "op" and tok.value in _COMPARISON and min_bp < BP_CMP:
            self.advance()
            return self.comparison_rhs(tok.value, left)
        negated = tok.is_word("not") and self.peek().is_word(
            "between", "in", "like", "ilike", "similar"
        )
        if (
            negated or tok.is_word("between", "in", "like", "ilike", "similar")
        ) and min_bp < BP_LIKE:
            if negated:
                self.advance()
            return self.like_clause(left, negated)
        if tok.kind == "op" and min_bp < BP_OP and tok.value not in ("+", "-", "*", "/", "%", "^"):
            self.advance()
            return self.comparison_rhs(tok.value, left, BP_OP)
        if tok.is_word("operator") and self.peek().kind == "punct" and min_bp < BP_OP:
            name = self.operator_name()
            return self.comparison_rhs(name, left, BP_OP)
        if tok.kind == "op" and tok.value in ("+", "-") and min_bp < BP_ADD:
            self.advance()
            return Op(tok.value, left, self.expression(BP_ADD))
        if tok.kind == "op" and tok.value in ("*", "/", "%") and min_bp < BP_MUL:
            self.advance()
            return Op(tok.value, left, self.expression(BP_MUL))
        if tok.kind == "op" and tok.value == "^" and min_bp < BP_EXP:
            self.advance()
            return Op("^", left, self.expression(BP_EXP))
        if tok.is_word("at") and min_bp < BP_AT:
            self.advance()
            if self.accept_word("local"):
                return FuncCall("timezone", (left,), special="at local")
            self.expect_word("time")
            self.expect_word("zone")
            zone = self.expression(BP_AT)
            return FuncCall("timezone", (zone, left), special="at time zone")
        if tok.is_word("collate") and min_bp < BP_COLLATE:
            self.advance()
            return Collate(left, self.qualified_name())
        return None

    def comparison_rhs(self, name: str, left: Node, bp: int = BP_CMP) -> Node:
        if (
            self.tok.is_word("any", "some", "all")
            and self.peek().kind == "punct"
            and self.peek().value == "("
        ):
            is_all = self.advance().value == "all"
            self.expect_punct("(")
            array = self.expression()
            self.expect_punct(")")
            return ArrayOp(name, left, array, all=is_all)
        return Op(name, left, self.expression(bp))

    def is_clause(self, left: Node) -> Node:
        if self.accept_word("isnull"):
            return NullTest(left)
        if self.accept_word("notnull"):
            return NullTest(left, negated=True)
        self.expect_word("is")
        negated = self.accept_word("not")
        if self.accept_word("null"):
            return NullTest(left, negated)
        if self.tok.is_word("true", "false", "unknown"):
            return BooleanTest(left, self.advance().value, negated)
        if self.accept_word("distinct"):
            self.expect_word("from")
            return Distinct(left, self.expression(BP_IS), negated)
        raise self.error("unsupported IS clause")

    def like_clause(self, left: Node, negated: bool) -> Node:
        word = self.advance().value
        if word == "between":
            symmetric = self.accept_word("symmetric")
            self.accept_word("asymmetric")
            low = self.expression(BP_LIKE)
            self.expect_word("and")
            high = self.expression(BP_LIKE)
            return _between(left, low, high, negated, symmetric)
        if word == "in":
            self.expect_punct("(")
            if self.tok.is_word("select", "values", "with"):
                raise self.error("subqueries are not supported")
            items = [self.expression()]
            while self.accept_punct(","):
                items.append(self.expression())
            self.expect_punct(")")
            return InList(left, tuple(items), negated)
        if word == "similar":
            self.expect_word("to")
            pattern = self.expression(BP_LIKE)
            args = [pattern]
            if self.accept_word("escape"):
                args.append(self.expression(BP_LIKE))
            regex = FuncCall("similar_to_escape", tuple(args))
            return Op("!~" if negated else "~", left, regex)
        op = {"like": "~~", "ilike": "~~*"}[word]
        pattern = self.expression(BP_LIKE)
        if self.accept_word("escape"):
            pattern = FuncCall("like_escape", (pattern, self.expression(BP_LIKE)))
        return Op(("!" + op) if negated else op, left, pattern)

    def primary(self) -> Node:  # noqa: PLR0915 - one branch per kind of primary expression
        tok = self.tok
        if tok.kind == "number":
            self.advance()
            is_int = re.fullmatch(r"\d+", tok.value) is not None
            return Literal("integer" if is_int else "numeric", tok.value)
        if tok.kind == "string":
            self.advance()
            return Literal("string", tok.value)
        if tok.kind == "param":
            self.advance()
            return Param(int(tok.value))
        if self.accept_punct("("):
            if self.tok.is_word("select", "values", "with"):
                raise self.error("subqueries are not supported")
            inner = self.expression()
            if self.accept_punct(","):
                items = [inner, self.expression()]
                while self.accept_punct(","):
                    items.append(self.expression())
                self.expect_punct(")")
                return Unsupported("row constructor", tuple(items))
            self.expect_punct(")")
            return inner
        if tok.kind != "ident":
            raise self.error("expected an expression")
        if not tok.quoted:
            word = tok.value
            if word in ("true", "false"):
                self.advance()
                return Literal("bool", word)
            if word == "null":
                self.advance()
                return Literal("null", "NULL")
            if word == "case":
                return self.case()
            if word == "cast" and self.peek().value == "(":
                self.advance()
                self.expect_punct("(")
                operand = self.expression()
                self.expect_word("as")
                target = self.type_name()
                self.expect_punct(")")
                return Cast(operand, target)
            if word == "array" and self.peek().value == "[":
                return self.array_ctor()
            if word in ("exists",) and self.peek().value == "(":
                raise self.error("subqueries are not supported")
            timed = word in ("current_time", "current_timestamp", "localtime", "localtimestamp")
            if word in _VALUE_FUNCTIONS and (timed or self.peek().value != "("):
                self.advance()
                if self.at_punct("("):
                    self.skip_balanced()  # the precision: CURRENT_TIMESTAMP(3)
                return ValueFunction(word)
            if word in ("coalesce", "greatest", "least", "nullif") and self.peek().value == "(":
                self.advance()
                return MinMax(word, tuple(self.call_args()))
            if (
                word in ("extract", "substring", "position", "trim", "overlay")
                and self.peek().value == "("
            ):
                return self.special_function(word)
            typed = self.try_typed_literal()
            if typed is not None:
                return typed
            if word in _RESERVED:
                raise self.error("expected an expression")
        name = self.qualified_name()
        if self.at_punct("("):
            return self.function_call(name)
        return Column(name)

    def try_typed_literal(self) -> Node | None:
        """`date '2024-01-01'`, `timestamp with time zone '...'`, `interval '1 day'`."""
        if not self._string_follows_type_name():
            return None
        start = self.i
        try:
            target = self.type_name()
        except SqlError:
            self.i = start
            return None
        if self.tok.kind == "string" and not target.array_dims:
            value = self.advance().value
            if target.name == "interval":
                while self.tok.is_word(*_INTERVAL_FIELDS, "to"):
                    self.advance()
            return TypedLiteral(target, value)
        self.i = start
        return None

    def _string_follows_type_name(self) -> bool:
        """Whether a string follows `name`, `a.b` or `name(...)` here, as a typed literal needs:
        most identifiers are columns and function names, not worth parsing as a type first.
        Type names of several words are always parsed."""
        if self.tok.value in _MULTIWORD_TYPE_STARTS:
            return True
        tokens, j = self.tokens, self.i + 1
        while (
            tokens[j].kind == "punct" and tokens[j].value == "." and tokens[j + 1].kind == "ident"
        ):
            j += 2
        if tokens[j].kind == "punct" and tokens[j].value == "(":
            # Type modifiers are numbers, names and strings: the first `)` closes them.
            while tokens[j].kind != "end" and not (
                tokens[j].kind == "punct" and tokens[j].value == ")"
            ):
                j += 1
            if tokens[j].kind == "end":
                return False
            j += 1
        return tokens[j].kind == "string"

    def qualified_name(self) -> str:
        if self.tok.kind != "ident":
            raise self.error("expected a name")
        parts = [self.advance().value]
        while self.at_punct(".") and self.peek().kind == "ident":
            self.advance()
            parts.append(self.advance().value)
        return ".".join(parts)

    def call_args(self) -> list[Node]:
        self.expect_punct("(")
        args: list[Node] = []
        if self.accept_punct(")"):
            return args
        while True:
            args.append(self.expression())
            if self.accept_punct(")"):
                return args
            self.expect_punct(",")

    def function_call(self, name: str) -> Node:
        self.expect_punct("(")
        args: list[Node] = []
        variadic = False
        if self.tok.kind == "op" and self.tok.value == "*":
            self.advance()
            self.expect_punct(")")
            return Unsupported(f"{name}(*)")
        if self.tok.is_word("distinct", "all") and not (self.peek().kind == "punct"):
            raise self.error("aggregates are not supported")
        while not self.at_punct(")"):
            if self.accept_word("variadic"):
                variadic = True
            if (
                self.tok.kind == "ident"
                and self.peek().kind == "punct"
                and self.peek().value in ("=>", ":=")
            ):
                raise self.error("named arguments are not supported")
            args.append(self.expression())
            if self.tok.is_word("order"):
                raise self.error("aggregates are not supported")
            if not self.accept_punct(","):
                break
        self.expect_punct(")")
        if self.tok.is_word("filter", "over", "within"):
            raise self.error("aggregates and window functions are not supported")
        if name.startswith("pg_catalog."):
            name = name[len("pg_catalog.") :]
        return FuncCall(name, tuple(args), variadic=variadic)

    def special_function(self, word: str) -> Node:  # noqa: PLR0915 - SQL's special call syntaxes
        """EXTRACT(f FROM x), SUBSTRING(x FROM a FOR b), POSITION(a IN b), TRIM(...), OVERLAY(...)."""
        start = self.i
        self.advance()
        self.expect_punct("(")
        if word == "extract":
            if self.tok.kind in ("ident", "string"):
                fieldname = self.advance().value
                self.expect_word("from")
                source = self.expression()
                self.expect_punct(")")
                return FuncCall(
                    "extract", (Literal("string", fieldname), source), special="extract"
                )
        elif word == "position":
            needle = self.expression(BP_LIKE)
            if self.accept_word("in"):
                haystack = self.expression()
                self.expect_punct(")")
                return FuncCall("position", (haystack, needle))
        elif word == "trim":
            kind = "btrim"
            if self.tok.is_word("both", "leading", "trailing"):
                kind = {"both": "btrim", "leading": "ltrim", "trailing": "rtrim"}[
                    self.advance().value
                ]
            if self.accept_word("from"):
                args = [self.expression()]
                while self.accept_punct(","):
                    args.append(self.expression())
                self.expect_punct(")")
                return FuncCall(kind, tuple(args))
            first = self.expression()
            if self.accept_word("from"):
                source = self.expression()
                self.expect_punct(")")
                return FuncCall(kind, (source, first))
            args = [first]
            while self.accept_punct(","):
                args.append(self.expression())
            self.expect_punct(")")
            return FuncCall(kind, tuple(args))
        elif word == "substring":
            source = self.expression()
            if self.tok.is_word("from", "for", "similar"):
                start_at: Node | None = None
                length: Node | None = None
                if self.accept_word("similar"):
                    pattern = self.expression()
                    self.expect_word("escape")
                    escape = self.expression()
                    self.expect_punct(")")
                    return FuncCall("substring", (source, pattern, escape))
                if self.accept_word("from"):
                    start_at = self.expression()
                if self.accept_word("for"):
                    length = self.expression()
                self.expect_punct(")")
                if start_at is None:
                    start_at = Literal("integer", "1")
                parts = (source, start_at) + ((length,) if length is not None else ())
                return FuncCall("substring", parts)
            args = [source]
            while self.accept_punct(","):
                args.append(self.expression())
            self.expect_punct(")")
            return FuncCall("substring", tuple(args))
        elif word == "overlay":
            source = self.expression()
            if self.accept_word("placing"):
                placing = self.expression()
                self.expect_word("from")
                start_at = self.expression()
                args = [source, placing, start_at]
                if self.accept_word("for"):
                    args.append(self.expression())
                self.expect_punct(")")
                return FuncCall("overlay", tuple(args))
        # Plain call syntax: substring(x, 1, 2), position(...) written as a function.
        self.i = start
        return self.function_call(self.advance().value)

    def case(self) -> Node:
        self.expect_word("case")
        operand = None if self.tok.is_word("when") else self.expression()
        whens = []
        while self.accept_word("when"):
            condition = self.expression()
            self.expect_word("then")
            whens.append((condition, self.expression()))
        default = self.expression() if self.accept_word("else") else None
        self.expect_word("end")
        if not whens:
            raise self.error("CASE needs a WHEN")
        return Case(operand, tuple(whens), default)

    def array_ctor(self) -> Node:
        self.expect_word("array")
        self.expect_punct("[")
        items: list[Node] = []
        while not self.at_punct("]"):
            if self.at_punct("["):
                items.append(self.nested_array())
            else:
                items.append(self.expression())
            if not self.accept_punct(","):
                break
        self.expect_punct("]")
        return ArrayCtor(tuple(items))

    def nested_array(self) -> Node:
        self.expect_punct("[")
        items = [self.expression()]
        while self.accept_punct(","):
            items.append(self.expression())
        self.expect_punct("]")
        return ArrayCtor(tuple(items))

    # -- type names --
    def type_name(self) -> TypeName:
        if self.tok.kind != "ident":
            raise self.error("expected a type name")
        if self.tok.is_word("setof"):
            raise self.error("SETOF is not supported")
        words = [self.advance().value]
        first = words[0]
        if first == "double" and self.tok.is_word("precision"):
            words.append(self.advance().value)
        elif first in ("character", "char", "national", "nchar", "bit"):
            if first == "national":
                words.append(self.advance().value)
            if self.tok.is_word("varying"):
                words.append(self.advance().value)
        while self.at_punct(".") and self.peek().kind == "ident":
            self.advance()
            words.append("." + self.advance().value)
        modifiers: list[str] = []
        if self.at_punct("(") and not (first == "char" and self.tok.quoted):
            modifiers = self.type_modifiers()
        if first in ("timestamp", "time") and self.tok.is_word("with", "without"):
            zone = self.advance().value
            self.expect_word("time")
            self.expect_word("zone")
            words.append(f"{zone} time zone")
        if first == "interval":
            while self.tok.is_word(*_INTERVAL_FIELDS, "to"):
                self.advance()
            if self.at_punct("(") and not modifiers:
                modifiers = self.type_modifiers()
        if first == "float" and modifiers and modifiers[0].isdigit():
            words = ["real" if int(modifiers[0]) <= 24 else "double precision"]
            modifiers = []
        dims = 0
        while self.at_punct("["):
            self.advance()
            if self.tok.kind == "number":
                self.advance()
            self.expect_punct("]")
            dims += 1
        if self.accept_word("array"):
            dims = max(dims, 1)
            if self.at_punct("["):
                self.skip_balanced_brackets()
        joined = " ".join(w for w in words if not w.startswith(".")) + "".join(
            w for w in words if w.startswith(".")
        )
        if self.tokens[self.i - 1].quoted and len(words) == 1:
            name = words[0]
        else:
            name = canonical_type(joined)
        return TypeName(name, tuple(modifiers), dims)

    def type_modifiers(self) -> list[str]:
        self.expect_punct("(")
        values: list[str] = []
        while not self.at_punct(")"):
            if self.tok.kind in ("number", "ident", "string"):
                values.append(self.advance().value)
            else:
                raise self.error("expected a type modifier")
            if not self.accept_punct(","):
                break
        self.expect_punct(")")
        return values

    def skip_balanced_brackets(self) -> None:
        self.expect_punct("[")
        while not self.accept_punct("]"):
            if self.tok.kind == "end":
                raise self.error("expected ']'")
            self.advance()


def _flatten(kind: str, left: Node, right: Node) -> Node:
    args = (left.args if isinstance(left, BoolOp) and left.kind == kind else (left,)) + (
        right.args if isinstance(right, BoolOp) and right.kind == kind else (right,)
    )
    return BoolOp(kind, args)


def _between(value: Node, low: Node, high: Node, negated: bool, symmetric: bool) -> Node:
    def inside(lo: Node, hi: Node) -> Node:
        if negated:
            return BoolOp("or", (Op("<", value, lo), Op(">", value, hi)))
        return BoolOp("and", (Op(">=", value, lo), Op("<=", value, hi)))

    if not symmetric:
        return inside(low, high)
    if negated:
        return BoolOp("and", (inside(low, high), inside(high, low)))
    return BoolOp("or", (inside(low, high), inside(high, low)))


def parse_expression(text: str) -> Node:
    """One SQL expression (the text of `sa.text(...)` or a partial-index predicate)."""
    parser = Parser(tokenize(text), text)
    node = parser.expression()
    if parser.tok.kind != "end":
        raise parser.error("unexpected text after the expression")
    return node


def parse_index_element(text: str) -> Node:
    """One index element as `sa.text()` gives it: an expression with what may follow it in
    CREATE INDEX (`COLLATE`, an operator class, `ASC`/`DESC`, `NULLS FIRST`/`LAST`)."""
    parser = Parser(tokenize(text), text)
    node = parser.expression()
    _index_element_tail(parser)
    if parser.tok.kind != "end":
        raise parser.error("unexpected text after the index element")
    return node


def _index_element_tail(p: Parser) -> None:
    if p.accept_word("collate"):
        p.qualified_name()
    if p.tok.kind == "ident" and not p.tok.is_word("asc", "desc", "nulls"):
        p.qualified_name()  # operator class
        if p.at_punct("("):
            p.skip_balanced()
    p.accept_word("asc", "desc")
    if p.accept_word("nulls") and not p.accept_word("first", "last"):
        raise p.error("expected FIRST or LAST")


# Operator chains (`a || b || ...`) parse in a loop but nest in the tree, which the judging and
# deparsing walk recursively: 600 terms would exhaust Python's stack. No index is that deep.
MAX_HEIGHT = 300


def _height(root: Node) -> int:
    """The longest root-to-leaf path, counted without recursion."""
    tallest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        tallest = max(tallest, depth)
        if tallest > MAX_HEIGHT:
            break
        stack.extend((child, depth + 1) for child in node.children())
    return tallest


def is_index_element(text: str) -> bool:
    """Whether `text`, pasted verbatim into `CREATE INDEX ... (<text>)` as SQLAlchemy does with
    `sa.text()`, is an index element: a column, a function call, or a parenthesized expression."""
    try:
        parser = Parser(tokenize(text), text)
        if parser.accept_punct("("):
            parser.expression()
            parser.expect_punct(")")
        else:
            parser.primary()
        _index_element_tail(parser)
    except SqlError:
        return False
    return parser.tok.kind == "end"


def parse_type(text: str) -> TypeName:
    parser = Parser(tokenize(text))
    result = parser.type_name()
    if parser.tok.kind != "end":
        raise parser.error("unexpected text after the type")
    return result


# --- statements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedStatement:
    """One statement of the text: the DDL operations it performs, or why it cannot be read."""

    operations: tuple[Operation, ...]  # (): a statement that changes nothing the linter tracks
    offset: int  # character offset of the statement in the text
    line: int  # its first line, counted from the text's `first_line`
    error: str | None = None  # a statement of interest the parser could not read


# What decides where a statement ends: comments, strings, quoted names and dollar quotes (whose
# `;` do not count), parentheses, and words (for BEGIN ATOMIC ... END bodies). Unterminated
# strings run to the end of the text, as the server would read them before refusing them.
_SPLIT = re.compile(
    r"""
    (?P<comment>--[^\n]*\n?)
  | (?P<block>/\*)
  | (?P<estring>[eE]'(?:[^'\\]|\\.|'')*'?)
  | (?P<string>'(?:[^']|'')*'?)
  | (?P<qident>"(?:[^"]|"")*"?)
  | (?P<dollar>\$(?:[^\W\d]\w*)?\$)
  | (?P<word>[^\W\d][\w$]*)
  | (?P<punct>[;()])
    """,
    re.VERBOSE | re.DOTALL,
)
_TRAILER = re.compile(r"(?:[^\S\r\n]+|--[^\n]*\n?)*")  # same-line blanks and -- comments


def split_statements(text: str) -> Iterator[tuple[int, str]]:
    """Each statement with its offset, split at `;` as psql does (psqlscan.l): not inside
    strings, quoted names, dollar quotes, comments, parentheses or a BEGIN ATOMIC body. Blanks
    and `--` comments after a `;` on its line stay with the statement they follow."""
    one = ";" not in text.rstrip().rstrip(";")  # one statement: nothing to split
    ends = [len(text)] if one else _statement_ends(text)
    start = 0
    for end in ends:
        raw = text[start:end]
        stripped = raw.strip()
        if stripped and stripped != ";":
            yield start + (len(raw) - len(raw.lstrip())), stripped
        start = end


def _statement_ends(text: str) -> list[int]:
    ends: list[int] = []
    pos, depth, begins = 0, 0, 0
    words: list[str] = []  # the statement's first words, for CREATE [OR REPLACE] FUNCTION
    while (match := _SPLIT.search(text, pos)) is not None:
        kind, pos = match.lastgroup, match.end()
        if kind == "block":
            pos = _block_comment_end(text, match.start())
        elif kind == "dollar":
            close = text.find(match.group(0), pos)
            pos = len(text) if close < 0 else close + len(match.group(0))
        elif kind == "word":
            word = match.group(0).lower()
            words.append(word)
            if depth == 0 and _in_routine(words[:4]):
                if word == "begin" or (word == "case" and begins):
                    begins += 1
                elif word == "end" and begins:
                    begins -= 1
        elif kind == "punct":
            if match.group(0) == "(":
                depth += 1
            elif match.group(0) == ")":
                depth = max(depth - 1, 0)
            elif depth == 0 and begins == 0:
                pos = _TRAILER.match(text, pos).end()  # type: ignore[union-attr]
                ends.append(pos)
                words = []
    ends.append(len(text))
    return ends


def _in_routine(words: list[str]) -> bool:
    """Whether the statement so far is CREATE [OR REPLACE] FUNCTION|PROCEDURE."""
    if words[:1] != ["create"]:
        return False
    rest = words[3:4] if words[1:3] == ["or", "replace"] else words[1:2]
    return rest in (["function"], ["procedure"])


def _block_comment_end(text: str, pos: int) -> int:
    """After a /* comment, which nests; an unterminated one runs to the end."""
    try:
        return _skip_block_comment(text, pos)
    except SqlError:
        return len(text)


def parse_statements(
    text: str, *, first_line: int = 1, source: str = "op.execute"
) -> list[ParsedStatement]:
    """The DDL operations of `op.execute(...)` text that matter for indexes and column types.

    `first_line` is the line the text starts on, `source` what ran it (for the index's `how`)."""
    parsed: list[ParsedStatement] = []
    for offset, statement in split_statements(text):
        head = " ".join(
            re.sub(r"--[^\n]*|/\*.*?\*/", " ", statement[:200], flags=re.DOTALL).lower().split()[:6]
        )
        if not head.startswith(("create", "alter table", "drop table", "drop materialized view")):
            continue
        line = first_line + text.count("\n", 0, offset)
        try:
            body = statement.rstrip(";")
            operations = _statement(Parser(tokenize(body), body), line, source)
            parsed.append(ParsedStatement(operations, offset, line))
        except SqlError as exc:
            interesting = "index" in head.split() or head.startswith(
                ("create table", "alter table")
            )
            parsed.append(ParsedStatement((), offset, line, str(exc) if interesting else None))
    return parsed


def _statement(p: Parser, line: int, source: str) -> tuple[Operation, ...]:
    if p.accept_word("alter"):
        return _alter(p) if p.accept_word("table") else ()
    if p.accept_word("drop"):
        if p.accept_word("materialized"):
            p.expect_word("view")
        elif not p.accept_word("table"):
            return ()
        if p.accept_word("if"):
            p.expect_word("exists")
        tables = [p.qualified_name()]
        while p.accept_punct(","):
            tables.append(p.qualified_name())
        return tuple(DropTable(table) for table in tables)
    p.expect_word("create")
    if p.accept_word("or"):
        p.expect_word("replace")
    unique = p.accept_word("unique")
    if p.accept_word("index"):
        return (_create_index(p, unique, line, f"CREATE INDEX in {source}"),)
    p.accept_word("temporary", "temp", "unlogged")
    if p.accept_word("table"):
        return _create_table(p)
    if p.accept_word("type"):
        name = p.qualified_name()
        if p.accept_word("as") and p.accept_word("enum"):
            return (CreateEnum(name),)
        return ()
    if p.accept_word("function"):
        return (_create_function(p),)
    if p.accept_word("materialized") and p.accept_word("view"):
        if p.accept_word("if"):
            p.expect_word("not")
            p.expect_word("exists")
        return (CreateMaterializedView(p.qualified_name()),)  # its query is not read
    return ()


def _create_index(p: Parser, unique: bool, line: int, how: str) -> CreateIndex:
    p.accept_word("concurrently")
    name = None
    if p.accept_word("if"):
        p.expect_word("not")
        p.expect_word("exists")
    if not p.tok.is_word("on"):
        name = p.qualified_name()
    p.expect_word("on")
    p.accept_word("only")
    table = p.qualified_name()
    if p.accept_word("using"):
        p.advance()
    p.expect_punct("(")
    parts: list[IndexPart] = []
    while True:
        start = p.tok.pos
        if p.at_punct("("):
            p.advance()
            expression = p.expression()
            p.expect_punct(")")
        else:
            expression = p.primary()
        end = p.tok.pos
        _index_element_tail(p)
        text = _source_span(p, start, end)
        parts.append(IndexPart(expression, text or to_sql(expression)))
        if p.accept_punct(")"):
            break
        p.expect_punct(",")
    while p.tok.kind != "end":
        if p.accept_word("where"):
            start = p.tok.pos
            where = p.expression()
            text = _source_span(p, start, p.tok.pos)
            parts.append(IndexPart(where, text or to_sql(where), is_predicate=True))
            break
        p.skip_balanced()
    if p.tok.kind != "end":
        raise p.error("unexpected text after the WHERE clause")
    return CreateIndex(name, table, tuple(parts), line, how, unique)


def _source_span(p: Parser, start: int, end: int) -> str:
    return p.source[start:end].strip()


def _create_table(p: Parser) -> tuple[Operation, ...]:
    if p.accept_word("if"):
        p.expect_word("not")
        p.expect_word("exists")
    table = p.qualified_name()
    if not p.accept_punct("("):
        return ()  # CREATE TABLE ... AS / PARTITION OF: no column types to read
    columns: list[tuple[str, TypeName | None]] = []
    while not p.accept_punct(")"):
        if p.tok.kind == "end":
            raise p.error("expected ')'")
        if p.tok.is_word("constraint", "primary", "unique", "check", "foreign", "exclude", "like"):
            _skip_to_comma(p)
            continue
        name = p.advance().value
        columns.append((name, p.type_name()))
        _skip_to_comma(p)
    return (CreateTable(table, tuple(columns)),)


def _skip_to_comma(p: Parser) -> None:
    while not (p.at_punct(",") or p.at_punct(")")):
        if p.tok.kind == "end":
            raise p.error("expected ')'")
        p.skip_balanced()
    p.accept_punct(",")


def _alter(p: Parser) -> tuple[Operation, ...]:
    if p.accept_word("if"):
        p.expect_word("exists")
    p.accept_word("only")
    table = p.qualified_name()
    if p.accept_word("rename"):
        if p.accept_word("to"):
            return (RenameTable(table, p.qualified_name()),)
        if p.tok.is_word("constraint"):
            return ()  # changes no column
        p.accept_word("column")
        old = p.advance().value
        p.expect_word("to")
        return (AlterColumn(table, old, new_name=p.advance().value),)
    actions: list[Operation] = []
    while p.tok.kind != "end":
        if p.accept_word("add"):
            if p.tok.is_word("constraint", "primary", "unique", "check", "foreign", "exclude"):
                _skip_action(p)
                continue
            p.accept_word("column")
            if p.accept_word("if"):
                p.expect_word("not")
                p.expect_word("exists")
            column = p.advance().value
            actions.append(AddColumn(table, column, p.type_name()))
        elif p.accept_word("alter"):
            p.accept_word("column")
            column = p.advance().value
            if p.accept_word("set") and p.accept_word("data"):
                pass
            if p.accept_word("type"):
                actions.append(AlterColumn(table, column, p.type_name()))
        elif p.accept_word("drop"):
            if p.accept_word("constraint"):
                _skip_action(p)
                continue
            p.accept_word("column")
            if p.accept_word("if"):
                p.expect_word("exists")
            actions.append(DropColumn(table, p.advance().value))
        _skip_action(p)
    return tuple(actions)


def _skip_action(p: Parser) -> None:
    while not p.at_punct(",") and p.tok.kind != "end":
        p.skip_balanced()
    p.accept_punct(",")


def _create_function(p: Parser) -> CreateFunction:
    name = p.qualified_name()
    p.expect_punct("(")
    arg_types: list[TypeName] = []
    variadic = False
    while not p.accept_punct(")"):
        mode = "in"
        if p.tok.is_word("in", "out", "inout", "variadic"):
            mode = p.advance().value
        start = p.i
        try:
            argtype = p.type_name()
            if not (
                p.at_punct(",")
                or p.at_punct(")")
                or p.tok.is_word("default")
                or (p.tok.kind == "op" and p.tok.value == "=")
            ):
                raise p.error("argument name")
        except SqlError:
            p.i = start
            p.advance()  # the argument's name
            argtype = p.type_name()
        if mode != "out":
            arg_types.append(argtype)
            variadic = mode == "variadic"
        while not (p.at_punct(",") or p.at_punct(")")):
            if p.tok.kind == "end":
                raise p.error("expected ')'")
            p.skip_balanced()
        p.accept_punct(",")
    returns = None
    volatility = "v"
    while p.tok.kind != "end":
        if p.accept_word("returns"):
            if p.accept_word("table"):
                continue
            returns = p.type_name()
        elif p.tok.is_word("immutable", "stable", "volatile"):
            volatility = p.advance().value[0]
        else:
            p.skip_balanced()
    return CreateFunction(name, tuple(arg_types), returns, volatility, variadic)
