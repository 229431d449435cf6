"""Reads of awards: tenant-scoped for members, by public id for the public endpoints."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from insignia.awards.models import Award, AwardStatus, EvidenceFile, StatusList
from insignia.core.errors import NotFound
from insignia.core.tenancy import Actor, get_scoped, scoped
from insignia.integrations.pagination import keyset_cursor, parse_cursor, rows_after, rows_before
from insignia.issuers.models import Issuer

#: Filter values of the award list: the stored states, plus "expired" (derived from the expiry date).
STATUS_FILTERS = ("active", "suspended", "revoked", "expired")
#: Lists count matches exactly up to this many; above it they say "more than 10,000" (counting a million rows
#: is the slowest part of a page, and nobody reads page 40,000 anyway).
COUNT_LIMIT = 10_000
#: A recipient search counts fewer: each match is a row read past the index, and "more than 1,000 match" already
#: says "narrow it down".
SEARCH_COUNT_LIMIT = 1_000
#: Count limits up to this read the matching ids in one go (count and page from one query).
IDS_AT_ONCE = 2_000
#: Columns a list never shows: the signed credential and its cached derived forms (kilobytes per row).
HEAVY_COLUMNS = ("credential", "jwt", "ob2_signed")
#: What the award list page shows of an award and its badge (plus what its state and cursors need).
LIST_FIELDS = ("public_id", "recipient_name", "recipient_identity", "issued_on", "expires_on", "status", "badge",
               "badge__name")


def awards_for(
    actor: Actor, *, search: str = "", status: str = "", badge: str = "", now: datetime | None = None
) -> QuerySet[Award]:
    """The organisation's awards, newest first, optionally by recipient text, status and badge public id."""
    actor.require("view")
    now = now or timezone.now()
    awards = scoped(Award.objects.select_related("badge", "issuer").defer(*HEAVY_COLUMNS), actor)
    text = search.strip()
    if text:
        awards = awards.filter(Q(recipient_identity__icontains=text) | Q(recipient_name__icontains=text))
    if status == "expired":
        awards = awards.filter(status=AwardStatus.ACTIVE, expires_on__lte=now)
    elif status == AwardStatus.ACTIVE:
        awards = awards.filter(status=AwardStatus.ACTIVE).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=now))
    elif status in (AwardStatus.SUSPENDED, AwardStatus.REVOKED):
        awards = awards.filter(status=status)
    if badge:
        awards = awards.filter(badge__public_id=badge)
    return awards.order_by("-issued_on", "-id")


def for_listing(awards: QuerySet[Award]) -> QuerySet[Award]:
    """``awards`` loading only :data:`LIST_FIELDS`: the badge's name, no issuer row, none of the award's other
    columns (a page of rows is then a third of the work to read and build)."""
    return awards.select_related(None).select_related("badge").only(*LIST_FIELDS)


def bounded_count(queryset: QuerySet[Any], limit: int | None = None) -> int | None:
    """How many rows match, counting at most ``limit + 1`` of them; None when there are more than ``limit``."""
    limit = COUNT_LIMIT if limit is None else limit
    found = queryset.order_by().values("pk")[: limit + 1].count()
    return None if found > limit else found


