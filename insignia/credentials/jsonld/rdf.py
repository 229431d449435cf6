"""RDF terms, quads, canonical N-Quads serialisation and a small N-Quads parser.

Signatures are computed over the *bytes* of canonical N-Quads, so the escaping rules here are part of
the signature format. They follow RDFC-1.0 §"Canonical N-Quads" (RDF 1.2 N-Triples canonical form):

* IRIs are written as ``<iri>`` with no escapes at all;
* in literals, BS HT LF FF CR ``"`` and ``\\`` use ECHAR (``\\b \\t \\n \\f \\r \\" \\\\``);
  U+0000–U+0007, U+000B, U+000E–U+001F and U+007F use UCHAR ``\\u00XX`` with *uppercase* hex;
  every other character is written as itself (UTF-8), astral characters included;
* a literal of datatype ``xsd:string`` has no ``^^``; a language-tagged literal is ``"…"@tag``;
* one space between terms, `` .`` and a single LF ends every line.

pyld's own serialiser writes U+0000–U+001F (except HT LF CR) and U+007F raw: not canonical, and a
signature made that way does not verify elsewhere. Nothing here depends on pyld.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from insignia.credentials.errors import MalformedInputError

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True, slots=True)
class IRI:
    """An absolute IRI."""

    value: str


@dataclass(frozen=True, slots=True)
class BlankNode:
    """A blank node; ``id`` is its label without the ``_:`` prefix."""

    id: str


@dataclass(frozen=True, slots=True)
class Literal:
    """A literal. A language-tagged literal has ``language`` set and datatype ``rdf:langString``."""

    value: str
    datatype: str = XSD_STRING
    language: str | None = None


Term = IRI | BlankNode | Literal
Subject = IRI | BlankNode
GraphName = IRI | BlankNode | None


@dataclass(frozen=True, slots=True)
class Quad:
    """A triple in a graph; ``graph`` None is the default graph."""

    subject: Subject
    predicate: IRI
    object: Term
    graph: GraphName = None


# --- canonical serialisation -------------------------------------------------------------------

_ECHAR = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
_LITERAL_ESCAPES: dict[int, str] = {
    code: _ECHAR.get(code, f"\\u{code:04X}") for code in [*range(0x20), 0x22, 0x5C, 0x7F]
}
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\x7f]')

#: Characters an IRIREF may not hold (N-Quads grammar): written raw they would break the line apart.
_IRI_FORBIDDEN = re.compile('[\x00-\x20<>"{}|^`\\\\]')


def escape_literal(value: str) -> str:
    """The lexical form of a literal as canonical N-Quads writes it between the quotes."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return value.translate(_LITERAL_ESCAPES)


def check_iri(value: str) -> str:
    """``value`` if it can be written as an IRIREF; otherwise the N-Quads would be ambiguous."""
    bad = _IRI_FORBIDDEN.search(value)
    if bad is not None:
        raise MalformedInputError(
            f"The IRI {value!r} contains the character {bad.group()!r}, which no IRI may contain; "
            "it cannot be canonicalised.",
            code="invalid_iri",
        )
    return value


def serialize_term(term: Term) -> str:
    """One term in canonical N-Quads form."""
    if isinstance(term, IRI):
        return f"<{term.value}>"
    if isinstance(term, BlankNode):
        return f"_:{term.id}"
    lexical = escape_literal(term.value)
    if term.language is not None:
        return f'"{lexical}"@{term.language}'
    if term.datatype == XSD_STRING:
        return f'"{lexical}"'
    return f'"{lexical}"^^<{term.datatype}>'


def serialize_quad(quad: Quad) -> str:
    """One canonical N-Quads line, LF included."""
    s = serialize_term(quad.subject)
    p = serialize_term(quad.predicate)
    o = serialize_term(quad.object)
    if quad.graph is None:
        return f"{s} {p} {o} .\n"
    return f"{s} {p} {o} {serialize_term(quad.graph)} .\n"


def serialize_nquads(quads: Iterable[Quad]) -> str:
    """Quads as N-Quads lines in the given order (sort them yourself if you need canonical order)."""
    return "".join(serialize_quad(quad) for quad in quads)


# --- parsing -------------------------------------------------------------------------------------

