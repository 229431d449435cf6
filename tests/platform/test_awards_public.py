"""Public award endpoints: every form of an award verifies, and status changes show within one request."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from insignia.awards import statuslists
from insignia.awards.models import Award, StatusList
from insignia.awards.services import issue_award, revoke_award, suspend_award, unsuspend_award
from insignia.badges.models import ExpiryPolicy
from insignia.core.models import Role
from insignia.credentials import unbake
from insignia.credentials.status.bitstring import check_status
from tests.platform.test_awards_support import ClientFetch, check, make_badge, make_issuer

pytestmark = pytest.mark.django_db
BASE = "http://127.0.0.1:8000"


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def issuer(owner):
    return make_issuer(owner)


@pytest.fixture
def award(owner, issuer) -> Award:
    badge = make_badge(owner, issuer, image="svg")
    return issue_award(actor=owner, badge=badge, recipient="ada@example.org", recipient_name="Ada Lovelace",
                       evidence=[{"url": "https://ada.example/work"}])


@pytest.fixture
def client() -> Client:
    return Client()


def _path(award: Award, suffix: str = "") -> str:
    return f"/c/{award.public_id}{suffix}"


def test_credential_json_is_the_stored_document_with_cache_headers(client, award) -> None:
    response = client.get(_path(award, "/credential.json"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+ld+json"
    assert json.loads(response.content) == award.credential
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=" in response["Cache-Control"]
    again = client.get(_path(award, "/credential.json"), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_the_credential_url_answers_json_to_machines_and_a_page_to_people(client, award) -> None:
    as_json = client.get(_path(award), HTTP_ACCEPT="application/json")
    assert json.loads(as_json.content) == award.credential
    # The name shows once the earner has accepted and allowed it (see test_awards_share_page.py).
    Award.objects.filter(pk=award.pk).update(acceptance="accepted", show_recipient_name=True)
    page = client.get(_path(award), HTTP_ACCEPT="text/html")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Data Stewardship" in html
    assert "Acme Academy" in html
    assert "Ada Lovelace" in html
    assert "status-pill status-valid" in html
    assert "ada@example.org" not in html  # the recipient's email is never shown publicly


def test_unknown_ids_are_not_found(client) -> None:
    for path in ("/c/0123456789abcdef0123456789abcdef", "/c/nope/credential.json", "/c/nope/credential.jwt",
                 "/c/nope/assertion", "/c/nope/assertion.jws", "/c/nope/badge.png", "/status/nope",
                 "/i/nope/ob2/revocations"):
        assert client.get(path).status_code == 404, path


def test_jwt_form_verifies(client, award) -> None:
    response = client.get(_path(award, "/credential.jwt"))
    assert response["Content-Type"].startswith("text/plain")
    token = response.content.decode()
    award.refresh_from_db()
    assert award.jwt == token  # made on first request, then cached
    report = ClientFetch().verifier().verify(token, recipient="ada@example.org")
    assert report.verdict == "valid", report.to_json()
    assert check(report, "proof") == ("passed", "signature_valid")
    assert check(report, "issuer_key") == ("passed", "issuer_key_bound")


def test_ob2_hosted_and_signed_forms_verify(client, award) -> None:
    fetch = ClientFetch()
    hosted = fetch.verifier().verify(f"{BASE}/c/{award.public_id}/assertion", recipient="ada@example.org")
    assert hosted.verdict == "valid", hosted.to_json()
    assert check(hosted, "proof") == ("passed", "hosted_verified")
    assertion = json.loads(client.get(_path(award, "/assertion")).content)
    assert assertion["badge"] == f"{BASE}/a/{award.badge.public_id}/ob2"
    assert assertion["verification"] == {"type": "hosted"}
    assert assertion["evidence"] == [{"id": "https://ada.example/work", "type": "Evidence"}]
    jws = client.get(_path(award, "/assertion.jws")).content.decode()
    signed = fetch.verifier().verify(jws, recipient="ada@example.org")
    assert signed.verdict == "valid", signed.to_json()
    assert check(signed, "status") == ("passed", "not_revoked")


@pytest.mark.parametrize("image_format", ["png", "svg"])
def test_baked_images_carry_the_credential(client, award, image_format) -> None:
    response = client.get(_path(award, f"/badge.{image_format}"))
    assert response.status_code == 200
    assert response["Content-Type"] == ("image/png" if image_format == "png" else "image/svg+xml")
    baked = unbake(response.content)
    assert baked.flavour == "ob3"
    assert json.loads(baked.text) == award.credential
    report = ClientFetch().verifier().verify(response.content)
    assert report.verdict == "valid", report.to_json()


@pytest.mark.parametrize("image_format", ["png", "svg"])
def test_ob2_baked_images_carry_the_hosted_assertion(client, award, image_format) -> None:
    response = client.get(_path(award, f"/badge-ob2.{image_format}"))
    baked = unbake(response.content)
    assert baked.flavour == "ob2"
    assert json.loads(baked.text)["id"] == f"{BASE}/c/{award.public_id}/assertion"
    report = ClientFetch().verifier().verify(response.content)
    assert report.verdict == "valid", report.to_json()


def test_a_badge_without_an_svg_image_has_no_baked_svg(client, owner, issuer) -> None:
    badge = make_badge(owner, issuer, name="PNG only", image="png")
    award = issue_award(actor=owner, badge=badge, recipient="b@example.org")
    response = client.get(_path(award, "/badge.svg"))
    assert response.status_code == 404
    assert client.get(_path(award, "/badge.png")).status_code == 200
    no_image = issue_award(actor=owner, badge=make_badge(owner, issuer, name="Plain", image="none"),
                           recipient="c@example.org")
    assert client.get(_path(no_image, "/badge.png")).status_code == 404


def _list_status(client: Client, award: Award, purpose: str) -> bool:
    status_list = StatusList.objects.get(pk=getattr(award, f"{purpose}_list_id"))
    response = client.get(f"/status/{status_list.public_id}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=60"
    entry = statuslists.entry_for(status_list, getattr(award, f"{purpose}_index"))
    return check_status(entry, json.loads(response.content)).is_set


def test_revocation_shows_everywhere_within_one_request(client, owner, award) -> None:
    fetch = ClientFetch(client)
    assert _list_status(client, award, "revocation") is False
    jws = client.get(_path(award, "/assertion.jws")).content.decode()
    revoke_award(actor=owner, award=award, reason="Issued by mistake")

    assert _list_status(client, award, "revocation") is True
    report = fetch.verifier().verify(award.credential)
    assert check(report, "status") == ("failed", "revoked")
    jwt_report = fetch.verifier().verify(client.get(_path(award, "/credential.jwt")).content.decode())
    assert check(jwt_report, "status") == ("failed", "revoked")

    gone = client.get(_path(award, "/assertion"))
    assert gone.status_code == 410
    body = json.loads(gone.content)
    assert body["revoked"] is True
    assert body["revocationReason"] == "Issued by mistake"
    assert check(fetch.verifier().verify(f"{BASE}/c/{award.public_id}/assertion"), "status") == ("failed", "revoked")

    revocations = json.loads(client.get(f"/i/{award.issuer.public_id}/ob2/revocations").content)
    assert revocations["type"] == "RevocationList"
    assert revocations["revokedAssertions"] == [{"id": f"{BASE}/c/{award.public_id}/assertion",
                                                 "revocationReason": "Issued by mistake"}]
    signed_report = fetch.verifier().verify(jws)
    assert check(signed_report, "status") == ("failed", "revoked")

    page = client.get(_path(award)).content.decode()
    assert "status-pill status-revoked" in page
    assert "Issued by mistake" in page


def test_suspension_shows_and_lifts(client, owner, award) -> None:
    suspend_award(actor=owner, award=award, reason="Under review")
    assert _list_status(client, award, "suspension") is True
    page = client.get(_path(award)).content.decode()
    assert "status-pill status-suspended" in page
    assert "Under review" in page
    unsuspend_award(actor=owner, award=award)
    assert _list_status(client, award, "suspension") is False
    assert "status-pill status-valid" in client.get(_path(award)).content.decode()
    assert ClientFetch(client).verifier().verify(award.credential).verdict == "valid"


def test_an_expired_award_says_so(client, owner, issuer) -> None:
    badge = make_badge(owner, issuer, expiry_policy=ExpiryPolicy.DURATION, expiry_days=1)
    award = issue_award(actor=owner, badge=badge, recipient="a@example.org",
                        issued_on=timezone.now() - timedelta(days=3))
    page = client.get(_path(award)).content.decode()
    assert "status-pill status-expired" in page
    report = ClientFetch(client).verifier().verify(award.credential)
    assert report.verdict == "invalid"
