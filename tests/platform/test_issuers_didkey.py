"""did:key as an issuer's OB 3.0 identity (chosen at creation, beside the default did:web): both produce
credentials that verify with the kernel (Data Integrity, VC-JWT, status lists), did:key also in Digital
Bazaar's stack; the pages explain the trade-off; a did:key issuer's Ed25519 key never rotates."""

from __future__ import annotations

import base64
import json
import shutil

import pytest
from django.test import Client
from django.urls import reverse

from insignia.awards.credentials import jwt_for, signed_assertion
from insignia.awards.services import issue_award, revoke_award
from insignia.core.errors import ServiceError
from insignia.core.models import AuditEvent, Role
from insignia.credentials.dids import did_key_from_public_key, resolve_did_key
from insignia.credentials.keys import PublicKey
from insignia.issuers.identity import DID_METHOD_TRADE_OFF, active_key, issuer_did, key_id
from insignia.issuers.models import DidMethod, Issuer, KeyAlgorithm
from insignia.issuers.services import create_issuer, rotate_keys
from tests.platform.api_support import client_for
from tests.platform.test_awards_support import ClientFetch, check, make_badge

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


def new_issuer(actor, method: str) -> Issuer:
    return create_issuer(actor=actor, name=f"Acme ({method})", url="https://acme.example", email="b@acme.example",
                         did_method=method)


def jwt_header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def test_a_did_key_issuer_is_named_by_its_ed25519_key(owner) -> None:
    issuer = new_issuer(owner, "key")
    assert issuer.did_method == DidMethod.KEY
    ed25519 = active_key(issuer, KeyAlgorithm.ED25519)
    did = did_key_from_public_key(PublicKey.from_jwk(ed25519.public_jwk))
    assert did.startswith("did:key:z6Mk")
    assert issuer_did(Issuer.objects.get(pk=issuer.pk)) == did
    assert key_id(ed25519) == f"{did}#{ed25519.public_multibase}"
    assert key_id(ed25519) == resolve_did_key(did)["assertionMethod"][0]  # the id the did:key document gives
    rsa = active_key(issuer, KeyAlgorithm.RSA)
    assert key_id(rsa) == f"http://127.0.0.1:8000/i/{issuer.public_id}/keys/{rsa.fragment}"
    assert AuditEvent.objects.get(verb="issuer.created").data["did_method"] == "key"
    web = new_issuer(owner, "web")
    assert issuer_did(web).startswith("did:web:127.0.0.1%3A8000:i:")
    with pytest.raises(ServiceError) as info:
        new_issuer(owner, "ion")
    assert info.value.code == "did_method_invalid"
    assert Issuer.objects.count() == 2


@pytest.mark.parametrize(("method", "jwt_alg"), [("web", "RS256"), ("key", "EdDSA")])
def test_both_methods_issue_credentials_that_verify(owner, method, jwt_alg) -> None:
    issuer = new_issuer(owner, method)
    award = issue_award(actor=owner, badge=make_badge(owner, issuer), recipient="ada@example.org")
    did = issuer_did(issuer)
    credential = award.credential
    assert credential["issuer"]["id"] == did
    assert credential["credentialSubject"]["achievement"]["creator"]["id"] == did
    assert credential["proof"]["verificationMethod"] == key_id(active_key(issuer, KeyAlgorithm.ED25519))
    fetch = ClientFetch()
    report = fetch.verifier().verify(credential, recipient="ada@example.org")
    assert report.verdict == "valid", report.to_json()
    assert check(report, "issuer_key") == ("passed", "issuer_key_bound")
    assert check(report, "status") == ("passed", "not_revoked")  # the status list (issued by the same DID)
    # did:key resolves from the DID itself: no DID document is fetched from this server
    assert any(url.endswith("/did.json") for url in fetch.requests) is (method == "web")

    token = jwt_for(award)
    header = jwt_header(token)
    assert header["alg"] == jwt_alg
    assert header["kid"].startswith(did + "#")
    jwt_report = ClientFetch().verifier().verify(token, recipient="ada@example.org")
    assert jwt_report.verdict == "valid", jwt_report.to_json()
    assert check(jwt_report, "issuer_key") == ("passed", "issuer_key_bound")

    ob2 = ClientFetch().verifier().verify(signed_assertion(award), recipient="ada@example.org")
    assert ob2.verdict == "valid", ob2.to_json()  # OB 2.0 keeps its RSA key under this domain

    revoke_award(actor=owner, award=award, reason="Issued by mistake.")
    revoked = ClientFetch().verifier().verify(credential)
    assert check(revoked, "status") == ("failed", "revoked")


def test_rotation_keeps_the_did_key_and_replaces_only_rsa(owner) -> None:
    issuer = new_issuer(owner, "key")
    did = issuer_did(issuer)
    before = issue_award(actor=owner, badge=make_badge(owner, issuer), recipient="ada@example.org")
    old_rsa = active_key(issuer, KeyAlgorithm.RSA)
    keys = rotate_keys(actor=owner, issuer=issuer)
    assert [k.algorithm for k in keys] == [KeyAlgorithm.RSA]
    assert issuer.keys.filter(algorithm=KeyAlgorithm.ED25519).count() == 1
    assert issuer.keys.get(algorithm=KeyAlgorithm.ED25519).active
    old_rsa.refresh_from_db()
    assert not old_rsa.active
    fresh = Issuer.objects.get(pk=issuer.pk)
    assert issuer_did(fresh) == did
    after = issue_award(actor=owner, badge=make_badge(owner, fresh, name="Second"), recipient="b@example.org")
    for award in (before, after):
        assert ClientFetch().verifier().verify(award.credential).verdict == "valid"
    # did:web rotates both keys
    web = new_issuer(owner, "web")
    assert sorted(k.algorithm for k in rotate_keys(actor=owner, issuer=web)) == [KeyAlgorithm.ED25519,
                                                                                 KeyAlgorithm.RSA]


