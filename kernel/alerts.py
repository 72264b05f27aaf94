"""Alerts to Slack and Discord webhooks through a durable outbox.

Trip first, alert after: the event (a kill switch trip or reset) writes its outbox rows in the
same transaction as the state change, and delivery happens after the commit, outside any lock,
so a slow or failing webhook never delays a halt. Delivery is at-least-once: a row is sent until a
2xx answer is recorded, and every message carries its alert id so receivers can drop repeats.

Per attempt: 2xx delivered; 429 waits for Retry-After (seconds or an HTTP date; Discord's JSON
`retry_after` too); 5xx, timeouts and connection errors back off exponentially; any other 4xx
gives up at once (the payload or the URL is wrong, retrying cannot help); so does running out of
attempts.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.db import Database
from kernel.models import AlertOutbox, AlertStatus
from kernel.settings import AlertSettings

Clock = Callable[[], datetime]
RETRY_AFTER_CAP = 3600.0  # seconds: a server asking for longer is treated as asking for this
DISCORD_RED, DISCORD_GREEN = 0xE74C3C, 0x2ECC71


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    event: str  # KILL_SWITCH_TRIPPED | KILL_SWITCH_RESET
    title: str
    by: str
    reason: str
    state: str
    at: datetime

    @property
    def summary(self) -> str:
        return f"{self.title} by {self.by}: {self.reason} (trading {self.state})"


def slack_payload(alert: Alert) -> dict[str, Any]:
    """An incoming-webhook message: `text` for notifications, blocks for the channel."""
    icon = ":rotating_light:" if alert.event.endswith("TRIPPED") else ":white_check_mark:"
    return {
        "text": f"{icon} {alert.summary} [alert {alert.alert_id}]",
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"{icon} *{alert.title}*\n{alert.reason}"},
                "fields": [
                    {"type": "mrkdwn", "text": f"*By*\n{alert.by}"},
                    {"type": "mrkdwn", "text": f"*Trading*\n{alert.state}"},
                    {"type": "mrkdwn", "text": f"*At (UTC)*\n{alert.at.isoformat()}"},
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"alert id `{alert.alert_id}`"}],
            },
        ],
    }


def discord_payload(alert: Alert) -> dict[str, Any]:
    """An execute-webhook body: `content` plus one embed; mentions disabled."""
    tripped = alert.event.endswith("TRIPPED")
    return {
        "content": f"{alert.summary} [alert {alert.alert_id}]",
        "allowed_mentions": {"parse": []},
        "embeds": [
            {
                "title": alert.title,
                "description": alert.reason,
                "color": DISCORD_RED if tripped else DISCORD_GREEN,
                "fields": [
                    {"name": "By", "value": alert.by, "inline": True},
                    {"name": "Trading", "value": alert.state, "inline": True},
                ],
                "footer": {"text": f"alert {alert.alert_id}"},
                "timestamp": alert.at.isoformat(),
            }
        ],
    }


FORMATS: dict[str, Callable[[Alert], dict[str, Any]]] = {
    "slack": slack_payload,
    "discord": discord_payload,
}


def enqueue(
    session: Session,
    *,
    event: str,
    title: str,
    by: str,
    reason: str,
    state: str,
    now: datetime,
    channels: Iterable[str],
) -> str | None:
    """Write one outbox row per configured channel in the caller's transaction; the alert id."""
    names = sorted(set(channels))
    if not names:
        return None
    alert = Alert(str(uuid.uuid4()), event, title, by, reason, state, now)
    for channel in names:
        session.add(
            AlertOutbox(
                alert_id=alert.alert_id,
                channel=channel,
                event=event,
                payload=json.dumps(FORMATS[channel](alert)),
                status=AlertStatus.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return alert.alert_id


# --- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: delivered, retry after `retry_in` seconds, or give up."""

    delivered: bool
    retry_in: float | None
    error: str | None


def retry_after_seconds(headers: Mapping[str, str], body: bytes, now: datetime) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is not None:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - now).total_seconds())
    try:  # Discord also says it in the body: {"retry_after": 1.5, ...}
        seconds = json.loads(body).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(seconds) if isinstance(seconds, int | float) else None


