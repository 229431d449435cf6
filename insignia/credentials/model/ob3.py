"""Open Badges 3.0 documents: typed builders and shape checks.

Builders are frozen, keyword-only dataclasses whose ``to_json()`` returns the one serialisation
OB 3.0 asks for (arrays for ``0..*``, objects for complex types, no nulls or empty arrays,
DateTimeZ in UTC). ``OpenBadgeCredential.to_json()`` also runs the strict shape check, so a
document we build is one we would accept.

Validators check everything the spec and its JSON Schema say MUST (standards.md §1), name the
JSON path of each problem, and either return a ``ShapeReport`` (``inspect_*``) or raise one
``ValidationError`` listing every problem (``validate_*``). They accept what other issuers may
legitimately send — single values where JSON-LD compaction allows them (``type``,
``credentialSchema``, ``proof``, ``termsOfUse``), a URI issuer, and VC 1.1 credentials
(``issuanceDate``/``expirationDate``) — and report the data model they saw. ``strict=True`` is
for documents we build: arrays only, ``extensions.json`` listed when needed, no empty arrays.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from insignia.credentials.errors import ValidationError
from insignia.credentials.model.checks import (
    BUILDER_INVALID,
    as_emitted,
    builder_error,
    require_aware_if_given,
    require_id_or_narrative,
    require_term_or_extension,
    require_text,
    require_uri,
)
from insignia.credentials.model.dates import DATE_RE, require_aware
from insignia.credentials.model.identity import IDENTITY_HASH_RE, IDENTITY_TYPES, IdentityObject
from insignia.credentials.model.vc import (
    DATA_MODEL_V1,
    DATA_MODEL_V2,
    OB3_CONTEXT,
    VC_V2_CONTEXT,
    Problems,
    ShapeReport,
    as_list,
    check_context,
    credential_context,
    dataclass_json,
    is_compact_jws,
    is_uri,
    join,
    json_type,
)

ACHIEVEMENT_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
ENDORSEMENT_CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_endorsementcredential_schema.json"
)
SCHEMA_VALIDATOR_TYPE = "1EdTechJsonSchemaValidator2019"
REFRESH_SERVICE_TYPE = "1EdTechCredentialRefresh"

ACHIEVEMENT_TYPES = frozenset({
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree", "Award", "Badge",
    "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification", "CommunityService", "Competency",
    "Course", "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork", "GeneralEducationDevelopment",
    "JourneymanCertificate", "LearningProgram", "License", "Membership", "ProfessionalDoctorate",
    "QualityAssuranceCredential", "MasterCertificate", "MasterDegree", "MicroCredential", "ResearchDoctorate",
    "SecondarySchoolDiploma",
})
ALIGNMENT_TARGET_TYPES = frozenset({
    "ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion", "CFRubricCriterionLevel",
    "CTDL",
})
RESULT_TYPES = frozenset({
    "GradePointAverage", "LetterGrade", "Percent", "PerformanceLevel", "PredictedScore", "RawScore", "Result",
    "RubricCriterion", "RubricCriterionLevel", "RubricScore", "ScaledScore", "Status",
})
RESULT_STATUSES = frozenset({"Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"})
CREDENTIAL_TYPES = ("VerifiableCredential", "OpenBadgeCredential")
OB_CREDENTIAL_TYPES = ("OpenBadgeCredential", "AchievementCredential")
STATUS_PURPOSES = frozenset({"revocation", "suspension", "refresh", "message"})


# == builders =================================================================================


class _Node:
    """Shared ``to_json`` for builders: ``id`` and ``type`` first, then fields in camelCase."""

    TYPE: ClassVar[str | tuple[str, ...]]

    def __post_init__(self) -> None:
        # Freeze sequences so a built object cannot change under a signature.
        for spec in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            if isinstance(value, list):
                object.__setattr__(self, spec.name, tuple(value))
        self.check()

    def check(self) -> None:
        """Refuse arguments that could not make a conforming document."""

    def type_value(self) -> str | list[str]:
        return list(self.TYPE) if isinstance(self.TYPE, tuple) else self.TYPE

    def to_json(self) -> dict[str, Any]:
        head: dict[str, Any] = {}
        if hasattr(self, "id") and getattr(self, "id", None) is not None:
            head["id"] = self.id  # type: ignore[attr-defined]
        head["type"] = self.type_value()
        return dataclass_json(self, head=head, skip=("id",))


@dataclass(frozen=True, kw_only=True)
class Image(_Node):
    """An image: an https URL or a ``data:`` URI, with an optional caption."""

    TYPE: ClassVar[str] = "Image"
    id: str
    caption: str | None = None

    def check(self) -> None:
        require_uri("Image.id", self.id)


@dataclass(frozen=True, kw_only=True)
class Criteria(_Node):
    """How the achievement is earned: a URL of the criteria page and/or a Markdown narrative."""

    id: str | None = None
    narrative: str | None = None

    def check(self) -> None:
        require_uri("Criteria.id", self.id, optional=True)
        require_id_or_narrative("Criteria", self.id, self.narrative, id_is="URL of the criteria page")

    def to_json(self) -> dict[str, Any]:
        return dataclass_json(self)


@dataclass(frozen=True, kw_only=True)
class Alignment(_Node):
    """A link to a competency or framework item the achievement aligns with."""

    TYPE: ClassVar[tuple[str, ...]] = ("Alignment",)
    target_name: str
    target_url: str
    target_code: str | None = None
    target_description: str | None = None
    target_framework: str | None = None
    target_type: str | None = None

    def check(self) -> None:
        require_text("Alignment.targetName", self.target_name)
        require_uri("Alignment.targetUrl", self.target_url)
        require_term_or_extension("Alignment.targetType", self.target_type, ALIGNMENT_TARGET_TYPES)


@dataclass(frozen=True, kw_only=True)
class IdentifierEntry(_Node):
    """Another identifier of a profile or achievement (``otherIdentifier[]``)."""

    TYPE: ClassVar[str] = "IdentifierEntry"
    identifier: str
    identifier_type: str

    def check(self) -> None:
        require_text("IdentifierEntry.identifier", self.identifier)
        require_term_or_extension("IdentifierEntry.identifierType", self.identifier_type, IDENTITY_TYPES)


@dataclass(frozen=True, kw_only=True)
class GeoCoordinates(_Node):
    TYPE: ClassVar[str] = "GeoCoordinates"
    latitude: float
    longitude: float


@dataclass(frozen=True, kw_only=True)
class Address(_Node):
    TYPE: ClassVar[tuple[str, ...]] = ("Address",)
    address_country: str | None = None
    address_country_code: str | None = None
    address_region: str | None = None
    address_locality: str | None = None
    street_address: str | None = None
    post_office_box_number: str | None = None
    postal_code: str | None = None
    geo: GeoCoordinates | None = None


@dataclass(frozen=True, kw_only=True)
class Related(_Node):
    """Another language or version of the same achievement."""

    TYPE: ClassVar[tuple[str, ...]] = ("Related",)
    id: str
    in_language: str | None = None
    version: str | None = None

    def check(self) -> None:
        require_uri("Related.id", self.id)


@dataclass(frozen=True, kw_only=True)
class RubricCriterionLevel(_Node):
    TYPE: ClassVar[tuple[str, ...]] = ("RubricCriterionLevel",)
    id: str
    name: str
    description: str | None = None
    level: str | None = None
    points: str | None = None
    alignment: Sequence[Alignment] = ()

    def check(self) -> None:
        require_uri("RubricCriterionLevel.id", self.id)
        require_text("RubricCriterionLevel.name", self.name)


@dataclass(frozen=True, kw_only=True)
class ResultDescription(_Node):
    """A kind of result the achievement records (a grade, a score, a rubric level...)."""

    TYPE: ClassVar[tuple[str, ...]] = ("ResultDescription",)
    id: str
    name: str
    result_type: str
    allowed_value: Sequence[str] = ()
    required_level: str | None = None
    required_value: str | None = None
    rubric_criterion_level: Sequence[RubricCriterionLevel] = ()
    value_max: str | None = None
    value_min: str | None = None
    alignment: Sequence[Alignment] = ()

    def check(self) -> None:
        require_uri("ResultDescription.id", self.id)
        require_text("ResultDescription.name", self.name)
        require_text("ResultDescription.resultType", self.result_type)
        require_term_or_extension("ResultDescription.resultType", self.result_type, RESULT_TYPES)
        require_uri("ResultDescription.requiredLevel", self.required_level, optional=True)


@dataclass(frozen=True, kw_only=True)
class Result(_Node):
    """A result the recipient obtained, pointing at a ResultDescription of the achievement."""

    TYPE: ClassVar[tuple[str, ...]] = ("Result",)
    result_description: str | None = None
    achieved_level: str | None = None
    status: str | None = None
    value: str | None = None
    alignment: Sequence[Alignment] = ()

    def check(self) -> None:
        require_uri("Result.resultDescription", self.result_description, optional=True)
        require_uri("Result.achievedLevel", self.achieved_level, optional=True)
        if self.status is not None and self.status not in RESULT_STATUSES:
            raise builder_error("Result.status", f"must be one of {', '.join(sorted(RESULT_STATUSES))}.")


@dataclass(frozen=True, kw_only=True)
class Profile(_Node):
    """An issuer, creator, source or endorser. ``endorsement`` holds signed EndorsementCredential dicts."""

    TYPE: ClassVar[tuple[str, ...]] = ("Profile",)
    id: str
    name: str | None = None
    url: str | None = None
    phone: str | None = None
    description: str | None = None
    image: Image | None = None
    email: str | None = None
    address: Address | None = None
    other_identifier: Sequence[IdentifierEntry] = ()
    official: str | None = None
    parent_org: Profile | None = None
    given_name: str | None = None
    family_name: str | None = None
    additional_name: str | None = None
    patronymic_name: str | None = None
    honorific_prefix: str | None = None
    honorific_suffix: str | None = None
    family_name_prefix: str | None = None
    date_of_birth: date | None = None
    endorsement: Sequence[Mapping[str, Any]] = ()
    endorsement_jwt: Sequence[str] = ()

    def check(self) -> None:
        require_uri("Profile.id", self.id)
        require_uri("Profile.url", self.url, optional=True)
        require_text("Profile.name", self.name, optional=True)
        if self.email is not None and "@" not in self.email:
            raise builder_error("Profile.email", f"{self.email!r} is not an email address.")
        _check_endorsements("Profile", self.endorsement, self.endorsement_jwt)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.endorsement:
            out["endorsement"] = [copy.deepcopy(dict(e)) for e in self.endorsement]
        return out


def _check_endorsements(what: str, endorsements: Sequence[Mapping[str, Any]], jwts: Sequence[str]) -> None:
    for index, endorsement in enumerate(endorsements):
        if not isinstance(endorsement, Mapping):
            raise builder_error(f"{what}.endorsement[{index}]", "must be an EndorsementCredential dict.")
        report = inspect_endorsement_credential(dict(endorsement))
        if report.errors:
            raise ValidationError(f"{what}.endorsement[{index}] is not a valid EndorsementCredential.",
                                  errors=report.errors, code=BUILDER_INVALID)
    for index, token in enumerate(jwts):
        if not is_compact_jws(token):
            raise builder_error(f"{what}.endorsementJwt[{index}]", "must be a compact JWS (header.payload.signature).")


@dataclass(frozen=True, kw_only=True)
class Achievement(_Node):
    """What was achieved (the OB 2.0 BadgeClass)."""

    TYPE: ClassVar[tuple[str, ...]] = ("Achievement",)
    id: str
    name: str
    description: str
    criteria: Criteria
    image: Image | None = None
    achievement_type: str | None = None
    alignment: Sequence[Alignment] = ()
    creator: Profile | None = None
    credits_available: float | None = None
    field_of_study: str | None = None
    human_code: str | None = None
    in_language: str | None = None
    specialization: str | None = None
    version: str | None = None
    tag: Sequence[str] = ()
    result_description: Sequence[ResultDescription] = ()
    related: Sequence[Related] = ()
    other_identifier: Sequence[IdentifierEntry] = ()
    endorsement: Sequence[Mapping[str, Any]] = ()
    endorsement_jwt: Sequence[str] = ()

    def check(self) -> None:
        require_uri("Achievement.id", self.id)
        require_text("Achievement.name", self.name)
        require_text("Achievement.description", self.description)
        if not isinstance(self.criteria, Criteria):
            raise builder_error("Achievement.criteria", "must be a Criteria (an id URL and/or a narrative).")
        require_term_or_extension("Achievement.achievementType", self.achievement_type, ACHIEVEMENT_TYPES)
        if any(not isinstance(t, str) or not t for t in self.tag):
            raise builder_error("Achievement.tag", "every tag must be a non-empty string.")
        _check_endorsements("Achievement", self.endorsement, self.endorsement_jwt)

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        if self.endorsement:
            out["endorsement"] = [copy.deepcopy(dict(e)) for e in self.endorsement]
        return out


@dataclass(frozen=True, kw_only=True)
class AchievementSubject(_Node):
    """The recipient and what they achieved. Needs ``id`` (DID/URL) and/or ``identifier`` objects."""

    TYPE: ClassVar[tuple[str, ...]] = ("AchievementSubject",)
    achievement: Achievement
    id: str | None = None
    identifier: Sequence[IdentityObject] = ()
    result: Sequence[Result] = ()
    narrative: str | None = None
    activity_start_date: datetime | None = None
    activity_end_date: datetime | None = None
    credits_earned: float | None = None
    license_number: str | None = None
    role: str | None = None
    term: str | None = None
    source: Profile | None = None
    image: Image | None = None

    def check(self) -> None:
        require_uri("AchievementSubject.id", self.id, optional=True)
        if self.id is None and not self.identifier:
            raise builder_error("AchievementSubject", "give the recipient's id (a DID or URL) and/or an identifier "
                                              "(make_identity_object(...)).")
        require_aware_if_given("AchievementSubject.activityStartDate", self.activity_start_date)
        require_aware_if_given("AchievementSubject.activityEndDate", self.activity_end_date)
        if (self.activity_start_date and self.activity_end_date
                and as_emitted(self.activity_end_date) < as_emitted(self.activity_start_date)):
            raise builder_error("AchievementSubject.activityEndDate", "is before activityStartDate.")


@dataclass(frozen=True, kw_only=True)
class Evidence(_Node):
    """Evidence of the achievement: a URL and/or a narrative, with display fields."""

    TYPE: ClassVar[tuple[str, ...]] = ("Evidence",)
    id: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None

    def check(self) -> None:
        require_uri("Evidence.id", self.id, optional=True)


@dataclass(frozen=True, kw_only=True)
class CredentialSchema(_Node):
    """A JSON Schema verifiers MUST check the credential against (the official one by default)."""

    id: str = ACHIEVEMENT_CREDENTIAL_SCHEMA
    type: str = SCHEMA_VALIDATOR_TYPE

    @classmethod
    def for_endorsement(cls) -> CredentialSchema:
        return cls(id=ENDORSEMENT_CREDENTIAL_SCHEMA)

    def check(self) -> None:
        require_uri("CredentialSchema.id", self.id)
        require_text("CredentialSchema.type", self.type)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type}


@dataclass(frozen=True, kw_only=True)
class RefreshService(_Node):
    """Where a verifier can fetch a newer version of the credential."""

    id: str
    type: str = REFRESH_SERVICE_TYPE

    def check(self) -> None:
        require_uri("RefreshService.id", self.id)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type}


@dataclass(frozen=True, kw_only=True)
class TermsOfUse(_Node):
    type: str
    id: str | None = None

    def check(self) -> None:
        require_text("TermsOfUse.type", self.type)
        require_uri("TermsOfUse.id", self.id, optional=True)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type} if self.id is None else {"id": self.id, "type": self.type}


@dataclass(frozen=True, kw_only=True)
class EndorsementSubject(_Node):
    """What is endorsed (an issuer, achievement or credential id) and the endorser's comment."""

    TYPE: ClassVar[tuple[str, ...]] = ("EndorsementSubject",)
    id: str
    endorsement_comment: str | None = None

    def check(self) -> None:
        require_uri("EndorsementSubject.id", self.id)


