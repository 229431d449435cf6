"""Recipient identifiers, hashed or plain: OB 3.0 IdentityObject and OB 2.0 recipient.

Both standards hash the same way: ``"<alg>$" + hex(H(UTF-8(identity ‖ salt)))`` with ``sha256``
(or, on input only, ``md5``). The standards do not say how to normalise an identity before
hashing, so matching would fail on ``A@Example.com`` vs ``a@example.com``. Our practice:

* **email** — strip surrounding whitespace and lowercase the whole address (what OB 2.0
  consumers and the 1EdTech validator assume; mailbox case-sensitivity is theoretical).
* **url / id** — strip surrounding whitespace, otherwise as given (URLs are case-sensitive).
* **phone** — E.164-style: ``+`` then digits only. Spaces, dots, dashes and brackets are
  removed; a leading ``00`` becomes ``+``. A number without ``+``/``00`` is taken to already
  start with its country code (we cannot guess a country), so give numbers in international form.

When *matching*, we try the normalised value and the value exactly as given, so credentials from
issuers that hashed without normalising still match.

**OB 3.0 identityType mapping.** The IdentifierTypeEnum has ``emailAddress`` but no URL or phone
value. URLs (and other IRIs) use ``identifier``, the enum's generic value: it is in the official
schema's fixed list, so strict-enum consumers accept it. Phones use ``ext:telephone`` — there is
no standard value, ``ext:`` is the spec's extension mechanism (the schema's ``ext:`` pattern accepts
it), and the name mirrors OB 2.0's ``telephone`` recipient type so an upgrade maps one to one.
Any other enum value (``studentId``…, ``sourcedId``) or ``ext:Name`` is used as given.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from insignia.credentials.errors import ValidationError
from insignia.credentials.model.vc import EXT_RE

IDENTITY_TYPES = frozenset({
    "name", "sourcedId", "systemId", "productId", "userName", "accountId", "emailAddress",
    "nationalIdentityNumber", "isbn", "issn", "lisSourcedId", "oneRosterSourcedId", "sisSourcedId",
    "ltiContextId", "ltiDeploymentId", "ltiToolId", "ltiPlatformId", "ltiUserId", "identifier",
})
OB2_RECIPIENT_TYPES = frozenset({"email", "url", "telephone", "id"})

URL_IDENTITY_TYPE = "identifier"
PHONE_IDENTITY_TYPE = "ext:telephone"

#: Our kind names (and their OB 2.0 spellings) → the OB 3.0 identityType we emit.
_KIND_TO_TYPE = {
    "email": "emailAddress", "emailaddress": "emailAddress",
    "url": URL_IDENTITY_TYPE, "id": URL_IDENTITY_TYPE, "identifier": URL_IDENTITY_TYPE,
    "phone": PHONE_IDENTITY_TYPE, "telephone": PHONE_IDENTITY_TYPE,
}
#: identityType values (lowercased) we accept as the same kind when matching other issuers' credentials.
_MATCHING_TYPES = {
    "emailAddress": {"emailaddress", "ext:email", "ext:emailaddress"},
    URL_IDENTITY_TYPE: {"identifier", "ext:url", "ext:uri", "ext:id"},
    PHONE_IDENTITY_TYPE: {"ext:telephone", "ext:phone", "ext:phonenumber"},
}
_KIND_TO_OB2 = {"email": "email", "emailaddress": "email", "url": "url", "identifier": "id", "id": "id",
                "phone": "telephone", "telephone": "telephone"}

IDENTITY_HASH_RE = re.compile(r"^(sha256\$[0-9a-fA-F]{64}|md5\$[0-9a-fA-F]{32})$")
MIN_SALT_BYTES = 16


def hash_identity(value: str, salt: str, alg: str = "sha256") -> str:
    """``"sha256$<hex>"`` of UTF-8(value ‖ salt). ``md5`` exists only to check old OB 2.0 badges."""
    if alg == "sha256":
        digest = hashlib.sha256((value + salt).encode("utf-8")).hexdigest()
    elif alg == "md5":
        digest = hashlib.md5((value + salt).encode("utf-8"), usedforsecurity=False).hexdigest()
    else:
        raise ValidationError(f"Unknown identity hash algorithm {alg!r}: use 'sha256'.", code="identity_hash_alg")
    return f"{alg}${digest}"


def new_salt() -> str:
    """A random salt of 16 bytes as hex, so equal identities never hash alike across credentials."""
    return secrets.token_hex(MIN_SALT_BYTES)


def identity_type_for(kind: str) -> str:
    """The OB 3.0 identityType for one of our kinds, or the enum/``ext:`` value itself."""
    mapped = _KIND_TO_TYPE.get(kind.lower())
    if mapped:
        return mapped
    if kind in IDENTITY_TYPES or EXT_RE.match(kind):
        return kind
    raise ValidationError(
        f"Unknown identity kind {kind!r}: use email, url, phone, an OB 3.0 identityType "
        f"({', '.join(sorted(IDENTITY_TYPES))}) or 'ext:Name'.",
        code="identity_kind_unknown",
    )


def normalise_identity(kind: str, value: str) -> str:
    """The canonical form of an identity before hashing (see the module docstring for the rules)."""
    if not isinstance(value, str):
        raise ValidationError(f"The identity must be a string, not {type(value).__name__}.", code="identity_invalid")
    text = value.strip()
    identity_type = identity_type_for(kind)
    if identity_type == "emailAddress":
        if "@" not in text:
            raise ValidationError(f"{value!r} is not an email address.", code="identity_invalid")
        return text.lower()
    if identity_type == PHONE_IDENTITY_TYPE:
        return normalise_phone(text)
    if not text:
        raise ValidationError("The identity is empty.", code="identity_invalid")
    return text


def normalise_phone(value: str) -> str:
    """``+`` and digits: ``+1 (222) 333-4444`` → ``+12223334444``; ``0031 6…`` → ``+316…``."""
    text = re.sub(r"[\s().\-/]", "", value.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    digits = text[1:] if text.startswith("+") else text
    if not digits.isdigit() or not 3 <= len(digits) <= 15:
        raise ValidationError(
            f"{value!r} is not a phone number: give it in international form, e.g. +44 20 7946 0000.",
            code="identity_invalid",
        )
    return "+" + digits


def _ob2_as_ob3(kind: str) -> str:
    return {"email": "emailAddress", "url": URL_IDENTITY_TYPE, "id": URL_IDENTITY_TYPE,
            "telephone": PHONE_IDENTITY_TYPE}[kind.lower()]


@dataclass(frozen=True, kw_only=True)
class IdentityObject:
    """An OB 3.0 IdentityObject (``credentialSubject.identifier[]``). Build with ``make_identity_object``."""

    identity_type: str
    identity_hash: str
    hashed: bool
    salt: str | None = None

    def __post_init__(self) -> None:
        identity_type_for(self.identity_type)
        if self.hashed and not IDENTITY_HASH_RE.match(self.identity_hash):
            raise ValidationError(
                f"identityHash {self.identity_hash!r} is not '<alg>$<hex>'; use hash_identity().",
                code="identity_hash_invalid",
            )
        if not self.identity_hash:
            raise ValidationError("identityHash must not be empty.", code="identity_invalid")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "IdentityObject",
            "identityHash": self.identity_hash,
            "identityType": self.identity_type,
            "hashed": self.hashed,
        }
        if self.salt is not None:
            out["salt"] = self.salt
        return out


def make_identity_object(kind: str, value: str, *, salt: str | None = None, hashed: bool = True) -> IdentityObject:
    """An IdentityObject for ``value``: salted SHA-256 by default (a fresh random salt unless given)."""
    identity_type = identity_type_for(kind)
    normalised = normalise_identity(identity_type, value)
    if not hashed:
        return IdentityObject(identity_type=identity_type, identity_hash=normalised, hashed=False)
    salt = new_salt() if salt is None else salt
    return IdentityObject(identity_type=identity_type, identity_hash=hash_identity(normalised, salt),
                          hashed=True, salt=salt)


def _candidates(identity_type: str, value: str) -> list[str]:
    """The values to try: normalised first, then as given (for issuers that did not normalise)."""
    out: list[str] = []
    with contextlib.suppress(ValidationError):
        out.append(normalise_identity(identity_type, value))
    for raw in (value.strip(), value):
        if raw not in out:
            out.append(raw)
    return out


def _hash_matches(stored: str, candidates: list[str], salt: str) -> bool:
    alg, _, digest = stored.partition("$")
    alg = alg.lower()
    if alg not in ("sha256", "md5") or not digest:
        return False
    found = False
    for candidate in candidates:
        computed = hash_identity(candidate, salt, alg).partition("$")[2]
        found |= hmac.compare_digest(computed.lower(), digest.lower())
    return found


def identity_matches(identity_object: Mapping[str, Any], kind: str, value: str) -> bool:
    """Does this IdentityObject name ``value``? Objects of another identityType never match.

    ``kind`` is one of ours (email, url, phone, id) or an identityType. Hashed objects are
    recomputed with their salt (sha256 or md5, hex compared case-insensitively); plain ones compare
    the normalised text.
    """
    if not isinstance(identity_object, Mapping) or not isinstance(value, str):
        return False
    wanted = identity_type_for(kind)
    seen = identity_object.get("identityType")
    if not isinstance(seen, str):
        return False
    accepted = _MATCHING_TYPES.get(wanted, {wanted.lower()})
    if seen.lower() not in accepted and seen != wanted:
        return False
    stored = identity_object.get("identityHash")
    if not isinstance(stored, str):
        return False
    candidates = _candidates(wanted, value)
    if identity_object.get("hashed") is True:
        salt = identity_object.get("salt")
        return _hash_matches(stored, candidates, salt if isinstance(salt, str) else "")
    plain = stored.strip().lower() if wanted == "emailAddress" else stored.strip()
    return plain in candidates


# -- OB 2.0 recipient -------------------------------------------------------------------------


def make_ob2_recipient(kind: str, value: str, *, salt: str | None = None, hashed: bool = True) -> dict[str, Any]:
    """An OB 2.0 recipient IdentityObject ``{type, hashed, identity, salt}``."""
    ob2_type = _KIND_TO_OB2.get(kind.lower())
    if ob2_type is None:
        raise ValidationError(f"OB 2.0 recipients are email, url, telephone or id, not {kind!r}.",
                              code="identity_kind_unknown")
    normalised = normalise_identity(ob2_type, value)
    if not hashed:
        return {"type": ob2_type, "hashed": False, "identity": normalised}
    salt = new_salt() if salt is None else salt
    return {"type": ob2_type, "hashed": True, "identity": hash_identity(normalised, salt), "salt": salt}


def ob2_recipient_matches(recipient: Mapping[str, Any], value: str, kind: str | None = None) -> bool:
    """Does an OB 2.0 recipient name ``value``? ``kind`` defaults to the recipient's own ``type``."""
    if not isinstance(recipient, Mapping) or not isinstance(value, str):
        return False
    declared = recipient.get("type")
    if not isinstance(declared, str) or declared.lower() not in OB2_RECIPIENT_TYPES:
        return False
    if kind is not None and _KIND_TO_OB2.get(kind.lower()) != declared.lower():
        return False
    stored = recipient.get("identity")
    if not isinstance(stored, str):
        return False
    identity_type = _ob2_as_ob3(declared)
    candidates = _candidates(identity_type, value)
    if recipient.get("hashed") is True:
        salt = recipient.get("salt")
        return _hash_matches(stored, candidates, salt if isinstance(salt, str) else "")
    plain = stored.strip()
    if identity_type == "emailAddress":
        plain = plain.lower()
    return plain in candidates


__all__ = [
    "IDENTITY_HASH_RE",
    "IDENTITY_TYPES",
    "PHONE_IDENTITY_TYPE",
    "URL_IDENTITY_TYPE",
    "IdentityObject",
    "hash_identity",
    "identity_matches",
    "identity_type_for",
    "make_identity_object",
    "make_ob2_recipient",
    "new_salt",
    "normalise_identity",
    "normalise_phone",
    "ob2_recipient_matches",
]
