from __future__ import annotations

from pathlib import Path

import pytest

from devtools.compose.dotenv import DotenvError, parse_file, parse_text

# Each case was checked against `docker compose config` (compose-go's dotenv, v2.40).
CASES = [
    ("A=1", {"A": "1"}),
    ("export A=1", {"A": "1"}),
    ("A: b", {"A": "b"}),
    ("A", {"A": None}),
    ("a.b-c=1", {"a.b-c": "1"}),
    ("A=b # comment", {"A": "b"}),
    ("A=b#c", {"A": "b#c"}),
    ('A="x\\ny"', {"A": "x\ny"}),
    ('A="multi\nline"', {"A": "multi\nline"}),
    ("A='$literal \\n'", {"A": "$literal \\n"}),
    ("U=http://a:b@c:1/d#x", {"U": "http://a:b@c:1/d#x"}),
    ("A=\n\n# c\nB= spaced ", {"A": "", "B": "spaced"}),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_values_as_compose_reads_them(text: str, expected: dict[str, str | None]) -> None:
    assert {v.name: v.value for v in parse_text(text, Path(".env"))} == expected


def test_lines_are_where_each_variable_starts() -> None:
    found = parse_text('# head\nA=1\nB="two\nlines"\n\nC=3\n', Path(".env"))
    assert [(v.name, v.line) for v in found] == [("A", 2), ("B", 3), ("C", 6)]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("OK=1\nMY VAR=1", 2, "contains a space"),
        ("=x", 1, "no variable name"),
        ('OK=1\nA="abc\nB=2', 2, "unterminated quoted value"),
        ("A='it''s'", 1, "unexpected text after the quoted value"),
        ("just words", 1, "is not KEY=VALUE"),
    ],
)
def test_malformed_lines_name_file_and_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(DotenvError) as caught:
        parse_text(text, Path("/p/.env"))
    assert (caught.value.line, str(caught.value).startswith(f"/p/.env:{line}: ")) == (line, True)
    assert problem in caught.value.problem


def test_binary_file_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"A=1\nB=\xff\xfe\n")
    with pytest.raises(DotenvError, match=r"\.env:2: not UTF-8"):
        parse_file(path)
