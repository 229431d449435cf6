"""The wallet: every badge with its status, search and filters, engagement counts, the per-award page with
visibility controls and downloads; an earner never sees another earner's badges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from insignia.awards.models import AcceptanceState, EngagementCount, Visibility
from insignia.awards.services import revoke_award, suspend_award
from insignia.backpack import queries, services
from insignia.backpack.models import ImportedBadge
from insignia.core.errors import ServiceError
from tests.platform.backpack_support import client_for
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.platform.backpack_support"]


def _imported(user, name: str = "Rust Basics", verdict: str = "valid", **summary) -> ImportedBadge:
    return ImportedBadge.objects.create(
        user=user, origin="json", format="ob3", document='{"id": "urn:uuid:1"}', fingerprint=f"fp-{name}",
        summary={"name": name, "issuer_name": "Elsewhere Academy", "valid_from": "2024-03-01T00:00:00Z", **summary},
        report={"verdict": verdict, "checks": []}, verdict=verdict, verified_at=timezone.now())


@pytest.fixture
def stocked(award_to, earner, issuer_actor):
    """Ada's wallet: one pending, one active, one expired, one revoked, one suspended, one imported."""
    ada = earner("ada@example.org")
    other = make_badge(issuer_actor, make_issuer(issuer_actor, name="Beta Institute"), name="Cloud Security")
    awards = {
        "pending": award_to("ada@example.org", badge=other),
        "active": award_to("ada@example.org"),
        "expired": award_to("ada@example.org"),
        "revoked": award_to("ada@example.org"),
        "suspended": award_to("ada@example.org"),
    }
    for key in ("active", "expired", "revoked", "suspended"):
        services.accept_award(user=ada, award=awards[key])
    awards["expired"].expires_on = timezone.now() - timedelta(days=1)
    awards["expired"].save(update_fields=["expires_on"])
    revoke_award(actor=issuer_actor, award=awards["revoked"], reason="Issued in error")
    suspend_award(actor=issuer_actor, award=awards["suspended"], reason="Under review")
    imported = _imported(ada)
    return ada, awards, imported