def test_the_create_page_offers_the_choice_and_explains_it(owner) -> None:
    client = Client()
    client.force_login(owner.user)
    org = owner.organisation.public_id
    url = reverse("issuers:create", args=[org])
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    html = page.content.decode()
    assert "<legend>Signing identity (Open Badges 3.0)</legend>" in html
    assert '<input type="radio" name="did_method" value="key" id="id_did_method_1">' in html
    assert DID_METHOD_TRADE_OFF in html
    response = client.post(url, {"name": "Portable Academy", "url": "https://portable.example",
                                  "email": "b@portable.example", "description": "", "did_method": "key"})
    assert response.status_code == 302
    issuer = Issuer.objects.get(name="Portable Academy")
    assert issuer.did_method == DidMethod.KEY
    detail = client.get(response.url).content.decode()
    assert issuer_did(issuer) in detail
    assert DID_METHOD_TRADE_OFF in detail
    assert "/did.json" not in detail  # a did:key has no document on this server
    assert "never rotates" in detail
    rotate = client.get(reverse("issuers:rotate", args=[org, issuer.public_id])).content.decode()
    assert "cannot rotate" in rotate
    refused = client.post(url, {"name": "X", "url": "https://x.example", "email": "x@x.example",
                                "did_method": "ion"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert '<input type="radio" name="did_method" value="web" id="id_did_method_0" checked>' in html
    # without a choice (an older client), it is did:web
    client.post(url, {"name": "Web Academy", "url": "https://web.example", "email": "b@web.example"})
    web = Issuer.objects.get(name="Web Academy")
    assert web.did_method == DidMethod.WEB
    assert "did:web:" in client.get(reverse("issuers:detail", args=[org, web.public_id])).content.decode()


def test_public_profile_and_did_document(owner) -> None:
    issuer = new_issuer(owner, "key")
    client = Client()
    assert client.get(f"/i/{issuer.public_id}/did.json").status_code == 404
    profile = json.loads(client.get(f"/i/{issuer.public_id}", HTTP_ACCEPT="application/json").content)
    assert profile["id"] == issuer_did(issuer)
    page = client.get(f"/i/{issuer.public_id}", HTTP_ACCEPT="text/html").content.decode()
    assert issuer_did(issuer) in page
    assert "did.json" not in page
    web = new_issuer(owner, "web")
    assert client.get(f"/i/{web.public_id}/did.json").status_code == 200


def test_api_creates_a_did_key_issuer(owner) -> None:
    api = client_for(owner)
    created = api.post("/issuers", {"name": "Portable", "url": "https://p.example", "email": "b@p.example",
                                    "did_method": "key"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["did_method"], body["did_document_url"]) == ("key", None)
    assert body["did"].startswith("did:key:z6Mk")
    assert {k["id"].split("#")[0] for k in body["keys"] if k["algorithm"] == "EdDSA"} == {body["did"]}
    default = api.post("/issuers", {"name": "Web", "url": "https://w.example", "email": "b@w.example"}).json()
    assert default["did_method"] == "web"
    assert default["did_document_url"].endswith("/did.json")
    refused = api.post("/issuers", {"name": "X", "url": "https://x.example", "email": "b@x.example",
                                    "did_method": "ion"})
    assert refused.status_code == 422


@pytest.mark.interop
def test_digital_bazaar_verifies_a_did_key_credential(owner) -> None:
    from tests.interop.conftest import JS_DIR, NodeTool

    if shutil.which("node") is None or not (JS_DIR / "node_modules").is_dir():
        pytest.fail("Interop tests need Node.js and `npm ci` in tests/interop/js (scripts/test does this).")
    node = NodeTool()
    issuer = new_issuer(owner, "key")
    award = issue_award(actor=owner, badge=make_badge(owner, issuer), recipient="ada@example.org")
    credential = json.loads(Client().get(f"/c/{award.public_id}/credential.json").content)
    did = issuer_did(issuer)
    document = resolve_did_key(did)  # what any did:key resolver derives from the DID alone
    method_id = credential["proof"]["verificationMethod"]
    (method,) = [m for m in document["verificationMethod"] if m["id"] == method_id]
    documents = {did: document, method_id: {"@context": document["@context"], **method}}
    answer = node({"op": "verify", "credential": credential, "documents": documents})
    assert answer["verified"], answer["errors"]
    assert not node({"op": "verify", "credential": dict(credential, name="Other"), "documents": documents})["verified"]


def test_the_verifier_knows_our_did_key_issuer(owner) -> None:
    from insignia.verification.services import verify_submission

    issuer = new_issuer(owner, DidMethod.KEY)
    award = issue_award(actor=owner, badge=make_badge(owner, issuer), recipient="ada@example.org")
    result = verify_submission(credential=award.credential)
    assert result.verdict == "valid"
    trust = result.trust.to_json()
    assert trust["level"] == "known", trust
    forged = {**award.credential, "issuer": {**award.credential["issuer"], "id": "did:key:z6MkNotOurs"}}
    assert verify_submission(credential=forged).trust.to_json()["level"] != "known"
