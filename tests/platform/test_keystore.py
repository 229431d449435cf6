"""Private keys are encrypted at rest and only the right key-encryption key opens them."""

from __future__ import annotations

import pytest

from insignia.core import keystore
from insignia.credentials.keys import Ed25519Signer, RsaSigner


@pytest.mark.parametrize("signer", [Ed25519Signer.generate(), RsaSigner.generate()], ids=["ed25519", "rsa"])
def test_round_trip_and_no_plaintext(signer, settings) -> None:
    token = keystore.encrypt_private_key(signer)
    assert "PRIVATE KEY" not in token
    loaded = keystore.decrypt_signer(token, key_id="did:web:x#k")
    assert loaded.public_key() == signer.public_key()
    assert loaded.key_id == "did:web:x#k"


def test_wrong_kek_is_a_clear_error(settings) -> None:
    token = keystore.encrypt_private_key(Ed25519Signer.generate())
    settings.KEY_ENCRYPTION_KEY = "another-key-encryption-key-that-is-long-enough"
    with pytest.raises(RuntimeError, match="INSIGNIA_KEY_ENCRYPTION_KEY"):
        keystore.decrypt_signer(token)


def test_kek_rotation_keeps_old_tokens_readable(settings) -> None:
    old = settings.KEY_ENCRYPTION_KEY
    token = keystore.encrypt_private_key(Ed25519Signer.generate())
    settings.KEY_ENCRYPTION_KEY = "a-brand-new-key-encryption-key-for-rotation," + old
    keystore.decrypt_signer(token)
