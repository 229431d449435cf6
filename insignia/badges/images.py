"""Badge image uploads: raster images re-encoded to a clean square PNG, SVGs sanitised to a safe subset.

Nothing an uploader sends is stored as sent:

* **Raster** (PNG, also JPEG/GIF/WebP for convenience): the size is checked before decoding, the pixel
  count before loading (decompression bombs), then the first frame is converted to RGBA, fitted into a
  512×512 transparent square and written as a fresh PNG with no metadata (so an uploaded *baked* badge
  never carries someone's credential into ours).
* **SVG**: parsed with defusedxml (entity declarations, external entities and DOCTYPEs with an internal
  subset are refused; a bare ``<!DOCTYPE svg PUBLIC …>`` is tolerated and dropped). Active or external
  content is *refused* with a message naming it — ``<script>``, ``<foreignObject>``, ``on*`` handlers,
  ``javascript:`` URLs, references to other documents (``<image href="https://…">``, ``url(http…)``,
  ``@import``). Everything else is rebuilt from an allow-list: known shape, text, gradient, filter and
  structure elements with presentation attributes; editor cruft (metadata, Inkscape/Illustrator
  namespaces, comments, unknown elements and attributes) is silently dropped. The result is checked once
  more with the kernel's ``check_svg_safe`` and rendered to a 512×512 PNG with resvg for PNG baking.

Every failure is a ``ServiceError`` that says what is wrong and what to do.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from insignia.core.errors import ServiceError
from insignia.credentials.baking.svg import check_svg_safe
from insignia.credentials.errors import CredentialError

#: Side of the square PNG every badge image is normalised to.
PNG_SIZE = 512
#: Raster images above this many pixels are refused before decoding (a 8192×8192 image is 64 MP).
MAX_PIXELS = 40_000_000
MIN_SIDE = 32
MAX_SVG_ELEMENTS = 20_000
MAX_SVG_DEPTH = 64
RASTER_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

PNG_TYPE = "image/png"
SVG_TYPE = "image/svg+xml"


@dataclass(frozen=True)
class ImageUpload:
    """An uploaded file as the service receives it. Filename and content type are hints only: we sniff."""

    content: bytes
    filename: str = ""
    content_type: str = ""


@dataclass(frozen=True)
class ProcessedImage:
    """A clean image ready to store: ``content`` of ``content_type``, and a PNG rendition."""

    content: bytes
    content_type: str
    png: bytes

    @property
    def extension(self) -> str:
        return "svg" if self.content_type == SVG_TYPE else "png"


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.1f} MB" if value < 10 else f"{value:.0f} MB"


def _limit_text(limit: int) -> str:
    value = limit / (1024 * 1024)
    return f"{value:g} MB" if value >= 1 else f"{limit // 1024} KB"


def check_upload_size(size: int, *, field: str = "image") -> None:
    """Refuse a file larger than INSIGNIA_MAX_UPLOAD_BYTES (before reading it, when the size is known)."""
    limit = int(settings.MAX_UPLOAD_BYTES)
    if size > limit:
        raise ServiceError(
            f"The file is {_megabytes(size)}; the limit is {_limit_text(limit)}. "
            "Upload a smaller image (a 512×512 PNG or a simple SVG is plenty).",
            code="image_too_large", field=field,
        )


def check_size(data: bytes, *, field: str = "image") -> None:
    check_upload_size(len(data), field=field)
    if not data:
        raise ServiceError("The file is empty; choose a PNG or SVG image.", code="image_empty", field=field)


def process_upload(upload: ImageUpload) -> ProcessedImage:
    """Check and clean an uploaded badge image; raise ``ServiceError`` naming the problem."""
    data = bytes(upload.content)
    check_size(data)
    if _looks_like_svg(data):
        svg = sanitise_svg(data)
        return ProcessedImage(content=svg, content_type=SVG_TYPE, png=render_svg_png(svg))
    png = normalise_raster(data)
    return ProcessedImage(content=png, content_type=PNG_TYPE, png=png)


# == raster ======================================================================================


def normalise_raster(data: bytes) -> bytes:
    """Decode a PNG (or JPEG/GIF/WebP) safely and re-encode it as a clean 512×512 PNG."""
    check_size(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=RASTER_FORMATS) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise ServiceError(
                        f"The image is {width}×{height} pixels; the limit is {MAX_PIXELS // 1_000_000} "
                        "megapixels. Resize it (512×512 is ideal) and upload again.",
                        code="image_too_many_pixels", field="image",
                    )
                if min(width, height) < MIN_SIDE:
                    raise ServiceError(
                        f"The image is only {width}×{height} pixels; use at least {MIN_SIDE}×{MIN_SIDE} "
                        "(512×512 is ideal).", code="image_too_small", field="image",
                    )
                probe.seek(0)
                frame = ImageOps.exif_transpose(probe) if probe.format == "JPEG" else probe
                frame.load()
                image = frame.convert("RGBA")
    except ServiceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ServiceError("The image expands to too many pixels; it is refused as a possible "
                           "decompression bomb.", code="image_too_many_pixels", field="image") from exc
    except UnidentifiedImageError as exc:
        raise ServiceError("This file is not a PNG or SVG image. Upload a PNG or an SVG.",
                           code="image_unsupported", field="image") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ServiceError(f"The image could not be read ({exc}); it may be damaged. Export it again and "
                           "upload the new file.", code="image_unreadable", field="image") from exc
    return _square_png(image)


def _square_png(image: Image.Image) -> bytes:
    """Fit ``image`` into a transparent PNG_SIZE square, centred, and encode it without metadata."""
    fitted = ImageOps.contain(image, (PNG_SIZE, PNG_SIZE), method=Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (PNG_SIZE, PNG_SIZE), (0, 0, 0, 0))
    canvas.paste(fitted, ((PNG_SIZE - fitted.width) // 2, (PNG_SIZE - fitted.height) // 2))
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


# == SVG =========================================================================================

_STRUCTURE = {"svg", "g", "defs", "symbol", "use", "title", "desc", "switch", "style"}
_SHAPES = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image"}
_TEXT = {"text", "tspan", "textPath"}
_PAINT = {"linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker"}
_FILTERS = {
    "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
    "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB",
    "feFuncG", "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
    "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence",
}
ALLOWED_ELEMENTS = frozenset(_STRUCTURE | _SHAPES | _TEXT | _PAINT | _FILTERS)
#: Elements whose start and end are dropped but whose children are kept.
_UNWRAP = frozenset({"a"})
#: Active content: refused, with the reason shown to the uploader.
_REFUSED_ELEMENTS = {
    "script": "a script",
    "foreignobject": "a <foreignObject> (embedded HTML)",
    "iframe": "an embedded frame",
    "embed": "an embedded object",
    "object": "an embedded object",
    "handler": "an event handler element",
    "listener": "an event listener element",
}

_PRESENTATION = {
    "alignment-baseline", "baseline-shift", "clip-path", "clip-rule", "color", "color-interpolation",
    "color-interpolation-filters", "direction", "display", "dominant-baseline", "fill", "fill-opacity",
    "fill-rule", "filter", "flood-color", "flood-opacity", "font-family", "font-size", "font-size-adjust",
    "font-stretch", "font-style", "font-variant", "font-weight", "image-rendering", "isolation",
    "letter-spacing", "lighting-color", "marker-end", "marker-mid", "marker-start", "mask", "mix-blend-mode",
    "opacity", "overflow", "paint-order", "shape-rendering", "stop-color", "stop-opacity", "stroke",
    "stroke-dasharray", "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
    "stroke-opacity", "stroke-width", "text-anchor", "text-decoration", "text-rendering", "transform",
    "transform-origin", "unicode-bidi", "vector-effect", "visibility", "word-spacing", "writing-mode",
}
_GEOMETRY = {
    "id", "class", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr", "width",
    "height", "d", "points", "pathLength", "viewBox", "preserveAspectRatio", "version", "dx", "dy", "rotate",
    "textLength", "lengthAdjust", "startOffset", "method", "spacing", "side", "offset", "gradientUnits",
    "gradientTransform", "spreadMethod", "patternUnits", "patternContentUnits", "patternTransform",
    "clipPathUnits", "maskUnits", "maskContentUnits", "markerWidth", "markerHeight", "markerUnits", "refX",
    "refY", "orient", "filterUnits", "primitiveUnits", "in", "in2", "result", "stdDeviation", "mode", "operator",
    "k1", "k2", "k3", "k4", "values", "type", "tableValues", "slope", "intercept", "amplitude", "exponent",
    "baseFrequency", "numOctaves", "seed", "stitchTiles", "scale", "xChannelSelector", "yChannelSelector",
    "radius", "surfaceScale", "diffuseConstant", "specularConstant", "specularExponent", "kernelUnitLength",
    "azimuth", "elevation", "z", "pointsAtX", "pointsAtY", "pointsAtZ", "limitingConeAngle", "order",
    "kernelMatrix", "divisor", "bias", "targetX", "targetY", "edgeMode", "preserveAlpha", "role", "aria-label",
    "aria-labelledby", "aria-describedby", "aria-hidden", "focusable", "lang", "style", "media",
    "requiredFeatures", "requiredExtensions", "systemLanguage",
}
ALLOWED_ATTRIBUTES = frozenset(_PRESENTATION | _GEOMETRY)
_STYLE_PROPERTIES = frozenset(_PRESENTATION)

_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:application/xhtml", "data:image/svg")
_SAFE_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|jpg|gif|webp);base64,[a-z0-9+/=\s]*$", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"\x89png") or not head.startswith(b"<"):
        return False
    return b"<svg" in data[:65536].lower()


class _Parser(DefusedXMLParser):
    """defusedxml's parser allowing a DOCTYPE that declares nothing; any internal subset is refused."""

    def defused_start_doctype_decl(
        self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool
    ) -> None:
        if has_internal_subset:
            raise DTDForbidden(name, sysid, pubid)


