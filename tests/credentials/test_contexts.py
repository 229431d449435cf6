"""The contexts we produce define exactly the terms of the official documents in ../shared/spec/contexts.

Two independent proofs:

1. A term-by-term comparison. ``normalise`` processes a context document the way JSON-LD 1.1 context
   processing does for term definitions (compact IRIs and term references expanded, ``"t": "iri"`` the
   same as ``{"@id": "iri"}``, effective ``@protected`` and prefix flags, scoped contexts recursively) and
   ``differences`` names every term and field where two documents disagree.
2. RDF: every OB 3.0 example, every test-vector document and a probe document that uses every term of a
   context canonicalise (URDNA2015) to the same N-Quads with our contexts as with the official files.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from insignia.credentials.jsonld.contexts import builtin_urls, load_builtin, pyld_urls
from insignia.credentials.jsonld.loader import ContextLoader
from tests.conftest import spec_json, spec_path

#: W3C example contexts only test vectors need; we deliberately do not build them in.
W3C_TEST_ONLY = frozenset(
    {
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://www.w3.org/2018/credentials/examples/v1",
        "https://w3id.org/citizenship/v4rc1",
    }
)

GEN_DELIMS = tuple(":/?#[]@")
TERM_FIELDS = ("@id", "@reverse", "@type", "@container", "@protected", "@prefix", "@language", "@direction")
TERM_FIELDS += ("@nest", "@index", "@propagate", "@context")
SETTINGS = ("@version", "@vocab", "@base", "@language", "@direction", "@protected", "@propagate", "@import")
ABSENT = "<absent>"


# --------------------------------------------------------------------------------------------------------------
# The normaliser


class _Scope:
    """One context object being processed, with the enclosing context (for scoped contexts) as ``parent``."""

    def __init__(self, raw: dict[str, Any], parent: _Scope | None) -> None:
        self.raw = raw
        self.parent = parent
        self.defined: dict[str, dict[str, Any] | None] = {}
        self._in_progress: set[str] = set()

    def _vocab(self) -> str | None:
        if "@vocab" in self.raw:
            return self.raw["@vocab"]
        return self.parent._vocab() if self.parent else None

    def lookup(self, name: str) -> tuple[bool, dict[str, Any] | None]:
        """(found, processed definition) of ``name`` here or in an enclosing context."""
        if name in self.raw and not name.startswith("@"):
            return True, self.define(name)
        if self.parent is not None:
            return self.parent.lookup(name)
        return False, None

    def expand(self, value: str) -> str | None:
        """IRI expansion (vocabulary-relative), as for ``@id``/``@type``/``@reverse`` values."""
        if value.startswith("@"):
            return value
        found, definition = self.lookup(value)
        if found:
            return None if definition is None else definition.get("@id", definition.get("@reverse"))
        if ":" in value:
            prefix, suffix = value.split(":", 1)
            if prefix == "_" or suffix.startswith("//"):
                return value
            found, definition = self.lookup(prefix)
            if found and definition is not None and definition.get("@prefix") is True:
                return definition["@id"] + suffix
            return value  # an absolute IRI with the scheme ``prefix``
        vocab = self._vocab()
        return vocab + value if vocab is not None else "<relative>" + value

    def define(self, name: str) -> dict[str, Any] | None:
        if name in self.defined:
            return self.defined[name]
        if name in self._in_progress:
            raise ValueError(f"cyclic IRI mapping for term {name!r}")
        self._in_progress.add(name)
        raw = self.raw[name]
        result: dict[str, Any] | None
        if raw is None:
            result = None
        else:
            simple = isinstance(raw, str)
            spec: dict[str, Any] = {"@id": raw} if simple else dict(raw)
            result = {}
            if "@reverse" in spec:
                result["@reverse"] = self.expand(spec["@reverse"])
            elif "@id" in spec and spec["@id"] != name:
                result["@id"] = None if spec["@id"] is None else self.expand(spec["@id"])
            elif ":" in name:
                result["@id"] = self.expand(name)
            else:
                vocab = self._vocab()
                result["@id"] = vocab + name if vocab is not None else "<relative>" + name
            if "@type" in spec:
                result["@type"] = self.expand(spec["@type"])
            if "@container" in spec:
                container = spec["@container"]
                result["@container"] = sorted(container if isinstance(container, list) else [container])
            result["@protected"] = bool(spec.get("@protected", self.raw.get("@protected", False)))
            iri = result.get("@id")
            result["@prefix"] = spec.get(
                "@prefix",
                simple and isinstance(iri, str) and ":" not in name and iri.endswith(GEN_DELIMS),
            )
            for keyword in ("@language", "@direction", "@nest", "@index", "@propagate"):
                if keyword in spec:
                    result[keyword] = spec[keyword]
            if "@context" in spec:
                result["@context"] = _normalise_value(spec["@context"], self)
        self.defined[name] = result
        self._in_progress.discard(name)
        return result


def _normalise_value(value: Any, parent: _Scope | None) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    normalised: list[Any] = []
    for item in items:
        if item is None or isinstance(item, str):
            normalised.append({"@reference": item})
        elif isinstance(item, dict):
            scope = _Scope(item, parent)
            settings = {key: item[key] for key in SETTINGS if key in item}
            if isinstance(settings.get("@vocab"), str) and parent is not None:
                settings["@vocab"] = parent.expand(settings["@vocab"])
            terms = {name: scope.define(name) for name in item if not name.startswith("@")}
            normalised.append({"settings": settings, "terms": terms})
        else:
            raise TypeError(f"not a context: {item!r}")
    return normalised


def normalise(document: dict[str, Any]) -> list[Any]:
    """The processed form of a context document's ``@context``."""
    return _normalise_value(document["@context"], None)


