"""Per-organisation daily engagement totals, so organisation-wide counts never sum a million awards' rows.

``EngagementCount`` keeps one row per award, kind, channel and day: exact, but an organisation with a million
awards has millions of rows, and "views in the last 30 days" would read them all (and join each to its award
to know the organisation: about half a second for two days of rows at a million awards). So each day's rows are
summed per organisation and kind into ``EngagementDaily``, and organisation totals read only those few rows.

* A **closed** day (older than :data:`LIVE_DAYS` days: no buffered write still lands on it) is rolled up once,
  for good (``EngagementRolledDay.closed``).
* An **open** day (today, yesterday) is rolled up again when its roll-up is older than
  :data:`OPEN_DAY_REFRESH_SECONDS`, so organisation totals for the last two days may be up to a minute behind
  the per-award counts (which are always exact). One request a minute pays for that refresh; concurrent
  requests skip a refresh another one is doing (``SKIP LOCKED`` on PostgreSQL).

Rolling up is lazy and idempotent: the first read after a day closes rolls every day not rolled for good yet
(one grouped query per day). A count written for a day already rolled for good (held back for more than
:data:`LIVE_DAYS` days) stays in the per-award counts; :func:`reroll_day` brings the organisation totals back
in line.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone

from insignia.awards.models import EngagementCount, EngagementDaily, EngagementKind, EngagementRolledDay
from insignia.core.models import Organisation

#: Days still open to writes: today and yesterday.
LIVE_DAYS = 2
#: How stale an open day's roll-up may get before a read rolls it up again.
OPEN_DAY_REFRESH_SECONDS = 60
KINDS: tuple[str, ...] = tuple(str(kind) for kind in EngagementKind.values)


def last_closed_day(today: date | None = None) -> date:
    return (today or timezone.localdate()) - timedelta(days=LIVE_DAYS)


def _roll(day: date) -> None:
    """Replace one day's per-organisation totals by the sums of its rows (in the caller's transaction)."""
    EngagementDaily.objects.filter(day=day).delete()
    rows = (EngagementCount.objects.filter(day=day).values("award__organisation_id", "kind")
            .annotate(total=Sum("count")).order_by())
    EngagementDaily.objects.bulk_create([
        EngagementDaily(organisation_id=row["award__organisation_id"], day=day, kind=row["kind"],
                        count=int(row["total"] or 0))
        for row in rows
    ])


def _roll_day(day: date, *, closed: bool, now: datetime, stale_before: datetime | None = None) -> bool:
    """Roll ``day`` unless it is already final (or, for an open day, fresh); True if rolled now."""
    try:
        with transaction.atomic():
            locking = EngagementRolledDay.objects.select_for_update(
                skip_locked=connection.features.has_select_for_update_skip_locked)
            marker = locking.filter(day=day).first()
            if marker is None:
                marker = EngagementRolledDay.objects.create(day=day, rolled_at=now, closed=closed)
            elif marker.closed or (stale_before is not None and marker.rolled_at >= stale_before):
                return False
            else:
                marker.rolled_at, marker.closed = now, closed
                marker.save(update_fields=["rolled_at", "closed"])
            _roll(day)
    except IntegrityError:  # another request created this day's marker first and is rolling it
        return False
    return True


def roll_up(today: date | None = None, *, now: datetime | None = None) -> int:
    """Roll every closed day not final yet, and the open days whose roll-up is stale; returns days rolled."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    through = last_closed_day(today)
    final_through = EngagementRolledDay.objects.filter(closed=True).aggregate(last=Max("day"))["last"]
    if final_through is None:
        first = EngagementCount.objects.aggregate(first=Min("day"))["first"]
        final_through = (min(first, through + timedelta(days=1)) if first else through) - timedelta(days=1)
    done = 0
    day = final_through + timedelta(days=1)
    while day <= through:
        done += _roll_day(day, closed=True, now=now)
        day += timedelta(days=1)
    stale_before = now - timedelta(seconds=OPEN_DAY_REFRESH_SECONDS)
    for age in range(LIVE_DAYS - 1, -1, -1):
        done += _roll_day(today - timedelta(days=age), closed=False, now=now, stale_before=stale_before)
    return done


def reroll_day(day: date) -> None:
    """Recompute one day's totals from ``EngagementCount`` (after counts landed on a day already final)."""
    with transaction.atomic():
        EngagementRolledDay.objects.filter(day=day).delete()
        EngagementRolledDay.objects.create(day=day, rolled_at=timezone.now(), closed=day <= last_closed_day())
        _roll(day)


def organisation_totals(organisation: Organisation, *, since: date | None = None,
                        today: date | None = None) -> dict[str, int]:
    """Totals per kind over all of an organisation's awards (from ``since`` on), from the daily totals."""
    roll_up(today)
    result = dict.fromkeys(KINDS, 0)
    daily = EngagementDaily.objects.filter(organisation=organisation)
    if since is not None:
        daily = daily.filter(day__gte=since)
    for row in daily.values("kind").annotate(total=Sum("count")).order_by():
        result[row["kind"]] += int(row["total"] or 0)
    return result


__all__ = ["LIVE_DAYS", "OPEN_DAY_REFRESH_SECONDS", "last_closed_day", "organisation_totals", "reroll_day",
           "roll_up"]
