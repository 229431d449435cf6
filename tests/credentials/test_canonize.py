"""canonize(): official vectors byte for byte, safe mode, context isolation, escaping, hostile input."""

from __future__ import annotations

import copy
import hashlib
import time

import pytest
from pyld import jsonld

from insignia.credentials.errors import (
    CanonicalizationError,
    ContextError,
    MalformedInputError,
    ResourceLimitError,
    UndefinedTermError,
)
from insignia.credentials.jsonld.canonize import canonize, canonize_quads, to_quads
from insignia.credentials.jsonld.limits import Limits
from insignia.credentials.jsonld.loader import ContextLoader, default_loader
from insignia.credentials.jsonld.rdf import IRI, BlankNode, Literal, Quad, serialize_nquads
from tests.conftest import spec_json, spec_path

OB3 = "test-vectors/ob_v3p0-eddsa-rdfc-2022"
CLR = "test-vectors/clr_v2p0-eddsa-rdfc-2022"
W3C = "test-vectors/vc-di-eddsa"
EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


def loader_for(document: dict) -> ContextLoader:
    """The built-in loader when it knows every context of ``document``; else the spec bundle fills the gaps."""
    urls = [url for url in _context_urls(document) if not default_loader().knows(url)]
    if not urls:
        return default_loader()
    manifest = spec_json("contexts", "manifest.json")["contexts"]
    return ContextLoader(extra={url: spec_json("contexts", manifest[url]) for url in urls}, use_environment=False)


def _context_urls(document: dict) -> list[str]:
    contexts = document.get("@context", [])
    return [context for context in (contexts if isinstance(contexts, list) else [contexts]) if isinstance(context, str)]


def ob3_credential() -> dict:
    return spec_json(OB3, "credential.unsigned.json")


def _proof_config(options: dict, document: dict) -> dict:
    config = {key: value for key, value in options.items() if key != "proofValue"}
    config["@context"] = document["@context"]
    return config


# --- official vectors ------------------------------------------------------------------------


@pytest.mark.parametrize("folder", [OB3, CLR])
def test_1edtech_vectors_byte_for_byte(folder: str) -> None:
    document = spec_json(folder, "credential.unsigned.json")
    loader = loader_for(document)
    expected = spec_path(folder, "document-canon.nq").read_text(encoding="utf-8")
    assert canonize(document, loader=loader) == expected
    proof = _proof_config(spec_json(folder, "proof-options.json"), document)
    assert canonize(proof, loader=loader) == spec_path(folder, "proof-canon.nq").read_text(encoding="utf-8")


def test_ob3_vector_document_hash() -> None:
    document = ob3_credential()
    digest = hashlib.sha256(canonize(document, loader=loader_for(document)).encode()).hexdigest()
    assert digest == spec_json(OB3, "vector.json")["documentHashHex"]


@pytest.mark.parametrize("folder", ["eddsa-rdfc-2022", "eddsa-rdfc-2022/employ"])
def test_w3c_vc_di_eddsa_vectors(folder: str) -> None:
    base = f"{W3C}/{folder}"
    signed = spec_json(base, "signedDataInt.json")
    document = {key: value for key, value in signed.items() if key != "proof"}
    loader = loader_for(document)
    assert canonize(document, loader=loader) == spec_path(base, "canonDocDataInt.txt").read_text(encoding="utf-8")
    proof = spec_json(base, "proofConfigDataInt.json")
    assert canonize(proof, loader=loader) == spec_path(base, "proofCanonDataInt.txt").read_text(encoding="utf-8")


def test_default_loader_knows_the_ob3_contexts() -> None:
    """The vectors above should run on the built-in contexts, not the spec bundle."""
    for url in [*_context_urls(ob3_credential()), EXTENSIONS]:
        assert default_loader().knows(url), url


@pytest.mark.parametrize("folder", [OB3, CLR])
def test_safe_and_unsafe_agree_on_clean_documents(folder: str) -> None:
    document = spec_json(folder, "credential.unsigned.json")
    loader = loader_for(document)
    assert to_quads(document, loader=loader) == to_quads(document, loader=loader, safe=False)


def test_matches_pyld_normalize_where_pyld_is_right() -> None:
    document = ob3_credential()
    loader = loader_for(document)
    expected = jsonld.normalize(
        document, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader}
    )
    assert canonize(document, loader=loader) == expected


