"""Offset pagination for API lists: ``?limit=&offset=`` → ``{"items", "count", "limit", "offset", "next"}``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageParams(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT}).")
    offset: int = Field(0, ge=0, le=10**9, description="How many items to skip.")


class Page(Schema):
    """Base of every list response; subclasses declare ``items``."""

    count: int
    limit: int
    offset: int
    next: str | None = Field(None, description="The URL of the next page, or null on the last page.")


def paginate(request: HttpRequest, queryset: QuerySet, page: PageParams,
             serialize: Callable[[Any], Any]) -> dict[str, Any]:
    """One page of the queryset (already filtered, scoped and ordered)."""
    count = queryset.count()
    rows = list(queryset[page.offset: page.offset + page.limit])
    following = page.offset + page.limit
    next_url = None
    if following < count:
        query = request.GET.copy()
        query["limit"] = str(page.limit)
        query["offset"] = str(following)
        next_url = f"{settings.BASE_URL}{request.path}?{query.urlencode()}"
    return {"items": [serialize(r) for r in rows], "count": count, "limit": page.limit, "offset": page.offset,
            "next": next_url}


class LargePage(Page):
    """A page of a list that may hold millions of rows: ``count`` is exact up to a limit."""

    count_exact: bool = Field(True, description="False when more rows match than the list counts (10,000 for "
                                                "awards): ``count`` is then that limit, and ``next`` says whether "
                                                "there is more.")


# -- keyset cursors: "the rows after this one" for lists ordered by (-<moment>, -pk) ------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR = re.compile(r"^(-?\d{1,20})\.(\d{1,20})$")


def keyset_cursor(row: Any, field: str) -> str:
    """An opaque position in a list ordered by ``(-field, -pk)``: ``<microseconds since 1970>.<pk>``."""
    return f"{(getattr(row, field) - _EPOCH) // timedelta(microseconds=1)}.{row.pk}"


def parse_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (moment, pk) of a cursor; None for anything else (an unreadable cursor is ignored, not an error)."""
    found = _CURSOR.match(cursor or "")
    if found is None:
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(found.group(1))), int(found.group(2))
    except OverflowError:
        return None


def rows_after(queryset: QuerySet, field: str, position: tuple[datetime, int]) -> QuerySet:
    """Rows after ``position`` in ``(-field, -pk)`` order; the redundant ``field <= moment`` bounds the index
    range scan so the next page starts where the last one ended, however deep."""
    moment, pk = position
    return queryset.filter(**{f"{field}__lte": moment}).filter(
        Q(**{f"{field}__lt": moment}) | Q(**{field: moment, "pk__lt": pk}))


def rows_before(queryset: QuerySet, field: str, position: tuple[datetime, int]) -> QuerySet:
    """Rows before ``position`` in ``(-field, -pk)`` order, nearest first (reverse the result to show it)."""
    moment, pk = position
    return queryset.filter(**{f"{field}__gte": moment}).filter(
        Q(**{f"{field}__gt": moment}) | Q(**{field: moment, "pk__gt": pk})).reverse()


def paginate_large(request: HttpRequest, queryset: QuerySet, page: PageParams,
                   serialize: Callable[[Any], Any], *, count_limit: int = 10_000,
                   keyset: str | None = None, after: str | None = None) -> dict[str, Any]:
    """Like :func:`paginate`, in three queries whatever the offset: a bounded count (exact up to
    ``count_limit``), the page's primary keys (an index-only scan where the ordering is indexed), then its rows.

    With ``keyset`` (the moment field of a ``(-field, -pk)`` ordering), ``next`` carries an ``after`` cursor,
    and a request with ``after`` starts right after that row: following ``next`` costs the same at any depth.
    """
    found = queryset.order_by().values("pk")[: count_limit + 1].count()
    exact = found <= count_limit
    position = parse_cursor(after) if keyset else None
    if position is not None:
        ids = list(rows_after(queryset, keyset or "", position).values_list("pk", flat=True)[: page.limit + 1])
    else:
        ids = list(queryset.values_list("pk", flat=True)[page.offset: page.offset + page.limit + 1])
    more = len(ids) > page.limit
    ids = ids[: page.limit]
    by_id = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()} if ids else {}
    rows = [by_id[pk] for pk in ids if pk in by_id]
    next_url = None
    if more:
        query = request.GET.copy()
        query["limit"] = str(page.limit)
        query["offset"] = str(page.offset + page.limit)
        if keyset and rows:
            query["after"] = keyset_cursor(rows[-1], keyset)
        next_url = f"{settings.BASE_URL}{request.path}?{query.urlencode()}"
    return {"items": [serialize(r) for r in rows], "count": found if exact else count_limit,
            "count_exact": exact, "limit": page.limit, "offset": page.offset, "next": next_url}
