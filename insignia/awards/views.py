"""Award pages and endpoints.

Public, standard endpoints (no login) under ``/c/<award>``, ``/status/<list>`` and
``/i/<issuer>/ob2/revocations``; management pages under ``/orgs/<org>/awards/``. Views parse input,
call a query or service, and render; the rules live in ``services``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, ClassVar, Literal
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from insignia.awards import certificate as certificates
from insignia.awards import credentials as documents
from insignia.awards import engagement, queries, services, share_image, sharing, statuslists
from insignia.awards.forms import AwardFilterForm, IssueForm, ReasonForm
from insignia.awards.models import Award, EngagementKind
from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.core import changes
from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.http import JSON_LD, SVG_CSP, cached_response, etag_for, json_bytes, json_document_response
from insignia.core.markdown import markdown_html
from insignia.core.orgviews import org_view
from insignia.core.prepared import fetch_one
from insignia.core.tenancy import Actor, get_scoped, scoped
from insignia.credentials.status.revocation_list import revocation_list
from insignia.credentials.verify.pipeline import DEFAULT_SKEW
from insignia.issuers.identity import ob2_issuer_url, ob2_revocation_list_url
from insignia.verification.services import VERDICT_WINDOW, verify_stored_award, with_verdict_versions

VC_JSON_LD = "application/vc+ld+json"
#: The signed credential never changes: caches may keep it for a day.
IMMUTABLE_MAX_AGE = 86_400
#: Anything that reflects status (status lists, hosted assertions, revocation lists, pages): one minute.
STATUS_MAX_AGE = 60
#: Evidence files are downloads; should a browser render one anyway, it may run and load nothing.
EVIDENCE_CSP = "default-src 'none'; sandbox"

View = Callable[..., HttpResponse]


# == public endpoints ============================================================================================


def _public_award(public_id: str) -> Award:
    try:
        return queries.public_award(public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _page_query_award(public_id: str) -> Award:
    """The award for its public page in ONE query: badge, issuer, organisation, and what its cached verdict is
    keyed on (status lists' versions, the issuer's key set) as annotations."""
    award = (with_verdict_versions(Award.objects.select_related("badge", "issuer", "organisation"))
             .filter(public_id=public_id).order_by().first())
    if award is None:
        raise Http404("No such badge award.")
    return award


def _page_award(public_id: str) -> Award:
    """An award that has a public page: every award but a declined one."""
    award = _public_award(public_id)
    if not sharing.has_page(award):
        raise Http404("No such badge award.")
    return award


def _shareable_award(public_id: str) -> Award:
    """An award whose details may be shown: not declined, not hidden by its earner."""
    award = _page_award(public_id)
    if sharing.is_hidden(award):
        raise Http404("No such badge award.")
    return award


def _is_earner(request: HttpRequest, award: Award) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and award.earner_id == user.pk)


def _count(request: HttpRequest, award: Award, kind: str, channel: str = "", *, response: HttpResponse | None = None
           ) -> None:
    """Count a visitor's GET (not HEAD, not our own in-process fetches, not a 304, not the earner's own visits)."""
    if not engagement.is_visitor_request(request) or (response is not None and response.status_code != 200):
        return
    if kind in (EngagementKind.VIEW, EngagementKind.EMBED) and _is_earner(request, award):
        return
    engagement.record_engagement(award, kind, channel)


def _robots(response: HttpResponse, award: Award) -> HttpResponse:
    """Only public awards may be indexed; unlisted and hidden pages (and their images) say noindex."""
    if not sharing.is_indexable(award):
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page_cache(request: HttpRequest, response: HttpResponse) -> None:
    private = getattr(request, "user", None) is not None and request.user.is_authenticated
    response["Cache-Control"] = f"{'private' if private else 'public'}, max-age={STATUS_MAX_AGE}"


def _checks(report: Any) -> list[dict[str, str]]:
    return [{"id": check.id, "title": check.title, "status": str(check.status), "message": check.message}
            for check in report.checks]


def _evidence(award: Award) -> list[dict[str, Any]]:
    """The award's evidence for the page: links, narratives (sanitised Markdown) and uploaded files."""
    prefix = f"{documents.credential_url(award.public_id)}/evidence/"
    uploaded = any((item.get("url") or "").startswith(prefix) for item in award.evidence or [])
    files = {found.public_id: found for found in award.evidence_files.all()} if uploaded else {}
    items = []
    for item in award.evidence or []:
        url = item.get("url") or ""
        file_id = url[len(prefix):] if url.startswith(prefix) else ""
        found = files.get(file_id)
        items.append({
            "name": item.get("name") or "", "description": item.get("description") or "",
            "url": reverse("awards:evidence_file", args=[award.public_id, file_id]) if found else url,
            "file": found, "narrative_html": markdown_html(item.get("narrative") or "", heading_offset=3),
        })
    return items