def _refuse(problem: str, code: str = "svg_unsafe") -> ServiceError:
    return ServiceError(f"The SVG contains {problem}; remove it and upload again.", code=code, field="image")


def _parse_svg(data: bytes) -> Element:
    parser = _Parser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()
    except DTDForbidden as exc:
        raise ServiceError("The SVG has a DOCTYPE with its own declarations (an internal subset); such files are "
                           "refused because they can hide XML bombs. Export the SVG without a DOCTYPE.",
                           code="svg_dtd", field="image") from exc
    except EntitiesForbidden as exc:
        raise ServiceError("The SVG declares XML entities, which are refused (they can be used for XML bombs "
                           "and reading files). Export the SVG again without them.",
                           code="svg_entities", field="image") from exc
    except ExternalReferenceForbidden as exc:
        raise ServiceError("The SVG refers to an external XML entity, which is refused.",
                           code="svg_entities", field="image") from exc
    except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
        raise ServiceError(f"The SVG is not well-formed XML ({exc}). Export it again and upload the new file.",
                           code="svg_malformed", field="image") from exc
    if root.tag not in (f"{{{SVG_NS}}}svg", "svg"):
        raise ServiceError("This file is not an SVG image (its root element is not <svg>). Upload a PNG or SVG.",
                           code="image_unsupported", field="image")
    return root


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, local = tag[1:].split("}", 1)
        return namespace, local
    return "", tag


