"""The fast path behind ``canonize``: a compiled template of the canonical N-Quads per document *shape*.

Credentials of one badge class differ only in their string leaves (recipient, ids, dates, evidence);
the JSON-LD work (context processing, expansion, toRdf) is the same for all of them. So we do it once
per shape and keep the result as a template.

**Shape.** A document's shape is its JSON structure (keys in order, nesting, array lengths) plus every
value that can change how JSON-LD reads the rest: ``@context``, ``type``/``@type``, any other
``@``-keyword's value, numbers, booleans and nulls. String leaves are abstracted to *slots*.

**Compiling** a shape runs the reference path (pyld, safe mode) once, on a copy of the document whose
slots hold distinctive sentinels (``zq<random nonce>s<i>e``: no colon, so an ``@id`` leaf resolves
against the sentinel base and a ``@vocab`` leaf against the vocabulary, and each shows which it is).
Every sentinel must come out whole, in a place we understand:

* the whole lexical form of exactly one literal (its datatype or language fixed by the context): a
  *literal slot*, escaped at render time exactly as ``rdf.escape_literal`` does;
* the whole of ``RELATIVE_BASE + sentinel``, as many IRIs as the node is referenced: an *id slot*,
  substituted verbatim at render time once the real value is checked to be an absolute IRI that
  JSON-LD would leave alone (no compact IRI of a defined term, no blank node id, no whitespace);
* ``<some vocabulary> + sentinel``: a *vocab slot* (``@type: @vocab`` terms such as ``proofPurpose``).
  Its real value selects a term, so the shape is compiled again per distinct vocab-slot values with
  those values in place.

A sentinel that is missing, found twice as a literal, inside a JSON literal, a language tag, a
datatype or a predicate, or in two roles, makes the shape uncompilable: it goes to the reference
path from then on (the refusal is cached too).

**Rendering** a document of a compiled shape substitutes its slot values into per-line f-strings
(generated once per template; they hold indices only, never document text), computes the RDFC-1.0
first-degree hash of each blank node whose quads hold a slot (the others are constant), gives the
``c14n`` labels in hash order, sorts and joins the lines. Anything the renderer is not sure of sends
the document to the reference path: a value that is not a plain absolute IRI in an id slot, a lone
surrogate, a limit the shape exceeds. Two blank nodes with the same first-degree hash run the full
RDFC-1.0 (``rdfc.canonicalize``) on the rendered quads instead.

**Merged nodes and equal quads.** Node objects with one ``@id`` (an issuer repeated as an
achievement's creator) are merged in JSON-LD's node map, values added without duplicates; lists are
never merged and blank nodes never share a label. So the dataset is the set union of the quads each
node object gives on its own, and RDFC-1.0 works on that set (``rdfc`` deduplicates its input too):
rendering every template line and dropping the repeats, *before* the blank nodes are hashed (a
repeated quad of a blank node would otherwise count twice), gives the reference's bytes. What the
merge treats otherwise stays with the reference path: ``@index`` on merged node objects (pyld
refuses it), and a merged node whose values could exceed the node-map work limit, which counts the
merged node's values together.

The cache of shapes is an LRU bounded by entry count and by an estimate of its size in bytes, one per
context loader (a template is only as good as the contexts it was compiled with).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from insignia.credentials.errors import CredentialError
from insignia.credentials.jsonld.limits import Limits
from insignia.credentials.jsonld.rdf import Quad, parse_nquads, serialize_term
from insignia.credentials.jsonld.rdfc import canonicalize

if TYPE_CHECKING:
    from insignia.credentials.jsonld.canonize import _LoaderState

_sha256 = hashlib.sha256

#: Switch the fast path off (tests and benchmarks measure the reference path through the same calls).
ENABLED = True

#: Keys whose value is part of the shape, never a slot: ``type`` (usually ``@type``) and every
#: JSON-LD keyword except those whose values are node content (``@id``/``@value`` strings are slots).
_STRUCTURAL = frozenset(
    {
        "type", "@context", "@type", "@language", "@direction", "@index", "@base", "@vocab", "@version",
        "@container", "@json", "@none", "@prefix", "@propagate", "@protected", "@import",
    }
)
#: Deeper than ``Limits.max_depth`` is never compiled; the reference path says why.
_MAX_WALK_DEPTH = 64
#: Larger documents are not templated (no credential is near these); the reference path judges them.
_MAX_MEMBERS = 10_000
_MAX_TOKENS = 100_000
#: Templates with at most this many slots remember up to ``_MEMO_SIZE`` rendered results.
_MEMO_SLOTS = 8
_MEMO_SIZE = 256
#: Templates above this many quads are not compiled (the generated code would be huge).
MAX_TEMPLATE_QUADS = 5_000

# Shape-key tokens. A dict is the tuple of its keys (strings only); every other tuple starts with a
# type object, and the singletons below stand for one value each, so the token stream is unambiguous.
_TRUE = ("bool", True)
_FALSE = ("bool", False)
_NULL = ("null",)


class _Bail(Exception):
    """The document is not for the fast path (the reference path decides what it is)."""


class _Seen:
    """Cached for a shape seen once: the reference path served it; the next document compiles it."""

    __slots__ = ()


_SEEN = _Seen()


class _Refused:
    """Cached for a shape that cannot be compiled; ``reason`` is for tests and debugging."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"<refused: {self.reason}>"


