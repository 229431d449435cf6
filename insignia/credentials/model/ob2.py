"""Open Badges 2.0 hosted documents: builders and shape checks.

OB 2.0 badges are linked documents served at their ``id`` URLs (Issuer, BadgeClass, Assertion,
CryptographicKey). The rules are those the 1EdTech validator enforces (standards.md §6.1): an
issuer needs ``url`` and ``email``, dates need a time zone, a hosted assertion must live within
the issuer's origin. OB 2.0 is lax about arrays (a single value is normal), so the checks accept
both forms; the builders emit arrays only where OB 2.0 documents conventionally do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

from insignia.credentials.errors import ValidationError
from insignia.credentials.model.checks import (
    BUILDER_INVALID,
    as_emitted,
    builder_error,
    require_id_or_narrative,
    require_text,
    require_uri,
)
from insignia.credentials.model.dates import format_datetime, parse_ob2_datetime, require_aware
from insignia.credentials.model.identity import OB2_RECIPIENT_TYPES
from insignia.credentials.model.vc import (
    Problems,
    ShapeReport,
    as_list,
    compact,
    is_http_url,
    is_uri,
    join,
    json_type,
    types_of,
)

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
#: Other spellings of the same context seen in the wild (accepted on input).
OB2_CONTEXT_ALIASES = frozenset({OB2_CONTEXT, "https://openbadgespec.org/v2/context.json",
                                 "https://w3id.org/openbadges/v2/"})
DATA_MODEL_OB2 = "OB 2.0"

_HASH_RE = re.compile(r"^(sha256|md5)\$[0-9a-fA-F]+$")
_VERIFICATION_TYPES = {"hosted": "hosted", "hostedbadge": "hosted", "signed": "signed", "signedbadge": "signed"}


# == builders =================================================================================


#: OB 2.0 documents are linked by URL, so its messages leave out the urn:uuid:/did: examples OB 3.0's give.
_require_uri = partial(require_uri, with_examples=False)


def _one_or_many(values: Sequence[Any]) -> Any:
    """OB 2.0 convention: a single value stays single, several become an array."""
    return values[0] if len(values) == 1 else list(values)


@dataclass(frozen=True, kw_only=True)
class CryptographicKey:
    """A public key the issuer signs assertions with; ``owner`` is the issuer's id."""

    id: str
    owner: str
    public_key_pem: str

    def __post_init__(self) -> None:
        _require_uri("CryptographicKey.id", self.id)
        _require_uri("CryptographicKey.owner", self.owner)
        if "BEGIN PUBLIC KEY" not in self.public_key_pem:
            raise builder_error("CryptographicKey.publicKeyPem", "must be a PEM 'PUBLIC KEY' block.")

    def to_json(self) -> dict[str, Any]:
        return {"@context": OB2_CONTEXT, "id": self.id, "type": "CryptographicKey", "owner": self.owner,
                "publicKeyPem": self.public_key_pem}


@dataclass(frozen=True, kw_only=True)
class IssuerVerification:
    """Where the issuer hosts its assertions, when not on its own origin."""

    allowed_origins: Sequence[str] = ()
    starts_with: Sequence[str] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "hosted"}
        if self.allowed_origins:
            out["allowedOrigins"] = _one_or_many(self.allowed_origins)
        if self.starts_with:
            out["startsWith"] = _one_or_many(self.starts_with)
        return out


