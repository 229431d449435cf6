"""How an issuer appears to the world: its DID, its public URLs, and the signers for its active keys.

An issuer's public pages live under INSIGNIA_BASE_URL: ``{BASE}/i/<public_id>`` is its profile. Its DID,
the issuer id of its OB 3.0 credentials, is one of (``Issuer.did_method``, chosen at creation):

* ``did:web:<host>:i:<public_id>`` (the default), whose document ``{BASE}/i/<public_id>/did.json`` lists
  every key, active and retired: tied to this domain, and keys can rotate;
* ``did:key:z6Mk…``, the issuer's Ed25519 key itself: portable (it resolves without this server) but it
  cannot rotate, since a new key is a new DID. Its VC-JWTs are signed with that key too (EdDSA), because a
  did:key names no other key; its RSA key serves OB 2.0 only, published under this domain.
"""

from __future__ import annotations

from insignia.core.keystore import decrypt_signer
from insignia.core.public_urls import issuer_public_url
from insignia.credentials.dids import did_key_from_public_key, did_web_for_url
from insignia.credentials.keys import Ed25519Signer, PublicKey, RsaSigner
from insignia.issuers.models import DidMethod, Issuer, KeyAlgorithm, SigningKey

#: The trade-off between the two DID methods, in one sentence (shown where an issuer is created and viewed).
DID_METHOD_TRADE_OFF = ("did:web is tied to this domain (its keys can rotate); did:key is portable, resolving "
                        "without this server, but cannot rotate.")


def issuer_url(issuer: Issuer) -> str:
    """The issuer's public profile URL (HTML for people, OB 3.0 Profile JSON for machines)."""
    return issuer_public_url(issuer.public_id)


def identity_key(issuer: Issuer) -> SigningKey:
    """A did:key issuer's Ed25519 key: its first, which never rotates (its multibase form is the DID)."""
    key = issuer.keys.filter(algorithm=KeyAlgorithm.ED25519).order_by("created_at", "id").first()
    if key is None:
        raise LookupError(f"{issuer} has no Ed25519 key")
    return key


def issuer_did(issuer: Issuer) -> str:
    """``did:web:…`` under our base URL, or ``did:key:z6Mk…`` for a did:key issuer (cached on the instance)."""
    if issuer.did_method != DidMethod.KEY:
        return did_web_for_url(issuer_url(issuer))
    cached = getattr(issuer, "_did_key", None)
    if cached is None:
        cached = did_key_from_public_key(PublicKey.from_jwk(identity_key(issuer).public_jwk))
        issuer._did_key = cached  # type: ignore[attr-defined]
    return cached


def uses_did_key(issuer: Issuer) -> bool:
    return issuer.did_method == DidMethod.KEY


def did_document_url(issuer: Issuer) -> str:
    return issuer_public_url(issuer.public_id, "did.json")


def ob2_issuer_url(issuer: Issuer) -> str:
    return issuer_public_url(issuer.public_id, "ob2")


def ob2_key_url(key: SigningKey) -> str:
    return issuer_public_url(key.issuer.public_id, "keys", key.fragment)


def ob2_revocation_list_url(issuer: Issuer) -> str:
    return issuer_public_url(issuer.public_id, "ob2", "revocations")


def key_id(key: SigningKey) -> str:
    """The id of a key: ``did:web:…#<fragment>``; for a did:key issuer ``did:key:z…#z…`` (its Ed25519 key, as
    the did:key document names it) or the OB 2.0 key URL (its RSA keys, which no did:key can name)."""
    if key.issuer.did_method != DidMethod.KEY:
        return f"{issuer_did(key.issuer)}#{key.fragment}"
    if key.algorithm == KeyAlgorithm.ED25519:
        return f"{did_key_from_public_key(PublicKey.from_jwk(key.public_jwk))}#{key.public_multibase}"
    return ob2_key_url(key)


def active_key(issuer: Issuer, algorithm: str) -> SigningKey:
    key = issuer.keys.filter(algorithm=algorithm, retired_at__isnull=True).order_by("-created_at", "-id").first()
    if key is None:
        raise LookupError(f"{issuer} has no active {algorithm} key")
    return key


def jwt_key(issuer: Issuer) -> SigningKey:
    """The key that signs VC-JWTs: the active RSA key (RS256), or a did:key issuer's Ed25519 key (EdDSA)."""
    if issuer.did_method == DidMethod.KEY:
        return identity_key(issuer)
    return active_key(issuer, KeyAlgorithm.RSA)


def signer_for_key(key: SigningKey) -> Ed25519Signer | RsaSigner:
    return decrypt_signer(key.encrypted_private_key, key_id=key_id(key))


def active_signer(issuer: Issuer, algorithm: str = KeyAlgorithm.ED25519) -> Ed25519Signer | RsaSigner:
    """The signer of the issuer's newest active key of ``algorithm`` ("EdDSA" or "RS256")."""
    return signer_for_key(active_key(issuer, algorithm))


def issuer_image_url(issuer: Issuer) -> str | None:
    """Where the issuer's image is served (``None`` when it has none)."""
    return issuer_public_url(issuer.public_id, "image") if issuer.image else None
