"""Webhook URLs are checked by the parser that sends them; one POST ends by its wall-clock
deadline whatever a real loopback server does (hang, close, trickle), and its answer is judged
right (2xx delivered; 429 and 5xx retried; other 4xx failed)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from kernel.alerts import Attempt, post
from kernel.errors import UnusableInput
from kernel.webhooks import BadWebhookURL, parse_url
from tests.fixtures.kernel import kernel_settings
from tests.fixtures.webhook import CLOSE, HANG, Reply, WebhookServer, trickle

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)

# Each passed the old check (`^https?://[^\s/]+`) and then crashed the sender (exit 70).
MALFORMED = [
    "http://127.0.0.1:bad/d",
    "http://[::1/x",
    "http://exa mple.com/hook",
    "http://127.0.0.1:8080/a%0d%0aInjected: 1",
    "http://127.0.0.1:8080/a%0d%0a",
    "http://127.0.0.1:8080/a\r\nInjected: 1",
    "http://127.0.0.1:99999/x",
    "http://127.0.0.1:0/x",
    "http://user:secret@127.0.0.1/x",
    "http://127.0.0.1/hook#frag",
    "http://ex\u00e4mple.com/hook",
    "http://:80/x",
    "http://a..b/x",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_urls_are_refused_by_the_parser(url: str) -> None:
    with pytest.raises(BadWebhookURL):
        parse_url(url)


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_urls_are_refused_when_the_settings_load_naming_the_setting(url: str) -> None:
    with pytest.raises(UnusableInput) as caught:
        kernel_settings(alerts__discord_webhook=url)
    message = str(caught.value)
    assert "discord-webhook" in message and "\n" not in message
    assert "secret" not in message and "/x" not in message  # the URL's path is its token


@pytest.mark.parametrize(
    ("url", "host", "port", "path"),
    [
        ("https://hooks.slack.com/services/T0/B0/xyz", "hooks.slack.com", 443, "/services/T0/B0/xyz"),
        ("https://discord.com/api/webhooks/1/abc?wait=true", "discord.com", 443, "/api/webhooks/1/abc?wait=true"),
        ("http://[::1]:8080/h", "::1", 8080, "/h"),
        ("HTTP://alerts_relay:9000", "alerts_relay", 9000, "/"),
        ("http://127.0.0.1:8080/a%20b", "127.0.0.1", 8080, "/a%20b"),
    ],
)  # fmt: skip
def test_good_urls_parse_to_what_is_sent(url: str, host: str, port: int, path: str) -> None:
    target = parse_url(url)
    assert (target.host, target.port, target.path) == (host, port, path)
    assert target.origin.count("/") == 2  # printable: no path, so no token


def attempt(server: WebhookServer, timeout: float = 0.5) -> tuple[float, Attempt]:
    started = time.monotonic()
    result = post(server.url("/slack"), "{}", timeout=timeout, now=NOW, backoff=7.0, alert_id="a1")
    return time.monotonic() - started, result


@pytest.mark.parametrize("reply", [HANG, trickle(0.1), Reply(200, delay=5)], ids=str)
def test_an_attempt_ends_by_its_wall_clock_deadline(
    webhook_server: WebhookServer, reply: Reply
) -> None:
    """A trickle (a byte every 0.1 s) never lets a per-read timeout of 0.5 s fire; the deadline
    holds anyway."""
    webhook_server.default = reply
    elapsed, result = attempt(webhook_server)
    assert elapsed < 2.0
    assert (result.delivered, result.retry_in) == (False, 7.0)
    assert result.error is not None and "no answer" in result.error


def test_a_closed_connection_is_retried(webhook_server: WebhookServer) -> None:
    webhook_server.default = CLOSE
    _, result = attempt(webhook_server)
    assert (result.delivered, result.retry_in) == (False, 7.0)


@pytest.mark.parametrize(
    ("reply", "delivered", "retry_in", "error"),
    [
        (Reply(204, body=b""), True, None, None),
        (Reply(500, body=b"oops"), False, 7.0, "HTTP 500: oops"),
        (Reply(429, headers={"Retry-After": "12"}, body=b"slow"), False, 12.0, "HTTP 429: slow"),
        (Reply(429, body=b'{"retry_after": NaN}'), False, 7.0, 'HTTP 429: {"retry_after": NaN}'),
        (Reply(404, body=b"no_service"), False, None, "HTTP 404: no_service"),
        (Reply(410, body=b"gone"), False, None, "HTTP 410: gone"),
        (Reply(400, body=b"bad\r\n\x1b[2Jpayload"), False, None, "HTTP 400: bad [2Jpayload"),
        (
            Reply(301, headers={"Location": "http://127.0.0.1:1/T0/secret"}, body=b""),
            False,
            None,
            "HTTP 301: (a redirect, not followed: configure the final URL)",
        ),
    ],
)
def test_answers_are_judged(
    webhook_server: WebhookServer,
    reply: Reply,
    delivered: bool,
    retry_in: float | None,
    error: str | None,
) -> None:
    webhook_server.default = reply
    _, result = attempt(webhook_server)
    assert (result.delivered, result.retry_in, result.error) == (delivered, retry_in, error)


def test_every_attempt_carries_the_alert_id_as_its_idempotency_key(
    webhook_server: WebhookServer,
) -> None:
    webhook_server.script(Reply(500))
    attempt(webhook_server)
    attempt(webhook_server)
    assert [r.headers.get("Idempotency-Key") for r in webhook_server.requests] == ["a1", "a1"]


def test_an_unusable_url_is_a_failed_attempt_not_a_crash() -> None:
    result = post("http://127.0.0.1:bad/d", "{}", timeout=0.5, now=NOW, backoff=1.0)
    assert (result.delivered, result.retry_in) == (False, None)
    assert result.error is not None and "cannot be used" in result.error


def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_http_proxy_from_the_environment_is_used_as_urllib_did(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loopback server plays the proxy: it gets the absolute URL, and the webhook's host
    (which does not resolve) is never looked up here. Guards what urllib gave for free."""
    clear_proxies(monkeypatch)
    monkeypatch.setenv("http_proxy", f"http://ops:p%40ss@127.0.0.1:{webhook_server.port}")
    result = post("http://hooks.invalid/T0/x", "{}", timeout=2.0, now=NOW, backoff=1.0)
    assert result.delivered, result.error
    (request,) = webhook_server.requests
    assert request.path == "http://hooks.invalid:80/T0/x"
    assert request.headers["Proxy-Authorization"] == "Basic b3BzOnBAc3M="  # ops:p@ss


def test_no_proxy_sends_directly(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_proxies(monkeypatch)
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    result = post(webhook_server.url("/slack"), "{}", timeout=2.0, now=NOW, backoff=1.0)
    assert result.delivered, result.error
    assert [r.path for r in webhook_server.requests] == ["/slack"]
