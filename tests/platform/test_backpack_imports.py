"""Importing badges earned elsewhere: verified by the kernel on import and again on demand.

The outside internet is replaced by the kernel tests' ``Network`` (URL -> document) through the
verifier's one outbound fetcher; everything on this instance is answered in-process by the real
``instance_fetch``, so platform credentials are checked exactly as served.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from insignia.awards import credentials as documents
from insignia.awards.services import issue_award, revoke_award
from insignia.backpack import imports
from insignia.backpack.imports import AlreadyImported, ImportRefused, import_credential, reverify_import
from insignia.backpack.models import EarnerIdentity, ImportedBadge
from insignia.core.models import Role
from insignia.verification import services as verification
from tests.conftest import spec_json
from tests.credentials.world import NOW, Network
from tests.credentials.world import Issuer as ForeignIssuer
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db

VECTOR = ("test-vectors", "ob_v3p0-eddsa-rdfc-2022")
VECTOR_RECIPIENT = "did:example:ebfeb1f712ebc6f1c276e12ec21"


@pytest.fixture
def internet(monkeypatch: pytest.MonkeyPatch) -> Network:
    """The world outside this instance (URL -> document), behind the verifier's one outbound fetcher."""
    world = Network()
    monkeypatch.setattr(verification, "_http_fetcher", world)
    return world


def vector_issuer_document() -> tuple[str, dict[str, Any]]:
    """The 1EdTech vector's issuer and key, published as its issuer would at https://example.edu/issuers/565049."""
    pair = spec_json(*VECTOR, "vector.json")["keyPair"]
    return pair["controller"], {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": pair["controller"],
        "assertionMethod": [{"id": pair["verificationMethod"], "type": "Multikey", "controller": pair["controller"],
                             "publicKeyMultibase": pair["publicKeyMultibase"]}],
    }


@pytest.fixture
def earner(make_user):
    """A user whose email ada@example.org is verified."""
    user = make_user("ada@example.org")
    EmailAddress.objects.create(user=user, email="ada@example.org", verified=True, primary=True)
    return user


@pytest.fixture
def platform(member):
    """An organisation with an issuer and a published badge (PNG image) on this instance."""
    owner = member(Role.OWNER)
    issuer = make_issuer(owner)
    return owner, make_badge(owner, issuer), make_badge(owner, issuer, name="Vector Art", image="svg")


def award_for(platform: Any, recipient: str = "ada@example.org", *, svg: bool = False, **extra: Any):
    owner, png_badge, svg_badge = platform
    return issue_award(actor=owner, badge=svg_badge if svg else png_badge, recipient=recipient, **extra)


def check_of(imported_or_report: Any, check_id: str) -> dict[str, Any]:
    report = imported_or_report.report if hasattr(imported_or_report, "report") else imported_or_report
    return next(c for c in report["checks"] if c["id"] == check_id)


def refused(**kwargs: Any) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        import_credential(**kwargs)
    return caught.value


# == accepted ====================================================================================================


def test_platform_credential_json_is_imported_with_summary_and_report(internet, platform, earner) -> None:
    award = award_for(platform)
    text = json.dumps(award.credential)
    imported = import_credential(user=earner, text=text)
    assert imported.verdict == "valid"
    assert imported.origin == "json"
    assert imported.format == "ob3"
    assert imported.document == text
    assert imported.credential_id == award.credential_id
    assert imported.summary["name"] == "Data Stewardship"
    assert imported.summary["issuer_name"] == "Acme Academy"
    recipient = check_of(imported, "recipient")
    assert recipient["status"] == "passed"
    assert "ada@example.org" not in json.dumps(imported.report)  # the identity is never written out
    assert {c["id"]: c["status"] for c in imported.report["checks"]}["proof"] == "passed"
    assert internet.requests == []  # everything was answered in-process


def test_platform_vc_jwt_is_imported(internet, platform, earner) -> None:
    award = award_for(platform)
    imported = import_credential(user=earner, text=documents.jwt_for(award))
    assert (imported.verdict, imported.origin, imported.format) == ("valid", "jwt", "vc-jwt")
    assert imported.document == award.jwt


