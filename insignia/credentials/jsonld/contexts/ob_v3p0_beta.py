"""The OB 3.0 beta context (JFF Plugfest 1, 2022), still used by OB 3.0 credentials issued before 3.0.0.

Its vocabulary lives at ``BETA`` (the draft specification page) rather than the final ``vocab.html``; the
class list is shorter (no ``IdentifierEntry``/``Related``), ``Profile`` still had ``sourcedId`` and
``sisSourcedId``, and every literal is typed ``xsd:string``. It was published under two URLs.
"""

from __future__ import annotations

from typing import Any, Final

from insignia.credentials.jsonld.contexts._terms import KEYWORD_ALIASES, Producer, document, term
from insignia.credentials.jsonld.contexts.ob_v3p0 import OB_XSD, SDO

BETA: Final = "https://imsglobal.github.io/openbadges-specification/ob_v3p0.html#"

STRING: Final = "xsd:string"
ID: Final = "@id"
#: Marks a term written as a bare IRI string.
PLAIN: Final = "plain"

#: A property: (term, IRI, value type, or None for an untyped one, or PLAIN).
Row = tuple[str, str, str | None]


def _b(name: str, value_type: str | None = STRING, local: str | None = None) -> Row:
    return (name, BETA + (local or name), value_type)


def _s(name: str, value_type: str | None = STRING, local: str | None = None) -> Row:
    return (name, SDO + (local or name), value_type)


#: The beta classes: (term, IRI, properties). Misspellings of the published context are kept (``addresLocality``).
CLASSES: Final[tuple[tuple[str, str, tuple[Row, ...]], ...]] = (
    ("OpenBadgeCredential", BETA + "OpenBadgeCredential", ()),
    (
        "Achievement",
        BETA + "Achievement",
        (
            _b("achievementType"),
            _b("alignment", None, "Alignment"),
            _b("creator", None, "Profile"),
            _b("creditsAvailable", "xsd:float"),
            _b("criteria", ID),
            _b("fieldOfStudy"),
            _b("humanCode"),
            _b("specialization"),
            ("tags", SDO + "keywords", STRING),  # a set; see _CONTAINERS
        ),
    ),
    ("AchievementCredential", "OpenBadgeCredential", ()),
    (
        "AchievementSubject",
        BETA + "AchievementSubject",
        (_b("achievement", None, "Achievement"), _b("identifier", None, "Identifier"), _b("result", None, "Result")),
    ),
    (
        "Address",
        BETA + "Address",
        (
            _s("addressCountry"),
            _b("addressCountryCode", local="CountryCode"),
            _s("addressLocality", local="addresLocality"),
            _s("addressRegion"),
            _b("geo", None, "GeoCoordinates"),
            _s("postOfficeBoxNumber"),
            _s("postalCode"),
            _s("streetAddress"),
        ),
    ),
    (
        "Alignment",
        SDO + "Alignment",
        (
            _b("targetCode"),
            _s("targetDescription"),
            _s("targetFramework"),
            _s("targetName"),
            _b("targetType"),
            _s("targetUrl", "xsd:anyURI"),
        ),
    ),
    ("Criteria", BETA + "Criteria", ()),
    ("EndorsementCredential", BETA + "EndorsementCredential", ()),
    ("EndorsementSubject", BETA + "EndorsementSubject", (_b("endorsementComment"),)),
    ("Evidence", BETA + "Evidence", (_s("audience"), _s("genre"))),
    ("GeoCoordinates", BETA + "GeoCoordinates", (_s("latitude"), _s("longitude"))),
    ("IdentityObject", BETA + "IdentityObject", (_b("hashed", "xsd:boolean"), _b("identityHash"), _b("salt"))),
    ("Image", BETA + "IdentityImage", (_s("caption"),)),
    (
        "Profile",
        BETA + "Profile",
        (
            _s("additionalName"),
            _b("address", None, "Address"),
            _b("dateOfBirth", "xsd:date"),
            _s("email"),
            _s("familyName"),
            _b("familyNamePrefix"),
            _s("givenName"),
            _s("honorificPrefix"),
            _s("honorificSuffix"),
            _b("parentOrg"),
            _b("patronymicName"),
            _b("phone", local="PhoneNumber"),
            _b("official"),
            _b("sisSourcedId"),
            _b("sourcedId"),
        ),
    ),
    (
        "Result",
        BETA + "Result",
        (_b("achievedLevel", "xsd:anyURI"), _b("resultDescription", "xsd:anyURI"), _b("status"), _s("value")),
    ),
    (
        "ResultDescription",
        BETA + "ResultDescription",
        (
            _b("allowedValue"),
            _b("requiredLevel", "xsd:anyURI"),
            _b("requiredValue"),
            _b("resultType"),
            _b("rubricCriterionLevel", PLAIN, "RubricCriterionLevel"),
            _b("valueMax"),
            _b("valueMin"),
        ),
    ),
    ("RubricCriterionLevel", BETA + "RubricCriterionLevel", (_b("level"), _b("points"))),
)

TOP_LEVEL: Final[tuple[Row, ...]] = (
    _b("alignment", ID, "Alignment"),
    _s("description"),
    _b("endorsement", ID),
    _b("image", ID),
    _s("name"),
    _b("narrative"),
    _s("url", "xsd:anyURI"),
)

#: Containers (only ``tags`` has one).
_CONTAINERS: Final[dict[str, str]] = {"tags": "@set"}

URLS: Final[tuple[str, ...]] = (
    "https://w3c-ccg.github.io/vc-ed/plugfest-1-2022/jff-vc-edu-plugfest-1-context.json",
    "https://imsglobal.github.io/openbadges-specification/ob_v3p0.html",
)


def _definition(row: Row) -> Any:
    name, iri, value_type = row
    if value_type == PLAIN:
        return iri
    return term(iri, type=value_type, container=_CONTAINERS.get(name))


def build_context() -> dict[str, Any]:
    """The OB 3.0 beta / JFF Plugfest 1 context."""
    context: dict[str, Any] = {**KEYWORD_ALIASES, "xsd": OB_XSD}
    for name, iri, props in CLASSES:
        definition: dict[str, Any] = {"@id": iri}
        if props:
            definition["@context"] = {prop[0]: _definition(prop) for prop in props}
        context[name] = definition
    for row in TOP_LEVEL:
        context[row[0]] = _definition(row)
    return document(context)


PRODUCERS: Final[dict[str, Producer]] = dict.fromkeys(URLS, build_context)
