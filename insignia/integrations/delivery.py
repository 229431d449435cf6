"""Sending webhook deliveries: signed POSTs, retried with exponential back-off by the job runner.

A delivery is signed with the webhook's secret: ``Insignia-Signature: t=<unix time>,v1=<hex>`` where the
hex is HMAC-SHA256 over ``"<t>." + body``. Receivers recompute it and reject stale timestamps.
A failed attempt (network error, timeout, any non-2xx answer) sets ``next_attempt_at`` by ``BACKOFF``;
after ``MAX_ATTEMPTS`` the delivery is marked failed. Every attempt is kept in ``attempts_log``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from insignia.credentials.errors import FetchError
from insignia.integrations import sealing
from insignia.integrations.models import DeliveryState, WebhookDelivery
from insignia.integrations.services import loopback_allowed
from insignia.net.fetch import request, vet_url

log = logging.getLogger(__name__)

JOB_KIND = "webhook.deliver"
#: Wait after the 1st, 2nd, … failed attempt: 1 min, 5 min, 30 min, 2 h, 12 h.
BACKOFF: tuple[timedelta, ...] = (
    timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 5.0
EXCERPT_BYTES = 1000
#: While an attempt is in flight its ``next_attempt_at`` is pushed this far ahead, so no other runner takes it.
LEASE = timedelta(seconds=60)
USER_AGENT = "Insignia-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None
                     ) -> bool:
    """What a receiver does: parse the header, check freshness, compare in constant time."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in fields.get("v1", []))


@dataclass
class Outcome:
    status_code: int | None
    excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.error


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST the body; any answer is an Outcome, never an exception.

    The receiver goes through the verifier's fetcher rules (``insignia.net.fetch``): https only (http to
    loopback in development/tests), no private or local addresses, the connection pinned to the address that
    was checked (no second DNS answer), no redirects followed, short timeouts, the answer only excerpted.
    """
    try:
        target = vet_url(url, allow_loopback=loopback_allowed())
    except FetchError as exc:
        if exc.code == "address_forbidden":
            return Outcome(None, "", f"the receiver is at a private or local address: {exc.message}"[:500])
        return Outcome(None, "", exc.message[:500])
    try:
        answer = request(target, method="POST", body=body, headers=headers, max_bytes=EXCERPT_BYTES,
                         connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS,
                         deadline=time.monotonic() + 2 * TIMEOUT_SECONDS, refuse_oversize=False)
    except FetchError as exc:
        if exc.code == "fetch_timeout":
            return Outcome(None, "", f"no answer within {TIMEOUT_SECONDS:g} seconds ({exc.message})"[:500])
        return Outcome(None, "", f"could not connect: {exc.message}"[:500])
    excerpt = answer.body.decode("utf-8", "replace")
    if not 200 <= answer.status < 300:
        return Outcome(answer.status, excerpt, f"the receiver answered HTTP {answer.status}")
    return Outcome(answer.status, excerpt, "")


def _enqueue_now(delivery_id: str) -> None:
    from insignia.site import jobs

    jobs.enqueue(JOB_KIND, delivery_id)


def schedule_retry(delivery_id: str, at: datetime) -> None:
    """Run the delivery job again at ``at``: a Celery ETA with a broker, otherwise a timer in this process.

    Timers die with the process; ``pending_jobs`` (run when the in-process runner starts) and the
    ``deliver_webhooks`` command pick such deliveries up again.
    """
    if settings.BROKER_URL:
        from insignia.site.celery import run_job

        run_job.apply_async((JOB_KIND, delivery_id), eta=at)
        return
    delay = max(0.0, (at - timezone.now()).total_seconds())
    timer = threading.Timer(delay, _enqueue_now, args=(delivery_id,))
    timer.daemon = True
    timer.start()


#: Replaceable in tests.
scheduler: Callable[[str, datetime], None] = schedule_retry


def deliver(delivery_id: str, *, now: datetime | None = None) -> WebhookDelivery | None:
    """Make the next attempt of a delivery if it is due (the job handler). Safe to call twice."""
    now = now or timezone.now()
    item = WebhookDelivery.objects.select_related("webhook").filter(public_id=delivery_id).first()
    if item is None or item.state != DeliveryState.PENDING:
        return item
    if item.next_attempt_at is not None and item.next_attempt_at > now:
        scheduler(item.public_id, item.next_attempt_at)
        return item
    # Claim this attempt: only one runner moves ``attempt`` from n to n+1.
    claimed = WebhookDelivery.objects.filter(
        pk=item.pk, state=DeliveryState.PENDING, attempt=item.attempt
    ).update(attempt=item.attempt + 1, next_attempt_at=now + LEASE)
    if not claimed:
        return item
    item.attempt += 1
    webhook = item.webhook
    if not webhook.active:
        outcome = Outcome(None, "", "the webhook is disabled")
        elapsed = 0
    else:
        body = json.dumps(item.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        timestamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Insignia-Event": item.event,
            "Insignia-Delivery": item.public_id,
            "Insignia-Attempt": str(item.attempt),
            "Insignia-Signature": signature_header(sealing.unseal(webhook.secret), timestamp, body),
        }
        started = time.monotonic()
        outcome = post(webhook.url, body, headers)
        elapsed = int((time.monotonic() - started) * 1000)
    item.status_code = outcome.status_code
    item.response_excerpt = outcome.excerpt
    item.error = outcome.error
    item.attempts_log = [*item.attempts_log, {
        "attempt": item.attempt, "at": now.isoformat(), "status_code": outcome.status_code,
        "error": outcome.error, "duration_ms": elapsed,
    }]
    if outcome.ok:
        item.state = DeliveryState.DELIVERED
        item.delivered_at = now
        item.next_attempt_at = None
    elif item.attempt >= MAX_ATTEMPTS or not webhook.active:
        item.state = DeliveryState.FAILED
        item.next_attempt_at = None
    else:
        item.next_attempt_at = now + BACKOFF[item.attempt - 1]
    item.save(update_fields=["status_code", "response_excerpt", "error", "attempts_log", "state", "delivered_at",
                             "next_attempt_at"])
    if item.state == DeliveryState.PENDING and item.next_attempt_at is not None:
        scheduler(item.public_id, item.next_attempt_at)
    return item


def run_delivery_job(job_id: str) -> None:
    """The job-runner entry point: ids in, ``deliver`` does the rest."""
    deliver(job_id)


def pending_jobs() -> list[tuple[str, str]]:
    """Deliveries still to be attempted (after a restart the runner re-queues them)."""
    ids = WebhookDelivery.objects.filter(state=DeliveryState.PENDING).values_list("public_id", flat=True)[:10_000]
    return [(JOB_KIND, delivery_id) for delivery_id in ids]


def deliver_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Attempt every pending delivery that is due now, in this process; returns how many were tried."""
    now = now or timezone.now()
    due = list(WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
               .order_by("next_attempt_at").values_list("public_id", flat=True)[:limit])
    for delivery_id in due:
        deliver(delivery_id, now=now)
    return len(due)
