"""Baked badges: a credential carried inside its PNG or SVG image (OB30 #docformat, OB 2.0 baking).

``bake`` and ``unbake`` pick the format by looking at the bytes; ``baking.png`` and ``baking.svg`` hold
the details and the format-specific options.
"""

from __future__ import annotations

import re
from typing import Literal

from insignia.credentials.baking.payload import (
    KEYWORD_BY_FLAVOUR,
    OB2_KEYWORD,
    OB3_KEYWORD,
    BakedPayload,
    Flavour,
    Kind,
    guess_kind,
)
from insignia.credentials.baking.png import bake_png, is_png, unbake_png
from insignia.credentials.baking.svg import bake_svg, check_svg_safe, is_svg_safe, unbake_svg
from insignia.credentials.errors import BakingError

ImageType = Literal["png", "svg"]

# An SVG starts with optional BOM/whitespace, then an XML declaration, comments, a DOCTYPE or the root itself,
# and has an <svg> (possibly prefixed) start tag near the top.
_XML_START = re.compile(rb"\s*(<\?xml|<!--|<!doctype|<[A-Za-z_][\w.-]*:svg[\s>/]|<svg[\s>/])", re.IGNORECASE)
_SVG_TAG = re.compile(rb"<([A-Za-z_][\w.-]*:)?svg[\s>/]")
_SNIFF_WINDOW = 64 * 1024

__all__ = [
    "OB2_KEYWORD",
    "OB3_KEYWORD",
    "BakedPayload",
    "Flavour",
    "ImageType",
    "Kind",
    "bake",
    "bake_png",
    "bake_svg",
    "check_svg_safe",
    "guess_kind",
    "is_svg_safe",
    "sniff_image_type",
    "unbake",
    "unbake_png",
    "unbake_svg",
]


def sniff_image_type(data: bytes) -> ImageType | None:
    """Say whether ``data`` is a PNG or an SVG by its first bytes; ``None`` when it is neither.

    Only a quick look: the format's own parser still decides whether the file is well-formed.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return None
    head = bytes(data[:_SNIFF_WINDOW])
    if is_png(head):
        return "png"
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if _XML_START.match(head) and _SVG_TAG.search(head):
        return "svg"
    return None


def _require_type(image: bytes) -> ImageType:
    kind = sniff_image_type(image)
    if kind is None:
        raise BakingError("This is neither a PNG nor an SVG image.", code="unknown_image_type")
    return kind


def bake(image: bytes, payload: str, *, flavour: Flavour = "ob3") -> bytes:
    """Bake ``payload`` (credential JSON, a JWS, or for OB 2.0 a URL) into a PNG or SVG image."""
    if flavour not in KEYWORD_BY_FLAVOUR:
        raise BakingError(f"Unknown baking flavour {flavour!r}: expected 'ob3' or 'ob2'.", code="payload_invalid")
    if _require_type(image) == "png":
        return bake_png(image, payload, keyword=KEYWORD_BY_FLAVOUR[flavour])
    return bake_svg(image, payload, flavour=flavour)


def unbake(image: bytes) -> BakedPayload:
    """Read the credential baked into a PNG or SVG image."""
    if _require_type(image) == "png":
        return unbake_png(image)
    return unbake_svg(image)
