"""Verifications of our own awards through the public verifier are counted for the issuer and the earner."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from insignia.awards.engagement import counts_for_awards
from insignia.awards.models import EngagementCount
from insignia.awards.services import issue_award
from insignia.core.models import Role
from tests.platform.test_awards_support import make_badge, make_issuer
from tests.platform.verification_support import RECIPIENT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings: Any) -> None:
    settings.VERIFY_RATE_LIMIT = "off"
    cache.clear()


def test_api_and_page_verifications_of_our_award_are_counted_by_channel(member: Any, client: Client) -> None:
    owner = member(Role.OWNER)
    award = issue_award(actor=owner, badge=make_badge(owner, make_issuer(owner)), recipient=RECIPIENT)
    assert client.post("/api/v1/verify", {"credential": award.credential},
                       content_type="application/json").json()["verdict"] == "valid"
    assert client.post("/api/v1/verify", {"credential": award.credential},
                       content_type="application/json").status_code == 200
    page = client.get("/verify", {"url": award.credential_id})
    assert page.status_code == 200
    assert counts_for_awards([award.pk])[award.pk]["verify"] == 3
    channels = dict(EngagementCount.objects.filter(award=award, kind="verify").values_list("channel", "count"))
    assert channels == {"api": 2, "web": 1}


def test_foreign_credentials_are_not_counted(member: Any, client: Client) -> None:
    owner = member(Role.OWNER)
    award = issue_award(actor=owner, badge=make_badge(owner, make_issuer(owner)), recipient=RECIPIENT)
    foreign = {**award.credential, "id": "https://elsewhere.example/c/1"}
    client.post("/api/v1/verify", {"credential": foreign}, content_type="application/json")
    assert not EngagementCount.objects.exists()
