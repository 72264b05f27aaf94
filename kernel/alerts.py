"""Alerts to Slack and Discord webhooks through a durable outbox.

Trip first, alert after: the event (a kill switch trip or reset) writes its outbox rows in the
same transaction as the state change, and delivery happens after the commit, outside any lock,
so a slow or failing webhook never delays a halt. Delivery is at-least-once: a row is sent until a
2xx answer is recorded, and every message carries its alert id so receivers can drop repeats.

Per attempt: 2xx delivered; 429 waits for Retry-After (seconds or an HTTP date; Discord's JSON
`retry_after` too); 5xx, timeouts and connection errors back off exponentially; any other 4xx
(and 3xx) gives up at once (the payload or the URL is wrong, retrying cannot help); so does
running out of attempts. Each attempt is over within the `timeout` setting of wall-clock time,
whatever the server does (`kernel.webhooks`), and carries the alert id in an `Idempotency-Key`
header as well as in the message.
"""

from __future__ import annotations

import http.client
import json
import math
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel import webhooks
from kernel.db import Database
from kernel.models import AlertOutbox, AlertStatus
from kernel.settings import AlertSettings

Clock = Callable[[], datetime]
RETRY_AFTER_CAP = 3600.0  # seconds: a server asking for longer is treated as asking for this
MIN_SLICE = 0.1  # of `timeout`: less time left than this for an attempt is no fair attempt
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
    except (ValueError, AttributeError, RecursionError):
        return None
    return float(seconds) if isinstance(seconds, int | float) else None


def _printable(body: bytes) -> str:
    """A server's words on one line, without its control characters (they reach a terminal)."""
    text = body.decode(errors="replace")
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _retry_after(answer: webhooks.Answer, now: datetime, backoff: float) -> float:
    wait = retry_after_seconds(answer.headers, answer.body, now)
    if wait is None or not math.isfinite(wait):
        return backoff
    return min(max(wait, 0.0), RETRY_AFTER_CAP)


def post(
    url: str,
    payload: str,
    *,
    timeout: float,
    now: datetime,
    backoff: float,
    alert_id: str | None = None,
) -> Attempt:
    """One POST, over within `timeout` seconds of wall-clock time whatever the server does."""
    try:
        target = webhooks.parse_url(url)  # the parser the settings validated the URL with
    except webhooks.BadWebhookURL as exc:
        return Attempt(False, None, f"the webhook URL cannot be used: {exc}")
    headers = {"Content-Type": "application/json", "User-Agent": "omc-kernel-alerts"}
    if alert_id is not None:
        headers["Idempotency-Key"] = alert_id  # the same on every attempt: receivers drop repeats
    try:
        answer = webhooks.send(target, payload.encode(), headers, seconds=timeout)
    except TimeoutError as exc:
        return Attempt(False, backoff, f"no answer: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        reason = str(exc) or type(exc).__name__
        return Attempt(False, backoff, f"no answer: {reason}")
    said = f"HTTP {answer.status}: {_printable(answer.body[:200])}".strip()
    if 200 <= answer.status < 300:
        return Attempt(True, None, None)
    if answer.status == 429:
        return Attempt(False, _retry_after(answer, now, backoff), said)
    if answer.status >= 500:
        return Attempt(False, backoff, said)
    if 300 <= answer.status < 400:
        said += " (a redirect, not followed: configure the final URL)"
    return Attempt(False, None, said)


class Outbox:
    """Delivers due outbox rows. Safe to run from several processes: rows are claimed first.

    The rows of one pass are attempted side by side, each on its own thread and deadline, so a
    hanging or broken webhook delays no other alert; a row whose attempt fails in an unforeseen
    way (a poison row) is marked failed with the reason instead of failing the pass.
    """

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

    def _attempt(self, row: AlertOutbox, attempts: int, seconds: float) -> Attempt:
        url = self.settings.channels.get(row.channel)
        if url is None:
            return Attempt(False, None, f"channel {row.channel} is no longer configured")
        return self.sender(
            url,
            row.payload,
            timeout=seconds,
            now=self.clock(),
            backoff=self._backoff(attempts),
            alert_id=row.alert_id,
        )

    def deliver_due(self, limit: int = 20, *, until: float | None = None) -> int:
        """One attempt for each due row (outside any transaction); the number attempted.

        Every attempt ends within the `timeout` setting, and by `until` (monotonic) when given.
        """
        seconds = float(self.settings.timeout)
        if until is not None:
            seconds = min(seconds, until - time.monotonic())
            if seconds < self.settings.timeout * MIN_SLICE:
                return 0  # too little time left for a fair attempt: leave the rows due
        rows = self._claim(limit)
        results: dict[int, Attempt | BaseException] = {}

        def attempt(row: AlertOutbox) -> None:
            try:
                results[row.id] = self._attempt(row, row.attempts + 1, seconds)
            except BaseException as exc:  # judged below, in the caller's thread
                results[row.id] = exc

        threads = [
            threading.Thread(target=attempt, args=(row,), name=f"alert-{row.id}", daemon=True)
            for row in rows
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop: BaseException | None = None
        for row in rows:
            result = results.get(row.id)
            if isinstance(result, Exception) or result is None:
                # A poison row: it failed in a way no retry will change. Fail it, say why.
                why = f"{type(result).__name__}: {result}" if result else "no result"
                result = Attempt(False, None, f"could not be sent: {why}")
            elif isinstance(result, BaseException):
                stop = stop or result  # an exit or an interrupt: nothing recorded for that row
                continue
            self._record(row.id, row.attempts + 1, result)
        if stop is not None:
            raise stop
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
        """Deliver until nothing is pending or `deadline` (monotonic) passes; True when empty.

        Returns by the deadline (plus database time): every attempt ends by it, and a retry due
        after it is left queued rather than waited for.
        """
        while True:
            self.deliver_due(until=deadline)
            wait = self.seconds_until_due()
            if wait is None:
                return True
            remaining = deadline - time.monotonic()
            if wait >= remaining - self.settings.timeout * MIN_SLICE:
                return False
            time.sleep(wait)

    def last_id(self) -> int:
        """The newest outbox row's id (0 when empty): `report(after=...)` covers what follows."""
        with self.db.read() as session:
            return session.scalar(select(func.max(AlertOutbox.id))) or 0

    def report(self, alert_id: str | None = None, *, after: int = 0) -> list[ChannelReport]:
        """Where each channel's copy of one alert (or of every alert after row `after`) stands."""
        query = select(AlertOutbox).where(AlertOutbox.id > after)
        if alert_id is not None:
            query = query.where(AlertOutbox.alert_id == alert_id)
        with self.db.read() as session:
            rows = session.scalars(query.order_by(AlertOutbox.id))
            return [
                ChannelReport(
                    r.channel,
                    str(r.status),
                    r.attempts,
                    r.last_error,
                    r.next_attempt_at if r.status == AlertStatus.PENDING else None,
                )
                for r in rows
            ]


@dataclass(frozen=True)
class ChannelReport:
    channel: str
    status: str  # delivered | failed | pending (stays queued, retried later)
    attempts: int
    error: str | None  # the last attempt's, when it was not delivered
    next_attempt_at: datetime | None  # pending only


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