def test_platform_baked_png_is_imported_with_a_reencoded_image(internet, platform, earner) -> None:
    award = award_for(platform)
    baked = documents.baked(award, "png", "ob3")
    imported = import_credential(user=earner, file_bytes=baked, filename="badge.png")
    assert (imported.verdict, imported.origin, imported.format) == ("valid", "file", "ob3")
    assert json.loads(imported.document) == award.credential
    image = imported.summary["image"]
    assert image.startswith("data:image/png;base64,")
    png = base64.b64decode(image.split(",", 1)[1])
    with Image.open(io.BytesIO(png)) as decoded:
        assert decoded.size == (imports.THUMBNAIL_SIZE, imports.THUMBNAIL_SIZE)
        assert "openbadgecredential" not in {key.lower() for key in decoded.info}  # the credential is not carried


def test_platform_baked_svg_is_imported(internet, platform, earner) -> None:
    award = award_for(platform, svg=True)
    baked = documents.baked(award, "svg", "ob3")
    imported = import_credential(user=earner, file_bytes=baked, filename="badge.svg")
    assert (imported.verdict, imported.format) == ("valid", "ob3")
    assert imported.summary["image"].startswith("data:image/png;base64,")


def test_platform_ob2_hosted_assertion_url_is_imported(internet, platform, earner) -> None:
    award = award_for(platform)
    url = documents.assertion_url(award.public_id)
    imported = import_credential(user=earner, url=url)
    assert (imported.verdict, imported.origin, imported.format) == ("valid", "url", "ob2")
    assert imported.source_url == url
    assert imported.credential_id == url
    assert json.loads(imported.document)["id"] == url


def test_platform_ob3_credential_url_is_imported(internet, platform, earner) -> None:
    award = award_for(platform)
    imported = import_credential(user=earner, url=f"{award.credential_id}/credential.json")
    assert (imported.verdict, imported.format) == ("valid", "ob3")


def test_official_signed_vector_is_imported_for_the_holder_of_its_did(internet, make_user) -> None:
    controller, document = vector_issuer_document()
    internet.put_json(controller, document)
    user = make_user("holder@example.org")
    EarnerIdentity.objects.create(user=user, kind="did", value=VECTOR_RECIPIENT, verified_at=timezone.now())
    signed = json.dumps(spec_json(*VECTOR, "credential.signed.json"))
    imported = import_credential(user=user, text=signed)
    assert imported.verdict == "valid"
    assert imported.summary["name"] == "Teamwork Badge"
    assert check_of(imported, "issuer_key")["status"] == "passed"


@pytest.mark.parametrize("name", ["basicOpenBadgeCredential.json", "achievementAlignmentCase.json",
                                  "skillAssertionCtdl.json"])
def test_unsigned_spec_examples_are_refused_naming_the_signature(internet, earner, name: str) -> None:
    text = json.dumps(spec_json("examples", "ob_v3p0", name))
    error = refused(user=earner, text=text)
    assert (error.check, error.code) == ("proof", "proof_missing")
    assert "not signed" in error.message
    assert not ImportedBadge.objects.exists()


def test_status_that_cannot_be_fetched_is_accepted_as_unconfirmed(internet, make_user) -> None:
    """Signature, key and dates verified; only the status list is unreachable: kept, marked unconfirmed."""
    issuer = ForeignIssuer(internet)
    user = make_user("grace@example.org")
    EmailAddress.objects.create(user=user, email="grace@example.org", verified=True)
    credential = issuer.sign(issuer.credential(recipient="grace@example.org"))
    assert import_credential(user=user, text=json.dumps(credential), now=NOW).verdict == "valid"
    ImportedBadge.objects.all().delete()
    del internet.pages[issuer.list_url("revocation")]
    imported = import_credential(user=user, text=json.dumps(credential), now=NOW)
    assert imported.verdict == "indeterminate"
    assert check_of(imported, "status")["status"] == "not_checked"
    assert imports.display_state(imported) == "unconfirmed"


def test_unresolvable_issuer_key_is_refused(internet, make_user) -> None:
    issuer = ForeignIssuer(internet)
    user = make_user("grace@example.org")
    EmailAddress.objects.create(user=user, email="grace@example.org", verified=True)
    credential = issuer.sign(issuer.credential(recipient="grace@example.org"))
    internet.pages.clear()
    error = refused(user=user, text=json.dumps(credential), now=NOW)
    assert error.check == "proof"
    assert error.message.startswith("Insignia could not check the badge's signature")