@dataclass(frozen=True, kw_only=True)
class Issuer:
    """The issuer Profile. ``url`` and ``email`` are required because the 1EdTech validator requires them."""

    id: str
    name: str
    url: str
    email: str
    description: str | None = None
    image: str | None = None
    telephone: str | None = None
    public_key: Sequence[str] = ()
    revocation_list: str | None = None
    verification: IssuerVerification | None = None

    def __post_init__(self) -> None:
        _require_uri("Issuer.id", self.id)
        require_text("Issuer.name", self.name)
        _require_uri("Issuer.url", self.url, http=True)
        if not isinstance(self.email, str) or "@" not in self.email:
            raise builder_error("Issuer.email", f"must be an email address, not {self.email!r}.")
        _require_uri("Issuer.image", self.image, optional=True)
        for key in self.public_key:
            _require_uri("Issuer.publicKey", key)
        _require_uri("Issuer.revocationList", self.revocation_list, optional=True)

    def to_json(self) -> dict[str, Any]:
        return compact([
            ("@context", OB2_CONTEXT), ("id", self.id), ("type", "Issuer"), ("name", self.name),
            ("url", self.url), ("email", self.email), ("telephone", self.telephone),
            ("description", self.description), ("image", self.image),
            ("publicKey", _one_or_many(self.public_key) if self.public_key else None),
            ("revocationList", self.revocation_list), ("verification", self.verification),
        ])


@dataclass(frozen=True, kw_only=True)
class Criteria:
    """Criteria embedded in a BadgeClass: a page URL and/or a Markdown narrative."""

    id: str | None = None
    narrative: str | None = None

    def __post_init__(self) -> None:
        _require_uri("Criteria.id", self.id, optional=True)
        require_id_or_narrative("Criteria", self.id, self.narrative, id_is="criteria URL")

    def to_json(self) -> dict[str, Any]:
        return compact([("id", self.id), ("narrative", self.narrative)])


@dataclass(frozen=True, kw_only=True)
class Alignment:
    target_name: str
    target_url: str
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None

    def __post_init__(self) -> None:
        require_text("Alignment.targetName", self.target_name)
        _require_uri("Alignment.targetUrl", self.target_url)

    def to_json(self) -> dict[str, Any]:
        return compact([("targetName", self.target_name), ("targetUrl", self.target_url),
                        ("targetDescription", self.target_description),
                        ("targetFramework", self.target_framework), ("targetCode", self.target_code)])


@dataclass(frozen=True, kw_only=True)
class BadgeClass:
    """The badge definition. ``image`` is an https URL or a PNG/SVG data URI; ``issuer`` is the issuer's IRI."""

    id: str
    name: str
    description: str
    image: str
    criteria: str | Criteria
    issuer: str
    alignment: Sequence[Alignment] = ()
    tags: Sequence[str] = ()

    def __post_init__(self) -> None:
        _require_uri("BadgeClass.id", self.id)
        require_text("BadgeClass.name", self.name)
        require_text("BadgeClass.description", self.description)
        _require_uri("BadgeClass.image", self.image)
        if isinstance(self.criteria, str):
            _require_uri("BadgeClass.criteria", self.criteria)
        _require_uri("BadgeClass.issuer", self.issuer)

    def to_json(self, *, context: bool = True) -> dict[str, Any]:
        return compact([
            ("@context", OB2_CONTEXT if context else None), ("id", self.id), ("type", "BadgeClass"),
            ("name", self.name), ("description", self.description), ("image", self.image),
            ("criteria", self.criteria), ("issuer", self.issuer), ("alignment", list(self.alignment)),
            ("tags", list(self.tags)),
        ])


@dataclass(frozen=True, kw_only=True)
class Evidence:
    id: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None

    def __post_init__(self) -> None:
        _require_uri("Evidence.id", self.id, optional=True)
        require_id_or_narrative("Evidence", self.id, self.narrative, id_is="URL of the evidence")

    def to_json(self) -> dict[str, Any]:
        return compact([("id", self.id), ("type", "Evidence"), ("narrative", self.narrative), ("name", self.name),
                        ("description", self.description), ("genre", self.genre), ("audience", self.audience)])