def test_canonize_is_canonize_quads_of_to_quads() -> None:
    document = ob3_credential()
    assert canonize(document) == canonize_quads(to_quads(document))


def test_input_is_not_mutated() -> None:
    document = ob3_credential()
    before = copy.deepcopy(document)
    canonize(document)
    assert document == before


# --- control characters against an independent implementation --------------------------------

CONTROL = "".join(chr(code) for code in range(0x20)) + "\x7f"


def _pyoxigraph_canon(quads: list[Quad]) -> str:
    pyoxigraph = pytest.importorskip("pyoxigraph")
    dataset = pyoxigraph.Dataset(
        pyoxigraph.parse(serialize_nquads(quads).encode("utf-8"), format=pyoxigraph.RdfFormat.N_QUADS)
    )
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    text = pyoxigraph.serialize(dataset, format=pyoxigraph.RdfFormat.N_QUADS).decode("utf-8")
    return "".join(sorted(line + "\n" for line in text.split("\n") if line))


def test_control_characters_match_pyoxigraph() -> None:
    document = ob3_credential()
    document["name"] = f'a{CONTROL}"\\b'
    document["description"] = "\x00"
    document["credentialSubject"]["achievement"]["criteria"]["narrative"] = "line\u2028sep\x85nel\x1c\x1d\x1e"
    document["evidence"] = [{"type": ["Evidence"], "name": ch} for ch in CONTROL]
    quads = to_quads(document)
    ours = canonize_quads(quads)
    assert ours == _pyoxigraph_canon(quads)
    assert "\\u0000" in ours
    assert "\\u007F" in ours
    assert "\\u001F" in ours
    assert "\\b" in ours
    for code in [*range(0x08), 0x0B, *range(0x0E, 0x20), 0x7F]:
        assert chr(code) not in ours, hex(code)
    # pyld 3.3.0 writes these raw: the bug this module exists to avoid.
    pyld_text = jsonld.normalize(
        document, {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": default_loader()}
    )
    assert pyld_text != ours
    assert "\x00" in pyld_text


# --- safe mode -------------------------------------------------------------------------------


def _with(change) -> dict:
    document = ob3_credential()
    change(document)
    return document


@pytest.mark.parametrize(
    ("change", "term", "path"),
    [
        (lambda d: d.update(foo="bar"), "foo", "$.foo"),
        (lambda d: d["credentialSubject"].update(favouriteColour="blue"), "favouriteColour", "$.credentialSubject"),
        (
            lambda d: d["credentialSubject"]["achievement"].update(secret={"x": 1}),
            "secret",
            "$.credentialSubject.achievement",
        ),
        (lambda d: d["issuer"].update(motto="x"), "motto", "$.issuer.motto"),
        (lambda d: d["credentialSubject"]["achievement"]["type"].append("Trophy"), "Trophy", "type[1]"),
        (lambda d: d.update(credentialStatus={"id": "https://e.example/s/1", "type": "1EdTechRevocationList"}),
         "1EdTechRevocationList", "$.credentialStatus.type"),
        (lambda d: d.update(credentialSchema=[{"id": "https://e.example/schema.json",
                                               "type": "1EdTechJsonSchemaValidator2019"}]),
         "1EdTechJsonSchemaValidator2019", "$.credentialSchema[0].type"),
        (lambda d: d.update(refreshService={"id": "https://e.example/r", "type": "1EdTechCredentialRefresh"}),
         "1EdTechCredentialRefresh", "$.refreshService.type"),
    ],
)
def test_undefined_terms_are_refused_by_name(change, term: str, path: str) -> None:
    document = _with(change)
    with pytest.raises(UndefinedTermError) as caught:
        canonize(document)
    assert caught.value.term == term
    assert caught.value.code == "undefined_term"
    assert term in caught.value.message
    assert path in caught.value.message
    canonize(document, safe=False)  # plain pyld behaviour: no error


def test_unsafe_mode_silently_drops_undefined_properties() -> None:
    """What pyld does, and why safe mode is the default: the extra data is simply not signed."""
    clean = ob3_credential()
    assert canonize(_with(lambda d: d.update(foo="bar")), safe=False) == canonize(clean)
    nested = _with(lambda d: d["credentialSubject"]["achievement"].update(secret="s"))
    assert canonize(nested, safe=False) == canonize(clean)


def test_unsafe_mode_turns_an_undefined_type_into_a_base_relative_iri() -> None:
    status = {"id": "https://e.example/s", "type": "1EdTechRevocationList"}
    document = _with(lambda d: d.update(credentialStatus=status))
    assert "<http://example.org/base/1EdTechRevocationList>" in canonize(document, safe=False)


def test_1edtech_types_are_fine_with_extensions_context() -> None:
    status = {"id": "https://e.example/s/1", "type": "1EdTechRevocationList"}
    document = _with(lambda d: d.update(credentialStatus=status))
    document["@context"].append(EXTENSIONS)
    text = canonize(document)
    assert "<https://purl.imsglobal.org/spec/vcstatus/v1p0/context.json#1EdTechRevocationList>" in text or (
        "1EdTechRevocationList>" in text
    )
    assert "example.org/base" not in text
    assert to_quads(document) == to_quads(document, safe=False)


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (lambda d: d.update(id="credentials/3527"), "credentials/3527"),
        (lambda d: d["credentialSubject"].update(id="//elsewhere.example/x"), "//elsewhere.example/x"),
        (lambda d: d["issuer"].update(id=""), ""),
        (lambda d: d["issuer"].update(id="#me"), "#me"),
        (lambda d: d.update(id="urn:has space"), "urn:has space"),
    ],
)
def test_relative_ids_are_refused(change, shown: str) -> None:
    with pytest.raises(UndefinedTermError, match="relative IRI") as caught:
        canonize(_with(change))
    assert caught.value.term == shown


