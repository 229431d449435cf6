"""Our eddsa-rdfc-2022 proofs against Digital Bazaar's @digitalbazaar/vc (jsonld.js, rdf-canonize).

Both directions: credentials we sign verify in their stack, credentials they sign verify in ours,
and — Ed25519 being deterministic — both produce the same proofValue for the same proof options.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from benchmarks.credentials import realistic_credential
from insignia.credentials.encoding import multibase_encode
from insignia.credentials.jsonld.canonize import canonize
from insignia.credentials.proofs import data_integrity
from tests.conftest import spec_json

CONTROLLER = "https://issuer.example/issuers/1"
CREATED = "2026-11-01T10:00:00Z"


@dataclass
class Key:
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    controller: str = CONTROLLER
    purposes: frozenset[str] = frozenset({"assertionMethod"})

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def multibase(self) -> str:
        return multibase_encode(b"\xed\x01" + self.public_raw)

    @property
    def id(self) -> str:
        return f"{self.controller}#{self.multibase}"

    @property
    def public_key(self) -> Key:
        return self

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self.private.public_key().verify(signature, data)
        except Exception:
            return False
        return True

    def node_key(self) -> dict:
        seed = self.private.private_bytes_raw()
        return {
            "id": self.id,
            "controller": self.controller,
            "publicKeyMultibase": self.multibase,
            "secretKeyMultibase": multibase_encode(b"\x80\x26" + seed),
        }

    def documents(self) -> dict:
        """The controller document and the Multikey, as a verifier would retrieve them."""
        method = {
            "@context": "https://w3id.org/security/multikey/v1",
            "id": self.id,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.multibase,
        }
        controller = {
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
            "id": self.controller,
            "assertionMethod": [method],
        }
        return {self.id: method, self.controller: controller}


def _ours(credential: dict, key: Key) -> dict:
    return data_integrity.sign_document(credential, key, verification_method=key.id, created=CREATED)


def _credentials() -> list[dict]:
    batch = []
    for n in range(3):
        credential = realistic_credential(n)
        credential["issuer"]["id"] = CONTROLLER
        batch.append(credential)
    awkward = realistic_credential(99)
    awkward["issuer"]["id"] = CONTROLLER
    awkward["name"] = 'Ünïcødé "quotes" \\ back\\slash \t tab \n newline \u0001\u001f\u007f control 🎓 astral'
    awkward["credentialSubject"]["achievement"]["description"] = "e\u0301 combining, \u2028 line sep, \r CR"
    batch.append(awkward)
    for name in ("basicOpenBadgeCredential.json", "fullOpenBadge.json"):
        example = spec_json("examples", "ob_v3p0", name)
        example.pop("proof", None)
        example["issuer"] = dict(example["issuer"], id=CONTROLLER) if isinstance(example["issuer"], dict) \
            else CONTROLLER
        batch.append(example)
    return batch


@pytest.mark.interop
@pytest.mark.parametrize("index", range(6))
def test_we_sign_they_verify_and_proof_values_agree(node_tool, index: int) -> None:
    key = Key()
    credential = _credentials()[index]
    ours = _ours(credential, key)
    answer = node_tool({"op": "verify", "credential": ours, "documents": key.documents()})
    assert answer["verified"], answer["errors"]
    theirs = node_tool({"op": "sign", "credential": credential, "key": key.node_key(), "created": CREATED})
    assert theirs["credential"]["proof"]["proofValue"] == ours["proof"]["proofValue"]


@pytest.mark.interop
def test_they_sign_we_verify_and_tampering_fails_in_both(node_tool) -> None:
    key = Key()
    credential = _credentials()[3]
    theirs = node_tool({"op": "sign", "credential": credential, "key": key.node_key(), "created": CREATED})
    signed = theirs["credential"]
    (outcome,) = data_integrity.verify_document(signed, resolve_method=lambda _: key, expected_controller=CONTROLLER)
    assert outcome.verified, outcome.message
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["achievement"]["name"] = "Something else"
    (outcome,) = data_integrity.verify_document(tampered, resolve_method=lambda _: key)
    assert outcome.code == "signature_invalid"
    answer = node_tool({"op": "verify", "credential": tampered, "documents": key.documents()})
    assert not answer["verified"]


@pytest.mark.interop
def test_canonical_nquads_match_rdf_canonize_with_control_characters(node_tool) -> None:
    for credential in _credentials():
        theirs = node_tool({"op": "canonize", "document": credential})["nquads"]
        assert canonize(credential) == theirs
