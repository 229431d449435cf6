"""Proofs: Data Integrity (eddsa-rdfc-2022, legacy Ed25519Signature2020) and JOSE (VC-JWT, OB 2.0 JWS)."""
