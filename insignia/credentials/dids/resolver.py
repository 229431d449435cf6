"""Find the key behind a verification method URL, and what its controller authorises it to do.

The verification pipeline hands a ``Resolver`` to the proof checkers. It resolves did:key offline,
did:web and https controller documents (issuer Profiles) through the injected ``fetch`` (no network
at all without one), and can be preloaded with known documents for offline verification.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from insignia.credentials.dids.key import resolve_did_key
from insignia.credentials.dids.web import (
    MAX_DOCUMENT_BYTES,
    Fetch,
    check_document_url,
    did_web_to_url,
    fetch_json_document,
    resolve_did_web,
)
from insignia.credentials.errors import DidError, FetchError
from insignia.credentials.keys.multikey import PublicKey, public_key_from_method

RELATIONSHIPS = ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation", "keyAgreement")
"""Verification relationships (proof purposes) a controller document can grant."""

_KEY_MEMBERS = ("publicKeyMultibase", "publicKeyJwk", "publicKeyBase58", "publicKeyPem")


@dataclass(frozen=True)
class VerificationMethod:
    """A dereferenced verification method: its key, its controller, and the purposes that controller grants it."""

    id: str
    type: str
    controller: str
    public_key: PublicKey
    purposes: frozenset[str]
    method: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The method object as published."""

    def authorized_for(self, purpose: str) -> bool:
        """True iff the controller document lists this method under ``purpose`` (e.g. ``assertionMethod``)."""
        return purpose in self.purposes


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _absolute(reference: Any, base: str) -> Any:
    """Resolve a relative ``#fragment`` reference against the document id."""
    if isinstance(reference, str) and reference.startswith("#"):
        return base + reference
    return reference


def _strip_fragment(value: str) -> str:
    return value.split("#", 1)[0]


