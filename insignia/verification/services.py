"""The platform's verifier: the kernel pipeline, a fetcher that knows this instance, and trust signals.

Everything that verifies on this instance (the public ``/verify`` page, ``POST /api/v1/verify``,
``insignia verify --instance``, the public award page) calls the functions here, so they all give the
same answer:

* :func:`instance_fetch` answers URLs under ``INSIGNIA_BASE_URL`` in-process from our own public views
  (DID documents, status lists, OB 2.0 documents, images): our own status is read live from the database
  and our own server never calls itself. Every other URL goes to the hardened :class:`HttpFetcher`.
* :func:`verify_stored_award` checks an award's stored OB 3.0 credential exactly as an outsider would.
* :func:`verify_submission` checks whatever a visitor gave us (object, JWT, URL, file) and adds
  :class:`TrustSignals`: whether the issuer is one this instance knows, and the verified domain of a
  did:web issuer. Trust is reported beside the verdict, never folded into it.

What is cached, and how fresh it is (nothing here is ever answered from a stale state; every change shows on
the very next verification, in every server process):

* our own DID documents and signed status lists, as served, per process (at most ``LOCAL_DOCUMENTS_SIZE``),
  under their current version, which one small query reads on every verification that needs them; one
  verification reads each at most once (:func:`verification_scope`: the DID document is needed twice);
* the verdict on a stored award (the page's live check, and a submitted credential that is exactly one we
  store), in Django's cache under everything it depends on: the credential's bytes, the award's status, both
  status lists' versions, the issuer's key set (all read live, one query) and a time window that never spans
  an instant at which the verdict could change by itself (``verdict_cache_key``);
* our award's status and issuer are read live (one query) whenever a report is about one of ours.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest

from insignia.core.errors import ServiceError
from insignia.core.prepared import fetch_one
from insignia.credentials.dids import did_web_to_url
from insignia.credentials.dids.resolver import Resolver
from insignia.credentials.errors import CredentialError, FetchError
from insignia.credentials.verify.inputs import MAX_JSON_DEPTH
from insignia.credentials.verify.pipeline import Verifier
from insignia.credentials.verify.report import CheckStatus, VerificationReport

logger = logging.getLogger(__name__)

#: What our in-process fetch asks our own views for (the same preference the HTTP fetcher sends).
ACCEPT = "application/ld+json, application/json;q=0.9, text/plain;q=0.8, image/png;q=0.7, image/svg+xml;q=0.7"

#: The public, standard endpoints the in-process fetch may answer (URL name → view); nothing else.
PUBLIC_VIEWS = frozenset({
    "issuers:profile", "issuers:did", "issuers:ob2", "issuers:key", "issuers:image",
    "badges:achievement", "badges:ob2", "badges:image", "badges:image_png",
    "awards:public", "awards:credential_json", "awards:credential_jwt", "awards:assertion", "awards:assertion_jws",
    "awards:baked_png", "awards:baked_svg", "awards:baked_ob2_png", "awards:baked_ob2_svg",
    "awards:status_list", "awards:ob2_revocations",
})


class SubmissionError(ServiceError):
    """The request to verify was malformed (no input, two inputs, too large); nothing was verified."""

    status = 400
    code = "input_invalid"

    def __init__(self, message: str, *, code: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message, code=code, field=field)
        self.status = status


# == fetching ====================================================================================================


def _origin(url: str) -> tuple[str, int | None, str] | None:
    """(host, port, path) of an http(s) URL, with default ports made explicit; None when unparseable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80), parts.path


def _instance_path(url: str) -> str | None:
    """The path of ``url`` inside this instance, or None when ``url`` is elsewhere.

    did:web always names https, so ``https://host:port/...`` is ours when the base URL is
    ``http://host:port`` (a development instance) as well as when it is https.
    """
    mine, theirs = _origin(settings.BASE_URL), _origin(url)
    if mine is None or theirs is None or theirs[0] != mine[0]:
        return None
    if theirs[1] != mine[1] and urlsplit(url).port != urlsplit(settings.BASE_URL).port:
        return None
    base_path = mine[2].rstrip("/")
    path = theirs[2] or "/"
    if base_path and not (path == base_path or path.startswith(base_path + "/")):
        return None
    return path[len(base_path):] or "/"