@dataclass(frozen=True, kw_only=True)
class Assertion:
    """An awarded badge. ``recipient`` comes from ``make_ob2_recipient``; hosted unless ``creator`` is given.

    ``verification="signed"`` with ``creator`` (the CryptographicKey IRI) for JWS-signed badges.
    ``revoked``/``revocation_reason`` produce the form served for a revoked hosted badge.
    """

    KINDS: ClassVar[frozenset[str]] = frozenset({"hosted", "signed"})
    id: str
    recipient: Mapping[str, Any]
    badge: str | BadgeClass
    issued_on: datetime
    verification: str = "hosted"
    creator: str | None = None
    expires: datetime | None = None
    image: str | None = None
    evidence: Sequence[Evidence] = ()
    narrative: str | None = None
    revoked: bool = False
    revocation_reason: str | None = None

    def __post_init__(self) -> None:
        if self.verification not in self.KINDS:
            raise builder_error("Assertion.verification", "must be 'hosted' or 'signed'.")
        _require_uri("Assertion.id", self.id, http=self.verification == "hosted")
        problems = Problems()
        _check_recipient(problems, dict(self.recipient), "recipient")
        if problems.report.errors:
            raise ValidationError("Assertion.recipient is not an OB 2.0 IdentityObject.",
                                  errors=problems.report.errors, code=BUILDER_INVALID)
        if isinstance(self.badge, str):
            _require_uri("Assertion.badge", self.badge)
        require_aware(self.issued_on, what="Assertion.issuedOn")
        if self.expires is not None:
            require_aware(self.expires, what="Assertion.expires")
            if as_emitted(self.expires) <= as_emitted(self.issued_on):
                raise builder_error("Assertion.expires", "must be after issuedOn.")
        _require_uri("Assertion.verification.creator", self.creator, optional=True)
        if self.image is not None and (not is_uri(self.image) or self.image.startswith("data:")):
            raise builder_error("Assertion.image", "must be a URL (OB 2.0 does not allow a data URI here).")
        if self.revocation_reason is not None and not self.revoked:
            raise builder_error("Assertion.revocationReason", "is only meaningful with revoked=True.")

    def to_json(self) -> dict[str, Any]:
        verification: dict[str, Any] = {"type": self.verification}
        if self.creator is not None:
            verification["creator"] = self.creator
        badge = self.badge.to_json(context=False) if isinstance(self.badge, BadgeClass) else self.badge
        return compact([
            ("@context", OB2_CONTEXT), ("id", self.id), ("type", "Assertion"), ("recipient", dict(self.recipient)),
            ("badge", badge), ("verification", verification), ("issuedOn", format_datetime(self.issued_on)),
            ("expires", self.expires), ("image", self.image), ("evidence", list(self.evidence)),
            ("narrative", self.narrative), ("revoked", True if self.revoked else None),
            ("revocationReason", self.revocation_reason),
        ])


def revoked_assertion(assertion_id: str, reason: str | None = None) -> dict[str, Any]:
    """The body served with 410 Gone for a revoked hosted assertion."""
    body: dict[str, Any] = {"@context": OB2_CONTEXT, "id": assertion_id, "type": "Assertion", "revoked": True}
    if reason:
        body["revocationReason"] = reason
    return body


# == hosted-origin rule ==========================================================================


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme.lower() == "https" else 80
    return parts.scheme.lower(), parts.hostname.lower(), port or default


def in_issuer_scope(assertion_id: str, issuer_profile: Mapping[str, Any]) -> bool:
    """May this issuer host an assertion at ``assertion_id``? (OB 2.0 #HostedBadge)

    By default the assertion must be on the issuer id's origin (scheme, host and port). An issuer
    may widen this with ``verification.allowedOrigins`` (host names, or full origins) and/or
    narrow it with ``verification.startsWith`` (URL prefixes); when both are given both must hold.
    """
    target = _origin(assertion_id) if isinstance(assertion_id, str) else None
    if target is None or not isinstance(issuer_profile, Mapping):
        return False
    policy = issuer_profile.get("verification")
    policy = policy if isinstance(policy, Mapping) else {}
    allowed = [v for v in as_list(policy.get("allowedOrigins")) if isinstance(v, str) and v]
    prefixes = [v for v in as_list(policy.get("startsWith")) if isinstance(v, str) and v]
    if prefixes and not any(assertion_id.startswith(prefix) for prefix in prefixes):
        return False
    if allowed:
        for entry in allowed:
            if "://" in entry:
                if _origin(entry) == target:
                    return True
            elif entry.lower() in (target[1], f"{target[1]}:{target[2]}"):
                return True
        return False
    if prefixes:
        return True
    issuer_id = issuer_profile.get("id")
    return isinstance(issuer_id, str) and _origin(issuer_id) == target