def _differences(ours: list[Any], official: list[Any], path: str) -> Iterator[str]:
    if len(ours) != len(official):
        yield f"{path}: {len(ours)} context entries, official has {len(official)}"
        return
    for index, (mine, theirs) in enumerate(zip(ours, official, strict=True)):
        where = f"{path}[{index}]" if len(ours) > 1 else path
        if "terms" not in mine or "terms" not in theirs:
            if mine != theirs:
                yield f"{where}: context entry {mine} differs from the official {theirs}"
            continue
        for key in SETTINGS:
            a, b = mine["settings"].get(key, ABSENT), theirs["settings"].get(key, ABSENT)
            if a != b:
                yield f"{where}: setting {key!r} is {a!r}, official {b!r}"
        names_a, names_b = set(mine["terms"]), set(theirs["terms"])
        for name in sorted(names_b - names_a):
            yield f"{where}: term {name!r} is missing"
        for name in sorted(names_a - names_b):
            yield f"{where}: term {name!r} is not in the official context"
        for name in sorted(names_a & names_b):
            a_def, b_def = mine["terms"][name], theirs["terms"][name]
            if a_def is None or b_def is None:
                if a_def != b_def:
                    yield f"{where}: term {name!r} is {a_def!r}, official {b_def!r}"
                continue
            for field in TERM_FIELDS:
                a, b = a_def.get(field, ABSENT), b_def.get(field, ABSENT)
                if field == "@context" and ABSENT not in (a, b):
                    yield from _differences(a, b, f"{where} > {name!r} @context")
                elif a != b:
                    yield f"{where}: term {name!r} field {field}: ours {a!r}, official {b!r}"


def differences(ours: dict[str, Any], official: dict[str, Any]) -> list[str]:
    """Every (term, field) where two context documents define something different; empty if identical."""
    return list(_differences(normalise(ours), normalise(official), "@context"))


# --------------------------------------------------------------------------------------------------------------
# Fixtures and helpers


@cache
def manifest() -> dict[str, str]:
    return spec_json("contexts", "manifest.json")["contexts"]


def official(url: str) -> dict[str, Any]:
    return spec_json("contexts", manifest()[url])


PRODUCED = sorted(builtin_urls() - pyld_urls())
OFFICIAL_FILES = {url: spec_path("contexts", name) for url, name in manifest().items()}


def official_loader(url: str, options: Any = None) -> dict[str, Any]:
    """A pyld document loader serving only the official files."""
    if url not in OFFICIAL_FILES:
        raise jsonld.JsonLdError(f"no official file for {url}", "loading document failed")
    document = json.loads(OFFICIAL_FILES[url].read_text(encoding="utf-8"))
    return {"contextUrl": None, "documentUrl": url, "document": document}


