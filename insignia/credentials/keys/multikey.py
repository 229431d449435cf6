"""Public keys and the documents that publish them: Multikey, JsonWebKey, and the legacy Ed25519 key types.

``PublicKey`` is the one public-key type of the kernel: every verifier (Data Integrity, JWS, VC-JWT)
takes one, and every way a key is written down (multibase, JWK, PEM, base58) parses into one. It wraps
a ``cryptography`` key, so the arithmetic is never ours; only the encodings are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
    load_pem_public_key,
)

from insignia.credentials.encoding import b58_decode, b58_encode, multibase_decode, multibase_encode
from insignia.credentials.errors import KeyFormatError
from insignia.credentials.keys.jwk import check_rsa_size, load_public_jwk, public_jwk

ED25519_PUB_PREFIX = b"\xed\x01"
"""Multicodec ``ed25519-pub`` (0xed) as an unsigned varint."""
ED25519_PRIV_PREFIX = b"\x80\x26"
"""Multicodec ``ed25519-priv`` (0x1300) as an unsigned varint."""

EDDSA = "EdDSA"
RS256 = "RS256"

MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
JWK_CONTEXT = "https://w3id.org/security/jwk/v1"

_KNOWN_PREFIXES = {
    b"\xe7\x01": "secp256k1-pub",
    b"\x80\x24": "p256-pub",
    b"\x81\x24": "p384-pub",
    b"\xec\x01": "x25519-pub",
    b"\x85\x24": "rsa-pub",
}
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


class PublicKey:
    """An Ed25519 or RSA (>= 2048 bits) public key that can check signatures and be written in every format."""

    __slots__ = ("_der", "_key")

    def __init__(self, key: Ed25519PublicKey | RSAPublicKey) -> None:
        if isinstance(key, RSAPublicKey):
            check_rsa_size(key.key_size)
        elif not isinstance(key, Ed25519PublicKey):
            raise KeyFormatError(
                f"Unsupported public key type {type(key).__name__}: Insignia verifies Ed25519 and RSA keys.",
                code="key_type_unsupported",
            )
        self._key = key
        self._der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)

    # -- identity -------------------------------------------------------------------------------------------
    @property
    def key(self) -> Ed25519PublicKey | RSAPublicKey:
        """The underlying ``cryptography`` key."""
        return self._key

    @property
    def key_type(self) -> str:
        """``"Ed25519"`` or ``"RSA"``."""
        return "Ed25519" if isinstance(self._key, Ed25519PublicKey) else "RSA"

    @property
    def algorithm(self) -> str:
        """The JOSE algorithm this key verifies: ``"EdDSA"`` or ``"RS256"``. A key never serves two."""
        return EDDSA if isinstance(self._key, Ed25519PublicKey) else RS256

    @property
    def raw(self) -> bytes:
        """The 32 raw bytes of an Ed25519 key."""
        if not isinstance(self._key, Ed25519PublicKey):
            raise KeyFormatError("Only Ed25519 keys have a raw 32-byte form.", code="key_type_unsupported")
        return self._key.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._der == self._der

    def __hash__(self) -> int:
        return hash(self._der)

    def __repr__(self) -> str:
        key = self._key
        label = f"{key.key_size} bits" if isinstance(key, RSAPublicKey) else self.to_multibase()
        return f"PublicKey({self.key_type}, {label})"

    # -- verification ---------------------------------------------------------------------------------------
    def verify(self, data: bytes, signature: bytes) -> bool:
        """True iff ``signature`` is this key's signature of ``data`` (Ed25519, or RSASSA-PKCS1-v1_5 SHA-256).

        Never raises for a bad or malformed signature: callers branch on the result.
        """
        if not isinstance(data, bytes | bytearray) or not isinstance(signature, bytes | bytearray):
            return False
        try:
            if isinstance(self._key, Ed25519PublicKey):
                if len(signature) != 64:
                    return False
                self._key.verify(bytes(signature), bytes(data))
            else:
                self._key.verify(bytes(signature), bytes(data), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    # -- output formats -------------------------------------------------------------------------------------
    def to_multibase(self) -> str:
        """Multikey ``publicKeyMultibase``: ``"z" + base58btc(0xed 0x01 || key)`` (Ed25519 only)."""
        return multibase_encode(ED25519_PUB_PREFIX + self.raw, "z")

    def to_base58(self) -> str:
        """Ed25519VerificationKey2018 ``publicKeyBase58`` (raw key, no multicodec prefix)."""
        return b58_encode(self.raw)

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (never with private members)."""
        return public_jwk(self._key)

    def to_pem(self) -> str:
        """SubjectPublicKeyInfo PEM (what OB 2.0 ``publicKeyPem`` holds)."""
        return self._key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")

    def to_der(self) -> bytes:
        """SubjectPublicKeyInfo DER."""
        return self._der

    # -- parsers --------------------------------------------------------------------------------------------
    @classmethod
    def from_raw_ed25519(cls, raw: bytes) -> PublicKey:
        """A key from the 32 raw Ed25519 bytes."""
        if not isinstance(raw, bytes | bytearray) or len(raw) != 32:
            size = len(raw) if isinstance(raw, bytes | bytearray) else "no"
            raise KeyFormatError(f"An Ed25519 public key is 32 bytes, not {size}.", code="key_length_invalid")
        return cls(Ed25519PublicKey.from_public_bytes(bytes(raw)))

    @classmethod
    def from_multibase(cls, value: str) -> PublicKey:
        """Parse a Multikey / Ed25519VerificationKey2020 ``publicKeyMultibase`` (ed25519-pub multicodec)."""
        decoded = multibase_decode(value)
        if not decoded.startswith(ED25519_PUB_PREFIX):
            known = _KNOWN_PREFIXES.get(decoded[:2])
            if decoded.startswith(ED25519_PRIV_PREFIX):
                raise KeyFormatError(
                    "This is a secret key (ed25519-priv), not a public key.", code="multicodec_invalid"
                )
            detail = f"a {known} key, which Insignia does not verify" if known else "an unknown multicodec value"
            raise KeyFormatError(f"The multibase key is {detail}; expected ed25519-pub (z6Mk…).",
                                 code="multicodec_unsupported")
        return cls.from_raw_ed25519(decoded[len(ED25519_PUB_PREFIX):])

    @classmethod
    def from_base58(cls, value: str) -> PublicKey:
        """Parse an Ed25519VerificationKey2018 ``publicKeyBase58`` value (raw 32 bytes)."""
        if not isinstance(value, str) or not value:
            raise KeyFormatError("publicKeyBase58 must be a non-empty string.", code="key_format")
        return cls.from_raw_ed25519(b58_decode(value))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        """Parse a public JWK (OKP/Ed25519 or RSA); private members are refused."""
        return cls(load_public_jwk(jwk))

    @classmethod
    def from_pem(cls, pem: str | bytes) -> PublicKey:
        """Parse a SubjectPublicKeyInfo (or PKCS#1 RSA) public key PEM; refuses private keys."""
        text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
        if not isinstance(text, str):
            raise KeyFormatError("A PEM key must be text.", code="pem_invalid")
        if _PEM_PRIVATE.search(text):
            raise KeyFormatError("This PEM holds a private key; publish only the public key.", code="pem_private_key")
        try:
            key = load_pem_public_key(text.strip().encode("ascii"))
        except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
            raise KeyFormatError(f"The PEM public key cannot be read: {exc}", code="pem_invalid") from exc
        return cls(key)  # type: ignore[arg-type]  # __init__ refuses other key types

    @classmethod
    def from_der(cls, der: bytes) -> PublicKey:
        """Parse a SubjectPublicKeyInfo DER public key."""
        try:
            key = load_der_public_key(der)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise KeyFormatError(f"The DER public key cannot be read: {exc}", code="key_format") from exc
        return cls(key)  # type: ignore[arg-type]


