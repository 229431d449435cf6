"""The Open Badges 2.0 context, and the 1.1 (``openbadges/v1``) and 1.0 (``legacy-v1``) contexts it superseded.

OB 2.0 (IMS Global, "Open Badges v2.0", its vocabulary section) maps its classes and properties through prefixes
(``obi:``, ``schema:``, ``sec:``, …); the tables below give each term's compact IRI and value type exactly
as the vocabulary does, and the generator writes them in that compact form.

``targetFramework`` maps to ``schema:educationalFramework``: that is the 2020-11-10 correction of the
published context (older copies say ``schema:targetFramework``, which yields different RDF and signatures).
"""

from __future__ import annotations

from typing import Any, Final

from insignia.credentials.jsonld.contexts._terms import DCTERMS, KEYWORD_ALIASES, SEC, XSD, Producer, document

OBI: Final = "https://w3id.org/openbadges#"
SCHEMA: Final = "http://schema.org/"  # OB 2.0 uses http schema.org

ID: Final = "@id"
DATETIME: Final = "xsd:dateTime"
BOOLEAN: Final = "xsd:boolean"

#: A table row: (term, compact IRI, value type or None, written as a plain string?).
Row = tuple[str, str, str | None, bool]


def _name(term_name: str, iri: str) -> Row:
    """A term written as a plain string (prefixes, classes, aliases)."""
    return (term_name, iri, None, True)


def _prop(term_name: str, iri: str, value_type: str | None = None) -> Row:
    """A property written as an expanded definition."""
    return (term_name, iri, value_type, False)


def _obi(term_name: str, value_type: str | None = None, local: str | None = None) -> Row:
    return _prop(term_name, "obi:" + (local or term_name), value_type)


def _schema(term_name: str, value_type: str | None = None, local: str | None = None) -> Row:
    return _prop(term_name, "schema:" + (local or term_name), value_type)


def _build(rows: tuple[Row, ...]) -> dict[str, Any]:
    context: dict[str, Any] = dict(KEYWORD_ALIASES)
    for term_name, iri, value_type, plain in rows:
        if plain:
            context[term_name] = iri
        else:
            definition: dict[str, Any] = {"@id": iri}
            if value_type is not None:
                definition["@type"] = value_type
            context[term_name] = definition
    return context


def _classes(names: tuple[str, ...], prefix: str = "obi") -> tuple[Row, ...]:
    return tuple(_name(name, f"{prefix}:{name}") for name in names)


#: Open Badges 2.0 (https://w3id.org/openbadges/v2).
V2_ROWS: Final[tuple[Row, ...]] = (
    _name("extensions", "https://w3id.org/openbadges/extensions#"),
    _name("obi", OBI),
    _name("validation", "obi:validation"),
    _name("cred", "https://w3id.org/credentials#"),
    _name("dc", DCTERMS),
    _name("schema", SCHEMA),
    _name("sec", SEC),
    _name("xsd", XSD),
    _name("AlignmentObject", "schema:AlignmentObject"),
    _name("CryptographicKey", "sec:Key"),
    _name("Endorsement", "cred:Credential"),
    *_classes(("Assertion", "BadgeClass", "Criteria", "Evidence", "Extension", "FrameValidation")),
    *_classes(("IdentityObject", "Image", "HostedBadge")),
    _name("hosted", "obi:HostedBadge"),
    *_classes(("Issuer", "Profile", "RevocationList", "SignedBadge")),
    _name("signed", "obi:SignedBadge"),
    *_classes(("TypeValidation", "VerificationObject")),
    _schema("author", ID),
    _schema("caption"),
    _prop("claim", "cred:claim", ID),
    _prop("created", "dc:created", DATETIME),
    _prop("creator", "dc:creator", ID),
    _schema("description"),
    _schema("email"),
    _prop("endorsement", "cred:credential", ID),
    _prop("expires", "sec:expiration", DATETIME),
    _schema("genre"),
    _schema("image", ID),
    _schema("name"),
    _prop("owner", "sec:owner", ID),
    _prop("publicKey", "sec:publicKey", ID),
    _prop("publicKeyPem", "sec:publicKeyPem"),
    _prop("related", "dc:relation", ID),
    _prop("startsWith", "http://purl.org/dqm-vocabulary/v1/dqm#startsWith"),
    _schema("tags", local="keywords"),
    _schema("targetDescription"),
    _schema("targetFramework", local="educationalFramework"),
    _schema("targetName"),
    _schema("targetUrl"),
    _schema("telephone"),
    _schema("url", ID),
    _schema("version"),
    _obi("alignment", ID),
    _obi("allowedOrigins"),
    _obi("audience"),
    _obi("badge", ID),
    _obi("criteria", ID),
    _obi("endorsementComment"),
    _obi("evidence", ID),
    _obi("hashed", BOOLEAN),
    _obi("identity", local="identityHash"),
    _obi("issuedOn", DATETIME, local="issueDate"),
    _obi("issuer", ID),
    _obi("narrative"),
    _obi("recipient", ID),
    _obi("revocationList", ID),
    _obi("revocationReason"),
    _obi("revoked", BOOLEAN),
    _obi("revokedAssertions", local="revoked"),
    _obi("salt"),
    _obi("targetCode"),
    _obi("uid"),
    _name("validatesType", "obi:validatesType"),
    _name("validationFrame", "obi:validationFrame"),
    _name("validationSchema", "obi:validationSchema"),
    _obi("verification", ID, local="verify"),
    _obi("verificationProperty"),
    _name("verify", "verification"),  # an alias of the term above
)