def _squash(value: str) -> str:
    """Lower-case and drop whitespace/control characters, as browsers do when reading URL schemes."""
    return "".join(c for c in value if c > " " and c != "\x7f").lower()


def _is_local(url: str) -> bool:
    return url.startswith("#") and len(url) > 1


def _check_css(text: str, where: str) -> str:
    """Refuse CSS that could load other documents or run script; return it unchanged otherwise."""
    squashed = _squash(text)
    if "@import" in squashed:
        raise _refuse(f"a CSS @import in {where} (it loads another document)")
    if "expression(" in squashed or "javascript:" in squashed or "-moz-binding" in squashed or "behavior:" in squashed:
        raise _refuse(f"script in the CSS of {where}")
    if "\\" in text:
        raise _refuse(f"CSS escapes in {where} (they can hide URLs); write the CSS plainly")
    for match in _CSS_URL.finditer(text):
        target = _squash(match.group(2))
        if not _is_local(target):
            raise _refuse(f"a reference to another document in {where} (url({match.group(2)[:60]}))")
    return text


def _clean_style_attribute(value: str) -> str:
    """Keep only presentation properties of an inline ``style``; refuse remote URLs."""
    _check_css(value, "a style attribute")
    kept = []
    for declaration in value.split(";"):
        if ":" not in declaration:
            continue
        name, _, prop_value = declaration.partition(":")
        name = name.strip().lower()
        if name in _STYLE_PROPERTIES and prop_value.strip():
            kept.append(f"{name}:{prop_value.strip()}")
    return ";".join(kept)


