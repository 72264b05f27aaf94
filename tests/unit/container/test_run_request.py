"""The fast path's parser must agree with click wherever it accepts an argv."""

from __future__ import annotations

import click
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.container.command import run
from devtools.container.request import RunRequest, parse_run_args

TOKENS = st.sampled_from(
    [
        "-s",
        "--service",
        "--service=db",
        "-sdb",
        "-u",
        "--user",
        "--user=host",
        "-w",
        "-w/tmp",
        "-e",
        "-eA=1",
        "--env",
        "--env=B=2",
        "--start",
        "--start=1",
        "--track",
        "--track=x",
        "--fix-ownership",
        "--no-fix-ownership",
        "--fix-ownership=1",
        "--",
        "-",
        "-x",
        "--cov=src",
        "--help",
        "-h",
        "pytest",
        "a b",
        "$HOME",
        "",
    ]
)


def click_parse(args: list[str]) -> RunRequest | None:
    try:
        ctx = run.make_context("run", list(args))
    except (click.UsageError, click.exceptions.Exit):
        return None
    params = dict(ctx.params)
    return RunRequest(params.pop("cmd"), **params)


def fields(request: RunRequest) -> tuple[object, ...]:
    return tuple(getattr(request, name) for name in RunRequest.__slots__)


@settings(max_examples=400, deadline=None)
@given(st.lists(TOKENS, max_size=7))
def test_fast_parser_agrees_with_click(args: list[str]) -> None:
    fast = parse_run_args(args)
    if fast is not None:
        slow = click_parse(args)
        assert slow is not None, f"click rejects {args!r}"
        assert fields(fast) == fields(slow)


def test_common_forms() -> None:
    request = parse_run_args(["-s", "db", "-e", "A=1", "--env=B=2", "--", "psql", "-c", "select 1"])
    assert request is not None
    assert (request.service, request.env, request.cmd) == (
        "db",
        ("A=1", "B=2"),
        ["psql", "-c", "select 1"],
    )
    fix = parse_run_args(["--no-fix-ownership", "alembic", "revision"])
    assert fix is not None and fix.fix_ownership is False and fix.cmd == ["alembic", "revision"]
    plain = parse_run_args(["pytest", "-x", "--", "tests"])
    assert plain is not None and plain.cmd == ["pytest", "-x", "--", "tests"]


def test_anything_click_should_answer_is_declined() -> None:
    for args in (["--help"], ["-x", "true"], ["--start=1", "true"], ["-s"], ["--"], []):
        assert parse_run_args(args) is None, args
