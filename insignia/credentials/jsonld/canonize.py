"""The one place RDF canonicalisation happens: JSON-LD document → RDF quads → RDFC-1.0 N-Quads.

``to_quads`` runs pyld (expansion, then JSON-LD → RDF) with the caller's offline ``ContextLoader``;
``canonize_quads`` runs our RDFC-1.0 (``rdfc``) and canonical serialiser (``rdf``). Together they are
the *reference path*. ``canonize`` (and ``canonical_digest``, its SHA-256) first tries the *fast path*
(``fastpath``): a template of the canonical N-Quads compiled once per document shape by this same
reference path, which gives the same bytes and hands anything it is not sure of back to the reference.

**Safe mode** (the default). JSON-LD expansion silently drops a property its contexts do not define
and resolves a relative ``type``/``id`` against a base IRI that differs between implementations, so the
data would not be signed, or signed differently by every verifier. We expand once with two sentinels:
a ``@vocab`` prepended before the document's contexts, so an undefined term ``foo`` becomes
``urn:insignia:undefined:foo`` instead of vanishing, and a base IRI with its own scheme, so a relative
reference becomes ``insignia-relative://…``. Properties pyld still drops (a term the context maps to
``null``, a keyword-like key, anything below a ``"@context": null`` reset that removed the sentinel
``@vocab``) are reported through pyld's ``on_property_dropped`` hook. If neither sentinel appears and
nothing was dropped, the sentinels changed nothing that reaches the output: ``@vocab`` and the base
are consulted only where they would leave their mark in the result. We can therefore go on to RDF
from that same expansion (the hypothesis tests check safe and plain quads are equal). One known
difference: a context term with no ``@id`` is an error without a ``@vocab`` but maps under the
sentinel with one, so safe mode accepts such a context as long as the term is unused. Not caught, as
in every JSON-LD processor: ``ex:foo`` with ``ex`` undefined is the absolute IRI ``ex:foo``.

pyld keeps a module-global cache of resolved contexts keyed by URL: a context one loader served would
then be used for another loader that refuses it. Each ``ContextLoader`` gets its own cache here.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from pyld import jsonld
from pyld.context_resolver import ContextResolver

from insignia.credentials.errors import (
    ContextError,
    CredentialError,
    MalformedInputError,
    ResourceLimitError,
    UndefinedTermError,
)
from insignia.credentials.jsonld import fastpath
from insignia.credentials.jsonld.limits import DEFAULT_LIMITS, Limits, check_json, iter_json, json_path
from insignia.credentials.jsonld.loader import ContextLoader, default_loader
from insignia.credentials.jsonld.rdf import IRI, RDF_LANG_STRING, XSD_STRING, BlankNode, Literal, Quad, check_iri
from insignia.credentials.jsonld.rdfc import canonicalize

#: Prepended as ``@vocab``: an undefined term expands to this prefix + the term.
UNDEFINED_VOCAB = "urn:insignia:undefined:"
#: The base IRI for safe expansion: a relative reference resolves under this scheme.
RELATIVE_BASE = "insignia-relative://relative/"
_RELATIVE_SCHEME = "insignia-relative:"

_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S*\Z")
_JSONLD_KEYWORDS = frozenset(
    {
        "@base", "@container", "@context", "@direction", "@graph", "@id", "@import", "@included", "@index",
        "@json", "@language", "@list", "@nest", "@none", "@prefix", "@propagate", "@protected", "@reverse",
        "@set", "@type", "@value", "@version", "@vocab",
    }
)


# --- a context cache per loader ----------------------------------------------------------------


class _ResolvedContextCache:
    """A small thread-safe LRU with the ``get``/``[]``/``[]=`` that pyld's ContextResolver uses."""

    def __init__(self, maxsize: int = 256) -> None:
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._maxsize = maxsize

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data


_MISSING = object()


