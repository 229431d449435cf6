"""The W3C RDFC-1.0 test suite (rdf-canon), run in place from ../shared/spec, plus the N-Quads layer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from insignia.credentials.errors import CanonicalizationError, MalformedInputError
from insignia.credentials.jsonld.rdf import (
    IRI,
    RDF_LANG_STRING,
    BlankNode,
    Literal,
    Quad,
    escape_literal,
    parse_nquads,
    serialize_quad,
)
from insignia.credentials.jsonld.rdfc import canonical_nquads, canonicalize
from tests.conftest import spec_json, spec_path

SUITE = "test-vectors/rdf-canon"


def _entries() -> list[dict]:
    return spec_json(SUITE, "manifest.jsonld")["entries"]


def _read(relative: str) -> str:
    return (spec_path(SUITE) / relative).read_text(encoding="utf-8")


def sort_nquads(text: str) -> str:
    """Lines in code point order. Not ``splitlines``: it also splits on U+0085, U+2028, U+001C…"""
    return "".join(sorted(line + "\n" for line in text.split("\n") if line))


def _hash(entry: dict) -> str:
    return entry.get("hashAlgorithm", "SHA256")


@pytest.mark.parametrize("entry", _entries(), ids=lambda entry: entry["id"].lstrip("#"))
def test_w3c_rdfc10(entry: dict) -> None:
    kind = entry["type"].split(":")[-1]
    quads = parse_nquads(_read(entry["action"]))
    if kind == "RDFC10NegativeEvalTest":
        started = time.perf_counter()
        with pytest.raises(CanonicalizationError) as caught:
            canonicalize(quads, hash_algorithm=_hash(entry))
        assert caught.value.code == "canonicalization_work_exceeded"
        assert time.perf_counter() - started < 20  # hang guard, not a speed test
        return
    result = canonicalize(quads, hash_algorithm=_hash(entry))
    if kind == "RDFC10EvalTest":
        assert result.nquads == _read(entry["result"])
    elif kind == "RDFC10MapTest":
        expected = json.loads(_read(entry["result"]))
        assert result.issued == expected
        terms = [term for quad in quads for term in (quad.subject, quad.object, quad.graph)]
        labels = {term.id for term in terms if isinstance(term, BlankNode)}
        assert set(result.issued) == labels
    else:  # pragma: no cover - a new kind of test in the manifest
        pytest.fail(f"unknown test type {entry['type']}")


def test_suite_is_complete() -> None:
    kinds = [entry["type"].split(":")[-1] for entry in _entries()]
    assert kinds.count("RDFC10EvalTest") == 64
    assert kinds.count("RDFC10MapTest") == 21
    assert kinds.count("RDFC10NegativeEvalTest") == 1
    assert {_hash(entry) for entry in _entries()} == {"SHA256", "SHA384"}


def test_poison_graph_accepted_with_a_bigger_budget_is_still_bounded() -> None:
    quads = parse_nquads(_read("rdfc10/test074-in.nq"))
    with pytest.raises(CanonicalizationError, match="poison"):
        canonicalize(quads, max_permutations=10**9, max_ndegree_calls=300)


def test_the_evil_graphs_fit_the_default_budget_but_not_a_tiny_one() -> None:
    quads = parse_nquads(_read("rdfc10/test044-in.nq"))
    canonicalize(quads)
    with pytest.raises(CanonicalizationError) as caught:
        canonicalize(quads, max_ndegree_calls=50)
    assert caught.value.code == "canonicalization_work_exceeded"


def test_unknown_hash_algorithm() -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize([], hash_algorithm="md5")


def test_sha384_spellings() -> None:
    quads = parse_nquads(_read("rdfc10/test075-in.nq"))
    expected = _read("rdfc10/test075-rdfc10.nq")
    for name in ("SHA384", "sha-384", "sha384"):
        assert canonical_nquads(quads, hash_algorithm=name) == expected


def test_empty_dataset() -> None:
    assert canonicalize([]).nquads == ""
    assert canonicalize([]).issued == {}


def test_duplicate_quads_are_one() -> None:
    quad = Quad(BlankNode("x"), IRI("urn:p"), Literal("v"))
    assert canonical_nquads([quad, quad]) == '_:c14n0 <urn:p> "v" .\n'


# --- canonical N-Quads escaping ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "written"),
    [
        ("plain", "plain"),
        ("\b\t\n\f\r\"\\", '\\b\\t\\n\\f\\r\\"\\\\'),
        ("\x00\x01\x07\x0b\x0e\x1f\x7f", "\\u0000\\u0001\\u0007\\u000B\\u000E\\u001F\\u007F"),
        ("\x1a", "\\u001A"),
        ("'", "'"),
        ("\x80\u00a0\u2028\ufeff\U0001f303", "\x80\u00a0\u2028\ufeff\U0001f303"),
    ],
)
def test_literal_escaping(raw: str, written: str) -> None:
    assert escape_literal(raw) == written


def test_every_control_character_is_escaped_as_rdfc_says() -> None:
    for code in range(0x20):
        escaped = escape_literal(chr(code))
        if code in (0x08, 0x09, 0x0A, 0x0C, 0x0D):
            assert escaped == {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}[code]
        else:
            assert escaped == f"\\u{code:04X}"
    assert escape_literal("\x7f") == "\\u007F"


def test_literal_forms() -> None:
    subject, predicate = IRI("urn:s"), IRI("urn:p")
    assert serialize_quad(Quad(subject, predicate, Literal("a"))) == '<urn:s> <urn:p> "a" .\n'
    typed = Literal("1", "http://www.w3.org/2001/XMLSchema#integer")
    assert serialize_quad(Quad(subject, predicate, typed)) == (
        '<urn:s> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    )
    tagged = Literal("a", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString", "en-GB")
    assert serialize_quad(Quad(subject, predicate, tagged, IRI("urn:g"))) == '<urn:s> <urn:p> "a"@en-GB <urn:g> .\n'


def test_parser_round_trip_of_the_escaping_test() -> None:
    text = _read("rdfc10/test060-rdfc10.nq")
    assert "".join(serialize_quad(quad) for quad in parse_nquads(text)) == text


@pytest.mark.parametrize(
    "line",
    [
        "<urn:s> <urn:p> .",
        "<urn:s> <urn:p> <urn:o>",
        '<urn:s> <urn:p> "unterminated .',
        "<urn:s> <urn:p> <urn:o> . trailing",
        "<urn:s p> <urn:p> <urn:o> .",
        '<urn:s> <urn:p> "\\uD800" .',
    ],
)
def test_parser_rejects(line: str) -> None:
    with pytest.raises(MalformedInputError):
        parse_nquads(line)


def test_parser_comments_and_blank_lines() -> None:
    quads = parse_nquads("# comment\n\n<urn:s> <urn:p> _:b1 . # trailing\r\n\t_:b1 <urn:p> \"x\"@en .")
    assert quads == [
        Quad(IRI("urn:s"), IRI("urn:p"), BlankNode("b1")),
        Quad(BlankNode("b1"), IRI("urn:p"), Literal("x", RDF_LANG_STRING, "en")),
    ]


def test_pyoxigraph_agrees_on_the_whole_suite() -> None:
    """pyoxigraph is our independent oracle in the differential tests: check it against the suite first."""
    pyoxigraph = pytest.importorskip("pyoxigraph")
    for entry in _entries():
        if entry["type"] != "rdfc:RDFC10EvalTest" or _hash(entry) != "SHA256":
            continue
        parsed = pyoxigraph.parse(_read(entry["action"]).encode(), format=pyoxigraph.RdfFormat.N_QUADS)
        dataset = pyoxigraph.Dataset(parsed)
        dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
        text = pyoxigraph.serialize(dataset, format=pyoxigraph.RdfFormat.N_QUADS).decode()
        assert sort_nquads(text) == _read(entry["result"]), entry["id"]


def test_rdfc_module_has_no_pyld_dependency() -> None:
    source = Path(canonicalize.__code__.co_filename).read_text(encoding="utf-8")
    assert "pyld" not in source.replace("pyld's", "")
