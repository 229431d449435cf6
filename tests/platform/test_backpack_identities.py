"""More identities: web addresses (rel="me" or a meta code on the page, fetched for real through the hardened
fetcher from a local web server) and DIDs (a signed challenge; did:key offline, did:web from the local server).
Awards to any verified identity join one wallet; an unverified claim to someone else's identity brings nothing."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from insignia.backpack import queries, services
from insignia.backpack.models import EarnerIdentity
from insignia.core.errors import Conflict, ServiceError
from insignia.credentials.dids import did_key_from_public_key
from insignia.credentials.keys.signer import Ed25519Signer
from insignia.credentials.proofs.jose import encode_jws
from insignia.net.fetch import HttpFetcher
from tests.platform.backpack_support import client_for

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.platform.backpack_support"]


class Site:
    """A real web server on 127.0.0.1 serving ``pages`` (path → (content type, body))."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, bytes]] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = pages.get(self.path)
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", found[0] if found else "text/plain")
                body = found[1] if found else b"not found"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def html(self, path: str, head: str) -> None:
        self.pages[path] = ("text/html; charset=utf-8",
                            f"<!doctype html><html><head><title>Me</title>{head}</head><body>Hi</body></html>".encode())


@pytest.fixture
def site():
    server = Site()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture
def fetch() -> HttpFetcher:
    """The hardened fetcher, allowed to reach loopback (the local test server) and nothing else special."""
    return HttpFetcher(allow_loopback=True, cache=None)


def _profile_url(user: Any) -> str:
    from django.conf import settings

    return f"{settings.BASE_URL}/p/{services.profile_for(user).public_id}"


# -- web addresses ------------------------------------------------------------------------------------------------


def test_rel_me_link_verifies_a_web_address_and_its_awards_join(site, fetch, earner, award_to) -> None:
    ada = earner("ada@example.org")
    page = site.url("/ada")
    award = award_to(page, kind="url")
    identity = services.add_identity(user=ada, kind="url", value=f"  {page} ")
    assert identity.value == page
    assert identity.verified_at is None
    assert queries.wallet(ada) == []  # not before it is verified

    site.html("/ada", '<link rel="stylesheet" href="/x.css">')
    with pytest.raises(ServiceError) as missing:
        services.verify_url_identity(user=ada, identity=identity, profile_url=_profile_url(ada), fetch=fetch)
    assert missing.value.code == "url_proof_missing"
    assert "rel=\"me\"" in missing.value.message

    site.html("/ada", f'<link rel="me authn" href="{_profile_url(ada)}/">')
    verified = services.verify_url_identity(user=ada, identity=identity, profile_url=_profile_url(ada), fetch=fetch)
    assert verified.verified_at is not None
    assert verified.challenge_hash == ""
    assert [e.key for e in queries.wallet(ada)] == [award.public_id]
    assert client_for(ada).get(f"/wallet/awards/{award.public_id}").status_code == 200


def test_meta_code_verifies_and_a_stale_or_wrong_code_does_not(site, fetch, earner) -> None:
    ada = earner("ada@example.org")
    identity = services.add_identity(user=ada, kind="url", value=site.url("/about"))
    challenge = services.identity_challenge(identity)
    assert challenge
    assert challenge.startswith("insignia-verify-")
    assert EarnerIdentity.objects.get(pk=identity.pk).challenge_hash != challenge  # only its hash is stored

    site.html("/about", '<meta name="insignia-verification" content="insignia-verify-0000">')
    with pytest.raises(ServiceError):
        services.verify_url_identity(user=ada, identity=identity, profile_url=_profile_url(ada), fetch=fetch)

    site.html("/about", f'<meta name="insignia-verification" content="{challenge}">')
    later = timezone.now() + timedelta(hours=25)
    with pytest.raises(ServiceError) as stale:
        services.verify_url_identity(user=ada, identity=identity, profile_url=_profile_url(ada), fetch=fetch,
                                     now=later)
    assert stale.value.code == "challenge_expired"
    services.verify_url_identity(user=ada, identity=identity, profile_url=_profile_url(ada), fetch=fetch)
    assert EarnerIdentity.objects.get(pk=identity.pk).verified_at is not None


def test_an_unreachable_page_is_a_clear_failure(site, fetch, earner) -> None:
    ada = earner("ada@example.org")
    identity = services.add_identity(user=ada, kind="url", value=site.url("/nothing-here"))
    with pytest.raises(ServiceError) as failed:
        services.verify_url_identity(user=ada, identity=identity, profile_url=_profile_url(ada), fetch=fetch)
    assert failed.value.code == "url_fetch_failed"
    assert "404" in failed.value.message
    # The production fetcher refuses plain http to loopback altogether.
    with pytest.raises(ServiceError) as refused:
        services.verify_url_identity(user=ada, identity=identity, profile_url=_profile_url(ada),
                                     fetch=HttpFetcher(cache=None))
    assert refused.value.code == "url_fetch_failed"