class _StaticLoader:
    """The loader as pyld sees it: documents tagged ``static`` so their resolved form is cached.

    pyld only caches a resolved remote context across operations when the loader tags it; the cache
    is this loader's own, so the tag cannot leak a context to another loader.
    """

    def __init__(self, loader: ContextLoader) -> None:
        self.loader = loader

    def __call__(self, url: str, options: Any = None) -> dict:
        if url.startswith(_RELATIVE_SCHEME):
            raise ContextError(
                f"The JSON-LD context reference '{_unrelative(url)}' is relative; a credential must name its "
                "contexts by absolute URL.",
                code="context_relative",
            )
        return {**self.loader(url, options), "tag": "static"}


class _Meter:
    """Term definitions processed by pyld during one operation, against a budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.spent = 0

    def charge(self, terms: int) -> None:
        self.spent += terms
        if self.spent > self.budget:
            raise ResourceLimitError(
                f"Processing the JSON-LD contexts of this document took more than {self.budget} term "
                "definitions; its contexts look built to exhaust the verifier.",
                code="context_work_exceeded",
            )


_meter: contextvars.ContextVar[_Meter | None] = contextvars.ContextVar("insignia_context_meter", default=None)


class _MeteredProcessedCache:
    """Stands in for a ResolvedContext's cache of processed forms: each store is real processing work."""

    def __init__(self, inner: Any, terms: int) -> None:
        self._inner = inner
        self._terms = terms

    def get(self, key: Any, default: Any = None) -> Any:
        return self._inner.get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        meter = _meter.get()
        if meter is not None:
            meter.charge(self._terms)
        self._inner[key] = value


class _Resolver(ContextResolver):
    """pyld's resolver for one operation, with two additions.

    * It remembers inline context objects by identity. pyld keys an inline (scoped) context by its JCS
      serialisation, recomputed every time a type- or property-scoped context applies: a third of the
      time of a typical credential. Scoped contexts live inside this loader's cached documents, which
      nothing mutates, so identity is a sound key; the entry holds the object, so its id cannot be
      reused while cached.
    * Every resolved context it hands out counts its term definitions against the operation's
      ``_Meter`` whenever pyld actually processes it (not when pyld reuses a processed form). Context
      processing is the one part of expansion that is not linear in the document: a scoped context
      re-applied under many different active contexts is reprocessed every time, and a 6,000-value
      document can cost minutes.
    """

    def __init__(self, cache: _ResolvedContextCache, by_identity: _ResolvedContextCache, loader: _StaticLoader) -> None:
        super().__init__(cache, loader)
        self._by_identity = by_identity

    def resolve(self, active_ctx: Any, context: Any, base: Any, cycles: Any = None) -> Any:
        resolved = self._resolve(active_ctx, context, base, cycles)
        for item in resolved:
            if not isinstance(item.cache, _MeteredProcessedCache):
                terms = len(item.document) if isinstance(item.document, dict) else 0
                item.cache = _MeteredProcessedCache(item.cache, 1 + terms)
        return resolved

    def _resolve(self, active_ctx: Any, context: Any, base: Any, cycles: Any) -> Any:
        if isinstance(context, dict) and "@context" not in context:
            hit = self._by_identity.get(str(id(context)))
            if hit is not None and hit[0] is context:
                return hit[1]
            resolved = super().resolve(active_ctx, context, base, cycles)
            self._by_identity[str(id(context))] = (context, resolved)
            return resolved
        return super().resolve(active_ctx, context, base, cycles)


class _LoaderState:
    """What belongs to one ContextLoader: its resolved-context caches and its tagged wrapper."""

    def __init__(self, loader: ContextLoader) -> None:
        self.loader = _StaticLoader(loader)
        self.resolved = _ResolvedContextCache()
        self.by_identity = _ResolvedContextCache()
        #: Compiled document shapes (the fast path): only valid for this loader's contexts.
        self.shapes = fastpath.ShapeCache()


_states: weakref.WeakKeyDictionary[ContextLoader, _LoaderState] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def _state(loader: ContextLoader) -> _LoaderState:
    with _states_lock:
        state = _states.get(loader)
        if state is None:
            state = _states[loader] = _LoaderState(loader)
    return state


