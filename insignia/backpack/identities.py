"""Which identities are an earner's, and the proofs that make a URL or a DID theirs.

An award joins a wallet only through an identity the earner has *proved*: a verified email address
(allauth's ``EmailAddress``, confirmed by a link or by a claim link), or a verified ``EarnerIdentity``
(URL or DID). Candidates are found by the issuer's private ``(recipient_kind, recipient_identity)`` and
confirmed against the credential's salted hash, so a row whose identity and hash disagree never matches.

Proofs:

* **URL** — the page at the URL links to the earner's portfolio with ``<link rel="me" href="…">`` (or
  ``<a rel="me">``), or carries ``<meta name="insignia-verification" content="<challenge>">``. The page is
  fetched through the hardened ``HttpFetcher``.
* **DID** — the earner signs the challenge as a compact JWS (payload: the challenge, or a JSON object whose
  ``challenge`` member is it) with a key their DID document lists under ``authentication`` or
  ``assertionMethod``; the JWS header's ``kid`` names that verification method. did:key resolves offline.

Challenges are derived (HMAC of the secret key over the identity and its expiry), so the page can show a
pending challenge again while only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q

from insignia.awards.models import Award
from insignia.credentials.errors import CredentialError
from insignia.credentials.model.identity import hash_identity

Fetch = Callable[[str], bytes]

CHALLENGE_PREFIX = "insignia-verify-"
META_NAME = "insignia-verification"
DID_RE = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._%-]$")
#: The verification relationships whose keys may prove control of a DID.
DID_PROOF_PURPOSES = ("authentication", "assertionMethod")


class ProofFailed(Exception):
    """A URL or DID proof did not hold; the message says what was missing and what to do."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# -- which identities are the user's ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    kind: str
    value: str


def verified_identities(user: Any) -> list[Identity]:
    """The identities ``user`` has proved: verified email addresses and verified URL/DID identities."""
    from allauth.account.models import EmailAddress

    from insignia.backpack.models import EarnerIdentity

    found = [Identity("email", email.strip().lower()) for email in
             EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)]
    found += [Identity(kind, value) for kind, value in
              EarnerIdentity.objects.filter(user=user, verified_at__isnull=False).values_list("kind", "value")]
    return found


def identity_filter(identities: Iterable[Identity]) -> Q | None:
    """A query matching awards made to any of ``identities`` (by the issuer's private identity column)."""
    by_kind: dict[str, set[str]] = {}
    for identity in identities:
        values = by_kind.setdefault(identity.kind, set())
        values.add(identity.value)
        if identity.kind == "url":  # the same page with or without its trailing slash
            values.update({identity.value.rstrip("/"), identity.value.rstrip("/") + "/"})
    query: Q | None = None
    for kind, values in by_kind.items():
        part = Q(recipient_kind=kind, recipient_identity__in=sorted(values))
        query = part if query is None else query | part
    return query


def hash_matches(award: Award) -> bool:
    """The award's stored identity really is the one its credential's salted hash commits to."""
    return hmac.compare_digest(hash_identity(award.recipient_identity, award.recipient_salt), award.recipient_hash)


def owns(user: Any, award: Award, identities: Iterable[Identity] | None = None) -> bool:
    """Whether ``user`` may see and act on ``award``: its earner, or (unclaimed) the holder of its identity."""
    if award.earner_id is not None:
        return bool(award.earner_id == user.pk)
    query = identity_filter(identities if identities is not None else verified_identities(user))
    if query is None:
        return False
    return Award.objects.filter(query, pk=award.pk).exists() and hash_matches(award)


# -- challenges ------------------------------------------------------------------------------------------------


def challenge_for(user_pk: int, kind: str, value: str, expires_at: datetime) -> str:
    """The challenge for one pending identity (recomputable, so it need not be stored in clear)."""
    message = f"{user_pk}|{kind}|{value}|{expires_at.isoformat()}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), b"insignia.backpack.challenge|" + message, hashlib.sha256)
    return CHALLENGE_PREFIX + digest.hexdigest()[:40]


def challenge_hash(challenge: str) -> str:
    return hashlib.sha256(challenge.encode("utf-8")).hexdigest()


# -- URL proofs ------------------------------------------------------------------------------------------------


