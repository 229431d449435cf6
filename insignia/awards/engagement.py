"""Engagement counts: page views, share clicks, downloads, embed views and verifications, per award and day.

Counted on our own server only; nothing about the viewer is stored (no IP address, no user agent, no
cookie, no account): a row is ``(award, kind, channel, day, count)``. One row per award, kind, channel and
day is kept by a unique constraint; :func:`record_engagement` adds one to it with an atomic
``UPDATE … SET count = count + 1`` and creates the row on a miss (retrying the update when a concurrent
request created it first), which works the same on SQLite and PostgreSQL.

Who calls what:

* the public views (``insignia.awards.views``) count page views, share clicks, downloads and embed views;
* the verifier (``/verify`` page and ``POST /api/v1/verify``) calls :func:`record_verification` with the id of
  the credential it checked: if it is one of our awards, a ``verify`` is counted. The public page's own live
  check does not count.

Under load a write per page view is the bottleneck, so the production server (gunicorn, see
``insignia.site.gunicorn_config``) turns on buffering with :func:`enable_buffering`: increments are summed in
memory per process and written by :func:`flush` as one ``count = count + n`` upsert per (award, kind,
channel, day), every ``INSIGNIA_ENGAGEMENT_FLUSH_SECONDS`` (default 5) or ``INSIGNIA_ENGAGEMENT_FLUSH_EVERY``
increments (default 20,000; a full buffer wakes the background thread, so a request never writes), and when the
worker exits. Counts are exact once flushed; the readers here flush this process's buffer first. Without
buffering (tests, management commands) every call writes at once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Sum
from django.http import HttpRequest
from django.utils import timezone

from insignia.awards.models import Award, EngagementCount, EngagementKind
from insignia.core.models import Organisation
from insignia.site.config import env_int

logger = logging.getLogger(__name__)

KINDS: tuple[str, ...] = tuple(str(kind) for kind in EngagementKind.values)
MAX_CHANNEL = 32


def _day(now: datetime | None) -> date:
    return timezone.localdate(now or timezone.now())


BufferKey = tuple[int, str, str, date]


class _Buffer:
    """Increments not yet written, summed per (award id, kind, channel, day); one per process, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        self.pending: Counter[BufferKey] = Counter()
        self.size = 0
        self.enabled = False
        self.flush_every = 20_000
        self.flush_seconds = 5.0
        self.last_flush = time.monotonic()
        self.timer: threading.Thread | None = None
        self.stop = threading.Event()
        #: Set when the buffer grew past ``flush_every``: the background thread flushes at once.
        self.wake = threading.Event()


_buffer = _Buffer()


def enable_buffering(*, flush_every: int | None = None, flush_seconds: float | None = None,
                     background: bool = True) -> None:
    """Sum increments in memory and write them in batches (the production server calls this per worker).

    ``background`` starts a daemon thread that flushes every ``flush_seconds`` even when no request comes.
    """
    _buffer.flush_every = max(1, flush_every if flush_every is not None else
                              env_int("INSIGNIA_ENGAGEMENT_FLUSH_EVERY", 20_000))
    _buffer.flush_seconds = max(0.1, flush_seconds if flush_seconds is not None else
                                float(env_int("INSIGNIA_ENGAGEMENT_FLUSH_SECONDS", 5)))
    _buffer.enabled = True
    _buffer.last_flush = time.monotonic()
    if _buffer.timer is not None and _buffer.stop.is_set():  # a thread told to stop: let it end before anew
        _buffer.timer.join(10)
    if background and (_buffer.timer is None or not _buffer.timer.is_alive()):
        _buffer.stop.clear()
        _buffer.wake.clear()
        _buffer.timer = threading.Thread(target=_flush_periodically, name="engagement-flush", daemon=True)
        _buffer.timer.start()


def disable_buffering() -> None:
    """Write every increment at once again, after flushing what is buffered (tests; worker exit)."""
    _buffer.enabled = False
    _buffer.stop.set()
    _buffer.wake.set()
    flush()


def buffering() -> bool:
    return _buffer.enabled


def pending() -> dict[BufferKey, int]:
    """What is buffered and not yet written (for tests and diagnostics)."""
    with _buffer.lock:
        return dict(_buffer.pending)