class Resolver:
    """Resolves DIDs and https URLs to controller documents and dereferences verification methods.

    ``fetch(url) -> bytes`` is the only network access; with ``fetch=None`` only did:key and the
    preloaded ``documents`` (keyed by DID or URL) can be resolved. Fetched documents are cached for
    ``cache_ttl`` seconds (0 disables the cache; at most ``cache_size`` entries), so a long-lived
    resolver still notices key rotation and revocation of a key.
    """

    def __init__(
        self,
        fetch: Fetch | None = None,
        *,
        allow_http_loopback: bool = False,
        documents: Mapping[str, Mapping[str, Any]] | None = None,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        cache_ttl: float = 300.0,
        cache_size: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._allow_http_loopback = allow_http_loopback
        self._max_bytes = max_bytes
        self._known = {_strip_fragment(key): copy.deepcopy(dict(doc)) for key, doc in (documents or {}).items()}
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._cache_ttl = cache_ttl
        self._cache_size = cache_size
        self._clock = clock

    def clear_cache(self) -> None:
        """Forget fetched documents (preloaded ``documents`` stay)."""
        self._cache.clear()

    # -- documents ------------------------------------------------------------------------------------------
    def resolve(self, did_or_url: str) -> dict[str, Any]:
        """The controller document (DID document or https document) for a DID or URL; a fragment is ignored."""
        if not isinstance(did_or_url, str) or not did_or_url:
            raise DidError("Expected a DID or URL string.", code="invalid_did")
        base = _strip_fragment(did_or_url)
        now = self._clock()
        cached = self._cache.get(base)
        if cached is not None and now - cached[0] < self._cache_ttl:
            return copy.deepcopy(cached[1])
        document = self._load(base)
        if document.get("id") != base:
            raise DidError(
                f"The document for {base} has id {document.get('id')!r}; a document can only speak for "
                "its own identifier.",
                code="document_id_mismatch",
            )
        if self._cache_ttl > 0 and base not in self._known:
            self._cache.pop(base, None)
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[base] = (now, document)
        return copy.deepcopy(document)

    def _load(self, base: str) -> dict[str, Any]:
        if base in self._known:
            return self._known[base]
        if base.startswith("did:key:"):
            return resolve_did_key(base)
        if base.startswith("did:web:"):
            url = did_web_to_url(base, allow_http_loopback=self._allow_http_loopback)
            if url in self._known:
                return self._known[url]
            return resolve_did_web(
                base, fetch=self._require_fetch(base), allow_http_loopback=self._allow_http_loopback,
                max_bytes=self._max_bytes,
            )
        if base.startswith("did:"):
            method = base.split(":", 2)[1] if base.count(":") >= 2 else ""
            raise DidError(f"The DID method '{method}' is not supported (did:key and did:web are).",
                           code="unsupported_did_method")
        if base.startswith(("https://", "http://")):
            check_document_url(base, allow_http_loopback=self._allow_http_loopback)
            return fetch_json_document(base, fetch=self._require_fetch(base), max_bytes=self._max_bytes)
        raise DidError(f"{base!r} is neither a DID nor an https URL.", code="unsupported_identifier")

    def _require_fetch(self, target: str) -> Fetch:
        if self._fetch is None:
            raise FetchError(
                f"{target} must be fetched, but this verifier works offline (no fetcher was given and no "
                "cached document matches).",
                code="network_disabled",
            )
        return self._fetch

    # -- methods --------------------------------------------------------------------------------------------
    def dereference_method(self, vm_url: str) -> VerificationMethod:
        """The verification method named by ``vm_url`` and the purposes its controller document grants it."""
        if not isinstance(vm_url, str) or not vm_url:
            raise DidError("Expected a verification method URL.", code="invalid_did")
        base, _, fragment = vm_url.partition("#")
        document = self.resolve(base)
        if fragment:
            method = self._find_method(document, vm_url)
            controller_document = document
        else:
            method = document
            if not isinstance(method.get("type"), str) or not any(name in method for name in _KEY_MEMBERS):
                raise DidError(f"{vm_url} is not a verification method.", code="verification_method_not_found")
            owner = method.get("controller", method.get("owner"))
            if not isinstance(owner, str):
                raise DidError(f"The key at {vm_url} does not name its controller.", code="verification_method_invalid")
            controller_document = document if owner == base else self.resolve(owner)
        controller = _absolute(method.get("controller", method.get("owner")), document["id"])
        if not isinstance(controller, str):
            raise DidError(f"The method {vm_url} does not name its controller.", code="verification_method_invalid")
        kind = method.get("type")
        kind_text = kind if isinstance(kind, str) else ",".join(str(item) for item in _as_list(kind))
        return VerificationMethod(
            id=vm_url,
            type=kind_text,
            controller=controller,
            public_key=public_key_from_method(method),
            purposes=self._purposes(controller_document, vm_url, controller),
            method=method,
        )

    @staticmethod
    def _find_method(document: dict[str, Any], vm_url: str) -> dict[str, Any]:
        """The method with id ``vm_url`` (absolute or ``#fragment``), embedded anywhere it may be defined."""
        doc_id = document["id"]
        candidates = _as_list(document.get("verificationMethod")) + _as_list(document.get("publicKey"))
        for relationship in RELATIONSHIPS:
            candidates += _as_list(document.get(relationship))
        found: list[dict[str, Any]] = []
        for candidate in candidates:
            matches = isinstance(candidate, dict) and _absolute(candidate.get("id"), doc_id) == vm_url
            if matches and candidate not in found:
                found.append(candidate)
        if not found:
            raise DidError(f"{doc_id} does not define the verification method {vm_url}.",
                           code="verification_method_not_found")
        if len(found) > 1:
            raise DidError(f"{doc_id} defines {vm_url} more than once, differently.",
                           code="verification_method_ambiguous")
        return found[0]

    @staticmethod
    def _purposes(controller_document: dict[str, Any], vm_url: str, controller: str) -> frozenset[str]:
        """The relationships under which the controller document lists the method (none if it is not the controller)."""
        doc_id = controller_document.get("id")
        if controller != doc_id:
            return frozenset()
        granted = set()
        for relationship in RELATIONSHIPS:
            for entry in _as_list(controller_document.get(relationship)):
                reference = entry.get("id") if isinstance(entry, dict) else entry
                if _absolute(reference, doc_id) == vm_url:
                    granted.add(relationship)
        return frozenset(granted)


__all__ = ["RELATIONSHIPS", "Resolver", "VerificationMethod"]
