"""Leaving: "Export everything" (a zip whose every credential verifies with the kernel) and "Delete my account"
(the issuer's records keep the credentials verifiable; the earner's personal data is gone)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from insignia.accounts.models import User
from insignia.awards.models import AcceptanceState, Award, Visibility
from insignia.backpack import services
from insignia.backpack.models import Collection, EarnerIdentity, EarnerProfile, ImportedBadge
from insignia.core.errors import Conflict, PermissionDenied
from insignia.core.models import AuditEvent, Membership, Role
from tests.platform.backpack_support import PASSWORD, client_for
from tests.platform.test_awards_support import ClientFetch, make_badge, make_issuer

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.platform.backpack_support"]

IMPORTED_DOC = ('{"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:42", '
                '"type": ["VerifiableCredential"]}')


@pytest.fixture
def ada_everything(award_to, earner, issuer_actor):
    """Ada with two accepted awards (PNG and SVG badges), a pending one, an import, a collection and a DID."""
    ada = earner("ada@example.org")
    svg_badge = make_badge(issuer_actor, make_issuer(issuer_actor, name="Beta Institute"), name="Cloud Security",
                           image="svg")
    png_award, svg_award, pending = (award_to("ada@example.org"), award_to("ada@example.org", badge=svg_badge),
                                     award_to("ada@example.org"))
    for award in (png_award, svg_award):
        services.accept_award(user=ada, award=award)
    services.set_award_visibility(user=ada, award=png_award, visibility=Visibility.PUBLIC, show_recipient_name=True)
    imported = ImportedBadge.objects.create(
        user=ada, origin="json", format="ob3", document=IMPORTED_DOC, fingerprint="fp", verdict="valid",
        summary={"name": "Rust Basics"}, report={"verdict": "valid"}, verified_at=timezone.now())
    shelf = services.create_collection(user=ada, name="Shelf", visibility=Visibility.PUBLIC)
    services.add_to_collection(user=ada, collection=shelf, award=png_award)
    services.add_to_collection(user=ada, collection=shelf, imported=imported)
    services.update_profile(user=ada, display_name="Ada L.", headline="Analyst", portfolio_enabled=True)
    EarnerIdentity.objects.create(user=ada, kind="did", verified_at=timezone.now(),
                                  value="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    return ada, png_award, svg_award, pending, imported


def test_export_everything_zip(ada_everything) -> None:
    ada, png_award, svg_award, pending, imported = ada_everything
    response = client_for(ada).get("/wallet/export.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="insignia-wallet.zip"'
    assert response["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    index = json.loads(archive.read("index.json"))

    assert {entry["id"] for entry in index["awards"]} == {png_award.public_id, svg_award.public_id,
                                                          pending.public_id}
    png_entry = next(e for e in index["awards"] if e["id"] == png_award.public_id)
    for name in ("credential.json", "credential.jwt", "assertion.json", "assertion.jws", "badge.png",
                 "badge-ob2.png"):
        assert png_entry["files"][name] in names
    assert "badge.svg" in png_entry["not_included"]  # this badge has no SVG image: said, not silently missing
    svg_entry = next(e for e in index["awards"] if e["id"] == svg_award.public_id)
    assert {"badge.svg", "badge-ob2.svg", "badge.png"} <= set(svg_entry["files"])

    stored = json.loads(archive.read(png_entry["files"]["credential.json"]))
    assert stored == Award.objects.get(pk=png_award.pk).credential  # exactly as signed
    verifier = ClientFetch().verifier()
    for name in ("credential.json", "credential.jwt", "badge.png"):
        report = verifier.verify(archive.read(png_entry["files"][name]), recipient="ada@example.org")
        assert report.verdict == "valid", (name, report.to_json())
    report = verifier.verify(archive.read(svg_entry["files"]["badge.svg"]), recipient="ada@example.org")
    assert report.verdict == "valid", report.to_json()

    (imported_entry,) = index["imported"]
    assert imported_entry["id"] == imported.public_id
    assert archive.read(imported_entry["files"]["document"]).decode() == IMPORTED_DOC
    assert index["collections"] == [{"name": "Shelf", "description": "", "visibility": "public",
                                     "badges": [{"kind": "award", "id": png_award.public_id},
                                                {"kind": "imported", "id": imported.public_id}]}]


def test_export_holds_only_your_own_badges(ada_everything, earner) -> None:
    eve = earner("eve@example.org")
    archive = zipfile.ZipFile(io.BytesIO(client_for(eve).get("/wallet/export.zip").content))
    index = json.loads(archive.read("index.json"))
    assert index["awards"] == []
    assert index["imported"] == []
    assert archive.namelist() == ["index.json"]
    assert Client().get("/wallet/export.zip").status_code == 302  # sign-in first


def test_delete_account_keeps_credentials_verifiable_and_removes_personal_data(ada_everything) -> None:
    ada, png_award, svg_award, pending, _imported = ada_everything
    browser = Client()
    assert browser.login(email="ada@example.org", password=PASSWORD)
    second = Client()
    assert second.login(email="ada@example.org", password=PASSWORD)
    SocialAccount.objects.create(user=ada, provider="openid_connect", uid="ada-at-idp")
    profile_id = EarnerProfile.objects.get(user=ada).public_id
    assert Client().get(f"/p/{profile_id}").status_code == 200

    response = browser.post("/wallet/leave", {"password": "not my password"})
    assert response.status_code == 400
    assert "That is not your password" in response.content.decode()
    assert User.objects.filter(pk=ada.pk).exists()

    response = browser.post("/wallet/leave", {"password": PASSWORD})
    assert response.status_code == 200
    assert "Your account is deleted" in response.content.decode()

    assert not User.objects.filter(email="ada@example.org").exists()
    for model in (EmailAddress, SocialAccount, EarnerIdentity, ImportedBadge, Collection, EarnerProfile):
        assert not model.objects.exists(), model
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(ada.pk)]
    assert second.get("/wallet/").status_code == 302  # the other session is gone too

    for award in (png_award, svg_award, pending):
        award.refresh_from_db()
        assert award.earner is None
        assert award.show_recipient_name is False
        assert award.visibility == Visibility.UNLISTED
    assert png_award.acceptance == AcceptanceState.ACCEPTED  # the issuer's record of what happened stays
    assert Client().get(f"/p/{profile_id}").status_code == 404
    report = ClientFetch().verifier().verify(json.dumps(png_award.credential).encode(), recipient="ada@example.org")
    assert report.verdict == "valid", report.to_json()
    assert not AuditEvent.objects.filter(actor_label__icontains="ada@").exists()


def test_delete_is_refused_for_the_only_owner_of_an_organisation(ada_everything, make_org) -> None:
    ada = ada_everything[0]
    Membership.objects.create(organisation=make_org("Ada's Lab"), user=ada, role=Role.OWNER)
    with pytest.raises(Conflict) as refused:
        services.delete_account(user=ada, password=PASSWORD)
    assert "only owner of Ada's Lab" in refused.value.message
    assert User.objects.filter(pk=ada.pk).exists()


def test_accounts_without_a_password_confirm_with_their_email(earner) -> None:
    sso = earner("sso@example.org")
    sso.set_unusable_password()
    sso.save()
    form_page = client_for(sso).get("/wallet/leave").content.decode()
    assert "Type your email address to confirm" in form_page
    assert 'type="password"' not in form_page
    with pytest.raises(PermissionDenied):
        services.delete_account(user=sso, confirm_email="someone@example.org")
    services.delete_account(user=sso, confirm_email=" SSO@example.org ")
    assert not User.objects.filter(pk=sso.pk).exists()
