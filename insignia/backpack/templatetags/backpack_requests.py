"""``{% open_requests nav_membership as n %}``: the organisation's open earner requests, for members who can answer.

Returns None for members whose role cannot issue (the navigation then shows no Requests link).
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def open_requests(membership: Any) -> int | None:
    if membership is None or not membership.can("issue"):
        return None
    from insignia.backpack.requests import open_count

    return open_count(membership.organisation)
