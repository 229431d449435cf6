"""Offset pagination for API lists: ``?limit=&offset=`` → ``{"items", "count", "limit", "offset", "next"}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
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
