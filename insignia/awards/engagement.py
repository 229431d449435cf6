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
"""

from __future__ import annotations

import logging
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

logger = logging.getLogger(__name__)

KINDS: tuple[str, ...] = tuple(str(kind) for kind in EngagementKind.values)
MAX_CHANNEL = 32


def _day(now: datetime | None) -> date:
    return timezone.localdate(now or timezone.now())


def record_engagement(award: Award | int, kind: str, channel: str = "", now: datetime | None = None) -> None:
    """Add one to today's count of ``kind`` (``view``, ``share``, ``download``, ``embed``, ``verify``) for an award.

    Never raises for a database hiccup: a lost count must not break the page that is being served.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown engagement kind {kind!r}; use one of {', '.join(KINDS)}.")
    award_id = award if isinstance(award, int) else award.pk
    key: dict[str, Any] = {"award_id": award_id, "kind": kind, "channel": channel[:MAX_CHANNEL], "day": _day(now)}
    try:
        with transaction.atomic():
            if EngagementCount.objects.filter(**key).update(count=F("count") + 1):
                return
            try:
                with transaction.atomic():
                    EngagementCount.objects.create(**key, count=1)
            except IntegrityError:  # another request created today's row between our update and insert
                EngagementCount.objects.filter(**key).update(count=F("count") + 1)
    except DatabaseError:
        logger.warning("Could not count %s for award %s", kind, award_id, exc_info=True)


def record_verification(credential_id: str, *, channel: str = "", now: datetime | None = None) -> bool:
    """Count a verification of the credential ``credential_id`` if it is one of our awards; True if counted.

    For the verifier's page and API (not for the public page's own live check). ``channel`` says where
    (``web``, ``api``, ``cli``…).
    """
    if not credential_id or not credential_id.startswith(f"{settings.BASE_URL}/c/"):
        return False
    award_id = Award.objects.filter(credential_id=credential_id).values_list("pk", flat=True).first()
    if award_id is None:
        return False
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
    rows = (EngagementCount.objects.filter(award=award, kind=EngagementKind.SHARE).values("channel")
            .annotate(total=Sum("count")).order_by("-total", "channel"))
    return {row["channel"]: int(row["total"] or 0) for row in rows}


def counts_for_organisation(organisation: Organisation, *, since: date | None = None) -> dict[str, int]:
    """Totals per kind over all the organisation's awards (optionally from ``since`` on), in one query."""
    counts = EngagementCount.objects.filter(award__organisation=organisation)
    if since is not None:
        counts = counts.filter(day__gte=since)
    result = _empty()
    for row in counts.values("kind").annotate(total=Sum("count")).order_by():
        result[row["kind"]] = int(row["total"] or 0)
    return result


def is_visitor_request(request: HttpRequest) -> bool:
    """A GET from a real visitor: not HEAD, and not the verifier calling our own views in-process.

    Requests that went through the middleware stack carry ``request.user``; the in-process fetch of
    ``insignia.verification.services`` builds a bare ``HttpRequest`` that does not.
    """
    return request.method == "GET" and hasattr(request, "user")


__all__ = [
    "KINDS",
    "counts_for_award",
    "counts_for_awards",
    "counts_for_organisation",
    "is_visitor_request",
    "record_engagement",
    "record_verification",
    "share_channels_for_award",
]
