"""Keys: signers (Ed25519, RSA, or anything that follows the ``Signer`` protocol) and public keys in every format."""

from insignia.credentials.keys.jwk import jwk_thumbprint
from insignia.credentials.keys.multikey import (
    EDDSA,
    RS256,
    PublicKey,
    decode_ed25519_secret_multibase,
    encode_ed25519_secret_multibase,
    jsonwebkey_document,
    multikey_document,
    public_key_from_jwk,
    public_key_from_method,
    public_key_from_pem,
)
from insignia.credentials.keys.signer import Ed25519Signer, RsaSigner, Signer, Verifier, signer_from_pem

__all__ = [
    "EDDSA",
    "RS256",
    "Ed25519Signer",
    "PublicKey",
    "RsaSigner",
    "Signer",
    "Verifier",
    "decode_ed25519_secret_multibase",
    "encode_ed25519_secret_multibase",
    "jsonwebkey_document",
    "jwk_thumbprint",
    "multikey_document",
    "public_key_from_jwk",
    "public_key_from_method",
    "public_key_from_pem",
    "signer_from_pem",
]
