"""Private keys encrypted at rest with the key-encryption key (INSIGNIA_KEY_ENCRYPTION_KEY).

Keys are stored as PKCS#8 PEM inside a Fernet token (AES-128-CBC + HMAC-SHA256). The Fernet key is
derived from the KEK with HKDF, so any long random string works as a KEK. Several KEKs may be given,
comma-separated, newest first: old tokens still decrypt while new ones use the newest (KEK rotation).
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from insignia.credentials.keys import Ed25519Signer, RsaSigner, signer_from_pem

_INFO = b"insignia key encryption v1"


def _fernet_key(kek: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(kek.encode("utf-8"))
    return base64.urlsafe_b64encode(derived)


@cache
def _cipher(keks: str) -> MultiFernet:
    parts = [part.strip() for part in keks.split(",") if part.strip()]
    if not parts:
        raise RuntimeError("no key-encryption key is configured")
    return MultiFernet([Fernet(_fernet_key(part)) for part in parts])


def encrypt_private_key(signer: Ed25519Signer | RsaSigner) -> str:
    """The signer's private key, encrypted for storage."""
    return _cipher(settings.KEY_ENCRYPTION_KEY).encrypt(signer.to_pem()).decode("ascii")


def decrypt_signer(token: str, *, key_id: str | None = None) -> Ed25519Signer | RsaSigner:
    """Load a signer from its encrypted form; a wrong KEK is a clear error, not a crash."""
    try:
        pem = _cipher(settings.KEY_ENCRYPTION_KEY).decrypt(token.encode("ascii"))
    except InvalidToken as exc:
        raise RuntimeError(
            "A signing key cannot be decrypted: INSIGNIA_KEY_ENCRYPTION_KEY is not the key it was stored with."
        ) from exc
    return signer_from_pem(pem, key_id=key_id)