def test_context_reset_cannot_hide_a_property() -> None:
    document = {
        "@context": {"name": "http://schema.org/name", "child": "http://schema.org/child"},
        "name": "a",
        "child": {"@context": None, "hidden": "not signed"},
    }
    with pytest.raises(UndefinedTermError) as caught:
        canonize(document)
    assert caught.value.term == "hidden"
    assert "hidden" not in canonize(document, safe=False)


def test_null_mapped_and_keyword_like_keys_are_refused() -> None:
    nulled = {"@context": {"name": "http://schema.org/name", "hidden": None}, "name": "a", "hidden": "x"}
    with pytest.raises(UndefinedTermError) as caught:
        canonize(nulled)
    assert caught.value.term == "hidden"
    keyword_like = {"@context": {"name": "http://schema.org/name"}, "name": "a", "@secret": "x"}
    with pytest.raises(UndefinedTermError) as caught:
        canonize(keyword_like)
    assert caught.value.term == "@secret"


def test_undefined_terms_vocab_context_defines_everything() -> None:
    document = _with(lambda d: d.update(foo="bar"))
    document["@context"].append("https://www.w3.org/ns/credentials/undefined-terms/v2")
    assert "undefined-term#foo>" in canonize(document, loader=loader_for(document))


def test_a_literal_that_looks_like_the_sentinel_is_just_data() -> None:
    document = _with(lambda d: d.update(name="urn:insignia:undefined:foo"))
    assert '"urn:insignia:undefined:foo"' in canonize(document)


# --- contexts and loaders --------------------------------------------------------------------

PRIVATE_CONTEXT = "https://private.example/context/v1"


def _private_document() -> dict:
    return {"@context": [PRIVATE_CONTEXT], "@id": "urn:uuid:1", "motto": "x"}


def test_a_context_served_by_one_loader_never_reaches_a_stricter_one() -> None:
    lenient = ContextLoader(extra={PRIVATE_CONTEXT: {"@context": {"motto": "https://private.example/motto"}}})
    assert "<https://private.example/motto>" in canonize(_private_document(), loader=lenient)
    strict = ContextLoader(use_environment=False)
    with pytest.raises(ContextError) as caught:
        canonize(_private_document(), loader=strict)
    assert caught.value.code == "context_unknown"
    assert PRIVATE_CONTEXT in caught.value.message
    with pytest.raises(ContextError):
        canonize(_private_document())  # the process-wide default loader is strict too
    assert PRIVATE_CONTEXT not in jsonld._resolved_context_cache


