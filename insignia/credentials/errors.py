"""One exception tree for the standards kernel.

Every error carries a machine-readable ``code`` and a human ``message`` that says
what went wrong and, where possible, what to do about it::

    CredentialError
    ├── MalformedInputError      input is not JSON / not a credential / bad encoding
    ├── ResourceLimitError       input too large, too deep, or too costly to process
    ├── ContextError             a JSON-LD context is unknown, refused or does not match its pin
    ├── UndefinedTermError       safe mode: a property or type is not defined by the contexts
    ├── CanonicalizationError    RDF canonicalisation failed (e.g. work bound exceeded)
    ├── ValidationError          a document does not have the shape the standard requires
    ├── KeyFormatError           a key, multibase or multicodec value cannot be decoded
    ├── ProofError               a proof is missing, unsupported or does not verify
    ├── DidError                 a DID is malformed or cannot be resolved
    ├── FetchError               an injected fetcher could not retrieve a resource
    ├── StatusListError          a status list is malformed or an index is out of range
    └── BakingError              an image is malformed or hostile, or holds no credential
"""

from __future__ import annotations


class CredentialError(Exception):
    """Base of every kernel error."""

    code: str = "credential_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class MalformedInputError(CredentialError):
    code = "malformed_input"


class ResourceLimitError(CredentialError):
    code = "resource_limit"


class ContextError(CredentialError):
    code = "context_error"


class UndefinedTermError(CredentialError):
    """Safe mode: a term would be silently dropped by JSON-LD expansion."""

    code = "undefined_term"

    def __init__(self, term: str, *, message: str | None = None) -> None:
        self.term = term
        super().__init__(
            message
            or (
                f"'{term}' is not defined by any JSON-LD context of this document, so it "
                "would not be signed. Add a context that defines it, or remove it."
            )
        )


class CanonicalizationError(CredentialError):
    code = "canonicalization_error"


class ValidationError(CredentialError):
    """A document does not have the required shape; ``errors`` lists every problem."""

    code = "validation_error"

    def __init__(self, message: str, *, errors: list[str] | None = None, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.errors = errors or [message]


class KeyFormatError(CredentialError):
    code = "key_format"


class ProofError(CredentialError):
    code = "proof_invalid"


class DidError(CredentialError):
    code = "did_error"


class FetchError(CredentialError):
    """A fetcher could not retrieve a resource. ``status`` is the HTTP status when there was a response
    (an OB 2.0 hosted assertion answering 410 Gone has been revoked)."""

    code = "fetch_failed"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


class StatusListError(CredentialError):
    code = "status_list_error"


class BakingError(CredentialError):
    code = "baking_error"


__all__ = [
    "BakingError",
    "CanonicalizationError",
    "ContextError",
    "CredentialError",
    "DidError",
    "FetchError",
    "KeyFormatError",
    "MalformedInputError",
    "ProofError",
    "ResourceLimitError",
    "StatusListError",
    "UndefinedTermError",
    "ValidationError",
]
