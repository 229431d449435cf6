"""Baking credentials into SVG images and reading them back (OB30 #svg-baking, OB 2.0 baking).

The SVG is untrusted XML. It is parsed with ``defusedxml`` so entity tricks (billion laughs, external
entities) fail at the document type declaration, before any expansion. A bare ``<!DOCTYPE svg PUBLIC ...>``
(no internal subset) is allowed because illustration tools still write it and it declares nothing; a DOCTYPE
with an internal subset ``[...]`` is refused.

The kernel never bakes into, or trusts a credential from, an SVG that could run script or load remote
content: ``check_svg_safe`` refuses ``<script>``, ``<foreignObject>``, ``on*`` event attributes,
``javascript:`` and HTML ``data:`` URLs, references to other documents from ``<image>``/``<use>``/
``<feImage>``, remote ``url(...)``/``@import`` in CSS, and ``xml-stylesheet`` instructions. (The platform
sanitises uploads separately; this is the kernel's own floor.)

Baking edits the text instead of re-serialising, so everything else in the file (XML declaration, comments,
namespace prefixes, formatting) is kept byte for byte: the parser reports where the root start tag begins
and where each existing credential element begins and ends; the new element is inserted right after the
root start tag, old credential/assertion elements are cut out, and ``xmlns:openbadges`` on the root is set
to the flavour's namespace. The result is parsed again and must hold exactly the payload that was baked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from insignia.credentials.baking.payload import BakedPayload, Flavour, Kind, check_payload, require_kind
from insignia.credentials.errors import BakingError

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
#: OB 3.0: ``<openbadges:credential>`` in this namespace.
OB3_SVG_NS = "https://purl.imsglobal.org/ob/v3p0"
#: OB 2.0: ``<openbadges:assertion>`` in this namespace.
OB2_SVG_NS = "http://openbadges.org"

MAX_SVG_BYTES = 10 * 1024 * 1024

_NS_BY_FLAVOUR: dict[Flavour, str] = {"ob3": OB3_SVG_NS, "ob2": OB2_SVG_NS}
_ELEMENT_BY_FLAVOUR: dict[Flavour, str] = {"ob3": "credential", "ob2": "assertion"}
_CREDENTIAL_TAGS: dict[str, Flavour] = {
    f"{{{OB3_SVG_NS}}}credential": "ob3",
    f"{{{OB2_SVG_NS}}}assertion": "ob2",
}
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:application/xhtml")
_UNSAFE_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"})
_ANIMATION_ELEMENTS = frozenset({"set", "animate", "animatetransform", "animatemotion", "animatecolor"})
_REFERENCING_ELEMENTS = frozenset({"image", "use", "feimage"})
_SAFE_DATA_URL = re.compile(r"data:image/(png|jpeg|jpg|gif|webp)[;,]")
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_ATTR_CHARS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_OPENBADGES_NS_ATTR = re.compile(rb"""\s+xmlns:openbadges\s*=\s*("[^"]*"|'[^']*')""")
_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*/?>""")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})

__all__ = [
    "MAX_SVG_BYTES",
    "OB2_SVG_NS",
    "OB3_SVG_NS",
    "SVG_NS",
    "bake_svg",
    "check_svg_safe",
    "is_svg_safe",
    "unbake_svg",
]


@dataclass(slots=True)
class _Found:
    """A credential element: where it is in the bytes, and what it holds."""

    flavour: Flavour
    local: str
    start: int
    verify: str | None
    text: list[str] = field(default_factory=list)
    end: int | None = None


class _Scan:
    """ElementTree parser target that checks safety and records offsets while the parser runs."""

    def __init__(self, data: bytes) -> None:
        self.raw = data
        self.parser: Any = None
        self.depth = 0
        self.root_tag: str | None = None
        self.root_start = -1
        self.encoding: str | None = None
        self.found: list[_Found] = []
        self.open: list[_Found | None] = []
        self.in_style = 0
        self.problems: list[str] = []

    # ElementTree target interface -------------------------------------------------------------------
    def start(self, tag: str, attrib: dict[str, str]) -> None:
        offset = self.parser.CurrentByteIndex
        if self.depth == 0:
            self.root_tag, self.root_start = tag, offset
        self.depth += 1
        local = _local(tag).lower()
        self._check_element(local, attrib)
        self.in_style += local == "style"
        flavour = _CREDENTIAL_TAGS.get(tag)
        if flavour is None:
            self.open.append(None)
            return
        found = _Found(flavour, _local(tag), offset, attrib.get("verify"))
        tag_end = _start_tag_end(self.raw, offset)
        if self.raw[tag_end - 2 : tag_end] == b"/>":
            found.end = tag_end
        self.found.append(found)
        self.open.append(found)

    def end(self, tag: str) -> None:
        self.depth -= 1
        self.in_style -= _local(tag).lower() == "style"
        found = self.open.pop()
        if found is not None and found.end is None:
            close = self.raw.find(b">", self.parser.CurrentByteIndex)
            found.end = close + 1

    def data(self, text: str) -> None:
        for found in self.open:
            if found is not None:
                found.text.append(text)
        if self.in_style:
            self._check_css(text, "a <style> element")

    def comment(self, text: str) -> None:
        """Comments are kept as they are and never interpreted."""

    def pi(self, target: str, text: str) -> None:
        if target.lower() == "xml-stylesheet":
            self.problems.append("an xml-stylesheet instruction (it loads an external stylesheet)")

    def close(self) -> None:
        return None

    def xml_decl(self, version: str | None, encoding: str | None, standalone: int) -> None:
        self.encoding = encoding

    # Safety rules -----------------------------------------------------------------------------------
    def _check_element(self, local: str, attrib: dict[str, str]) -> None:
        if local in _UNSAFE_ELEMENTS:
            self.problems.append(f"a <{local}> element")
        if local in _ANIMATION_ELEMENTS:
            target = _local(attrib.get("attributeName", "")).lower()
            if target == "href" or target.startswith("on"):
                self.problems.append(f"<{local}> changing the {target} attribute")
        for name, value in attrib.items():
            attr = _local(name).lower()
            squashed = _squash(value)
            if attr.startswith("on"):
                self.problems.append(f"an event handler attribute ({attr}=)")
            elif any(part.startswith(_SCRIPT_SCHEMES) for part in squashed.split(";")):
                self.problems.append(f"a script URL in the {attr} attribute")
            elif attr == "href" and squashed.startswith("data:") and not _SAFE_DATA_URL.match(squashed):
                self.problems.append("a data: URL that is not a plain image")
            elif attr == "href" and local in _REFERENCING_ELEMENTS and not _is_local_reference(squashed):
                self.problems.append(f"<{local}> referring to another document ({value.strip()[:80]})")
            elif attr == "style" or "url(" in squashed:
                self._check_css(value, f"the {attr} attribute")

    def _check_css(self, text: str, where: str) -> None:
        squashed = _squash(text)
        if "@import" in squashed or "expression(" in squashed or "javascript:" in squashed:
            self.problems.append(f"unsafe CSS in {where}")
            return
        for match in _CSS_URL.finditer(text):
            if not _is_local_reference(_squash(match.group(2))):
                self.problems.append(f"a url(...) to another document in {where}")
                return


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _squash(value: str) -> str:
    """Lower-case and drop whitespace and control characters, as browsers do when reading a URL scheme."""
    return "".join(c for c in value if c > " " and c != "\x7f").lower()


def _is_local_reference(url: str) -> bool:
    return url.startswith("#") or bool(_SAFE_DATA_URL.match(url))


def _start_tag_end(data: bytes, start: int) -> int:
    """Index just past the ``>`` of the start tag beginning at ``start`` (quotes may contain ``>``)."""
    match = _START_TAG.match(data, start)
    if match:
        return match.end()
    quote = 0
    for i in range(start + 1, len(data)):
        c = data[i]
        if quote:
            if c == quote:
                quote = 0
        elif c in (0x22, 0x27):
            quote = c
        elif c == 0x3E:
            return i + 1
    raise BakingError("The SVG ends inside a start tag.", code="svg_malformed")


class _Parser(DefusedXMLParser):
    """defusedxml's parser, allowing only a DOCTYPE that declares nothing (no internal subset)."""

    def defused_start_doctype_decl(
        self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool
    ) -> None:
        if has_internal_subset:
            raise DTDForbidden(name, sysid, pubid)


