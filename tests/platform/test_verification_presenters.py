"""What the verifier page says in words: the reason beside the verdict, dates as people read them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from insignia.awards.services import issue_award, revoke_award
from insignia.core.models import Role
from insignia.verification.presenters import readable_date
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("value", "shown"), [
    ("2026-11-23T23:51:54Z", "23 November 2026, 23:51 UTC"),
    ("2026-11-24T01:51:54+02:00", "23 November 2026, 23:51 UTC"),
    ("2026-01-05T00:00:00Z", "5 January 2026"),
    ("2026-01-05", "5 January 2026"),
    ("next Tuesday", "next Tuesday"),
    (None, None),
])
def test_dates_read_as_people_read_them(value: str | None, shown: str | None) -> None:
    assert readable_date(value) == shown


def test_the_verdict_says_why_a_revoked_badge_is_invalid(member: Any, client: Client, settings: Any) -> None:
    settings.VERIFY_RATE_LIMIT = "off"
    cache.clear()
    owner = member(Role.OWNER)
    award = issue_award(actor=owner, badge=make_badge(owner, make_issuer(owner)), recipient="ada@example.org")
    revoke_award(actor=owner, award=award, reason="Issued by mistake.")
    page = client.get("/verify", {"url": award.credential_id}).content.decode()
    assert "Do not trust this badge: at least one check failed. Revocation and suspension:" in page
    assert "revoked" in page.split("Revocation and suspension:", 1)[1][:200]
