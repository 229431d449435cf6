"""DIDs and the resolver: did:key vectors, did:web URL mapping, resolution through a fake network."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from insignia.credentials.dids import (
    Resolver,
    build_did_web_document,
    did_key_from_public_key,
    did_web_for_url,
    did_web_to_url,
    public_key_from_did_key,
    resolve_did_key,
    resolve_did_web,
)
from insignia.credentials.encoding import multibase_encode
from insignia.credentials.errors import CredentialError, DidError, FetchError
from insignia.credentials.keys import Ed25519Signer, PublicKey, RsaSigner, multikey_document
from tests.conftest import spec_json, spec_path

SPEC_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


class FakeNetwork:
    """A test double of the network: URL → bytes, recording every request."""

    def __init__(self, pages: dict[str, object] | None = None) -> None:
        self.pages = {url: body if isinstance(body, bytes) else json.dumps(body).encode() for url, body in
                      (pages or {}).items()}
        self.requests: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.requests.append(url)
        if url not in self.pages:
            raise OSError(f"404 {url}")
        return self.pages[url]


@pytest.fixture(scope="module")
def rsa_signer() -> RsaSigner:
    return RsaSigner.generate()


# -- did:key -------------------------------------------------------------------------------------------------------
def test_did_key_spec_example_resolves() -> None:
    document = resolve_did_key(SPEC_DID)
    method_id = SPEC_DID + "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    assert document["id"] == SPEC_DID
    assert document["verificationMethod"] == [
        {
            "id": method_id,
            "type": "Multikey",
            "controller": SPEC_DID,
            "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        }
    ]
    for relationship in ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation"):
        assert document[relationship] == [method_id]
    assert "https://w3id.org/security/multikey/v1" in document["@context"]


def test_did_key_round_trip_with_vector_key() -> None:
    pair = spec_json("test-vectors", "ob_v3p0-eddsa-rdfc-2022", "vector.json")["keyPair"]
    key = PublicKey.from_multibase(pair["publicKeyMultibase"])
    did = did_key_from_public_key(key)
    assert did == "did:key:" + pair["publicKeyMultibase"]
    assert public_key_from_did_key(did) == key
    assert public_key_from_did_key(did + "#" + pair["publicKeyMultibase"]) == key


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("did:key:u7QHkmcUhWMtAsBXnSYVPdFLj86jKyIgMX3stDXb2tTf1dw", "invalid_did"),  # not 'z'
        ("did:key:" + multibase_encode(b"\x80\x24" + bytes(33)), "unsupported_key_type"),  # P-256
        ("did:key:" + multibase_encode(b"\xed\x01" + bytes(31)), "invalid_public_key_length"),
        ("did:key:z0OIl", "invalid_did"),
        ("did:web:example.com", "invalid_did"),
        ("did:key:" + "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK/path", "invalid_did"),
    ],
)
def test_did_key_refusals(did: str, code: str) -> None:
    with pytest.raises(DidError) as error:
        resolve_did_key(did)
    assert error.value.code == code


def test_did_key_only_for_ed25519(rsa_signer: RsaSigner) -> None:
    with pytest.raises(DidError):
        did_key_from_public_key(rsa_signer.public_key())


# -- did:web mapping -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("did", "url"),
    [
        # the did:web specification's examples
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:example.com%3A8443", "https://example.com:8443/.well-known/did.json"),
        ("did:web:example.com:issuers:abc", "https://example.com/issuers/abc/did.json"),
    ],
)
def test_did_web_to_url(did: str, url: str) -> None:
    assert did_web_to_url(did) == url


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("https://example.com/issuers/abc", "did:web:example.com:issuers:abc"),
        ("https://example.com:3000/user/alice", "did:web:example.com%3A3000:user:alice"),
        ("https://example.com:443/user/alice", "did:web:example.com:user:alice"),
        ("https://w3c-ccg.github.io", "did:web:w3c-ccg.github.io"),
        ("https://w3c-ccg.github.io/", "did:web:w3c-ccg.github.io"),
        ("https://w3c-ccg.github.io/.well-known/did.json", "did:web:w3c-ccg.github.io"),
        ("https://w3c-ccg.github.io/user/alice/did.json", "did:web:w3c-ccg.github.io:user:alice"),
        ("https://Example.COM/a", "did:web:example.com:a"),
        ("http://localhost:8000/issuers/1", "did:web:localhost%3A8000:issuers:1"),
    ],
)
def test_did_web_for_url(url: str, did: str) -> None:
    assert did_web_for_url(url) == did


def test_did_web_round_trips_through_its_url() -> None:
    for did in ("did:web:example.com%3A3000:a:b", "did:web:example.com", "did:web:sub.example.org:x"):
        assert did_web_for_url(did_web_to_url(did)) == did


@pytest.mark.parametrize(
    "url",
    ["http://example.com/x", "https://192.0.2.1/x", "https://example.com/x?y=1", "https://example.com/x#f",
     "https://user:pw@example.com/", "ftp://example.com/", "https://example.com/a//b", "https://example.com/a/../b"],
)
def test_did_web_for_url_refusals(url: str) -> None:
    with pytest.raises(DidError):
        did_web_for_url(url)


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("did:web:192.0.2.7", "ip_address_not_allowed"),
        ("did:web:%5B2001%3Adb8%3A%3A1%5D", "ip_address_not_allowed"),
        ("did:web:127.0.0.1%3A8000", "loopback_not_allowed"),
        ("did:web:localhost", "loopback_not_allowed"),
        ("did:web:example.com:..:admin", "invalid_did"),
        ("did:web:example.com:%2E%2E:admin", "invalid_did"),
        ("did:web:example.com:a%2Fb", "invalid_did"),
        ("did:web:example.com#key-1", "invalid_did"),
        ("did:web:exa_mple.com", "url_invalid"),
        ("did:web:user%40example.com", "invalid_did"),
        ("did:web:example.com%3A99999", "invalid_did"),
        ("did:key:z6Mk", "invalid_did"),
    ],
)
def test_did_web_to_url_refusals(did: str, code: str) -> None:
    with pytest.raises(DidError) as error:
        did_web_to_url(did)
    assert error.value.code == code


def test_loopback_maps_to_http_only_when_allowed() -> None:
    assert did_web_to_url("did:web:localhost%3A8000:i", allow_http_loopback=True) == "http://localhost:8000/i/did.json"
    assert did_web_to_url("did:web:127.0.0.1", allow_http_loopback=True) == "http://127.0.0.1/.well-known/did.json"
    with pytest.raises(DidError):
        did_web_to_url("did:web:10.0.0.1", allow_http_loopback=True)


# -- did:web documents and resolution -----------------------------------------------------------------------------
def test_build_did_web_document(rsa_signer: RsaSigner) -> None:
    did = "did:web:example.com:issuers:abc"
    ed = Ed25519Signer.from_seed(bytes(32)).public_key()
    document = build_did_web_document(did, ed25519_keys=[ed], rsa_keys=[("rsa-1", rsa_signer.public_key())])
    ed_id = f"{did}#{ed.to_multibase()}"
    assert document["id"] == did
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1", "https://w3id.org/security/jwk/v1",
    ]
    assert document["verificationMethod"][0] == multikey_document(ed, id=ed_id, controller=did)
    rsa_method = document["verificationMethod"][1]
    assert rsa_method["id"] == did + "#rsa-1"
    assert rsa_method["type"] == "JsonWebKey"
    assert "d" not in rsa_method["publicKeyJwk"]
    assert document["assertionMethod"] == document["authentication"] == [ed_id, did + "#rsa-1"]
    # a document we build is one we can use
    resolver = Resolver(documents={did: document})
    assert resolver.dereference_method(ed_id).public_key == ed
    assert resolver.dereference_method(did + "#rsa-1").public_key == rsa_signer.public_key()
    with pytest.raises(DidError):
        build_did_web_document(did, ed25519_keys=[ed, ed])
    with pytest.raises(DidError):
        build_did_web_document(did, ed25519_keys=[rsa_signer.public_key()])


def test_rsa_key_default_id_is_jwk_thumbprint(rsa_signer: RsaSigner) -> None:
    from insignia.credentials.keys import jwk_thumbprint

    document = build_did_web_document("did:web:example.com", rsa_keys=[rsa_signer.public_key()])
    assert document["verificationMethod"][0]["id"] == "did:web:example.com#" + jwk_thumbprint(
        rsa_signer.public_key().to_jwk()
    )


def _web_document(did: str) -> tuple[Ed25519Signer, dict]:
    signer = Ed25519Signer.generate()
    return signer, build_did_web_document(did, ed25519_keys=[("key-1", signer.public_key())])


def test_resolve_did_web_through_fetch() -> None:
    did = "did:web:example.com:issuers:abc"
    _, document = _web_document(did)
    network = FakeNetwork({"https://example.com/issuers/abc/did.json": document})
    assert resolve_did_web(did, fetch=network) == document
    assert network.requests == ["https://example.com/issuers/abc/did.json"]


def test_resolve_did_web_refusals() -> None:
    did = "did:web:example.com"
    _, document = _web_document("did:web:attacker.example")
    network = FakeNetwork({"https://example.com/.well-known/did.json": document})
    with pytest.raises(DidError) as error:
        resolve_did_web(did, fetch=network)
    assert error.value.code == "did_document_id_mismatch"

    big = FakeNetwork({"https://example.com/.well-known/did.json": b" " * 1_000_001})
    with pytest.raises(FetchError) as fetch_error:
        resolve_did_web(did, fetch=big)
    assert fetch_error.value.code == "document_too_large"

    for body in (b"not json", b"[1, 2]", b"[" * 100_000):
        with pytest.raises(DidError) as error:
            resolve_did_web(did, fetch=FakeNetwork({"https://example.com/.well-known/did.json": body}))
        assert error.value.code == "invalid_document"

    with pytest.raises(FetchError) as fetch_error:
        resolve_did_web(did, fetch=FakeNetwork())
    assert fetch_error.value.code == "fetch_failed"


def test_resolve_did_web_http_loopback_only_in_development() -> None:
    did = "did:web:localhost%3A8000:issuers:1"
    _, document = _web_document(did)
    network = FakeNetwork({"http://localhost:8000/issuers/1/did.json": document})
    assert resolve_did_web(did, fetch=network, allow_http_loopback=True)["id"] == did
    with pytest.raises(DidError) as error:
        resolve_did_web(did, fetch=network)
    assert error.value.code == "loopback_not_allowed"
    with pytest.raises(DidError) as error:
        resolve_did_web("did:web:192.168.1.10", fetch=network, allow_http_loopback=True)
    assert error.value.code == "ip_address_not_allowed"


# -- Resolver -------------------------------------------------------------------------------------------------------
def test_resolver_did_key_is_offline() -> None:
    resolver = Resolver()
    method = resolver.dereference_method(SPEC_DID + "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    assert method.controller == SPEC_DID
    assert method.type == "Multikey"
    assert method.purposes == {"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"}
    assert method.authorized_for("assertionMethod")
    assert method.public_key == public_key_from_did_key(SPEC_DID)


def test_resolver_verifies_w3c_ed25519signature2020_vector_key() -> None:
    signed = spec_json("test-vectors", "vc-di-eddsa", "Ed25519Signature2020", "signedEdSig.json")
    folder = spec_path("test-vectors", "vc-di-eddsa", "Ed25519Signature2020")
    data = bytes.fromhex((folder / "combinedHashEdSig.txt").read_text().strip())
    signature = bytes.fromhex((folder / "sigHexEdSig.txt").read_text().strip())
    method = Resolver().dereference_method(signed["proof"]["verificationMethod"])
    assert method.public_key.verify(data, signature)
    assert not method.public_key.verify(data + b"x", signature)


def test_resolver_without_fetch_is_offline() -> None:
    with pytest.raises(FetchError) as error:
        Resolver().resolve("did:web:example.com")
    assert error.value.code == "network_disabled"
    with pytest.raises(FetchError) as error:
        Resolver().dereference_method("https://example.edu/issuers/565049#key")
    assert error.value.code == "network_disabled"


def _issuer_profile(url: str, key: PublicKey, *, list_under: str = "assertionMethod", embed: bool = True) -> dict:
    method = multikey_document(key, id=f"{url}#{key.to_multibase()}", controller=url)
    profile: dict = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": url,
        "type": ["Profile"],
        "name": "Example University",
    }
    if embed:
        profile[list_under] = [method]
    else:
        profile["verificationMethod"] = [method]
        profile[list_under] = [method["id"]]
    return profile


def test_https_issuer_profile_with_embedded_method() -> None:
    pair = spec_json("test-vectors", "ob_v3p0-eddsa-rdfc-2022", "vector.json")["keyPair"]
    key = PublicKey.from_multibase(pair["publicKeyMultibase"])
    network = FakeNetwork({pair["controller"]: _issuer_profile(pair["controller"], key)})
    resolver = Resolver(network)
    method = resolver.dereference_method(pair["verificationMethod"])
    assert method.id == pair["verificationMethod"]
    assert method.controller == pair["controller"]
    assert method.purposes == {"assertionMethod"}
    assert method.public_key == key
    resolver.dereference_method(pair["verificationMethod"])
    assert network.requests == [pair["controller"]]  # fetched once, fragment stripped, then cached


def test_referenced_method_and_relative_ids() -> None:
    url = "https://example.org/issuer"
    key = Ed25519Signer.generate().public_key()
    profile = _issuer_profile(url, key, embed=False)
    method_id = profile["verificationMethod"][0]["id"]
    method = Resolver(documents={url: profile}).dereference_method(method_id)
    assert method.purposes == {"assertionMethod"}
    # the same document with relative ids
    relative = dict(profile)
    relative["verificationMethod"] = [{**profile["verificationMethod"][0], "id": "#key-1"}]
    relative["assertionMethod"] = ["#key-1"]
    assert Resolver(documents={url: relative}).dereference_method(url + "#key-1").purposes == {"assertionMethod"}


def test_ed25519signature2020_era_did_document() -> None:
    did = "did:web:issuer.example"
    key = Ed25519Signer.generate().public_key()
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2020/v1"],
        "id": did,
        "verificationMethod": [
            {"id": did + "#key-1", "type": "Ed25519VerificationKey2020", "controller": did,
             "publicKeyMultibase": key.to_multibase()},
            {"id": did + "#key-2", "type": "Ed25519VerificationKey2018", "controller": did,
             "publicKeyBase58": key.to_base58()},
        ],
        "assertionMethod": [did + "#key-1"],
        "authentication": [did + "#key-1", did + "#key-2"],
    }
    network = FakeNetwork({"https://issuer.example/.well-known/did.json": document})
    resolver = Resolver(network)
    first = resolver.dereference_method(did + "#key-1")
    assert first.type == "Ed25519VerificationKey2020"
    assert first.purposes == {"assertionMethod", "authentication"}
    second = resolver.dereference_method(did + "#key-2")
    assert second.public_key == key
    assert second.purposes == {"authentication"}
    assert not second.authorized_for("assertionMethod")


def test_method_not_listed_or_foreign_controller_is_not_authorised() -> None:
    url = "https://example.org/issuer"
    key = Ed25519Signer.generate().public_key()
    profile = _issuer_profile(url, key, embed=False)
    del profile["assertionMethod"]
    method_id = profile["verificationMethod"][0]["id"]
    assert Resolver(documents={url: profile}).dereference_method(method_id).purposes == frozenset()
    foreign = _issuer_profile(url, key)
    foreign["assertionMethod"][0]["controller"] = "https://attacker.example/issuer"
    method = Resolver(documents={url: foreign}).dereference_method(method_id)
    assert method.controller == "https://attacker.example/issuer"
    assert method.purposes == frozenset()


def test_document_must_be_the_one_asked_for() -> None:
    key = Ed25519Signer.generate().public_key()
    # attacker hosts a profile claiming to be the university
    impostor = _issuer_profile("https://university.example/issuer", key)
    network = FakeNetwork({"https://attacker.example/issuer": impostor})
    with pytest.raises(DidError) as error:
        Resolver(network).dereference_method("https://attacker.example/issuer#" + key.to_multibase())
    assert error.value.code == "document_id_mismatch"


def test_method_not_found_and_ambiguous() -> None:
    url = "https://example.org/issuer"
    key = Ed25519Signer.generate().public_key()
    profile = _issuer_profile(url, key)
    resolver = Resolver(documents={url: profile})
    with pytest.raises(DidError) as error:
        resolver.dereference_method(url + "#nope")
    assert error.value.code == "verification_method_not_found"
    with pytest.raises(DidError) as error:
        resolver.dereference_method(url)  # a profile, not a key
    assert error.value.code == "verification_method_not_found"
    other = Ed25519Signer.generate().public_key()
    twice = dict(profile)
    twice["verificationMethod"] = [{**profile["assertionMethod"][0], "publicKeyMultibase": other.to_multibase()}]
    with pytest.raises(DidError) as error:
        Resolver(documents={url: twice}).dereference_method(profile["assertionMethod"][0]["id"])
    assert error.value.code == "verification_method_ambiguous"


def test_standalone_key_document_with_controller(rsa_signer: RsaSigner) -> None:
    issuer = "https://example.org/issuer"
    key_url = "https://example.org/keys/1"
    key_doc = {"id": key_url, "type": "JsonWebKey", "controller": issuer,
               "publicKeyJwk": rsa_signer.public_key().to_jwk()}
    profile = {"id": issuer, "type": "Profile", "assertionMethod": [key_url]}
    network = FakeNetwork({key_url: key_doc, issuer: profile})
    method = Resolver(network).dereference_method(key_url)
    assert method.public_key == rsa_signer.public_key()
    assert method.controller == issuer
    assert method.purposes == {"assertionMethod"}


def test_resolver_url_policy() -> None:
    network = FakeNetwork({"http://example.org/issuer": {"id": "http://example.org/issuer"}})
    with pytest.raises(FetchError) as error:
        Resolver(network).resolve("http://example.org/issuer")
    assert error.value.code == "insecure_url"
    with pytest.raises(FetchError) as error:
        Resolver(network).resolve("https://203.0.113.5/issuer")
    assert error.value.code == "ip_address_not_allowed"
    with pytest.raises(FetchError) as error:
        Resolver(network).resolve("http://127.0.0.1:8000/issuer")
    assert error.value.code == "loopback_not_allowed"
    local = FakeNetwork({"http://127.0.0.1:8000/issuer": {"id": "http://127.0.0.1:8000/issuer"}})
    assert Resolver(local, allow_http_loopback=True).resolve("http://127.0.0.1:8000/issuer")["id"]
    assert network.requests == []
    with pytest.raises(DidError) as did_error:
        Resolver(network).resolve("did:example:123")
    assert did_error.value.code == "unsupported_did_method"
    with pytest.raises(DidError):
        Resolver(network).resolve("urn:uuid:1234")


def test_any_fetch_exception_becomes_fetch_error() -> None:
    def broken(url: str) -> bytes:
        raise RuntimeError("connection reset")

    def wrong_type(url: str) -> bytes:
        return 42  # type: ignore[return-value]

    fetchers: list[Callable[[str], bytes]] = [broken, wrong_type]
    for fetch in fetchers:
        with pytest.raises(FetchError) as error:
            Resolver(fetch).resolve("https://example.org/issuer")
        assert isinstance(error.value, CredentialError)


def test_known_documents_by_did_or_url_and_isolation() -> None:
    did = "did:web:example.com"
    _, document = _web_document(did)
    by_url = Resolver(documents={"https://example.com/.well-known/did.json": document})
    assert by_url.resolve(did)["id"] == did
    resolver = Resolver(documents={did: document})
    resolved = resolver.resolve(did)
    resolved["id"] = "tampered"
    assert resolver.resolve(did)["id"] == did
    with pytest.raises(DidError):
        Resolver(documents={did: {**document, "id": "did:web:other.example"}}).resolve(did)


def test_cache_expires_so_key_rotation_is_noticed() -> None:
    url = "https://example.org/issuer"
    old, new = Ed25519Signer.generate().public_key(), Ed25519Signer.generate().public_key()
    network = FakeNetwork({url: _issuer_profile(url, old)})
    ticks = [0.0]
    resolver = Resolver(network, cache_ttl=60, clock=lambda: ticks[0])
    old_id = f"{url}#{old.to_multibase()}"
    assert resolver.dereference_method(old_id).public_key == old
    network.pages[url] = json.dumps(_issuer_profile(url, new)).encode()
    ticks[0] = 59.0
    assert resolver.dereference_method(old_id).public_key == old  # still cached
    ticks[0] = 61.0
    with pytest.raises(DidError) as error:
        resolver.dereference_method(old_id)  # the old key is gone from the issuer's profile
    assert error.value.code == "verification_method_not_found"
    assert resolver.dereference_method(f"{url}#{new.to_multibase()}").public_key == new
    assert len(network.requests) == 2
    uncached = Resolver(network, cache_ttl=0)
    uncached.resolve(url)
    uncached.resolve(url)
    assert len(network.requests) == 4
