"""Issuing: check a credential, then secure it (Data Integrity proof, VC-JWT, OB 2.0 JWS).

A credential is checked twice before anything is signed: its shape against the Open Badges
3.0 rules, and its terms against the JSON-LD contexts (safe mode) — a property the contexts do
not define would be silently left out of the signature, so it is refused instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from insignia.credentials.errors import ValidationError
from insignia.credentials.jsonld.canonize import canonical_digest
from insignia.credentials.jsonld.loader import ContextLoader
from insignia.credentials.keys import Signer
from insignia.credentials.model.ob3 import validate_endorsement_credential, validate_ob3_credential
from insignia.credentials.proofs import data_integrity, jose

OB3_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential"})


def _types(document: dict[str, Any]) -> set[str]:
    value = document.get("type")
    return {value} if isinstance(value, str) else {t for t in value or [] if isinstance(t, str)}


def check_credential(credential: dict[str, Any], *, loader: ContextLoader | None = None) -> bytes:
    """Raise ``ValidationError`` / ``UndefinedTermError`` if ``credential`` must not be signed.

    Returns the SHA-256 of its canonical N-Quads (without ``proof``), which the safe-mode check computes
    anyway and an eddsa-rdfc-2022 proof signs.
    """
    if not isinstance(credential, dict):
        raise ValidationError("A credential must be a JSON object.", code="not_a_credential")
    types = _types(credential)
    if types & OB3_TYPES:
        validate_ob3_credential(credential)
    elif "EndorsementCredential" in types:
        validate_endorsement_credential(credential)
    elif "VerifiableCredential" not in types:
        raise ValidationError("The document's type must include VerifiableCredential.", code="not_a_credential")
    return canonical_digest({k: v for k, v in credential.items() if k != "proof"}, loader=loader, safe=True)


def sign_credential(
    credential: dict[str, Any],
    signer: Signer,
    *,
    verification_method: str | None = None,
    created: datetime | str | None = None,
    loader: ContextLoader | None = None,
    check: bool = True,
) -> dict[str, Any]:
    """A copy of ``credential`` with an ``eddsa-rdfc-2022`` proof made by ``signer``.

    ``verification_method`` defaults to ``signer.key_id`` (the Multikey URL under the issuer's
    DID or profile). An existing proof is kept, and the new one is added to the proof set.
    """
    method = verification_method or signer.key_id
    if not method:
        raise ValueError("the signer has no key_id: pass verification_method=")
    if signer.algorithm != "EdDSA":
        raise ValueError("eddsa-rdfc-2022 needs an Ed25519 signer")
    digest = check_credential(credential, loader=loader) if check else None
    return data_integrity.sign_document(
        credential, signer, verification_method=method, created=created, loader=loader, document_digest=digest
    )


def credential_jwt(credential: dict[str, Any], signer: Signer, *, kid: str | None = None) -> str:
    """The OB 3.0 VC-JWT form of ``credential`` (RS256 or EdDSA, ``kid`` naming the issuer's key)."""
    check_credential(credential)
    return jose.encode_vc_jwt(credential, signer, kid=kid)


def sign_ob2_assertion(assertion: dict[str, Any], signer: Signer, *, kid: str | None = None) -> str:
    """An OB 2.0 signed assertion (compact JWS, RS256)."""
    return jose.sign_ob2_assertion(assertion, signer, kid=kid)
