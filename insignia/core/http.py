"""Responses for public, standard documents: cacheable, validated by a strong ETag, readable cross-origin.

Every public JSON document (issuer profiles, DID documents, badge classes, credentials, status lists) and
every public image goes out through ``cached_response`` so the rules live in one place:

* ``Cache-Control: public, max-age=<max_age>`` — caches may keep it for a short while;
* ``ETag: "<sha-256 of the body>"`` — a strong validator; ``If-None-Match`` with it answers ``304``;
* ``Access-Control-Allow-Origin: *`` — verifiers and wallets in browsers can read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse

JSON_LD = "application/ld+json"
DEFAULT_MAX_AGE = 300


#: How an SVG from our origin is served inline: it may never run script or load anything, whatever slipped
#: through sanitising (embedded raster images as data: URLs still show).
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


def etag_for(body: bytes) -> str:
    """A strong entity tag for ``body``: the quoted hex SHA-256 of the bytes (truncated to 128 bits)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _if_none_match(header: str, etag: str) -> bool:
    """True when an ``If-None-Match`` header matches ``etag`` (weak comparison, as RFC 9110 §13.1.2 asks)."""
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def cached_response(
    request: HttpRequest,
    body: bytes,
    *,
    content_type: str,
    max_age: int = DEFAULT_MAX_AGE,
    vary: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
    etag: str | None = None,
) -> HttpResponse:
    """``body`` as a public, cacheable response; ``304 Not Modified`` when the client already holds it.

    ``etag`` is :func:`etag_for` of ``body`` when the caller already has it (cached), saving the hashing.
    """
    etag = etag or etag_for(body)
    not_modified = _if_none_match(request.headers.get("If-None-Match", ""), etag)
    response = HttpResponse(status=304) if not_modified else HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = "ETag"
    if vary:
        response["Vary"] = ", ".join(vary)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_bytes(document: Mapping[str, Any]) -> bytes:
    """The serialisation we publish: UTF-8, key order kept, two-space indentation for people reading it."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def json_document_response(
    request: HttpRequest,
    document: Mapping[str, Any] | bytes | str,
    *,
    content_type: str = JSON_LD,
    max_age: int = DEFAULT_MAX_AGE,
    vary: Sequence[str] = (),
) -> HttpResponse:
    """A public JSON(-LD) document. Bytes or text are served exactly as given (e.g. a stored signed credential)."""
    if isinstance(document, str):
        body = document.encode("utf-8")
    elif isinstance(document, bytes | bytearray):
        body = bytes(document)
    else:
        body = json_bytes(document)
    return cached_response(request, body, content_type=content_type, max_age=max_age, vary=vary)


__all__ = ["DEFAULT_MAX_AGE", "JSON_LD", "cached_response", "etag_for", "json_bytes", "json_document_response"]