# == shape checks ==============================================================================


def _check_context(p: Problems, doc: Mapping[str, Any], path: str, *, required: bool) -> None:
    if "@context" not in doc:
        if required:
            p.error(join(path, "@context"), f"is required: {OB2_CONTEXT!r}.")
        return
    contexts = as_list(doc["@context"])
    if not any(isinstance(c, str) and c in OB2_CONTEXT_ALIASES for c in contexts):
        p.error(join(path, "@context"), f"must be (or include) {OB2_CONTEXT!r}.")


def _check_type(p: Problems, doc: Mapping[str, Any], path: str, *accepted: str) -> None:
    if "type" not in doc:
        p.error(join(path, "type"), f"is required: {accepted[0]!r}.")
        return
    found = types_of(doc)
    if not found & set(accepted):
        p.error(join(path, "type"), f"must be {' or '.join(repr(a) for a in accepted)}, not {doc['type']!r}.")


def _check_datetime(p: Problems, doc: Mapping[str, Any], key: str, path: str, *, required: bool = False
                    ) -> datetime | None:
    if key not in doc:
        if required:
            p.error(join(path, key), "is required: an ISO 8601 date-time with a time zone, e.g. "
                                     "2024-05-01T12:00:00Z.")
        return None
    moment = parse_ob2_datetime(doc[key])
    if moment is None:
        p.error(join(path, key), f"must be an ISO 8601 date-time with a time zone (e.g. 2024-05-01T12:00:00Z), "
                                 f"not {doc[key]!r}.")
    return moment


def _check_recipient(p: Problems, recipient: Mapping[str, Any], path: str) -> None:
    kind = recipient.get("type")
    if not isinstance(kind, str) or kind.lower() not in OB2_RECIPIENT_TYPES:
        p.error(join(path, "type"), f"must be one of email, url, telephone, id — not {kind!r}.")
    identity = p.string(recipient, "identity", path, required=True,
                        hint="the hashed identity 'sha256$<hex>' or the plain value")
    hashed = p.boolean(recipient, "hashed", path, required=True)
    p.string(recipient, "salt", path)
    if not isinstance(identity, str):
        return
    if hashed is True and not _HASH_RE.match(identity):
        p.error(join(path, "identity"), f"is hashed but {identity!r} is not 'sha256$<hex>'.")
    if hashed is False and isinstance(kind, str) and kind.lower() == "email" and "@" not in identity:
        p.error(join(path, "identity"), f"{identity!r} is not an email address.")
    if hashed is False and isinstance(kind, str) and kind.lower() == "url" and not is_uri(identity):
        p.error(join(path, "identity"), f"{identity!r} is not a URL.")


def _check_image(p: Problems, doc: Mapping[str, Any], path: str, *, required: bool, data_uri: bool) -> None:
    if "image" not in doc:
        if required:
            p.error(join(path, "image"), "is required: an image URL or a PNG/SVG data URI.")
        return
    image = doc["image"]
    where = join(path, "image")
    url = image.get("id") if isinstance(image, dict) else image
    if not isinstance(url, str) or not is_uri(url):
        p.error(where, f"must be an image URL{' or data URI' if data_uri else ''}, not {json_type(image)}.")
    elif url.startswith("data:") and not data_uri:
        p.error(where, "must be a URL; a data URI is not allowed on an assertion.")
    elif url.startswith("data:") and not url.startswith(("data:image/png", "data:image/svg+xml")):
        p.error(where, "is a data URI that is neither PNG nor SVG.")


def inspect_ob2_issuer(doc: Any, *, path: str = "", embedded: bool = False) -> ShapeReport:
    p = Problems()
    p.report.data_model = DATA_MODEL_OB2
    if p.cannot_check(doc, "the issuer", path):
        return p.report
    _issuer(p, doc, path, embedded=embedded)
    return p.report