def _downloads(award: Award) -> list[dict[str, str]]:
    badge = award.badge
    has_png = bool(badge.image_png) or badge.image_type == "image/png"
    has_svg = badge.image_type == "image/svg+xml"
    links = [
        ("PDF certificate (A4)", reverse("awards:certificate", args=[award.public_id]) + "?size=a4"),
        ("PDF certificate (US Letter)", reverse("awards:certificate", args=[award.public_id]) + "?size=letter"),
    ]
    if has_png:
        links += [("Badge image with the credential inside (PNG, Open Badges 3.0)",
                   reverse("awards:baked_png", args=[award.public_id])),
                  ("Badge image with the credential inside (PNG, Open Badges 2.0)",
                   reverse("awards:baked_ob2_png", args=[award.public_id]))]
    if has_svg:
        links += [("Badge image with the credential inside (SVG, Open Badges 3.0)",
                   reverse("awards:baked_svg", args=[award.public_id])),
                  ("Badge image with the credential inside (SVG, Open Badges 2.0)",
                   reverse("awards:baked_ob2_svg", args=[award.public_id]))]
    links += [("Open Badges 3.0 credential (JSON)", reverse("awards:credential_json", args=[award.public_id])),
              ("Verifiable credential as a JWT", reverse("awards:credential_jwt", args=[award.public_id]))]
    return [{"label": label, "href": href} for label, href in links]


def _share_image_url(award: Award) -> str:
    path = reverse("awards:share_image", args=[award.public_id])
    return f"{settings.BASE_URL}{path}?v={share_image.fingerprint(award)}"


def _oembed_href(award: Award) -> str:
    return f"{settings.BASE_URL}{reverse('awards:oembed')}?" + urlencode(
        {"url": sharing.page_url(award), "format": "json"})


#: Whole public pages for visitors without a session (nothing on them depends on who looks): cached under a
#: key made of everything shown, read with one small query per request. Kept at most this long.
PAGE_CACHE_SECONDS = VERDICT_WINDOW
PAGE_CACHE_PREFIX = "insignia:award-page:v1"
PAGE_HEADERS = ("Content-Type", "Vary", "Cache-Control", "X-Robots-Tag")


