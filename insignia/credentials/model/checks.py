"""Argument checks shared by the OB 2.0 and OB 3.0 builders.

A builder refuses, at construction, any argument that could not make a conforming document, so a
bad value is reported where the caller passed it rather than later by the shape check of the whole
document. Every refusal is a ``ValidationError`` with code ``builder_invalid`` and a message that
starts with the field it is about (``"Issuer.url: must be …"``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from insignia.credentials.errors import ValidationError
from insignia.credentials.model.dates import require_aware
from insignia.credentials.model.vc import EXT_RE, is_http_url, is_uri

#: The error code of every builder refusal (callers and the API map it to "your arguments are wrong").
BUILDER_INVALID = "builder_invalid"

_URI_EXAMPLES = " (https://…, urn:uuid:…, did:…)"


def builder_error(what: str, problem: str) -> ValidationError:
    """The error a builder raises: ``what`` names the field (``"Issuer.url"``), ``problem`` says what to do."""
    return ValidationError(f"{what}: {problem}", code=BUILDER_INVALID)


def require_uri(what: str, value: Any, *, optional: bool = False, http: bool = False,
                with_examples: bool = True) -> None:
    """Refuse a value that is not an absolute URI (or, with ``http``, an http(s) URL); ``None`` passes if optional.

    ``with_examples`` lists the URI forms OB 3.0 ids take; OB 2.0 documents are linked by URL, so its
    builders leave them out.
    """
    if value is None and optional:
        return
    if not (is_http_url(value) if http else is_uri(value)):
        kind = "an http(s) URL" if http else "an absolute URI" + (_URI_EXAMPLES if with_examples else "")
        raise builder_error(what, f"must be {kind}, not {value!r}.")


def require_text(what: str, value: Any, *, optional: bool = False) -> None:
    """Refuse anything but a string with at least one non-blank character; ``None`` passes if optional."""
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise builder_error(what, f"must be a non-empty string, not {value!r}.")


def require_term_or_extension(what: str, value: Any, allowed: frozenset[str]) -> None:
    """Refuse a value outside an OB 3.0 vocabulary, which may be extended by ``ext:Name`` terms; ``None`` passes."""
    if value is not None and not (isinstance(value, str) and (value in allowed or EXT_RE.match(value))):
        raise builder_error(what, f"must be one of {', '.join(sorted(allowed))} or 'ext:Name', not {value!r}.")


def require_id_or_narrative(what: str, id_value: str | None, narrative: str | None, *, id_is: str) -> None:
    """Refuse a Criteria/Evidence-like object with neither a linked page (``id``) nor a narrative."""
    if id_value is None and not narrative:
        raise builder_error(what, f"give an id ({id_is}) and/or a narrative.")


def require_aware_if_given(what: str, value: datetime | None) -> None:
    """Refuse a naive datetime (its instant would be a guess); ``None`` passes."""
    if value is not None:
        require_aware(value, what=what)


def as_emitted(moment: datetime) -> datetime:
    """The instant as documents carry it (UTC, whole seconds), so order checks agree with the serialised form."""
    return moment.astimezone(UTC).replace(microsecond=0)


__all__ = [
    "BUILDER_INVALID",
    "as_emitted",
    "builder_error",
    "require_aware_if_given",
    "require_id_or_narrative",
    "require_term_or_extension",
    "require_text",
    "require_uri",
]
