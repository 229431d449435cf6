"""Engagement counts: atomic per-day rows, one query for many awards, and nothing about viewers stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client

from insignia.awards.engagement import (
    counts_for_award,
    counts_for_awards,
    counts_for_organisation,
    record_engagement,
    record_verification,
)
from insignia.awards.models import Award, EngagementCount
from insignia.awards.services import issue_award
from insignia.core.models import Role
from insignia.verification.services import verify_stored_award
from tests.platform.awards_share_support import set_earner_choice
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def badge(owner):
    return make_badge(owner, make_issuer(owner))


@pytest.fixture
def award(owner, badge) -> Award:
    return issue_award(actor=owner, badge=badge, recipient="ada@example.org", recipient_name="Ada Lovelace")


def test_one_row_per_award_kind_channel_and_day(award) -> None:
    for _ in range(3):
        record_engagement(award, "view", now=NOW)
    record_engagement(award, "view", now=NOW + timedelta(days=1))
    record_engagement(award, "share", "x", now=NOW)
    record_engagement(award, "share", "linkedin", now=NOW)
    record_engagement(award.pk, "share", "x", now=NOW)
    rows = sorted((r.kind, r.channel, r.day.isoformat(), r.count) for r in EngagementCount.objects.filter(award=award))
    assert rows == [("share", "linkedin", "2025-06-01", 1), ("share", "x", "2025-06-01", 2),
                    ("view", "", "2025-06-01", 3), ("view", "", "2025-06-02", 1)]
    assert counts_for_award(award) == {"view": 4, "share": 3, "verify": 0, "download": 0, "embed": 0}
    with pytest.raises(ValueError, match="Unknown engagement kind"):
        record_engagement(award, "like")


def test_counts_for_many_awards_in_one_query(owner, badge, django_assert_num_queries) -> None:
    awards = [issue_award(actor=owner, badge=badge, recipient=f"r{i}@example.org") for i in range(4)]
    for index, award in enumerate(awards):
        for _ in range(index):
            record_engagement(award, "view", now=NOW)
        record_engagement(award, "download", "pdf", now=NOW)
    ids = [award.pk for award in awards]
    with django_assert_num_queries(1):
        counts = counts_for_awards([*ids, 999_999])
    assert [counts[pk]["view"] for pk in ids] == [0, 1, 2, 3]
    assert all(counts[pk]["download"] == 1 for pk in ids)
    assert counts[999_999] == {"view": 0, "share": 0, "verify": 0, "download": 0, "embed": 0}
    with django_assert_num_queries(0):
        assert counts_for_awards([]) == {}


def test_counts_for_organisation_stay_in_the_organisation(owner, award, member) -> None:
    other_owner = member(Role.OWNER)
    other = issue_award(actor=other_owner, badge=make_badge(other_owner, make_issuer(other_owner)),
                        recipient="b@example.org")
    record_engagement(award, "view", now=NOW)
    record_engagement(award, "view", now=NOW - timedelta(days=40))
    record_engagement(other, "view", now=NOW)
    record_engagement(award, "verify", "api", now=NOW)
    assert counts_for_organisation(owner.organisation) == {"view": 2, "share": 0, "verify": 1, "download": 0,
                                                          "embed": 0}
    assert counts_for_organisation(owner.organisation, since=(NOW - timedelta(days=30)).date())["view"] == 1
    assert counts_for_organisation(other_owner.organisation)["view"] == 1


def _total(award: Award, kind: str) -> int:
    return sum(row.count for row in EngagementCount.objects.filter(award=award, kind=kind))


def test_page_views_count_gets_of_the_page_only(award) -> None:
    client = Client()
    client.get(f"/c/{award.public_id}")
    client.get(f"/c/{award.public_id}")
    client.head(f"/c/{award.public_id}")
    client.get(f"/c/{award.public_id}", HTTP_ACCEPT="application/json")  # the credential, not a view
    assert _total(award, "view") == 2
    assert _total(award, "verify") == 0  # the page's own live check does not count
    client.get(f"/c/{award.public_id}/embed")
    client.get(f"/c/{award.public_id}/badge.png")
    client.get(f"/c/{award.public_id}/credential.json")
    assert _total(award, "embed") == 1
    assert {r.channel: r.count for r in EngagementCount.objects.filter(award=award, kind="download")} == {
        "png": 1, "json": 1}


def test_the_earners_own_visits_do_not_count(award, make_user) -> None:
    earner = make_user("ada@example.org")
    set_earner_choice(award, earner=earner)
    client = Client()
    client.force_login(earner)
    client.get(f"/c/{award.public_id}")
    assert _total(award, "view") == 0


def test_verifications_count_for_our_credentials_only(award) -> None:
    verify_stored_award(award)  # the platform's own check: not counted
    assert _total(award, "verify") == 0
    assert record_verification(award.credential_id, channel="api") is True
    assert record_verification(award.credential["id"], channel="web") is True
    assert record_verification("https://elsewhere.example/c/abc") is False
    assert record_verification(f"{settings.BASE_URL}/c/unknown") is False
    assert record_verification("") is False
    assert {r.channel: r.count for r in EngagementCount.objects.filter(award=award, kind="verify")} == {
        "api": 1, "web": 1}


def test_no_viewer_data_is_stored(award) -> None:
    client = Client(HTTP_USER_AGENT="Secret-Agent/7.0", REMOTE_ADDR="203.0.113.77", HTTP_REFERER="https://spy.example/")
    client.cookies["tracking"] = "cookie-value-42"
    responses = [client.get(f"/c/{award.public_id}{suffix}")
                 for suffix in ("", "/embed", "/share/x", "/status.svg", "/certificate.pdf")]
    assert all(not response.cookies for response in responses)  # no cookie set for anonymous visitors
    assert {field.name for field in EngagementCount._meta.get_fields()} == {
        "id", "award", "kind", "channel", "day", "count"}
    rows = list(EngagementCount.objects.filter(award=award).values())
    assert {row["kind"] for row in rows} == {"view", "embed", "share", "download"}
    stored = repr(rows)
    for secret in ("Secret-Agent", "203.0.113.77", "spy.example", "cookie-value-42"):
        assert secret not in stored
