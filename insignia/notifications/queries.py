"""Reads for the public claim page: a claim link's token, checked without revealing anything on failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.utils import timezone

from insignia.notifications.models import ClaimToken
from insignia.notifications.services import hash_claim_token

ClaimState = Literal["valid", "unknown", "expired", "used"]


@dataclass(frozen=True)
class ClaimLookup:
    """A claim link checked: ``token`` is set only when ``state`` is ``valid``."""

    state: ClaimState
    token: ClaimToken | None = None


def find_claim(token: str, now: datetime | None = None) -> ClaimLookup:
    """Check a claim link's token: valid, unknown (or malformed), expired, or already used."""
    if not token or len(token) > 200:
        return ClaimLookup("unknown")
    found = (ClaimToken.objects.select_related("award__badge", "award__issuer", "award__organisation")
             .filter(token_hash=hash_claim_token(token)).first())
    if found is None:
        return ClaimLookup("unknown")
    if found.used_at is not None:
        return ClaimLookup("used")
    if found.expires_at <= (now or timezone.now()):
        return ClaimLookup("expired")
    return ClaimLookup("valid", found)