def _resolver(state: _LoaderState) -> _Resolver:
    """A fresh per-operation resolver over the caches that belong to one loader alone."""
    return _Resolver(state.resolved, state.by_identity, state.loader)


# --- pyld errors → kernel errors ---------------------------------------------------------------


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _translate(error: Exception) -> CredentialError:
    """The kernel error for a failure inside pyld: the loader's own error if it raised one."""
    chain = list(_causes(error))
    for cause in chain:
        if isinstance(cause, CredentialError):
            return cause
    for cause in chain:
        if isinstance(cause, RecursionError):
            return ResourceLimitError(
                "The document is too deeply nested to process as JSON-LD.", code="json_too_deep"
            )
    json_ld_errors = [cause for cause in chain if isinstance(cause, jsonld.JsonLdError)]
    if not json_ld_errors:
        return MalformedInputError(f"JSON-LD processing failed: {error}", code="jsonld_invalid")
    innermost = json_ld_errors[-1]
    code = str(getattr(innermost, "code", None) or "")
    message = innermost.args[0] if innermost.args else str(innermost)
    details = f" ({code})" if code else ""
    if "context" in code or "context" in str(getattr(innermost, "type", "")).lower() or code in _CONTEXT_CODES:
        return ContextError(
            f"A JSON-LD context of this document is invalid: {message}{details}", code="context_invalid"
        )
    return MalformedInputError(f"The document is not valid JSON-LD: {message}{details}", code="jsonld_invalid")


_CONTEXT_CODES = frozenset(
    {
        "invalid term definition",
        "invalid IRI mapping",
        "protected term redefinition",
        "keyword redefinition",
        "cyclic IRI mapping",
        "invalid vocab mapping",
        "invalid base IRI",
        "invalid container mapping",
        "invalid type mapping",
        "invalid reverse property",
        "invalid default language",
        "invalid @version value",
        "invalid @import value",
        "invalid @propagate value",
        "invalid @protected value",
        "invalid scoped context",
        "processing mode conflict",
    }
)


# --- safe mode -----------------------------------------------------------------------------------


def _find_key(document: object, key: str) -> str | None:
    for path, _value in iter_json(document):
        if path and path[-1] == key:
            return json_path(path)
    return None


def _find_value(document: object, text: str, keys: tuple[str, ...]) -> str | None:
    """The JSON path of ``text`` as the value of one of ``keys`` (else anywhere), for error messages."""
    fallback = None
    for path, value in iter_json(document):
        if value == text and path:
            parent = path[-2] if isinstance(path[-1], int) and len(path) > 1 else path[-1]
            if parent in keys:
                return json_path(path)
            fallback = fallback or json_path(path)
    return fallback


def _unrelative(value: str) -> str:
    """The reference as the document wrote it, before safe mode resolved it against the sentinel base."""
    if value.startswith(RELATIVE_BASE):
        return value[len(RELATIVE_BASE) :]
    if value.startswith(_RELATIVE_SCHEME):
        return value[len(_RELATIVE_SCHEME) :]
    return value


def _undefined(term: str, where: str | None, what: str) -> UndefinedTermError:
    located = f" (at {where})" if where else ""
    return UndefinedTermError(
        term,
        message=(
            f"{what} '{term}'{located} is not defined by any JSON-LD context of this document, so it would "
            "not be signed. Add a context that defines it, or remove it."
        ),
    )


def _relative(value: str, where: str | None, role: str) -> UndefinedTermError:
    located = f" (at {where})" if where else ""
    shown = _unrelative(value)
    return UndefinedTermError(
        shown,
        message=(
            f"The {role} '{shown}'{located} is a relative IRI reference; JSON-LD processors resolve it "
            "differently (or drop it), so it cannot be signed. Use an absolute IRI, or a term the "
            "contexts define."
        ),
    )