LEGACY_V1_URL: Final = "https://w3id.org/openbadges/legacy-v1"

#: Open Badges 1.1 (https://w3id.org/openbadges/v1): imports legacy-v1, then redefines with the obi: vocabulary.
V1_ROWS: Final[tuple[Row, ...]] = (
    _name("obi", OBI),
    _name("extensions", "https://w3id.org/openbadges/extensions#"),
    _name("validation", "obi:validation"),
    _name("xsd", XSD),
    _name("schema", SCHEMA),
    _name("sec", SEC),
    *_classes(("Assertion", "BadgeClass", "Issuer")),
    _name("IssuerOrg", "obi:Issuer"),
    *_classes(("Extension",)),
    _name("hosted", "obi:HostedBadge"),
    _name("signed", "obi:SignedBadge"),
    *_classes(("TypeValidation", "FrameValidation")),
    _schema("name"),
    _schema("description"),
    _schema("url", ID),
    _schema("image", ID),
    _obi("uid"),
    _obi("recipient", ID),
    _obi("hashed", BOOLEAN),
    _obi("salt"),
    _obi("identity", local="identityHash"),
    _obi("issuedOn", DATETIME, local="issueDate"),
    _prop("expires", "sec:expiration", DATETIME),
    _obi("evidence", ID),
    _obi("verify", ID),
    _obi("badge", ID),
    _obi("criteria", ID),
    _schema("tags", local="keywords"),
    _obi("alignment", ID),
    _obi("issuer", ID),
    _name("email", "schema:email"),
    _obi("revocationList", ID),
    _name("validatesType", "obi:validatesType"),
    _name("validationSchema", "obi:validationSchema"),
    _name("validationFrame", "obi:validationFrame"),
)

#: The types OB 1.1 validates against a JSON Schema, published at openbadgespec.org/v1/schema/<name>.json.
V1_VALIDATED_TYPES: Final[tuple[str, ...]] = ("Assertion", "BadgeClass", "Issuer", "Extension")

