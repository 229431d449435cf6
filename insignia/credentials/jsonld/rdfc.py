"""RDF Dataset Canonicalization, RDFC-1.0 (W3C Recommendation; formerly URDNA2015).

Written from the W3C specification text (https://www.w3.org/TR/rdf-canon/), section numbers below
refer to it. The algorithm relabels blank nodes deterministically so that isomorphic datasets give
the same canonical N-Quads, which is what a Data Integrity signature covers.

Hash N-Degree Quads is exponential on some graphs ("poison" graphs, §7 security considerations);
an attacker only has to submit one to a verifier. Every call and every permutation is counted
against a budget and the work stops with ``CanonicalizationError(code="canonicalization_work_exceeded")``.

Internally each quad is a tuple of four strings: the canonical N-Quads form of its subject, predicate,
object and graph name ("" for the default graph). Blank nodes are kept as ``_:label`` — no other
serialised term starts with ``_`` — so a first-degree line is built by plain string substitution.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any

from insignia.credentials.errors import CanonicalizationError
from insignia.credentials.jsonld.rdf import Quad, serialize_term

#: Hash N-Degree Quads calls allowed per canonicalisation. A credential with a handful of look-alike
#: blank nodes needs tens; the W3C suite's hardest accepted graphs need a few hundred and its
#: 10-node clique (which must be refused) needs millions.
DEFAULT_MAX_NDEGREE_CALLS = 2_000
#: Permutations of related blank nodes tried, summed over all calls.
DEFAULT_MAX_PERMUTATIONS = 20_000

_HASHES: dict[str, Callable[[bytes], Any]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}

_InternalQuad = tuple[str, str, str, str]


def _hash_name(name: str) -> str:
    key = name.lower().replace("-", "").replace("_", "")
    if key not in _HASHES:
        raise CanonicalizationError(
            f"Unsupported RDFC-1.0 hash algorithm {name!r}; use 'sha256' (the default) or 'sha384'.",
            code="canonicalization_hash_unsupported",
        )
    return key


class _Issuer:
    """An identifier issuer (§4.5): hands out ``prefix + counter`` once per blank node, in order."""

    __slots__ = ("issued", "prefix")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = issued if issued is not None else {}

    def issue(self, existing: str) -> str:
        identifier = self.issued.get(existing)
        if identifier is None:
            identifier = f"{self.prefix}{len(self.issued)}"
            self.issued[existing] = identifier
        return identifier

    def copy(self) -> _Issuer:
        return _Issuer(self.prefix, dict(self.issued))


@dataclass(frozen=True, slots=True)
class CanonicalForm:
    """The canonical N-Quads and the issued identifiers map (input blank node label → ``c14nN``)."""

    nquads: str
    issued: dict[str, str] = field(default_factory=dict)


class _Canonicalizer:
    """The canonicalization state (§4.4.1) of one run."""

    def __init__(self, quads: list[_InternalQuad], hash_name: str, max_calls: int, max_permutations: int) -> None:
        self.quads = quads
        self.hasher = _HASHES[hash_name]
        self.max_calls = max_calls
        self.max_permutations = max_permutations
        self.calls = 0
        self.permutations = 0
        self.canonical = _Issuer("c14n")
        self.by_node: dict[str, list[_InternalQuad]] = {}
        self.first_degree: dict[str, str] = {}
        self.related_hashes: dict[str, str] = {}

    def hash(self, text: str) -> str:
        return self.hasher(text.encode("utf-8")).hexdigest()

    # §4.6 Hash First Degree Quads
    def hash_first_degree(self, node: str) -> str:
        lines = []
        for s, p, o, g in self.by_node[node]:
            if s[0] == "_":
                s = "_:a" if s == node else "_:z"
            if o[0] == "_":
                o = "_:a" if o == node else "_:z"
            if g:
                if g[0] == "_":
                    g = "_:a" if g == node else "_:z"
                lines.append(f"{s} {p} {o} {g} .\n")
            else:
                lines.append(f"{s} {p} {o} .\n")
        lines.sort()
        return self.hash("".join(lines))

    # §4.7 Hash Related Blank Node
    def hash_related(self, related: str, predicate: str, issuer: _Issuer, position: str) -> str:
        identifier = self.canonical.issued.get(related) or issuer.issued.get(related)
        identifier = f"_:{identifier}" if identifier is not None else self.first_degree[related]
        text = f"{position}{predicate}{identifier}" if position != "g" else f"g{identifier}"
        cached = self.related_hashes.get(text)
        if cached is None:
            cached = self.related_hashes[text] = self.hash(text)
        return cached

    def _charge_permutations(self, count: int) -> None:
        self.permutations += count
        if self.permutations > self.max_permutations:
            raise CanonicalizationError(
                f"RDF canonicalisation stopped: the blank nodes of this document need more than "
                f"{self.max_permutations} permutations to tell apart. Real credentials need a handful; "
                "this looks like a 'poison' graph built to exhaust the verifier.",
                code="canonicalization_work_exceeded",
            )

    # §4.8 Hash N-Degree Quads
    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        self.calls += 1
        if self.calls > self.max_calls:
            raise CanonicalizationError(
                f"RDF canonicalisation stopped after {self.max_calls} Hash N-Degree Quads steps: the blank "
                "nodes of this document are too alike to be told apart cheaply. Real credentials need a "
                "few; this looks like a 'poison' graph built to exhaust the verifier.",
                code="canonicalization_work_exceeded",
            )
        groups: dict[str, list[str]] = {}
        for s, p, o, g in self.by_node[node]:
            if s[0] == "_" and s != node:
                groups.setdefault(self.hash_related(s, p, issuer, "s"), []).append(s)
            if o[0] == "_" and o != node:
                groups.setdefault(self.hash_related(o, p, issuer, "o"), []).append(o)
            if g and g[0] == "_" and g != node:
                groups.setdefault(self.hash_related(g, p, issuer, "g"), []).append(g)

        data: list[str] = []
        canonical = self.canonical.issued
        for related_hash in sorted(groups):
            data.append(related_hash)
            nodes = groups[related_hash]
            self._charge_permutations(math.factorial(len(nodes)) if len(nodes) <= 12 else self.max_permutations + 1)
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in permutations(nodes):
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skipped = False
                for related in permutation:
                    identifier = canonical.get(related)
                    if identifier is None:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        identifier = issuer_copy.issue(related)
                    path += f"_:{identifier}"
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skipped = True
                        break
                if skipped:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += f"_:{issuer_copy.issue(related)}<{result_hash}>"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skipped = True
                        break
                if skipped:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data.append(chosen_path)
            assert chosen_issuer is not None  # the first permutation is never skipped
            issuer = chosen_issuer
        return self.hash("".join(data)), issuer

    # §4.4.3 the canonicalization algorithm
    def run(self) -> CanonicalForm:
        for quad in self.quads:
            for component in (quad[0], quad[2], quad[3]):
                if component and component[0] == "_":
                    bucket = self.by_node.setdefault(component, [])
                    if not bucket or bucket[-1] is not quad:  # a node twice in one quad counts once
                        bucket.append(quad)

        by_hash: dict[str, list[str]] = {}
        for node in self.by_node:
            digest = self.first_degree[node] = self.hash_first_degree(node)
            by_hash.setdefault(digest, []).append(node)

        shared: list[tuple[str, list[str]]] = []
        for digest in sorted(by_hash):
            nodes = by_hash[digest]
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
            else:
                shared.append((digest, nodes))

        try:
            for _digest, nodes in shared:
                results = []
                for node in nodes:
                    if node in self.canonical.issued:
                        continue
                    temporary = _Issuer("b")
                    temporary.issue(node)
                    results.append(self.hash_n_degree(node, temporary))
                results.sort(key=lambda result: result[0])
                for _hash, issuer in results:
                    for existing in issuer.issued:
                        self.canonical.issue(existing)
        except RecursionError:
            raise CanonicalizationError(
                "RDF canonicalisation stopped: the blank nodes of this document are nested too deeply "
                "to be told apart.",
                code="canonicalization_work_exceeded",
            ) from None

        canonical = self.canonical.issued
        lines = []
        for s, p, o, g in self.quads:
            if s[0] == "_":
                s = f"_:{canonical[s]}"
            if o[0] == "_":
                o = f"_:{canonical[o]}"
            if g:
                if g[0] == "_":
                    g = f"_:{canonical[g]}"
                lines.append(f"{s} {p} {o} {g} .\n")
            else:
                lines.append(f"{s} {p} {o} .\n")
        lines.sort()
        return CanonicalForm("".join(lines), {node[2:]: label for node, label in canonical.items()})


def _internal(quads: Iterable[Quad]) -> list[_InternalQuad]:
    """Deduplicated quads (a dataset is a set) as serialised-term tuples, in first-seen order."""
    cache: dict[object, str] = {}

    def term(value: object) -> str:
        text = cache.get(value)
        if text is None:
            text = cache[value] = serialize_term(value)  # type: ignore[arg-type]
        return text

    seen: dict[_InternalQuad, None] = {}
    for quad in quads:
        graph = quad.graph
        graph_text = "" if graph is None else term(graph)
        seen.setdefault((term(quad.subject), term(quad.predicate), term(quad.object), graph_text))
    return list(seen)


def canonicalize(
    quads: Iterable[Quad],
    *,
    hash_algorithm: str = "sha256",
    max_ndegree_calls: int = DEFAULT_MAX_NDEGREE_CALLS,
    max_permutations: int = DEFAULT_MAX_PERMUTATIONS,
) -> CanonicalForm:
    """RDFC-1.0 of a dataset: canonical N-Quads (sorted lines, each ending in LF) and the issued map.

    ``hash_algorithm`` is ``"sha256"`` (the default, and what eddsa-rdfc-2022 uses) or ``"sha384"``.
    """
    hash_name = _hash_name(hash_algorithm)
    return _Canonicalizer(_internal(quads), hash_name, max_ndegree_calls, max_permutations).run()


def canonical_nquads(quads: Iterable[Quad], **options: object) -> str:
    """Just the canonical N-Quads string of :func:`canonicalize`."""
    return canonicalize(quads, **options).nquads  # type: ignore[arg-type]


__all__ = [
    "DEFAULT_MAX_NDEGREE_CALLS",
    "DEFAULT_MAX_PERMUTATIONS",
    "CanonicalForm",
    "canonical_nquads",
    "canonicalize",
]
