"""Webhook signing secrets, encrypted at rest with the key-encryption key (a key derived for this use only)."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_INFO = b"insignia webhook secrets v1"


@cache
def _cipher(keks: str) -> MultiFernet:
    keys = []
    for part in (p.strip() for p in keks.split(",")):
        if part:
            derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(part.encode("utf-8"))
            keys.append(Fernet(base64.urlsafe_b64encode(derived)))
    if not keys:
        raise RuntimeError("no key-encryption key is configured")
    return MultiFernet(keys)


def seal(secret: str) -> str:
    """Encrypt a webhook secret for storage."""
    return _cipher(settings.KEY_ENCRYPTION_KEY).encrypt(secret.encode("utf-8")).decode("ascii")


def unseal(token: str) -> str:
    """The webhook secret in clear, to sign a delivery."""
    return _cipher(settings.KEY_ENCRYPTION_KEY).decrypt(token.encode("ascii")).decode("utf-8")