_CREDENTIAL_ORDER = (
    "id", "type", "name", "description", "image", "issuer", "validFrom", "validUntil", "awardedDate",
    "credentialSubject", "evidence", "endorsement", "endorsementJwt", "credentialSchema", "credentialStatus",
    "refreshService", "termsOfUse",
)


@dataclass(frozen=True, kw_only=True)
class _Credential(_Node):
    """Fields shared by OpenBadgeCredential and EndorsementCredential."""

    id: str
    issuer: Profile
    valid_from: datetime
    name: str | None = None
    description: str | None = None
    valid_until: datetime | None = None
    awarded_date: datetime | None = None
    evidence: Sequence[Evidence] = ()
    credential_status: Mapping[str, Any] | None = None
    credential_schema: Sequence[CredentialSchema] = ()
    refresh_service: RefreshService | None = None
    terms_of_use: Sequence[TermsOfUse] = ()
    extra_contexts: Sequence[str] = ()

    def check(self) -> None:
        require_uri(f"{type(self).__name__}.id", self.id)
        if not isinstance(self.issuer, Profile):
            raise builder_error(f"{type(self).__name__}.issuer", "must be a Profile (complex types are objects).")
        require_aware(self.valid_from, what=f"{type(self).__name__}.validFrom")
        require_aware_if_given(f"{type(self).__name__}.validUntil", self.valid_until)
        require_aware_if_given(f"{type(self).__name__}.awardedDate", self.awarded_date)
        if self.valid_until is not None and as_emitted(self.valid_until) <= as_emitted(self.valid_from):
            raise builder_error(f"{type(self).__name__}.validUntil", "must be after validFrom.")
        status = self.credential_status
        if status is not None and not (isinstance(status, Mapping) and isinstance(status.get("type"), str)):
            raise builder_error(f"{type(self).__name__}.credentialStatus", "must be an object with a type.")
        for url in self.extra_contexts:
            require_uri(f"{type(self).__name__}.extra_contexts", url)

    def _body(self) -> dict[str, Any]:
        """The document without @context, in the order people read it."""
        body = dataclass_json(self, head={"id": self.id, "type": self.type_value()},
                              skip=("id", "extra_contexts", "credential_status", "endorsement",
                                    "also_achievement_credential"))
        if self.credential_status is not None:
            body["credentialStatus"] = copy.deepcopy(dict(self.credential_status))
        if getattr(self, "endorsement", ()):
            body["endorsement"] = [copy.deepcopy(dict(e)) for e in self.endorsement]  # type: ignore[attr-defined]
        ordered = {key: body.pop(key) for key in _CREDENTIAL_ORDER if key in body}
        return {**ordered, **body}

    def _finish(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"@context": credential_context(body, *self.extra_contexts), **body}