def _check_iri_value(value: object, role: str, document: dict) -> None:
    if not isinstance(value, str):
        return
    keys = ("id", "@id") if role == "id" else ("type", "@type")
    if value.startswith(UNDEFINED_VOCAB):
        term = value[len(UNDEFINED_VOCAB) :]
        raise _undefined(term, _find_value(document, term, keys), f"The {role}")
    if value.startswith("_:") or value in _JSONLD_KEYWORDS:
        return
    if value.startswith(_RELATIVE_SCHEME) or _ABSOLUTE_IRI.match(value) is None:
        raise _relative(value, _find_value(document, _unrelative(value), keys), role)


def _mask_sentinels(expanded: object, nonce: str) -> object:
    """A copy of the expanded document with every string holding a fast-path sentinel made harmless.

    A sentinel stands for a value of the real document; it resolves as a relative ``@id`` or under the
    vocabulary on purpose, so that the compiler can tell where it went. The safe-mode checks then judge
    the rest of the document (its structure) as usual.
    """
    if isinstance(expanded, list):
        return [_mask_sentinels(item, nonce) for item in expanded]
    if isinstance(expanded, dict):
        if "@value" in expanded:
            return expanded
        return {key: _mask_sentinels(value, nonce) for key, value in expanded.items()}
    if isinstance(expanded, str) and nonce in expanded:
        return "urn:insignia:sentinel"
    return expanded


def _check_expanded(expanded: object, document: dict) -> None:
    """Raise for the first sentinel or relative reference in pyld's expanded output."""
    stack = [expanded]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        is_value = "@value" in node
        for key, value in node.items():
            if key.startswith(UNDEFINED_VOCAB):
                term = key[len(UNDEFINED_VOCAB) :]
                raise _undefined(term, _find_key(document, term), "The property")
            if key.startswith(_RELATIVE_SCHEME) or (not key.startswith("@") and _ABSOLUTE_IRI.match(key) is None):
                raise _relative(key, None, "property")
            if key == "@type":
                for item in value if isinstance(value, list) else [value]:
                    _check_iri_value(item, "datatype" if is_value else "type", document)
            elif key == "@id":
                _check_iri_value(value, "id", document)
            elif key == "@direction":
                raise UndefinedTermError(
                    "@direction",
                    message="A base direction (@direction) is not carried into RDF, so it would not be signed.",
                )
            elif key != "@value":  # a JSON literal's content is data, not JSON-LD
                stack.append(value)


def _dropped_error(dropped: list[str | None], document: dict) -> UndefinedTermError:
    term = next((item for item in dropped if item), None)
    if term is not None:
        return _undefined(term, _find_key(document, term), "The property")
    nulled = {
        key
        for path, value in iter_json(document)
        if path and path[-1] == "@context"
        for context in (value if isinstance(value, list) else [value])
        if isinstance(context, dict)
        for key, definition in context.items()
        if definition is None or (isinstance(definition, dict) and "@id" in definition and definition["@id"] is None)
    }
    for path, _value in iter_json(document):
        key = path[-1] if path else None
        if isinstance(key, str) and key.startswith("@") and key not in _JSONLD_KEYWORDS:
            return _undefined(key, json_path(path), "The keyword-like key")
        if isinstance(key, str) and key in nulled and "@context" not in path:
            return UndefinedTermError(
                key,
                message=(
                    f"The property '{key}' (at {json_path(path)}) is mapped to null by a JSON-LD context of "
                    "this document, so it would not be signed. Remove it."
                ),
            )
    return UndefinedTermError(
        "(null)",
        message=(
            "A property of this document is mapped to null by its JSON-LD context, so it would not be "
            "signed. Remove it."
        ),
    )


# --- JSON-LD → quads -----------------------------------------------------------------------------

#: What pyld raises on input it cannot handle (an int too large for a float is an OverflowError).
_PYLD_FAILURES = (jsonld.JsonLdError, RecursionError, TypeError, ValueError, KeyError, AttributeError, OverflowError)