def test_revoked_foreign_credential_is_refused(internet, make_user) -> None:
    issuer = ForeignIssuer(internet)
    user = make_user("grace@example.org")
    EmailAddress.objects.create(user=user, email="grace@example.org", verified=True)
    credential = issuer.sign(issuer.credential(recipient="grace@example.org", index=7))
    issuer.set_status("revocation", 7, True)
    assert refused(user=user, text=json.dumps(credential), now=NOW).code == "revoked"


# == refused =====================================================================================================


def test_tampered_credential_is_refused_naming_the_signature(internet, platform, earner) -> None:
    tampered = copy.deepcopy(award_for(platform).credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    error = refused(user=earner, text=json.dumps(tampered))
    assert error.check == "proof"
    assert error.message.startswith("The signature does not match")


def test_tampered_jwt_is_refused(internet, platform, earner) -> None:
    token = documents.jwt_for(award_for(platform))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["name"] = "Forged"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    error = refused(user=earner, text=f"{header}.{forged}.{signature}")
    assert error.check == "proof"


def test_expired_credential_is_refused(internet, platform, earner) -> None:
    owner, badge, _ = platform
    badge.expiry_policy, badge.expiry_days = "duration", 10
    badge.save()
    award = issue_award(actor=owner, badge=badge, recipient="ada@example.org")
    assert award.expires_on is not None
    error = refused(user=earner, text=json.dumps(award.credential), now=award.expires_on + timedelta(days=1))
    assert (error.check, error.code) == ("validity", "expired")
    assert error.message.startswith("The badge has expired.")


def test_revoked_credential_is_refused(internet, platform, earner) -> None:
    owner, _, _ = platform
    award = award_for(platform)
    revoke_award(actor=owner, award=award, reason="Issued by mistake")
    error = refused(user=earner, text=json.dumps(award.credential))
    assert (error.check, error.code) == ("status", "revoked")
    assert error.message.startswith("The issuer has revoked this badge.")
    hosted = refused(user=earner, url=documents.assertion_url(award.public_id))
    assert (hosted.check, hosted.code) == ("status", "revoked")


def test_wrong_recipient_is_refused_saying_which_identity_to_add(internet, platform, earner) -> None:
    award = award_for(platform, recipient="someone.else@example.org")
    error = refused(user=earner, text=json.dumps(award.credential))
    assert (error.check, error.code) == ("recipient", "recipient_mismatch")
    assert "email address" in error.message
    assert "someone.else" not in error.message


def test_unverified_identity_does_not_count(internet, platform, earner) -> None:
    award = award_for(platform, recipient="https://ada.example/me", recipient_kind="url")
    EarnerIdentity.objects.create(user=earner, kind="url", value="https://ada.example/me")  # not verified
    error = refused(user=earner, text=json.dumps(award.credential))
    assert error.code == "recipient_mismatch"
    assert "web address" in error.message
    EarnerIdentity.objects.filter(user=earner).update(verified_at=timezone.now())
    assert import_credential(user=earner, text=json.dumps(award.credential)).verdict == "valid"


@pytest.mark.parametrize(("text", "code"), [
    ("{not json", "json_invalid"),
    ("[" * 5000 + "]" * 5000, "json_too_deep"),
    ("hello world", "not_a_credential"),
    ('{"@context": "https://www.w3.org/ns/credentials/v2", "type": ["VerifiableCredential"]}', None),
])
def test_malformed_input_is_refused(internet, earner, text: str, code: str | None) -> None:
    error = refused(user=earner, text=text)
    assert error.check in ("format", "schema")
    if code:
        assert error.code == code


def test_huge_input_is_refused_before_verifying(internet, earner, settings) -> None:
    settings.MAX_UPLOAD_BYTES = 10_000
    error = refused(user=earner, text='{"name": "' + "x" * 20_000 + '"}')
    assert error.code == "input_too_large"
    assert refused(user=earner, file_bytes=b"\x89PNG" + b"0" * 20_000).code == "input_too_large"


def test_duplicate_import_is_refused_across_forms(internet, platform, earner) -> None:
    award = award_for(platform)
    first = import_credential(user=earner, text=json.dumps(award.credential))
    with pytest.raises(AlreadyImported) as again:
        import_credential(user=earner, text=json.dumps(award.credential))
    assert again.value.existing == first
    with pytest.raises(AlreadyImported):  # the same credential baked in a PNG
        import_credential(user=earner, file_bytes=documents.baked(award, "png", "ob3"))
    assert ImportedBadge.objects.count() == 1


@pytest.mark.parametrize("name", ["bomb.svg", "script.svg", "corrupt.png", "deep.json"])
def test_hostile_files_are_refused(internet, earner, name: str) -> None:
    error = refused(user=earner, file_bytes=HOSTILE[name], filename=name)
    assert error.check == "format"
    assert error.message


# == verifying again =============================================================================================


def test_reverify_flips_to_revoked_after_the_issuer_revokes(internet, platform, earner) -> None:
    owner, _, _ = platform
    award = award_for(platform)
    imported = import_credential(user=earner, text=json.dumps(award.credential))
    hosted = import_credential(user=earner, url=documents.assertion_url(award.public_id))
    assert imported.verdict == hosted.verdict == "valid"
    revoke_award(actor=owner, award=award, reason="Issued by mistake")
    later = timezone.now() + timedelta(minutes=1)
    for item in (imported, hosted):
        item = reverify_import(user=earner, imported=item, now=later)
        item.refresh_from_db()
        assert item.verdict == "invalid"
        assert check_of(item, "status")["code"] == "revoked"
        assert imports.display_state(item) == "revoked"
        assert item.verified_at == later


def test_reverify_and_remove_are_the_owners_only(internet, platform, earner, make_user) -> None:
    imported = import_credential(user=earner, text=json.dumps(award_for(platform).credential))
    other = make_user("eve@example.org")
    with pytest.raises(imports.NotFound):
        reverify_import(user=other, imported=imported)
    with pytest.raises(imports.NotFound):
        imports.remove_import(user=other, imported=imported)
    with pytest.raises(imports.NotFound):
        imports.get_import(user=other, public_id=imported.public_id)
    imports.remove_import(user=earner, imported=imported)
    assert not ImportedBadge.objects.exists()


HOSTILE = {
    "bomb.svg": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;'
                 b'&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;">]><svg xmlns="http://www.w3.org/2000/svg">'
                 b'<text>&lol3;</text></svg>'),
    "script.svg": (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
                   b'<script>alert(document.cookie)</script><openbadges:credential><![CDATA[{"id": "x"}]]>'
                   b'</openbadges:credential></svg>'),
    "corrupt.png": b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 64,
    "deep.json": b"[" * 100_000 + b"]" * 100_000,
}


