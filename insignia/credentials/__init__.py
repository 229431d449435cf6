"""The Insignia standards kernel: Open Badges 2.0/3.0, VC 2.0, Data Integrity, baking, verification.

Framework-free: nothing here imports Django. I/O happens only through objects the caller passes in
(a ``fetch(url) -> bytes`` callable, a context loader, a resolver). Five lines to verify a badge::

    from insignia.credentials import Verifier
    report = Verifier(fetch=my_fetch).verify(open("badge.png", "rb").read())
    print(report.verdict)                   # valid | invalid | indeterminate
    for check in report.checks:
        print(check.id, check.status, check.message)
"""

from insignia.credentials.baking import BakedPayload, bake, unbake
from insignia.credentials.dids import Resolver
from insignia.credentials.errors import (
    BakingError,
    CanonicalizationError,
    ContextError,
    CredentialError,
    DidError,
    FetchError,
    KeyFormatError,
    MalformedInputError,
    ProofError,
    ResourceLimitError,
    StatusListError,
    UndefinedTermError,
    ValidationError,
)
from insignia.credentials.issue import check_credential, credential_jwt, sign_credential, sign_ob2_assertion
from insignia.credentials.jsonld.canonize import canonize
from insignia.credentials.jsonld.loader import ContextLoader
from insignia.credentials.keys import Ed25519Signer, PublicKey, RsaSigner, Signer
from insignia.credentials.verify.pipeline import Verifier, verify
from insignia.credentials.verify.report import Check, CheckStatus, Verdict, VerificationReport

__all__ = [
    "BakedPayload",
    "BakingError",
    "CanonicalizationError",
    "Check",
    "CheckStatus",
    "ContextError",
    "ContextLoader",
    "CredentialError",
    "DidError",
    "Ed25519Signer",
    "FetchError",
    "KeyFormatError",
    "MalformedInputError",
    "ProofError",
    "PublicKey",
    "Resolver",
    "ResourceLimitError",
    "RsaSigner",
    "Signer",
    "StatusListError",
    "UndefinedTermError",
    "ValidationError",
    "Verdict",
    "VerificationReport",
    "Verifier",
    "bake",
    "canonize",
    "check_credential",
    "credential_jwt",
    "sign_credential",
    "sign_ob2_assertion",
    "unbake",
    "verify",
]