def test_wallet_lists_every_badge_with_its_status(stocked) -> None:
    ada, awards, imported = stocked
    entries = queries.wallet(ada)
    states = {e.key: e.status for e in entries}
    for key, award in awards.items():
        assert states[award.public_id] == key
    assert states[imported.public_id] == "active"
    assert entries[0].status == "pending"  # waiting ones first

    page = client_for(ada).get("/wallet/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store"
    assert "noindex" in page["X-Robots-Tag"]
    html = page.content.decode()
    assert "Waiting for you" in html
    for word in ("Pending", "Active", "Expired", "Revoked", "Suspended"):
        assert f">{word}<" in html
    assert "Rust Basics" in html
    assert "Imported · pasted json" in html
    assert 'alt="Cloud Security"' in html
    assert f"/a/{awards['active'].badge.public_id}/image.png" in html
    assert 'href="/wallet/"' in html  # the header's Wallet link


def test_search_and_filters(stocked) -> None:
    ada, awards, imported = stocked
    assert [e.key for e in queries.wallet(ada, search="cloud")] == [awards["pending"].public_id]
    assert {e.key for e in queries.wallet(ada, search="beta institute")} == {awards["pending"].public_id}
    assert [e.key for e in queries.wallet(ada, search="elsewhere")] == [imported.public_id]
    assert [e.key for e in queries.wallet(ada, status="revoked")] == [awards["revoked"].public_id]
    assert [e.key for e in queries.wallet(ada, status="expired")] == [awards["expired"].public_id]
    assert [e.key for e in queries.wallet(ada, origin="imported")] == [imported.public_id]
    assert imported.public_id not in {e.key for e in queries.wallet(ada, origin="insignia")}
    shelf = services.create_collection(user=ada, name="Shelf")
    services.add_to_collection(user=ada, collection=shelf, award=awards["active"].public_id)
    services.add_to_collection(user=ada, collection=shelf, imported=imported.public_id)
    assert {e.key for e in queries.wallet(ada, collection=shelf.public_id)} == {
        awards["active"].public_id, imported.public_id}

    html = client_for(ada).get("/wallet/", {"q": "cloud", "status": "pending"}).content.decode()
    assert "Cloud Security" in html
    assert "Data Stewardship" not in html
    assert "1 badge matches" in html
    html = client_for(ada).get("/wallet/", {"q": "no such badge"}).content.decode()
    assert "No badge matches" in html


def test_engagement_counts_show_per_award(stocked) -> None:
    ada, awards, _ = stocked
    today = timezone.now().date()
    EngagementCount.objects.create(award=awards["active"], kind="view", day=today, count=7)
    EngagementCount.objects.create(award=awards["active"], kind="view", day=today - timedelta(days=1), count=3)
    EngagementCount.objects.create(award=awards["active"], kind="share", channel="linkedin", day=today, count=2)
    EngagementCount.objects.create(award=awards["active"], kind="verify", day=today, count=1)
    entry = next(e for e in queries.wallet(ada) if e.key == awards["active"].public_id)
    assert (entry.views, entry.shares, entry.verifications) == (10, 2, 1)
    html = client_for(ada).get(f"/wallet/awards/{awards['active'].public_id}").content.decode()
    assert "<dd>10</dd>" in html
    assert "<dd>2</dd>" in html
    assert "10 views" in client_for(ada).get("/wallet/").content.decode()


def test_award_page_links_downloads_and_visibility(stocked) -> None:
    ada, awards, _ = stocked
    award = awards["active"]
    browser = client_for(ada)
    html = browser.get(f"/wallet/awards/{award.public_id}").content.decode()
    for path in (f"/c/{award.public_id}", f"/c/{award.public_id}/badge.png", f"/c/{award.public_id}/credential.json",
                 f"/c/{award.public_id}/credential.jwt", f"/c/{award.public_id}/assertion"):
        assert f'href="{path}"' in html
    assert 'value="unlisted"' in html
    assert "checked" in html

    response = browser.post(f"/wallet/awards/{award.public_id}/visibility",
                            {"visibility": "public", "show_recipient_name": "on"})
    assert response.status_code == 302
    award.refresh_from_db()
    assert (award.visibility, award.show_recipient_name) == (Visibility.PUBLIC, True)
    response = browser.post(f"/wallet/awards/{award.public_id}/visibility", {"visibility": "everyone"})
    assert response.status_code == 400
    award.refresh_from_db()
    assert award.visibility == Visibility.PUBLIC

    pending = awards["pending"]
    with pytest.raises(ServiceError) as refused:
        services.set_award_visibility(user=ada, award=pending, visibility="public", show_recipient_name=True)
    assert refused.value.code == "award_not_accepted"
    html = browser.get(f"/wallet/awards/{pending.public_id}").content.decode()
    assert "Accept badge" in html
    assert "Who can see it" not in html


def test_an_earner_never_sees_another_earners_wallet(stocked, earner) -> None:
    ada, awards, imported = stocked
    eve = earner("eve@example.org")
    assert queries.wallet(eve) == []
    browser = client_for(eve)
    html = browser.get("/wallet/").content.decode()
    assert "Your wallet is empty" in html
    for award in awards.values():
        assert award.public_id not in html
        assert browser.get(f"/wallet/awards/{award.public_id}").status_code == 404
        assert browser.post(f"/wallet/awards/{award.public_id}/visibility", {"visibility": "hidden"}).status_code == 404
    assert imported.public_id not in html
    awards["active"].refresh_from_db()
    assert awards["active"].visibility == Visibility.UNLISTED
    assert client_for(ada).get("/wallet/").status_code == 200


def test_wallet_requires_sign_in(client) -> None:
    response = client.get("/wallet/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_award_whose_hash_does_not_match_never_joins(award_to, earner) -> None:
    ada = earner("ada@example.org")
    award = award_to("someone@example.org")
    award.recipient_identity = "ada@example.org"  # the private column says Ada, the signed hash does not
    award.save(update_fields=["recipient_identity"])
    assert queries.wallet(ada) == []
    assert client_for(ada).get(f"/wallet/awards/{award.public_id}").status_code == 404


def test_sign_in_lands_earners_without_an_organisation_in_their_wallet(award_to, earner) -> None:
    ada = earner("ada@example.org")
    newcomer = earner("new@example.org")
    award_to("ada@example.org")
    assert client_for(ada).get("/dashboard/")["Location"] == "/wallet/"
    assert client_for(newcomer).get("/dashboard/")["Location"] != "/wallet/"
    assert "open your wallet" in client_for(newcomer).get("/orgs/new").content.decode()


def test_pending_then_accepted_state_in_queries(award_to, earner) -> None:
    ada = earner("ada@example.org")
    award = award_to("ada@example.org")
    assert queries.award_state(award) == "pending"
    services.accept_award(user=ada, award=award)
    award.refresh_from_db()
    assert award.acceptance == AcceptanceState.ACCEPTED
    assert queries.award_state(award) == "active"