def public_key_from_pem(pem: str | bytes) -> PublicKey:
    """Parse a public key PEM (OB 2.0 ``publicKeyPem``); same as ``PublicKey.from_pem``."""
    return PublicKey.from_pem(pem)


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """Parse a public JWK (``publicKeyJwk``, a JOSE ``jwk`` header); same as ``PublicKey.from_jwk``."""
    return PublicKey.from_jwk(jwk)


def decode_ed25519_secret_multibase(value: str) -> bytes:
    """The 32-byte Ed25519 seed from a ``secretKeyMultibase`` (multicodec ed25519-priv, 0x1300).

    Accepts the standard 32-byte seed payload and Digital Bazaar's export form (64 bytes: seed || public
    key, as in the 1EdTech OB 3.0 test vector); in the latter the public half must match the seed.
    """
    decoded = multibase_decode(value)
    if not decoded.startswith(ED25519_PRIV_PREFIX):
        raise KeyFormatError("The secret key is not multicodec ed25519-priv (0x1300).", code="multicodec_unsupported")
    body = decoded[len(ED25519_PRIV_PREFIX):]
    if len(body) == 32:
        return body
    if len(body) == 64:
        seed, public = body[:32], body[32:]
        derived = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if derived != public:
            raise KeyFormatError("The secret key's public half does not belong to its seed.", code="key_mismatch")
        return seed
    raise KeyFormatError(f"An Ed25519 secret key is 32 (or 32+32) bytes, not {len(body)}.", code="key_length_invalid")


