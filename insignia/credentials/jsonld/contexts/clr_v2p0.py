"""The Comprehensive Learner Record 2.0 context (``context-2.0.1.json``).

CLR 2.0 (1EdTech, "Comprehensive Learner Record Standard v2.0", data model) adds three classes on top of
OB 3.0: the ``ClrCredential``, its ``ClrSubject`` (which bundles achievements, credentials and the
associations between achievements) and ``Association``. Two quirks of the published context are kept:

* ``xsd:boolean`` / ``xsd:anyURI`` are written with an ``xsd`` prefix that the context never declares, so
  they denote the IRIs ``xsd:boolean`` / ``xsd:anyURI`` themselves;
* the ``Association`` scope does not repeat the ``id``/``type`` aliases, and no scope is ``@protected``.
"""

from __future__ import annotations

from typing import Any, Final

from insignia.credentials.jsonld.contexts._terms import Producer, document, scope, term
from insignia.credentials.jsonld.contexts.ob_v3p0 import OB

CLR: Final = "https://purl.imsglobal.org/spec/vc/clr/vocab.html#"
VC_V1: Final = "https://www.w3.org/2018/credentials#"

URL: Final = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"

#: ClrSubject's properties: (term, CLR local name, compact value type); all are sets.
SUBJECT_PROPERTIES: Final[tuple[tuple[str, str, str], ...]] = (
    ("achievement", "achievement", "obi:Achievement"),
    ("association", "association", CLR + "Association"),
    ("verifiableCredential", "verifiableCredential", "cred:verifiableCredential"),
    ("identifier", "identifier-1", "obi:Identifier"),  # sic: an anchor of the HTML vocabulary
)


def build_context() -> dict[str, Any]:
    """``https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json``."""
    credential = scope({"partial": term(CLR + "partial", type="xsd:boolean")}, protected=False)
    subject_terms: dict[str, Any] = {"cred": VC_V1, "obi": OB}
    for name, local, value_type in SUBJECT_PROPERTIES:
        subject_terms[name] = term(CLR + local, type=value_type, container="@set")
    association = scope(
        {
            "associationType": term(CLR + "AssociationType"),
            "sourceId": term(CLR + "sourceId", type="xsd:anyURI"),
            "targetId": term(CLR + "targetId", type="xsd:anyURI"),
        },
        protected=False,
        aliases=False,
    )
    terms = {
        "ClrCredential": term(CLR + "ClrCredential", context=credential),
        "ClrSubject": term(CLR + "ClrSubject", context=scope(subject_terms, protected=False)),
        "Association": term(CLR + "Association", context=association),
    }
    return document(scope(terms, protected=False))


PRODUCERS: Final[dict[str, Producer]] = {URL: build_context}
