"""The issuer's public documents, built with the standards kernel from the database rows.

* the did:web DID document: every key, active and retired (what a retired key signed keeps verifying),
  Ed25519 as Multikey and RSA as JsonWebKey, each under ``assertionMethod`` and ``authentication``;
* the Open Badges 3.0 issuer Profile (its id is the issuer's DID);
* the Open Badges 2.0 Issuer, listing its RSA CryptographicKeys and its revocation list;
* each OB 2.0 CryptographicKey (RSA keys only: OB 2.0 signs with RS256).
"""

from __future__ import annotations

from typing import Any

from insignia.credentials.dids import build_did_web_document
from insignia.credentials.keys import PublicKey
from insignia.credentials.model import ob2, ob3
from insignia.issuers.identity import (
    issuer_did,
    issuer_image_url,
    ob2_issuer_url,
    ob2_key_url,
    ob2_revocation_list_url,
)
from insignia.issuers.models import Issuer, KeyAlgorithm, SigningKey


def public_key(key: SigningKey) -> PublicKey:
    """The kernel's public key for a stored key (from its JWK, which every key has)."""
    return PublicKey.from_jwk(key.public_jwk)


def published_keys(issuer: Issuer) -> list[SigningKey]:
    """All keys of the issuer, oldest first, active and retired alike."""
    return list(issuer.keys.order_by("created_at", "id"))


def did_document(issuer: Issuer) -> dict[str, Any]:
    """The did:web document served at ``{issuer_url}/did.json``."""
    keys = published_keys(issuer)
    return build_did_web_document(
        issuer_did(issuer),
        ed25519_keys=[(k.fragment, public_key(k)) for k in keys if k.algorithm == KeyAlgorithm.ED25519],
        rsa_keys=[(k.fragment, public_key(k)) for k in keys if k.algorithm == KeyAlgorithm.RSA],
    )


def ob3_profile(issuer: Issuer) -> ob3.Profile:
    """The issuer as an OB 3.0 Profile, as embedded in the credentials it issues."""
    image = issuer_image_url(issuer)
    return ob3.Profile(
        id=issuer_did(issuer),
        name=issuer.name,
        url=issuer.url,
        email=issuer.email or None,
        description=issuer.description or None,
        image=ob3.Image(id=image) if image else None,
    )


def profile_document(issuer: Issuer) -> dict[str, Any]:
    """The OB 3.0 Profile JSON-LD document served at the issuer's URL."""
    return ob3.profile_document(ob3_profile(issuer))


def ob2_issuer_document(issuer: Issuer) -> dict[str, Any]:
    """The OB 2.0 Issuer (Profile) document served at ``ob2_issuer_url``."""
    rsa_keys = [k for k in published_keys(issuer) if k.algorithm == KeyAlgorithm.RSA]
    return ob2.Issuer(
        id=ob2_issuer_url(issuer),
        name=issuer.name,
        url=issuer.url,
        email=issuer.email,
        description=issuer.description or None,
        image=issuer_image_url(issuer),
        public_key=[ob2_key_url(k) for k in rsa_keys],
        revocation_list=ob2_revocation_list_url(issuer),
    ).to_json()


def ob2_key_document(key: SigningKey) -> dict[str, Any]:
    """An OB 2.0 CryptographicKey: the PEM public key, owned by the OB 2.0 Issuer."""
    return ob2.CryptographicKey(
        id=ob2_key_url(key), owner=ob2_issuer_url(key.issuer), public_key_pem=key.public_pem
    ).to_json()