class _LocalDocuments:
    """Our own documents the verifier fetches on every verification (DID documents, signed status lists), as
    served, under a key that names their current version: bounded (least recently used first out), per process,
    thread-safe. An entry is never stale: a new version is a new key, and the old one ages out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.entries: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            body = self.entries.get(key)
            if body is not None:
                self.entries.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        with self.lock:
            self.entries[key] = body
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


#: At most this many of our documents are kept per process (a DID document is ~1 KB, a status list ~2 KB).
LOCAL_DOCUMENTS_SIZE = 512
_local_documents = _LocalDocuments(LOCAL_DOCUMENTS_SIZE)

#: What one verification fetched (URL → body), so that a document it needs twice (the issuer's DID document
#: for the credential's proof and again for its status list's proof) is read once: one verification sees one
#: snapshot. Set by :func:`verification_scope`; None outside one.
_fetched: ContextVar[dict[str, bytes] | None] = ContextVar("insignia_verification_fetched", default=None)


@contextmanager
def verification_scope() -> Iterator[None]:
    """Within this block, each URL is fetched at most once (see ``_fetched``); nested scopes share the outer one."""
    if _fetched.get() is not None:
        yield
        return
    token = _fetched.set({})
    try:
        yield
    finally:
        _fetched.reset(token)


def _serve_locally(url: str, path: str) -> bytes:
    """Call our own public view for ``path`` with a plain GET, as a remote verifier would see it."""
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path)
    except Resolver404 as exc:
        raise FetchError(f"{url} answered HTTP 404.", code="http_404", status=404) from exc
    if match.view_name not in PUBLIC_VIEWS:
        raise FetchError(f"{url} is not a public document of this instance.", code="http_404", status=404)
    document_key = _document_cache_key(match.view_name, match.kwargs.get("public_id", ""))
    if document_key:
        cached = _local_documents.get(document_key)
        if cached is not None:
            return cached
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    host, port, _ = _origin(settings.BASE_URL) or ("localhost", 80, "")
    request.META = {"REQUEST_METHOD": "GET", "HTTP_ACCEPT": ACCEPT, "SERVER_NAME": host, "SERVER_PORT": str(port),
                    "PATH_INFO": path, "QUERY_STRING": ""}
    try:
        response = match.func(request, *match.args, **match.kwargs)
    except Http404 as exc:
        raise FetchError(f"{url} answered HTTP 404.", code="http_404", status=404) from exc
    if response.status_code != 200:
        raise FetchError(f"{url} answered HTTP {response.status_code}.", code=f"http_{response.status_code}",
                         status=response.status_code)
    body = bytes(b"".join(response) if getattr(response, "streaming", False) else response.content)
    if document_key:
        _local_documents.put(document_key, body)
    return body


_version_sql: dict[str, str] = {}


def _version_query(kind: str) -> str:
    """The one small query that reads the current version of one of our documents (raw SQL: the ORM would
    cost more to compile than the database takes to answer, on every verification)."""
    sql = _version_sql.get(kind)
    if sql is None:
        from django.db import connection

        from insignia.awards.models import StatusList
        from insignia.issuers.models import Issuer, SigningKey

        q = connection.ops.quote_name
        if kind == "status-list":
            sql = f"SELECT id, version FROM {q(StatusList._meta.db_table)} WHERE public_id = %s"  # noqa: S608
        else:  # the DID document: the issuer row and its key set (retired keys stay published)
            issuers, keys = q(Issuer._meta.db_table), q(SigningKey._meta.db_table)
            sql = ("SELECT i.id, i.updated_at, i.did_method, COUNT(k.id), MAX(k.id), MAX(k.retired_at) "  # noqa: S608
                   f"FROM {issuers} i LEFT JOIN {keys} k ON k.issuer_id = i.id WHERE i.public_id = %s "
                   "GROUP BY i.id, i.updated_at, i.did_method")
        _version_sql[kind] = sql
    return sql


def _document_cache_key(view_name: str, public_id: str) -> str | None:
    """The cache key of one of our documents the verifier fetches on every verification, at its current version
    (one small query, so a change shows at once in every process), or None when it is not cached: a signed status
    list (its ``version`` changes with every bit) and an issuer's DID document (it changes with the issuer and its
    key set)."""
    kind = {"awards:status_list": "status-list", "issuers:did": "did-document"}.get(view_name)
    if kind is None:
        return None
    row = fetch_one(_version_query(kind), [public_id])
    if row is None:
        return None
    version = hashlib.blake2b(repr((settings.BASE_URL, tuple(row))).encode("utf-8"), digest_size=12).hexdigest()
    return f"{kind}:{public_id}:{version}"


_http_fetcher: Any = None
_http_lock = threading.Lock()


def http_fetcher() -> Any:
    """The one hardened fetcher for everything outside this instance (kept, so its cache lives on)."""
    global _http_fetcher
    with _http_lock:
        if _http_fetcher is None:
            from insignia.net.fetch import HttpFetcher

            _http_fetcher = HttpFetcher()
        return _http_fetcher


def instance_fetch(url: str) -> bytes:
    """``fetch(url) -> bytes`` for the kernel: our own URLs in-process, all others through HttpFetcher; inside a
    :func:`verification_scope`, each URL once."""
    fetched = _fetched.get()
    if fetched is not None and url in fetched:
        return fetched[url]
    path = _instance_path(url)
    body = _serve_locally(url, path) if path is not None else http_fetcher()(url)
    if fetched is not None:
        fetched[url] = body
    return body


def _base_is_loopback_http() -> bool:
    """A development instance on http://localhost: its own did:web documents are served over http."""
    origin = _origin(settings.BASE_URL)
    if origin is None or urlsplit(settings.BASE_URL).scheme != "http":
        return False
    from insignia.credentials.dids.web import is_loopback_host

    return is_loopback_host(origin[0])