def _flush_periodically() -> None:
    from django.db import close_old_connections, connection

    while True:
        _buffer.wake.wait(_buffer.flush_seconds)  # on time, or at once when a request found the buffer full
        _buffer.wake.clear()
        if _buffer.stop.is_set():
            break
        try:
            close_old_connections()
            flush()
        except Exception:  # the thread must live on; the counts stay buffered for the next try
            logger.warning("Engagement flush failed", exc_info=True)
    connection.close()


def _write(key: BufferKey, count: int) -> None:
    """Add ``count`` to one (award, kind, channel, day) row, creating it on a miss (SQLite and PostgreSQL)."""
    award_id, kind, channel, day = key
    match: dict[str, Any] = {"award_id": award_id, "kind": kind, "channel": channel, "day": day}
    if EngagementCount.objects.filter(**match).update(count=F("count") + count):
        return
    try:
        with transaction.atomic():
            EngagementCount.objects.create(**match, count=count)
    except IntegrityError:  # another process created the row between our update and insert
        EngagementCount.objects.filter(**match).update(count=F("count") + count)


def _upsert(*, arrays: bool = False) -> str:
    """``INSERT … ON CONFLICT … DO UPDATE SET count = count + excluded.count`` (SQLite ≥ 3.24 and PostgreSQL).

    ``arrays`` (PostgreSQL): every row in one statement, its five columns given as five arrays (``unnest``).
    The keys of one flush are distinct, so no row is updated twice by the statement.
    """
    from django.db import connection

    q = connection.ops.quote_name
    table, count = q(EngagementCount._meta.db_table), q("count")
    columns = ", ".join(q(name) for name in ("award_id", "kind", "channel", "day", "count"))
    values = ("SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::date[], %s::integer[])" if arrays
              else "VALUES (%s, %s, %s, %s, %s)")
    return (f"INSERT INTO {table} ({columns}) {values} "
            f"ON CONFLICT ({q('award_id')}, {q('kind')}, {q('channel')}, {q('day')}) "
            f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}")


def flush() -> int:
    """Write every buffered increment (one upsert per row, one transaction); returns how many were written.

    On a database error the increments go back into the buffer for the next flush; nothing is lost or doubled.
    Rows of awards deleted meanwhile are dropped.
    """
    from django.db import connection

    with _buffer.flush_lock:
        with _buffer.lock:
            batch, _buffer.pending = _buffer.pending, Counter()
            _buffer.size = 0
            _buffer.last_flush = time.monotonic()
        if not batch:
            return 0
        existing = set(Award.objects.filter(pk__in={key[0] for key in batch}).values_list("pk", flat=True))
        for key in [key for key in batch if key[0] not in existing]:  # deleted since it was counted
            del batch[key]
        keys = sorted(batch, key=lambda k: (k[0], k[1], k[2], k[3].toordinal()))
        try:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    if connection.vendor == "postgresql":  # one statement: a thousand would hold the GIL ~50 ms
                        cursor.execute(_upsert(arrays=True), [[key[0] for key in keys], [key[1] for key in keys],
                                                              [key[2] for key in keys], [key[3] for key in keys],
                                                              [batch[key] for key in keys]])
                    else:
                        cursor.executemany(_upsert(), [(*key[:3], key[3].isoformat(), batch[key]) for key in keys])
            except IntegrityError:  # an award was deleted since it was counted: write row by row, skip it
                for key in keys:
                    try:
                        with transaction.atomic():
                            _write(key, batch[key])
                    except IntegrityError:
                        batch[key] = 0
        except DatabaseError:
            logger.warning("Could not write %d engagement counts; kept for the next flush", len(batch),
                           exc_info=True)
            with _buffer.lock:
                _buffer.pending.update(batch)
                _buffer.size += sum(batch.values())
            return 0
        return sum(batch.values())


def _key(award: Award | int, kind: str, channel: str, now: datetime | None) -> BufferKey:
    if kind not in KINDS:
        raise ValueError(f"Unknown engagement kind {kind!r}; use one of {', '.join(KINDS)}.")
    award_id = award if isinstance(award, int) else award.pk
    return (award_id, str(kind), channel[:MAX_CHANNEL], _day(now))


