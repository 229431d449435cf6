"""What a baked image carries, shared by the PNG and SVG code.

A baked badge holds one of three things: a compact JWS/JWT (OB 3.0 VC-JWT or OB 2.0 signed), the credential
JSON (OB 3.0 embedded proof or OB 2.0 hosted assertion), or a URL (OB 2.0 hosted assertion / OB 1.0). The
container says which standard it follows (``flavour``); the text says which of the three it is (``kind``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from insignia.credentials.errors import BakingError

Flavour = Literal["ob3", "ob2"]
Kind = Literal["jwt", "json", "url"]
Container = Literal["png", "svg"]

#: PNG iTXt keyword of an OB 3.0 credential (OB30 #png-baking).
OB3_KEYWORD = "openbadgecredential"
#: PNG iTXt keyword of an OB 2.0 assertion (also the OB 1.0 tEXt keyword).
OB2_KEYWORD = "openbadges"

FLAVOUR_BY_KEYWORD: dict[str, Flavour] = {OB3_KEYWORD: "ob3", OB2_KEYWORD: "ob2"}
KEYWORD_BY_FLAVOUR: dict[Flavour, str] = {"ob3": OB3_KEYWORD, "ob2": OB2_KEYWORD}

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class BakedPayload:
    """A credential found in a baked image.

    ``keyword`` is the PNG text-chunk keyword (``openbadgecredential`` / ``openbadges``) or, for SVG, the
    element's local name (``credential`` / ``assertion``). ``text`` is the payload with surrounding
    whitespace removed.
    """

    keyword: str
    text: str
    flavour: Flavour
    kind: Kind
    container: Container


def guess_kind(text: str) -> Kind | None:
    """Say whether ``text`` looks like credential JSON, a compact JWS or a URL (``None``: none of them)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return "json"
    if _COMPACT_JWS.fullmatch(stripped):
        return "jwt"
    if _URL.fullmatch(stripped):
        return "url"
    return None


def require_kind(text: str, *, where: str) -> Kind:
    """The kind of a payload read from an image; anything else is not a badge."""
    kind = guess_kind(text)
    if kind is None:
        raise BakingError(
            f"The {where} holds text that is neither credential JSON, a compact JWS nor a URL.",
            code="payload_unrecognised",
        )
    return kind


def check_payload(payload: str, flavour: Flavour, kind: Kind | None = None) -> Kind:
    """Refuse a payload the standards do not allow to be baked; returns its kind.

    OB 3.0 bakes a VC-JWT or the credential JSON; OB 2.0 also allows the hosted assertion URL.
    """
    if flavour not in KEYWORD_BY_FLAVOUR:
        raise BakingError(f"Unknown baking flavour {flavour!r}: expected 'ob3' or 'ob2'.", code="payload_invalid")
    if not isinstance(payload, str) or not payload.strip():
        raise BakingError("The payload to bake must be a non-empty string.", code="payload_invalid")
    guessed = guess_kind(payload)
    if guessed is None:
        raise BakingError(
            "The payload to bake is neither credential JSON, a compact JWS nor a URL.", code="payload_invalid"
        )
    if kind is not None and kind != guessed:
        raise BakingError(f"The payload was declared as {kind!r} but looks like {guessed!r}.", code="payload_invalid")
    if flavour == "ob3" and guessed == "url":
        raise BakingError(
            "Open Badges 3.0 bakes the credential itself (JSON or a VC-JWT), not a URL.", code="payload_invalid"
        )
    return guessed
