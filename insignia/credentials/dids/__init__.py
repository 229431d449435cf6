"""DIDs and controller documents: did:key (offline), did:web and https documents (through an injected fetch)."""

from insignia.credentials.dids.key import did_key_from_public_key, public_key_from_did_key, resolve_did_key
from insignia.credentials.dids.resolver import RELATIONSHIPS, Resolver, VerificationMethod
from insignia.credentials.dids.web import (
    MAX_DOCUMENT_BYTES,
    Fetch,
    build_did_web_document,
    did_web_for_url,
    did_web_to_url,
    resolve_did_web,
)

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "RELATIONSHIPS",
    "Fetch",
    "Resolver",
    "VerificationMethod",
    "build_did_web_document",
    "did_key_from_public_key",
    "did_web_for_url",
    "did_web_to_url",
    "public_key_from_did_key",
    "resolve_did_key",
    "resolve_did_web",
]
