"""Work bounds for turning an untrusted JSON-LD document into canonical N-Quads.

A verifier canonicalises whatever an attacker sends it, so every stage has a ceiling. The defaults
are far above any real credential (a large OB 3.0 or CLR document is tens of KB, depth ~10,
a few hundred quads, a dozen blank nodes) and far below what would hurt a server.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from insignia.credentials.errors import MalformedInputError, ResourceLimitError
from insignia.credentials.jsonld.rdfc import DEFAULT_MAX_NDEGREE_CALLS, DEFAULT_MAX_PERMUTATIONS


@dataclass(frozen=True, slots=True)
class Limits:
    """Ceilings for :func:`insignia.credentials.jsonld.canonize.canonize`; every one is checked."""

    #: Nesting of JSON objects and arrays. pyld recurses several frames per level.
    max_depth: int = 48
    #: JSON values (objects, arrays, scalars) plus object keys, in the whole document.
    max_values: int = 200_000
    #: Characters in all strings and keys together.
    max_string_chars: int = 8_000_000
    #: Term definitions pyld processes (a scoped context counts again each time pyld reprocesses it).
    #: A credential needs a few hundred, a large CLR about a thousand.
    max_context_terms: int = 100_000
    #: Value comparisons pyld's node map makes (k values of one property on one node cost k²/2, ~1 µs
    #: each): one property may hold about 1,400 values, far more than any credential needs.
    max_value_comparisons: int = 1_000_000
    #: Quads produced by JSON-LD → RDF.
    max_quads: int = 100_000
    #: Distinct blank nodes among those quads.
    max_blank_nodes: int = 20_000
    #: RDFC-1.0 Hash N-Degree Quads calls (see ``rdfc``).
    max_ndegree_calls: int = DEFAULT_MAX_NDEGREE_CALLS
    #: RDFC-1.0 permutations of look-alike blank nodes (see ``rdfc``).
    max_permutations: int = DEFAULT_MAX_PERMUTATIONS


DEFAULT_LIMITS = Limits()


def _path(parts: list[str | int]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)


def check_json(document: object, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a document that is not plain JSON or exceeds ``limits``, without recursion.

    Runs before pyld sees the document, so pyld never meets a structure deep enough to exhaust the
    Python stack or large enough to run for minutes. Lone surrogates are refused here too: they have
    no UTF-8 form, so they could not be hashed.
    """
    values = 0
    chars = 0
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        values += 1
        if isinstance(value, str):
            chars += len(value)
            _check_text(value)
        elif isinstance(value, dict | list):
            if depth > limits.max_depth:
                raise ResourceLimitError(
                    f"The document nests objects and arrays more than {limits.max_depth} levels deep; "
                    "no credential is that deep.",
                    code="json_too_deep",
                )
            # refuse a huge object or array before pushing its members
            _check_size(values + len(value), chars, limits)
            if isinstance(value, dict):
                values += len(value)  # the keys
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise MalformedInputError(
                            f"A JSON object key must be a string, not {key!r}.", code="invalid_json"
                        )
                    chars += len(key)
                    _check_text(key)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise MalformedInputError(f"JSON has no number {value!r}.", code="invalid_json")
        elif value is not None and not isinstance(value, int):  # bool is an int
            raise MalformedInputError(
                f"A {type(value).__name__} is not a JSON value; pass parsed JSON (dict, list, str, number, "
                "bool, None).",
                code="invalid_json",
            )
        _check_size(values, chars, limits)


def _check_size(values: int, chars: int, limits: Limits) -> None:
    if values > limits.max_values:
        raise ResourceLimitError(
            f"The document holds more than {limits.max_values} JSON values; no credential is that large.",
            code="json_too_large",
        )
    if chars > limits.max_string_chars:
        raise ResourceLimitError(
            f"The document's strings hold more than {limits.max_string_chars} characters; "
            "no credential is that large.",
            code="json_too_large",
        )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(text: str) -> None:
    if _SURROGATE.search(text) is not None:
        raise MalformedInputError(
            f"The string {text[:40]!r} holds a lone UTF-16 surrogate, which is not a Unicode character.",
            code="invalid_json",
        )


def iter_json(document: object) -> Iterator[tuple[list[str | int], object]]:
    """Every (path, value) of a JSON document, depth first in document order, without recursion."""
    stack: list[tuple[list[str | int], object]] = [([], document)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            stack.extend(([*path, key], item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(([*path, index], item) for index, item in reversed(list(enumerate(value))))


def json_path(parts: list[str | int]) -> str:
    """``$.a.b[2].c`` for a path from :func:`iter_json`."""
    return _path(parts)


__all__ = ["DEFAULT_LIMITS", "Limits", "check_json", "iter_json", "json_path"]
