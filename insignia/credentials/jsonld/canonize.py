"""The one place RDF canonicalisation happens (placeholder: pyld URDNA2015, to be replaced by our RDFC-1.0)."""

from __future__ import annotations

from pyld import jsonld

from insignia.credentials.jsonld.loader import ContextLoader, default_loader


def canonize(document: dict, *, loader: ContextLoader | None = None, safe: bool = True) -> str:
    """Canonical N-Quads (RDFC-1.0) of a JSON-LD document."""
    return jsonld.normalize(
        document,
        {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader or default_loader()},
    )
