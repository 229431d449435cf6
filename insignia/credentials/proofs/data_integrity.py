"""W3C Data Integrity proofs, suite-agnostic: add a proof, verify every proof on a document.

The suites (``eddsa-rdfc-2022`` to issue and verify, ``Ed25519Signature2020`` to verify
legacy credentials) share one recipe — canonicalise the proof options and the document
without its proof, hash both, sign ``hash(proof options) || hash(document)`` — and differ
in names and in which ``@context`` the proof options are canonicalised with. Key lookup
is injected: the caller passes a function that dereferences a verification method.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from insignia.credentials.encoding import multibase_decode, multibase_encode
from insignia.credentials.errors import CredentialError, KeyFormatError, ProofError
from insignia.credentials.jsonld.canonize import canonical_digest
from insignia.credentials.jsonld.loader import ContextLoader

DATA_INTEGRITY_PROOF = "DataIntegrityProof"
EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"

_DATETIME = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
)


class _Signer(Protocol):
    def sign(self, data: bytes) -> bytes: ...


class _PublicKey(Protocol):
    def verify(self, data: bytes, signature: bytes) -> bool: ...


class _Method(Protocol):
    """What a dereferenced verification method must offer (see ``dids.resolver.VerificationMethod``)."""

    @property
    def id(self) -> str: ...

    @property
    def controller(self) -> str: ...

    @property
    def public_key(self) -> Any: ...

    @property
    def purposes(self) -> Any: ...


MethodResolver = Callable[[str], _Method]


@dataclass(frozen=True)
class ProofOutcome:
    """The result of checking one proof: ``signature_valid`` and ``key_bound`` are None when not reached."""

    verified: bool
    code: str
    message: str
    signature_valid: bool | None = None
    key_bound: bool | None = None
    verification_method: str | None = None
    controller: str | None = None
    proof_type: str | None = None
    cryptosuite: str | None = None


def format_datetime(moment: datetime) -> str:
    """XMLSchema dateTime in UTC with second precision, as every suite's examples write it."""
    if moment.tzinfo is None:
        raise ValueError("proof timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hash_data(unsecured: dict, proof_config: dict, loader: ContextLoader | None,
               document_digest: bytes | None = None) -> bytes:
    # canonical_digest is SHA-256 over the canonical N-Quads of ``canonize`` (fast path when it can)
    if document_digest is None:
        document_digest = canonical_digest(unsecured, loader=loader)
    return canonical_digest(proof_config, loader=loader) + document_digest


