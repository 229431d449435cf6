"""Official eddsa-rdfc-2022 and Ed25519Signature2020 test vectors, reproduced byte for byte."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from insignia.credentials.encoding import multibase_decode
from insignia.credentials.jsonld.canonize import canonize
from insignia.credentials.jsonld.loader import ContextLoader, default_loader
from insignia.credentials.proofs import data_integrity
from tests.conftest import spec_json, spec_path

OB3 = ("test-vectors", "ob_v3p0-eddsa-rdfc-2022")
CLR = ("test-vectors", "clr_v2p0-eddsa-rdfc-2022")
W3C = ("test-vectors", "vc-di-eddsa")


def _loader() -> ContextLoader:
    """Built-in contexts, plus the W3C test-only example contexts from the spec bundle."""
    official = spec_json("contexts", "manifest.json")["contexts"]
    test_only = ("https://www.w3.org/ns/credentials/examples/v2", "https://w3id.org/citizenship/v4rc1",
                 "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json")
    extra = {}
    for url in test_only:
        if not default_loader().knows(url):
            extra[url] = spec_json("contexts", official[url])
    return ContextLoader(extra=extra)


@dataclass
class _Key:
    """A raw Ed25519 key with the duck-typed signer / method interface the proof module needs."""

    private: Ed25519PrivateKey
    id: str = ""
    controller: str = ""
    purposes: set[str] = field(default_factory=lambda: {"assertionMethod"})

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    @property
    def public_key(self) -> _Key:
        return self

    def verify(self, data: bytes, signature: bytes) -> bool:
        pub: Ed25519PublicKey = self.private.public_key()
        try:
            pub.verify(signature, data)
        except Exception:
            return False
        return True


def _ob3_key() -> _Key:
    vector = spec_json(*OB3, "vector.json")["keyPair"]
    seed = bytes.fromhex(vector["privateKeyHex_seed_plus_public"][:64])
    return _Key(Ed25519PrivateKey.from_private_bytes(seed), vector["verificationMethod"], vector["controller"])


def _w3c_key(name: str = "keyPair.json") -> _Key:
    pair = spec_json(*W3C, name)
    secret = multibase_decode(pair["privateKeyMultibase"])
    assert secret[:2] == b"\x80\x26"
    return _Key(Ed25519PrivateKey.from_private_bytes(secret[2:]))


@pytest.mark.parametrize("vector", [OB3, CLR])
def test_1edtech_vector_canonical_forms_and_hashes(vector: tuple[str, str]) -> None:
    loader = _loader()
    unsigned = spec_json(*vector, "credential.unsigned.json")
    options = spec_json(*vector, "proof-options.json")
    document_nq = canonize(unsigned, loader=loader)
    assert document_nq == spec_path(*vector, "document-canon.nq").read_text(encoding="utf-8")
    config = data_integrity.proof_configuration(unsigned, options)
    assert canonize(config, loader=loader) == spec_path(*vector, "proof-canon.nq").read_text(encoding="utf-8")
    facts = spec_json(*vector, "vector.json")
    assert hashlib.sha256(document_nq.encode()).hexdigest() == facts["documentHashHex"]


@pytest.mark.parametrize("vector", [OB3, CLR])
def test_1edtech_vector_proof_value_reproduced(vector: tuple[str, str]) -> None:
    key = _ob3_key() if vector == OB3 else None
    facts = spec_json(*vector, "vector.json")
    if key is None:
        seed = bytes.fromhex(facts["keyPair"]["privateKeyHex_seed_plus_public"][:64])
        key = _Key(Ed25519PrivateKey.from_private_bytes(seed))
    options = spec_json(*vector, "proof-options.json")
    proof = data_integrity.create_proof(
        spec_json(*vector, "credential.unsigned.json"),
        key,
        verification_method=options["verificationMethod"],
        created=options["created"],
        loader=_loader(),
    )
    assert proof["proofValue"] == facts["proofValue"]
    published = spec_json(*vector, "credential.signed.json")["proof"]
    assert proof == (published[0] if isinstance(published, list) else published)


def test_1edtech_signed_vector_verifies_and_tamper_fails() -> None:
    key = _ob3_key()
    signed = spec_json(*OB3, "credential.signed.json")
    outcomes = data_integrity.verify_document(
        signed, resolve_method=lambda _: key, expected_controller=key.controller, loader=_loader()
    )
    assert [o.verified for o in outcomes] == [True]
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["name"] += "!"
    (outcome,) = data_integrity.verify_document(tampered, resolve_method=lambda _: key, loader=_loader())
    assert not outcome.verified
    assert outcome.code == "signature_invalid"


@pytest.mark.parametrize("folder", ["eddsa-rdfc-2022", "eddsa-rdfc-2022/employ"])
def test_w3c_eddsa_rdfc_2022_vectors(folder: str) -> None:
    base = (*W3C, *folder.split("/"))
    signed = spec_json(*base, "signedDataInt.json")
    loader = _loader()
    unsecured = {k: v for k, v in signed.items() if k != "proof"}
    assert canonize(unsecured, loader=loader) == spec_path(*base, "canonDocDataInt.txt").read_text().rstrip("\n") + "\n"
    key = _w3c_key()
    proof = data_integrity.create_proof(
        unsecured,
        key,
        verification_method=signed["proof"]["verificationMethod"],
        created=signed["proof"]["created"],
        loader=loader,
    )
    assert proof["proofValue"] == signed["proof"]["proofValue"]
    (outcome,) = data_integrity.verify_document(signed, resolve_method=lambda _: key, loader=loader)
    assert outcome.verified, outcome.message


def test_w3c_legacy_ed25519signature2020_vector_verifies() -> None:
    signed = spec_json(*W3C, "Ed25519Signature2020", "signedEdSig.json")
    key = _w3c_key()
    (outcome,) = data_integrity.verify_document(signed, resolve_method=lambda _: key, loader=_loader())
    assert outcome.verified, outcome.message
    assert outcome.cryptosuite == "Ed25519Signature2020"
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    (outcome,) = data_integrity.verify_document(tampered, resolve_method=lambda _: key, loader=_loader())
    assert outcome.code == "signature_invalid"


def test_w3c_proof_set_verifies_each_proof() -> None:
    signed = spec_json(*W3C, "proof-set-chain", "signedProofSet2.json")
    pairs = spec_json(*W3C, "proof-set-chain", "multiKeyPairs.json")
    keys = {}
    for pair in pairs.values():
        secret = multibase_decode(pair["privateKeyMultibase"])
        keys[pair["publicKeyMultibase"]] = _Key(Ed25519PrivateKey.from_private_bytes(secret[2:]))

    def resolve(method: str) -> _Key:
        return keys[method.split("#")[-1]]

    outcomes = data_integrity.verify_document(signed, resolve_method=resolve, loader=_loader())
    assert len(outcomes) == 2
    assert all(o.verified for o in outcomes), [o.message for o in outcomes]