#: Open Badges 1.0 (https://w3id.org/openbadges/legacy-v1).
LEGACY_V1_ROWS: Final[tuple[Row, ...]] = (
    _name("ob", OBI),
    _name("dc", DCTERMS),
    _name("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    _name("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    _name("sec", SEC),
    _name("schema", SCHEMA),
    _name("xsd", XSD),
    _schema("about", ID),
    _prop("alignment", "ob:alignment", ID),
    _prop("badge", "ob:badge", ID),
    _prop("badgeOffer", "ob:badgeOffer", ID),
    _prop("badgeTemplate", "ob:badgeTemplate", ID),
    _prop("criteria", "ob:criteria", ID),
    _prop("evidence", "ob:evidence", ID),
    _prop("issued", "ob:issued", DATETIME),
    _prop("issuer", "ob:issuer", ID),
    _prop("recipient", "ob:recipient", ID),
    _name("recipientEmail", "ob:recipientEmail"),
    _name("recipientPassword", "ob:recipientPassword"),
    _name("tag", "ob:tag"),
    *_classes(("Identity", "Badge", "BadgeOffer", "BadgeTemplate"), prefix="ob"),
    _schema("address", ID),
    _name("addressCountry", "schema:addressCountry"),
    _name("addressLocality", "schema:addressLocality"),
    _name("addressRegion", "schema:addressRegion"),
    _name("comment", "rdfs:comment"),
    _prop("created", "dc:created", DATETIME),
    _prop("creator", "dc:creator", ID),
    _name("description", "schema:description"),
    _name("email", "schema:email"),
    _name("familyName", "schema:familyName"),
    _name("givenName", "schema:givenName"),
    _schema("image", ID),
    _name("label", "rdfs:label"),
    _name("name", "schema:name"),
    _name("postalCode", "schema:postalCode"),
    _name("streetAddress", "schema:streetAddress"),
    _name("title", "dc:title"),
    _schema("url", ID),
    _name("PostalAddress", "schema:PostalAddress"),
    _prop("identityService", "https://w3id.org/identity#identityService", ID),
    _prop("credential", "sec:credential", ID),
    *(_name(name, "sec:" + name) for name in ("cipherAlgorithm", "cipherData", "cipherKey")),
    _prop("claim", "sec:claim", ID),
    _name("digestAlgorithm", "sec:digestAlgorithm"),
    _name("digestValue", "sec:digestValue"),
    _name("domain", "sec:domain"),
    _prop("expires", "sec:expiration", DATETIME),
    _name("initializationVector", "sec:initializationVector"),
    _name("nonce", "sec:nonce"),
    _name("normalizationAlgorithm", "sec:normalizationAlgorithm"),
    _prop("owner", "sec:owner", ID),
    _name("password", "sec:password"),
    _prop("privateKey", "sec:privateKey", ID),
    _name("privateKeyPem", "sec:privateKeyPem"),
    _prop("publicKey", "sec:publicKey", ID),
    _name("publicKeyPem", "sec:publicKeyPem"),
    _prop("publicKeyService", "sec:publicKeyService", ID),
    _prop("revoked", "sec:revoked", DATETIME),
    *(_name(name, "sec:" + name) for name in ("signature", "signatureAlgorithm", "signatureValue", "EncryptedMessage")),
    _name("CryptographicKey", "sec:Key"),
    _name("GraphSignature2012", "sec:GraphSignature2012"),
)


def build_v2() -> dict[str, Any]:
    """``https://w3id.org/openbadges/v2``."""
    return document(_build(V2_ROWS))


def build_v1() -> dict[str, Any]:
    """``https://w3id.org/openbadges/v1``, with its ``validation`` list of per-type JSON Schemas."""
    validation = [
        {
            "type": "TypeValidation",
            "validatesType": name,
            "validationSchema": f"https://openbadgespec.org/v1/schema/{name.lower()}.json",
        }
        for name in V1_VALIDATED_TYPES
    ]
    return document([LEGACY_V1_URL, _build(V1_ROWS)], validation=validation)


def build_legacy_v1() -> dict[str, Any]:
    """``https://w3id.org/openbadges/legacy-v1``."""
    return document(_build(LEGACY_V1_ROWS))


PRODUCERS: Final[dict[str, Producer]] = {
    "https://w3id.org/openbadges/v2": build_v2,
    "https://openbadgespec.org/v2/context.json": build_v2,
    "https://w3id.org/openbadges/v1": build_v1,
    LEGACY_V1_URL: build_legacy_v1,
}