def record_engagement(award: Award | int, kind: str, channel: str = "", now: datetime | None = None) -> None:
    """Add one to today's count of ``kind`` (``view``, ``share``, ``download``, ``embed``, ``verify``) for an award.

    Buffered in memory when :func:`enable_buffering` is on (written by :func:`flush`), else written at once.
    Never raises for a database hiccup: a lost count must not break the page that is being served.
    """
    key = _key(award, kind, channel, now)
    if _buffer.enabled:
        with _buffer.lock:
            _buffer.pending[key] += 1
            _buffer.size += 1
            full = _buffer.size >= _buffer.flush_every
            timer = _buffer.timer
            if timer is not None and timer.is_alive():
                # The background thread writes, on time or woken by a full buffer: a request never waits for
                # a write (a request that flushed a full buffer itself, or queued behind the thread's flush,
                # was the slowest of the badge page's under load: 0.5-1.9 s on PostgreSQL).
                if full:
                    _buffer.wake.set()
                return
            due = full or time.monotonic() - _buffer.last_flush >= _buffer.flush_seconds
        if due:  # no thread (management commands, tests): the request that fills the buffer writes it
            flush()
        return
    try:
        with transaction.atomic():
            _write(key, 1)
    except DatabaseError:
        logger.warning("Could not count %s for award %s", kind, key[0], exc_info=True)


def record_verification(credential_id: str, *, channel: str = "", now: datetime | None = None) -> bool:
    """Count a verification of the credential ``credential_id`` if it is one of our awards; True if counted.

    For the verifier's page and API (not for the public page's own live check). ``channel`` says where
    (``web``, ``api``, ``cli``…).
    """
    if not credential_id or not credential_id.startswith(f"{settings.BASE_URL}/c/"):
        return False
    from django.core.cache import cache

    digest = hashlib.blake2b(credential_id.encode("utf-8"), digest_size=16).hexdigest()
    key = f"insignia:award-by-credential:v1:{digest}"
    award_id = cache.get(key)  # an award's credential id never changes; a deleted award's counts are dropped
    if award_id is None:
        award_id = Award.objects.filter(credential_id=credential_id).values_list("pk", flat=True).first()
        if award_id is None:
            return False
        cache.set(key, award_id, 300)
    record_engagement(award_id, EngagementKind.VERIFY, channel, now=now)
    return True


def _empty() -> dict[str, int]:
    return dict.fromkeys(KINDS, 0)


def counts_for_awards(award_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """All-time totals per kind for each award, in ONE query: ``{award_id: {"view": n, "share": n, …}}``.

    Every asked-for id is in the answer, with zeros where nothing was counted.
    """
    ids = list(dict.fromkeys(award_ids))
    result = {award_id: _empty() for award_id in ids}
    if _buffer.size:
        flush()
    if not ids:
        return result
    rows = (EngagementCount.objects.filter(award_id__in=ids).values("award_id", "kind")
            .annotate(total=Sum("count")).order_by())
    for row in rows:
        result[row["award_id"]][row["kind"]] = int(row["total"] or 0)
    return result


def counts_for_award(award: Award) -> dict[str, int]:
    return counts_for_awards([award.pk])[award.pk]


def share_channels_for_award(award: Award) -> dict[str, int]:
    """Share clicks per channel (``linkedin``, ``x``, …) for one award, most used first."""
    if _buffer.size:
        flush()
    rows = (EngagementCount.objects.filter(award=award, kind=EngagementKind.SHARE).values("channel")
            .annotate(total=Sum("count")).order_by("-total", "channel"))
    return {row["channel"]: int(row["total"] or 0) for row in rows}


def counts_for_organisation(organisation: Organisation, *, since: date | None = None) -> dict[str, int]:
    """Totals per kind over all the organisation's awards (optionally from ``since`` on).

    Closed days come from the per-organisation daily totals, open days (today, yesterday) from the per-award
    rows: a few rows per day, however many awards there are (``insignia.awards.rollup``).
    """
    from insignia.awards.rollup import organisation_totals

    if _buffer.size:
        flush()
    return organisation_totals(organisation, since=since)


def is_visitor_request(request: HttpRequest) -> bool:
    """A GET from a real visitor: not HEAD, and not the verifier calling our own views in-process.

    Requests that went through the middleware stack carry ``request.user``; the in-process fetch of
    ``insignia.verification.services`` builds a bare ``HttpRequest`` that does not.
    """
    return request.method == "GET" and hasattr(request, "user")


__all__ = [
    "KINDS",
    "buffering",
    "counts_for_award",
    "counts_for_awards",
    "counts_for_organisation",
    "disable_buffering",
    "enable_buffering",
    "flush",
    "is_visitor_request",
    "pending",
    "record_engagement",
    "record_verification",
    "share_channels_for_award",
]