def _to_bytes(svg: bytes | str) -> bytes:
    if isinstance(svg, str):
        return svg.encode("utf-8")
    if isinstance(svg, (bytes, bytearray, memoryview)):
        return bytes(svg)
    raise BakingError("An SVG image must be given as bytes or text.", code="svg_invalid")


def _scan(svg: bytes | str, max_bytes: int) -> _Scan:
    """Parse ``svg`` once: well-formed, no entities, an ``<svg>`` root; collect problems and credentials."""
    data = _to_bytes(svg)
    if len(data) > max_bytes:
        raise BakingError(f"The SVG is {len(data):,} bytes; the limit is {max_bytes:,}.", code="svg_too_large")
    scan = _Scan(data)
    parser = _Parser(target=scan, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    scan.parser = parser.parser
    parser.parser.XmlDeclHandler = scan.xml_decl
    try:
        parser.feed(data)
        parser.close()
    except DTDForbidden as exc:
        raise BakingError(
            "The SVG has a document type declaration with an internal subset (entity definitions); "
            "such files are refused because entities can be used for XML bombs and file disclosure.",
            code="svg_dtd_forbidden",
        ) from exc
    except EntitiesForbidden as exc:
        raise BakingError("The SVG declares XML entities, which are refused.", code="svg_entity_forbidden") from exc
    except ExternalReferenceForbidden as exc:
        raise BakingError("The SVG refers to an external XML entity.", code="svg_external_forbidden") from exc
    except (ParseError, DefusedXmlException) as exc:
        raise BakingError(f"The SVG is not well-formed XML: {exc}", code="svg_malformed") from exc
    except (ValueError, LookupError) as exc:  # e.g. an unknown declared encoding
        raise BakingError(f"The SVG cannot be read: {exc}", code="svg_malformed") from exc
    except RecursionError as exc:
        raise BakingError("The SVG is nested too deeply.", code="svg_malformed") from exc
    if scan.root_tag not in (f"{{{SVG_NS}}}svg", "svg"):
        raise BakingError(
            f"This XML document is not an SVG image (its root element is {_local(scan.root_tag or '?')!r}).",
            code="svg_not_svg",
        )
    return scan


def _raise_if_unsafe(scan: _Scan) -> None:
    if scan.problems:
        unique = list(dict.fromkeys(scan.problems))
        listed = "; ".join(unique[:5]) + (f"; and {len(unique) - 5} more" if len(unique) > 5 else "")
        raise BakingError(
            f"The SVG contains active or external content ({listed}); it is refused for safety.",
            code="svg_unsafe",
        )


def check_svg_safe(svg: bytes | str, *, max_bytes: int = MAX_SVG_BYTES) -> None:
    """Raise ``BakingError`` unless ``svg`` is a well-formed SVG with no script and no external references."""
    _raise_if_unsafe(_scan(svg, max_bytes))


def is_svg_safe(svg: bytes | str, *, max_bytes: int = MAX_SVG_BYTES) -> bool:
    """``check_svg_safe`` as a boolean."""
    try:
        check_svg_safe(svg, max_bytes=max_bytes)
    except BakingError:
        return False
    return True


def unbake_svg(svg: bytes | str, *, max_bytes: int = MAX_SVG_BYTES) -> BakedPayload:
    """Read the one credential (OB 3.0) or assertion (OB 2.0) element baked into a safe SVG."""
    scan = _scan(svg, max_bytes)
    _raise_if_unsafe(scan)
    return _payload_of(scan)


def _payload_of(scan: _Scan) -> BakedPayload:
    if not scan.found:
        raise BakingError("This SVG has no baked credential.", code="no_credential")
    if len(scan.found) > 1:
        raise BakingError(
            f"This SVG holds {len(scan.found)} credential elements; a baked badge must hold exactly one.",
            code="multiple_credentials",
        )
    found = scan.found[0]
    body = "".join(found.text).strip()
    verify = (found.verify or "").strip()
    # OB 2.0 hosted badges may carry both the URL (verify) and the assertion JSON (body): prefer the JSON.
    text = body or verify
    if not text:
        raise BakingError("The SVG's credential element is empty.", code="no_credential")
    kind = require_kind(text, where=f"SVG <openbadges:{found.local}> element")
    return BakedPayload(keyword=found.local, text=text, flavour=found.flavour, kind=kind, container="svg")


def _credential_markup(payload: str, flavour: Flavour, kind: Kind) -> bytes:
    name = f"openbadges:{_ELEMENT_BY_FLAVOUR[flavour]}"
    if kind == "json":
        # "]]>" cannot appear inside CDATA: end the section after "]]" and start a new one before ">".
        body = payload.replace("]]>", "]]]]><![CDATA[>")
        return f"<{name}><![CDATA[{body}]]></{name}>".encode()
    verify = "".join(_ATTR_CHARS.get(c, c) for c in payload)
    return f'<{name} verify="{verify}"></{name}>'.encode()


def bake_svg(
    svg: bytes | str,
    payload: str,
    *,
    flavour: Flavour = "ob3",
    kind: Kind | None = None,
    max_bytes: int = MAX_SVG_BYTES,
) -> bytes:
    """Return ``svg`` (UTF-8) with ``payload`` in one credential element right after the ``<svg>`` start tag.

    ``kind`` is guessed from the payload when not given; when given it must match. Any earlier credential or
    assertion element is removed, so re-baking leaves exactly one.
    """
    kind = check_payload(payload, flavour, kind)
    payload = payload.strip()
    if _XML_ILLEGAL.search(payload):
        raise BakingError("The payload contains characters XML cannot carry.", code="payload_invalid")
    scan = _scan(svg, max_bytes)
    _raise_if_unsafe(scan)
    data = scan.raw
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        scan.encoding is not None and scan.encoding.lower() not in _UTF8_NAMES
    ):
        raise BakingError(
            f"Only UTF-8 SVG files can be baked (this one is {scan.encoding or 'UTF-16'}).", code="svg_encoding"
        )
    root_start = scan.root_start
    root_end = _start_tag_end(data, root_start)
    self_closing = data[root_end - 2 : root_end] == b"/>"
    open_tag = data[root_start : root_end - 2 if self_closing else root_end - 1]
    open_tag = _OPENBADGES_NS_ATTR.sub(b"", open_tag)
    open_tag += f' xmlns:openbadges="{_NS_BY_FLAVOUR[flavour]}">'.encode()
    element = _credential_markup(payload, flavour, kind)
    pieces = [data[:root_start], open_tag, element]
    if self_closing:
        raw_name = re.match(rb"<([^\s/>]+)", open_tag)
        assert raw_name is not None  # the parser accepted this start tag
        pieces.append(b"</" + raw_name.group(1) + b">")
        pieces.append(data[root_end:])
    else:
        cursor = root_end
        for found in sorted(scan.found, key=lambda f: f.start):
            if found.start < cursor or found.end is None:
                continue  # nested inside an element already cut out
            pieces.append(data[cursor : found.start])
            cursor = found.end
        pieces.append(data[cursor:])
    baked = b"".join(pieces)
    check = _scan(baked, max(max_bytes, len(baked)))
    _raise_if_unsafe(check)
    result = _payload_of(check)
    if result.text != payload or result.flavour != flavour:
        raise BakingError("The baked SVG did not read back as the payload.", code="svg_malformed")
    return baked
