"""The webhook fault suite: `omc-dev killswitch trip` against a real loopback server that answers
500, 429 with Retry-After, 404, hangs, closes without an answer or trickles its answer, and
against malformed webhook URLs.

Each trip must return within its stated bound (twice `alerts.timeout` after the first attempt,
plus a generous margin for a loaded machine), say per channel what was delivered, what failed and
what stays queued, and lose nothing: the queued alert is delivered later, every request carries
the alert's id (body and Idempotency-Key), and nothing is sent again once delivered.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kernel.alerts import Outbox
from kernel.db import Database
from kernel.models import AlertOutbox, AuditRecord, TradingStateRow
from kernel.settings import AlertSettings
from tests.fixtures.cli import omc
from tests.fixtures.webhook import CLOSE, HANG, Reply, WebhookServer, trickle

TIMEOUT = 0.5  # alerts.timeout in these tests: the trip's delivery window is 2 x this
MARGIN = 20.0  # on top of the window, for a loaded 2-core machine running 4 test workers;
# still well under the 60 s a 429 asks to wait, and a hang never ends by itself
SLACK, DISCORD = "/slack", "/discord"


def env_for(server: WebhookServer, timeout: float = TIMEOUT) -> dict[str, str]:
    return {
        "OMC_KERNEL_ALERTS_SLACK_WEBHOOK": server.url(SLACK),
        "OMC_KERNEL_ALERTS_DISCORD_WEBHOOK": server.url(DISCORD),
        "OMC_KERNEL_ALERTS_TIMEOUT": str(timeout),
        "OMC_KERNEL_ALERTS_BACKOFF": "30",  # one attempt per channel inside the window
    }


def run_trip(
    db: Database, env: dict[str, str], fmt: str = "json"
) -> tuple[subprocess.CompletedProcess[str], float]:
    proc = omc(
        "kernel",
        "killswitch",
        "trip",
        "--db",
        db.url,
        "--by",
        "alice",
        "--reason",
        "fault drill",
        "--format",
        fmt,
        env=env,
        timeout=120,
    )
    return proc, time.monotonic()


def assert_within_bound(server: WebhookServer, ended: float, timeout: float = TIMEOUT) -> None:
    """The trip ended within its window after it first called a webhook (both clocks are the
    machine's monotonic clock), so start-up time does not count against it."""
    first = min(r.at for r in server.requests)
    assert ended - first < 2 * timeout + MARGIN, f"returned {ended - first:.1f} s after sending"


def statuses(db: Database) -> dict[str, str]:
    with db.read() as s:
        return {r.channel: r.status for r in s.scalars(select(AlertOutbox))}


def deliver_the_rest(db: Database, server: WebhookServer) -> None:
    """What `kernel serve` does later, two hours on (past every backoff and Retry-After), once
    the webhooks behave."""
    server.path_default = {}
    server.default = Reply(200)
    settings = AlertSettings(server.url(SLACK), server.url(DISCORD), 2.0, 10, 30.0, 300.0)
    later = datetime.now(UTC) + timedelta(hours=2)
    assert Outbox(db, settings, clock=lambda: later).drain(time.monotonic() + 20)


def assert_nothing_lost_or_repeated(
    server: WebhookServer, alert_id: str, db: Database, failed: frozenset[str] = frozenset()
) -> None:
    for r in server.requests:
        assert r.headers.get("Idempotency-Key") == alert_id
        assert alert_id in r.body.decode()
    assert statuses(db) == {
        c: "failed" if c in failed else "delivered" for c in ("slack", "discord")
    }
    for path in (SLACK, DISCORD):
        assert server.to(path), f"{path} never called"
    # The well-behaved channel got its alert exactly once.
    assert len(server.to(DISCORD)) == 1


FAULTS: list[tuple[str, Reply, str, str]] = [
    ("hang", HANG, "pending", "no answer: no complete answer within 0.5 s"),
    ("trickle", trickle(0.2), "pending", "no answer: no complete answer within 0.5 s"),
    ("close", CLOSE, "pending", "no answer: Remote end closed connection without response"),
    ("500", Reply(500, body=b"oops"), "pending", "HTTP 500: oops"),
    ("429", Reply(429, headers={"Retry-After": "60"}, body=b"slow down"), "pending", "HTTP 429"),
    ("404", Reply(404, body=b"no_service"), "failed", "HTTP 404: no_service"),
]


@pytest.mark.parametrize(
    ("reply", "status", "error"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS]
)
def test_a_misbehaving_webhook_cannot_hold_the_trip_or_hide_what_happened(
    db: Database, webhook_server: WebhookServer, reply: Reply, status: str, error: str
) -> None:
    webhook_server.path_default[SLACK] = reply
    proc, ended = run_trip(db, env_for(webhook_server))
    assert proc.returncode == 0, proc.stderr
    assert_within_bound(webhook_server, ended)
    body = json.loads(proc.stdout)
    assert (body["state"], body["alerts_delivered"]) == ("HALTED", False)
    report = {a["channel"]: a for a in body["alerts"]}
    assert (report["discord"]["status"], report["discord"]["error"]) == ("delivered", None)
    assert report["slack"]["status"] == status
    assert report["slack"]["error"].startswith(error)
    assert (report["slack"]["next_attempt_at"] is None) == (status != "pending")
    assert statuses(db) == {"slack": status, "discord": "delivered"}

    deliver_the_rest(db, webhook_server)
    assert_nothing_lost_or_repeated(
        webhook_server,
        body["alert_id"],
        db,
        failed=frozenset({"slack"} if status == "failed" else ()),
    )
    if status == "failed":
        assert len(webhook_server.to(SLACK)) == 1  # a 404 is not retried


def test_a_429_with_a_short_retry_after_is_retried_inside_the_window(
    db: Database, webhook_server: WebhookServer
) -> None:
    webhook_server.script_for(SLACK, Reply(429, headers={"Retry-After": "1"}, body=b"slow down"))
    proc, ended = run_trip(db, env_for(webhook_server, timeout=2.0))
    assert proc.returncode == 0, proc.stderr
    assert_within_bound(webhook_server, ended, timeout=2.0)
    body = json.loads(proc.stdout)
    assert body["alerts_delivered"] is True
    assert {a["channel"]: a["attempts"] for a in body["alerts"]} == {"slack": 2, "discord": 1}
    first, second = webhook_server.to(SLACK)
    assert second.at - first.at >= 1.0  # it waited as asked
    assert_nothing_lost_or_repeated(webhook_server, body["alert_id"], db)
    assert len(webhook_server.to(SLACK)) == 2


def test_the_text_says_what_was_delivered_failed_and_queued(
    db: Database, webhook_server: WebhookServer
) -> None:
    """A 404 used to be printed as `delivered` while the outbox said failed."""
    webhook_server.path_default[DISCORD] = Reply(404, body=b"Unknown Webhook")
    webhook_server.path_default[SLACK] = Reply(503, body=b"busy")
    proc, _ = run_trip(db, env_for(webhook_server), fmt="text")
    assert proc.returncode == 0, proc.stderr
    alert_lines = [line for line in proc.stdout.splitlines() if line.startswith("alert ")]
    assert len(alert_lines) == 2, proc.stdout
    discord, slack = alert_lines
    assert discord.endswith("to discord: FAILED, not retried (HTTP 404: Unknown Webhook)")
    assert "to slack: not delivered yet (HTTP 503: busy); queued in the outbox" in slack
    assert "delivered" not in discord


def test_a_404_is_not_reported_as_delivered_in_json(
    db: Database, webhook_server: WebhookServer
) -> None:
    webhook_server.default = Reply(404, body=b"no_service")
    proc, _ = run_trip(db, env_for(webhook_server))
    body = json.loads(proc.stdout)
    assert body["alerts_delivered"] is False
    assert {a["status"] for a in body["alerts"]} == {"failed"}
    assert statuses(db) == {"slack": "failed", "discord": "failed"}


ISSUE_URLS = [
    "http://127.0.0.1:bad/d",
    "http://[::1/x",
    "http://exa mple.com/hook",
    "http://127.0.0.1:9/a%0d%0aX-Injected:%201",
]


@pytest.mark.parametrize("url", ISSUE_URLS)
def test_a_malformed_webhook_url_still_halts_sends_nothing_and_says_why(
    db: Database, webhook_server: WebhookServer, url: str
) -> None:
    env = env_for(webhook_server) | {"OMC_KERNEL_ALERTS_DISCORD_WEBHOOK": url}
    proc, _ = run_trip(db, env)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "OMC_KERNEL_ALERTS_DISCORD_WEBHOOK" in lines[0]
    assert "/d" not in lines[0] and "/x" not in lines[0]  # the URL's path is its secret
    assert "no alert sent" in lines[0]
    # An emergency stop never waits on the alert settings: halted and audited, but no outbox
    # row the sender would choke on, and nothing sent.
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(AlertOutbox)) == 0
        assert s.scalar(select(func.count()).select_from(AuditRecord)) == 1
        assert s.scalar(select(TradingStateRow.state)) == "HALTED"
    assert webhook_server.requests == []


