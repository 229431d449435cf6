"""Signers: who holds a private key and can sign bytes with it.

Everything that signs in the kernel takes a ``Signer`` (a Protocol), never a key object, so a
hardware module or a cloud KMS can stand in for the in-memory signers defined here.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from insignia.credentials.errors import KeyFormatError
from insignia.credentials.keys.jwk import check_rsa_size
from insignia.credentials.keys.multikey import (
    EDDSA,
    RS256,
    PublicKey,
    decode_ed25519_secret_multibase,
    encode_ed25519_secret_multibase,
)


@runtime_checkable
class Signer(Protocol):
    """Signs bytes with one private key; ``key_id`` is the verification method URL that names its public key."""

    algorithm: str
    key_id: str | None

    def sign(self, data: bytes) -> bytes: ...

    def public_key(self) -> PublicKey: ...


@runtime_checkable
class Verifier(Protocol):
    """Checks signatures; ``PublicKey`` is one. ``verify`` returns False for a bad signature, never raises."""

    @property
    def algorithm(self) -> str: ...

    def verify(self, data: bytes, signature: bytes) -> bool: ...


def _pem_password(password: str | bytes | None) -> bytes | None:
    return password.encode("utf-8") if isinstance(password, str) else password


def _load_private_pem(pem: str | bytes, password: str | bytes | None) -> object:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        return load_pem_private_key(data, password=_pem_password(password))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"The private key PEM cannot be read: {exc}", code="pem_invalid") from exc


def _private_pem(key: Ed25519PrivateKey | rsa.RSAPrivateKey, password: str | bytes | None) -> bytes:
    secret = _pem_password(password)
    encryption = BestAvailableEncryption(secret) if secret else NoEncryption()
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)


class Ed25519Signer:
    """An in-memory Ed25519 key: signs for ``eddsa-rdfc-2022`` proofs and EdDSA JWS."""

    algorithm = EDDSA

    def __init__(self, private_key: Ed25519PrivateKey, *, key_id: str | None = None) -> None:
        if not isinstance(private_key, Ed25519PrivateKey):
            raise KeyFormatError("Ed25519Signer needs an Ed25519 private key.", code="key_type_unsupported")
        self._private_key = private_key
        self._public_key = PublicKey(private_key.public_key())
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"Ed25519Signer({self._public_key.to_multibase()}, key_id={self.key_id!r})"

    @classmethod
    def generate(cls, *, key_id: str | None = None) -> Ed25519Signer:
        """A fresh random key."""
        return cls(Ed25519PrivateKey.generate(), key_id=key_id)

    @classmethod
    def from_seed(cls, seed: bytes, *, key_id: str | None = None) -> Ed25519Signer:
        """The key of a 32-byte seed (RFC 8032 private key)."""
        if not isinstance(seed, bytes | bytearray) or len(seed) != 32:
            raise KeyFormatError("An Ed25519 seed is exactly 32 bytes.", code="key_length_invalid")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)), key_id=key_id)

    @classmethod
    def from_private_bytes(cls, data: bytes, *, key_id: str | None = None) -> Ed25519Signer:
        """From a 32-byte seed or the 64-byte NaCl form (seed || public key, whose halves must agree)."""
        if isinstance(data, bytes | bytearray) and len(data) == 64:
            signer = cls.from_seed(bytes(data[:32]), key_id=key_id)
            if signer.public_key().raw != bytes(data[32:]):
                raise KeyFormatError("The 64-byte key's public half does not belong to its seed.",
                                     code="key_mismatch")
            return signer
        return cls.from_seed(data, key_id=key_id)

    @classmethod
    def from_multibase(cls, secret_key_multibase: str, *, key_id: str | None = None) -> Ed25519Signer:
        """From a Multikey ``secretKeyMultibase`` (32-byte seed, or Digital Bazaar's 64-byte export)."""
        return cls.from_seed(decode_ed25519_secret_multibase(secret_key_multibase), key_id=key_id)

    @classmethod
    def from_pem(
        cls, pem: str | bytes, *, password: str | bytes | None = None, key_id: str | None = None
    ) -> Ed25519Signer:
        """From a PKCS#8 PEM (optionally password-encrypted)."""
        key = _load_private_pem(pem, password)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError("The PEM does not hold an Ed25519 private key.", code="key_type_unsupported")
        return cls(key, key_id=key_id)

    def to_pem(self, *, password: str | bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``password`` when one is given."""
        return _private_pem(self._private_key, password)

    def seed(self) -> bytes:
        """The 32-byte seed (handle with care: this is the secret)."""
        return self._private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def to_multibase(self) -> str:
        """The standard ``secretKeyMultibase`` (ed25519-priv multicodec, 32-byte seed)."""
        return encode_ed25519_secret_multibase(self.seed())

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data`` (deterministic)."""
        return self._private_key.sign(data)

    def public_key(self) -> PublicKey:
        return self._public_key


class RsaSigner:
    """An in-memory RSA key (>= 2048 bits): RS256 = RSASSA-PKCS1-v1_5 with SHA-256, for OB 2.0 and VC-JWT."""

    algorithm = RS256

    def __init__(self, private_key: rsa.RSAPrivateKey, *, key_id: str | None = None) -> None:
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise KeyFormatError("RsaSigner needs an RSA private key.", code="key_type_unsupported")
        check_rsa_size(private_key.key_size)
        self._private_key = private_key
        self._public_key = PublicKey(private_key.public_key())
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"RsaSigner({self._private_key.key_size} bits, key_id={self.key_id!r})"

    @classmethod
    def generate(cls, bits: int = 2048, *, key_id: str | None = None) -> RsaSigner:
        """A fresh key with public exponent 65537."""
        check_rsa_size(bits)
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits), key_id=key_id)

    @classmethod
    def from_pem(
        cls, pem: str | bytes, *, password: str | bytes | None = None, key_id: str | None = None
    ) -> RsaSigner:
        """From a PKCS#8 or PKCS#1 PEM (optionally password-encrypted)."""
        key = _load_private_pem(pem, password)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyFormatError("The PEM does not hold an RSA private key.", code="key_type_unsupported")
        return cls(key, key_id=key_id)

    def to_pem(self, *, password: str | bytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with ``password`` when one is given."""
        return _private_pem(self._private_key, password)

    def public_key_pem(self) -> str:
        """The SubjectPublicKeyInfo PEM (OB 2.0 ``publicKeyPem``)."""
        return self._private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()

    def sign(self, data: bytes) -> bytes:
        return self._private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def public_key(self) -> PublicKey:
        return self._public_key


def signer_from_pem(
    pem: str | bytes, *, password: str | bytes | None = None, key_id: str | None = None
) -> Ed25519Signer | RsaSigner:
    """Whichever signer fits the private key in ``pem`` (a keystore need not remember the type)."""
    key = _load_private_pem(pem, password)
    if isinstance(key, Ed25519PrivateKey):
        return Ed25519Signer(key, key_id=key_id)
    if isinstance(key, rsa.RSAPrivateKey):
        return RsaSigner(key, key_id=key_id)
    raise KeyFormatError(f"Unsupported private key type {type(key).__name__}: expected Ed25519 or RSA.",
                         code="key_type_unsupported")


__all__ = ["Ed25519Signer", "RsaSigner", "Signer", "Verifier", "signer_from_pem"]