def _issuer(p: Problems, doc: Mapping[str, Any], path: str, *, embedded: bool) -> None:
    _check_context(p, doc, path, required=not embedded)
    p.uri(doc, "id", path, required=True)
    _check_type(p, doc, path, "Issuer", "Profile")
    p.string(doc, "name", path, required=True)
    url = p.string(doc, "url", path, required=True, hint="the issuer's web site (the OB 2.0 validator requires it)")
    if isinstance(url, str) and not is_http_url(url):
        p.error(join(path, "url"), f"must be an http(s) URL, not {url!r}.")
    email = p.string(doc, "email", path, required=True,
                     hint="a contact address (the OB 2.0 validator requires it)")
    if isinstance(email, str) and "@" not in email:
        p.error(join(path, "email"), f"{email!r} is not an email address.")
    p.string(doc, "description", path)
    p.string(doc, "telephone", path)
    _check_image(p, doc, path, required=False, data_uri=True)
    for index, key in enumerate(as_list(doc.get("publicKey"))):
        key_id = key.get("id") if isinstance(key, dict) else key
        if not is_uri(key_id):
            p.error(f"{join(path, 'publicKey')}[{index}]", "must be the IRI of a CryptographicKey.")
    p.uri(doc, "revocationList", path)
    verification = doc.get("verification")
    if verification is not None and not isinstance(verification, dict):
        p.error(join(path, "verification"), "must be an object.")


def validate_ob2_issuer(doc: Any) -> ShapeReport:
    """Raise ``ValidationError`` unless ``doc`` is an OB 2.0 issuer Profile the validator accepts."""
    return inspect_ob2_issuer(doc, embedded="@context" not in doc if isinstance(doc, dict) else False
                              ).raise_for_errors("The OB 2.0 issuer profile", code="ob2_shape_invalid")


def _badgeclass(p: Problems, doc: Mapping[str, Any], path: str, *, embedded: bool) -> None:
    _check_context(p, doc, path, required=not embedded)
    p.uri(doc, "id", path, required=True)
    _check_type(p, doc, path, "BadgeClass")
    p.string(doc, "name", path, required=True)
    p.string(doc, "description", path, required=True)
    _check_image(p, doc, path, required=True, data_uri=True)
    if "criteria" not in doc:
        p.error(join(path, "criteria"), "is required: a criteria URL or {\"narrative\": \"how it is earned\"}.")
    else:
        criteria = doc["criteria"]
        if isinstance(criteria, dict):
            p.uri(criteria, "id", join(path, "criteria"))
            p.string(criteria, "narrative", join(path, "criteria"))
            if "id" not in criteria and "narrative" not in criteria:
                p.error(join(path, "criteria"), "needs an id (URL) and/or a narrative.")
        elif not is_uri(criteria):
            p.error(join(path, "criteria"), f"must be a URL or a Criteria object, not {json_type(criteria)}.")
    issuer = doc.get("issuer")
    if "issuer" not in doc:
        p.error(join(path, "issuer"), "is required: the issuer profile's IRI.")
    elif isinstance(issuer, dict):
        _issuer(p, issuer, join(path, "issuer"), embedded=True)
    elif not is_uri(issuer):
        p.error(join(path, "issuer"), f"must be the issuer's IRI or profile, not {json_type(issuer)}.")
    for index, alignment in enumerate(as_list(doc.get("alignment"))):
        where = f"{join(path, 'alignment')}[{index}]"
        if not isinstance(alignment, dict):
            p.error(where, "must be an AlignmentObject.")
            continue
        p.string(alignment, "targetName", where, required=True)
        p.uri(alignment, "targetUrl", where, required=True)
    for index, tag in enumerate(as_list(doc.get("tags"))):
        if not isinstance(tag, str):
            p.error(f"{join(path, 'tags')}[{index}]", "must be a string.")


