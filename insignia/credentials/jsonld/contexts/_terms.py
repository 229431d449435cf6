"""Small builders for JSON-LD term definitions, shared by the context producers.

Every produced context is assembled from these: a namespace constant plus a local
name gives an IRI, ``term`` gives an expanded term definition, ``scope`` gives a
(type- or property-) scoped context.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

#: Namespaces used by more than one producer.
XSD = "http://www.w3.org/2001/XMLSchema#"
SEC = "https://w3id.org/security#"
DCTERMS = "http://purl.org/dc/terms/"

#: A context producer: returns a new context document each time.
Producer = Callable[[], dict[str, Any]]

KEYWORD_ALIASES: Mapping[str, str] = {"id": "@id", "type": "@type"}


def term(
    iri: str,
    *,
    type: str | None = None,
    container: str | None = None,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An expanded term definition: ``@id`` plus the optional ``@type``/``@container``/``@context``."""
    definition: dict[str, Any] = {"@id": iri}
    if type is not None:
        definition["@type"] = type
    if container is not None:
        definition["@container"] = container
    if context is not None:
        definition["@context"] = context
    return definition


def scope(terms: Mapping[str, Any], *, protected: bool = True, aliases: bool = True) -> dict[str, Any]:
    """A context object: optionally ``@protected``, with the ``id``/``type`` aliases, then ``terms``."""
    context: dict[str, Any] = {}
    if protected:
        context["@protected"] = True
    if aliases:
        context.update(KEYWORD_ALIASES)
    context.update(terms)
    return context


def document(context: dict[str, Any] | list[Any], **extra: Any) -> dict[str, Any]:
    """A context document: ``{"@context": context}`` plus any other top-level members."""
    return {"@context": context, **extra}