# == pages =======================================================================================================


@pytest.fixture
def browser(earner) -> Client:
    client = Client()
    client.force_login(earner)
    return client


def test_import_page_offers_three_ways(browser) -> None:
    for via, needle in (("url", 'name="url"'), ("file", 'type="file"'), ("paste", "<textarea")):
        page = browser.get(f"/wallet/import?via={via}")
        assert page.status_code == 200
        assert needle in page.content.decode()
        assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "data-drop-zone" in browser.get("/wallet/import?via=file").content.decode()


def test_import_by_upload_then_manage_it(internet, platform, browser, earner) -> None:
    award = award_for(platform)
    upload = SimpleUploadedFile("badge.png", documents.baked(award, "png", "ob3"), content_type="image/png")
    response = browser.post("/wallet/import", {"via": "file", "file": upload})
    imported = ImportedBadge.objects.get(user=earner)
    assert response.status_code == 302
    assert response["Location"] == f"/wallet/imported/{imported.public_id}"
    page = browser.get(response["Location"]).content.decode()
    assert "Data Stewardship" in page
    assert "Verify again" in page
    assert 'src="data:image/png;base64,' in page
    assert "Signature" in page
    assert "Passed" in page
    assert browser.post(f"/wallet/imported/{imported.public_id}/verify").status_code == 302
    browser.post(f"/wallet/imported/{imported.public_id}/visibility", {"visibility": "public"})
    imported.refresh_from_db()
    assert imported.visibility == "public"
    browser.post(f"/wallet/imported/{imported.public_id}/remove")
    assert not ImportedBadge.objects.exists()