@dataclass(frozen=True, kw_only=True)
class OpenBadgeCredential(_Credential):
    """An Open Badges 3.0 credential (unsigned). ``to_json()`` checks the result strictly."""

    credential_subject: AchievementSubject
    image: Image | None = None
    endorsement: Sequence[Mapping[str, Any]] = ()
    endorsement_jwt: Sequence[str] = ()
    also_achievement_credential: bool = False

    def type_value(self) -> list[str]:
        types = list(CREDENTIAL_TYPES)
        if self.also_achievement_credential:
            types.append("AchievementCredential")
        return types

    def check(self) -> None:
        super().check()
        # OB 3.0 says SHOULD; every wallet and displayer shows it, so we always give one.
        require_text("OpenBadgeCredential.name", self.name)
        if not isinstance(self.credential_subject, AchievementSubject):
            raise builder_error("OpenBadgeCredential.credentialSubject", "must be an AchievementSubject.")
        _check_endorsements("OpenBadgeCredential", self.endorsement, self.endorsement_jwt)

    def to_json(self, *, check: bool = True) -> dict[str, Any]:
        document = self._finish(self._body())
        if check:
            validate_ob3_credential(document, strict=True)
        return document


@dataclass(frozen=True, kw_only=True)
class EndorsementCredential(_Credential):
    """An endorsement of an issuer, achievement or credential (unsigned). ``name`` is required."""

    TYPE: ClassVar[tuple[str, ...]] = ("VerifiableCredential", "EndorsementCredential")
    credential_subject: EndorsementSubject

    def check(self) -> None:
        super().check()
        require_text("EndorsementCredential.name", self.name)
        if not isinstance(self.credential_subject, EndorsementSubject):
            raise builder_error("EndorsementCredential.credentialSubject", "must be an EndorsementSubject.")

    def to_json(self, *, check: bool = True) -> dict[str, Any]:
        document = self._finish(self._body())
        if check:
            validate_endorsement_credential(document, strict=True)
        return document


