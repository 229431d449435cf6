"""did:web (w3c-ccg did-method-web): a DID whose document is served over HTTPS by the domain it names.

The network is injected: ``fetch(url) -> bytes`` is the caller's. It should itself refuse redirects to
other hosts and private addresses resolved by DNS (this module can only refuse what the URL shows), and
stop reading after ``MAX_DOCUMENT_BYTES``; we check the size again here.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from insignia.credentials.dids.key import DID_CONTEXT
from insignia.credentials.errors import CredentialError, DidError, FetchError, KeyFormatError
from insignia.credentials.keys.jwk import jwk_thumbprint
from insignia.credentials.keys.multikey import (
    JWK_CONTEXT,
    MULTIKEY_CONTEXT,
    PublicKey,
    jsonwebkey_document,
    multikey_document,
)

Fetch = Callable[[str], bytes]
"""Retrieves the bytes at an https URL, or raises. The only way this package touches the network."""

DID_WEB_PREFIX = "did:web:"
MAX_DOCUMENT_BYTES = 1_000_000
DEFAULT_RELATIONSHIPS = ("assertionMethod", "authentication")

_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_SEGMENT = re.compile(r"^([A-Za-z0-9\-._~!$&'()*+,;=@]|%[0-9A-Fa-f]{2})+$")
_SEGMENT_SAFE = "-._~!$&'()*+,;=@"


def is_loopback_host(host: str) -> bool:
    """``localhost`` or an address in 127.0.0.0/8 or ::1."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def check_host(
    host: str, *, allow_http_loopback: bool, error: type[CredentialError] = FetchError
) -> bool:
    """Refuse IP literals and (unless allowed) loopback hosts; returns True when plain http may be used."""
    if not host:
        raise error("The address has no host.", code="url_invalid")
    loopback = is_loopback_host(host)
    if loopback:
        if not allow_http_loopback:
            raise error(f"The host {host} is this machine; loopback addresses are allowed only in development.",
                        code="loopback_not_allowed")
        return True
    if _is_ip_literal(host):
        raise error(f"The host {host} is an IP address; a domain name (with a TLS certificate) is required.",
                    code="ip_address_not_allowed")
    if not _HOSTNAME.match(host):
        raise error(f"{host!r} is not a valid host name.", code="url_invalid")
    return False


def check_document_url(url: str, *, allow_http_loopback: bool = False) -> str:
    """Validate an https URL we are about to fetch; plain http only to a loopback host when allowed."""
    if not isinstance(url, str):
        raise FetchError("Expected a URL string.", code="url_invalid")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        raise FetchError(f"{url!r} is not a valid URL: {exc}", code="url_invalid") from exc
    if parts.username is not None or parts.password is not None:
        raise FetchError("URLs with credentials (user:password@) are refused.", code="url_invalid")
    http_ok = check_host(parts.hostname or "", allow_http_loopback=allow_http_loopback)
    if parts.scheme == "https" or (parts.scheme == "http" and http_ok):
        return url
    raise FetchError(f"Refusing to fetch {url}: only https URLs are allowed.", code="insecure_url")