def encode_ed25519_secret_multibase(seed: bytes) -> str:
    """The standard ``secretKeyMultibase`` of a 32-byte seed (multicodec ed25519-priv)."""
    if len(seed) != 32:
        raise KeyFormatError("An Ed25519 seed is 32 bytes.", code="key_length_invalid")
    return multibase_encode(ED25519_PRIV_PREFIX + seed, "z")


def multikey_document(
    public_key: PublicKey, *, id: str, controller: str, with_context: bool = False
) -> dict[str, Any]:
    """A Multikey verification method: ``{id, type: "Multikey", controller, publicKeyMultibase}`` (Ed25519)."""
    document: dict[str, Any] = {}
    if with_context:
        document["@context"] = MULTIKEY_CONTEXT
    document.update(
        {"id": id, "type": "Multikey", "controller": controller, "publicKeyMultibase": public_key.to_multibase()}
    )
    return document


def jsonwebkey_document(
    public_key: PublicKey, *, id: str, controller: str, with_context: bool = False
) -> dict[str, Any]:
    """A JsonWebKey verification method: ``{id, type: "JsonWebKey", controller, publicKeyJwk}`` (RSA or Ed25519)."""
    document: dict[str, Any] = {}
    if with_context:
        document["@context"] = JWK_CONTEXT
    document.update({"id": id, "type": "JsonWebKey", "controller": controller, "publicKeyJwk": public_key.to_jwk()})
    return document


def public_key_from_method(method: Mapping[str, Any]) -> PublicKey:
    """The key a verification method document publishes.

    Understands Multikey, JsonWebKey / JsonWebKey2020, Ed25519VerificationKey2020 (``publicKeyMultibase``),
    Ed25519VerificationKey2018 (``publicKeyBase58``) and OB 2.0 CryptographicKey (``publicKeyPem``).
    The key material must be in the member its type defines.
    """
    if not isinstance(method, Mapping):
        raise KeyFormatError("A verification method must be a JSON object.", code="verification_method_invalid")
    kind = method.get("type")
    types = set(kind) if isinstance(kind, list) else {kind}
    if types & {"Multikey", "Ed25519VerificationKey2020"}:
        value = method.get("publicKeyMultibase")
        if not isinstance(value, str):
            raise KeyFormatError(f"A {kind} method must have publicKeyMultibase.", code="verification_method_invalid")
        return PublicKey.from_multibase(value)
    if types & {"JsonWebKey", "JsonWebKey2020"}:
        jwk = method.get("publicKeyJwk")
        if not isinstance(jwk, Mapping):
            raise KeyFormatError(f"A {kind} method must have publicKeyJwk.", code="verification_method_invalid")
        return PublicKey.from_jwk(jwk)
    if "Ed25519VerificationKey2018" in types:
        value = method.get("publicKeyBase58")
        if not isinstance(value, str):
            raise KeyFormatError("An Ed25519VerificationKey2018 must have publicKeyBase58.",
                                 code="verification_method_invalid")
        return PublicKey.from_base58(value)
    if "publicKeyPem" in method and types & {"CryptographicKey", "sec:Key", None}:
        value = method.get("publicKeyPem")
        if not isinstance(value, str):
            raise KeyFormatError("publicKeyPem must be a string.", code="verification_method_invalid")
        return PublicKey.from_pem(value)
    raise KeyFormatError(
        f"Unsupported verification method type {kind!r}: expected Multikey, JsonWebKey, "
        "Ed25519VerificationKey2020/2018 or (OB 2.0) CryptographicKey.",
        code="verification_method_unsupported",
    )


__all__ = [
    "ED25519_PRIV_PREFIX",
    "ED25519_PUB_PREFIX",
    "EDDSA",
    "JWK_CONTEXT",
    "MULTIKEY_CONTEXT",
    "RS256",
    "PublicKey",
    "decode_ed25519_secret_multibase",
    "encode_ed25519_secret_multibase",
    "jsonwebkey_document",
    "multikey_document",
    "public_key_from_jwk",
    "public_key_from_method",
    "public_key_from_pem",
]
