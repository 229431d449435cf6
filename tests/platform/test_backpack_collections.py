"""Collections (named, ordered, native and imported badges, visibility each) and the public portfolio."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from insignia.awards.models import Visibility
from insignia.backpack import queries, services
from insignia.backpack.models import Collection, CollectionItem, ImportedBadge
from insignia.core.errors import NotFound, ServiceError
from tests.platform.backpack_support import client_for
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.platform.backpack_support"]


@pytest.fixture
def ada_with_badges(award_to, earner, issuer_actor):
    ada = earner("ada@example.org")
    second = make_badge(issuer_actor, make_issuer(issuer_actor, name="Beta Institute"), name="Cloud Security")
    first, other = award_to("ada@example.org"), award_to("ada@example.org", badge=second)
    for award in (first, other):
        services.accept_award(user=ada, award=award)
    imported = ImportedBadge.objects.create(
        user=ada, origin="url", format="ob2", document="{}", fingerprint="fp", verdict="valid",
        summary={"name": "Rust Basics", "issuer_name": "Elsewhere Academy"}, report={}, verified_at=timezone.now())
    return ada, first, other, imported


def _names(collection: Collection) -> list[str]:
    return [entry.name for _, entry in queries.collection_items(collection, public=False)]


def test_create_rename_reorder_and_delete_collections(ada_with_badges) -> None:
    ada, first, _other, _imported = ada_with_badges
    browser = client_for(ada)
    response = browser.post("/wallet/collections/", {"name": "  Job   applications ", "visibility": "unlisted"})
    assert response.status_code == 302
    jobs = Collection.objects.get(user=ada)
    assert jobs.name == "Job applications"
    assert response["Location"] == f"/wallet/collections/{jobs.public_id}"
    assert browser.post("/wallet/collections/", {"name": "", "visibility": "public"}).status_code == 400
    teaching = services.create_collection(user=ada, name="Teaching", visibility=Visibility.PUBLIC)
    assert [c.name for c in queries.collections_of(ada)] == ["Job applications", "Teaching"]

    # Up/down are plain form posts (no script needed).
    assert browser.post(f"/wallet/collections/{teaching.public_id}/move", {"direction": "up"}).status_code == 302
    assert [c.name for c in queries.collections_of(ada)] == ["Teaching", "Job applications"]
    browser.post(f"/wallet/collections/{teaching.public_id}/move", {"direction": "up"})  # already first: no change
    assert [c.name for c in queries.collections_of(ada)] == ["Teaching", "Job applications"]
    html = browser.get("/wallet/collections/").content.decode()
    assert html.index("Teaching") < html.index("Job applications")

    response = browser.post(f"/wallet/collections/{jobs.public_id}",
                            {"name": "Applications", "description": "For employers", "visibility": "hidden"})
    assert response.status_code == 302
    jobs.refresh_from_db()
    assert (jobs.name, jobs.description, jobs.visibility) == ("Applications", "For employers", "hidden")
    assert browser.post(f"/wallet/collections/{jobs.public_id}/delete").status_code == 302
    assert not Collection.objects.filter(pk=jobs.pk).exists()
    first.refresh_from_db()
    assert first.earner == ada  # the badges stay


def test_items_native_and_imported_in_order(ada_with_badges) -> None:
    ada, first, other, imported = ada_with_badges
    shelf = services.create_collection(user=ada, name="Shelf")
    browser = client_for(ada)
    page = browser.get(f"/wallet/collections/{shelf.public_id}").content.decode()
    assert "Add badges" in page
    assert "Rust Basics" in page
    for data in ({"award": first.public_id}, {"imported": imported.public_id}, {"award": other.public_id}):
        assert browser.post(f"/wallet/collections/{shelf.public_id}/add", data).status_code == 302
    browser.post(f"/wallet/collections/{shelf.public_id}/add", {"award": first.public_id})  # idempotent
    assert _names(shelf) == ["Data Stewardship", "Rust Basics", "Cloud Security"]

    last = CollectionItem.objects.get(collection=shelf, award=other)
    browser.post(f"/wallet/collections/{shelf.public_id}/items/{last.pk}/move", {"direction": "up"})
    assert _names(shelf) == ["Data Stewardship", "Cloud Security", "Rust Basics"]
    browser.post(f"/wallet/collections/{shelf.public_id}/items/{last.pk}/move", {"direction": "up"})
    assert _names(shelf) == ["Cloud Security", "Data Stewardship", "Rust Basics"]
    browser.post(f"/wallet/collections/{shelf.public_id}/items/{last.pk}/move", {"direction": "down"})
    assert _names(shelf) == ["Data Stewardship", "Cloud Security", "Rust Basics"]

    item = CollectionItem.objects.get(collection=shelf, imported=imported)
    assert browser.post(f"/wallet/collections/{shelf.public_id}/items/{item.pk}/remove").status_code == 302
    assert _names(shelf) == ["Data Stewardship", "Cloud Security"]

    # Adding from the award's own page.
    other_shelf = services.create_collection(user=ada, name="Other")
    browser.post(f"/wallet/awards/{first.public_id}/collect", {"collection": other_shelf.public_id})
    assert _names(other_shelf) == ["Data Stewardship"]


def test_pending_awards_cannot_be_collected(award_to, earner) -> None:
    ada = earner("ada@example.org")
    pending = award_to("ada@example.org")
    shelf = services.create_collection(user=ada, name="Shelf")
    with pytest.raises(ServiceError) as refused:
        services.add_to_collection(user=ada, collection=shelf, award=pending)
    assert refused.value.code == "award_not_accepted"


def test_nobody_else_can_touch_a_collection(ada_with_badges, earner) -> None:
    ada, first, _, imported = ada_with_badges
    eve = earner("eve@example.org")
    shelf = services.create_collection(user=ada, name="Shelf")
    browser = client_for(eve)
    assert browser.get(f"/wallet/collections/{shelf.public_id}").status_code == 404
    for path, data in ((f"/wallet/collections/{shelf.public_id}", {"name": "Mine", "visibility": "public"}),
                       (f"/wallet/collections/{shelf.public_id}/delete", {}),
                       (f"/wallet/collections/{shelf.public_id}/move", {"direction": "down"}),
                       (f"/wallet/collections/{shelf.public_id}/add", {"award": first.public_id})):
        assert browser.post(path, data).status_code == 404
    # Eve cannot put Ada's badges in her own collection either.
    hers = services.create_collection(user=eve, name="Hers")
    with pytest.raises(NotFound):
        services.add_to_collection(user=eve, collection=hers, award=first)
    with pytest.raises(NotFound):
        services.add_to_collection(user=eve, collection=hers, imported=imported.public_id)
    shelf.refresh_from_db()
    assert shelf.name == "Shelf"


def test_collection_pages_by_visibility(ada_with_badges, earner) -> None:
    ada, first, other, imported = ada_with_badges
    profile = services.profile_for(ada)
    shelf = services.create_collection(user=ada, name="Shelf")
    for award in (first, other):
        services.add_to_collection(user=ada, collection=shelf, award=award)
    services.add_to_collection(user=ada, collection=shelf, imported=imported)
    services.set_award_visibility(user=ada, award=other, visibility=Visibility.HIDDEN, show_recipient_name=False)
    url = f"/p/{profile.public_id}/c/{shelf.public_id}"

    unlisted = Client().get(url)  # link only: open, but noindex
    assert unlisted.status_code == 200
    assert unlisted["X-Robots-Tag"] == "noindex"
    html = unlisted.content.decode()
    assert '<meta name="robots" content="noindex">' in html
    assert "Data Stewardship" in html
    assert "Rust Basics" in html
    assert "Cloud Security" not in html  # a hidden award is never on show
    assert f'href="/c/{first.public_id}"' in html
    assert "/wallet/" not in html.replace('href="/wallet/"', "")  # no link into the private wallet

    services.update_collection(user=ada, collection=shelf, name="Shelf", visibility=Visibility.PUBLIC)
    public = Client().get(url)
    assert public.status_code == 200
    assert "X-Robots-Tag" not in public
    assert '<meta name="robots"' not in public.content.decode()

    services.update_collection(user=ada, collection=shelf, name="Shelf", visibility=Visibility.HIDDEN)
    assert Client().get(url).status_code == 404
    assert client_for(earner("eve@example.org")).get(url).status_code == 404
    owner_view = client_for(ada).get(url)
    assert owner_view.status_code == 200
    assert "Only you can see this page" in owner_view.content.decode()
    assert Client().get(f"/p/{profile.public_id}/c/not-a-collection").status_code == 404
    assert Client().get(f"/p/someone-else/c/{shelf.public_id}").status_code == 404


def test_portfolio_shows_only_what_the_earner_made_public(ada_with_badges) -> None:
    ada, first, other, _imported = ada_with_badges
    profile = services.profile_for(ada)
    url = f"/p/{profile.public_id}"
    assert Client().get(url).status_code == 404  # off by default

    browser = client_for(ada)
    response = browser.post("/wallet/portfolio", {"display_name": "Ada Lovelace", "headline": "Analyst",
                                                  "portfolio_enabled": "on"})
    assert response.status_code == 302
    public_shelf = services.create_collection(user=ada, name="Public shelf", visibility=Visibility.PUBLIC)
    unlisted_shelf = services.create_collection(user=ada, name="Quiet shelf")
    hidden_shelf = services.create_collection(user=ada, name="Secret shelf", visibility=Visibility.HIDDEN)
    for shelf in (public_shelf, unlisted_shelf, hidden_shelf):
        services.add_to_collection(user=ada, collection=shelf, award=first)
    services.set_award_visibility(user=ada, award=other, visibility=Visibility.PUBLIC, show_recipient_name=False)

    page = Client().get(url)
    assert page.status_code == 200
    assert "X-Robots-Tag" not in page
    html = page.content.decode()
    assert "Ada Lovelace" in html
    assert "Analyst" in html
    assert "Public shelf" in html
    assert "Quiet shelf" not in html
    assert "Secret shelf" not in html
    assert "Cloud Security" in html  # a public award
    assert "ada@example.org" not in html  # never an identity
    assert "<script" not in html.replace('<script src="/static/insignia/app.js" defer></script>', "")

    services.update_profile(user=ada, display_name="Ada", headline="", portfolio_enabled=False)
    assert Client().get(url).status_code == 404
