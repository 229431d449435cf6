"""did:key for Ed25519 (w3c-ccg did-key-spec): the DID is the public key, so resolution needs no network."""

from __future__ import annotations

from typing import Any

from insignia.credentials.errors import DidError, KeyFormatError
from insignia.credentials.keys.multikey import MULTIKEY_CONTEXT, PublicKey

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
DID_KEY_PREFIX = "did:key:"
VERIFICATION_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation", "capabilityDelegation")
"""The relationships a did:key document lists its one key under (keyAgreement is not derived here)."""


def did_key_from_public_key(public_key: PublicKey) -> str:
    """``did:key:z6Mk…`` for an Ed25519 key."""
    if public_key.key_type != "Ed25519":
        raise DidError("Insignia makes did:key identifiers for Ed25519 keys only.", code="unsupported_key_type")
    return DID_KEY_PREFIX + public_key.to_multibase()


def public_key_from_did_key(did: str) -> PublicKey:
    """The Ed25519 key a ``did:key`` encodes (a DID URL's fragment, if any, is ignored)."""
    if not isinstance(did, str) or not did.startswith(DID_KEY_PREFIX):
        raise DidError(f"{did!r} is not a did:key identifier.", code="invalid_did")
    value = did[len(DID_KEY_PREFIX):].split("#", 1)[0]
    if "/" in value or "?" in value or ":" in value:
        raise DidError("A did:key has no path, query or version segment here.", code="invalid_did")
    if not value.startswith("z"):
        raise DidError("A did:key's multibase value must start with 'z' (base58btc).", code="invalid_did")
    try:
        return PublicKey.from_multibase(value)
    except KeyFormatError as exc:
        code = "invalid_public_key_length" if exc.code == "key_length_invalid" else (
            "unsupported_key_type" if exc.code == "multicodec_unsupported" else "invalid_did"
        )
        raise DidError(f"The did:key does not hold a usable Ed25519 key: {exc}", code=code) from exc


def resolve_did_key(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 ``did:key``: one Multikey ``did:key:z6Mk…#z6Mk…`` under every relationship."""
    if not isinstance(did, str) or "#" in did:
        raise DidError("Resolve the DID itself, without a fragment.", code="invalid_did")
    public_key = public_key_from_did_key(did)
    value = did[len(DID_KEY_PREFIX):]
    method_id = f"{did}#{value}"
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [
            {"id": method_id, "type": "Multikey", "controller": did, "publicKeyMultibase": public_key.to_multibase()}
        ],
    }
    for relationship in VERIFICATION_RELATIONSHIPS:
        document[relationship] = [method_id]
    return document


__all__ = [
    "DID_CONTEXT",
    "VERIFICATION_RELATIONSHIPS",
    "did_key_from_public_key",
    "public_key_from_did_key",
    "resolve_did_key",
]
