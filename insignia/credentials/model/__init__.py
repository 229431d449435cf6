"""Typed builders and shape checks for Open Badges 2.0/3.0 documents (plain JSON-LD dicts in and out).

The OB 3.0 builders live in ``model.ob3``, the OB 2.0 hosted documents in ``model.ob2`` (their class
names overlap, so import them from there); identities and hashing in ``model.identity``.
"""

from insignia.credentials.model.dates import format_datetime, parse_datetimez
from insignia.credentials.model.identity import (
    IdentityObject,
    hash_identity,
    identity_matches,
    make_identity_object,
    make_ob2_recipient,
    normalise_identity,
    ob2_recipient_matches,
)
from insignia.credentials.model.ob2 import (
    in_issuer_scope,
    validate_ob2_assertion,
    validate_ob2_badgeclass,
    validate_ob2_issuer,
)
from insignia.credentials.model.ob3 import (
    OpenBadgeCredential,
    profile_document,
    validate_endorsement_credential,
    validate_ob3_credential,
    validate_profile,
)
from insignia.credentials.model.vc import ShapeReport

__all__ = [
    "IdentityObject",
    "OpenBadgeCredential",
    "ShapeReport",
    "format_datetime",
    "hash_identity",
    "identity_matches",
    "in_issuer_scope",
    "make_identity_object",
    "make_ob2_recipient",
    "normalise_identity",
    "ob2_recipient_matches",
    "parse_datetimez",
    "profile_document",
    "validate_endorsement_credential",
    "validate_ob2_assertion",
    "validate_ob2_badgeclass",
    "validate_ob2_issuer",
    "validate_ob3_credential",
    "validate_profile",
]
