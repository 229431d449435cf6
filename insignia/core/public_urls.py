"""Absolute URLs of our public pages and documents, all under ``settings.BASE_URL``.

These URLs are ids inside signed credentials and hosted OB 2.0 documents, so every builder must spell
them the same way; they are made here, by joining path segments onto the base URL.
"""

from __future__ import annotations

from django.conf import settings


def public_url(*segments: str) -> str:
    """``{BASE_URL}/<segment>/<segment>…``: the segments (public ids, fixed words) are URL-safe as they are."""
    return "/".join((settings.BASE_URL, *segments))


def achievement_public_url(badge_public_id: str, *below: str) -> str:
    """A badge class's public Achievement URL (``{BASE}/a/<id>``), or a document ``below`` it (``ob2``, ``image``)."""
    return public_url("a", badge_public_id, *below)


def issuer_public_url(issuer_public_id: str, *below: str) -> str:
    """An issuer's public profile URL (``{BASE}/i/<id>``), or a document ``below`` it (``did.json``, ``ob2``)."""
    return public_url("i", issuer_public_id, *below)