@dataclass
class _Builder:
    """Walk the parsed tree, refuse active content, and collect a clean copy."""

    count: int = 0
    uses_xlink: bool = False

    def clean(self, element: Element, depth: int = 0) -> Element | list[Element] | None:
        namespace, local = _split(element.tag) if isinstance(element.tag, str) else ("", "")
        if depth > MAX_SVG_DEPTH:
            raise ServiceError("The SVG is nested too deeply to be a badge; simplify it and upload again.",
                               code="svg_too_complex", field="image")
        self.count += 1
        if self.count > MAX_SVG_ELEMENTS:
            raise ServiceError(f"The SVG has more than {MAX_SVG_ELEMENTS:,} elements; simplify it and upload again.",
                               code="svg_too_complex", field="image")
        refused = _REFUSED_ELEMENTS.get(local.lower())
        if refused:
            raise _refuse(refused)
        self._check_attributes(element, local)
        if namespace not in (SVG_NS, ""):
            return None  # editor metadata (Inkscape, Illustrator, RDF): dropped with its children
        if local in _UNWRAP:
            return [c for child in element for c in self._flat(self.clean(child, depth + 1))]
        if local not in ALLOWED_ELEMENTS:
            self._scan_subtree(element, depth + 1)
            return None
        out = Element(local, self._attributes(element, local))
        if local in ("title", "desc", "text", "tspan", "textPath", "style"):
            out.text = element.text
        if local == "style" and element.text:
            _check_css(element.text, "a <style> element")
        for child in element:
            for cleaned in self._flat(self.clean(child, depth + 1)):
                out.append(cleaned)
                if local in ("text", "tspan", "textPath"):
                    cleaned.tail = child.tail
        return out

    @staticmethod
    def _flat(result: Element | list[Element] | None) -> Iterator[Element]:
        if result is None:
            return
        if isinstance(result, list):
            yield from result
        else:
            yield result

    def _scan_subtree(self, element: Element, depth: int) -> None:
        """A dropped element's descendants may still hide active content: look, and refuse it."""
        for child in element:
            if depth > MAX_SVG_DEPTH:
                raise ServiceError("The SVG is nested too deeply to be a badge; simplify it and upload again.",
                                   code="svg_too_complex", field="image")
            _, local = _split(child.tag) if isinstance(child.tag, str) else ("", "")
            refused = _REFUSED_ELEMENTS.get(local.lower())
            if refused:
                raise _refuse(refused)
            self._check_attributes(child, local)
            self._scan_subtree(child, depth + 1)

    def _check_attributes(self, element: Element, local: str) -> None:
        for name, value in element.attrib.items():
            attr = _split(name)[1]
            squashed = _squash(value)
            if attr.lower().startswith("on"):
                raise _refuse(f"an event handler ({attr}=\"…\") on <{local}>")
            if any(part.startswith(_SCRIPT_SCHEMES) for part in squashed.split(";")):
                raise _refuse(f"a script link ({attr}=\"{value.strip()[:40]}…\") on <{local}>")
            embedded = _is_local(squashed) or (local == "image" and _SAFE_DATA_IMAGE.match(value.strip()))
            if attr == "href" and local.lower() != "a" and not embedded:
                what = "an external image" if local == "image" else "a link to another document"
                raise _refuse(f"{what} (<{local} href=\"{value.strip()[:60]}\">); embed it or remove it")

    def _attributes(self, element: Element, local: str) -> dict[str, str]:
        attributes: dict[str, str] = {}
        for name, value in element.attrib.items():
            namespace, attr = _split(name)
            value = _XML_ILLEGAL.sub("", value)
            if attr == "href" and namespace in ("", XLINK_NS):
                attributes["xlink:href"] = value.strip()
                self.uses_xlink = True
            elif namespace == XML_NS and attr in ("lang", "space"):
                attributes[f"xml:{attr}"] = value
            elif namespace or attr not in ALLOWED_ATTRIBUTES:
                continue
            elif attr == "style":
                style = _clean_style_attribute(value)
                if style:
                    attributes["style"] = style
            else:
                if "url(" in value.lower():
                    _check_css(value, f"the {attr} attribute")
                attributes[attr] = value
        return attributes


def _escape(text: str, *, attribute: bool = False) -> str:
    text = _XML_ILLEGAL.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    return text