def test_unknown_context_surfaces_the_loader_error() -> None:
    document = _with(lambda d: d["@context"].append("https://unknown.example/ctx.json"))
    with pytest.raises(ContextError) as caught:
        canonize(document)
    assert caught.value.code == "context_unknown"
    assert "https://unknown.example/ctx.json" in str(caught.value)


def test_relative_context_reference() -> None:
    document = _with(lambda d: d["@context"].append("ctx.json"))
    with pytest.raises(ContextError, match=r"'ctx\.json' is relative"):
        canonize(document)


@pytest.mark.parametrize(
    "context",
    [
        {"name": "urn:other"},  # redefines a protected term of credentials/v2
        {"@version": 2},
        {"bad": {"@id": "urn:x", "@container": "@nonsense"}},
    ],
)
def test_invalid_inline_contexts_are_context_errors(context: dict) -> None:
    document = _with(lambda d: d["@context"].append(context))
    with pytest.raises(ContextError):
        canonize(document)


def test_invalid_json_ld_is_malformed_input() -> None:
    with pytest.raises(MalformedInputError):
        canonize({"@context": {"name": "http://schema.org/name"}, "@id": 5, "name": "x"})
    with pytest.raises(MalformedInputError):
        canonize(["not", "an", "object"])  # type: ignore[arg-type]


def test_iri_that_would_forge_a_line_is_refused() -> None:
    for injected in ('urn:a>"b', 'urn:a"b', "urn:a\x00b", "urn:a\\b", "urn:a{b}"):
        document = _with(lambda d, i=injected: d["credentialSubject"].update(id=i))
        with pytest.raises(MalformedInputError) as caught:
            canonize(document, safe=False)
        assert caught.value.code == "invalid_iri"
    # with whitespace pyld sees a relative reference: safe mode refuses it, plain pyld drops the node
    document = _with(lambda d: d["credentialSubject"].update(id="urn:a> <urn:b> <urn:c"))
    with pytest.raises(UndefinedTermError):
        canonize(document)
    assert "<urn:b>" not in canonize(document, safe=False)


def test_non_json_values_are_refused() -> None:
    for bad in (float("nan"), float("inf"), {1, 2}, b"bytes", "lone \ud800 surrogate"):
        with pytest.raises(MalformedInputError):
            canonize(_with(lambda d, b=bad: d.update(name=b)))


# --- hostile input ---------------------------------------------------------------------------


def _quick(seconds: float = 30.0):
    """A hang guard, not a speed test: the refusal itself is asserted by each test; generous for loaded CI."""
    class Timer:
        def __enter__(self) -> None:
            self.start = time.perf_counter()

        def __exit__(self, *exc: object) -> None:
            assert time.perf_counter() - self.start < seconds

    return Timer()


def test_deep_nesting_is_refused_quickly() -> None:
    deep: dict = {"name": "leaf"}
    for _ in range(10_000):
        deep = {"credentialSubject": deep}
    document = {"@context": ob3_credential()["@context"], **deep}
    with _quick(), pytest.raises(ResourceLimitError) as caught:
        canonize(document)
    assert caught.value.code == "json_too_deep"
    nested_arrays: list = []
    for _ in range(10_000):
        nested_arrays = [nested_arrays]
    with _quick(), pytest.raises(ResourceLimitError):
        canonize(_with(lambda d: d.update(name=nested_arrays)))


def test_huge_arrays_are_refused_quickly() -> None:
    with _quick(), pytest.raises(ResourceLimitError) as caught:
        canonize(_with(lambda d: d.update(evidence=[{"name": "x"}] * 1_000_000)))
    assert caught.value.code == "json_too_large"
    with _quick(), pytest.raises(ResourceLimitError):
        canonize(_with(lambda d: d.update(name=["x"] * 1_000_000)))


def test_huge_strings_are_refused_quickly() -> None:
    with _quick(), pytest.raises(ResourceLimitError):
        canonize(_with(lambda d: d.update(name="x" * 20_000_000)))