def profile_document(profile: Profile) -> dict[str, Any]:
    """The issuer Profile as published at its own URL: the Profile with the OB 3.0 @context."""
    body = profile.to_json()
    return {"@context": credential_context(body), **body}


# == shape checks ==============================================================================


def _check_image(p: Problems, node: Mapping[str, Any], key: str, path: str) -> None:
    if key not in node:
        return
    value = node[key]
    where = join(path, key)
    if isinstance(value, str):
        p.error(where, "must be an Image object {\"id\": <URL or data: URI>, \"type\": \"Image\"}, not a bare "
                       "string.")
        return
    image = p.obj(node, key, path)
    if image is None:
        return
    p.uri(image, "id", where, required=True, hint="the image URL or a data: URI")
    p.type_contains(image, where, single="Image")
    p.string(image, "caption", where, lang_map=True)


def _check_identifier_entry(p: Problems, entry: Mapping[str, Any], path: str) -> None:
    p.type_contains(entry, path, single="IdentifierEntry")
    p.string(entry, "identifier", path, required=True)
    p.enum_ext(entry, "identifierType", path, IDENTITY_TYPES, required=True)


def check_identity_object(p: Problems, node: Mapping[str, Any], path: str) -> None:
    """IdentityObject: type, hashed, identityHash ('sha256$hex' when hashed), identityType, salt."""
    p.type_contains(node, path, single="IdentityObject")
    hashed = p.boolean(node, "hashed", path, required=True)
    identity_hash = p.string(node, "identityHash", path, required=True,
                             hint="the salted hash 'sha256$<hex>' or, with hashed false, the plain value")
    p.enum_ext(node, "identityType", path, IDENTITY_TYPES, required=True)
    p.string(node, "salt", path)
    if hashed is True and isinstance(identity_hash, str):
        if not IDENTITY_HASH_RE.match(identity_hash):
            p.error(join(path, "identityHash"), f"is hashed but {identity_hash!r} is not 'sha256$<64 hex digits>' "
                                                "(or 'md5$<32 hex digits>').")
        elif identity_hash.lower().startswith("md5$"):
            (p.error if p.strict else p.warn)(join(path, "identityHash"), "uses md5; issue sha256 instead.")
    if hashed is True and "salt" not in node:
        p.warn(join(path, "salt"), "is absent, so the hash is unsalted and easy to reverse.")
    allowed = {"type", "hashed", "identityHash", "identityType", "salt"}
    for extra in sorted(set(node) - allowed):
        p.error(join(path, extra), "is not an IdentityObject property (the schema forbids other properties).")