def max_input_bytes() -> int:
    return int(getattr(settings, "MAX_UPLOAD_BYTES", 2 * 1024 * 1024))


_verifiers: dict[tuple[bool, int], Verifier] = {}
_verifiers_lock = threading.Lock()


def platform_verifier() -> Verifier:
    """The process-wide verifier, built once per configuration and shared by every request and thread.

    Its resolver keeps no documents between calls (``cache_ttl=0``), so revocation and key rotation show at
    once, as with a fresh verifier per request; what is reused is everything costly to build (the context
    loader, schemas, the pipeline). The kernel's ``Verifier`` is thread-safe when ``fetch`` is, and
    :func:`instance_fetch` is (Django gives each thread its own database connection).
    """
    config = (_base_is_loopback_http(), max_input_bytes())
    verifier = _verifiers.get(config)
    if verifier is None:
        with _verifiers_lock:
            verifier = _verifiers.get(config)
            if verifier is None:
                resolver = Resolver(fetch=instance_fetch, allow_http_loopback=config[0], cache_ttl=0)
                verifier = Verifier(fetch=instance_fetch, resolver=resolver, allow_http_loopback=config[0],
                                    max_input_bytes=config[1])
                _verifiers[config] = verifier
    return verifier


# == trust =======================================================================================================


@dataclass(frozen=True)
class TrustSignals:
    """Who stands behind the badge, as far as this instance can tell; separate from "the signature is valid".

    ``level`` is ``known`` (an issuer on this instance signed it), ``domain`` (a did:web issuer elsewhere whose
    key is published on that domain), ``unknown`` (signed by a key bound to the named issuer, but nothing
    more is known about who that is) or ``unverified`` (the signer could not be tied to the issuer, so
    nothing can be said).
    """

    level: str
    message: str
    issuer_known: bool = False
    issuer_name: str | None = None
    issuer_profile: str | None = None
    domain: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "issuer_known": self.issuer_known,
            "issuer_name": self.issuer_name,
            "issuer_profile": self.issuer_profile,
            "domain": self.domain,
            "message": self.message,
        }


def _our_issuer(issuer_id: str) -> Any:
    """The Issuer of this instance that ``issuer_id`` (its did:web, profile URL or OB 2.0 URL) names, if any."""
    from insignia.issuers.identity import issuer_did, issuer_url, ob2_issuer_url
    from insignia.issuers.models import Issuer

    public_id: str | None = None
    base = settings.BASE_URL.rstrip("/")
    if issuer_id.startswith("did:web:") and ":i:" in issuer_id:
        public_id = issuer_id.rsplit(":i:", 1)[1]
    elif issuer_id.startswith(base + "/i/"):
        public_id = issuer_id[len(base) + 3:].split("/", 1)[0]
    elif issuer_id.startswith("did:key:z") and len(issuer_id) <= 200:
        # A did:key issuer of ours: its Ed25519 key's multibase is the did:key's method-specific id.
        from insignia.issuers.models import DidMethod, SigningKey

        key = (SigningKey.objects.filter(public_multibase=issuer_id[len("did:key:"):],
                                         issuer__did_method=DidMethod.KEY).select_related("issuer").first())
        public_id = key.issuer.public_id if key is not None else None
    if not public_id or len(public_id) > 64:
        return None
    issuer = Issuer.objects.filter(public_id=public_id).first()
    if issuer is None or issuer_id not in (issuer_did(issuer), issuer_url(issuer), ob2_issuer_url(issuer)):
        return None
    return issuer


