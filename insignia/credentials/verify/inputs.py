"""Recognise what we were given: OB 3.0 JSON, a VC-JWT, OB 2.0 JSON or JWS, a URL, or a baked image.

Parsing is bounded (size and nesting) so hostile input fails fast with a clear error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from insignia.credentials.encoding import b64url_decode
from insignia.credentials.errors import MalformedInputError, ResourceLimitError

MAX_INPUT_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 64

OB2_CONTEXTS = ("https://w3id.org/openbadges/v2", "https://w3id.org/openbadges/v1", "https://openbadgespec.org/v2/context.json")

_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$")

Kind = Literal["ob3-json", "vc-jwt", "ob2-json", "ob2-jws", "url"]


@dataclass
class ParsedInput:
    kind: Kind
    credential: dict[str, Any] | None = None
    token: str | None = None
    url: str | None = None
    #: "png" or "svg" when the credential was baked into an image.
    container: str | None = None


def _depth(value: Any, limit: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise ResourceLimitError(
                f"The JSON is nested more than {limit} levels deep; no credential needs that.", code="json_too_deep"
            )
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _nesting_prescan(text: str, limit: int) -> None:
    """Refuse absurd nesting before json.loads recurses into it."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise ResourceLimitError(
                    f"The JSON is nested more than {limit} levels deep; no credential needs that.",
                    code="json_too_deep",
                )
        elif char in "]}":
            depth -= 1


def parse_json_text(text: str, *, max_bytes: int = MAX_INPUT_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` with a size and depth bound and a readable error."""
    if len(text) > max_bytes:
        raise ResourceLimitError(
            f"The input is {len(text):,} characters; the limit is {max_bytes:,}.", code="input_too_large"
        )
    _nesting_prescan(text, max_depth)
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ResourceLimitError("The JSON is nested too deeply.", code="json_too_deep") from exc
    except ValueError as exc:
        raise MalformedInputError(f"This is not valid JSON: {exc}.", code="json_invalid") from exc
    _depth(value, max_depth)
    return value


def contexts_of(document: dict[str, Any]) -> list[Any]:
    value = document.get("@context")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def is_ob2(document: dict[str, Any]) -> bool:
    """OB 2.0 (or 1.x) assertion, recognised by its context or its characteristic properties."""
    if any(isinstance(c, str) and c in OB2_CONTEXTS for c in contexts_of(document)):
        return True
    return "@context" not in document and "recipient" in document and "badge" in document


def _jws_payload(token: str) -> dict[str, Any]:
    parts = token.split(".")
    try:
        payload = json.loads(b64url_decode(parts[1]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, MalformedInputError) as exc:
        raise MalformedInputError("This looks like a JWT but its payload is not JSON.", code="jws_malformed") from exc
    if not isinstance(payload, dict):
        raise MalformedInputError("The JWT payload is not a JSON object.", code="jws_malformed")
    return payload


def classify_dict(document: Any) -> ParsedInput:
    if not isinstance(document, dict):
        raise MalformedInputError("A credential must be a JSON object.", code="not_a_credential")
    _depth(document, MAX_JSON_DEPTH)  # an object handed over already parsed gets the same bound as text
    if is_ob2(document):
        return ParsedInput("ob2-json", credential=document)
    return ParsedInput("ob3-json", credential=document)


def classify_text(text: str, *, max_bytes: int = MAX_INPUT_BYTES) -> ParsedInput:
    """Classify a pasted or baked string: JSON, a compact JWS/JWT, or a URL."""
    stripped = text.strip().lstrip("\ufeff")
    if len(stripped) > max_bytes:
        raise ResourceLimitError(
            f"The input is {len(stripped):,} characters; the limit is {max_bytes:,}.", code="input_too_large"
        )
    if not stripped:
        raise MalformedInputError("The input is empty.", code="empty_input")
    if stripped[0] in "{[":
        return classify_dict(parse_json_text(stripped, max_bytes=max_bytes))
    if _JWS.match(stripped):
        payload = _jws_payload(stripped)
        if "vc" in payload or ("@context" in payload and not is_ob2(payload)):
            return ParsedInput("vc-jwt", token=stripped)
        return ParsedInput("ob2-jws", token=stripped)
    if re.match(r"^https?://\S+$", stripped, re.IGNORECASE):
        return ParsedInput("url", url=stripped)
    raise MalformedInputError(
        "This is not a credential: expected credential JSON, a JWT, a URL, or a baked PNG or SVG image.",
        code="not_a_credential",
    )