def _contexts(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def proof_configuration(document: dict, options: dict) -> dict:
    """The proof options without ``proofValue``, under the document's ``@context`` (VC-DI-EDDSA §3.3.5)."""
    config = {key: value for key, value in options.items() if key != "proofValue"}
    config["@context"] = document.get("@context")
    return config


def _legacy_configuration(document: dict, options: dict) -> dict:
    """Ed25519Signature2020 canonicalises its options with the suite context added if the document lacks it."""
    config = {key: value for key, value in options.items() if key not in ("proofValue", "@context")}
    contexts = _contexts(document.get("@context"))
    if ED25519_2020_CONTEXT not in contexts:
        contexts.append(ED25519_2020_CONTEXT)
    config["@context"] = contexts
    return config


def create_proof(
    document: dict,
    signer: _Signer,
    *,
    verification_method: str,
    created: datetime | str | None = None,
    proof_purpose: str = "assertionMethod",
    loader: ContextLoader | None = None,
    proof_id: str | None = None,
    document_digest: bytes | None = None,
) -> dict:
    """An ``eddsa-rdfc-2022`` DataIntegrityProof over ``document`` (any existing ``proof`` is left out).

    ``document_digest``: the SHA-256 of ``document``'s canonical N-Quads (without its proof, safe mode, same
    ``loader``) when the caller has just computed it, as ``issue.sign_credential``'s check does: not done twice.
    """
    if created is None:
        created = datetime.now(UTC)
    created_text = format_datetime(created) if isinstance(created, datetime) else created
    options: dict[str, Any] = {"type": DATA_INTEGRITY_PROOF}
    if proof_id is not None:
        options["id"] = proof_id
    options.update(
        {
            "created": created_text,
            "verificationMethod": verification_method,
            "cryptosuite": EDDSA_RDFC_2022,
            "proofPurpose": proof_purpose,
        }
    )
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    signature = signer.sign(_hash_data(unsecured, proof_configuration(unsecured, options), loader, document_digest))
    options["proofValue"] = multibase_encode(signature, "z")
    return options


def sign_document(
    document: dict,
    signer: _Signer,
    *,
    verification_method: str,
    created: datetime | str | None = None,
    proof_purpose: str = "assertionMethod",
    loader: ContextLoader | None = None,
    document_digest: bytes | None = None,
) -> dict:
    """A copy of ``document`` secured with an eddsa-rdfc-2022 proof; an existing proof becomes a proof set."""
    proof = create_proof(
        document,
        signer,
        verification_method=verification_method,
        created=created,
        proof_purpose=proof_purpose,
        loader=loader,
        document_digest=document_digest,
    )
    secured = dict(document)
    existing = document.get("proof")
    if existing is None:
        secured["proof"] = proof
    else:
        secured["proof"] = [*(existing if isinstance(existing, list) else [existing]), proof]
    return secured


def proofs_of(document: dict) -> list[dict]:
    """The document's proofs as a list; raises ProofError if there is none or one is not an object."""
    raw = document.get("proof")
    if raw is None:
        raise ProofError("The credential has no proof: it is not signed.", code="proof_missing")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise ProofError("The credential's proof list is empty: it is not signed.", code="proof_missing")
    for item in items:
        if not isinstance(item, dict):
            raise ProofError("A proof must be a JSON object.", code="proof_malformed")
    return items


def _check_options(proof: dict) -> tuple[str, str]:
    """Validate the proof's own fields; returns (suite label, verification method)."""
    proof_type = proof.get("type")
    cryptosuite = proof.get("cryptosuite")
    if proof_type == DATA_INTEGRITY_PROOF:
        if cryptosuite != EDDSA_RDFC_2022:
            raise ProofError(
                f"The proof uses the cryptosuite {cryptosuite!r}; this verifier supports eddsa-rdfc-2022.",
                code="proof_unsupported",
            )
        label = EDDSA_RDFC_2022
    elif proof_type == ED25519_SIGNATURE_2020:
        label = ED25519_SIGNATURE_2020
    else:
        raise ProofError(
            f"The proof type {proof_type!r} is not supported (DataIntegrityProof with eddsa-rdfc-2022, "
            "or legacy Ed25519Signature2020).",
            code="proof_unsupported",
        )
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise ProofError("The proof does not name its verificationMethod.", code="proof_malformed")
    created = proof.get("created")
    if created is not None and (not isinstance(created, str) or not _DATETIME.match(created)):
        raise ProofError(
            f"The proof's created value {created!r} is not an XML Schema dateTime.", code="proof_malformed"
        )
    if not isinstance(proof.get("proofPurpose"), str):
        raise ProofError("The proof does not state its proofPurpose.", code="proof_malformed")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("The proofValue must be a base58btc multibase string (starting with 'z').",
                         code="proof_malformed")
    return label, method


def _parse_expires(proof: dict) -> datetime | None:
    expires = proof.get("expires")
    if expires is None:
        return None
    if not isinstance(expires, str) or not _DATETIME.match(expires):
        raise ProofError(f"The proof's expires value {expires!r} is not a dateTime.", code="proof_malformed")
    moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def verify_proof(
    document: dict,
    proof: dict,
    *,
    resolve_method: MethodResolver,
    expected_purpose: str = "assertionMethod",
    expected_controller: str | None = None,
    loader: ContextLoader | None = None,
    now: datetime | None = None,
) -> ProofOutcome:
    """Check one proof of ``document``. Never raises for a bad proof: the outcome says why it failed."""
    try:
        label, method_id = _check_options(proof)
    except ProofError as exc:
        return ProofOutcome(False, exc.code, exc.message, proof_type=str(proof.get("type")))
    base: dict[str, Any] = {"verification_method": method_id, "proof_type": proof.get("type"), "cryptosuite": label}
    if proof["proofPurpose"] != expected_purpose:
        return ProofOutcome(
            False,
            "proof_purpose_mismatch",
            f"The proof was made for '{proof['proofPurpose']}', not '{expected_purpose}'.",
            **base,
        )
    try:
        expires = _parse_expires(proof)
    except ProofError as exc:
        return ProofOutcome(False, exc.code, exc.message, **base)
    if expires is not None and expires < (now or datetime.now(UTC)):
        return ProofOutcome(False, "proof_expired", f"The proof expired at {proof['expires']}.", **base)
    try:
        signature = multibase_decode(proof["proofValue"])
    except KeyFormatError as exc:
        return ProofOutcome(False, "proof_malformed", f"The proofValue cannot be decoded: {exc}", **base)
    if len(signature) != 64:
        return ProofOutcome(False, "proof_malformed", "An Ed25519 signature is 64 bytes; this one is not.", **base)
    try:
        method = resolve_method(method_id)
    except CredentialError as exc:
        return ProofOutcome(
            False, "verification_method_unresolved",
            f"The signing key {method_id} could not be retrieved: {exc}", **base,
        )
    base["controller"] = method.controller
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    if label == EDDSA_RDFC_2022:
        proof_context = proof.get("@context")
        if proof_context is not None and _contexts(proof_context) != _contexts(unsecured.get("@context")):
            return ProofOutcome(
                False,
                "proof_context_mismatch",
                "The proof's @context differs from the credential's, so it was not made over this credential.",
                signature_valid=False,
                **base,
            )
        config = proof_configuration(unsecured, {k: v for k, v in proof.items() if k != "@context"})
    else:
        config = _legacy_configuration(unsecured, proof)
    try:
        data = _hash_data(unsecured, config, loader)
    except CredentialError as exc:
        return ProofOutcome(
            False, exc.code, f"The signed data cannot be reconstructed: {exc}", signature_valid=False, **base
        )
    if not method.public_key.verify(data, signature):
        return ProofOutcome(
            False,
            "signature_invalid",
            "The signature does not match the credential: it was altered after signing, or signed by another key.",
            signature_valid=False,
            **base,
        )
    if expected_purpose not in set(method.purposes or ()):
        return ProofOutcome(
            False,
            "verification_method_not_authorized",
            f"The key {method_id} is not listed under '{expected_purpose}' by its controller {method.controller}.",
            signature_valid=True,
            key_bound=False,
            **base,
        )
    if expected_controller is not None and method.controller != expected_controller:
        return ProofOutcome(
            False,
            "issuer_key_mismatch",
            f"The credential names {expected_controller} as its issuer, but it was signed with a key "
            f"controlled by {method.controller}.",
            signature_valid=True,
            key_bound=False,
            **base,
        )
    return ProofOutcome(
        True, "proof_valid", f"Signed with {method_id} ({label}).", signature_valid=True, key_bound=True, **base
    )


def verify_document(
    document: dict,
    *,
    resolve_method: MethodResolver,
    expected_purpose: str = "assertionMethod",
    expected_controller: str | None = None,
    loader: ContextLoader | None = None,
    now: datetime | None = None,
) -> list[ProofOutcome]:
    """Check every proof of ``document`` (a proof set). Raises ProofError only if there is no proof at all."""
    return [
        verify_proof(
            document,
            proof,
            resolve_method=resolve_method,
            expected_purpose=expected_purpose,
            expected_controller=expected_controller,
            loader=loader,
            now=now,
        )
        for proof in proofs_of(document)
    ]
