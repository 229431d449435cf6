"""What every wallet page shares: private response headers and the wallet's tabs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

#: Wallet pages are the earner's own: never cached by others, never indexed, no Referer to other sites.
PRIVATE_HEADERS = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow",
                   "Referrer-Policy": "same-origin"}

_TABS = (("badges", "Badges", "backpack:wallet"), ("collections", "Collections", "backpack:collections"),
         ("identities", "Identities", "backpack:identities"), ("requests", "Requests", "backpack:requests"),
         ("portfolio", "Portfolio", "backpack:profile"), ("leave", "Export & delete", "backpack:leave"))


def private(response: HttpResponse) -> HttpResponse:
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


def render_private(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A wallet page (the wallet navigation shown) with the private headers."""
    return private(render(request, template, {"wallet_nav": True, **context}, status=status))


def wallet_tabs(current: str) -> dict[str, Any]:
    """The wallet's tabs for a template, ``current`` marked."""
    return {"wallet_tabs": [(key, label, reverse(name)) for key, label, name in _TABS], "wallet_tab": current}