def _did_web_domain(did: str) -> str | None:
    try:
        host = urlsplit(did_web_to_url(did, allow_http_loopback=True)).hostname
    except CredentialError:
        return None
    return host or None


def trust_signals(report: VerificationReport, *, our_award: OurAward | None = None) -> TrustSignals:
    """What we can say about the issuer of a verified (or not) credential. ``our_award``: the award of ours the
    report is about, when the caller already looked it up (its issuer is then the one the report names)."""
    issuer_id = report.summary.issuer_id
    proof, binding = report.get("proof"), report.get("issuer_key")
    bound = (proof is not None and proof.status is CheckStatus.PASSED
             and binding is not None and binding.status is CheckStatus.PASSED)
    if not isinstance(issuer_id, str) or not issuer_id:
        return TrustSignals("unverified", "The credential does not name its issuer in a way that can be checked.")
    if not bound:
        return TrustSignals("unverified", "The signature could not be tied to the named issuer, so nothing can be "
                                          "said about who issued it.")
    issuer = our_award.issuer if our_award is not None else _our_issuer(issuer_id)
    if issuer is not None:
        from insignia.issuers.identity import issuer_url

        return TrustSignals("known", f"Issued by {issuer.name}, an issuer on this Insignia instance.",
                            issuer_known=True, issuer_name=issuer.name, issuer_profile=issuer_url(issuer),
                            domain=_origin(settings.BASE_URL)[0] if _origin(settings.BASE_URL) else None)
    if issuer_id.startswith("did:web:"):
        domain = _did_web_domain(issuer_id)
        if domain:
            return TrustSignals("domain", f"The signing key is published by {domain}. This instance does not know "
                                          "the issuer otherwise: decide whether you trust that domain.",
                                domain=domain)
    return TrustSignals("unknown", "The signature matches the issuer's own key, but this instance does not know "
                                   "this issuer: that is not an error, and not an endorsement either.")


# == verifying ===================================================================================================


@dataclass
class VerificationResult:
    """The kernel's report plus the trust signals: what every surface shows."""

    report: VerificationReport
    trust: TrustSignals
    recipient: str | None = None

    @property
    def verdict(self) -> str:
        return str(self.report.verdict)

    def to_json(self) -> dict[str, Any]:
        return {**self.report.to_json(), "trust": self.trust.to_json()}


@dataclass(frozen=True)
class OurAward:
    """What the verifier needs of one of our awards: its live status and its issuer."""

    pk: int
    status: str
    status_reason: str
    issuer: Any  # an Issuer with id, public_id, name and did_method loaded


_award_sql: str | None = None


def _award_query() -> str:
    """The award named by a public id, with its status and issuer, in one query (raw SQL, as ``_version_query``)."""
    global _award_sql
    if _award_sql is None:
        from django.db import connection

        from insignia.awards.models import Award
        from insignia.issuers.models import Issuer

        q = connection.ops.quote_name
        _award_sql = ("SELECT a.id, a.status, a.status_reason, i.id, i.public_id, i.name, i.did_method "  # noqa: S608
                      f"FROM {q(Award._meta.db_table)} a JOIN {q(Issuer._meta.db_table)} i ON i.id = a.issuer_id "
                      "WHERE a.public_id = %s")
    return _award_sql


def _our_award(report: VerificationReport) -> OurAward | None:
    """The award of this instance a verified report is about (its OB 3.0 id or OB 2.0 assertion id), if any,
    read live (one query)."""
    from django.db import connection

    from insignia.issuers.identity import issuer_did, ob2_issuer_url
    from insignia.issuers.models import Issuer

    credential_id = report.summary.id
    base = settings.BASE_URL.rstrip("/") + "/c/"
    if not isinstance(credential_id, str) or not credential_id.startswith(base):
        return None
    public_id = credential_id[len(base):].removesuffix("/assertion")
    if not public_id or "/" in public_id or len(public_id) > 64:
        return None
    row = fetch_one(_award_query(), [public_id])
    if row is None:
        return None
    issuer = Issuer.from_db(connection.alias, ["id", "public_id", "name", "did_method"], list(row[3:7]))
    if report.summary.issuer_id not in (issuer_did(issuer), ob2_issuer_url(issuer)):
        return None
    return OurAward(pk=row[0], status=str(row[1]), status_reason=row[2] or "", issuer=issuer)


