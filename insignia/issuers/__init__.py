"""Issuer profiles and their signing identities (did:web Ed25519 keys, RSA keys), with rotation."""
