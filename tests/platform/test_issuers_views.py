"""Issuer pages and public endpoints: content types, caching, CORS, and tenancy on every page."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from insignia.core.models import AuditEvent, Role
from insignia.issuers.identity import issuer_did, ob2_issuer_url, ob2_key_url
from insignia.issuers.models import Issuer, KeyAlgorithm
from insignia.issuers.services import create_issuer, rotate_keys, set_issuer_image
from tests.platform.test_issuers import HOSTILE_SVGS, LOOPBACK_BASE, SAFE_SVG, png_bytes


@pytest.fixture(autouse=True)
def _site(settings: Any, tmp_path: Any) -> None:
    settings.BASE_URL = LOOPBACK_BASE
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast users; nothing to protect


@pytest.fixture
def owner(member: Callable[..., Any]) -> Any:
    return member(Role.OWNER)


@pytest.fixture
def issuer(owner: Any) -> Issuer:
    return create_issuer(actor=owner, name="Acme Academy", url="https://acme.example", email="badges@acme.example",
                         description="We teach data stewardship.")


def login(client: Client, actor: Any) -> Client:
    client.force_login(actor.user)
    return client


def org_url(name: str, issuer: Issuer | None = None, org: Any = None) -> str:
    org_id = (org or issuer.organisation).public_id  # type: ignore[union-attr]
    with_issuer = issuer is not None and name not in ("list", "create")
    return reverse(f"issuers:{name}", args=[org_id, issuer.public_id] if with_issuer else [org_id])  # type: ignore[union-attr]


# == public endpoints =============================================================================================


def public_urls(issuer: Issuer) -> dict[str, str]:
    rsa = issuer.keys.get(algorithm=KeyAlgorithm.RSA, retired_at__isnull=True)
    return {
        "profile": f"/i/{issuer.public_id}",
        "did": f"/i/{issuer.public_id}/did.json",
        "ob2": f"/i/{issuer.public_id}/ob2",
        "key": f"/i/{issuer.public_id}/keys/{rsa.fragment}",
    }


@pytest.mark.parametrize(("name", "accept", "content_type"), [
    ("profile", "application/ld+json", "application/ld+json"),
    ("profile", "application/json", "application/json"),
    ("profile", "application/ld+json, application/json;q=0.9, text/plain;q=0.8", "application/ld+json"),
    ("did", "", "application/did+ld+json"),
    ("ob2", "", "application/ld+json"),
    ("key", "", "application/ld+json"),
])
def test_public_json_documents(client: Client, issuer: Issuer, name: str, accept: str, content_type: str) -> None:
    url = public_urls(issuer)[name]
    response = client.get(url, HTTP_ACCEPT=accept) if accept else client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Access-Control-Allow-Origin"] == "*"
    etag = response["ETag"]
    assert etag.startswith('"')  # strong: no W/ prefix
    document = json.loads(response.content)
    expected_id = {"profile": issuer_did(issuer), "did": issuer_did(issuer), "ob2": ob2_issuer_url(issuer),
                   "key": f"{LOOPBACK_BASE}{url}"}[name]
    assert document["id"] == expected_id

    again = client.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Access-Control-Allow-Origin"] == "*"
    assert client.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    assert client.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=f'"x", W/{etag}').status_code == 304


def test_etag_changes_when_the_document_does(client: Client, owner: Any, issuer: Issuer) -> None:
    url = public_urls(issuer)["did"]
    before = client.get(url)["ETag"]
    rotate_keys(actor=owner, issuer=issuer)
    response = client.get(url, HTTP_IF_NONE_MATCH=before)
    assert response.status_code == 200
    assert response["ETag"] != before
    assert len(json.loads(response.content)["verificationMethod"]) == 4


def test_profile_page_for_people(client: Client, issuer: Issuer) -> None:
    response = client.get(f"/i/{issuer.public_id}", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Accept" in response["Vary"]
    page = response.content.decode()
    assert "Acme Academy" in page
    assert "We teach data stewardship." in page
    assert 'href="https://acme.example"' in page
    assert "mailto:badges@acme.example" in page
    assert issuer_did(issuer) in page
    assert client.get(f"/i/{issuer.public_id}")["Content-Type"].startswith("text/html")  # no Accept: a page


def test_profile_page_lists_published_badges_only(client: Client, issuer: Issuer) -> None:
    from insignia.badges.models import BadgeClass, BadgeStatus

    BadgeClass.objects.create(organisation=issuer.organisation, issuer=issuer, name="Published Badge",
                              description="Shown.", status=BadgeStatus.PUBLISHED)
    BadgeClass.objects.create(organisation=issuer.organisation, issuer=issuer, name="Draft Badge",
                              description="Hidden.", status=BadgeStatus.DRAFT)
    page = client.get(f"/i/{issuer.public_id}").content.decode()
    assert "Published Badge" in page
    assert "Draft Badge" not in page


def test_public_image(client: Client, owner: Any, issuer: Issuer) -> None:
    assert client.get(f"/i/{issuer.public_id}/image").status_code == 404
    set_issuer_image(actor=owner, issuer=issuer, content=SAFE_SVG)
    response = client.get(f"/i/{issuer.public_id}/image")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert client.get(f"/i/{issuer.public_id}/image", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    set_issuer_image(actor=owner, issuer=issuer, content=png_bytes())
    response = client.get(f"/i/{issuer.public_id}/image")
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_retired_keys_stay_served(client: Client, owner: Any, issuer: Issuer) -> None:
    old = issuer.keys.get(algorithm=KeyAlgorithm.RSA)
    rotate_keys(actor=owner, issuer=issuer)
    response = client.get(f"/i/{issuer.public_id}/keys/{old.fragment}")
    assert response.status_code == 200
    assert json.loads(response.content)["id"] == ob2_key_url(old)
    assert ob2_key_url(old) in json.loads(client.get(f"/i/{issuer.public_id}/ob2").content)["publicKey"]


@pytest.mark.parametrize("path", [
    "/i/{unknown}", "/i/{unknown}/did.json", "/i/{unknown}/ob2", "/i/{unknown}/keys/rsa-1", "/i/{unknown}/image",
    "/i/{issuer}/keys/no-such-key", "/i/{issuer}/keys/{ed25519}",
])
def test_unknown_public_ids_are_404(client: Client, issuer: Issuer, path: str) -> None:
    ed25519 = issuer.keys.get(algorithm=KeyAlgorithm.ED25519).fragment
    url = path.format(unknown="0" * 32, issuer=issuer.public_id, ed25519=ed25519)
    assert client.get(url, HTTP_ACCEPT="application/ld+json").status_code == 404


def test_public_endpoints_are_read_only(client: Client, issuer: Issuer) -> None:
    for url in public_urls(issuer).values():
        assert client.post(url).status_code == 405
        assert client.head(url).status_code == 200


# == management pages: tenancy and roles ==========================================================================

READ_PAGES = ["list", "detail"]
WRITE_PAGES = ["create", "edit", "image_upload", "rotate"]


@pytest.mark.parametrize("name", READ_PAGES + WRITE_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, issuer: Issuer, name: str) -> None:
    response = client.get(org_url(name, issuer))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", READ_PAGES + WRITE_PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_members_of_another_organisation_get_404(client: Client, member: Callable[..., Any], issuer: Issuer,
                                                 name: str, method: str) -> None:
    stranger = member(Role.OWNER)
    login(client, stranger)
    # B's pages addressed under B's organisation id: A is not a member.
    assert getattr(client, method)(org_url(name, issuer)).status_code == 404
    # B's issuer addressed under A's own organisation id: not found either (read pages only answer GET).
    if name not in ("list", "create"):
        verb = "get" if name in READ_PAGES else method
        assert getattr(client, verb)(org_url(name, issuer, org=stranger.organisation)).status_code == 404
    issuer.refresh_from_db()
    assert issuer.keys.count() == 2
    assert not AuditEvent.objects.filter(organisation=issuer.organisation).exclude(verb="issuer.created").exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ISSUER])
@pytest.mark.parametrize("name", WRITE_PAGES)
@pytest.mark.parametrize("method", ["get", "post"])
def test_roles_without_manage_get_403_on_writes(client: Client, member: Callable[..., Any], issuer: Issuer,
                                                role: str, name: str, method: str) -> None:
    login(client, member(role, org=issuer.organisation))
    data = {"name": "Hijacked", "url": "https://x.example", "email": "x@x.example", "confirm": "on"}
    response = getattr(client, method)(org_url(name, issuer), data) if method == "post" else client.get(
        org_url(name, issuer))
    assert response.status_code == 403
    assert "does not allow this" in response.content.decode()
    issuer.refresh_from_db()
    assert issuer.name == "Acme Academy"
    assert Issuer.objects.count() == 1
    assert issuer.keys.count() == 2


@pytest.mark.parametrize("name", READ_PAGES)
def test_viewers_can_see(client: Client, member: Callable[..., Any], issuer: Issuer, name: str) -> None:
    login(client, member(Role.VIEWER, org=issuer.organisation))
    response = client.get(org_url(name, issuer))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Acme Academy" in page
    assert org_url("edit", issuer) not in page
    assert org_url("rotate", issuer) not in page


def test_unknown_issuer_in_own_organisation_is_404(client: Client, owner: Any, issuer: Issuer) -> None:
    login(client, owner)
    url = reverse("issuers:detail", args=[owner.organisation.public_id, "0" * 32])
    assert client.get(url).status_code == 404


# == management pages: what they do ===============================================================================


def test_list_shows_only_this_organisations_issuers(client: Client, owner: Any, member: Callable[..., Any],
                                                    issuer: Issuer) -> None:
    other = member(Role.OWNER)
    create_issuer(actor=other, name="Other Org Issuer", url="https://other.example", email="o@other.example")
    login(client, owner)
    page = client.get(org_url("list", org=owner.organisation)).content.decode()
    assert "Acme Academy" in page
    assert "Other Org Issuer" not in page


def test_empty_list_teaches(client: Client, owner: Any) -> None:
    login(client, owner)
    page = client.get(org_url("list", org=owner.organisation)).content.decode()
    assert "Create your first issuer" in page


def test_create_issuer_through_the_form(client: Client, owner: Any) -> None:
    login(client, owner)
    url = org_url("create", org=owner.organisation)
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "Beta School", "url": "https://beta.example", "email": "hi@beta.example",
                                 "description": "Hello."})
    issuer = Issuer.objects.get(name="Beta School")
    assert response.status_code == 302
    assert response["Location"] == org_url("detail", issuer)
    assert issuer.organisation == owner.organisation
    assert issuer.keys.count() == 2


def test_create_form_shows_errors_and_writes_nothing(client: Client, owner: Any) -> None:
    login(client, owner)
    response = client.post(org_url("create", org=owner.organisation),
                           {"name": "", "url": "not a url", "email": "nope"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-invalid="true"' in page
    assert "This field is required." in page
    assert not Issuer.objects.exists()


def test_edit_issuer(client: Client, owner: Any, issuer: Issuer) -> None:
    login(client, owner)
    page = client.get(org_url("edit", issuer)).content.decode()
    assert 'value="Acme Academy"' in page
    response = client.post(org_url("edit", issuer), {"name": "Acme Institute", "url": "https://acme.example/new",
                                                     "email": "badges@acme.example", "description": ""})
    assert response.status_code == 302
    issuer.refresh_from_db()
    assert (issuer.name, issuer.url, issuer.description) == ("Acme Institute", "https://acme.example/new", "")
    assert json.loads(client.get(f"/i/{issuer.public_id}", HTTP_ACCEPT="application/json").content)["name"] == (
        "Acme Institute")


def test_detail_shows_keys_table(client: Client, owner: Any, issuer: Issuer) -> None:
    rotate_keys(actor=owner, issuer=issuer)
    login(client, owner)
    page = client.get(org_url("detail", issuer)).content.decode()
    for key in issuer.keys.all():
        assert key.fragment in page
    assert page.count("Retired") >= 2
    assert issuer_did(issuer) in page


def test_rotate_needs_confirmation(client: Client, owner: Any, issuer: Issuer) -> None:
    login(client, owner)
    url = org_url("rotate", issuer)
    assert client.get(url).status_code == 200
    response = client.post(url, {})
    assert response.status_code == 200
    assert "Tick the box to confirm" in response.content.decode()
    assert issuer.keys.count() == 2
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    assert issuer.keys.count() == 4
    assert issuer.keys.filter(retired_at__isnull=True).count() == 2


def test_upload_png_image(client: Client, owner: Any, issuer: Issuer) -> None:
    login(client, owner)
    upload = SimpleUploadedFile("logo.png", png_bytes(), content_type="image/png")
    response = client.post(org_url("image_upload", issuer), {"image": upload})
    assert response.status_code == 302
    issuer.refresh_from_db()
    assert issuer.image.name.endswith(".png")
    profile = json.loads(client.get(f"/i/{issuer.public_id}", HTTP_ACCEPT="application/ld+json").content)
    assert profile["image"]["id"] == f"{LOOPBACK_BASE}/i/{issuer.public_id}/image"
    response = client.post(org_url("image_upload", issuer), {"remove": "1"})
    assert response.status_code == 302
    issuer.refresh_from_db()
    assert not issuer.image


@pytest.mark.parametrize("kind", sorted(HOSTILE_SVGS))
def test_hostile_svg_upload_is_refused(client: Client, owner: Any, issuer: Issuer, settings: Any, kind: str) -> None:
    login(client, owner)
    upload = SimpleUploadedFile("logo.svg", HOSTILE_SVGS[kind], content_type="image/svg+xml")
    response = client.post(org_url("image_upload", issuer), {"image": upload})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This SVG cannot be used" in page
    assert 'aria-invalid="true"' in page
    issuer.refresh_from_db()
    assert not issuer.image
    assert not AuditEvent.objects.filter(verb="issuer.image_set").exists()
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_oversized_upload_is_refused(client: Client, owner: Any, issuer: Issuer, settings: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 1000
    login(client, owner)
    upload = SimpleUploadedFile("logo.png", png_bytes() + b"\x00" * 2000, content_type="image/png")
    response = client.post(org_url("image_upload", issuer), {"image": upload})
    assert response.status_code == 200
    assert "the limit is 1,000 bytes" in response.content.decode()
    issuer.refresh_from_db()
    assert not issuer.image