def inspect_ob2_badgeclass(doc: Any, *, path: str = "", embedded: bool = False) -> ShapeReport:
    p = Problems()
    p.report.data_model = DATA_MODEL_OB2
    if p.cannot_check(doc, "the badge class", path):
        return p.report
    _badgeclass(p, doc, path, embedded=embedded)
    return p.report


def validate_ob2_badgeclass(doc: Any) -> ShapeReport:
    """Raise ``ValidationError`` unless ``doc`` is an OB 2.0 BadgeClass the validator accepts."""
    return inspect_ob2_badgeclass(doc, embedded="@context" not in doc if isinstance(doc, dict) else False
                                  ).raise_for_errors("The OB 2.0 badge class", code="ob2_shape_invalid")


def inspect_ob2_assertion(doc: Any) -> ShapeReport:
    p = Problems()
    p.report.data_model = DATA_MODEL_OB2
    if p.cannot_check(doc, "the assertion"):
        return p.report
    _check_context(p, doc, "", required=True)
    assertion_id = p.uri(doc, "id", "", required=True)
    _check_type(p, doc, "", "Assertion")
    recipient = p.obj(doc, "recipient", "", required=True, hint='{"type": "email", "hashed": true, "identity": '
                                                                '"sha256$…", "salt": "…"}')
    if recipient is not None:
        _check_recipient(p, recipient, "recipient")
    badge = doc.get("badge")
    if "badge" not in doc:
        p.error("badge", "is required: the BadgeClass IRI (or the embedded BadgeClass).")
    elif isinstance(badge, dict):
        _badgeclass(p, badge, "badge", embedded=True)
    elif not is_uri(badge):
        p.error("badge", f"must be the BadgeClass IRI or object, not {json_type(badge)}.")
    verification = p.obj(doc, "verification", "", required=True, hint='{"type": "hosted"} or {"type": "signed"}')
    if verification is not None:
        kind = verification.get("type")
        mode = _VERIFICATION_TYPES.get(kind.lower()) if isinstance(kind, str) else None
        if mode is None:
            p.error("verification.type", f"must be 'hosted' or 'signed', not {kind!r}.")
        p.uri(verification, "creator", "verification")
        if mode == "hosted" and isinstance(assertion_id, str) and not is_http_url(assertion_id):
            p.error("id", "must be the http(s) URL the assertion is hosted at (verification is hosted).")
    issued = _check_datetime(p, doc, "issuedOn", "", required=True)
    expires = _check_datetime(p, doc, "expires", "")
    if issued and expires and expires <= issued:
        p.error("expires", "must be after issuedOn.")
    _check_image(p, doc, "", required=False, data_uri=False)
    for index, evidence in enumerate(as_list(doc.get("evidence"))):
        where = f"evidence[{index}]"
        if isinstance(evidence, dict):
            p.uri(evidence, "id", where)
            p.string(evidence, "narrative", where)
        elif not is_uri(evidence):
            p.error(where, f"must be a URL or an Evidence object, not {json_type(evidence)}.")
    p.string(doc, "narrative", "")
    p.boolean(doc, "revoked", "")
    p.string(doc, "revocationReason", "")
    return p.report


def validate_ob2_assertion(doc: Any) -> ShapeReport:
    """Raise ``ValidationError`` unless ``doc`` is an OB 2.0 Assertion the validator accepts."""
    return inspect_ob2_assertion(doc).raise_for_errors("The OB 2.0 assertion", code="ob2_shape_invalid")


__all__ = [
    "DATA_MODEL_OB2",
    "OB2_CONTEXT",
    "Alignment",
    "Assertion",
    "BadgeClass",
    "Criteria",
    "CryptographicKey",
    "Evidence",
    "Issuer",
    "IssuerVerification",
    "in_issuer_scope",
    "inspect_ob2_assertion",
    "inspect_ob2_badgeclass",
    "inspect_ob2_issuer",
    "revoked_assertion",
    "validate_ob2_assertion",
    "validate_ob2_badgeclass",
    "validate_ob2_issuer",
]