def _check_alignment(p: Problems, node: Mapping[str, Any], path: str) -> None:
    p.type_contains(node, path, "Alignment")
    p.string(node, "targetName", path, required=True, lang_map=True)
    p.uri(node, "targetUrl", path, required=True)
    for key in ("targetCode", "targetDescription", "targetFramework"):
        p.string(node, key, path, lang_map=True)
    p.enum_ext(node, "targetType", path, ALIGNMENT_TARGET_TYPES)


def _check_alignments(p: Problems, node: Mapping[str, Any], path: str) -> None:
    for item_path, item in p.objects(node, "alignment", path):
        _check_alignment(p, item, item_path)


def _check_strings(p: Problems, node: Mapping[str, Any], path: str, *keys: str) -> None:
    for key in keys:
        p.string(node, key, path, lang_map=True)


def check_profile(p: Problems, node: Mapping[str, Any], path: str, *, depth: int = 0) -> None:
    """A Profile object (issuer, creator, source, endorser, parentOrg)."""
    p.uri(node, "id", path, required=True)
    p.type_contains(node, path, "Profile")
    if "name" not in node:
        p.warn(join(path, "name"), "is missing; displayers show the issuer's name, so give one.")
    _check_strings(p, node, path, "name", "phone", "description", "official", "givenName", "familyName",
                   "additionalName", "patronymicName", "honorificPrefix", "honorificSuffix", "familyNamePrefix")
    p.uri(node, "url", path)
    email = p.string(node, "email", path)
    if isinstance(email, str) and "@" not in email:
        p.error(join(path, "email"), f"{email!r} is not an email address.")
    _check_image(p, node, "image", path)
    address = p.obj(node, "address", path)
    if address is not None:
        where = join(path, "address")
        p.type_contains(address, where, "Address")
        geo = p.obj(address, "geo", where)
        if geo is not None:
            p.type_contains(geo, join(where, "geo"), single="GeoCoordinates")
            for key in ("latitude", "longitude"):
                p.require(geo, key, join(where, "geo"))
                p.number(geo, key, join(where, "geo"))
    for item_path, item in p.objects(node, "otherIdentifier", path):
        _check_identifier_entry(p, item, item_path)
    if "dateOfBirth" in node and not (isinstance(node["dateOfBirth"], str) and DATE_RE.match(node["dateOfBirth"])):
        p.error(join(path, "dateOfBirth"), "must be a date YYYY-MM-DD.")
    parent = p.obj(node, "parentOrg", path)
    if parent is not None and depth < 4:
        check_profile(p, parent, join(path, "parentOrg"), depth=depth + 1)
    _check_embedded_endorsements(p, node, path)