_WS = re.compile(r"[ \t]*")
_IRIREF = re.compile(r'<((?:[^\x00-\x20<>"{}|^`\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*)>')
_PN = "A-Za-z0-9_\\-\u00b7-\U000effff"  # a permissive PN_CHARS: letters, digits, _ - and non-ASCII
_BNODE = re.compile(f"_:([{_PN}](?:[{_PN}.]*[{_PN}])?)")
_STRING = re.compile(r'"((?:[^"\\\n\r]|\\[tbnrf"\'\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*)"')
_LANGTAG = re.compile(r"@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)")
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ECHAR_VALUES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape_match(match: re.Match[str]) -> str:
    hex_digits = match.group(1) or match.group(2)
    if hex_digits is None:
        return _ECHAR_VALUES[match.group(3)]
    code = int(hex_digits, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise MalformedInputError(f"\\u{hex_digits} is not a Unicode scalar value.", code="invalid_nquads")
    return chr(code)


def _unescape(text: str) -> str:
    return _ESCAPE.sub(_unescape_match, text) if "\\" in text else text


class _LineParser:
    """Reads the terms of one N-Quads statement."""

    def __init__(self, line: str, number: int) -> None:
        self.line = line
        self.number = number
        self.pos = 0

    def fail(self, what: str) -> MalformedInputError:
        return MalformedInputError(
            f"N-Quads line {self.number}, column {self.pos + 1}: {what}.", code="invalid_nquads"
        )

    def skip_ws(self) -> None:
        self.pos = _WS.match(self.line, self.pos).end()  # type: ignore[union-attr]

    def at(self, char: str) -> bool:
        return self.line.startswith(char, self.pos)

    def iri(self) -> IRI | None:
        match = _IRIREF.match(self.line, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return IRI(check_iri(_unescape(match.group(1))))

    def blank(self) -> BlankNode | None:
        match = _BNODE.match(self.line, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return BlankNode(match.group(1))

    def literal(self) -> Literal | None:
        match = _STRING.match(self.line, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        value = _unescape(match.group(1))
        if self.line.startswith("^^", self.pos):
            self.pos += 2
            datatype = self.iri()
            if datatype is None:
                raise self.fail("expected a datatype IRI after ^^")
            return Literal(value, datatype.value)
        lang = _LANGTAG.match(self.line, self.pos)
        if lang is not None:
            self.pos = lang.end()
            return Literal(value, RDF_LANG_STRING, lang.group(1))
        return Literal(value)

    def term(self, kinds: str, name: str) -> Term:
        self.skip_ws()
        term: Term | None = None
        if "i" in kinds and self.at("<"):
            term = self.iri()
        elif "b" in kinds and self.at("_:"):
            term = self.blank()
        elif "l" in kinds and self.at('"'):
            term = self.literal()
        if term is None:
            raise self.fail(f"expected the {name}")
        return term

    def statement(self) -> Quad | None:
        self.skip_ws()
        if self.pos == len(self.line) or self.at("#"):
            return None
        subject = self.term("ib", "subject")
        predicate = self.term("i", "predicate")
        obj = self.term("ibl", "object")
        self.skip_ws()
        graph: GraphName = None
        if not self.at("."):
            graph = self.term("ib", "graph name")  # type: ignore[assignment]
            self.skip_ws()
        if not self.at("."):
            raise self.fail("expected '.'")
        self.pos += 1
        self.skip_ws()
        if self.pos != len(self.line) and not self.at("#"):
            raise self.fail("unexpected text after '.'")
        return Quad(subject, predicate, obj, graph)  # type: ignore[arg-type]


def parse_nquads(text: str) -> list[Quad]:
    """The quads of an N-Quads document, in document order (duplicates kept)."""
    quads = []
    for number, line in enumerate(re.split(r"\r\n|\n|\r", text), start=1):
        quad = _LineParser(line, number).statement()
        if quad is not None:
            quads.append(quad)
    return quads


__all__ = [
    "IRI",
    "RDF_LANG_STRING",
    "XSD_STRING",
    "BlankNode",
    "GraphName",
    "Literal",
    "Quad",
    "Subject",
    "Term",
    "check_iri",
    "escape_literal",
    "parse_nquads",
    "serialize_nquads",
    "serialize_quad",
    "serialize_term",
]