def _instance_status(report: VerificationReport) -> OurAward | None:
    """For our own badges our records are the issuer's word: a suspension shows even where the credential
    carries no suspension list, and a revocation shows even before any cached list is refreshed. Returns the
    award when the report is about one of ours (and was looked up)."""
    proof, binding, status = report.get("proof"), report.get("issuer_key"), report.get("status")
    if not (proof and binding and proof.status is CheckStatus.PASSED and binding.status is CheckStatus.PASSED):
        return None
    if status is not None and status.status is CheckStatus.FAILED:
        return None
    award = _our_award(report)
    if award is None:
        return None
    from insignia.awards.models import AwardStatus

    reason = f" Reason given: {award.status_reason}" if award.status_reason else ""
    if award.status == AwardStatus.REVOKED:
        report.failed("status", "revoked", f"The issuer has revoked this credential.{reason}")
    elif award.status == AwardStatus.SUSPENDED:
        report.failed("status", "suspended", f"The issuer has suspended this credential for now.{reason}")
    return award


#: How long a stored award's verdict may be reused when nothing it depends on changed (seconds). Everything
#: it depends on is in the key (status and status-list versions, the key set, the credential's bytes, and the
#: instants at which it expires or starts), so this is only a safety net. Every award's window starts at its
#: own offset, so a page full of awards does not re-verify all at once.
VERDICT_WINDOW = 3600
VERDICT_CACHE_PREFIX = "insignia:verdict:v1"


def _moments(award: Any) -> list[datetime]:
    """The instants at which a stored award's verdict may change by itself: its expiry, the credential's
    validity bounds and proof time, each with the verifier's clock skew either side."""
    from insignia.credentials.verify.pipeline import DEFAULT_SKEW

    found: list[datetime] = []
    for value in (getattr(award, "expires_on", None), getattr(award, "issued_on", None)):
        if isinstance(value, datetime):
            found.append(value)
    credential = award.credential if isinstance(award.credential, dict) else {}
    proof = credential.get("proof")
    proofs = proof if isinstance(proof, list) else [proof]
    texts = [credential.get(name) for name in ("validFrom", "validUntil", "issuanceDate", "expirationDate")]
    texts += [item.get("created") for item in proofs if isinstance(item, dict)]
    texts += [item.get("expires") for item in proofs if isinstance(item, dict)]
    for text in texts:
        if isinstance(text, str):
            try:
                found.append(datetime.fromisoformat(text.replace("Z", "+00:00")))
            except ValueError:
                continue
    moments = []
    for moment in found:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moments += [moment - DEFAULT_SKEW, moment, moment + DEFAULT_SKEW]
    return moments


def _key_subquery(aggregate: Any) -> Any:
    from django.db.models import OuterRef, Subquery

    from insignia.issuers.models import SigningKey

    return Subquery(SigningKey.objects.filter(issuer_id=OuterRef("issuer_id")).order_by()
                    .values("issuer_id").annotate(value=aggregate).values("value")[:1])


def with_verdict_versions(awards: Any) -> Any:
    """``awards`` (an Award queryset) annotated with what a cached verdict is keyed on, so that
    :func:`award_versions` needs no query of its own: both status lists' versions and the issuer's key set."""
    from django.db.models import Count, F, Max

    return awards.annotate(verdict_revocation_version=F("revocation_list__version"),
                           verdict_suspension_version=F("suspension_list__version"),
                           verdict_keys_count=_key_subquery(Count("id")), verdict_keys_last=_key_subquery(Max("id")),
                           verdict_keys_retired=_key_subquery(Max("retired_at")))


#: The columns of an award its verdict needs (with :func:`with_verdict_versions`' annotations).
STORED_FIELDS = ("id", "public_id", "credential", "issued_on", "expires_on", "status", "status_changed_at",
                 "issuer_id")
_stored_sql: dict[str, str] = {}