def test_someone_elses_identity_never_joins_without_proof(site, fetch, earner, award_to) -> None:
    ada, eve = earner("ada@example.org"), earner("eve@example.org")
    page = site.url("/ada")
    award = award_to(page, kind="url")
    email_award = award_to("ada@example.org")
    # Eve claims Ada's page and Ada's address, without proving either.
    services.add_identity(user=eve, kind="url", value=page)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=eve, email="ada.other@example.org", verified=False)
    assert queries.wallet(eve) == []
    for found in (award, email_award):
        assert client_for(eve).get(f"/wallet/awards/{found.public_id}").status_code == 404

    # Ada proves the page; afterwards Eve cannot verify it for herself.
    ada_identity = services.add_identity(user=ada, kind="url", value=page)
    site.html("/ada", f'<link rel="me" href="{_profile_url(ada)}">')
    services.verify_url_identity(user=ada, identity=ada_identity, profile_url=_profile_url(ada), fetch=fetch)
    eve_identity = EarnerIdentity.objects.get(user=eve, value=page)
    site.html("/ada", f'<link rel="me" href="{_profile_url(eve)}">')  # even if the page links to Eve later
    with pytest.raises(Conflict):
        services.verify_url_identity(user=eve, identity=eve_identity, profile_url=_profile_url(eve), fetch=fetch)
    assert award.public_id not in {e.key for e in queries.wallet(eve)}
    assert award.public_id in {e.key for e in queries.wallet(ada)}


def test_invalid_identities_are_refused(earner) -> None:
    ada = earner("ada@example.org")
    for kind, value in (("url", "ftp://example.org/"), ("url", "not a url"), ("url", "https://u:p@example.org/"),
                        ("did", "did:key"), ("did", "did:example:123"), ("email", "ada@example.org")):
        with pytest.raises(ServiceError):
            services.add_identity(user=ada, kind=kind, value=value)
    assert not EarnerIdentity.objects.exists()


# -- DIDs ---------------------------------------------------------------------------------------------------------


def _did_key() -> tuple[Ed25519Signer, str, str]:
    signer = Ed25519Signer.generate()
    did = did_key_from_public_key(signer.public_key())
    return signer, did, f"{did}#{did.removeprefix('did:key:')}"


def test_did_key_signed_challenge_verifies_offline_through_the_page(earner, award_to) -> None:
    ada = earner("ada@example.org")
    signer, did, kid = _did_key()
    award = award_to(did, kind="did")
    browser = client_for(ada)
    response = browser.post("/wallet/identities/", {"kind": "did", "value": did})
    assert response.status_code == 302
    identity = EarnerIdentity.objects.get(user=ada, value=did)
    challenge = services.identity_challenge(identity)
    page = browser.get("/wallet/identities/").content.decode()
    assert challenge in page

    # Wrong payload, then a key that is not the DID's, then the right one.
    bad = encode_jws(b"something else", signer, header={"kid": kid})
    browser.post(f"/wallet/identities/{identity.pk}/verify", {"jws": bad})
    identity.refresh_from_db()
    assert identity.verified_at is None
    impostor = Ed25519Signer.generate()
    forged = encode_jws(challenge.encode(), impostor, header={"kid": kid})
    with pytest.raises(ServiceError) as wrong_key:
        services.verify_did_identity(user=ada, identity=identity, jws=forged)
    assert wrong_key.value.code == "did_signature_invalid"
    other_did_kid = _did_key()[2]
    with pytest.raises(ServiceError) as wrong_did:
        services.verify_did_identity(user=ada, identity=identity,
                                     jws=encode_jws(challenge.encode(), impostor, header={"kid": other_did_kid}))
    assert wrong_did.value.code == "did_proof_wrong_did"

    good = encode_jws(json.dumps({"challenge": challenge}).encode(), signer, header={"kid": kid})
    response = browser.post(f"/wallet/identities/{identity.pk}/verify", {"jws": good})
    assert response.status_code == 302
    identity.refresh_from_db()
    assert identity.verified_at is not None
    assert [e.key for e in queries.wallet(ada)] == [award.public_id]


def test_did_web_from_a_real_server_needs_an_authentication_key(site, fetch, earner) -> None:
    ada = earner("ada@example.org")
    signer = Ed25519Signer.generate()
    did = f"did:web:127.0.0.1%3A{site.port}:ada"
    kid = f"{did}#key-1"
    method = {"id": kid, "type": "Multikey", "controller": did,
              "publicKeyMultibase": signer.public_key().to_multibase()}
    document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did, "verificationMethod": [method],
                "keyAgreement": [kid]}
    site.pages["/ada/did.json"] = ("application/did+json", json.dumps(document).encode())
    identity = services.add_identity(user=ada, kind="did", value=did)
    token = encode_jws(services.identity_challenge(identity).encode(), signer, header={"kid": "#key-1"})
    with pytest.raises(ServiceError) as not_authorised:
        services.verify_did_identity(user=ada, identity=identity, jws=token, fetch=fetch)
    assert not_authorised.value.code == "did_key_not_authorised"

    document["authentication"] = [kid]
    site.pages["/ada/did.json"] = ("application/did+json", json.dumps(document).encode())
    services.verify_did_identity(user=ada, identity=identity, jws=token, fetch=fetch)
    assert EarnerIdentity.objects.get(pk=identity.pk).verified_at is not None


def test_identities_of_others_are_404_and_removal_works(earner) -> None:
    ada, eve = earner("ada@example.org"), earner("eve@example.org")
    _, did, _ = _did_key()
    identity = services.add_identity(user=ada, kind="did", value=did)
    for action in ("verify", "renew", "remove"):
        assert client_for(eve).post(f"/wallet/identities/{identity.pk}/{action}").status_code == 404
    assert did not in client_for(eve).get("/wallet/identities/").content.decode()
    assert client_for(ada).post(f"/wallet/identities/{identity.pk}/remove").status_code == 302
    assert not EarnerIdentity.objects.filter(pk=identity.pk).exists()
