"""Data Integrity, Multikey, JSON Web Key, Controlled Identifier and Ed25519Signature2018 contexts.

All of them map terms onto the Security Vocabulary (``https://w3id.org/security#``, used by W3C VC Data
Integrity 1.0 and Controlled Identifiers 1.0). They share three building blocks, built here once:

* the *verification relationships* (``assertionMethod``, ``authentication``, …), each an ``@id`` set;
* a *verification-method type* scope: ``controller``, ``revoked``, ``expires`` and the key material;
* a *proof type* scope: ``challenge``, ``created``, ``domain``, ``expires``, ``nonce``, ``proofPurpose``
  (whose value is one of the relationships, hence ``@vocab`` with the relationships as scoped terms) and
  the suite's own properties.
"""

from __future__ import annotations

from typing import Any, Final

from insignia.credentials.jsonld.contexts._terms import DCTERMS, SEC, XSD, Producer, document, scope, term

#: Verification relationships: term → local name in the Security Vocabulary.
RELATIONSHIPS: Final[tuple[tuple[str, str], ...]] = (
    ("assertionMethod", "assertionMethod"),
    ("authentication", "authenticationMethod"),
    ("capabilityInvocation", "capabilityInvocationMethod"),
    ("capabilityDelegation", "capabilityDelegationMethod"),
    ("keyAgreement", "keyAgreementMethod"),
)

MULTIBASE: Final = SEC + "multibase"
DATETIME: Final = XSD + "dateTime"


def relationships() -> dict[str, Any]:
    """The verification relationship terms (sets of verification-method IRIs)."""
    return {name: term(SEC + local, type="@id", container="@set") for name, local in RELATIONSHIPS}


def _controller() -> dict[str, Any]:
    return term(SEC + "controller", type="@id")


def _expires() -> dict[str, Any]:
    return term(SEC + "expiration", type=DATETIME)


def verification_method_type(name: str, key_material: dict[str, Any], *, expires: bool = True) -> dict[str, Any]:
    """A verification-method type term whose scoped context adds the common properties and ``key_material``."""
    terms: dict[str, Any] = {"controller": _controller(), "revoked": term(SEC + "revoked", type=DATETIME)}
    if expires:
        terms["expires"] = _expires()
    terms.update(key_material)
    return term(SEC + name, context=scope(terms))


def multikey() -> dict[str, Any]:
    """The ``Multikey`` verification-method type (Controlled Identifiers 1.0)."""
    return verification_method_type(
        "Multikey",
        {
            "publicKeyMultibase": term(SEC + "publicKeyMultibase", type=MULTIBASE),
            "secretKeyMultibase": term(SEC + "secretKeyMultibase", type=MULTIBASE),
        },
    )


def json_web_key() -> dict[str, Any]:
    """The ``JsonWebKey`` verification-method type (Controlled Identifiers 1.0); keys are JSON literals."""
    return verification_method_type(
        "JsonWebKey",
        {
            "publicKeyJwk": term(SEC + "publicKeyJwk", type="@json"),
            "secretKeyJwk": term(SEC + "secretKeyJwk", type="@json"),
        },
    )


def proof_type(name: str, suite_terms: dict[str, Any]) -> dict[str, Any]:
    """A proof type term whose scoped context holds the common proof options and ``suite_terms``."""
    terms: dict[str, Any] = {
        "challenge": SEC + "challenge",
        "created": term(DCTERMS + "created", type=DATETIME),
        "domain": SEC + "domain",
        "expires": _expires(),
        "nonce": SEC + "nonce",
        "proofPurpose": term(SEC + "proofPurpose", type="@vocab", context=scope(relationships())),
    }
    terms.update(suite_terms)
    return term(SEC + name, context=scope(terms))


def proof_graph() -> dict[str, Any]:
    """``proof``: each proof is its own named graph."""
    return term(SEC + "proof", type="@id", container="@graph")


def _verification_method() -> dict[str, Any]:
    return term(SEC + "verificationMethod", type="@id")


def build_data_integrity(version: int) -> dict[str, Any]:
    """``https://w3id.org/security/data-integrity/v1`` or ``/v2`` (v2 adds proof chains and a typed cryptosuite)."""
    suite: dict[str, Any] = {}
    if version >= 2:
        suite["previousProof"] = term(SEC + "previousProof", type="@id")
        suite["cryptosuite"] = term(SEC + "cryptosuite", type=SEC + "cryptosuiteString")
    else:
        suite["cryptosuite"] = SEC + "cryptosuite"
    suite["proofValue"] = term(SEC + "proofValue", type=MULTIBASE)
    suite["verificationMethod"] = _verification_method()
    terms = {"proof": proof_graph(), "DataIntegrityProof": proof_type("DataIntegrityProof", suite)}
    return document(scope(terms))


def build_multikey() -> dict[str, Any]:
    """``https://w3id.org/security/multikey/v1``."""
    return document(scope({"Multikey": multikey()}))


def build_jwk() -> dict[str, Any]:
    """``https://w3id.org/security/jwk/v1``."""
    return document(scope({"JsonWebKey": json_web_key()}))


def build_cid() -> dict[str, Any]:
    """``https://www.w3.org/ns/cid/v1``: controlled identifier documents and their verification methods."""
    terms: dict[str, Any] = {
        "alsoKnownAs": term("https://www.w3.org/ns/activitystreams#alsoKnownAs", type="@id"),
        **relationships(),
        "controller": _controller(),
        "service": term(
            "https://www.w3.org/ns/did#service",
            type="@id",
            context=scope({"serviceEndpoint": term("https://www.w3.org/ns/did#serviceEndpoint", type="@id")}),
        ),
        "verificationMethod": _verification_method(),
        "Multikey": multikey(),
        "JsonWebKey": json_web_key(),
    }
    return document(scope(terms))


def build_ed25519_2018() -> dict[str, Any]:
    """``https://w3id.org/security/suites/ed25519-2018/v1`` (legacy JWS-based suite)."""
    key = verification_method_type(
        "Ed25519VerificationKey2018", {"publicKeyBase58": term(SEC + "publicKeyBase58")}, expires=False
    )
    signature = proof_type(
        "Ed25519Signature2018", {"jws": term(SEC + "jws"), "verificationMethod": _verification_method()}
    )
    terms = {"proof": proof_graph(), "Ed25519VerificationKey2018": key, "Ed25519Signature2018": signature}
    return document(scope(terms))


PRODUCERS: Final[dict[str, Producer]] = {
    "https://w3id.org/security/data-integrity/v1": lambda: build_data_integrity(1),
    "https://w3id.org/security/data-integrity/v2": lambda: build_data_integrity(2),
    "https://w3id.org/security/multikey/v1": build_multikey,
    "https://w3id.org/security/jwk/v1": build_jwk,
    "https://www.w3.org/ns/cid/v1": build_cid,
    "https://w3id.org/security/suites/ed25519-2018/v1": build_ed25519_2018,
}