def _stored_award_sql(lookup: str) -> str:
    """One award (``STORED_FIELDS`` and ``status_reason``) with :func:`with_verdict_versions`' annotations and its
    issuer's identity, by ``id`` or ``public_id``, as one statement. Written out rather than compiled by the ORM
    on every call (its three correlated subqueries took longer to compile than ten runs of the query), and with
    scalar subqueries rather than joins, which PostgreSQL plans (on every request) in less time."""
    sql = _stored_sql.get(lookup)
    if sql is None:
        from django.db import connection

        from insignia.awards.models import Award, StatusList
        from insignia.issuers.models import Issuer, SigningKey

        q = connection.ops.quote_name
        award, lists = q(Award._meta.db_table), q(StatusList._meta.db_table)
        issuers, keys = q(Issuer._meta.db_table), q(SigningKey._meta.db_table)
        columns = ", ".join(f"a.{q(name)}" for name in (*STORED_FIELDS, "status_reason"))
        where = "a.id = %s" if lookup == "pk" else "a.public_id = %s"
        sql = (f"SELECT {columns}, "  # noqa: S608 (our own quoted names; the value is a parameter)
               f"(SELECT r.version FROM {lists} r WHERE r.id = a.revocation_list_id) AS verdict_revocation_version, "
               f"(SELECT s.version FROM {lists} s WHERE s.id = a.suspension_list_id) AS verdict_suspension_version, "
               f"(SELECT COUNT(*) FROM {keys} k WHERE k.issuer_id = a.issuer_id) AS verdict_keys_count, "
               f"(SELECT MAX(k.id) FROM {keys} k WHERE k.issuer_id = a.issuer_id) AS verdict_keys_last, "
               f"(SELECT MAX(k.retired_at) FROM {keys} k WHERE k.issuer_id = a.issuer_id) AS verdict_keys_retired, "
               f"(SELECT i.public_id FROM {issuers} i WHERE i.id = a.issuer_id) AS issuer_public_id, "
               f"(SELECT i.name FROM {issuers} i WHERE i.id = a.issuer_id) AS issuer_name, "
               f"(SELECT i.did_method FROM {issuers} i WHERE i.id = a.issuer_id) AS issuer_did_method "
               f"FROM {award} a WHERE {where}")
        _stored_sql[lookup] = sql
    return sql


#: The columns :func:`_stored_award_sql` selects after the award's own fields, set on the award as they come.
STORED_EXTRAS = ("verdict_revocation_version", "verdict_suspension_version", "verdict_keys_count",
                 "verdict_keys_last", "verdict_keys_retired", "issuer_public_id", "issuer_name", "issuer_did_method")
_stored_layouts: weakref.WeakKeyDictionary[Any, tuple[list[str], list[int], list[tuple[int, list[Any], Any]]]] = (
    weakref.WeakKeyDictionary())


