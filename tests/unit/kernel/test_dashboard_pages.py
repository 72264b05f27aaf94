"""/killswitch, / and their JSON, over HTTP from a real `omc-dev kernel serve` on a traded day."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest

from kernel.db import Database
from tests.fixtures.cli import omc
from tests.fixtures.kernel import ServedKernel, migrated, served_kernel
from tests.kernel_db.test_dashboard_data import IMG, SCRIPT, _day_with_every_kind_of_change

HOST = {"OMC_IN_CONTAINER": "0"}  # this machine has a stray /.dockerenv: serve as on a host


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, ServedKernel]]:
    """One database with a day of trips, resets, REDUCING spells and a position, served."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'kernel.db'}"
    with migrated(url) as db:
        _day_with_every_kind_of_change(db)
        cwd = tmp_path_factory.mktemp("cwd")
        with served_kernel(url, env=HOST, cwd=cwd) as api:
            yield db, api


def fetch(
    api: ServedKernel, path: str, method: str = "GET", header: str = "content-type"
) -> tuple[int, str, str]:
    """Status, one header (the content type unless asked) and body."""
    request = urllib.request.Request(api.base + path, method=method)
    try:
        with urllib.request.urlopen(request, timeout=20) as resp:
            return resp.status, resp.headers.get(header, ""), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get(header, ""), exc.read().decode()


class Elements(HTMLParser):
    """The page's elements (tag, attributes) and its text, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_killswitch_api_is_the_cli_history(traded: tuple[Database, ServedKernel]) -> None:
    db, api = traded
    code, kind, body = fetch(api, "/api/killswitch?limit=10000")
    assert (code, kind) == (200, "application/json")
    served = json.loads(body)
    cli = json.loads(
        omc("kernel", "killswitch", "history", "--db", db.url, "--format", "json").stdout
    )
    for doc in (served, cli):
        del doc["as_of"]
        doc["periods"][-1]["seconds"] = None  # the running spell grows between the two asks
    assert served == cli
    assert [e["event"] for e in served["events"]][-2:] == ["reduce", "trip"]
    _, _, two = fetch(api, "/api/killswitch?limit=2")
    assert len(json.loads(two)["events"]) == 2


def test_the_killswitch_page_shows_the_timeline_as_svg_and_tables_with_text_escaped(
    traded: tuple[Database, ServedKernel],
) -> None:
    _, api = traded
    code, kind, html = fetch(api, "/killswitch")
    assert code == 200 and kind.startswith("text/html")
    page = Elements(html)
    tags = [t for t, _ in page.tags]
    assert "svg" in tags and tags.count("table") == 2
    # The reason is text in the table and in the SVG's tooltips; no element came out of it.
    assert not [a for t, a in page.tags if t == "img"]
    scripts = [a.get("src") for t, a in page.tags if t == "script"]
    assert scripts == ["/static/live.js", "/static/fragment.js"]  # the package's own, no other
    text = "".join(page.text)
    assert text.count(f"{SCRIPT} {IMG}") >= 3  # events table, spells table, SVG tooltip
    assert "HALTED" in text and "REDUCING" in text and "bob" in text


def test_the_live_fragment_answers_only_when_the_switch_moved(
    traded: tuple[Database, ServedKernel],
) -> None:
    _, api = traded
    last = json.loads(fetch(api, "/api/killswitch")[2])["events"][-1]["sequence"]
    assert fetch(api, f"/killswitch/fragment?since={last}")[:1] == (204,)
    code, since, html = fetch(
        api, f"/killswitch/fragment?since={last - 1}", header="x-last-sequence"
    )
    assert (code, since) == (200, str(last))
    page = Elements(html)
    assert "svg" in [t for t, _ in page.tags] and "html" not in [t for t, _ in page.tags]
    assert f"{SCRIPT} {IMG}" in "".join(page.text)
    assert not [a for t, a in page.tags if t in ("script", "img")]


def test_the_overview_shows_state_limits_positions_and_the_equity_chart(
    traded: tuple[Database, ServedKernel],
) -> None:
    _, api = traded
    code, _, html = fetch(api, "/")
    assert code == 200
    page = Elements(html)
    assert [a.get("class") for t, a in page.tags if t == "path"] == ["equity-line"]
    text = " ".join(page.text)
    assert "HALTED" in text and "btc" in text and "max order notional" in text
    code, _, body = fetch(api, "/api/overview")
    overview = json.loads(body)
    assert code == 200 and overview["positions"][0]["symbol"] == "btc"
    curve = overview["equity_curve"]
    assert curve["day"] == "2025-03-01" and curve["points_total"] == 5
    assert curve["last"] == overview["pnl"]["equity"]
    _, _, empty = fetch(api, "/api/overview?day=2025-02-28")
    assert json.loads(empty)["equity_curve"]["points"] == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/killswitch?limit=abc", "limit must be a whole number from 1 to 10000"),
        ("/api/killswitch?limit=1000000000", "limit must be a whole number"),
        ("/api/killswitch?limit=0", "limit must be a whole number"),
        ("/api/killswitch?limit=1&limit=2", "more than once"),
        ("/killswitch/fragment?since=-1", "since must be an audit sequence number"),
        ("/?day=yesterday", "day must be a date as YYYY-MM-DD"),
        ("/api/overview?day=2025-02-30", "day must be a date"),
        ("/?day=0001-01-01", "day must be from 1970-01-01 to 9998-12-31"),
        ("/api/overview?days=1", "unknown query parameter 'days'"),
    ],
)
def test_bad_query_parameters_are_a_400_with_one_line(
    traded: tuple[Database, ServedKernel], path: str, message: str
) -> None:
    code, kind, body = fetch(traded[1], path)
    assert code == 400 and message in body, body
    if kind == "application/json":
        assert json.loads(body)["status"] == "error"
    assert "Traceback" not in body


def test_the_pages_change_nothing(traded: tuple[Database, ServedKernel]) -> None:
    _, api = traded
    for path in ("/killswitch", "/", "/api/killswitch", "/api/overview"):
        assert fetch(api, path, "POST")[0] == 405