def our_loader() -> ContextLoader:
    """Our built-in contexts; only the W3C test-only contexts come from the spec directory."""
    return ContextLoader(extra={url: official(url) for url in W3C_TEST_ONLY}, use_environment=False)


def canon(document: dict[str, Any], loader: Callable[..., Any]) -> str:
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader}
    return jsonld.normalize(copy.deepcopy(document), options)


def _documents() -> list[Path]:
    examples = sorted(spec_path("examples", "ob_v3p0").glob("*.json"))
    vectors = sorted(spec_path("test-vectors").glob("*-eddsa-rdfc-2022/*.json"))
    vectors += sorted(spec_path("test-vectors", "vc-di-eddsa").rglob("*.json"))
    return [path for path in examples + vectors if "@context" in json.loads(path.read_text(encoding="utf-8"))]


# --------------------------------------------------------------------------------------------------------------
# Term-by-term proof


@pytest.mark.parametrize("url", PRODUCED)
def test_produced_context_defines_the_official_terms(url: str) -> None:
    ours = load_builtin(url)
    assert ours is not None
    problems = differences(ours, official(url))
    assert not problems, f"{url}:\n" + "\n".join(problems)


@pytest.mark.parametrize("url", PRODUCED)
def test_produced_context_keeps_the_official_non_context_members(url: str) -> None:
    ours, theirs = load_builtin(url), official(url)
    assert ours is not None
    assert {k: v for k, v in ours.items() if k != "@context"} == {k: v for k, v in theirs.items() if k != "@context"}


@pytest.mark.parametrize("url", PRODUCED)
def test_produced_context_is_even_the_same_json_value(url: str) -> None:
    """Stricter than needed for signatures, and true today: the same JSON value (member order aside)."""
    assert load_builtin(url) == official(url)


@pytest.mark.parametrize("url", sorted(pyld_urls()))
def test_pyld_bundled_context_is_the_official_json(url: str) -> None:
    assert load_builtin(url) == official(url)


def test_every_manifest_url_is_built_in_or_test_only() -> None:
    missing = sorted(set(manifest()) - builtin_urls() - W3C_TEST_ONLY)
    assert not missing, f"not built in: {missing}"
    assert not W3C_TEST_ONLY & builtin_urls()
    assert builtin_urls() <= set(manifest()), sorted(builtin_urls() - set(manifest()))


def test_load_builtin_returns_fresh_copies() -> None:
    url = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
    first = load_builtin(url)
    assert first is not None
    first["@context"]["Achievement"]["@id"] = "urn:changed"
    assert load_builtin(url) == load_builtin(url)
    assert load_builtin(url)["@context"]["Achievement"]["@id"].endswith("#Achievement")
    assert load_builtin("https://example.org/unknown") is None


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(document: dict[str, Any]) -> None:
        node = document["@context"]
        for key in path[:-1]:
            node = node[key]
        if value is ABSENT:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate


OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_VOCAB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"

