"""The Open Badges 3.0 contexts (3.0.0 – 3.0.3) and 1EdTech's ``extensions.json``, built from one vocabulary table.

The OB 3.0 data model (1EdTech, "Open Badges Specification v3.0") defines classes and their properties;
each published context maps them onto the vocabulary at ``OB``. ``CLASSES`` and ``TOP_LEVEL``
below hold that vocabulary as the current release (3.0.3) states it. The earlier releases differ in a few
systematic ways (``Release``) and in individual misprints that were published and therefore are what
credentials signed with those URLs mean (``ERRATA``). A signature covers the RDF the context produces, so the
misprints are reproduced, never corrected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from insignia.credentials.jsonld.contexts._terms import KEYWORD_ALIASES, Producer, document, term

#: The OB 3.0 vocabulary.
OB: Final = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
#: schema.org, as OB 3.0 writes it (https).
SDO: Final = "https://schema.org/"
#: XML Schema datatypes, as OB 3.0 writes them: with ``https`` (the W3C namespace is ``http``).
OB_XSD: Final = "https://www.w3.org/2001/XMLSchema#"

# Property kinds. Anything else is the local name of an XML Schema datatype.
TEXT: Final = "text"  # a plain string
REF: Final = "ref"  # an IRI naming another resource ("@type": "@id")
OBJECT: Final = "object"  # an embedded object of class ``range``


@dataclass(frozen=True)
class Prop:
    """A property of a class: its term, IRI, kind, range class, container and the releases that define it."""

    name: str
    iri: str
    kind: str = TEXT
    range: str | None = None
    container: str | None = None
    since: str = "3.0.0"
    only: frozenset[str] | None = None

    def in_release(self, version: str) -> bool:
        if self.only is not None:
            return version in self.only
        return _order(version) >= _order(self.since)


@dataclass(frozen=True)
class Klass:
    """A class of the data model; ``alias_of`` makes the term another name for a class term."""

    name: str
    iri: str = ""
    props: tuple[Prop, ...] = ()
    alias_of: str | None = None


@dataclass(frozen=True)
class Release:
    """The release-wide conventions of one published context."""

    version: str
    url: str
    protected: bool  # "@protected": true in every context object (3.0.2+)
    scoped_aliases: bool  # id/type aliases repeated inside each scoped context (3.0.2+)
    xsd_prefix: bool  # an "xsd" prefix is declared and datatypes are written "xsd:..." (3.0.0, 3.0.1)
    typed_text: bool  # plain strings carry "@type": "xsd:string" (3.0.0, 3.0.1)
    typed_objects: bool  # embedded objects carry "@type": OB + their range class name (3.0.0)


_KEEP: Any = object()


@dataclass(frozen=True)
class Erratum:
    """A published deviation from the table for one term (``scope`` None = top level) in some releases."""

    versions: frozenset[str]
    scope: str | None
    term: str
    note: str
    iri: str = field(default=_KEEP)
    kind: str = field(default=_KEEP)
    range: str | None = field(default=_KEEP)
    container: str | None = field(default=_KEEP)
    type_verbatim: str | None = field(default=_KEEP)  # "@type" written as is, without datatype handling


def _order(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _p(name: str, local: str | None = None, kind: str = TEXT, **options: Any) -> Prop:
    """A property in the OB vocabulary (IRI ``OB + local``, by default the property name)."""
    return Prop(name, OB + (local or name), kind, **options)


def _s(name: str, local: str | None = None, kind: str = TEXT, **options: Any) -> Prop:
    """A property borrowed from schema.org."""
    return Prop(name, SDO + (local or name), kind, **options)


_IMAGE_IN_SCOPE = _p("image", kind=REF, since="3.0.1")
_IN_LANGUAGE = _s("inLanguage", since="3.0.3")

#: The classes of the OB 3.0 data model, in the order the contexts list them, with their properties.
CLASSES: Final[tuple[Klass, ...]] = (
    Klass("OpenBadgeCredential", OB + "OpenBadgeCredential"),
    Klass(
        "Achievement",
        OB + "Achievement",
        (
            _p("achievementType"),
            _p("alignment", kind=OBJECT, range="Alignment", container="@set"),
            _p("creator", kind=OBJECT, range="Profile"),
            _p("creditsAvailable", kind="float"),
            _p("criteria", "Criteria", kind=REF),  # sic: the class IRI, in every release
            _p("fieldOfStudy"),
            _p("humanCode"),
            _IMAGE_IN_SCOPE,
            _p("otherIdentifier", kind=OBJECT, range="IdentifierEntry", container="@set"),
            _p("related", kind=OBJECT, range="Related", container="@set"),
            _p("resultDescription", kind=OBJECT, range="ResultDescription", container="@set"),
            _p("specialization"),
            _s("tag", "keywords", container="@set"),
            _p("version"),
            _IN_LANGUAGE,
        ),
    ),
    Klass("AchievementCredential", alias_of="OpenBadgeCredential"),
    Klass(
        "AchievementSubject",
        OB + "AchievementSubject",
        (
            _p("achievement", kind=OBJECT, range="Achievement"),
            _p("activityEndDate", kind="date"),
            _p("activityStartDate", kind="date"),
            _p("creditsEarned", kind="float"),
            _p("identifier", kind=OBJECT, range="IdentityObject", container="@set"),
            _IMAGE_IN_SCOPE,
            _p("licenseNumber"),
            _p("result", kind=OBJECT, range="Result", container="@set"),
            _p("role"),
            _p("source", kind=REF),
            _p("term"),
        ),
    ),
    Klass(
        "Address",
        OB + "Address",
        (
            _s("addressCountry"),
            _p("addressCountryCode", "CountryCode"),  # sic: the class IRI, in every release
            _s("addressLocality"),
            _s("addressRegion"),
            _p("geo", "GeoCoordinates", kind=OBJECT, range="GeoCoordinates"),  # sic, in every release
            _s("postOfficeBoxNumber"),
            _s("postalCode"),
            _s("streetAddress"),
        ),
    ),
    Klass(
        "Alignment",
        SDO + "AlignmentObject",
        (
            _p("targetCode"),
            _s("targetDescription"),
            _s("targetFramework"),
            _s("targetName"),
            _p("targetType"),
            _s("targetUrl", kind="anyURI"),
        ),
    ),
    Klass("Criteria", OB + "Criteria"),
    Klass("EndorsementCredential", OB + "EndorsementCredential"),
    Klass("EndorsementSubject", OB + "EndorsementSubject", (_p("endorsementComment"),)),
    Klass("Evidence", OB + "Evidence", (_s("audience"), _s("genre"))),
    Klass("GeoCoordinates", OB + "GeoCoordinates", (_s("latitude"), _s("longitude"))),
    Klass("IdentifierEntry", OB + "IdentifierEntry", (_p("identifier"), _p("identifierType"))),
    Klass(
        "IdentityObject",
        OB + "IdentityObject",
        (_p("hashed", kind="boolean"), _p("identityHash"), _p("identityType"), _p("salt")),
    ),
    Klass("Image", OB + "Image", (_s("caption"),)),
    Klass(
        "Profile",
        OB + "Profile",
        (
            _s("additionalName"),
            _p("address", kind=REF),
            _p("dateOfBirth", kind="date"),
            _s("email"),
            _s("familyName"),
            _p("familyNamePrefix"),
            _s("givenName"),
            _s("honorificPrefix"),
            _s("honorificSuffix"),
            _IMAGE_IN_SCOPE,
            _p("otherIdentifier", kind=OBJECT, range="IdentifierEntry", container="@set"),
            _p("parentOrg", kind=REF),
            _p("patronymicName"),
            _p("phone"),
            _p("official"),
        ),
    ),
    Klass("Related", OB + "Related", (_p("version"), _IN_LANGUAGE)),
    Klass(
        "Result",
        OB + "Result",
        (
            _p("achievedLevel", kind="anyURI"),
            _p("resultDescription", kind="anyURI"),
            _p("status"),
            _s("value"),
        ),
    ),
    Klass(
        "ResultDescription",
        OB + "ResultDescription",
        (
            _p("allowedValue", container="@list"),
            _p("requiredLevel", kind="anyURI"),
            _p("requiredValue"),
            _p("resultType"),
            _p("rubricCriterionLevel", kind=OBJECT, range="RubricCriterionLevel", container="@set"),
            _p("valueMax"),
            _p("valueMin"),
        ),
    ),
    Klass("RubricCriterionLevel", OB + "RubricCriterionLevel", (_p("level"), _p("points"))),
)

#: Properties defined at the top level (shared by several classes).
TOP_LEVEL: Final[tuple[Prop, ...]] = (
    _p("alignment", kind=OBJECT, range="Alignment", container="@set"),
    _s("description"),
    _p("endorsement", kind=OBJECT, range="EndorsementCredential", container="@set"),
    _p("image", kind=REF),
    _IN_LANGUAGE,
    _s("name"),
    _p("narrative"),
    _s("url", kind="anyURI"),
    _p("awardedDate", kind="dateTime", only=frozenset({"3.0.1", "3.0.3"})),
)

_BASE_URL: Final = "https://purl.imsglobal.org/spec/ob/v3p0/"

RELEASES: Final[tuple[Release, ...]] = (
    Release("3.0.0", _BASE_URL + "context.json", False, False, True, True, True),
    Release("3.0.1", _BASE_URL + "context-3.0.1.json", False, False, True, True, False),
    Release("3.0.2", _BASE_URL + "context-3.0.2.json", True, True, False, False, False),
    Release("3.0.3", _BASE_URL + "context-3.0.3.json", True, True, False, False, False),
)


def _v(*versions: str) -> frozenset[str]:
    return frozenset(versions)


_CLASS_AS_PROPERTY = "3.0.0 used the range class's IRI as the property IRI (and gave no @type)"

#: What the published contexts say where they depart from the table.
ERRATA: Final[tuple[Erratum, ...]] = (
    Erratum(_v("3.0.0"), None, "Alignment", "class IRI schema:Alignment", iri=SDO + "Alignment"),
    Erratum(_v("3.0.0"), "Achievement", "creator", _CLASS_AS_PROPERTY, iri=OB + "Profile", range=None),
    Erratum(_v("3.0.0"), "AchievementSubject", "achievement", _CLASS_AS_PROPERTY, iri=OB + "Achievement", range=None),
    Erratum(_v("3.0.0"), "Profile", "address", _CLASS_AS_PROPERTY, iri=OB + "Address", kind=OBJECT, range=None),
    Erratum(_v("3.0.0"), "Address", "geo", _CLASS_AS_PROPERTY + "; the IRI was never corrected", range=None),
    Erratum(_v("3.0.1", "3.0.2"), "AchievementSubject", "achievement", "HTML anchor", iri=OB + "achievement-0"),
    Erratum(_v("3.0.0"), "AchievementSubject", "source", "typed with its range", kind=OBJECT, range="Profile"),
    Erratum(_v("3.0.0"), None, "image", "typed with its range", kind=OBJECT, range="Image"),
    Erratum(_v("3.0.0"), "Profile", "parentOrg", "a string", kind=TEXT),
    Erratum(_v("3.0.0"), "Profile", "phone", "the class IRI", iri=OB + "PhoneNumber"),
    Erratum(_v("3.0.0", "3.0.1"), "ResultDescription", "allowedValue", "an unordered set", container="@set"),
    Erratum(_v("3.0.2"), None, "image", "the class IRI", iri=OB + "Image"),
    *(
        Erratum(_v("3.0.1", "3.0.2"), scope_name, "image", "the class IRI", iri=OB + "Image")
        for scope_name in ("Achievement", "AchievementSubject", "Profile")
    ),
    Erratum(
        _v("3.0.3"),
        None,
        "awardedDate",
        "written xsd:dateTime although 3.0.3 declares no xsd prefix: the datatype is the IRI 'xsd:dateTime'",
        type_verbatim="xsd:dateTime",
    ),
)


def _erratum(release: Release, scope_name: str | None, prop: Prop) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for erratum in ERRATA:
        if release.version in erratum.versions and erratum.scope == scope_name and erratum.term == prop.name:
            for name in ("iri", "kind", "range", "container", "type_verbatim"):
                value = getattr(erratum, name)
                if value is not _KEEP:
                    changes[name] = value
    return changes


def _datatype(release: Release, local: str) -> str:
    return f"xsd:{local}" if release.xsd_prefix else OB_XSD + local


def _property(release: Release, scope_name: str | None, prop: Prop) -> dict[str, Any]:
    changes = _erratum(release, scope_name, prop)
    kind = changes.get("kind", prop.kind)
    range_ = changes.get("range", prop.range)
    value_type: str | None
    if kind == TEXT:
        value_type = _datatype(release, "string") if release.typed_text else None
    elif kind == REF:
        value_type = "@id"
    elif kind == OBJECT:
        value_type = OB + range_ if release.typed_objects and range_ else None
    else:
        value_type = _datatype(release, kind)
    value_type = changes.get("type_verbatim", value_type)
    return term(changes.get("iri", prop.iri), type=value_type, container=changes.get("container", prop.container))


def _class(release: Release, klass: Klass) -> dict[str, Any]:
    if klass.alias_of is not None:
        return {"@id": klass.alias_of}
    overrides = _erratum(release, None, Prop(klass.name, klass.iri))
    definition: dict[str, Any] = {"@id": overrides.get("iri", klass.iri)}
    props = [prop for prop in klass.props if prop.in_release(release.version)]
    if props:
        scoped: dict[str, Any] = {}
        if release.protected:
            scoped["@protected"] = True
        if release.scoped_aliases:
            scoped.update(KEYWORD_ALIASES)
        for prop in props:
            scoped[prop.name] = _property(release, klass.name, prop)
        definition["@context"] = scoped
    return definition


def build_context(release: Release) -> dict[str, Any]:
    """The context document of one OB 3.0 release."""
    context: dict[str, Any] = {}
    if release.protected:
        context["@protected"] = True
    context.update(KEYWORD_ALIASES)
    if release.xsd_prefix:
        context["xsd"] = OB_XSD
    for klass in CLASSES:
        context[klass.name] = _class(release, klass)
    for prop in TOP_LEVEL:
        if prop.in_release(release.version):
            context[prop.name] = _property(release, None, prop)
    return document(context)


#: The 1EdTech service types a credential may name; each is defined by its own specification's context.
#: (term, specification short name) → ``https://purl.imsglobal.org/spec/<spec>/v1p0/context.json#<term>``.
EXTENSION_TYPES: Final[tuple[tuple[str, str], ...]] = (
    ("1EdTechJsonSchemaValidator2019", "vccs"),  # VC-Credential Schema
    ("1EdTechRevocationList", "vcrl"),  # VC-Revocation List
    ("1EdTechCredentialRefresh", "vccr"),  # VC-Credential Refresh
)

EXTENSIONS_URL: Final = _BASE_URL + "extensions.json"


def build_extensions() -> dict[str, Any]:
    """``extensions.json``: the 1EdTech extension types used in OB 3.0 credentials."""
    context: dict[str, Any] = dict(KEYWORD_ALIASES)
    for name, spec in EXTENSION_TYPES:
        context[name] = f"https://purl.imsglobal.org/spec/{spec}/v1p0/context.json#{name}"
    return document(context)


PRODUCERS: Final[dict[str, Producer]] = {
    **{release.url: partial(build_context, release) for release in RELEASES},
    EXTENSIONS_URL: build_extensions,
}
