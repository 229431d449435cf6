"""Issuer services and the documents that publish an issuer's identity, checked by the kernel's Verifier.

The fetcher handed to the Verifier serves our own views through Django's test client, so a credential is
verified exactly against what the platform publishes (DID document, OB 2.0 Issuer and keys).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from PIL import Image

from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.models import AuditEvent, Role
from insignia.credentials import Verifier, credential_jwt, sign_credential, sign_ob2_assertion
from insignia.credentials.dids import Resolver, did_web_to_url
from insignia.credentials.errors import FetchError
from insignia.credentials.model.identity import make_identity_object
from insignia.credentials.model.ob3 import Achievement, AchievementSubject, Criteria, OpenBadgeCredential
from insignia.issuers import documents, queries
from insignia.issuers.identity import (
    active_signer,
    did_document_url,
    issuer_did,
    issuer_url,
    key_id,
    ob2_issuer_url,
    ob2_key_url,
)
from insignia.issuers.models import Issuer, KeyAlgorithm
from insignia.issuers.services import (
    create_issuer,
    remove_issuer_image,
    rotate_keys,
    set_issuer_image,
    update_issuer,
)

LOOPBACK_BASE = "http://127.0.0.1:8000"
PUBLIC_BASE = "https://badges.example.org"
ACCEPT = "application/ld+json, application/json;q=0.9"

SAFE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>'
HOSTILE_SVGS = {
    "script": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "event handler": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>',
    "external entity": (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'),
    "foreign object": (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/'
                       b'xhtml">x</div></foreignObject></svg>'),
    "remote image": (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                     b'<image xlink:href="https://evil.example/x.png"/></svg>'),
    "javascript link": (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                        b'<a xlink:href="javascript:alert(1)"><rect width="1" height="1"/></a></svg>'),
}


def png_bytes(size: tuple[int, int] = (8, 8), *, trailer: bytes = b"") -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (200, 30, 30, 255)).save(out, format="PNG")
    return out.getvalue() + trailer


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
    return create_issuer(actor=owner, name="Acme Academy", url="https://acme.example", email="Badges@Acme.example",
                         description="We teach data stewardship.")


def served_by(client: Client, base: str, extra: Mapping[str, Any] | None = None) -> Callable[[str], bytes]:
    """A fetch(url) -> bytes for the Verifier that answers from our views (and ``extra`` documents)."""
    import json

    def fetch(url: str) -> bytes:
        if extra and url in extra:
            return json.dumps(extra[url]).encode()
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != base:
            raise FetchError(f"{url} is not on this site.", code="http_404")
        response = client.get(parts.path, HTTP_ACCEPT=ACCEPT)
        if response.status_code != 200:
            raise FetchError(f"{url} answered HTTP {response.status_code}.", code=f"http_{response.status_code}")
        return response.content

    return fetch


def ob3_credential(issuer: Issuer, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    achievement = Achievement(
        id=f"{issuer_url(issuer)}/achievements/{uuid.uuid4().hex}", name="Data Stewardship",
        description="Curates, documents and protects research data.",
        criteria=Criteria(narrative="Pass the final assessment."),
    )
    return OpenBadgeCredential(
        id=f"urn:uuid:{uuid.uuid4()}", name="Data Stewardship", issuer=documents.ob3_profile(issuer),
        valid_from=now - timedelta(minutes=5),
        credential_subject=AchievementSubject(
            achievement=achievement, identifier=[make_identity_object("emailAddress", "ada@example.org")]),
    ).to_json()


# == services =====================================================================================================


def test_create_issuer_makes_keys_and_an_audit_event(owner: Any, issuer: Issuer) -> None:
    assert issuer.organisation == owner.organisation
    assert issuer.email == "badges@acme.example"
    keys = queries.issuer_keys(issuer)
    assert sorted(k.algorithm for k in keys) == sorted([KeyAlgorithm.ED25519, KeyAlgorithm.RSA])
    assert all(k.active for k in keys)
    event = AuditEvent.objects.get(organisation=owner.organisation, verb="issuer.created")
    assert event.object_id == issuer.public_id
    assert event.actor == owner.user


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ISSUER])
def test_roles_without_manage_cannot_create_update_or_rotate(member: Callable[..., Any], issuer: Issuer,
                                                              role: str) -> None:
    actor = member(role, org=issuer.organisation)
    with pytest.raises(PermissionDenied):
        create_issuer(actor=actor, name="X", url="https://x.example", email="x@x.example")
    with pytest.raises(PermissionDenied):
        update_issuer(actor=actor, issuer=issuer, name="X", url="https://x.example", email="x@x.example")
    with pytest.raises(PermissionDenied):
        rotate_keys(actor=actor, issuer=issuer)
    with pytest.raises(PermissionDenied):
        set_issuer_image(actor=actor, issuer=issuer, content=png_bytes())
    assert Issuer.objects.count() == 1
    assert issuer.keys.count() == 2
    assert not AuditEvent.objects.exclude(verb="issuer.created").exists()


def test_another_organisation_cannot_touch_the_issuer(member: Callable[..., Any], issuer: Issuer) -> None:
    stranger = member(Role.OWNER)
    with pytest.raises(NotFound):
        rotate_keys(actor=stranger, issuer=issuer)
    with pytest.raises(NotFound):
        update_issuer(actor=stranger, issuer=issuer, name="Mine", url="https://x.example", email="x@x.example")
    with pytest.raises(NotFound):
        set_issuer_image(actor=stranger, issuer=issuer, content=png_bytes())
    with pytest.raises(NotFound):
        queries.get_issuer(stranger, issuer.public_id)
    assert list(queries.issuers_for(stranger)) == []
    issuer.refresh_from_db()
    assert issuer.name == "Acme Academy"
    assert issuer.keys.count() == 2


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": "  "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"url": "ftp://acme.example"}, "url"),
    ({"url": "https://"}, "url"),
    ({"email": "not-an-address"}, "email"),
    ({"description": "x" * 5001}, "description"),
])
def test_invalid_fields_are_refused_with_the_field_named(owner: Any, issuer: Issuer, fields: dict[str, str],
                                                         field: str) -> None:
    values = {"name": "Acme", "url": "https://acme.example", "email": "a@acme.example"} | fields
    with pytest.raises(ServiceError) as caught:
        create_issuer(actor=owner, **values)
    assert caught.value.field == field
    with pytest.raises(ServiceError):
        update_issuer(actor=owner, issuer=issuer, **values)
    issuer.refresh_from_db()
    assert issuer.name == "Acme Academy"
    assert Issuer.objects.count() == 1


def test_update_issuer_records_what_changed(owner: Any, issuer: Issuer) -> None:
    update_issuer(actor=owner, issuer=issuer, name="Acme Institute", url="https://acme.example",
                  email="badges@acme.example", description="We teach data stewardship.")
    issuer.refresh_from_db()
    assert issuer.name == "Acme Institute"
    event = AuditEvent.objects.get(verb="issuer.updated")
    assert event.data == {"fields": ["name"]}
    update_issuer(actor=owner, issuer=issuer, name="Acme Institute", url="https://acme.example",
                  email="badges@acme.example", description="We teach data stewardship.")
    assert AuditEvent.objects.filter(verb="issuer.updated").count() == 1  # nothing changed, nothing recorded


def test_rotate_keys_retires_the_old_keys_and_audits(owner: Any, issuer: Issuer) -> None:
    old = {k.fragment for k in issuer.keys.all()}
    new = rotate_keys(actor=owner, issuer=issuer)
    assert len(new) == 2
    assert {k.fragment for k in issuer.keys.filter(retired_at__isnull=True)} == {k.fragment for k in new}
    assert {k.fragment for k in issuer.keys.filter(retired_at__isnull=False)} == old
    assert AuditEvent.objects.get(verb="issuer.keys_rotated").data == {"keys": [k.fragment for k in new]}
    assert active_signer(issuer).key_id == key_id(next(k for k in new if k.algorithm == KeyAlgorithm.ED25519))


def test_png_image_is_reencoded(owner: Any, issuer: Issuer) -> None:
    set_issuer_image(actor=owner, issuer=issuer, content=png_bytes(trailer=b"<script>hidden</script>"))
    issuer.refresh_from_db()
    assert issuer.image.name.endswith(".png")
    stored = issuer.image.read()
    assert stored.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"hidden" not in stored
    assert AuditEvent.objects.filter(verb="issuer.image_set").count() == 1


def test_replacing_and_removing_the_image_deletes_old_files(owner: Any, issuer: Issuer, settings: Any,
                                                            django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        set_issuer_image(actor=owner, issuer=issuer, content=png_bytes())
    first = issuer.image.name
    with django_capture_on_commit_callbacks(execute=True):
        set_issuer_image(actor=owner, issuer=issuer, content=SAFE_SVG)
    assert issuer.image.name.endswith(".svg")
    assert not issuer.image.storage.exists(first)
    second = issuer.image.name
    with django_capture_on_commit_callbacks(execute=True):
        remove_issuer_image(actor=owner, issuer=issuer)
    issuer.refresh_from_db()
    assert not issuer.image
    assert not issuer.image.storage.exists(second)


@pytest.mark.parametrize("kind", sorted(HOSTILE_SVGS))
def test_hostile_svg_is_refused_and_nothing_changes(owner: Any, issuer: Issuer, settings: Any, kind: str) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as caught:
        set_issuer_image(actor=owner, issuer=issuer, content=HOSTILE_SVGS[kind])
    assert caught.value.field == "image"
    assert "SVG" in caught.value.message
    issuer.refresh_from_db()
    assert not issuer.image
    assert AuditEvent.objects.count() == events
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


@pytest.mark.parametrize(("content", "code"), [
    (b"", "image_empty"),
    (b"GIF89a....", "image_unsupported"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image_invalid"),
])
def test_unusable_images_are_refused(owner: Any, issuer: Issuer, content: bytes, code: str) -> None:
    with pytest.raises(ServiceError) as caught:
        set_issuer_image(actor=owner, issuer=issuer, content=content)
    assert caught.value.code == code
    issuer.refresh_from_db()
    assert not issuer.image


def test_oversized_image_is_refused(owner: Any, issuer: Issuer, settings: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 100
    with pytest.raises(ServiceError) as caught:
        set_issuer_image(actor=owner, issuer=issuer, content=png_bytes((64, 64)) + b"\x00" * 200)
    assert caught.value.code == "image_too_large"
    assert "limit is 100 bytes" in caught.value.message
    issuer.refresh_from_db()
    assert not issuer.image


def test_huge_dimensions_are_refused_before_decoding(owner: Any, issuer: Issuer) -> None:
    with pytest.raises(ServiceError) as caught:
        set_issuer_image(actor=owner, issuer=issuer, content=png_bytes((5000, 1)))
    assert caught.value.code == "image_too_large"


# == documents ====================================================================================================


def test_did_document_lists_every_key_including_retired(owner: Any, issuer: Issuer) -> None:
    before = {k.fragment for k in issuer.keys.all()}
    rotate_keys(actor=owner, issuer=issuer)
    document = documents.did_document(issuer)
    did = issuer_did(issuer)
    assert document["id"] == did == "did:web:127.0.0.1%3A8000:i:" + issuer.public_id
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert set(methods) == {f"{did}#{k.fragment}" for k in issuer.keys.all()}
    assert before < {m.split("#")[1] for m in methods}
    for key in issuer.keys.all():
        method = methods[key_id(key)]
        assert method["controller"] == did
        if key.algorithm == KeyAlgorithm.ED25519:
            assert method["type"] == "Multikey"
            assert method["publicKeyMultibase"] == key.public_multibase
        else:
            assert method["type"] == "JsonWebKey"
            assert method["publicKeyJwk"]["kty"] == "RSA"
    assert set(document["assertionMethod"]) == set(methods)
    assert set(document["authentication"]) == set(methods)
    assert did_web_to_url(did, allow_http_loopback=True) == did_document_url(issuer)


def test_documents_resolve_through_the_kernel_resolver(issuer: Issuer) -> None:
    did = issuer_did(issuer)
    resolver = Resolver(documents={did: documents.did_document(issuer)})
    for key in issuer.keys.all():
        method = resolver.dereference_method(key_id(key))
        assert method.authorized_for("assertionMethod")
        assert method.controller == did
        assert method.public_key == documents.public_key(key)


def test_profile_and_ob2_documents(owner: Any, issuer: Issuer) -> None:
    set_issuer_image(actor=owner, issuer=issuer, content=SAFE_SVG)
    profile = documents.profile_document(issuer)
    assert profile["id"] == issuer_did(issuer)
    assert profile["type"] == ["Profile"]
    assert "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json" in profile["@context"] or any(
        "ob/v3p0" in c for c in profile["@context"])
    assert profile["name"] == "Acme Academy"
    assert profile["url"] == "https://acme.example"
    assert profile["email"] == "badges@acme.example"
    assert profile["description"] == "We teach data stewardship."
    assert profile["image"] == {"id": f"{issuer_url(issuer)}/image", "type": "Image"}

    rotate_keys(actor=owner, issuer=issuer)
    ob2 = documents.ob2_issuer_document(issuer)
    rsa = list(issuer.keys.filter(algorithm=KeyAlgorithm.RSA).order_by("created_at", "id"))
    assert ob2["@context"] == "https://w3id.org/openbadges/v2"
    assert ob2["type"] == "Issuer"
    assert ob2["id"] == ob2_issuer_url(issuer)
    assert ob2["publicKey"] == [ob2_key_url(k) for k in rsa]
    assert ob2["revocationList"] == f"{issuer_url(issuer)}/ob2/revocations"
    assert ob2["image"] == f"{issuer_url(issuer)}/image"
    key = documents.ob2_key_document(rsa[0])
    assert key == {"@context": "https://w3id.org/openbadges/v2", "id": ob2_key_url(rsa[0]),
                   "type": "CryptographicKey", "owner": ob2_issuer_url(issuer), "publicKeyPem": rsa[0].public_pem}


@pytest.mark.parametrize("base", [LOOPBACK_BASE, PUBLIC_BASE])
def test_credential_signed_before_rotation_verifies_after_it(owner: Any, issuer: Issuer, client: Client,
                                                            settings: Any, base: str) -> None:
    settings.BASE_URL = base
    credential = ob3_credential(issuer)
    signed_before = sign_credential(credential, active_signer(issuer))
    jwt_before = credential_jwt(credential, active_signer(issuer, KeyAlgorithm.RSA),
                                kid=active_signer(issuer, KeyAlgorithm.RSA).key_id)
    rotate_keys(actor=owner, issuer=issuer)
    signed_after = sign_credential(ob3_credential(issuer), active_signer(issuer))
    assert signed_after["proof"]["verificationMethod"] != signed_before["proof"]["verificationMethod"]

    verifier = Verifier(fetch=served_by(client, base), allow_http_loopback=base == LOOPBACK_BASE)
    for document in (signed_before, jwt_before, signed_after):
        report = verifier.verify(document)
        assert report.verdict == "valid", "\n".join(f"{c.id} {c.status} {c.code} {c.message}" for c in report.checks)
        assert report.get("issuer_key").code == "issuer_key_bound"


def test_loopback_did_needs_the_verifier_to_allow_it(issuer: Issuer, client: Client) -> None:
    signed = sign_credential(ob3_credential(issuer), active_signer(issuer))
    report = Verifier(fetch=served_by(client, LOOPBACK_BASE)).verify(signed)
    assert report.verdict != "valid"


def test_tampered_credential_fails_against_the_served_keys(issuer: Issuer, client: Client) -> None:
    signed = sign_credential(ob3_credential(issuer), active_signer(issuer))
    signed["name"] = "Something else"
    report = Verifier(fetch=served_by(client, LOOPBACK_BASE), allow_http_loopback=True).verify(signed)
    assert report.verdict == "invalid"


def test_ob2_signed_assertion_verifies_with_a_retired_key(owner: Any, issuer: Issuer, client: Client) -> None:
    badge_url = f"{issuer_url(issuer)}/test-badge"
    badge = {"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "id": badge_url,
             "name": "Data Stewardship", "description": "Curates research data.",
             "image": f"{issuer_url(issuer)}/image", "criteria": {"narrative": "Pass."},
             "issuer": ob2_issuer_url(issuer)}
    old_key = issuer.keys.get(algorithm=KeyAlgorithm.RSA)
    assertion = {
        "@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
        "id": f"urn:uuid:{uuid.uuid4()}", "badge": badge_url,
        "recipient": {"type": "email", "hashed": False, "identity": "ada@example.org"},
        "issuedOn": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "verification": {"type": "SignedBadge", "creator": ob2_key_url(old_key)},
    }
    token = sign_ob2_assertion(assertion, active_signer(issuer, KeyAlgorithm.RSA))
    rotate_keys(actor=owner, issuer=issuer)
    verifier = Verifier(fetch=served_by(client, LOOPBACK_BASE, {badge_url: badge}), allow_http_loopback=True)
    report = verifier.verify(token)
    checks = {c.id: (c.status, c.code) for c in report.checks}
    assert checks["proof"] == ("passed", "signature_valid"), report.checks
    assert checks["issuer_key"] == ("passed", "issuer_key_bound"), report.checks
