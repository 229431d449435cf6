"""A small per-client-IP rate limit for the public verifier, counted in Django's cache.

Verifying may fetch documents from other servers, so an anonymous caller gets a fixed number of
verifications per window (``INSIGNIA_VERIFY_RATE_LIMIT``, e.g. ``30/m``; ``off`` disables it). The
page and the API share one budget per address. Counts live in the configured cache: with several
server processes, give them a shared cache (e.g. Redis) for one budget across processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def parse_rate(value: str) -> Limit | None:
    """``"30/m"`` → Limit(30, 60); ``"off"``/``"0"`` → None (no limit)."""
    text = (value or "").strip().lower()
    if text in ("", "off", "0", "none"):
        return None
    count, _, period = text.partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits):] if period[: len(digits)] == digits else period
    if not count.strip().isdigit() or unit not in PERIODS:
        raise ImproperlyConfigured(
            f"INSIGNIA_VERIFY_RATE_LIMIT={value!r} is not a rate: use <count>/<s|m|h|d>, e.g. 30/m, or off."
        )
    return Limit(int(count), PERIODS[unit] * (int(digits) if digits else 1))


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or the last X-Forwarded-For hop behind a trusted proxy."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return str(request.META.get("REMOTE_ADDR", "unknown"))[:64]


def hit(request: HttpRequest, scope: str = "verify") -> int | None:
    """Count one request; None when it is allowed, else the seconds until the client may try again."""
    limit = parse_rate(getattr(settings, "VERIFY_RATE_LIMIT", "30/m"))
    if limit is None:
        return None
    now = int(time.time())
    window = now // limit.seconds
    key = f"insignia:ratelimit:{scope}:{client_ip(request)}:{window}"
    if cache.add(key, 1, timeout=limit.seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=limit.seconds + 1)
            count = 1
    if count <= limit.count:
        return None
    return max(1, (window + 1) * limit.seconds - now)
