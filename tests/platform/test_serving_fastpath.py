"""The public fast path (``insignia.awards.middleware``): a cookie-less GET of an award's page or credential.json
is answered with the response the whole stack made for the previous such request.

It must be indistinguishable from the stack: the same bytes and headers (security headers included), the
same counting, a revocation or any other change shown on the very next request, and nothing personal,
conditional or odd ever answered from the store. No timings.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from insignia.awards import engagement
from insignia.awards.models import Award
from insignia.awards.services import revoke_award
from insignia.core.models import Role
from tests.platform.test_awards_support import make_public_award

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
#: Headers the stack adds after the view: they must come back from the store too.
STACK_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
                 "Cross-Origin-Opener-Policy", "Permissions-Policy")


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(member: Any) -> Any:
    return member(Role.OWNER)


@pytest.fixture
def award(owner: Any) -> Award:
    return make_public_award(owner)


def _from_store(response: Any) -> bool:
    """Answered by the fast path: none of the stack below it ran (no view, so no template rendered; no
    authentication middleware, so the request never got a ``user``)."""
    return response.templates == [] and not hasattr(response.wsgi_request, "user")


def _page(client: Client, award: Award, **extra: Any) -> Any:
    return client.get(f"/c/{award.public_id}", **{**HTML, **extra})


def test_the_second_page_load_is_the_stack_s_response_replayed(award: Award, client: Client) -> None:
    first = _page(client, award)
    assert first.status_code == 200
    assert not _from_store(first)
    second = _page(client, award)
    assert _from_store(second)
    assert second.status_code == 200
    assert second.content == first.content
    assert dict(second.items()) == dict(first.items())
    for name in STACK_HEADERS:
        assert second[name] == first[name], name


def test_credential_json_is_replayed_with_its_validator(award: Award, client: Client) -> None:
    first = client.get(f"/c/{award.public_id}/credential.json")
    second = client.get(f"/c/{award.public_id}/credential.json")
    assert _from_store(second)
    assert (second.status_code, second.content, dict(second.items())) == (200, first.content, dict(first.items()))
    assert second.json() == award.credential
    assert client.get(f"/c/{award.public_id}/credential.json", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_views_and_downloads_answered_from_the_store_are_counted(award: Award, client: Client) -> None:
    for _ in range(3):
        _page(client, award)
        client.get(f"/c/{award.public_id}/credential.json")
    counts = engagement.counts_for_award(award)
    assert (counts["view"], counts["download"]) == (3, 3)


def test_revocation_shows_on_the_very_next_load(award: Award, owner: Any, client: Client) -> None:
    before = _page(client, award)
    assert _from_store(_page(client, award))
    revoke_award(actor=owner, award=award, reason="Awarded in error.")
    after = _page(client, award)
    assert not _from_store(after)  # a new version of the page: the stack made it
    assert after.context is not None
    assert (after.context["state"], after.context["verdict"]) == ("revoked", "invalid")
    assert b"Awarded in error." in after.content
    assert after.content != before.content
    assert _from_store(_page(client, award))  # and that one is replayed from then on
    assert b"Awarded in error." in _page(client, award).content


def test_a_deleted_award_s_page_is_gone_at_once(award: Award, client: Client) -> None:
    _page(client, award)
    Award.objects.filter(pk=award.pk).delete()
    assert _page(client, award).status_code == 404


def test_personal_conditional_and_other_requests_go_through_the_stack(award: Award, client: Client,
                                                                       make_user: Any) -> None:
    _page(client, award)
    client.get(f"/c/{award.public_id}/credential.json")
    for extra in ({"HTTP_COOKIE": "theme=dark"}, {"HTTP_AUTHORIZATION": "Bearer x"},
                  {"HTTP_IF_MODIFIED_SINCE": "Mon, 01 Jan 2024 00:00:00 GMT"}, {"HTTP_RANGE": "bytes=0-10"}):
        assert not _from_store(_page(client, award, **extra)), extra
        assert not _from_store(client.get(f"/c/{award.public_id}/credential.json", **extra)), extra
    as_json = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="application/ld+json")
    assert not _from_store(as_json)
    assert as_json.json() == award.credential  # negotiation still answers machines with the credential
    assert not _from_store(client.head(f"/c/{award.public_id}", **HTML))
    assert not _from_store(client.get(f"/c/{award.public_id}/", **HTML))

    earner = make_user("ada@example.org")
    Award.objects.filter(pk=award.pk).update(earner=earner)
    client.force_login(earner)
    mine = _page(client, award)
    assert not _from_store(mine)
    assert mine.context is not None
    assert mine.context["is_earner"] is True
    assert "private" in mine["Cache-Control"]


def test_a_disallowed_host_is_refused_not_served(award: Award, client: Client) -> None:
    _page(client, award)
    assert _page(client, award, HTTP_HOST="evil.example").status_code == 400


def test_http_and_https_are_kept_apart(award: Award, client: Client, settings: Any) -> None:
    _page(client, award, secure=True)
    assert _from_store(_page(client, award, secure=True))
    assert not _from_store(_page(client, award))  # another scheme: the stack answers (and may differ)


def test_every_change_the_page_shows_makes_a_new_page(award: Award, owner: Any, client: Client) -> None:
    from insignia.awards import views
    from insignia.core.models import Organisation
    from insignia.issuers.services import rotate_keys

    def key() -> str:
        version = views._page_version(award.public_id)
        assert version is not None
        return version[1]

    seen = {key()}
    assert key() in seen  # stable while nothing changes
    Organisation.objects.filter(pk=award.organisation_id).update(brand_colour="#123456")
    seen.add(key())
    Organisation.objects.filter(pk=award.organisation_id).update(name="Acme Academy 2")
    seen.add(key())
    rotate_keys(actor=owner, issuer=award.issuer)  # a new key, and the old one retired
    seen.add(key())
    Award.objects.filter(pk=award.pk).update(show_recipient_name=not award.show_recipient_name)
    seen.add(key())
    assert len(seen) == 5
    _page(client, award)
    assert _from_store(_page(client, award))
    Organisation.objects.filter(pk=award.organisation_id).update(name="Acme University")
    renamed = _page(client, award)
    assert not _from_store(renamed)
    assert b"Acme University" in renamed.content or renamed.context is not None