def test_limits_are_configurable() -> None:
    document = ob3_credential()
    with pytest.raises(ResourceLimitError):
        canonize(document, limits=Limits(max_depth=3))
    with pytest.raises(ResourceLimitError):
        canonize(document, limits=Limits(max_values=20))
    with pytest.raises(ResourceLimitError):
        canonize(document, limits=Limits(max_string_chars=100))
    with pytest.raises(ResourceLimitError, match="statements"):
        canonize(document, limits=Limits(max_quads=5))
    many_blank = _with(lambda d: d.update(evidence=[{"type": ["Evidence"], "name": str(i)} for i in range(10)]))
    with pytest.raises(ResourceLimitError, match="blank nodes"):
        canonize(many_blank, limits=Limits(max_blank_nodes=5))
    assert canonize(many_blank)


def test_poison_clique_in_json_ld_is_refused_quickly() -> None:
    """A 10-blank-node clique written as JSON-LD: every node links every other, all alike."""
    ids = [f"_:n{i}" for i in range(10)]
    graph = [{"@id": node, "http://example.org/p": [{"@id": other} for other in ids]} for node in ids]
    with _quick(), pytest.raises(CanonicalizationError) as caught:
        canonize({"@graph": graph})
    assert caught.value.code == "canonicalization_work_exceeded"


def test_look_alike_blank_nodes_are_bounded() -> None:
    """Two look-alike blank parents with k look-alike children each cost k! in RDFC-1.0: small k passes."""

    def document(count: int) -> dict:
        parent = {"child": [{"name": "same"} for _ in range(count)]}
        return {
            "@context": {"ex": "http://example.org/", "child": "ex:child", "item": "ex:item", "name": "ex:name"},
            "item": [parent, copy.deepcopy(parent)],
        }

    assert f"_:c14n{2 * 4 + 2}" in canonize(document(4))
    with _quick(), pytest.raises(CanonicalizationError):
        canonize(document(12))


def test_canonize_quads_directly() -> None:
    quads = [
        Quad(BlankNode("x"), IRI("urn:p"), Literal("a\tb")),
        Quad(IRI("urn:s"), IRI("urn:p"), BlankNode("x"), IRI("urn:g")),
    ]
    assert canonize_quads(quads) == '<urn:s> <urn:p> _:c14n0 <urn:g> .\n_:c14n0 <urn:p> "a\\tb" .\n'


def test_json_literals_language_and_numbers() -> None:
    document = {
        "@context": {
            "ex": "http://example.org/",
            "data": {"@id": "ex:data", "@type": "@json"},
            "label": {"@id": "ex:label", "@language": "en"},
            "n": "ex:n",
        },
        "@id": "urn:x",
        "data": {"b": [1, 2.5, "\x01"], "a": None},
        "label": "hello",
        "n": [1, 1.5, True, 1e21],
    }
    text = canonize(document)
    assert text == canonize_quads(to_quads(document, safe=False))
    assert '"hello"@en' in text
    assert "rdf-syntax-ns#JSON>" in text
    assert '"1.5E0"^^<http://www.w3.org/2001/XMLSchema#double>' in text
    assert '"{\\"a\\":null,\\"b\\":[1,2.5,\\"\\\\u0001\\"]}"' in text  # JCS, then N-Quads escaping


def test_scoped_context_reprocessing_is_bounded() -> None:
    """A big type-scoped context re-applied under many distinct active contexts: quadratic in pyld."""
    terms = {f"t{i}": f"urn:t{i}" for i in range(2_000)}
    document = {
        "@context": {"T": {"@id": "urn:T", "@context": terms}, "child": "urn:child", "name": "urn:name"},
        "@id": "urn:root",
        "child": [
            {"@context": {f"x{i}": f"urn:x{i}"}, "@type": "T", "name": "n", "child": {"@type": "T", "name": "m"}}
            for i in range(300)
        ],
    }
    with _quick(), pytest.raises(ResourceLimitError) as caught:
        canonize(document)
    assert caught.value.code == "context_work_exceeded"


def test_many_values_of_one_property_are_bounded() -> None:
    """pyld's node map compares each value with all earlier ones: 5,000 strings would take ~15 s."""
    document = {"@context": {"name": "urn:name"}, "@id": "urn:x", "name": [str(i) for i in range(5_000)]}
    with _quick(), pytest.raises(ResourceLimitError) as caught:
        canonize(document)
    assert caught.value.code == "jsonld_work_exceeded"
    assert canonize({**document, "name": document["name"][:300]}).count("\n") == 300