def _expand(document: dict, state: _LoaderState, safe: bool, nonce: str | None = None) -> list:
    dropped: list[str | None] = []
    options: dict[str, Any] = {
        "documentLoader": state.loader,
        "contextResolver": _resolver(state),
        "processingMode": "json-ld-1.1",
        "base": RELATIVE_BASE if safe else "",
    }
    if safe:
        options["expandContext"] = {"@vocab": UNDEFINED_VOCAB}
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    expanded = processor.expand(document, options)
    if safe:
        if dropped:
            raise _dropped_error(dropped, document)
        _check_expanded(expanded if nonce is None else _mask_sentinels(expanded, nonce), document)
    return expanded


def _check_node_map_work(expanded: list, limits: Limits) -> int:
    """Refuse expanded input whose conversion to RDF would be quadratic beyond ``limits``; return the work.

    pyld's node map checks each new value of a property against every value already there: k values
    of one property on one node (merged by ``@id`` across the document) cost k²/2 comparisons, about
    a microsecond each. 5,000 strings in one array take 15 s. We add up k²/2 before calling it.
    """
    counts: dict[tuple[str, str], int] = {}
    stack: list[object] = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict) or "@value" in item:
            continue
        node = item.get("@id")
        subject = node if isinstance(node, str) else f"#{id(item)}"
        for key, value in item.items():
            if key in ("@id", "@context", "@index", "@language", "@direction"):
                continue
            size = len(value) if isinstance(value, list) else 1
            counts[(subject, key)] = counts.get((subject, key), 0) + size
            stack.append(value)
    work = sum(count * count // 2 for count in counts.values())
    if work > limits.max_value_comparisons:
        (subject, key), count = max(counts.items(), key=lambda entry: entry[1])
        raise ResourceLimitError(
            f"The property {key} has {count} values on one node; converting this document to RDF would take "
            f"more than {limits.max_value_comparisons} value comparisons. No credential needs that many.",
            code="jsonld_work_exceeded",
        )
    return work


def _dataset(expanded: list, state: _LoaderState) -> dict:
    options = {
        "documentLoader": state.loader,
        "contextResolver": _resolver(state),
        "processingMode": "json-ld-1.1",
        "base": "",
    }
    return jsonld.JsonLdProcessor().to_rdf(expanded, options)


def _convert(dataset: dict, limits: Limits) -> list[Quad]:
    """pyld's dataset dict as our quads; every IRI checked so no N-Quads line can be forged."""
    iris: dict[str, IRI] = {}
    blanks: dict[str, BlankNode] = {}

    def iri(value: str) -> IRI:
        term = iris.get(value)
        if term is None:
            term = iris[value] = IRI(check_iri(value))
        return term

    def node(value: dict) -> IRI | BlankNode:
        text = value["value"]
        if value["type"] == "blank node":
            term = blanks.get(text)
            if term is None:
                term = blanks[text] = BlankNode(text[2:])
            return term
        return iri(text)

    quads: list[Quad] = []
    for graph_name, triples in dataset.items():
        graph = None if graph_name == "@default" else node(
            {"type": "blank node" if graph_name.startswith("_:") else "IRI", "value": graph_name}
        )
        if len(quads) + len(triples) > limits.max_quads:
            raise ResourceLimitError(
                f"The document yields more than {limits.max_quads} RDF statements.", code="too_many_quads"
            )
        for triple in triples:
            obj = triple["object"]
            if obj["type"] == "literal":
                language = obj.get("language")
                if language:
                    term: IRI | BlankNode | Literal = Literal(obj["value"], RDF_LANG_STRING, language)
                else:
                    term = Literal(obj["value"], iri(obj.get("datatype") or XSD_STRING).value)
            else:
                term = node(obj)
            quads.append(Quad(node(triple["subject"]), iri(triple["predicate"]["value"]), term, graph))
    if len(blanks) > limits.max_blank_nodes:
        raise ResourceLimitError(
            f"The document yields more than {limits.max_blank_nodes} blank nodes.", code="too_many_blank_nodes"
        )
    return quads


def to_quads(
    document: dict,
    *,
    loader: ContextLoader | None = None,
    safe: bool = True,
    limits: Limits | None = None,
) -> list[Quad]:
    """The RDF quads a JSON-LD document denotes (JSON-LD 1.1 expansion + toRdf, via pyld).

    In safe mode, raise ``UndefinedTermError`` rather than let a property or type vanish.
    """
    limits = limits or DEFAULT_LIMITS
    if not isinstance(document, dict):
        raise MalformedInputError("A JSON-LD document to canonicalise must be a JSON object.", code="invalid_json")
    return _reference_quads(document, _state(loader or default_loader()), limits, safe)[0]


def _sentinel_quads(document: dict, state: _LoaderState, limits: Limits, nonce: str) -> tuple[list[Quad], int]:
    """The reference path on a fast-path probe document: its quads and node-map work (for ``fastpath``)."""
    return _reference_quads(document, state, limits, True, nonce)


def _reference_quads(document: dict, state: _LoaderState, limits: Limits, safe: bool,
                     nonce: str | None = None) -> tuple[list[Quad], int]:
    """Expansion and toRdf through pyld, bounded and with its errors translated: the quads and node-map work."""
    check_json(document, limits)
    token = _meter.set(_Meter(limits.max_context_terms))
    try:
        expanded = _expand(document, state, safe, nonce)
        work = _check_node_map_work(expanded, limits)
        dataset = _dataset(expanded, state)
    except CredentialError:
        raise
    except _PYLD_FAILURES as error:
        raise _translate(error) from error
    finally:
        _meter.reset(token)
    return _convert(dataset, limits), work


def canonize_quads(quads: list[Quad], *, limits: Limits | None = None) -> str:
    """Canonical N-Quads (RDFC-1.0, SHA-256) of a dataset."""
    limits = limits or DEFAULT_LIMITS
    return canonicalize(
        quads, max_ndegree_calls=limits.max_ndegree_calls, max_permutations=limits.max_permutations
    ).nquads


def canonize(
    document: dict,
    *,
    loader: ContextLoader | None = None,
    safe: bool = True,
    limits: Limits | None = None,
) -> str:
    """Canonical N-Quads (RDFC-1.0) of a JSON-LD document: what eddsa-rdfc-2022 hashes and signs.

    Safe mode tries the fast path first (same bytes; see ``fastpath``), then the reference path.
    """
    if safe and type(document) is dict:
        result = fastpath.canonical(document, _state(loader or default_loader()), limits or DEFAULT_LIMITS)
        if result is not None:
            return result[0]
    return reference_canonize(document, loader=loader, safe=safe, limits=limits)


def canonical_digest(
    document: dict,
    *,
    loader: ContextLoader | None = None,
    safe: bool = True,
    limits: Limits | None = None,
) -> bytes:
    """SHA-256 of the UTF-8 canonical N-Quads of ``document`` (what a Data Integrity proof hashes)."""
    if safe and type(document) is dict:
        result = fastpath.canonical(document, _state(loader or default_loader()), limits or DEFAULT_LIMITS)
        if result is not None:
            return hashlib.sha256(result[1]).digest()
    text = reference_canonize(document, loader=loader, safe=safe, limits=limits)
    return hashlib.sha256(text.encode("utf-8")).digest()


def reference_canonize(
    document: dict,
    *,
    loader: ContextLoader | None = None,
    safe: bool = True,
    limits: Limits | None = None,
) -> str:
    """``canonize`` by the reference path alone (pyld + our RDFC-1.0): what the fast path must equal."""
    return canonize_quads(to_quads(document, loader=loader, safe=safe, limits=limits), limits=limits)


__all__ = [
    "RELATIVE_BASE",
    "UNDEFINED_VOCAB",
    "Limits",
    "canonical_digest",
    "canonize",
    "canonize_quads",
    "reference_canonize",
    "to_quads",
]