def fetch_json_document(url: str, *, fetch: Fetch, max_bytes: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """Fetch ``url`` through the injected ``fetch`` and parse a JSON object, within ``max_bytes``."""
    try:
        body = fetch(url)
    except FetchError:
        raise
    except Exception as exc:  # the fetcher is foreign code: any failure means "could not retrieve"
        raise FetchError(f"Could not retrieve {url}: {exc}", code="fetch_failed") from exc
    if isinstance(body, str):
        body = body.encode("utf-8")
    if not isinstance(body, bytes | bytearray):
        raise FetchError(f"The fetcher returned {type(body).__name__} for {url}, not bytes.", code="fetch_failed")
    if len(body) > max_bytes:
        raise FetchError(f"The document at {url} is larger than {max_bytes} bytes.", code="document_too_large")
    try:
        document = json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:
        raise DidError(f"The document at {url} is not JSON: {exc}", code="invalid_document") from exc
    if not isinstance(document, dict):
        raise DidError(f"The document at {url} is not a JSON object.", code="invalid_document")
    return document


def _split_did_web(did: str) -> tuple[str, int | None, list[str]]:
    """(host, port, path segments) of a did:web, validated."""
    if not isinstance(did, str) or not did.startswith(DID_WEB_PREFIX):
        raise DidError(f"{did!r} is not a did:web identifier.", code="invalid_did")
    specific = did[len(DID_WEB_PREFIX):]
    if any(char in specific for char in "#?/"):
        raise DidError("A did:web has no fragment, query or '/' path here; resolve the DID itself.",
                       code="invalid_did")
    host_part, *segments = specific.split(":")
    try:
        parts = urlsplit("//" + unquote(host_part))
        host, port = parts.hostname or "", parts.port
    except ValueError as exc:
        raise DidError(f"The did:web host {host_part!r} is not valid: {exc}", code="invalid_did") from exc
    if parts.username is not None or parts.path or not host:
        raise DidError(f"The did:web host {host_part!r} is not valid.", code="invalid_did")
    for segment in segments:
        decoded = unquote(segment)
        if not _SEGMENT.match(segment) or decoded in (".", "..") or "/" in decoded or "\\" in decoded:
            raise DidError(f"The did:web path segment {segment!r} is not allowed.", code="invalid_did")
    return host, port, segments


def did_web_to_url(did: str, *, allow_http_loopback: bool = False) -> str:
    """The URL of a did:web's document: ``https://host[:port]/.well-known/did.json`` or ``…/path/did.json``.

    With ``allow_http_loopback`` a loopback host (development) maps to plain http.
    """
    host, port, segments = _split_did_web(did)
    http_ok = check_host(host, allow_http_loopback=allow_http_loopback, error=DidError)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = "/" + "/".join(segments) + "/did.json" if segments else "/.well-known/did.json"
    return f"{'http' if http_ok else 'https'}://{netloc}{path}"


def did_web_for_url(url: str) -> str:
    """The did:web of a web location: ``https://example.com/issuers/abc`` → ``did:web:example.com:issuers:abc``.

    A trailing ``/did.json`` or ``/.well-known/did.json`` is dropped; the port's colon becomes ``%3A``.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, AttributeError, TypeError) as exc:
        raise DidError(f"{url!r} is not a valid URL: {exc}", code="invalid_url") from exc
    host = parts.hostname or ""
    if parts.query or parts.fragment or parts.username is not None:
        raise DidError("A did:web location has no query, fragment or credentials.", code="invalid_url")
    if not host.isascii():
        raise DidError("Use the ASCII (punycode) form of an internationalised host name.", code="invalid_url")
    loopback = is_loopback_host(host)
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise DidError("did:web documents are served over https.", code="invalid_url")
    if _is_ip_literal(host) and not loopback:
        raise DidError("did:web needs a domain name, not an IP address.", code="invalid_url")
    if not loopback and not _HOSTNAME.match(host):
        raise DidError(f"{host!r} is not a valid host name.", code="invalid_url")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and not (parts.scheme == "https" and port == 443):
        netloc += f":{port}"
    segments = parts.path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]
    if segments[-2:] == [".well-known", "did.json"] and len(segments) == 2:
        segments = []
    elif segments and segments[-1] == "did.json":
        segments = segments[:-1]
    if any(segment in ("", ".", "..") for segment in segments):
        raise DidError(f"The path of {url} has empty or relative segments.", code="invalid_url")
    encoded = [quote(unquote(segment), safe=_SEGMENT_SAFE) for segment in segments]
    return ":".join([DID_WEB_PREFIX + quote(netloc, safe=""), *encoded])


def resolve_did_web(
    did: str,
    *,
    fetch: Fetch,
    allow_http_loopback: bool = False,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> dict[str, Any]:
    """Fetch and check a did:web document: https only, bounded size, and its ``id`` must be the DID."""
    url = did_web_to_url(did, allow_http_loopback=allow_http_loopback)
    document = fetch_json_document(url, fetch=fetch, max_bytes=max_bytes)
    if document.get("id") != did:
        raise DidError(
            f"The document at {url} describes {document.get('id')!r}, not {did}; it cannot speak for this DID.",
            code="did_document_id_mismatch",
        )
    return document


def _method_entries(
    did: str, keys: Iterable[PublicKey | tuple[str, PublicKey]], key_type: str
) -> list[tuple[str, PublicKey]]:
    entries = []
    for item in keys:
        fragment, key = item if isinstance(item, tuple) else (None, item)
        if not isinstance(key, PublicKey) or key.key_type != key_type:
            raise DidError(f"Expected {key_type} public keys here.", code="invalid_key")
        if fragment is None:
            fragment = key.to_multibase() if key_type == "Ed25519" else jwk_thumbprint(key.to_jwk())
        method_id = fragment if fragment.startswith(did + "#") else f"{did}#{fragment.removeprefix('#')}"
        entries.append((method_id, key))
    return entries


def build_did_web_document(
    did: str,
    *,
    ed25519_keys: Sequence[PublicKey | tuple[str, PublicKey]] = (),
    rsa_keys: Sequence[PublicKey | tuple[str, PublicKey]] = (),
    methods: Sequence[Mapping[str, Any]] = (),
    relationships: Sequence[str] = DEFAULT_RELATIONSHIPS,
    also_known_as: Sequence[str] = (),
    services: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A did:web document: Ed25519 keys as Multikey, RSA keys as JsonWebKey, plus any ready-made ``methods``.

    A key may be given as ``(fragment, key)``; otherwise its id is ``did#<multibase>`` (Ed25519) or
    ``did#<JWK thumbprint>`` (RSA). Every method is listed by id under each of ``relationships``.
    """
    did_web_to_url(did, allow_http_loopback=True)
    try:
        ed_entries = _method_entries(did, ed25519_keys, "Ed25519")
        rsa_entries = _method_entries(did, rsa_keys, "RSA")
    except KeyFormatError as exc:
        raise DidError(f"A key cannot be published: {exc}", code="invalid_key") from exc
    verification_methods: list[dict[str, Any]] = [
        multikey_document(key, id=method_id, controller=did) for method_id, key in ed_entries
    ]
    verification_methods += [jsonwebkey_document(key, id=method_id, controller=did) for method_id, key in rsa_entries]
    for method in methods:
        method_id = method.get("id")
        if not isinstance(method_id, str):
            raise DidError("Every verification method needs an id.", code="invalid_key")
        absolute = did + method_id if method_id.startswith("#") else method_id
        verification_methods.append({**method, "id": absolute})
    ids = [method["id"] for method in verification_methods]
    if len(set(ids)) != len(ids):
        raise DidError("Two verification methods have the same id.", code="duplicate_verification_method")
    contexts = [DID_CONTEXT]
    if ed_entries or any(method.get("type") == "Multikey" for method in methods):
        contexts.append(MULTIKEY_CONTEXT)
    if rsa_entries or any(method.get("type") == "JsonWebKey" for method in methods):
        contexts.append(JWK_CONTEXT)
    document: dict[str, Any] = {"@context": contexts, "id": did}
    if also_known_as:
        document["alsoKnownAs"] = list(also_known_as)
    document["verificationMethod"] = verification_methods
    for relationship in relationships:
        document[relationship] = list(ids)
    if services:
        document["service"] = [dict(service) for service in services]
    return document


__all__ = [
    "MAX_DOCUMENT_BYTES",
    "Fetch",
    "build_did_web_document",
    "check_document_url",
    "check_host",
    "did_web_for_url",
    "did_web_to_url",
    "fetch_json_document",
    "is_loopback_host",
    "resolve_did_web",
]
