"""The dashboard's /audit through Starlette's TestClient over a real kernel database: SQLite in
the unit tier, PostgreSQL in the postgres tier. Paging, filters, the JSON API, escaping, bad
parameters, the chain status."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from kernel import audit
from kernel.audit import Entry
from kernel.auditkey import parse_keyring
from kernel.db import Database
from kernel.models import AuditAction, AuditRecord
from kernel.web.app import create_app
from kernel.web.chain import ChainWatch
from tests.fixtures.cli import omc
from tests.fixtures.kernel import kernel_settings, tamper

CLOCK = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def add(db: Database, n: int, *, start: int = 0, **fields: str) -> None:
    """`n` records cycling through two actors, three actions and two symbols."""
    actions = (AuditAction.ALGORITHM_SIGNAL, AuditAction.ORDER_SUBMITTED, AuditAction.ORDER_DENIED)
    with db.write() as s:
        for i in range(start, start + n):
            entry = Entry(
                actor=f"actor-{i % 2}",
                action=actions[i % 3],
                symbol=("btc", "eth")[i % 2],
                decision="deny" if i % 3 == 2 else "buy",
                reason=f"reason {i % 4}",
                outcome=f"outcome {i}",
                inputs={"price": {"last": str(100 + i)}, "mode": "NORMAL", "state": "ACTIVE"},
            )
            if fields:
                entry = Entry(**{**entry.__dict__, **fields})
            audit.append(s, entry, clock=CLOCK + timedelta(minutes=i))


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(db, kernel_settings())) as c:
        yield c


def sequences(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-sequence="(\d+)"', html)]


def test_health_and_status_answer_as_before(db: Database, client: TestClient) -> None:
    health = client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "ok", "database": "ok"})
    assert health.headers["content-type"] == "application/json"
    assert health.text == json.dumps({"status": "ok", "database": "ok"}, indent=2) + "\n"
    cli = omc("kernel", "status", "--db", db.url, "--format", "json")
    assert client.get("/status").json() == json.loads(cli.stdout)
    missing = client.get("/nope")
    assert (missing.status_code, missing.json()["reason"]) == (404, "no such endpoint: /nope")
    assert client.get("/health/").status_code == 404


def test_the_table_is_newest_first_with_every_column(db: Database, client: TestClient) -> None:
    add(db, 7)
    page = client.get("/audit")
    assert page.status_code == 200
    assert sequences(page.text) == [7, 6, 5, 4, 3, 2, 1]
    row = page.text.split('<tr data-sequence="7"')[1].split("</tr>")[0]
    for shown in ("actor-0", "ALGORITHM_SIGNAL", "btc", "buy", "reason 2", "outcome 6"):
        assert f">{shown}<" in row, shown
    assert ">2026-03-02 09:36:00 UTC<" in row  # the kernel clock of record 7 (i = 6)
    assert row.split("</td>")[1].endswith(" UTC")  # the time it was written
    assert "chain verified up to record 7" in page.text
    assert "trading ACTIVE" in page.text and "market NORMAL" in page.text


def test_keyset_pages_walk_the_whole_audit_once(db: Database, client: TestClient) -> None:
    add(db, 23)
    seen: list[int] = []
    url = "/audit?limit=10"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += sequences(page.text)
        older = re.search(r'id="older" href="([^"]+)"', page.text)
        url = older.group(1).replace("&amp;", "&") if older else ""
    assert seen == list(range(23, 0, -1))


def test_filters_combine_and_stay_in_the_links(db: Database, client: TestClient) -> None:
    add(db, 30)
    page = client.get("/audit?actor=actor-1&action=order_submitted&limit=2")
    # i odd (actor-1) and i % 3 == 1 (ORDER_SUBMITTED): i = 1, 7, 13, 19, 25 -> sequence i + 1
    assert sequences(page.text) == [26, 20]
    older = re.search(r'id="older" href="([^"]+)"', page.text)
    assert older is not None
    link = older.group(1).replace("&amp;", "&")
    assert "actor=actor-1" in link and "action=ORDER_SUBMITTED" in link and "before=20" in link
    assert sequences(client.get(link).text) == [14, 8]
    assert 'value="actor-1"' in page.text and 'value="ORDER_SUBMITTED" selected' in page.text
    by_reason = client.get("/audit", params={"reason": "reason 3", "symbol": "eth"})
    assert sequences(by_reason.text) == [28, 24, 20, 16, 12, 8, 4]


def test_a_time_range_filters_on_when_records_were_written(
    db: Database, client: TestClient
) -> None:
    add(db, 3)
    cut = datetime.now(UTC)
    add(db, 2, start=3)
    later = client.get("/audit", params={"since": cut.isoformat()})
    assert sequences(later.text) == [5, 4]
    naive = cut.replace(tzinfo=None).isoformat()  # no offset: UTC, as the page shows times
    assert sequences(client.get("/audit", params={"until": naive}).text) == [3, 2, 1]
    assert sequences(client.get("/audit", params={"since": "2999-01-01"}).text) == []


def test_the_api_answers_as_the_cli_does(db: Database, client: TestClient) -> None:
    add(db, 12)
    for params, argv in (
        ({"limit": "5"}, ["--limit", "5"]),
        ({"limit": "3", "actor": "actor-0"}, ["--limit", "3", "--actor", "actor-0"]),
        ({"action": "ORDER_DENIED"}, ["--action", "ORDER_DENIED"]),
    ):
        cli = omc("kernel", "audit", "show", "--db", db.url, "--format", "json", *argv)
        assert cli.returncode == 0, cli.stderr
        served = client.get("/api/audit", params=params)
        assert served.headers["content-type"] == "application/json"
        assert served.json() == json.loads(cli.stdout), params
    tail = client.get("/api/audit", params={"after": "4", "limit": "3"}).json()["records"]
    assert [r["sequence"] for r in tail] == [5, 6, 7]
    below = client.get("/api/audit", params={"before": "4"}).json()["records"]
    assert [r["sequence"] for r in below] == [1, 2, 3]
    one = client.get("/api/audit/6").json()
    assert one["sequence"] == 6 and one["inputs"]["clock"].startswith("2026-03-02T09:35")


def test_the_live_rows_are_those_after_the_top_one(db: Database, client: TestClient) -> None:
    add(db, 4)
    assert client.get("/audit/rows?after=4").text.strip() == ""
    add(db, 3, start=4)
    rows = client.get("/audit/rows?after=4&actor=actor-0")
    assert sequences(rows.text) == [7, 5]
    assert 'class="fresh"' in rows.text


def test_a_record_shows_its_inputs_and_its_place_in_the_chain(
    db: Database, client: TestClient
) -> None:
    add(db, 3)
    page = client.get("/audit/2")
    assert page.status_code == 200
    records = client.get("/api/audit").json()["records"]
    assert records[1]["hash"] in page.text and records[0]["hash"] in page.text
    assert '<dd id="verified" class="chain-ok">' in page.text
    assert "101" in page.text and "NORMAL" in page.text and "ACTIVE" in page.text
    assert 'href="/audit/1"' in page.text and 'href="/audit/3"' in page.text
    missing = client.get("/audit/99")
    assert missing.status_code == 404 and "no audit record 99" in missing.text


def test_every_field_from_the_audit_is_escaped(db: Database, client: TestClient) -> None:
    add(db, 1, actor=IMG, reason=SCRIPT, outcome=IMG, symbol="<b>x</b>")
    with db.write() as s:
        audit.append(
            s, Entry(actor="guard", action=AuditAction.ORDER_DENIED, inputs={"note": SCRIPT})
        )
    for url in ("/audit", "/audit/1", "/audit/2", "/audit/rows?after=0", f"/audit?actor={IMG}"):
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>x" not in html
    page = client.get("/audit").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    csp = client.get("/audit").headers["content-security-policy"]
    assert "script-src 'self'" in csp


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("after=abc", "after must be a whole number"),
        ("before=-3", "before must be a whole number"),
        ("before=" + "9" * 5000, "before must be a whole number"),
        ("action=NOPE", "unknown action 'NOPE'"),
        ("limit=1000000000", "limit must be between 1 and 500"),
        ("limit=0", "limit must be between 1 and 500"),
        ("before=99999999999", "before must be at most 2147483647"),
        ("since=yesterday", "since must be an ISO 8601 time"),
        ("until=0001-01-01T00:00+05:00", "until must be an ISO 8601 time"),
        ("since=2026-02-01&until=2026-01-01", "since is later than until"),
        ("actor=a&actor=b", "'actor' is given twice"),
        ("offset=100", "unknown query parameter 'offset'"),
    ],
)
def test_a_bad_parameter_is_one_clear_400(client: TestClient, query: str, said: str) -> None:
    api = client.get(f"/api/audit?{query}")
    assert api.status_code == 400, api.text
    assert api.json()["status"] == "error" and said in api.json()["reason"]
    if not query.startswith("after"):
        page = client.get(f"/audit?{query}")
        assert page.status_code == 400 and said.replace("'", "&#39;") in page.text
        assert "Traceback" not in page.text


def test_bad_addresses_and_methods(client: TestClient) -> None:
    assert client.get("/audit/abc").status_code == 400
    assert client.get("/audit/" + "9" * 30).status_code == 400
    assert client.get("/api/audit/" + "9" * 18).status_code == 404
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/audit", "/api/audit", "/health", "/static/live.js"):
            answer = client.request(method, path)
            assert answer.status_code == 405, (method, path)
    assert client.head("/audit").status_code == 200


def test_a_broken_database_is_a_plain_500_line(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM trading_state"))
    client = TestClient(create_app(db, kernel_settings()), raise_server_exceptions=False)
    answer = client.get("/audit")
    assert answer.status_code == 500
    assert answer.text == "internal error: see the server's log\n"


def test_an_unmigrated_database_is_a_503_line(kernel_url: str) -> None:
    from kernel.db import open_database

    empty = open_database(kernel_url)
    try:
        with TestClient(create_app(empty, kernel_settings())) as c:
            answer = c.get("/audit")
            assert answer.status_code == 503 and "omc-dev kernel migrate" in answer.text
            assert c.get("/api/audit").json()["reason"].endswith("first")
    finally:
        empty.dispose()


def test_the_chain_status_is_kept_incrementally(db: Database, client: TestClient) -> None:
    add(db, 5)
    watch = client.app.state.web.chain  # type: ignore[attr-defined]
    assert client.get("/api/chain").json()["head"] == 5
    add(db, 3, start=5)
    status = client.get("/api/chain").json()
    assert (status["verified"], status["head"], status["records"]) == (True, 8, 8)
    assert watch.full_replays == 1  # the three new records only: no replay from genesis

    # A record added since the last view, changed behind the kernel's back: caught on the view.
    add(db, 2, start=8)
    tamper(db, "UPDATE audit_records SET reason = 'edited' WHERE sequence = 10")
    status = client.get("/api/chain").json()
    assert status["first_broken"]["sequence"] == 10
    cli = omc("kernel", "audit", "verify", "--db", db.url, "--format", "json")
    assert status == {**json.loads(cli.stdout), "anchor_file": None}
    assert "chain broken at record 10" in client.get("/audit").text
    assert '<dd id="verified" class="chain-broken">' in client.get("/audit/10").text
    assert '<dd id="verified" class="chain-ok">' in client.get("/audit/9").text


def test_a_rewrite_under_the_verified_point_is_caught(db: Database) -> None:
    """The last verified record rewritten with its hash recomputed (as someone who read
    kernel/audit.py would), the head following: the remembered hash no longer matches, the
    view replays from genesis, and the key names the record, as the CLI does."""
    secret = f"k1:{'1' * 40}"
    db.audit_keys = parse_keyring(secret, "test")
    add(db, 6)
    with TestClient(create_app(db, kernel_settings())) as client:
        assert client.get("/api/chain").json()["verified"]
        tamper(db, "UPDATE audit_records SET reason = 'edited' WHERE sequence = 6")
        with db.read() as s:
            row = s.get(AuditRecord, 6)
            assert row is not None
            forged = audit.hash_of(row)
        tamper(db, "UPDATE audit_records SET hash = :h WHERE sequence = 6", {"h": forged})
        tamper(db, "UPDATE audit_head SET hash = :h", {"h": forged})
        add(db, 1, start=6)
        status = client.get("/api/chain").json()
        assert client.app.state.web.chain.full_replays == 2  # type: ignore[attr-defined]
    env = {"OMC_AUDIT_KEY": secret}
    cli = omc("kernel", "audit", "verify", "--db", db.url, "--format", "json", env=env)
    assert status["first_broken"]["sequence"] == 6
    assert status["first_broken"]["problem"] == "mac_mismatch"
    assert status == {**json.loads(cli.stdout), "anchor_file": None}


def test_a_long_backlog_is_verified_in_the_background(db: Database) -> None:
    """The first view of a large audit does not wait for the whole replay: it says how far the
    background replay got, and later views give the verdict."""
    add(db, 12)
    app = create_app(db, kernel_settings())
    app.state.web.chain = ChainWatch(sync_limit=5)
    with TestClient(app) as client:
        first = client.get("/api/chain").json()
        assert first == {"verifying": True, "verified": None, "records": 0, "head": 12}
        app.state.web.chain.wait(timeout=60)
        page = client.get("/audit").text
        assert "chain verified up to record 12" in page and "chain-verifying" not in page
        add(db, 3, start=12)  # a short backlog: replayed in the view itself
        assert client.get("/api/chain").json()["head"] == 15
        assert app.state.web.chain.full_replays == 1