def test_kernel_serve_refuses_a_malformed_webhook_url(db: Database) -> None:
    env: dict[str, Any] = {"OMC_KERNEL_ALERTS_SLACK_WEBHOOK": "http://127.0.0.1:bad/d"}
    proc = omc("kernel", "serve", "--db", db.url, "--port", "0", env=env, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "OMC_KERNEL_ALERTS_SLACK_WEBHOOK" in proc.stderr


def test_kernel_run_says_when_its_alerts_failed(
    db: Database, webhook_server: WebhookServer
) -> None:
    """A loss limit of one cent trips the kill switch on the first fee; the webhook answers 404.
    The run used to stay silent about it (only pending alerts were mentioned)."""
    webhook_server.default = Reply(404, body=b"no_service")
    env = {
        "OMC_KERNEL_DAILY_LOSS_LIMIT": "0.01",
        "OMC_KERNEL_ALERTS_SLACK_WEBHOOK": webhook_server.url(SLACK),
        "OMC_KERNEL_ALERTS_TIMEOUT": str(TIMEOUT),
    }
    proc = omc("kernel", "run", "--db", db.url, "--seed", "11", "--duration", "24h", env=env)
    assert proc.returncode == 0, proc.stderr
    assert statuses(db) == {"slack": "failed"}
    assert (
        "1 alert(s) of this run FAILED and will not be retried "
        "(first: slack, HTTP 404: no_service)" in proc.stderr
    )