@dataclass
class ListPage:
    """One page of a long list, shaped like Django's ``Page`` where it can be.

    ``count`` is None when more than :data:`COUNT_LIMIT` rows match (then the number of pages is unknown too).
    ``number`` is None for a page of such a list reached from its far end (the oldest page, and the pages before it
    reached by Previous): its number would take counting every row; ``from_end`` then says where it is (1 for the
    oldest page, 2 for the one before it, …).
    """

    object_list: list[Any]
    number: int | None
    per_page: int
    count: int | None
    has_next: bool
    count_limit: int = COUNT_LIMIT
    #: Keyset cursors of the first and last rows (lists with a keyset): the Previous and Next links carry them.
    previous_cursor: str = ""
    next_cursor: str = ""
    from_end: int | None = None

    @property
    def count_limit_label(self) -> str:
        return f"{self.count_limit:,}"

    @property
    def num_pages(self) -> int | None:
        return None if self.count is None else max(1, math.ceil(self.count / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number is None or self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        assert self.number is not None, "a page counted from the end has no number: use previous_page"
        return self.number - 1

    def next_page_number(self) -> int:
        assert self.number is not None, "a page counted from the end has no number: use next_page"
        return self.number + 1

    @property
    def previous_page(self) -> str:
        """The ``page`` parameter of the Previous link: a number, or ``last-<n>`` (n pages before the oldest)."""
        return str(self.number - 1) if self.number is not None else f"last-{self.from_end or 1}"

    @property
    def next_page(self) -> str:
        """The ``page`` parameter of the Next link (see :attr:`previous_page`)."""
        if self.number is not None:
            return str(self.number + 1)
        return "last" if (self.from_end or 1) <= 2 else f"last-{(self.from_end or 1) - 2}"

    def start_index(self) -> int | None:
        if self.number is None:
            return None
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    def end_index(self) -> int | None:
        if self.number is None:
            return None
        return (self.number - 1) * self.per_page + len(self.object_list)


_FROM_END = re.compile(r"^last(?:-(\d{1,7}))?$")


def _page_number(value: Any) -> int | None:
    """A page number from the query string; None for "last" and "last-<n>"; 1 for anything unreadable."""
    if _from_end(value) is not None:
        return None
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _from_end(value: Any) -> int | None:
    """For ``page=last`` 1 (the oldest page), for ``page=last-<n>`` n + 1 (n pages before it); else None."""
    found = _FROM_END.match(value) if isinstance(value, str) else None
    return None if found is None else int(found.group(1) or 0) + 1


def page_of(queryset: QuerySet[Any], page: Any, per_page: int, *, count_limit: int | None = None,
            keyset: str | None = None, after: str | None = None, before: str | None = None) -> ListPage:
    """One page of an ordered queryset in a fixed number of queries, whatever the page size or depth.

    1. a bounded count (exact up to ``count_limit``); 2. the page's ids only (an index-only scan for the award
    list's order, so even page 20,000 does not read 500,000 rows); 3. those rows with their related objects.
    The first and last pages (nothing to skip) read their rows at once, so 2 and 3 are one query there.

    ``page`` may be "last". A counted list then shows its last page by number, read from the far end (as are
    pages past the middle). An uncounted one (more than ``count_limit`` rows) is never counted exactly: its oldest
    ``per_page`` rows, read in reverse order, are the "last" page, numbered from the end (``from_end``) rather
    than from the start; ``page=last-<n>`` is the page n before it. A page past the end shows the last page (as
    Django's ``Paginator.get_page`` does).

    With ``keyset`` (the moment field of a ``(-field, -pk)`` ordering) the page carries cursors, and ``after``
    or ``before`` (from its Next and Previous links) read the neighbouring page from where this one ends, as
    cheap at page 20,000 as at page 2 or next to the oldest page; ``page`` then only numbers it.
    """
    count_limit = COUNT_LIMIT if count_limit is None else count_limit
    position = parse_cursor(after or before) if keyset else None
    known: list[Any] | None = None
    if count_limit <= IDS_AT_ONCE and position is None:
        # A small limit (a search): the ids up to it in one query give both the count and the page.
        known = list(queryset.values_list("pk", flat=True)[: count_limit + 1])
        count = len(known) if len(known) <= count_limit else None
    else:
        count = bounded_count(queryset, count_limit)
    if position is not None and keyset:
        number, from_end = _page_number(page), _from_end(page)
        if after:
            rows = list(rows_after(queryset, keyset, position)[: per_page + 1])
            has_next = len(rows) > per_page
            rows = rows[:per_page]
            if from_end is not None:
                from_end = max(2, from_end) if has_next else 1
        else:
            rows = list(rows_before(queryset, keyset, position)[: per_page + 1])
            if len(rows) <= per_page:
                number, from_end = 1, None  # nothing before these: this is the first page
            rows = list(reversed(rows[:per_page]))
            has_next = True
        if rows:
            return _with_cursors(ListPage(object_list=rows, number=number, per_page=per_page, count=count,
                                          has_next=has_next, count_limit=count_limit, from_end=from_end), keyset)
    found = _page_by_number(queryset, page, per_page, count, count_limit, known if count is not None else None)
    return _with_cursors(found, keyset) if keyset else found


def _with_cursors(found: ListPage, keyset: str) -> ListPage:
    if found.object_list:
        found.previous_cursor = keyset_cursor(found.object_list[0], keyset)
        found.next_cursor = keyset_cursor(found.object_list[-1], keyset)
    return found


def _page_by_number(queryset: QuerySet[Any], page: Any, per_page: int, count: int | None,
                    count_limit: int, every_id: list[Any] | None = None) -> ListPage:
    number, from_end = _page_number(page), _from_end(page)
    if count is not None:
        last = max(1, math.ceil(count / per_page))
        number = max(1, last + 1 - from_end) if from_end is not None else min(number or 1, last)
    elif from_end is not None:
        return _page_from_end(queryset, from_end, per_page, count_limit)
    assert number is not None
    offset = (number - 1) * per_page
    if every_id is not None:  # every matching id is already known, in order
        ids = every_id[offset: offset + per_page]
        has_next = offset + per_page < len(every_id)
    elif count is not None and offset > count // 2 and queryset.query.order_by:
        # Past the middle: read from the other end (the same index, backwards) instead of skipping most rows.
        size = min(per_page, count - offset)
        from_other_end = count - offset - size
        has_next = offset + size < count
        if from_other_end == 0:  # the last page: nothing to skip from that end, so its rows come at once
            return ListPage(object_list=list(reversed(queryset.reverse()[:size])), number=number, per_page=per_page,
                            count=count, has_next=has_next, count_limit=count_limit)
        ids = list(reversed(queryset.reverse().values_list("pk", flat=True)[from_other_end: from_other_end + size]))
    elif offset == 0:
        # The first page: nothing to skip, so its rows come straight from the ordered index (one query).
        rows = list(queryset[: per_page + 1])
        return ListPage(object_list=rows[:per_page], number=number, per_page=per_page, count=count,
                        has_next=len(rows) > per_page, count_limit=count_limit)
    else:
        ids = list(queryset.values_list("pk", flat=True)[offset: offset + per_page + 1])
        has_next = len(ids) > per_page
        ids = ids[:per_page]
        if not ids and number > 1:  # past the end of an uncounted list: its last page, still uncounted
            return _page_from_end(queryset, 1, per_page, count_limit)
    rows: list[Model] = []
    if ids:
        by_id = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()}
        rows = [by_id[pk] for pk in ids if pk in by_id]
    return ListPage(object_list=rows, number=number, per_page=per_page, count=count, has_next=has_next,
                    count_limit=count_limit)


def _page_from_end(queryset: QuerySet[Any], from_end: int, per_page: int, count_limit: int) -> ListPage:
    """Page ``from_end`` counted from the far end of an uncounted list (1: its oldest rows), read in reverse order
    (the list's index backwards: the oldest page costs what the first does, and no row is counted). Where that
    reaches the start of the list, this is its first page, holding what is left (as when Previous reaches it)."""
    skip = (from_end - 1) * per_page
    if not queryset.query.order_by:
        queryset = queryset.order_by("-pk")
    rows = list(queryset.reverse()[skip: skip + per_page + 1])
    if len(rows) > per_page:
        return ListPage(object_list=list(reversed(rows[:per_page])), number=None, per_page=per_page, count=None,
                        has_next=from_end > 1, count_limit=count_limit, from_end=from_end)
    if not rows:  # before the start of the list (a typed page): its first page
        return _page_by_number(queryset, 1, per_page, None, count_limit)
    return ListPage(object_list=list(reversed(rows)), number=1, per_page=per_page, count=None,
                    has_next=from_end > 1, count_limit=count_limit)


def get_award(actor: Actor, public_id: str) -> Award:
    """One award of the actor's organisation; NotFound for unknown ids and other tenants' awards."""
    actor.require("view")
    award = get_scoped(Award.objects.select_related("badge", "issuer"), actor, public_id=public_id)
    assert isinstance(award, Award)
    return award


def public_award(public_id: str) -> Award:
    """An award by its public id (random, unguessable), for the public endpoints."""
    award = Award.objects.select_related("badge", "issuer").filter(public_id=public_id).first()
    if award is None:
        raise NotFound("No such badge award.")
    return award


def public_evidence_file(award_public_id: str, file_public_id: str) -> EvidenceFile:
    """An uploaded evidence file of an award, by both random public ids (for the public download)."""
    found = EvidenceFile.objects.filter(public_id=file_public_id, award__public_id=award_public_id).first()
    if found is None:
        raise NotFound("No such evidence file.")
    return found


def public_status_list(public_id: str) -> StatusList:
    status_list = StatusList.objects.select_related("issuer").filter(public_id=public_id).first()
    if status_list is None:
        raise NotFound("No such status list.")
    return status_list


def revoked_awards(issuer_public_id: str) -> tuple[Issuer, list[Award]]:
    """An issuer and its revoked awards, oldest revocation first (for the OB 2.0 revocation list)."""
    issuer = Issuer.objects.filter(public_id=issuer_public_id).first()
    if issuer is None:
        raise NotFound("No such issuer.")
    return issuer, list(Award.objects.filter(issuer=issuer, status=AwardStatus.REVOKED)
                        .order_by("status_changed_at", "id"))


def display_state(award: Award, now: datetime | None = None) -> str:
    """What to show: revoked, suspended, expired or valid (in that order of precedence)."""
    if award.status in (AwardStatus.REVOKED, AwardStatus.SUSPENDED):
        return str(award.status)
    if award.expires_on is not None and award.expires_on <= (now or timezone.now()):
        return "expired"
    return "valid"