def _check_embedded_endorsements(p: Problems, node: Mapping[str, Any], path: str) -> None:
    # Embedded endorsements are signed by someone else: we can only read them as they are.
    strict, p.strict = p.strict, False
    try:
        for item_path, item in p.objects(node, "endorsement", path):
            _check_endorsement(p, item, item_path)
    finally:
        p.strict = strict
    for index, token in enumerate(p.array(node, "endorsementJwt", path)):
        if not is_compact_jws(token):
            p.error(f"{join(path, 'endorsementJwt')}[{index}]", "must be a compact JWS (header.payload.signature).")


def _check_result_description(p: Problems, node: Mapping[str, Any], path: str) -> None:
    p.uri(node, "id", path, required=True)
    p.type_contains(node, path, "ResultDescription")
    p.string(node, "name", path, required=True, lang_map=True)
    p.enum_ext(node, "resultType", path, RESULT_TYPES, required=True)
    for index, value in enumerate(p.array(node, "allowedValue", path)):
        if not isinstance(value, str):
            p.error(f"{join(path, 'allowedValue')}[{index}]", "must be a string.")
    p.uri(node, "requiredLevel", path)
    _check_strings(p, node, path, "requiredValue", "valueMax", "valueMin")
    _check_alignments(p, node, path)
    for item_path, level in p.objects(node, "rubricCriterionLevel", path):
        p.uri(level, "id", item_path, required=True)
        p.type_contains(level, item_path, "RubricCriterionLevel")
        p.string(level, "name", item_path, required=True, lang_map=True)
        _check_strings(p, level, item_path, "description", "level", "points")
        _check_alignments(p, level, item_path)


def check_achievement(p: Problems, node: Mapping[str, Any], path: str) -> None:
    """An Achievement: id, type, name, description and criteria are required."""
    p.uri(node, "id", path, required=True)
    p.type_contains(node, path, "Achievement")
    p.string(node, "name", path, required=True, lang_map=True)
    p.string(node, "description", path, required=True, lang_map=True)
    criteria = p.obj(node, "criteria", path, required=True,
                     hint='give {"id": <criteria URL>} and/or {"narrative": "how it is earned"}')
    if criteria is not None:
        where = join(path, "criteria")
        p.uri(criteria, "id", where)
        p.string(criteria, "narrative", where, lang_map=True)
        if "id" not in criteria and "narrative" not in criteria:
            p.warn(where, "has neither id nor narrative; say how the achievement is earned.")
    _check_image(p, node, "image", path)
    p.enum_ext(node, "achievementType", path, ACHIEVEMENT_TYPES)
    _check_alignments(p, node, path)
    creator = p.obj(node, "creator", path)
    if creator is not None:
        check_profile(p, creator, join(path, "creator"))
    p.number(node, "creditsAvailable", path)
    _check_strings(p, node, path, "fieldOfStudy", "humanCode", "specialization", "version", "inLanguage")
    for index, tag in enumerate(p.array(node, "tag", path)):
        if not isinstance(tag, str):
            p.error(f"{join(path, 'tag')}[{index}]", f"must be a string, not {json_type(tag)}.")
    for item_path, item in p.objects(node, "resultDescription", path):
        _check_result_description(p, item, item_path)
    for item_path, item in p.objects(node, "related", path):
        p.uri(item, "id", item_path, required=True)
        p.type_contains(item, item_path, "Related")
    for item_path, item in p.objects(node, "otherIdentifier", path):
        _check_identifier_entry(p, item, item_path)
    _check_embedded_endorsements(p, node, path)


def _check_achievement_subject(p: Problems, node: Mapping[str, Any], path: str) -> None:
    p.type_contains(node, path, "AchievementSubject")
    p.uri(node, "id", path)
    identifiers = list(p.objects(node, "identifier", path))
    for item_path, item in identifiers:
        check_identity_object(p, item, item_path)
    if "id" not in node and not identifiers:
        p.error(path, "names no recipient: give credentialSubject.id (a DID or URL) and/or "
                      "credentialSubject.identifier (IdentityObjects).")
    achievement = p.obj(node, "achievement", path, required=True, hint="the Achievement object that was earned")
    if achievement is not None:
        check_achievement(p, achievement, join(path, "achievement"))
    start = p.datetimez(node, "activityStartDate", path)
    end = p.datetimez(node, "activityEndDate", path)
    if start and end and end < start:
        p.error(join(path, "activityEndDate"), "is before activityStartDate.")
    p.number(node, "creditsEarned", path)
    _check_strings(p, node, path, "narrative", "licenseNumber", "role", "term")
    _check_image(p, node, "image", path)
    source = p.obj(node, "source", path)
    if source is not None:
        check_profile(p, source, join(path, "source"))
    known = {rd.get("id") for rd in as_list((achievement or {}).get("resultDescription"))
             if isinstance(rd, dict) and isinstance(rd.get("id"), str)}  # a malformed id (a list, say) matches nothing
    for item_path, result in p.objects(node, "result", path):
        p.type_contains(result, item_path, "Result")
        ref = p.uri(result, "resultDescription", item_path)
        p.uri(result, "achievedLevel", item_path)
        if ref is not None and ref not in known:
            p.warn(join(item_path, "resultDescription"), f"{ref!r} is not the id of a resultDescription of the "
                                                         "achievement.")
        if "status" in result and result["status"] not in RESULT_STATUSES:
            p.error(join(item_path, "status"), f"must be one of {', '.join(sorted(RESULT_STATUSES))}.")
        p.string(result, "value", item_path, lang_map=True)
        _check_alignments(p, result, item_path)