MUTATIONS = {
    "iri": (OB303, ("Achievement", "@context", "creator", "@id"), OB_VOCAB + "Profile", "'creator' field @id"),
    "container": (OB303, ("alignment", "@container"), "@list", "'alignment' field @container"),
    "type": (OB303, ("url", "@type"), "@id", "'url' field @type"),
    "protected": (OB303, ("Profile", "@context", "@protected"), False, "'Profile' @context: term 'email'"),
    "missing term": (OB303, ("Related", "@context", "inLanguage"), ABSENT, "term 'inLanguage' is missing"),
    "extra term": (OB303, ("jti",), {"@id": OB_VOCAB + "jti"}, "term 'jti' is not in the official"),
    "datatype": (OB303, ("awardedDate", "@type"), "http://www.w3.org/2001/XMLSchema#dateTime", "'awardedDate'"),
    "prefix flag": (
        "https://w3id.org/openbadges/v2",
        ("obi",),
        {"@id": "https://w3id.org/openbadges#"},
        "'obi' field @prefix",
    ),
    "scoped type": (
        "https://w3id.org/security/data-integrity/v2",
        ("DataIntegrityProof", "@context", "proofPurpose", "@type"),
        "@id",
        "'proofPurpose' field @type",
    ),
    "setting": ("https://www.w3.org/ns/credentials/undefined-terms/v2", ("@vocab",), "urn:x#", "setting '@vocab'"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_comparator_catches_a_changed_term(name: str) -> None:
    url, path, value, expected = MUTATIONS[name]
    altered = load_builtin(url)
    assert altered is not None
    _set(path, value)(altered)
    problems = differences(altered, official(url))
    assert problems, f"mutation {name!r} went unnoticed"
    assert any(expected in problem for problem in problems), problems


def test_comparator_treats_equivalent_spellings_as_equal() -> None:
    prefixed = {"@context": {"ex": "https://example.org/", "a": {"@id": "ex:a", "@type": "ex:T"}, "b": "ex:b"}}
    expanded = {
        "@context": {
            "ex": "https://example.org/",
            "a": {"@id": "https://example.org/a", "@type": "https://example.org/T"},
            "b": {"@id": "https://example.org/b"},
        }
    }
    assert differences(prefixed, expanded) == []
    aliased = {"@context": {"ex": "https://example.org/", "a": "ex:a", "b": "a"}}
    assert differences(aliased, {"@context": {"ex": "https://example.org/", "a": "ex:a", "b": "ex:a"}}) == []


# --------------------------------------------------------------------------------------------------------------
# RDF proof


@pytest.mark.parametrize("path", _documents(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_documents_canonicalise_identically(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert canon(document, our_loader()) == canon(document, official_loader)


def _scoped_terms(definition: Any) -> dict[str, Any]:
    scoped = definition.get("@context") if isinstance(definition, dict) else None
    if not isinstance(scoped, dict):
        return {}
    return {name: inner for name, inner in scoped.items() if not name.startswith("@") and inner not in ("@id", "@type")}


def _probe_value(name: str, definition: Any) -> Any:
    """A value for property ``name`` that also uses the terms of its property-scoped context, recursively."""
    inner = _scoped_terms(definition)
    if inner and definition.get("@type") == "@vocab":
        return sorted(inner)  # vocabulary-relative values: the scoped terms themselves
    if inner:
        return {"@id": f"urn:probe:value:{name}", **{key: _probe_value(key, value) for key, value in inner.items()}}
    return f"urn:probe:{name}"


def _probe(context: dict[str, Any], url: str) -> dict[str, Any]:
    """A document using every term of ``context``: as a property (its value using the term's scoped terms)
    and as the type of a node that uses the terms of its type-scoped context; plus one undefined term."""
    root: dict[str, Any] = {"@context": url, "@id": "urn:probe:root", "probeUndefinedTerm": "undefined"}
    nodes: list[dict[str, Any]] = []
    for name, definition in context.items():
        if name.startswith("@") or definition in ("@id", "@type"):
            continue
        root[name] = _probe_value(name, definition)
        inner = _scoped_terms(definition)
        node = {"@id": f"urn:probe:node:{name}", "@type": name}
        nodes.append(node | {key: _probe_value(key, value) for key, value in inner.items()})
    root["urn:probe:nodes"] = nodes
    return root


@pytest.mark.parametrize("url", PRODUCED)
def test_probe_document_canonicalises_identically(url: str) -> None:
    context = official(url)["@context"]
    inline = context[-1] if isinstance(context, list) else context
    probe = _probe(inline, url)
    ours, theirs = canon(probe, our_loader()), canon(probe, official_loader)
    assert ours == theirs
    assert ours.strip()


@pytest.mark.parametrize("vector", ["ob_v3p0-eddsa-rdfc-2022", "clr_v2p0-eddsa-rdfc-2022"])
def test_published_canonical_nquads_are_reproduced_with_our_contexts(vector: str) -> None:
    """1EdTech's signed vectors: our contexts give byte for byte the N-Quads the signatures were made over."""
    unsigned = spec_json("test-vectors", vector, "credential.unsigned.json")
    expected = spec_path("test-vectors", vector, "document-canon.nq").read_text(encoding="utf-8")
    assert canon(unsigned, our_loader()) == expected
    proof_config = {"@context": unsigned["@context"], **spec_json("test-vectors", vector, "proof-options.json")}
    expected_proof = spec_path("test-vectors", vector, "proof-canon.nq").read_text(encoding="utf-8")
    assert canon(proof_config, our_loader()) == expected_proof
