"""How an issuer appears to the world: its DID, its public URLs, and the signers for its active keys.

Every issuer is ``did:web`` under INSIGNIA_BASE_URL: ``{BASE}/i/<public_id>`` is its profile, and
``{BASE}/i/<public_id>/did.json`` its DID document (``did:web:<host>:i:<public_id>``).
"""

from __future__ import annotations

from django.conf import settings

from insignia.core.keystore import decrypt_signer
from insignia.credentials.dids import did_web_for_url
from insignia.credentials.keys import Ed25519Signer, RsaSigner
from insignia.issuers.models import Issuer, KeyAlgorithm, SigningKey


def issuer_url(issuer: Issuer) -> str:
    """The issuer's public profile URL (HTML for people, OB 3.0 Profile JSON for machines)."""
    return f"{settings.BASE_URL}/i/{issuer.public_id}"


def issuer_did(issuer: Issuer) -> str:
    return did_web_for_url(issuer_url(issuer))


def did_document_url(issuer: Issuer) -> str:
    return f"{issuer_url(issuer)}/did.json"


def ob2_issuer_url(issuer: Issuer) -> str:
    return f"{issuer_url(issuer)}/ob2"


def ob2_key_url(key: SigningKey) -> str:
    return f"{issuer_url(key.issuer)}/keys/{key.fragment}"


def ob2_revocation_list_url(issuer: Issuer) -> str:
    return f"{issuer_url(issuer)}/ob2/revocations"


def key_id(key: SigningKey) -> str:
    """The verification method id of a key: ``did:web:…#<fragment>``."""
    return f"{issuer_did(key.issuer)}#{key.fragment}"


def active_key(issuer: Issuer, algorithm: str) -> SigningKey:
    key = issuer.keys.filter(algorithm=algorithm, retired_at__isnull=True).order_by("-created_at", "-id").first()
    if key is None:
        raise LookupError(f"{issuer} has no active {algorithm} key")
    return key


def signer_for_key(key: SigningKey) -> Ed25519Signer | RsaSigner:
    return decrypt_signer(key.encrypted_private_key, key_id=key_id(key))


def active_signer(issuer: Issuer, algorithm: str = KeyAlgorithm.ED25519) -> Ed25519Signer | RsaSigner:
    """The signer of the issuer's newest active key of ``algorithm`` ("EdDSA" or "RS256")."""
    return signer_for_key(active_key(issuer, algorithm))


def issuer_image_url(issuer: Issuer) -> str | None:
    """Where the issuer's image is served (``None`` when it has none)."""
    return f"{issuer_url(issuer)}/image" if issuer.image else None