def _check_status_entry(p: Problems, node: Mapping[str, Any], path: str) -> None:
    p.string(node, "type", path, required=True, hint="e.g. BitstringStatusListEntry")
    p.uri(node, "id", path)
    kind = node.get("type")
    if kind in ("BitstringStatusListEntry", "StatusList2021Entry"):
        purpose = p.string(node, "statusPurpose", path, required=True, hint="revocation or suspension")
        if isinstance(purpose, str) and kind == "BitstringStatusListEntry" and purpose not in STATUS_PURPOSES:
            p.warn(join(path, "statusPurpose"), f"{purpose!r} is not revocation, suspension, refresh or message.")
        index = p.string(node, "statusListIndex", path, required=True,
                         hint='a base-10 integer as a string, e.g. "94567"')
        if isinstance(index, str) and not index.isdigit():
            p.error(join(path, "statusListIndex"), f"must be a non-negative integer in base 10, as a string, not "
                                                   f"{index!r}.")
        url = p.uri(node, "statusListCredential", path, required=True)
        if url is not None and node.get("id") == url:
            p.error(join(path, "id"), "must not be the URL of the status list credential itself.")
        if "statusSize" in node and node["statusSize"] not in (None, 1) and "statusMessage" not in node:
            p.error(join(path, "statusMessage"), "is required when statusSize is greater than 1.")
    elif kind == "1EdTechRevocationList":
        p.uri(node, "id", path, required=True, hint="the revocation list URL")


def _check_credential_common(p: Problems, doc: Mapping[str, Any], path: str, *, allow_vc1: bool) -> str | None:
    """VC-level rules shared by OpenBadgeCredential and EndorsementCredential."""
    model = check_context(doc, path, p, allow_vc1=allow_vc1)
    p.uri(doc, "id", path, required=True, hint="OB 3.0 requires a credential id (urn:uuid:… or an https URL)")
    p.string(doc, "description", path, lang_map=True)
    issuer = doc.get("issuer")
    if "issuer" not in doc:
        p.error(join(path, "issuer"), "is required: the issuer Profile {\"id\": …, \"type\": [\"Profile\"], "
                                      "\"name\": …}.")
    elif isinstance(issuer, str):
        if not is_uri(issuer):
            p.error(join(path, "issuer"), f"must be a Profile object or its URI, not {issuer!r}.")
        else:
            p.lenient(join(path, "issuer"), "is a URI; OB 3.0 embeds the issuer Profile as an object.")
    elif isinstance(issuer, dict):
        check_profile(p, issuer, join(path, "issuer"))
    else:
        p.error(join(path, "issuer"), f"must be a Profile object, not {json_type(issuer)}.")
    if model == DATA_MODEL_V1:
        start = p.datetimez(doc, "issuanceDate", path, required="validFrom" not in doc)
        start = p.datetimez(doc, "validFrom", path) or start
        end = p.datetimez(doc, "expirationDate", path)
        end = p.datetimez(doc, "validUntil", path) or end
        end_key = "expirationDate" if "expirationDate" in doc else "validUntil"
    else:
        for old, new in (("issuanceDate", "validFrom"), ("expirationDate", "validUntil")):
            if old in doc:
                p.lenient(join(path, old), f"is the VC 1.1 name; with the VC 2.0 context use {new}.")
        if "validFrom" not in doc and "issuanceDate" in doc:
            p.error(join(path, "validFrom"), "is required (issuanceDate is the VC 1.1 name; rename it validFrom).")
            start = None
        else:
            start = p.datetimez(doc, "validFrom", path, required=True)
        end = p.datetimez(doc, "validUntil", path)
        end_key = "validUntil"
    if start and end and end <= start:
        p.error(join(path, end_key), "must be after validFrom.")
    p.datetimez(doc, "awardedDate", path)
    for item_path, item in p.objects(doc, "credentialSchema", path, compactable=True):
        p.uri(item, "id", item_path, required=True)
        p.string(item, "type", item_path, required=True, hint=f"e.g. {SCHEMA_VALIDATOR_TYPE}")
    if "credentialStatus" in doc:
        statuses = doc["credentialStatus"]
        if isinstance(statuses, list):
            p.lenient(join(path, "credentialStatus"), "is an array; OB 3.0 expects one status object.")
        for index, status in enumerate(as_list(statuses)):
            where = join(path, "credentialStatus") + (f"[{index}]" if isinstance(statuses, list) else "")
            if isinstance(status, dict):
                _check_status_entry(p, status, where)
            else:
                p.error(where, f"must be an object with a type, not {json_type(status)}.")
    refresh = p.obj(doc, "refreshService", path)
    if refresh is not None:
        p.uri(refresh, "id", join(path, "refreshService"), required=True)
        p.string(refresh, "type", join(path, "refreshService"), required=True, hint=REFRESH_SERVICE_TYPE)
    for item_path, item in p.objects(doc, "termsOfUse", path, compactable=True):
        p.string(item, "type", item_path, required=True)
        p.uri(item, "id", item_path)
    for item_path, item in p.objects(doc, "evidence", path):
        p.type_contains(item, item_path, "Evidence")
        p.uri(item, "id", item_path)
        _check_strings(p, item, item_path, "narrative", "name", "description", "genre", "audience")
    for item_path, item in p.objects(doc, "proof", path, compactable=True):
        p.string(item, "type", item_path, required=True, hint="e.g. DataIntegrityProof")
    return model