def _stateless_visitor(request: HttpRequest) -> bool:
    """A visitor with no session and no pending messages: the page they get is the same for everyone."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


_page_sql: str | None = None


def _page_version_sql() -> str:
    """One query for everything a public page shows that can change after issue (see ``_page_version``)."""
    global _page_sql
    if _page_sql is None:
        from django.db import connection

        from insignia.awards.models import StatusList
        from insignia.core.models import Organisation
        from insignia.issuers.models import Issuer, SigningKey

        q = connection.ops.quote_name
        award, badge, issuer = q(Award._meta.db_table), q(BadgeClass._meta.db_table), q(Issuer._meta.db_table)
        org, lists, keys = q(Organisation._meta.db_table), q(StatusList._meta.db_table), q(SigningKey._meta.db_table)
        # Only our own quoted table names are formatted in; the public id is a parameter. Scalar subqueries, not
        # joins, and as few as can be: the same information, but PostgreSQL plans it in less time (measured:
        # 0.33 ms a query instead of 0.46; it is now prepared, so planned once per connection). The length
        # prefix keeps the organisation's two fields apart in one text.
        _page_sql = (
            "SELECT a.id, a.status, a.status_changed_at, a.status_reason, a.visibility, a.show_recipient_name, "  # noqa: S608
            "a.acceptance, a.recipient_name, a.earner_id, a.issued_on, a.expires_on, "
            f"(SELECT b.updated_at FROM {badge} b WHERE b.id = a.badge_id), "
            f"(SELECT i.updated_at FROM {issuer} i WHERE i.id = a.issuer_id), "
            "(SELECT CAST(LENGTH(o.brand_colour) AS TEXT) || ':' || o.brand_colour || o.name "
            f"FROM {org} o WHERE o.id = a.organisation_id), "
            f"(SELECT r.version FROM {lists} r WHERE r.id = a.revocation_list_id), "
            f"(SELECT s.version FROM {lists} s WHERE s.id = a.suspension_list_id), "
            "(SELECT CAST(COUNT(*) AS TEXT) || '.' || COALESCE(CAST(MAX(k.id) AS TEXT), '') || '.' || "
            f"COALESCE(CAST(MAX(k.retired_at) AS TEXT), '') FROM {keys} k WHERE k.issuer_id = a.issuer_id) "
            f"FROM {award} a WHERE a.public_id = %s"
        )
    return _page_sql


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


#: The page-version rows of the most viewed awards, per process (a row is ~1 KB).
PAGE_ROWS_KEPT = 20_000
_page_rows = changes.RowMemo(PAGE_ROWS_KEPT)


def _load_page_row(public_id: str) -> tuple[Any, ...] | None:
    return fetch_one(_page_version_sql(), [public_id], binary=True)


def _page_version(public_id: str) -> tuple[int, str] | None:
    """(award pk, the page's cache key) from one query, or None when there is no such award.

    The key changes with anything the page shows: the award's status, reason, visibility and acceptance, the
    badge, issuer and organisation (their edits), the status lists and the issuer's keys (the verdict), and
    time (a window per award that never spans its expiry or start, as the verdict cache does).
    """
    # Kept while nothing changed (``core.changes``: per process on PostgreSQL, which announces every change to
    # these rows; per thread on SQLite, while the file is unchanged), else asked for: prepared (planned once per
    # connection), the row read in binary (numbers, text and timestamps).
    row = _page_rows.get(public_id, _load_page_row, public_id)
    if row is None:
        return None
    now = timezone.now()
    award_pk, issued_on, expires_on = row[0], _as_datetime(row[9]), _as_datetime(row[10])
    window = int((now.timestamp() + (award_pk * 7919) % VERDICT_WINDOW) // VERDICT_WINDOW)
    moments = [m + delta for m in (issued_on, expires_on) if m is not None
               for delta in (-DEFAULT_SKEW, timedelta(0), DEFAULT_SKEW)]
    passed = sum(1 for moment in moments if moment <= now)
    digest = hashlib.blake2b(repr((row, window, passed)).encode("utf-8"), digest_size=16).hexdigest()
    return award_pk, f"{PAGE_CACHE_PREFIX}:{public_id}:{digest}"


def _cached_page(request: HttpRequest, public_id: str) -> tuple[HttpResponse | None, str]:
    """The cached page for a stateless visitor (counted as a view), else (None, the key to store under)."""
    version = _page_version(public_id)
    if version is None:
        raise Http404("No such badge award.")
    award_pk, key = version
    found = cache.get(key)
    if found is None:
        return None, key
    body, headers = found
    response = HttpResponse(body)
    for name, value in headers.items():
        response[name] = value
    if engagement.is_visitor_request(request):
        engagement.record_engagement(award_pk, EngagementKind.VIEW)
    return response, key


PAGE_TYPES = ("text/html", VC_JSON_LD, JSON_LD, "application/json")
_preferred_by_accept: dict[str, str | None] = {}
#: Distinct Accept headers whose answer is remembered (clients send a handful; beyond this, none are added).
ACCEPT_MEMO_SIZE = 256


def _preferred_page_type(request: HttpRequest) -> str | None:
    """Which of ``PAGE_TYPES`` the request prefers (Django's content negotiation), remembered per Accept header:
    the answer depends on nothing else, and parsing the header cost more than the rest of a cached page."""
    accept = request.META.get("HTTP_ACCEPT", "*/*")
    try:
        return _preferred_by_accept[accept]
    except KeyError:
        pass
    wanted = request.get_preferred_type(list(PAGE_TYPES))
    if len(_preferred_by_accept) < ACCEPT_MEMO_SIZE and len(accept) <= 1024:
        _preferred_by_accept[accept] = wanted
    return wanted


@require_safe
def award_page(request: HttpRequest, public_id: str) -> HttpResponse:
    """The credential's id: a page for people, the credential JSON for clients asking for JSON.

    The JSON always serves (it is the issuer's record). The page: 404 for a declined award; for a hidden one,
    only whether a valid credential exists; else everything, with the live verification spelled out.
    """
    wanted = _preferred_page_type(request)
    if wanted in (VC_JSON_LD, JSON_LD, "application/json"):
        _, body, etag = _credential_body(public_id)
        return cached_response(request, body, content_type=wanted, max_age=IMMUTABLE_MAX_AGE, vary=["Accept"],
                               etag=etag)
    page_key = ""
    if _stateless_visitor(request):
        cached, page_key = _cached_page(request, public_id)
        if cached is not None:
            return cached
    award = _page_query_award(public_id)
    if not sharing.has_page(award):
        raise Http404("No such badge award.")
    report = verify_stored_award(award)
    state = queries.display_state(award)
    earner = _is_earner(request, award)
    if sharing.is_hidden(award):
        response = render(request, "awards/public_hidden.html", {
            "verdict": str(report.verdict), "is_earner": earner,
        })
    else:
        badge = award.badge
        recipient = sharing.public_name(award)
        description = f"{badge.name}, issued by {award.issuer.name}" + (f" to {recipient}" if recipient else "") + \
            f" on {award.issued_on:%-d %B %Y}. " + (badge.description or "")
        parts = _page_parts(award)
        response = render(request, "awards/public_award.html", {
            **parts,
            "award": award,
            "badge": badge,
            "issuer": award.issuer,
            "issuer_url": reverse("issuers:profile", args=[award.issuer.public_id]),
            "state": state,
            "recipient_name": recipient,
            "report": report,
            "verdict": str(report.verdict),
            "checks": _checks(report),
            "verify_url": sharing.verify_url(award),
            "credential_url": documents.credential_url(award.public_id),
            "alignments": badge.alignments or [],
            "og": {
                "title": f"{badge.name} — {award.issuer.name}",
                "description": " ".join(description.split())[:300],
                "image": _share_image_url(award),
                "image_alt": f"{badge.name}, issued by {award.issuer.name}",
                "url": sharing.page_url(award),
            },
            "indexable": sharing.is_indexable(award),
            "is_earner": earner,
            "brand_organisation": award.organisation,
        })
    response["Vary"] = "Accept, Cookie"
    _page_cache(request, response)
    _count(request, award, EngagementKind.VIEW)
    _robots(response, award)
    if page_key and response.status_code == 200 and not response.cookies:
        cache.set(page_key, (response.content, {name: response[name] for name in PAGE_HEADERS if name in response}),
                  PAGE_CACHE_SECONDS)
    return response


#: How long a process may keep serving a credential's bytes from the cache. The signed credential never
#: changes; this only bounds how long a deleted award's JSON could still be served (clients may keep it a day).
CREDENTIAL_CACHE_SECONDS = 300
CREDENTIAL_CACHE_PREFIX = "insignia:credential:v1"
#: Page parts that need no viewer and change only with the award or badge (Markdown, links): cached.
PARTS_CACHE_PREFIX = "insignia:award-parts:v1"


def _credential_body(public_id: str) -> tuple[int, bytes, str]:
    """(award pk, the stored credential's bytes, their ETag), serialised once and cached by public id."""
    key = f"{CREDENTIAL_CACHE_PREFIX}:{public_id}"
    found = cache.get(key)
    if found is not None:
        return found
    row = Award.objects.filter(public_id=public_id).values_list("pk", "credential").order_by().first()
    if row is None:
        raise Http404("No such badge award.")
    credential = row[1]
    body = credential.encode("utf-8") if isinstance(credential, str) else json_bytes(credential)
    found = (row[0], body, etag_for(body))
    cache.set(key, found, CREDENTIAL_CACHE_SECONDS)
    return found


def _page_parts(award: Award) -> dict[str, Any]:
    """The viewer-independent, costly parts of the page (Markdown, evidence, download links), cached per award
    and badge version; anything an earner or issuer can change is in the key."""
    badge = award.badge
    fingerprint = hashlib.blake2b(json.dumps(
        [award.narrative, award.evidence, badge.criteria_narrative, badge.image_type, bool(badge.image_png),
         badge.updated_at.isoformat() if badge.updated_at else "", sharing.page_url(award),
         share_image.fingerprint(award)], ensure_ascii=False, default=str).encode("utf-8"), digest_size=12).hexdigest()
    key = f"{PARTS_CACHE_PREFIX}:{award.public_id}:{fingerprint}"
    parts = cache.get(key)
    if parts is None:
        parts = {
            "criteria_html": markdown_html(badge.criteria_narrative, heading_offset=2),
            "narrative_html": markdown_html(award.narrative, heading_offset=2),
            "evidence": [{**item, "file": SimpleNamespace(filename=item["file"].filename, size=item["file"].size)
                          if item["file"] else None} for item in _evidence(award)],
            "downloads": _downloads(award),
            "oembed_href": _oembed_href(award),
        }
        cache.set(key, parts, PAGE_CACHE_SECONDS)
    return parts


@require_safe
def credential_json(request: HttpRequest, public_id: str) -> HttpResponse:
    """The signed OB 3.0 credential, exactly as stored (bytes and ETag cached; ``304`` for a matching
    ``If-None-Match``)."""
    award_pk, body, etag = _credential_body(public_id)
    response = cached_response(request, body, content_type=VC_JSON_LD, max_age=IMMUTABLE_MAX_AGE, etag=etag)
    if engagement.is_visitor_request(request) and response.status_code == 200:
        engagement.record_engagement(award_pk, EngagementKind.DOWNLOAD, "json")
    return response


@require_safe
def credential_jwt(request: HttpRequest, public_id: str) -> HttpResponse:
    """The VC-JWT form (RS256), made on first request."""
    award = _public_award(public_id)
    token = documents.jwt_for(award)
    response = cached_response(request, token.encode("ascii"), content_type="text/plain; charset=utf-8",
                               max_age=IMMUTABLE_MAX_AGE)
    _count(request, award, EngagementKind.DOWNLOAD, "jwt", response=response)
    return response


@require_safe
def assertion(request: HttpRequest, public_id: str) -> HttpResponse:
    """The OB 2.0 hosted assertion; 410 Gone with ``revoked: true`` once revoked."""
    award = _public_award(public_id)
    response = json_document_response(request, documents.hosted_assertion(award), max_age=STATUS_MAX_AGE)
    if award.status == "revoked" and response.status_code == 200:
        response.status_code = 410
    return response


@require_safe
def assertion_jws(request: HttpRequest, public_id: str) -> HttpResponse:
    """The OB 2.0 signed assertion (compact JWS); revocation is published in the issuer's revocation list."""
    token = documents.signed_assertion(_public_award(public_id))
    return cached_response(request, token.encode("ascii"), content_type="text/plain; charset=utf-8",
                           max_age=IMMUTABLE_MAX_AGE)


def _baked(request: HttpRequest, public_id: str, image_format: Literal["png", "svg"],
           flavour: Literal["ob3", "ob2"]) -> HttpResponse:
    award = _public_award(public_id)
    try:
        body = documents.baked(award, image_format, flavour)
    except documents.ImageMissing as exc:
        raise Http404(f"{exc} Download the credential JSON instead.") from exc
    if image_format == "svg":
        response = cached_response(request, body, content_type="image/svg+xml", max_age=STATUS_MAX_AGE,
                                   headers={"Content-Security-Policy": SVG_CSP})
    else:
        response = cached_response(request, body, content_type="image/png", max_age=STATUS_MAX_AGE)
    _count(request, award, EngagementKind.DOWNLOAD, image_format if flavour == "ob3" else f"{image_format}-ob2",
           response=response)
    return response


@require_safe
def baked_png(request: HttpRequest, public_id: str) -> HttpResponse:
    """The badge PNG with the OB 3.0 credential baked in."""
    return _baked(request, public_id, "png", "ob3")


@require_safe
def baked_svg(request: HttpRequest, public_id: str) -> HttpResponse:
    """The badge SVG with the OB 3.0 credential baked in."""
    return _baked(request, public_id, "svg", "ob3")


@require_safe
def baked_ob2_png(request: HttpRequest, public_id: str) -> HttpResponse:
    """The badge PNG with the OB 2.0 hosted assertion baked in."""
    return _baked(request, public_id, "png", "ob2")


@require_safe
def baked_ob2_svg(request: HttpRequest, public_id: str) -> HttpResponse:
    """The badge SVG with the OB 2.0 hosted assertion baked in."""
    return _baked(request, public_id, "svg", "ob2")


@require_safe
def evidence_file(request: HttpRequest, public_id: str, file_id: str) -> HttpResponse:
    """An uploaded evidence file, always as a download (attachment, nosniff, sandboxed)."""
    try:
        found = queries.public_evidence_file(public_id, file_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    with found.file.open("rb") as handle:
        body = handle.read()
    content_type = f"{found.content_type}; charset=utf-8" if found.content_type == "text/plain" else found.content_type
    return cached_response(request, body, content_type=content_type, max_age=IMMUTABLE_MAX_AGE, headers={
        "Content-Disposition": content_disposition_header(True, found.filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": EVIDENCE_CSP,
        "Cross-Origin-Resource-Policy": "cross-origin",
    })


# -- sharing: preview image, oEmbed, embed, status image, QR code, counted share links, certificate --------------

#: The embed page may be framed by any site; it runs no script and submits nothing.
EMBED_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'none'; "
             "frame-ancestors *")
OEMBED_PROVIDER = "Insignia"


@require_safe
def share_image_png(request: HttpRequest, public_id: str) -> HttpResponse:
    """The 1200×630 link-preview image (generic for a hidden award), stored once per state."""
    award = _page_award(public_id)
    response = cached_response(request, share_image.stored_image(award), content_type="image/png",
                               max_age=STATUS_MAX_AGE, headers={"X-Content-Type-Options": "nosniff"})
    return _robots(response, award)


def _int_param(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise Http404("maxwidth and maxheight must be whole numbers.") from exc
    return number if number > 0 else None


def _award_from_url(url: str) -> Award | None:
    """The award a page URL of ours names (``/c/<id>``, optionally ``/embed``), else None."""
    parts = urlsplit(url.strip())
    base = urlsplit(settings.BASE_URL)
    if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() != (base.hostname or "").lower():
        return None
    if (parts.port or (443 if parts.scheme == "https" else 80)) != (base.port or (443 if base.scheme == "https"
                                                                                   else 80)):
        return None
    path = parts.path
    prefix = base.path.rstrip("/") + "/c/"
    if not path.startswith(prefix):
        return None
    public_id = path[len(prefix):].removesuffix("/").removesuffix("/embed")
    if not public_id or "/" in public_id or len(public_id) > 64:
        return None
    return Award.objects.select_related("badge", "issuer", "organisation").filter(public_id=public_id).first()


@require_safe
def oembed(request: HttpRequest) -> HttpResponse:
    """oEmbed (https://oembed.com) for award pages: a ``rich`` type with the live embed iframe."""
    if request.GET.get("format", "json") != "json":
        return HttpResponse("Only format=json is supported.", status=501, content_type="text/plain; charset=utf-8")
    award = _award_from_url(request.GET.get("url", ""))
    if award is None or not sharing.is_shareable(award):
        raise Http404("No embeddable badge at that URL.")
    width, height = sharing.embed_size(_int_param(request.GET.get("maxwidth")),
                                       _int_param(request.GET.get("maxheight")))
    document = {
        "version": "1.0",
        "type": "rich",
        "title": f"{award.badge.name} — {award.issuer.name}",
        "author_name": award.issuer.name,
        "author_url": sharing.issuer_profile_url(award),
        "provider_name": OEMBED_PROVIDER,
        "provider_url": f"{settings.BASE_URL}/",
        "cache_age": STATUS_MAX_AGE,
        "html": sharing.embed_iframe(award, width, height),
        "width": width,
        "height": height,
        "thumbnail_url": _share_image_url(award),
        "thumbnail_width": share_image.WIDTH,
        "thumbnail_height": share_image.HEIGHT,
    }
    return cached_response(request, json.dumps(document, ensure_ascii=False).encode("utf-8"),
                           content_type="application/json", max_age=STATUS_MAX_AGE)


@require_safe
@xframe_options_exempt
def embed(request: HttpRequest, public_id: str) -> HttpResponse:
    """The badge with its live status, for an iframe on any site (frameable, no script)."""
    award = _shareable_award(public_id)
    response = render(request, "awards/embed.html", {
        "award": award, "badge": award.badge, "issuer": award.issuer, "state": queries.display_state(award),
        "recipient_name": sharing.public_name(award), "page_url": sharing.page_url(award),
    })
    response["Content-Security-Policy"] = EMBED_CSP
    response["Cache-Control"] = f"public, max-age={STATUS_MAX_AGE}"
    response["X-Robots-Tag"] = "noindex"
    _count(request, award, EngagementKind.EMBED)
    return response


@require_safe
def status_svg(request: HttpRequest, public_id: str) -> HttpResponse:
    """A small image of the badge and its status right now (the embed's no-script fallback)."""
    award = _page_award(public_id)
    response = cached_response(request, sharing.status_svg(award), content_type="image/svg+xml",
                               max_age=STATUS_MAX_AGE, headers={"Content-Security-Policy": SVG_CSP,
                                                                "X-Robots-Tag": "noindex"})
    if not sharing.is_hidden(award):
        _count(request, award, EngagementKind.EMBED, "image", response=response)
    return response


@require_safe
def qr_svg(request: HttpRequest, public_id: str) -> HttpResponse:
    """A QR code of the page's address (SVG)."""
    award = _shareable_award(public_id)
    return cached_response(request, sharing.qr_svg(award), content_type="image/svg+xml", max_age=IMMUTABLE_MAX_AGE,
                           headers={"Content-Security-Policy": SVG_CSP})


@require_safe
def qr_png(request: HttpRequest, public_id: str) -> HttpResponse:
    """A QR code of the page's address (PNG)."""
    award = _shareable_award(public_id)
    return cached_response(request, sharing.qr_png(award), content_type="image/png", max_age=IMMUTABLE_MAX_AGE)


class _ShareRedirect(HttpResponseRedirect):
    allowed_schemes: ClassVar[list[str]] = ["https", "mailto"]


@require_safe
def share(request: HttpRequest, public_id: str, channel: str) -> HttpResponse:
    """Count a share click (nothing about the visitor is kept) and go on to the network."""
    award = _shareable_award(public_id)
    target = sharing.channel_target(award, channel)
    if target is None:
        raise Http404("No such share channel.")
    _count(request, award, EngagementKind.SHARE, channel)
    response = _ShareRedirect(target)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def certificate_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    """The PDF certificate (``?size=a4`` or ``letter``, landscape).

    The public gets it for awards whose page shows details, with the name only where the page shows it; the
    signed-in earner gets it for their own award (also a hidden one), always with their name.
    """
    award = _page_award(public_id)
    earner = _is_earner(request, award)
    if sharing.is_hidden(award) and not earner:
        raise Http404("No such badge award.")
    size = request.GET.get("size", "a4").lower()
    if size not in certificates.SIZES:
        return HttpResponse("size must be a4 or letter.", status=400, content_type="text/plain; charset=utf-8")
    include_name = earner or sharing.shows_recipient_name(award)
    document = certificates.render_certificate(award, size=size, include_name=include_name)  # type: ignore[arg-type]
    response = HttpResponse(document.content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, document.filename)
    response["Cache-Control"] = "private, no-store" if earner else f"public, max-age={STATUS_MAX_AGE}"
    response["X-Content-Type-Options"] = "nosniff"
    _robots(response, award)
    _count(request, award, EngagementKind.DOWNLOAD, "pdf", response=response)
    return response


@require_safe
def status_list(request: HttpRequest, public_id: str) -> HttpResponse:
    """A signed BitstringStatusListCredential, re-signed on the first request after a change."""
    try:
        found = queries.public_status_list(public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return json_document_response(request, statuslists.signed_list_credential(found), content_type=VC_JSON_LD,
                                  max_age=STATUS_MAX_AGE)


@require_safe
def ob2_revocations(request: HttpRequest, public_id: str) -> HttpResponse:
    """The issuer's OB 2.0 RevocationList: every revoked assertion id, with its reason."""
    try:
        issuer, revoked = queries.revoked_awards(public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    document = revocation_list(id=ob2_revocation_list_url(issuer), issuer=ob2_issuer_url(issuer), revoked={
        documents.assertion_url(award.public_id): award.status_reason or None for award in revoked
    })
    return json_document_response(request, document, max_age=STATUS_MAX_AGE)


# == management pages ============================================================================================



def _context(actor: Actor, **extra: Any) -> dict[str, Any]:
    return {"actor": actor, "organisation": actor.organisation, "can_issue": actor.can("issue"), **extra}


def _detail_url(actor: Actor, award: Award) -> str:
    return reverse("awards:detail", args=[actor.organisation.public_id, award.public_id])


def _form_error(form: Any, exc: ServiceError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    field = {"evidence": "evidence_url", "recipient_kind": "recipient_kind"}.get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


#: Rows per page of the award list.
AWARDS_PER_PAGE = 25


@require_safe
@org_view("view")
def award_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    badges = scoped(BadgeClass.objects.all(), actor).order_by("name", "id").values_list("public_id", "name")
    filters = AwardFilterForm(request.GET or None, badges=list(badges))
    values = filters.cleaned_data if filters.is_valid() else {}
    awards = queries.for_listing(queries.awards_for(actor, search=values.get("q", ""), status=values.get("status", ""),
                                                    badge=values.get("badge", "")))
    page = queries.page_of(awards, request.GET.get("page"), AWARDS_PER_PAGE, keyset="issued_on",
                           after=request.GET.get("after"), before=request.GET.get("before"),
                           count_limit=queries.SEARCH_COUNT_LIMIT if values.get("q") else None)
    query = request.GET.copy()
    for name in ("page", "after", "before"):
        query.pop(name, None)
    rows = [(award, queries.display_state(award)) for award in page.object_list]
    return render(request, "awards/list.html", _context(
        actor, filters=filters, page=page, rows=rows, query=query.urlencode(), filtered=bool(values and any(
            values.values())),
    ))


@require_safe
@org_view("issue")
def award_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    """"Issue a badge" from the dashboard: the only published badge's award form, else the badge list."""
    published = list(scoped(BadgeClass.objects.all(), actor).filter(status=BadgeStatus.PUBLISHED)[:2])
    if len(published) == 1:
        return redirect("awards:issue", actor.organisation.public_id, published[0].public_id)
    messages.info(request, "Open a published badge and choose “Award this badge”." if published
                  else "Publish a badge first; then you can award it.")
    return redirect("badges:list", actor.organisation.public_id)


@require_http_methods(["GET", "HEAD", "POST"])
@org_view("issue")
def award_issue(request: HttpRequest, actor: Actor, badge_id: str) -> HttpResponse:
    badge = get_scoped(BadgeClass.objects.select_related("issuer"), actor, public_id=badge_id)
    assert isinstance(badge, BadgeClass)
    posted = request.method == "POST"
    form = IssueForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            award = services.issue_award(actor=actor, badge=badge, **form.issue_arguments())  # type: ignore[arg-type]
        except (NotFound, PermissionDenied):
            raise
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"“{badge.name}” was awarded; the signed credential is ready.")
            return redirect(_detail_url(actor, award))
    return render(request, "awards/issue.html", _context(
        actor, badge=badge, form=form, published=badge.status == BadgeStatus.PUBLISHED,
    ))


@require_safe
@org_view("view")
def award_detail(request: HttpRequest, actor: Actor, award_id: str) -> HttpResponse:
    award = queries.get_award(actor, award_id)
    return render(request, "awards/detail.html", _context(
        actor, award=award, state=queries.display_state(award), **_reason_forms(),
        credential_url=documents.credential_url(award.public_id),
    ))


def _reason_forms(action: str = "", form: ReasonForm | None = None) -> dict[str, ReasonForm]:
    """The suspend and revoke forms, each with its own field ids (both fields are named ``reason``)."""
    by_action = {name: ReasonForm(auto_id=f"id_{name}_%s") for name in ("suspend", "revoke")}
    if form is not None and action in by_action:
        by_action[action] = form
    return {"suspend_form": by_action["suspend"], "revoke_form": by_action["revoke"]}


def _status_action(request: HttpRequest, actor: Actor, award_id: str, action: str) -> HttpResponse:
    award = queries.get_award(actor, award_id)
    form = ReasonForm(request.POST, auto_id=f"id_{action}_%s")
    action_error = ""
    try:
        if action == "unsuspend":
            services.unsuspend_award(actor=actor, award=award)
            messages.success(request, "The suspension was lifted; the badge is valid again.")
            return redirect(_detail_url(actor, award))
        if form.is_valid():
            operation = services.revoke_award if action == "revoke" else services.suspend_award
            operation(actor=actor, award=award, reason=form.cleaned_data["reason"])
            messages.success(request, "The badge was revoked." if action == "revoke" else "The badge was suspended.")
            return redirect(_detail_url(actor, award))
    except (NotFound, PermissionDenied):
        raise
    except ServiceError as exc:
        if exc.field == "reason":
            form.add_error("reason", exc.message)
        else:
            action_error = exc.message
    return render(request, "awards/detail.html", _context(
        actor, award=award, state=queries.display_state(award), **_reason_forms(action, form), failed_action=action,
        action_error=action_error,
        credential_url=documents.credential_url(award.public_id),
    ), status=400)


@require_POST
@org_view("issue")
def award_revoke(request: HttpRequest, actor: Actor, award_id: str) -> HttpResponse:
    return _status_action(request, actor, award_id, "revoke")


@require_POST
@org_view("issue")
def award_suspend(request: HttpRequest, actor: Actor, award_id: str) -> HttpResponse:
    return _status_action(request, actor, award_id, "suspend")


@require_POST
@org_view("issue")
def award_unsuspend(request: HttpRequest, actor: Actor, award_id: str) -> HttpResponse:
    return _status_action(request, actor, award_id, "unsuspend")