def post(url: str, payload: str, *, timeout: float, now: datetime, backoff: float) -> Attempt:
    request = urllib.request.Request(
        url,
        data=payload.encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "omc-kernel-alerts"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return Attempt(True, None, None)
    except urllib.error.HTTPError as exc:
        body = exc.read()
        said = f"HTTP {exc.code}: {body[:200].decode(errors='replace').strip()}"
        if exc.code == 429:
            wait = retry_after_seconds(dict(exc.headers.items()), body, now)
            return Attempt(False, min(wait if wait is not None else backoff, RETRY_AFTER_CAP), said)
        if exc.code >= 500:
            return Attempt(False, backoff, said)
        return Attempt(False, None, said)
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Attempt(False, backoff, f"no answer: {reason}")


class Outbox:
    """Delivers due outbox rows. Safe to run from several processes: rows are claimed first."""

    def __init__(
        self,
        db: Database,
        settings: AlertSettings,
        *,
        clock: Clock = utcnow,
        sender: Callable[..., Attempt] = post,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.sender = sender

    def _backoff(self, attempts: int) -> float:
        return float(
            min(self.settings.backoff * 2 ** max(attempts - 1, 0), self.settings.backoff_max)
        )

    def _claim(self, limit: int) -> list[AlertOutbox]:
        """Due rows, leased for one attempt so another dispatcher does not send them meanwhile."""
        now = self.clock()
        lease = timedelta(seconds=self.settings.timeout * 2 + 1)
        with self.db.write() as session:
            rows = list(
                session.scalars(
                    select(AlertOutbox)
                    .where(
                        AlertOutbox.status == AlertStatus.PENDING,
                        AlertOutbox.next_attempt_at <= now,
                    )
                    .order_by(AlertOutbox.id)
                    .limit(limit)
                )
            )
            for row in rows:
                row.next_attempt_at = now + lease
        return rows

    def deliver_due(self, limit: int = 20) -> int:
        """One attempt for each due row (outside any transaction); the number attempted."""
        rows = self._claim(limit)
        for row in rows:
            url = self.settings.channels.get(row.channel)
            attempts = row.attempts + 1
            if url is None:
                result = Attempt(False, None, f"channel {row.channel} is no longer configured")
            else:
                result = self.sender(
                    url,
                    row.payload,
                    timeout=self.settings.timeout,
                    now=self.clock(),
                    backoff=self._backoff(attempts),
                )
            self._record(row.id, attempts, result)
        return len(rows)

    def _record(self, row_id: int, attempts: int, result: Attempt) -> None:
        now = self.clock()
        with self.db.write() as session:
            row = session.get(AlertOutbox, row_id)
            assert row is not None
            row.attempts = attempts
            row.last_error = result.error
            if result.delivered:
                row.status, row.delivered_at = AlertStatus.DELIVERED, now
            elif result.retry_in is None or attempts >= self.settings.max_attempts:
                row.status = AlertStatus.FAILED
            else:
                row.next_attempt_at = now + timedelta(seconds=result.retry_in)

    def next_due(self) -> datetime | None:
        with self.db.read() as session:
            return session.scalar(
                select(func.min(AlertOutbox.next_attempt_at)).where(
                    AlertOutbox.status == AlertStatus.PENDING
                )
            )

    def seconds_until_due(self) -> float | None:
        due = self.next_due()
        return None if due is None else max(0.0, (due - self.clock()).total_seconds())

    def drain(self, deadline: float) -> bool:
        """Deliver until nothing is pending or `deadline` (monotonic) passes; True when empty."""
        while True:
            self.deliver_due()
            wait = self.seconds_until_due()
            if wait is None:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(wait, remaining))


class OutboxWorker:
    """A background thread delivering the outbox; `poke()` after committing a new alert."""

    def __init__(self, outbox: Outbox, *, idle_poll: float = 5.0) -> None:
        self.outbox = outbox
        self.idle_poll = idle_poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-outbox", daemon=True)

    def start(self) -> OutboxWorker:
        self._thread.start()
        return self

    def poke(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.outbox.deliver_due()
                wait = self.outbox.seconds_until_due()
            except Exception as exc:
                # A database hiccup must not end delivery for good: say so, try again later.
                sys.stderr.write(f"alerts: delivery pass failed, retrying: {exc}\n")
                wait = None
            self._wake.wait(self.idle_poll if wait is None else min(wait, self.idle_poll))
            self._wake.clear()

    def stop(self, flush_seconds: float = 0.0) -> bool:
        """Stop; first give pending alerts up to `flush_seconds`. True when nothing is pending."""
        self._stop.set()
        self._wake.set()
        self._thread.join()
        if flush_seconds > 0:
            return self.outbox.drain(time.monotonic() + flush_seconds)
        return self.outbox.next_due() is None