def normalise_url(value: str) -> str:
    """An http(s) URL as awards store it (stripped, otherwise as given: URLs are case-sensitive); else ValueError."""
    text = (value or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > 320 or parts.fragment:
        raise ValueError(f"{text!r} is not a web address: give the full address, starting with https:// "
                         "(without a #fragment).")
    if parts.username or parts.password:
        raise ValueError("A web address with a user name or password in it cannot be an identity.")
    return text


class _Links(HTMLParser):
    """Collects ``rel="me"`` hrefs and ``insignia-verification`` meta contents from a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.me: list[str] = []
        self.meta: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag in ("link", "a") and "me" in values.get("rel", "").lower().split():
            self.me.append(values.get("href", "").strip())
        elif tag == "meta" and values.get("name", "").strip().lower() == META_NAME:
            self.meta.append(values.get("content", "").strip())


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def check_url_proof(url: str, *, fetch: Fetch, profile_url: str, challenge: str) -> str:
    """Fetch ``url`` and find the proof on it; returns which proof was found (``rel-me`` or ``meta``)."""
    try:
        body = fetch(url)
    except CredentialError as exc:
        raise ProofFailed(f"{url} could not be fetched: {exc.message}", code="url_fetch_failed") from exc
    parser = _Links()
    try:
        parser.feed(body.decode("utf-8", errors="replace"))
        parser.close()
    except Exception as exc:  # a broken page is a failed proof, never a crash
        raise ProofFailed(f"The page at {url} could not be read as HTML.", code="url_not_html") from exc
    if any(hmac.compare_digest(content, challenge) for content in parser.meta):
        return "meta"
    if any(_same_url(href, profile_url) for href in parser.me):
        return "rel-me"
    raise ProofFailed(
        f"The page at {url} has neither <link rel=\"me\" href=\"{profile_url}\"> nor "
        f"<meta name=\"{META_NAME}\" content=\"…\"> with your code. Publish one of them and try again.",
        code="url_proof_missing",
    )


# -- DID proofs ------------------------------------------------------------------------------------------------


def _payload_has(payload: bytes, challenge: str) -> bool:
    text = payload.decode("utf-8", errors="replace").strip()
    if hmac.compare_digest(text, challenge):
        return True
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and isinstance(value.get("challenge"), str) and hmac.compare_digest(
        value["challenge"], challenge)


def check_did_proof(did: str, jws: str, *, challenge: str, fetch: Fetch | None) -> str:
    """Verify the earner's signed challenge for ``did``; returns the verification method that signed it."""
    from insignia.credentials.dids import Resolver
    from insignia.credentials.proofs.jose import decode_jws

    token = (jws or "").strip()
    if not token:
        raise ProofFailed("Paste the signed challenge (a compact JWS: three parts separated by dots).",
                          code="did_proof_missing")
    try:
        decoded = decode_jws(token, max_length=20_000)
    except CredentialError as exc:
        raise ProofFailed(f"That is not a usable compact JWS: {exc.message}", code="did_proof_malformed") from exc
    kid = decoded.header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ProofFailed("The JWS header has no 'kid': set it to the verification method that signs, e.g. "
                          f"{did}#key-1.", code="did_proof_no_kid")
    if kid.startswith("#"):
        kid = did + kid
    if kid.split("#", 1)[0] != did:
        raise ProofFailed(f"The key {kid} is not one of {did}'s own keys.", code="did_proof_wrong_did")
    if not _payload_has(decoded.payload, challenge):
        raise ProofFailed("The signed payload is not your current code. Sign exactly the code shown on this page.",
                          code="did_proof_wrong_challenge")
    # did:web over plain http only to loopback, and only when the fetcher itself allows loopback (development).
    resolver = Resolver(fetch, allow_http_loopback=bool(getattr(fetch, "allow_loopback", False)), cache_ttl=0)
    try:
        method = resolver.dereference_method(kid)
    except CredentialError as exc:
        raise ProofFailed(f"{did} could not be resolved: {exc.message}", code="did_unresolvable") from exc
    if method.controller != did or not any(method.authorized_for(p) for p in DID_PROOF_PURPOSES):
        raise ProofFailed(f"{did}'s document does not list {kid} under authentication or assertionMethod.",
                          code="did_key_not_authorised")
    # The payload may be the bare code (not JSON), so check the signature over the signing input directly.
    key = method.public_key
    if decoded.header.get("alg") != key.algorithm or not key.verify(decoded.signing_input, decoded.signature):
        raise ProofFailed(f"The signature does not verify with {kid}: sign with that key (algorithm "
                          f"{key.algorithm}).", code="did_signature_invalid")
    return kid


def default_fetch() -> Fetch:
    """The hardened fetcher (development instances on localhost may fetch loopback http pages)."""
    from insignia.net.fetch import HttpFetcher

    host = urlsplit(settings.BASE_URL).hostname or ""
    return HttpFetcher(allow_loopback=host in ("localhost", "127.0.0.1") and settings.DEBUG, cache=None)


__all__ = [
    "CHALLENGE_PREFIX",
    "META_NAME",
    "Identity",
    "ProofFailed",
    "challenge_for",
    "challenge_hash",
    "check_did_proof",
    "check_url_proof",
    "default_fetch",
    "hash_matches",
    "identity_filter",
    "normalise_url",
    "owns",
    "verified_identities",
]