def _serialise(element: Element, out: list[str], *, root: bool = False, xlink: bool = False) -> None:
    out.append(f"<{element.tag}")
    if root:
        out.append(f' xmlns="{SVG_NS}"')
        if xlink:
            out.append(f' xmlns:xlink="{XLINK_NS}"')
    for name, value in element.attrib.items():
        out.append(f' {name}="{_escape(value, attribute=True)}"')
    if element.text is None and len(element) == 0:
        out.append("/>")
    else:
        out.append(">")
        if element.text:
            out.append(_escape(element.text))
        for child in element:
            _serialise(child, out)
            if child.tail and element.tag in ("text", "tspan", "textPath"):
                out.append(_escape(child.tail))
        out.append(f"</{element.tag}>")


def sanitise_svg(data: bytes) -> bytes:
    """Return a clean SVG rebuilt from an allow-list, or raise ``ServiceError`` naming what was refused."""
    check_size(data)
    root = _parse_svg(data)
    builder = _Builder()
    cleaned = builder.clean(root)
    assert isinstance(cleaned, Element)  # the root is an <svg> in the SVG namespace or none
    _check_expansion(cleaned)
    if "viewBox" not in cleaned.attrib:
        width, height = _number(cleaned.get("width")), _number(cleaned.get("height"))
        if width and height:
            cleaned.set("viewBox", f"0 0 {width:g} {height:g}")
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _serialise(cleaned, out, root=True, xlink=builder.uses_xlink)
    result = "".join(out).encode("utf-8")
    try:
        check_svg_safe(result)
    except CredentialError as exc:  # our allow-list should make this impossible; refuse rather than store
        raise ServiceError(f"The SVG could not be made safe ({exc}); simplify it and upload again.",
                           code="svg_unsafe", field="image") from exc
    return result


def _check_expansion(root: Element) -> None:
    """Refuse ``<use>`` chains that would expand to a huge drawing (the SVG cousin of billion laughs)."""
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    memo: dict[int, int] = {}
    active: set[int] = set()

    def weight(element: Element, depth: int = 0) -> int:
        key = id(element)
        if key in memo:
            return memo[key]
        if key in active or depth > MAX_SVG_DEPTH * 4:
            raise ServiceError("The SVG has <use> references that loop; fix them and upload again.",
                               code="svg_too_complex", field="image")
        active.add(key)
        total = 1 + sum(weight(child, depth + 1) for child in element)
        href = element.get("xlink:href", "")
        if element.tag == "use" and href.startswith("#") and href[1:] in by_id:
            total += weight(by_id[href[1:]], depth + 1)
        active.discard(key)
        memo[key] = min(total, MAX_SVG_ELEMENTS * 10)
        return memo[key]

    if weight(root) > MAX_SVG_ELEMENTS * 5:
        raise ServiceError("The SVG's <use> references expand to too many shapes to draw; simplify it and upload "
                           "again.", code="svg_too_complex", field="image")


def _number(value: str | None) -> float | None:
    if not value:
        return None
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(px)?\s*", value)
    return float(match.group(1)) if match else None


def svg_size(svg: bytes) -> tuple[float, float]:
    """The intrinsic aspect of a (clean) SVG from its viewBox or width/height; 1×1 if unknown."""
    root = _parse_svg(svg)
    box = root.get("viewBox")
    if box:
        parts = re.split(r"[\s,]+", box.strip())
        try:
            width, height = float(parts[2]), float(parts[3])
        except (IndexError, ValueError):
            width = height = 0.0
        if width > 0 and height > 0:
            return width, height
    intrinsic_width, intrinsic_height = _number(root.get("width")), _number(root.get("height"))
    if intrinsic_width and intrinsic_height:
        return intrinsic_width, intrinsic_height
    return 1.0, 1.0


def render_svg_png(svg: bytes, *, size: int = PNG_SIZE) -> bytes:
    """Render a *clean* SVG to a ``size``×``size`` PNG (fitted and centred) with resvg."""
    import resvg_py  # a compiled wheel; imported here so the rest of the app loads without it

    width, height = svg_size(svg)
    if width >= height:
        options: dict[str, Any] = {"width": size, "height": max(1, round(size * height / width))}
    else:
        options = {"width": max(1, round(size * width / height)), "height": size}
    try:
        rendered = bytes(resvg_py.svg_to_bytes(svg_string=svg.decode("utf-8"), **options))
        with Image.open(io.BytesIO(rendered), formats=("PNG",)) as image:
            image.load()
            return _square_png(image.convert("RGBA"))
    except (ValueError, OSError) as exc:
        raise ServiceError(f"The SVG could not be drawn ({exc}); export it again and upload the new file.",
                           code="svg_unrenderable", field="image") from exc
