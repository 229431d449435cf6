"""JSON Web Keys (RFC 7517/7518/8037) for the public keys we verify with: OKP/Ed25519 and RSA.

Only public keys ever pass through here. A JWK that carries private members is refused rather than
silently stripped: a published key document that leaks ``d`` is a mistake the issuer must hear about.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from insignia.credentials.encoding import b64url_decode, b64url_encode
from insignia.credentials.errors import KeyFormatError, MalformedInputError

MIN_RSA_BITS = 2048
"""RSA keys shorter than this are refused everywhere (NIST SP 800-131A; OB 3.0 asks for RS256 at least)."""

MAX_RSA_BITS = 16384
"""Longer moduli are refused so a hostile key cannot make verification arbitrarily slow."""

PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_ALGORITHMS_BY_KTY = {"OKP": {"EdDSA", "Ed25519"}, "RSA": {"RS256"}}


def _uint_b64(value: int) -> str:
    """Base64urlUInt (RFC 7518 §2): big-endian, minimal length."""
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise KeyFormatError(f"The JWK has no '{name}' member (a base64url string).", code="jwk_invalid")
    try:
        return b64url_decode(value)
    except MalformedInputError as exc:
        raise KeyFormatError(f"The JWK member '{name}' is not base64url: {exc}", code="jwk_invalid") from exc


def public_jwk(key: Ed25519PublicKey | RSAPublicKey) -> dict[str, str]:
    """The public JWK of ``key``, with only the required members (no ``kid``/``alg``/``use``)."""
    if isinstance(key, Ed25519PublicKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw))}
    if isinstance(key, RSAPublicKey):
        numbers = key.public_numbers()
        return {"kty": "RSA", "n": _uint_b64(numbers.n), "e": _uint_b64(numbers.e)}
    raise KeyFormatError(f"Cannot express a {type(key).__name__} as a JWK.", code="key_type_unsupported")


def load_public_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey | RSAPublicKey:
    """Parse a public JWK; refuses private members, unknown key types, wrong use/alg and short RSA keys."""
    if not isinstance(jwk, Mapping):
        raise KeyFormatError("A JWK must be a JSON object.", code="jwk_invalid")
    leaked = sorted(PRIVATE_MEMBERS & set(jwk))
    if leaked:
        raise KeyFormatError(
            f"The JWK contains private key members ({', '.join(leaked)}); publish only the public key.",
            code="jwk_private_key",
        )
    kty = jwk.get("kty")
    if kty not in _ALGORITHMS_BY_KTY:
        raise KeyFormatError(f"Unsupported JWK key type {kty!r}: expected 'OKP' (Ed25519) or 'RSA'.",
                             code="key_type_unsupported")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise KeyFormatError(f"The JWK is marked for use {use!r}, not for signatures ('sig').", code="jwk_wrong_use")
    alg = jwk.get("alg")
    if alg is not None and alg not in _ALGORITHMS_BY_KTY[kty]:
        raise KeyFormatError(f"The JWK declares alg {alg!r}, which does not fit a {kty} key.", code="jwk_wrong_alg")
    if kty == "OKP":
        if jwk.get("crv") != "Ed25519":
            raise KeyFormatError(f"Unsupported OKP curve {jwk.get('crv')!r}: expected 'Ed25519'.",
                                 code="key_type_unsupported")
        raw = _member(jwk, "x")
        if len(raw) != 32:
            raise KeyFormatError(f"An Ed25519 public key is 32 bytes; this JWK's 'x' has {len(raw)}.",
                                 code="key_length_invalid")
        return Ed25519PublicKey.from_public_bytes(raw)
    n_bytes, e_bytes = _member(jwk, "n"), _member(jwk, "e")
    if n_bytes[0] == 0 or e_bytes[0] == 0:
        raise KeyFormatError("The JWK's RSA numbers have leading zero bytes (not Base64urlUInt).", code="jwk_invalid")
    n, e = int.from_bytes(n_bytes, "big"), int.from_bytes(e_bytes, "big")
    check_rsa_size(n.bit_length())
    try:
        return RSAPublicNumbers(e, n).public_key()
    except ValueError as exc:
        raise KeyFormatError(f"The JWK is not a valid RSA public key: {exc}", code="jwk_invalid") from exc


def check_rsa_size(bits: int) -> None:
    """Refuse RSA moduli outside [2048, 16384] bits."""
    if bits < MIN_RSA_BITS:
        raise KeyFormatError(f"The RSA key has {bits} bits; at least {MIN_RSA_BITS} are required.",
                             code="rsa_key_too_small")
    if bits > MAX_RSA_BITS:
        raise KeyFormatError(f"The RSA key has {bits} bits; at most {MAX_RSA_BITS} are accepted.",
                             code="rsa_key_too_large")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url): a stable key id that does not depend on where the key is."""
    key = load_public_jwk(jwk)
    required = public_jwk(key)
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest())


__all__ = ["MAX_RSA_BITS", "MIN_RSA_BITS", "check_rsa_size", "jwk_thumbprint", "load_public_jwk", "public_jwk"]
