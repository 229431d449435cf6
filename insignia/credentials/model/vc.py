"""W3C Verifiable Credentials plumbing shared by the OB 3.0 builders and shape checks.

Builders emit the one serialisation OB 3.0 asks for (OB30 #serialization): arrays for every
``0..*`` property, objects for complex types, no nulls, no empty arrays, contexts in the fixed
order. Validators collect *every* problem with its JSON path (``Problems``) so a caller can show
the whole list at once instead of making the author fix one error per round trip.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from insignia.credentials.errors import ValidationError
from insignia.credentials.model.dates import format_date, format_datetime, is_datetimez, parse_datetimez

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
#: Any published OB 3.0 context (3.0.0 is ``context.json``), as the official schema's regex allows.
OB3_CONTEXT_RE = re.compile(r"^https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)*\.json$")

#: Types defined only by ``extensions.json`` (see standards.md §0.3).
EXTENSION_TYPES = frozenset({"1EdTechJsonSchemaValidator2019", "1EdTechRevocationList", "1EdTechCredentialRefresh"})

DATA_MODEL_V2 = "VC 2.0"
DATA_MODEL_V1 = "VC 1.1"

_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_JWS_RE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_LANG_RE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


# -- emitting ---------------------------------------------------------------------------------


def camel(name: str) -> str:
    """``valid_from`` → ``validFrom``: our attribute names map mechanically onto the JSON terms."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def emit(value: Any) -> Any:
    """Turn a builder value into JSON: nested builders, datetimes, sequences; None stays None."""
    if value is None:
        return None
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        out = {str(k): emit(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != []}
    if isinstance(value, Sequence):
        items = [emit(item) for item in value]
        return [item for item in items if item is not None]
    raise TypeError(f"Cannot serialise {type(value).__name__} into a credential.")


def compact(pairs: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """Emit each value and drop nulls and empty arrays, which OB 3.0 says MUST be omitted."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    out: dict[str, Any] = {}
    for key, raw in items:
        value = emit(raw)
        if value is None or value == [] or value == {}:
            continue
        out[key] = value
    return out


def dataclass_json(node: Any, *, head: Mapping[str, Any] | None = None, skip: Sequence[str] = ()) -> dict[str, Any]:
    """A builder dataclass as JSON: ``head`` first (id, type), then every field in camelCase."""
    pairs: list[tuple[str, Any]] = list((head or {}).items())
    for spec in dataclasses.fields(node):
        if spec.name in skip or spec.name.startswith("_"):
            continue
        pairs.append((spec.metadata.get("json", camel(spec.name)), getattr(node, spec.name)))
    return compact(pairs)


#: Deepest nesting the shape checks accept (as ``verify.inputs.MAX_JSON_DEPTH``).
MAX_DEPTH = 64


def extension_types_used(document: Any) -> set[str]:
    """The 1EdTech extension types used, outside nested documents that carry their own @context."""
    found: set[str] = set()

    def walk(node: Any, top: bool) -> None:
        # scalars are skipped here rather than visited (most values of a credential are strings)
        if isinstance(node, list):
            for item in node:
                if isinstance(item, dict | list):
                    walk(item, False)
            return
        if not top and "@context" in node:
            return
        found.update(t for t in as_list(node.get("type")) if isinstance(t, str) and t in EXTENSION_TYPES)
        for key, value in node.items():
            if key != "@context" and isinstance(value, dict | list):
                walk(value, False)

    if isinstance(document, dict | list):
        walk(document, True)
    return found


@dataclasses.dataclass(frozen=True)
class DocumentScan:
    """What one walk over a document found: the three facts every shape check starts with."""

    #: Objects/arrays nest deeper than the limit (``has_null`` and ``extension_types`` are then partial).
    too_deep: bool
    #: A null appears somewhere (inside ``@context`` values too).
    has_null: bool
    #: ``extension_types_used(document)``.
    extension_types: frozenset[str]


class _TooDeep(Exception):
    pass


def scan_document(document: Mapping[str, Any], limit: int = MAX_DEPTH) -> DocumentScan:
    """``Problems.too_deep``, ``_has_null`` and ``extension_types_used`` in one walk, for a JSON object.

    Validating a credential asked all three, each walking the whole document (over half of the time of a
    credential's shape check). Recursive, but never deeper than ``limit`` (it stops there), so a hostile
    document cannot exhaust the stack. ``tests/credentials/test_model_scan.py`` holds it to the three.
    """
    found: set[str] = set()
    nulls = False

    def visit(node: Any, depth: int, collect: bool) -> None:
        nonlocal nulls
        if depth > limit:
            raise _TooDeep
        if isinstance(node, dict):
            if collect:
                if depth > 1 and "@context" in node:
                    collect = False  # a nested document with its own context: its types are its own
                else:
                    kind = node.get("type")
                    for name in (kind if isinstance(kind, list) else (kind,)):
                        if isinstance(name, str) and name in EXTENSION_TYPES:
                            found.add(name)
            for key, value in node.items():
                if value.__class__ is str:
                    continue
                if value is None:
                    nulls = True
                elif isinstance(value, dict | list):
                    visit(value, depth + 1, collect and key != "@context")
        else:
            for value in node:
                if value.__class__ is str:
                    continue
                if value is None:
                    nulls = True
                elif isinstance(value, dict | list):
                    visit(value, depth + 1, collect)

    try:
        visit(document, 1, True)
    except _TooDeep:
        return DocumentScan(too_deep=True, has_null=nulls, extension_types=frozenset(found))
    return DocumentScan(too_deep=False, has_null=nulls, extension_types=frozenset(found))


def uses_extension_types(document: Any) -> bool:
    """True if the document needs ``extensions.json`` in its @context."""
    return bool(extension_types_used(document))


def credential_context(document: Mapping[str, Any], *extra: str) -> list[str]:
    """The ordered @context: VC 2.0, OB 3.0.3, ``extensions.json`` iff an extension type is used, then extras."""
    contexts = [VC_V2_CONTEXT, OB3_CONTEXT]
    if uses_extension_types(document):
        contexts.append(OB3_EXTENSIONS_CONTEXT)
    contexts.extend(url for url in extra if url not in contexts)
    return contexts


# -- reading ----------------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A JSON-LD value as a list (a single value is a one-item set)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def is_uri(value: Any) -> bool:
    """An absolute URI (``https:``, ``urn:uuid:``, ``did:``, ``data:``...): a scheme and no whitespace."""
    return isinstance(value, str) and _URI_RE.match(value) is not None


def is_http_url(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(("https://", "http://")) and is_uri(value)


def is_compact_jws(value: Any) -> bool:
    return isinstance(value, str) and _JWS_RE.match(value) is not None


def types_of(node: Any) -> set[str]:
    return {t for t in as_list(node.get("type")) if isinstance(t, str)} if isinstance(node, dict) else set()


@dataclass
class ShapeReport:
    """What a shape check found. ``data_model`` says which VC data model the document uses."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    data_model: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self, what: str, *, code: str = "validation_error") -> ShapeReport:
        """Raise one ValidationError listing every problem, or return self."""
        if self.errors:
            count = len(self.errors)
            noun = "problem" if count == 1 else "problems"
            raise ValidationError(
                f"{what} does not have the shape the standard requires ({count} {noun}): {self.errors[0]}",
                errors=list(self.errors),
                code=code,
            )
        return self




class Problems:
    """Collects errors and warnings under JSON paths (``credentialSubject.achievement.criteria``)."""

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self.report = ShapeReport()
        #: The document ``cannot_check`` walked and what it found (``no_nulls``/``check_context`` reuse it).
        self.scanned: tuple[Any, DocumentScan] | None = None

    def scan_of(self, document: Any) -> DocumentScan | None:
        """The scan of ``document`` if ``cannot_check`` made one for this very object."""
        return self.scanned[1] if self.scanned is not None and self.scanned[0] is document else None

    def error(self, path: str, message: str) -> None:
        self.report.errors.append(f"{path or '(document)'}: {message}")

    def warn(self, path: str, message: str) -> None:
        self.report.warnings.append(f"{path or '(document)'}: {message}")

    def lenient(self, path: str, message: str) -> None:
        """An error for documents we build (strict), a warning for documents others built."""
        (self.error if self.strict else self.warn)(path, message)

    # -- typed checks; each returns the value when it has the right shape ---------------------

    def require(self, node: Mapping[str, Any], key: str, path: str, hint: str = "") -> Any:
        value = node.get(key)
        if key not in node:
            self.error(join(path, key), f"is required{hint and '; ' + hint}.")
        return value

    def string(self, node: Mapping[str, Any], key: str, path: str, *, required: bool = False,
               lang_map: bool = False, hint: str = "") -> Any:
        if required and key not in node:
            self.error(join(path, key), f"is required{hint and '; ' + hint}.")
            return None
        value = node.get(key)
        if key not in node or isinstance(value, str):
            return value
        if lang_map and isinstance(value, dict) and value and all(
            isinstance(k, str) and _LANG_RE.match(k) and isinstance(v, str) for k, v in value.items()
        ):
            return value
        expected = "a string or a language map ({\"en\": \"...\"})" if lang_map else "a string"
        self.error(join(path, key), f"must be {expected}, not {json_type(value)}.")
        return None

    def uri(self, node: Mapping[str, Any], key: str, path: str, *, required: bool = False, hint: str = "") -> Any:
        if required and key not in node:
            self.error(join(path, key), f"is required{hint and '; ' + hint}.")
            return None
        value = node.get(key)
        if key in node and not is_uri(value):
            self.error(join(path, key), f"must be an absolute URI (https://…, urn:uuid:…, did:…), not {value!r}.")
            return None
        return value

    def datetimez(self, node: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> datetime | None:
        if required and key not in node:
            self.error(join(path, key), "is required: a date-time with a time zone, e.g. 2024-05-01T12:00:00Z.")
            return None
        if key not in node:
            return None
        value = node.get(key)
        if not is_datetimez(value):
            self.error(join(path, key), f"must be a date-time with a time zone (e.g. 2024-05-01T12:00:00Z), "
                                        f"not {value!r}.")
            return None
        return parse_datetimez(value)

    def number(self, node: Mapping[str, Any], key: str, path: str) -> None:
        value = node.get(key)
        if key in node and (isinstance(value, bool) or not isinstance(value, int | float)):
            self.error(join(path, key), f"must be a JSON number, not {json_type(value)}.")

    def boolean(self, node: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Any:
        if required and key not in node:
            self.error(join(path, key), "is required (true or false).")
            return None
        value = node.get(key)
        if key in node and not isinstance(value, bool):
            self.error(join(path, key), f"must be true or false, not {value!r}.")
            return None
        return value

    def array(self, node: Mapping[str, Any], key: str, path: str, *, compactable: bool = False) -> list[Any]:
        """A ``0..*`` property. A single value is an error unless the spec lets JSON-LD compact it."""
        if key not in node:
            return []
        value = node[key]
        if isinstance(value, list):
            if not value:
                self.lenient(join(path, key), "is an empty array; omit the property instead (OB 3.0 §serialization).")
            return value
        if compactable and not self.strict:
            return [value]
        if compactable:
            self.error(join(path, key), "must be an array (we always emit arrays for 0..* properties).")
        else:
            self.error(join(path, key), f"must be an array, not {json_type(value)}; wrap the value in [ ].")
        return [value]

    def objects(self, node: Mapping[str, Any], key: str, path: str, *, compactable: bool = False
                ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each object of an array property with its path; non-objects are reported."""
        items = self.array(node, key, path, compactable=compactable)
        single = key in node and not isinstance(node[key], list)
        for index, item in enumerate(items):
            item_path = join(path, key) if single else f"{join(path, key)}[{index}]"
            if isinstance(item, dict):
                yield item_path, item
            else:
                self.error(item_path, f"must be an object, not {json_type(item)}.")

    def obj(self, node: Mapping[str, Any], key: str, path: str, *, required: bool = False,
            hint: str = "") -> dict[str, Any] | None:
        if required and key not in node:
            self.error(join(path, key), f"is required{hint and '; ' + hint}.")
            return None
        value = node.get(key)
        if key not in node:
            return None
        if not isinstance(value, dict):
            self.error(join(path, key), f"must be an object (complex types are JSON objects, not URIs), "
                                        f"not {json_type(value)}.")
            return None
        return value

    def type_contains(self, node: Mapping[str, Any], path: str, *required: str, any_of: Sequence[str] = (),
                      single: str | None = None) -> None:
        """``type`` must include every ``required`` IRI (and one of ``any_of``), or be exactly ``single``."""
        where = join(path, "type")
        if "type" not in node:
            wanted = single or ", ".join([*required, *([" or ".join(any_of)] if any_of else [])])
            self.error(where, f"is required and must include {wanted}.")
            return
        value = node["type"]
        if single is not None:
            if value == [single]:
                self.lenient(where, f"must be the string {single!r}; the official schema refuses an array here.")
            elif value != single:
                self.error(where, f"must be the string {single!r}, not {value!r}.")
            return
        if isinstance(value, str):
            if self.strict:
                self.error(where, "must be an array (we always emit arrays for type).")
            values = [value]
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            values = value
        else:
            self.error(where, f"must be an array of strings, not {value!r}.")
            return
        missing = [t for t in required if t not in values]
        if missing:
            self.error(where, f"must include {', '.join(repr(t) for t in missing)} (it is {values!r}).")
        if any_of and not set(any_of) & set(values):
            self.error(where, f"must include {' or '.join(repr(t) for t in any_of)} (it is {values!r}).")

    def enum_ext(self, node: Mapping[str, Any], key: str, path: str, allowed: frozenset[str], *,
                 required: bool = False) -> None:
        """An OB 3.0 extensible enumeration: one of ``allowed`` or ``ext:Name``."""
        if required and key not in node:
            self.error(join(path, key), "is required.")
            return
        value = node.get(key)
        if key in node and not (isinstance(value, str) and (value in allowed or EXT_RE.match(value))):
            self.error(join(path, key), f"must be one of {', '.join(sorted(allowed))} or an extension 'ext:Name', "
                                        f"not {value!r}.")

    def no_nulls(self, node: Any, path: str) -> None:
        """Null values MUST be omitted (OB 3.0 §serialization); report each one."""
        scanned = self.scan_of(node)
        if not (scanned.has_null if scanned is not None else _has_null(node)):
            return  # the common case, without building a path for every member
        if isinstance(node, dict):
            for key, value in node.items():
                if value is None:
                    self.error(join(path, key), "is null; omit the property instead.")
                else:
                    self.no_nulls(value, join(path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if value is None:
                    self.error(f"{path}[{index}]", "is null; remove it from the array.")
                else:
                    self.no_nulls(value, f"{path}[{index}]")

    def cannot_check(self, document: Any, what: str, path: str = "") -> bool:
        """True (and one error) if ``document`` is not a JSON object or is too deep to walk: checks stop there.

        ``what`` names the document in the error (``"a credential"`` → "a credential must be a JSON object").
        """
        if not isinstance(document, dict):
            self.error(path, f"{what} must be a JSON object, not {json_type(document)}.")
            return True
        scanned = scan_document(document)
        if scanned.too_deep:
            return self.too_deep(document)  # the same error, from the same place
        self.scanned = (document, scanned)
        return False

    def too_deep(self, document: Any, limit: int = MAX_DEPTH) -> bool:
        """True (and one error) if ``document`` nests objects/arrays deeper than ``limit``.

        The shape checks recurse through the document; a hostile one nested thousands deep would exhaust
        the stack (RecursionError), so every ``inspect_*`` entry point asks this first. Iterative.
        """
        stack: list[tuple[Any, int]] = [(document, 1)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, dict | list):
                if depth > limit:
                    self.error("", f"the document nests objects and arrays more than {limit} levels deep; "
                                   "no credential is that deep.")
                    return True
                stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)
                             if isinstance(child, dict | list))
        return False


EXT_RE = re.compile(r"^ext:[A-Za-z0-9._-]+$")


def _has_null(node: Any) -> bool:
    """True if a null appears anywhere in ``node`` (iterative; callers have already bounded the depth)."""
    stack = [node]
    while stack:
        current = stack.pop()
        values = current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        for value in values:
            if value is None:
                return True
            if isinstance(value, dict | list):
                stack.append(value)
    return False


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 60 else "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def check_context(document: Mapping[str, Any], path: str, p: Problems, *, allow_vc1: bool,
                  require_ob: bool = True) -> str | None:
    """The fixed @context order (VC first, OB second); returns the data model seen, or None."""
    where = join(path, "@context")
    if "@context" not in document:
        p.error(where, f"is required: [{VC_V2_CONTEXT!r}, {OB3_CONTEXT!r}].")
        return None
    contexts = document["@context"]
    if not isinstance(contexts, list):
        p.error(where, f"must be an array starting with {VC_V2_CONTEXT!r} then {OB3_CONTEXT!r}.")
        return None
    first = contexts[0] if contexts else None
    if first == VC_V2_CONTEXT:
        model = DATA_MODEL_V2
    elif first == VC_V1_CONTEXT and allow_vc1:
        model = DATA_MODEL_V1
    elif first == VC_V1_CONTEXT:
        p.error(f"{where}[0]", f"is the VC 1.1 context; credentials we issue use {VC_V2_CONTEXT!r}.")
        return DATA_MODEL_V1
    else:
        p.error(f"{where}[0]", f"must be {VC_V2_CONTEXT!r} (the VC context comes first), not {first!r}.")
        return None
    if require_ob:
        second = contexts[1] if len(contexts) > 1 else None
        if not (isinstance(second, str) and OB3_CONTEXT_RE.match(second)):
            if any(isinstance(c, str) and OB3_CONTEXT_RE.match(c) for c in contexts):
                p.error(f"{where}[1]", f"must be the Open Badges context ({OB3_CONTEXT}); it is listed, but not "
                                       "second. Move it right after the VC context.")
            else:
                p.error(f"{where}[1]", f"must be the Open Badges context {OB3_CONTEXT!r}.")
    for index, item in enumerate(contexts):
        if not (isinstance(item, str) and is_uri(item)) and not isinstance(item, dict):
            p.error(f"{where}[{index}]", f"must be a context URL or an object, not {item!r}.")
    scanned = p.scan_of(document)
    used = scanned.extension_types if scanned is not None else extension_types_used(document)
    if used and OB3_EXTENSIONS_CONTEXT not in contexts:
        p.lenient(where, f"uses {', '.join(sorted(used))}, defined only by {OB3_EXTENSIONS_CONTEXT!r}, but "
                         "does not list it; add it after the Open Badges context, or JSON-LD processors will not "
                         "sign or verify the credential consistently.")
    return model


__all__ = [
    "DATA_MODEL_V1",
    "DATA_MODEL_V2",
    "EXTENSION_TYPES",
    "OB3_CONTEXT",
    "OB3_EXTENSIONS_CONTEXT",
    "VC_V1_CONTEXT",
    "VC_V2_CONTEXT",
    "DocumentScan",
    "Problems",
    "ShapeReport",
    "as_list",
    "credential_context",
    "extension_types_used",
    "is_uri",
    "scan_document",
    "uses_extension_types",
]