def test_refusal_page_names_the_failing_check(internet, browser) -> None:
    text = json.dumps(spec_json("examples", "ob_v3p0", "basicOpenBadgeCredential.json"))
    response = browser.post("/wallet/import", {"via": "paste", "text": text})
    page = response.content.decode()
    assert response.status_code == 400
    assert "This badge was not imported" in page
    assert "not signed" in page
    assert re.search(r"import-check-failed.*?Signature", page, re.S)
    assert not ImportedBadge.objects.exists()


def test_import_by_url_and_duplicate_via_the_page(internet, platform, browser) -> None:
    award = award_for(platform)
    url = documents.assertion_url(award.public_id)
    assert browser.post("/wallet/import", {"via": "url", "url": url}).status_code == 302
    again = browser.post("/wallet/import", {"via": "url", "url": url})
    assert again.status_code == 409
    assert "Already in your wallet" in again.content.decode()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_upload_gets_a_4xx_page_with_a_message(internet, browser, name: str) -> None:
    upload = SimpleUploadedFile(name, HOSTILE[name], content_type="application/octet-stream")
    response = browser.post("/wallet/import", {"via": "file", "file": upload})
    assert 400 <= response.status_code < 500
    page = response.content.decode()
    assert "This badge was not imported" in page
    assert "<script>alert" not in page


def test_oversized_upload_is_refused_by_the_page(internet, browser, settings) -> None:
    settings.MAX_UPLOAD_BYTES = 1000
    upload = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 5000, content_type="image/png")
    response = browser.post("/wallet/import", {"via": "file", "file": upload})
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()


def test_public_page_honours_visibility_and_says_imported(internet, platform, earner) -> None:
    imported = import_credential(user=earner, text=json.dumps(award_for(platform).credential))
    anyone = Client()
    page = anyone.get(f"/b/{imported.public_id}")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Imported from Acme Academy" in body
    assert "verified by this instance on" in body
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "ada@example.org" not in body
    imports.set_import_visibility(user=earner, imported=imported, visibility="public")
    public = anyone.get(f"/b/{imported.public_id}")
    assert "noindex" not in public.content.decode()
    assert "X-Robots-Tag" not in public
    imports.set_import_visibility(user=earner, imported=imported, visibility="hidden")
    hidden = anyone.get(f"/b/{imported.public_id}").content.decode()
    assert "A credential exists" in hidden
    assert "Data Stewardship" not in hidden
    assert "Acme Academy" not in hidden
    assert anyone.get("/b/nonexistent").status_code == 404


def test_foreign_text_and_links_are_never_rendered_as_html(internet, make_user) -> None:
    issuer = ForeignIssuer(internet, slug="evil")
    user = make_user("grace@example.org")
    EmailAddress.objects.create(user=user, email="grace@example.org", verified=True)
    credential = issuer.credential(recipient="grace@example.org", name='<img src=x onerror="alert(1)">Badge')
    credential["evidence"] = [{"id": "javascript:alert(1)", "type": ["Evidence"], "name": "Click me"}]
    imported = import_credential(user=user, text=json.dumps(issuer.sign(credential)), now=NOW)
    body = Client().get(f"/b/{imported.public_id}").content.decode()
    assert '<img src=x onerror' not in body
    assert "&lt;img src=x" in body
    assert "javascript:alert" not in body


def test_wallet_pages_of_imports_are_the_owners_only(internet, platform, earner, make_user) -> None:
    imported = import_credential(user=earner, text=json.dumps(award_for(platform).credential))
    other = Client()
    other.force_login(make_user("eve@example.org"))
    assert other.get(f"/wallet/imported/{imported.public_id}").status_code == 404
    assert other.post(f"/wallet/imported/{imported.public_id}/remove").status_code == 404
    assert ImportedBadge.objects.filter(pk=imported.pk).exists()
    assert Client().get("/wallet/import").status_code == 302  # to the login page


def test_a_link_pasted_as_text_is_imported_as_a_link(internet, platform, earner) -> None:
    award = award_for(platform)
    imported = import_credential(user=earner, text=f"  {documents.assertion_url(award.public_id)}\n")
    assert (imported.origin, imported.format, imported.verdict) == ("url", "ob2", "valid")