# --- shape walk ------------------------------------------------------------------------------------


def _frozen(value: object) -> object:
    """A structural value as a hashable token (strings as themselves)."""
    if type(value) is str:
        return value
    if type(value) is list and all(type(item) is str for item in value):
        return (list, *value)
    try:
        return (dict, json.dumps(value, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError, RecursionError):  # not JSON, or nested past any limit: the reference decides
        raise _Bail from None


def _scalar(value: object, kadd: Callable) -> None:
    kind = type(value)
    if kind is bool:
        kadd(_TRUE if value else _FALSE)
    elif kind is int:
        kadd((int, value))
    elif value is None:
        kadd(_NULL)
    elif kind is float and math.isfinite(value):  # type: ignore[arg-type]
        kadd((float, repr(value)))
    else:
        raise _Bail


def _walk_list(items: list, kadd: Callable, vadd: Callable, depth: int) -> None:
    if depth > _MAX_WALK_DEPTH or len(items) > _MAX_MEMBERS:
        raise _Bail
    kadd(len(items))
    for item in items:
        kind = type(item)
        if kind is str:
            kadd(None)
            vadd(item)
        elif kind is dict:
            _walk(item, kadd, vadd, depth + 1)
        elif kind is list:
            _walk_list(item, kadd, vadd, depth + 1)
        else:
            _scalar(item, kadd)


def _walk(node: dict, kadd: Callable, vadd: Callable, depth: int) -> None:
    if depth > _MAX_WALK_DEPTH or len(node) > _MAX_MEMBERS:
        raise _Bail
    kadd(tuple(node))
    for name, value in node.items():
        kind = type(value)
        if kind is str:
            if name in _STRUCTURAL:
                kadd(value)
            else:
                kadd(None)
                vadd(value)
        elif name in _STRUCTURAL:
            kadd(_frozen(value))
        elif kind is dict:
            _walk(value, kadd, vadd, depth + 1)
        elif kind is list:
            _walk_list(value, kadd, vadd, depth + 1)
        else:
            _scalar(value, kadd)


def shape_of(document: dict) -> tuple[tuple, list[str]]:
    """The shape key of ``document`` and its slot values in walk order; raises ``_Bail`` if not plain JSON."""
    key: list = []
    values: list[str] = []
    _walk(document, key.append, values.append, 1)
    if len(key) > _MAX_TOKENS:
        raise _Bail
    return tuple(key), values


def _substitute_list(items: list, replacements: Iterator[str]) -> list:
    out: list = []
    for item in items:
        kind = type(item)
        if kind is str:
            out.append(next(replacements))
        elif kind is dict:
            out.append(_substitute(item, replacements))
        elif kind is list:
            out.append(_substitute_list(item, replacements))
        else:
            out.append(item)
    return out


def _substitute(node: dict, replacements: Iterator[str]) -> dict:
    """A copy of ``node`` with its slots, in walk order, replaced (mirrors ``_walk``)."""
    out: dict = {}
    for name, value in node.items():
        kind = type(value)
        if name in _STRUCTURAL:
            out[name] = value
        elif kind is str:
            out[name] = next(replacements)
        elif kind is dict:
            out[name] = _substitute(value, replacements)
        elif kind is list:
            out[name] = _substitute_list(value, replacements)
        else:
            out[name] = value
    return out


def substitute(document: dict, values: list[str]) -> dict:
    """``document`` with its slot values replaced by ``values`` (same order as ``shape_of`` gives them)."""
    replacements = iter(values)
    out = _substitute(document, replacements)
    if next(replacements, None) is not None:
        raise ValueError("more values than slots")
    return out


def _json_stats(document: object) -> tuple[int, int, int]:
    """(values, depth, characters) as ``limits.check_json`` counts them."""
    values = chars = depth_max = 0
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        values += 1
        if isinstance(value, str):
            chars += len(value)
        elif isinstance(value, dict):
            depth_max = max(depth_max, depth)
            values += len(value)
            chars += sum(len(key) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            depth_max = max(depth_max, depth)
            stack.extend((item, depth + 1) for item in value)
    return values, depth_max, chars


# --- terms a context defines (for the id-slot check) ----------------------------------------------


def _collect_terms(value: object, state: _LoaderState, terms: set[str], seen: set[str], budget: list[int]) -> None:
    """Every key of every object in ``value`` and the contexts it references: a superset of its terms."""
    stack = [value]
    while stack:
        item = stack.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise _Bail
        if isinstance(item, str):
            if item not in seen:
                seen.add(item)
                try:
                    stack.append(state.loader(item)["document"])
                except Exception:  # an unloadable reference: compile will fail on it anyway
                    raise _Bail from None
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, member in item.items():
                terms.add(key)
                if member == "@index" or (isinstance(member, list) and "@index" in member):
                    terms.add("@index")  # an index container or an alias of @index: merging may refuse it
                if key in ("@context", "@import") or isinstance(member, dict | list):
                    stack.append(member)


def _contexts_in(document: object) -> Iterator[object]:
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "@context":
                    yield value
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def defined_terms(document: dict, state: _LoaderState) -> frozenset[str]:
    """The keys of all context objects the document's ``@context`` values reach (URLs loaded).

    It holds ``"@index"`` too if a context mentions ``@index`` (a container or an alias).
    """
    contexts = list(_contexts_in(document))
    try:
        key = json.dumps(contexts, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        raise _Bail from None
    known: dict[str, frozenset[str]] = state.shapes.terms
    found = known.get(key)
    if found is None:
        terms: set[str] = set()
        seen: set[str] = set()
        budget = [1_000_000]
        for context in contexts:
            _collect_terms(context, state, terms, seen, budget)
        found = frozenset(terms)
        if len(known) >= 64:
            known.clear()
        known[key] = found
    return found


# --- the template ----------------------------------------------------------------------------------

_IRI_OK = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):([^\x00-\x20<>\"{}|^`\\\s]*)\Z")
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\x7f]')
_ECHAR = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
_ESCAPES: dict[int, str] = {code: _ECHAR.get(code, f"\\u{code:04X}") for code in [*range(0x20), 0x22, 0x5C, 0x7F]}
_LABELS = [f"_:c14n{index}" for index in range(1024)]
#: value → its scheme if a JSON-LD processor could read it as a compact IRI, "" if it never can
#: (``scheme://…``), False if it is not a plain absolute IRI. Memoised: most ids repeat in a batch.
_IRI_SCHEMES: dict[str, str | bool] = {}


def _iri_scheme(value: str) -> str | bool:
    match = _IRI_OK.match(value)
    verdict: str | bool = False if match is None else "" if match.group(2).startswith("//") else match.group(1)
    if len(_IRI_SCHEMES) >= 8_192:
        _IRI_SCHEMES.clear()
    _IRI_SCHEMES[value] = verdict
    return verdict

_CODEGEN_LOCK = threading.Lock()
#: A piece of a line: constant text, a slot value ("v", i) or a blank node label ("b", k).
_Piece = str | tuple[str, int]


def _merge(pieces: list[_Piece]) -> list[_Piece]:
    merged: list[_Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and merged and isinstance(merged[-1], str):
            merged[-1] += piece
        elif piece != "":
            merged.append(piece)
    return merged


def _interpreter(lines: list[list[_Piece]]) -> Callable[..., list[str]]:
    """The same function as ``_codegen`` gives, without compiling anything: for a shape's first use."""
    frozen = [tuple(_merge(pieces)) for pieces in lines]

    def build(v: list[str], b: list[str] | None = None) -> list[str]:
        sources = {"v": v, "b": b or []}
        return [
            "".join([piece if type(piece) is str else sources[piece[0]][piece[1]] for piece in pieces])  # type: ignore[index]
            for pieces in frozen
        ]

    return build


def _codegen(lines: list[list[_Piece]], arguments: str) -> Callable[..., list[str]]:
    """A function returning the lines as a list, each built by one f-string of ``c[i]``/``v[i]``/``b[k]``.

    The generated source holds indices only: the constant text travels in the tuple ``c``.
    """
    constants: list[str] = []
    index: dict[str, int] = {}

    def const(text: str) -> str:
        position = index.get(text)
        if position is None:
            position = index[text] = len(constants)
            constants.append(text)
        return f"c[{position}]"

    expressions = []
    for pieces in lines:
        merged = _merge(pieces)
        if len(merged) == 1 and isinstance(merged[0], str):
            expressions.append(const(merged[0]))
            continue
        parts = []
        for piece in merged:
            if isinstance(piece, str):
                parts.append("{" + const(piece) + "}")
            else:
                parts.append("{" + f"{piece[0]}[{piece[1]}]" + "}")
        expressions.append('f"' + "".join(parts) + '"')
    source = f"def build({arguments}, c=c):\n    return [\n        " + ",\n        ".join(expressions) + "\n    ]\n"
    namespace: dict[str, Any] = {"c": tuple(constants)}
    exec(compile(source, "<insignia fast-path template>", "exec"), namespace)  # noqa: S102 - indices only
    return namespace["build"]  # type: ignore[no-any-return]


@dataclass(slots=True)
class Stats:
    """What the limits bound, for this shape (characters: all but the slot values)."""

    json_values: int
    depth: int
    chars: int
    quads: int
    blank_nodes: int
    work: int

    def fits(self, limits: Limits) -> bool:
        return (
            self.json_values <= limits.max_values
            and self.depth <= limits.max_depth
            and self.quads <= limits.max_quads
            and self.blank_nodes <= limits.max_blank_nodes
            and self.work <= limits.max_value_comparisons
        )


class Template:
    """The canonical N-Quads of one shape (with its vocab-slot values fixed), ready to render."""

    __slots__ = (
        "_fits", "_lines", "_memo", "_node_lines", "_uses", "blank_labels", "build", "const_hashes", "dup_pairs",
        "id_slots", "index_sensitive", "literal_slots", "merge_work", "n_blank",
        "n_slots", "node_builders", "node_index", "size", "stats", "subject_slots", "terms",
    )

    def __init__(
        self,
        *,
        n_slots: int,
        literal_slots: tuple[int, ...],
        id_slots: tuple[int, ...],
        subject_slots: tuple[int, ...],
        lines: list[list[_Piece]],
        blank_labels: list[str],
        node_lines: list[list[list[_Piece]]],
        dup_pairs: tuple[tuple[int, int], ...] | None,
        terms: frozenset[str],
        stats: Stats,
        node_index: list[list[int]] | None = None,
        index_sensitive: bool = True,
    ) -> None:
        self.n_slots = n_slots
        self.literal_slots = literal_slots
        self.id_slots = id_slots
        self.subject_slots = subject_slots
        self.blank_labels = blank_labels
        self.n_blank = len(blank_labels)
        self.dup_pairs = dup_pairs
        self.terms = terms
        self.stats = stats
        #: ``@index`` may occur on a node object: merged nodes go to the reference path (pyld refuses them).
        self.index_sensitive = index_sensitive
        #: A bound on the node-map work once nodes merge: k node objects of one ``@id`` with c_i values of a
        #: property cost (sum c_i)^2/2 <= k * sum c_i^2/2, and k is at most the number of id slots.
        self.merge_work = max(1, len(id_slots)) * (stats.work + stats.json_values)
        #: For each blank node with slots: the index, among all lines, of each of its lines (to drop repeats).
        self.node_index: dict[int, tuple[int, ...]] = {}
        self._fits: Limits | None = None
        #: Small documents (a proof configuration) repeat whole within a batch: remember their results.
        self._memo: dict[tuple[str, ...], tuple[str, bytes]] | None = {} if n_slots <= _MEMO_SLOTS else None
        self._lines: list[list[_Piece]] | None = lines
        self._node_lines: list[tuple[int, list[list[_Piece]]]] = []
        self._uses = 0
        self.build = _interpreter(lines)
        const_hashes: list[bytes | None] = []
        builders: list[tuple[int, Callable[..., list[str]]]] = []
        for node, pieces in enumerate(node_lines):
            if self.n_blank > 1 and any(not isinstance(piece, str) for line in pieces for piece in line):
                const_hashes.append(None)
                builders.append((node, _interpreter(pieces)))
                self._node_lines.append((node, pieces))
                if node_index is None:
                    raise ValueError("a template with blank nodes needs node_index")
                self.node_index[node] = tuple(node_index[node])
            else:
                text = sorted("".join(piece for piece in line if isinstance(piece, str)) for line in pieces)
                const_hashes.append(_sha256("".join(text).encode("utf-8")).digest())
        self.const_hashes = const_hashes
        self.node_builders = tuple(builders)
        self.size = 2_000 + sum(
            200 + sum(len(piece) if isinstance(piece, str) else 8 for piece in line) for line in lines
        ) * (1 + (len(builders) > 0))

    def _compile_code(self) -> None:
        """Replace the interpreters by generated code: worth it from a shape's second use on.

        Under a lock, once: another thread may be rendering with the interpreters meanwhile, which
        give the same lines, so either pair of functions is right at any moment.
        """
        with _CODEGEN_LOCK:
            if self._lines is None:
                return
            node_builders = tuple((node, _codegen(pieces, "v")) for node, pieces in self._node_lines)
            self.node_builders = node_builders
            self.build = _codegen(self._lines, "v, b")
            self._lines = None
            self._node_lines = []

    def fits(self, limits: Limits, values: list[str]) -> bool:
        """The reference path would not refuse this document for a limit."""
        if self._fits is not limits:
            if not self.stats.fits(limits):
                return False
            self._fits = limits
        return self.stats.chars + sum(map(len, values)) <= limits.max_string_chars

    def render(self, values: list[str], limits: Limits) -> tuple[str, bytes] | None:
        """Canonical N-Quads (text and UTF-8) of the document whose slot values are ``values``; None to fall back.

        ``values`` is consumed (literal slots are escaped in place).
        """
        if len(values) != self.n_slots or not self.fits(limits, values):
            return None
        if self._uses < 2:
            self._uses += 1
            if self._uses == 2:
                self._compile_code()
        memo = self._memo
        if memo is not None:
            remembered = memo.get(tuple(values))
            if remembered is not None:
                return remembered
            result = self._render(values, limits)
            if result is not None:
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                memo[tuple(values)] = result
            return result
        return self._render(values, limits)

    def _render(self, values: list[str], limits: Limits, repeats: set[int] | None = None) -> tuple[str, bytes] | None:
        """``repeats``: indices of the lines that repeat an earlier one, if known (else found when needed)."""
        given = values
        values = list(values)
        terms = self.terms
        ids = self.id_slots
        for slot in ids:
            value = values[slot]
            scheme = _IRI_SCHEMES.get(value)
            if scheme is None:
                scheme = _iri_scheme(value)
            if scheme is False or value in terms or scheme in terms:
                return None
        merged = len(ids) > 1 and len({values[slot] for slot in ids}) != len(ids)
        if merged and (self.index_sensitive or self.merge_work > limits.max_value_comparisons):
            return None  # JSON-LD merges nodes of one @id: pyld may refuse @index there, or count more work
        if _NEEDS_ESCAPE.search("".join(values)) is not None:  # id values never match: checked above
            search = _NEEDS_ESCAPE.search
            for slot in self.literal_slots:
                value = values[slot]
                if search(value) is not None:
                    values[slot] = value.translate(_ESCAPES)
        try:
            if merged and repeats is None:
                repeats = self._repeats(values)
            labels: list[str] = self.blank_labels
            n_blank = self.n_blank
            if n_blank > 1:
                hashes = self.const_hashes.copy()
                for node, builder in self.node_builders:
                    node_lines = builder(values)
                    if repeats:
                        node_lines = [
                            line
                            for line, index in zip(node_lines, self.node_index[node], strict=True)
                            if index not in repeats
                        ]
                    node_lines.sort()
                    hashes[node] = _sha256("".join(node_lines).encode("utf-8")).digest()
                if len(set(hashes)) != n_blank:
                    return self._full_rdfc(values, limits)
                order = sorted(range(n_blank), key=hashes.__getitem__)  # type: ignore[arg-type]
                labels = [""] * n_blank
                for position, node in enumerate(order):
                    labels[node] = _LABELS[position]
            elif n_blank == 1:
                labels = _LABELS
            lines = self.build(values, labels)
            if repeats is None:
                if self.dup_pairs is None:
                    equal = len(set(lines)) != len(lines)
                else:
                    equal = any(lines[first] == lines[second] for first, second in self.dup_pairs)
                if equal:  # the dataset is a set: drop the repeats and hash again without them
                    return self._render(given, limits, self._repeats(values))
            elif repeats:
                lines = [line for index, line in enumerate(lines) if index not in repeats]
            lines.sort()
            text = "".join(lines)
            return text, text.encode("utf-8")
        except UnicodeEncodeError:
            return None  # a lone surrogate: the reference path refuses it with its own message

    def _repeats(self, values: list[str]) -> set[int]:
        """Indices of the lines equal to an earlier line, rendered with distinct blank node labels."""
        first: dict[str, None] = {}
        repeats: set[int] = set()
        for index, line in enumerate(self.build(values, self.blank_labels)):
            if line in first:
                repeats.add(index)
            else:
                first[line] = None
        return repeats

    def _full_rdfc(self, values: list[str], limits: Limits) -> tuple[str, bytes] | None:
        """Blank nodes alike at first degree: the full RDFC-1.0 on the rendered quads (repeats drop there)."""
        quads = parse_nquads("".join(self.build(values, self.blank_labels)))
        text = canonicalize(
            quads, max_ndegree_calls=limits.max_ndegree_calls, max_permutations=limits.max_permutations
        ).nquads
        return text, text.encode("utf-8")


class Shape:
    """A shape with vocab slots: one template per distinct tuple of their values."""

    __slots__ = ("vocab_slots",)

    def __init__(self, vocab_slots: tuple[int, ...]) -> None:
        self.vocab_slots = vocab_slots


# --- compiling -------------------------------------------------------------------------------------


class _Uncompilable(Exception):
    pass


def _new_nonce() -> str:
    return secrets.token_hex(8)


_SENTINEL_RE_CACHE: dict[str, re.Pattern[str]] = {}


@dataclass
class _Slot:
    kind: str = ""  # "literal" | "id" | "vocab"
    count: int = 0
    subject: bool = False


def _classify(
    quads: list[Quad], nonce: str, n_slots: int, fixed: frozenset[int]
) -> tuple[list[tuple[str, str, str, str]], dict[int, _Slot], list[list[_Piece]]]:
    """Find every sentinel in the quads; return the serialised quads, the slots, and each quad's line pieces."""
    from insignia.credentials.jsonld.canonize import RELATIVE_BASE

    pattern = re.compile(f"zq{nonce}s([0-9]+)e")
    serialised: dict[tuple[str, str, str, str], None] = {}
    for quad in quads:
        graph = quad.graph
        serialised.setdefault(
            (
                serialize_term(quad.subject),
                serialize_term(quad.predicate),
                serialize_term(quad.object),
                "" if graph is None else serialize_term(graph),
            )
        )
    slots: dict[int, _Slot] = {}
    lines: list[list[_Piece]] = []
    id_prefix = "<" + RELATIVE_BASE

    def slot_of(text: str, position: str) -> list[_Piece]:
        if nonce not in text:
            return [text]
        found = pattern.findall(text)
        if not found:
            return [text]
        if len(found) != 1 or position == "p":
            raise _Uncompilable(f"a sentinel inside {text[:80]!r}")
        index = int(found[0])
        sentinel = f"zq{nonce}s{index}e"
        if index >= n_slots or index in fixed:
            raise _Uncompilable("an unknown sentinel")
        slot = slots.setdefault(index, _Slot())
        if text.startswith('"'):
            kind = "literal"
            if not text.startswith(f'"{sentinel}"'):
                raise _Uncompilable("a sentinel inside a literal (a JSON literal?)")
            suffix = text[len(sentinel) + 2 :]
            if suffix and not (suffix.startswith("^^<") or suffix.startswith("@")):
                raise _Uncompilable("an unexpected literal form")
            pieces: list[_Piece] = ['"', ("v", index), '"' + suffix]
        elif text == f"{id_prefix}{sentinel}>":
            kind = "id"
            pieces = ["<", ("v", index), ">"]
        elif text.startswith("<") and text.endswith(f"{sentinel}>"):
            kind = "vocab"
            pieces = [text]
        else:
            raise _Uncompilable(f"a sentinel inside {text[:80]!r}")
        if slot.kind and slot.kind != kind:
            raise _Uncompilable("one value in two roles")
        slot.kind = kind
        slot.count += 1
        if kind == "literal" and slot.count > 1:
            raise _Uncompilable("a literal sentinel found twice")
        if position in "sg":
            slot.subject = True
        return pieces

    out = list(serialised)
    for s, p, o, g in out:
        pieces: list[_Piece] = [*slot_of(s, "s"), " ", *slot_of(p, "p"), " ", *slot_of(o, "o")]
        if g:
            pieces += [" ", *slot_of(g, "g")]
        pieces.append(" .\n")
        lines.append(pieces)
    return out, slots, lines


def _term_kind(pieces: tuple) -> tuple:
    """What a term can render as: ("b", k) a blank node, ("c", text) constant, ("v", i, is_literal, suffix) a slot."""
    for piece in pieces:
        if isinstance(piece, tuple) and piece[0] == "b":
            return ("b", piece[1])
    slots = [piece for piece in pieces if isinstance(piece, tuple)]
    if not slots:
        return ("c", "".join(pieces))
    text = [piece for piece in pieces if isinstance(piece, str)]
    return ("v", slots[0][1], text[0] == '"', text[-1])


def _terms(pieces: list[_Piece]) -> list[tuple]:
    out: list[tuple] = []
    current: list[_Piece] = []
    for piece in pieces:
        if piece == " " or piece == " .\n":
            out.append(tuple(current))
            current = []
        else:
            current.append(piece)
    return out


def _duplicate_candidates(lines: list[list[_Piece]], subject_slots: set[int]) -> tuple[tuple[int, int], ...] | None:
    """Pairs of lines that some slot values could make equal (None: too many, compare them all at once).

    Lines of different subjects, predicates or graphs never meet while the id slots hold distinct values
    (when two coincide, ``render`` compares all the lines instead), blank nodes get distinct labels.
    Within one group two constant objects differ (the quads were deduplicated), and a slot meets a
    constant or a slot of its own kind.
    """
    groups: dict[tuple, list[tuple[int, tuple]]] = {}
    for position, pieces in enumerate(lines):
        subject, predicate, obj, *graph = (_term_kind(term) for term in _terms(pieces))
        groups.setdefault((subject, predicate, tuple(graph)), []).append((position, obj))
    pairs: list[tuple[int, int]] = []
    for members in groups.values():
        for index, (first, a) in enumerate(members):
            for second, b in members[index + 1 :]:
                if a[0] == "b" or b[0] == "b" or (a[0] == "c" and b[0] == "c"):
                    continue
                if a[0] == "v" and b[0] == "v":
                    if a[2] == b[2] and a[3] == b[3]:
                        pairs.append((first, second))
                else:
                    slot, constant = (a, b) if a[0] == "v" else (b, a)
                    if constant[1].startswith('"') == slot[2] and constant[1].endswith(slot[3]):
                        pairs.append((first, second))
                if len(pairs) > len(lines):
                    return None
    return tuple(pairs)


def compile_shape(
    document: dict,
    values: list[str],
    state: _LoaderState,
    limits: Limits,
    *,
    fixed: dict[int, str] | None = None,
    nonce: str | None = None,
) -> Template | Shape | _Refused:
    """Compile the shape of ``document`` (whose slot values are ``values``) with the reference path."""
    from insignia.credentials.jsonld import canonize as reference

    fixed = fixed or {}
    nonce = nonce or _new_nonce()
    try:
        text = json.dumps(document, ensure_ascii=False)
        if nonce in text:
            raise _Uncompilable("the sentinel nonce occurs in the document")
        replacements = [fixed.get(index, f"zq{nonce}s{index}e") for index in range(len(values))]
        probe = substitute(document, replacements)
        if shape_of(probe)[0] != shape_of(document)[0]:
            raise _Uncompilable("the sentinel document has another shape")
        terms = defined_terms(probe, state)
        quads, work = reference._sentinel_quads(probe, state, limits, nonce)
        if len(quads) > MAX_TEMPLATE_QUADS:
            raise _Uncompilable("too many quads for a template")
        serialised, slots, lines = _classify(quads, nonce, len(values), frozenset(fixed))
    except _Uncompilable as exc:
        return _Refused(str(exc))
    except (CredentialError, _Bail, RecursionError) as exc:
        return _Refused(f"the reference path refused the sentinel document: {exc}")
    vocab = tuple(sorted(index for index, slot in slots.items() if slot.kind == "vocab"))
    if vocab:
        if fixed:
            return _Refused("a vocab slot appeared once the others were fixed")
        return Shape(vocab)
    missing = [index for index in range(len(values)) if index not in slots and index not in fixed]
    if missing:
        return _Refused(f"the value at slot {missing[0]} does not reach the RDF unchanged")

    blanks: dict[str, int] = {}
    for s, _p, o, g in serialised:
        for term in (s, o, g):
            if term.startswith("_:") and term not in blanks:
                blanks[term] = len(blanks)
    if len(blanks) > len(_LABELS):
        return _Refused("too many blank nodes for a template")

    def with_blanks(pieces: list[_Piece], node: int | None) -> list[_Piece]:
        out: list[_Piece] = []
        for piece in pieces:
            if isinstance(piece, str) and piece.startswith("_:") and piece in blanks:
                if node is None:
                    out.append(("b", blanks[piece]))
                else:
                    out.append("_:a" if blanks[piece] == node else "_:z")
            else:
                out.append(piece)
        return out

    final_lines = [with_blanks(pieces, None) for pieces in lines]
    node_lines: list[list[list[_Piece]]] = [[] for _ in blanks]
    node_index: list[list[int]] = [[] for _ in blanks]
    for position, ((s, _p, o, g), pieces) in enumerate(zip(serialised, lines, strict=True)):
        for label, node in blanks.items():
            if label in (s, o, g):
                node_lines[node].append(with_blanks(pieces, node))
                node_index[node].append(position)

    subject_slots = {index for index, slot in slots.items() if slot.subject}
    dup_pairs = _duplicate_candidates(final_lines, subject_slots)
    json_values, depth, chars = _json_stats(probe)
    stats = Stats(
        json_values=json_values,
        depth=depth,
        chars=chars - sum(map(len, replacements)),
        quads=len(serialised),
        blank_nodes=len(blanks),
        work=work,
    )
    return Template(
        n_slots=len(values),
        literal_slots=tuple(sorted(i for i, slot in slots.items() if slot.kind == "literal")),
        id_slots=tuple(sorted(i for i, slot in slots.items() if slot.kind == "id")),
        subject_slots=tuple(sorted(subject_slots)),
        lines=final_lines,
        blank_labels=list(blanks),
        node_lines=node_lines,
        dup_pairs=dup_pairs,
        terms=terms,
        stats=stats,
        node_index=node_index,
        index_sensitive="@index" in terms or '"@index"' in text,
    )


# --- the cache -------------------------------------------------------------------------------------

_Entry = Template | Shape | _Refused | _Seen


class ShapeCache:
    """A thread-safe LRU of compiled shapes, bounded by entries and by approximate bytes."""

    def __init__(self, max_entries: int = 2_048, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._data: OrderedDict[object, tuple[_Entry, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.fallbacks = 0
        self.first_sights = 0
        #: The terms each distinct set of ``@context`` values defines (see ``defined_terms``).
        self.terms: dict[str, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: object) -> _Entry | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: object, value: _Entry, key_size: int) -> None:
        size = key_size + (value.size if isinstance(value, Template) else 200)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            if size > self.max_bytes:
                return
            self._data[key] = (value, size)
            self.bytes += size
            while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
                _key, (_value, evicted) = self._data.popitem(last=False)
                self.bytes -= evicted

    def discard(self, key: object) -> None:
        """Forget one shape (benchmarks use it to measure a shape never seen before)."""
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.bytes -= old[1]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.bytes = 0


def _key_size(key: tuple) -> int:
    return 64 + 16 * len(key) + sum(len(token) for token in key if type(token) is str)


def canonical(
    document: dict, state: _LoaderState, limits: Limits, *, eager: bool = False
) -> tuple[str, bytes] | None:
    """The canonical N-Quads of ``document`` by template, or None: then the reference path must run.

    A shape is compiled the second time it is seen (``eager``: the first), so a stream of one-off
    shapes costs the reference path and a shape walk, and a document built to fail costs at most
    one compile attempt on top of the reference path's own refusal, whatever its shape.
    """
    if not ENABLED:
        return None
    cache: ShapeCache = state.shapes
    try:
        key, values = shape_of(document)
    except _Bail:
        return None
    entry = cache.get(key)
    if entry is None and not eager:
        cache.put(key, _SEEN, _key_size(key))
        cache.first_sights += 1
        return None
    if entry is None or entry is _SEEN:
        entry = compile_shape(document, values, state, limits)
        cache.put(key, entry, _key_size(key))
    if isinstance(entry, Shape):
        fixed = {index: values[index] for index in entry.vocab_slots}
        variant_key = (key, tuple(fixed.values()))
        variant = cache.get(variant_key)
        if variant is None and not eager:
            cache.put(variant_key, _SEEN, _key_size(key))
            cache.first_sights += 1
            return None
        if variant is None or variant is _SEEN:
            variant = compile_shape(document, values, state, limits, fixed=fixed)
            cache.put(variant_key, variant, _key_size(key) + sum(map(len, fixed.values())))
        entry = variant
    if not isinstance(entry, Template):
        cache.fallbacks += 1
        return None
    result = entry.render(values, limits)
    if result is None:
        cache.fallbacks += 1
    return result


__all__ = ["ENABLED", "MAX_TEMPLATE_QUADS", "Shape", "ShapeCache", "Template", "canonical", "compile_shape", "shape_of"]
