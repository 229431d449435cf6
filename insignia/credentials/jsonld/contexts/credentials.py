"""VC 2.0 contexts that pyld does not bundle.

``undefined-terms/v2`` (VC Data Model 2.0, "Extensibility") maps every otherwise undefined term into a
dedicated vocabulary so that undefined terms are visible in the RDF instead of silently dropped.
"""

from __future__ import annotations

from typing import Any, Final

from insignia.credentials.jsonld.contexts._terms import Producer, document

UNDEFINED_TERM: Final = "https://www.w3.org/ns/credentials/undefined-term#"


def build_undefined_terms() -> dict[str, Any]:
    """``https://www.w3.org/ns/credentials/undefined-terms/v2``."""
    return document({"@vocab": UNDEFINED_TERM})


PRODUCERS: Final[dict[str, Producer]] = {
    "https://www.w3.org/ns/credentials/undefined-terms/v2": build_undefined_terms,
}