def _stored_layout(connection: Any) -> tuple[list[str], list[int], list[tuple[int, list[Any], Any]]]:
    """How a row of :func:`_stored_award_sql` becomes an Award, worked out once per database connection object
    (each thread has its own, and converters may be bound to it): the fields' attribute names in the model's
    order, their positions in the row, and each column's converters from database values (e.g. the credential's
    JSON text, SQLite's timestamps), as the ORM would apply them."""
    layout = _stored_layouts.get(connection)
    if layout is None:
        from insignia.awards.models import Award

        selected = (*STORED_FIELDS, "status_reason")
        fields = [Award._meta.get_field(name) for name in selected]
        converters = []
        for position, field in enumerate(fields):
            column = field.get_col(Award._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((position, found, column))
        ordered = [field for field in Award._meta.concrete_fields if field.attname in selected]
        layout = ([field.attname for field in ordered], [selected.index(field.attname) for field in ordered],
                  converters)
        _stored_layouts[connection] = layout
    return layout


def stored_award(*, public_id: str | None = None, pk: int | None = None) -> Any:
    """An award (``STORED_FIELDS``) carrying what its cached verdict is keyed on and its issuer's identity
    (``issuer_public_id``, ``issuer_name``, ``issuer_did_method``), read now; None if there is none.

    One prepared statement on PostgreSQL (planned once per connection), and the row made into an Award directly,
    as ``Award.objects.raw`` would (the same converters and deferred fields), without working out its column
    mapping again on every call: on every verification, both cost more than the database took to answer."""
    from django.db import DEFAULT_DB_ALIAS, connections

    from insignia.awards.models import Award

    lookup, value = ("pk", pk) if pk is not None else ("public_id", public_id)
    row = fetch_one(_stored_award_sql(lookup), [value])
    if row is None:
        return None
    connection = connections[DEFAULT_DB_ALIAS]  # this thread's (the one fetch_one used)
    names, positions, converters = _stored_layout(connection)
    values = list(row)
    for position, functions, column in converters:
        for function in functions:
            values[position] = function(values[position], column, connection)
    award = Award.from_db(connection.alias, names, [values[position] for position in positions])
    for name, extra in zip(STORED_EXTRAS, values[len(STORED_FIELDS) + 1:], strict=True):
        setattr(award, name, extra)
    return award


def _as_ours(award: Any, report: VerificationReport) -> OurAward | None:
    """``award`` (from :func:`stored_award`) as :class:`OurAward`, if the report's issuer is its issuer."""
    from django.db import connection

    from insignia.issuers.identity import issuer_did, ob2_issuer_url
    from insignia.issuers.models import Issuer

    issuer = Issuer.from_db(connection.alias, ["id", "public_id", "name", "did_method"],
                            [award.issuer_id, award.issuer_public_id, award.issuer_name, award.issuer_did_method])
    if report.summary.issuer_id not in (issuer_did(issuer), ob2_issuer_url(issuer)):
        return None
    return OurAward(pk=award.pk, status=str(award.status), status_reason=award.status_reason or "", issuer=issuer)


def _instant(value: Any) -> datetime | None:
    """A timestamp as the ORM gives it (an aware datetime), also from a raw row (SQLite: text)."""
    if value is None or isinstance(value, datetime):
        return value
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(str(value))
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def award_versions(award: Any) -> tuple[Any, ...]:
    """What a stored award's verdict depends on besides the credential and time: its status, both status lists'
    versions and the issuer's key set, read live. An award loaded through :func:`with_verdict_versions` or
    :func:`stored_award` carries them; for any other (possibly stale) instance one query reads them now."""
    if getattr(award, "verdict_keys_count", None) is None:
        award = stored_award(pk=award.pk)
        if award is None:
            return ("missing",)
    status, changed = award.status, award.status_changed_at
    return (str(status), changed.isoformat() if changed else "", award.verdict_revocation_version,
            award.verdict_suspension_version,
            key_set_version(award.verdict_keys_count, award.verdict_keys_last, _instant(award.verdict_keys_retired)))


def key_set_version(count: Any, last: Any, retired: Any) -> str:
    """A version of an issuer's key set: changes when a key is added, removed or retired."""
    return f"{count or 0}.{last or 0}.{retired.isoformat() if retired else ''}"


def credential_fingerprint(credential: Any) -> str:
    """A short digest of the stored credential: a verdict belongs to these exact bytes."""
    text = credential if isinstance(credential, str) else json.dumps(credential, ensure_ascii=False)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def verdict_cache_key(award: Any, now: datetime) -> str:
    """The cache key of a stored award's verdict at ``now``: award, versions and a time window that never
    spans an instant at which the verdict could change by itself (expiry, validFrom, …)."""
    stamp = now.timestamp()
    offset = (award.pk * 7919) % VERDICT_WINDOW
    window = int((stamp + offset) // VERDICT_WINDOW)
    passed = sum(1 for moment in _moments(award) if moment <= now)
    parts = (award.public_id, credential_fingerprint(award.credential), *award_versions(award), window, passed)
    return f"{VERDICT_CACHE_PREFIX}:" + ":".join("" if part is None else str(part) for part in parts)


def verify_stored_award(award: Any, *, now: datetime | None = None, use_cache: bool = True) -> VerificationReport:
    """Verify an award's stored OB 3.0 credential as an outsider would (status read live from our database).

    The verdict is cached (Django's cache) under :func:`verdict_cache_key`: a revocation, suspension, key
    change or status-list change makes a new key, so the next request verifies afresh; time-dependent
    outcomes are re-checked at least every ``VERDICT_WINDOW`` seconds and never reused across an expiry.
    """
    from django.core.cache import cache

    moment = now or datetime.now(UTC)
    key = verdict_cache_key(award, moment) if use_cache else ""
    if key:
        try:
            cached = cache.get(key)
        except Exception:  # a cache outage must not break verification
            logger.warning("Could not read the verdict cache", exc_info=True)
            cached = None
        if isinstance(cached, VerificationReport):
            return cached
    with verification_scope():
        report = platform_verifier().verify(award.credential, now=moment)
        _instance_status(report)
    if key:
        try:
            cache.set(key, report, VERDICT_WINDOW + 60)
        except Exception:
            logger.warning("Could not write the verdict cache", exc_info=True)
    return report


def _size(value: str | bytes) -> int:
    return len(value.encode("utf-8")) if isinstance(value, str) else len(value)


def verify_submission(
    *,
    credential: dict[str, Any] | str | None = None,
    url: str | None = None,
    file_bytes: bytes | None = None,
    recipient: str | None = None,
    now: datetime | None = None,
) -> VerificationResult:
    """Verify exactly one of ``credential`` (an object, JSON text or JWT), ``url`` or ``file_bytes``.

    Raises :class:`SubmissionError` when none or several are given, or when the input is larger than
    ``INSIGNIA_MAX_UPLOAD_BYTES`` (status 413); every problem *with the credential* is a report instead.
    A credential object that is exactly one we store (and no recipient to check) gets that award's verdict
    (:func:`verify_stored_award`, cached under everything it depends on): the same checks on the same bytes.
    """
    given = [name for name, value in (("credential", credential), ("url", url), ("file", file_bytes))
             if value not in (None, "", b"")]
    if not given:
        raise SubmissionError("Give a credential to verify: a file, a URL, or the credential's JSON or JWT.",
                              code="input_missing")
    if len(given) > 1:
        raise SubmissionError(f"Give one credential at a time (got {' and '.join(given)}).",
                              code="input_ambiguous")
    limit = max_input_bytes()
    data: dict[str, Any] | str | bytes
    parsed: dict[str, Any] | None = None
    if credential is not None and credential != "":
        if isinstance(credential, dict):
            try:  # measured as text, so the size limit applies alike; the kernel bounds its nesting alike too
                data = json.dumps(credential, ensure_ascii=False)
            except (RecursionError, ValueError) as exc:
                raise SubmissionError("The credential is nested too deeply.", code="json_too_deep") from exc
            parsed = credential  # already parsed: not parsed a second time from ``data``
        elif isinstance(credential, str):
            data = credential
        else:
            raise SubmissionError("The credential must be a JSON object or a JWT string.", code="input_invalid",
                                  field="credential")
    elif url:
        if not isinstance(url, str) or _origin(url.strip()) is None:
            raise SubmissionError("The URL must be an absolute http(s) URL.", code="url_invalid", field="url")
        data = url.strip()
    else:
        data = file_bytes or b""
    if _size(data) > limit:
        raise SubmissionError(f"The credential is larger than {limit:,} bytes, the most this verifier accepts.",
                              code="input_too_large", status=413)
    recipient = (recipient or "").strip() or None
    if recipient is not None and len(recipient) > 500:
        raise SubmissionError("The recipient is too long.", code="recipient_invalid", field="recipient")
    with verification_scope():
        twin = _stored_twin(parsed) if parsed is not None and recipient is None else None
        if twin is not None:  # one of ours, exactly as stored: the same checks as the page's, cached alike
            report = verify_stored_award(twin, now=now)
            trust = trust_signals(report, our_award=_as_ours(twin, report))
        else:
            report = platform_verifier().verify(parsed if parsed is not None else data, recipient=recipient, now=now)
            trust = trust_signals(report, our_award=_instance_status(report))
    return VerificationResult(report=report, trust=trust, recipient=recipient)


def _canonical_json(value: Any) -> str:
    """JSON text that is equal for equal JSON values only (``true`` is not ``1``, ``1.0`` is not ``1``)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _stored_twin(credential: dict[str, Any]) -> Any:
    """Our award whose stored credential is exactly ``credential`` (the same JSON value; key order aside), loaded
    with what its cached verdict is keyed on; None for anything else. Verifying one is verifying the other: the
    kernel sees the same document, at the same time, against the same documents."""
    credential_id = credential.get("id")
    base = settings.BASE_URL.rstrip("/") + "/c/"
    if not isinstance(credential_id, str) or not credential_id.startswith(base):
        return None
    public_id = credential_id[len(base):]
    if not public_id or "/" in public_id or len(public_id) > 64:
        return None
    award = stored_award(public_id=public_id)
    if award is None or not isinstance(award.credential, dict):
        return None
    try:
        same = _canonical_json(award.credential) == _canonical_json(credential)
    except (TypeError, ValueError, RecursionError):
        return None
    return award if same else None


def refused_result(code: str, message: str) -> VerificationResult:
    """A report for input refused before the pipeline (e.g. nesting beyond what any parser should walk)."""
    report = VerificationReport()
    report.failed("format", code, message)
    return VerificationResult(report=report, trust=trust_signals(report))


__all__ = [
    "MAX_JSON_DEPTH",
    "SubmissionError",
    "TrustSignals",
    "VerificationResult",
    "award_versions",
    "instance_fetch",
    "platform_verifier",
    "refused_result",
    "trust_signals",
    "verdict_cache_key",
    "verify_stored_award",
    "verify_submission",
    "with_verdict_versions",
]