def _check_endorsement(p: Problems, doc: Mapping[str, Any], path: str) -> str | None:
    model = _check_credential_common(p, doc, path, allow_vc1=not p.strict)
    p.type_contains(doc, path, "VerifiableCredential", "EndorsementCredential")
    p.string(doc, "name", path, required=True, lang_map=True, hint="a display name for the endorsement")
    subject = p.obj(doc, "credentialSubject", path, required=True,
                    hint='{"id": <endorsed issuer/achievement/credential id>, "type": ["EndorsementSubject"]}')
    if subject is not None:
        where = join(path, "credentialSubject")
        p.uri(subject, "id", where, required=True, hint="the id of the endorsed issuer, achievement or credential")
        p.type_contains(subject, where, "EndorsementSubject")
        p.string(subject, "endorsementComment", where, lang_map=True)
    return model


def inspect_ob3_credential(doc: Any, *, allow_vc1: bool = True, strict: bool = False) -> ShapeReport:
    """Every shape problem of an OpenBadgeCredential/AchievementCredential, without raising."""
    p = Problems(strict=strict)
    if p.cannot_check(doc, "a credential"):
        return p.report
    p.no_nulls(doc, "")
    p.report.data_model = _check_credential_common(p, doc, "", allow_vc1=allow_vc1 and not strict)
    p.type_contains(doc, "", "VerifiableCredential", any_of=OB_CREDENTIAL_TYPES)
    if "name" not in doc:
        p.lenient("name", "is missing; wallets and displayers show the credential's name.")
    else:
        p.string(doc, "name", "", lang_map=True)
    _check_image(p, doc, "image", "")
    subject = doc.get("credentialSubject")
    if "credentialSubject" not in doc:
        p.error("credentialSubject", "is required: the AchievementSubject (recipient + achievement).")
    elif isinstance(subject, list):
        p.error("credentialSubject", "must be one AchievementSubject object, not an array.")
    elif isinstance(subject, dict):
        _check_achievement_subject(p, subject, "credentialSubject")
    else:
        p.error("credentialSubject", f"must be an AchievementSubject object, not {json_type(subject)}.")
    _check_embedded_endorsements(p, doc, "")
    return p.report


def validate_ob3_credential(doc: Any, *, allow_vc1: bool = True, strict: bool = False) -> ShapeReport:
    """Raise ``ValidationError`` listing every problem; return the report (data model, warnings) otherwise.

    ``allow_vc1`` accepts VC 1.1 credentials (verification of older badges); ``strict`` applies the
    rules we follow when issuing (arrays only, extensions context, no empty arrays, VC 2.0 only).
    """
    return inspect_ob3_credential(doc, allow_vc1=allow_vc1, strict=strict).raise_for_errors(
        "The Open Badges 3.0 credential", code="ob3_shape_invalid")


def inspect_endorsement_credential(doc: Any, *, strict: bool = False) -> ShapeReport:
    p = Problems(strict=strict)
    if p.cannot_check(doc, "an endorsement"):
        return p.report
    p.no_nulls(doc, "")
    p.report.data_model = _check_endorsement(p, doc, "")
    return p.report


def validate_endorsement_credential(doc: Any, *, strict: bool = False) -> ShapeReport:
    """Raise ``ValidationError`` unless ``doc`` is a well-formed EndorsementCredential."""
    return inspect_endorsement_credential(doc, strict=strict).raise_for_errors(
        "The EndorsementCredential", code="ob3_shape_invalid")


def inspect_profile(doc: Any, *, strict: bool = False) -> ShapeReport:
    p = Problems(strict=strict)
    if p.cannot_check(doc, "a Profile"):
        return p.report
    p.no_nulls(doc, "")
    if "@context" in doc or strict:
        p.report.data_model = check_context(doc, "", p, allow_vc1=not strict)
    check_profile(p, doc, "")
    return p.report


def validate_profile(doc: Any, *, strict: bool = False) -> ShapeReport:
    """Raise ``ValidationError`` unless ``doc`` is a well-formed Profile (``@context`` checked if present)."""
    return inspect_profile(doc, strict=strict).raise_for_errors("The Profile", code="ob3_shape_invalid")


__all__ = [
    "ACHIEVEMENT_CREDENTIAL_SCHEMA",
    "ACHIEVEMENT_TYPES",
    "DATA_MODEL_V1",
    "DATA_MODEL_V2",
    "ENDORSEMENT_CREDENTIAL_SCHEMA",
    "OB3_CONTEXT",
    "VC_V2_CONTEXT",
    "Achievement",
    "AchievementSubject",
    "Address",
    "Alignment",
    "CredentialSchema",
    "Criteria",
    "EndorsementCredential",
    "EndorsementSubject",
    "Evidence",
    "GeoCoordinates",
    "IdentifierEntry",
    "IdentityObject",
    "Image",
    "OpenBadgeCredential",
    "Profile",
    "RefreshService",
    "Related",
    "Result",
    "ResultDescription",
    "RubricCriterionLevel",
    "ShapeReport",
    "TermsOfUse",
    "inspect_endorsement_credential",
    "inspect_ob3_credential",
    "inspect_profile",
    "profile_document",
    "validate_endorsement_credential",
    "validate_ob3_credential",
    "validate_profile",
]
