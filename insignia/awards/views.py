"""Award pages and endpoints.

Public, standard endpoints (no login) under ``/c/<award>``, ``/status/<list>`` and
``/i/<issuer>/ob2/revocations``; management pages under ``/orgs/<org>/awards/``. Views parse input,
call a query or service, and render; the rules live in ``services``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from insignia.awards import credentials as documents
from insignia.awards import queries, services, statuslists
from insignia.awards.forms import AwardFilterForm, IssueForm, ReasonForm
from insignia.awards.models import Award
from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.http import JSON_LD, SVG_CSP, cached_response, json_document_response
from insignia.core.orgviews import org_view
from insignia.core.tenancy import Actor, get_scoped, scoped
from insignia.credentials.status.revocation_list import revocation_list
from insignia.issuers.identity import ob2_issuer_url, ob2_revocation_list_url

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


@require_safe
def award_page(request: HttpRequest, public_id: str) -> HttpResponse:
    """The credential's id: a page for people, the credential JSON for clients asking for JSON."""
    award = _public_award(public_id)
    wanted = request.get_preferred_type(["text/html", VC_JSON_LD, JSON_LD, "application/json"])
    if wanted in (VC_JSON_LD, JSON_LD, "application/json"):
        return json_document_response(request, award.credential, content_type=wanted, max_age=IMMUTABLE_MAX_AGE,
                                      vary=["Accept"])
    state = queries.display_state(award)
    response = render(request, "awards/public_award.html", {
        "award": award,
        "badge": award.badge,
        "issuer": award.issuer,
        "state": state,
        "credential_url": documents.credential_url(award.public_id),
        "has_png": bool(award.badge.image_png) or award.badge.image_type == "image/png",
        "has_svg": award.badge.image_type == "image/svg+xml",
    })
    response["Vary"] = "Accept"
    response["Cache-Control"] = f"public, max-age={STATUS_MAX_AGE}"
    return response


@require_safe
def credential_json(request: HttpRequest, public_id: str) -> HttpResponse:
    """The signed OB 3.0 credential, exactly as stored."""
    award = _public_award(public_id)
    return json_document_response(request, award.credential, content_type=VC_JSON_LD, max_age=IMMUTABLE_MAX_AGE)


@require_safe
def credential_jwt(request: HttpRequest, public_id: str) -> HttpResponse:
    """The VC-JWT form (RS256), made on first request."""
    token = documents.jwt_for(_public_award(public_id))
    return cached_response(request, token.encode("ascii"), content_type="text/plain; charset=utf-8",
                           max_age=IMMUTABLE_MAX_AGE)


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
        return cached_response(request, body, content_type="image/svg+xml", max_age=STATUS_MAX_AGE,
                               headers={"Content-Security-Policy": SVG_CSP})
    return cached_response(request, body, content_type="image/png", max_age=STATUS_MAX_AGE)


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


@require_safe
@org_view("view")
def award_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    badges = scoped(BadgeClass.objects.all(), actor).order_by("name", "id")
    filters = AwardFilterForm(request.GET or None, badges=[(b.public_id, b.name) for b in badges])
    values = filters.cleaned_data if filters.is_valid() else {}
    awards = queries.awards_for(actor, search=values.get("q", ""), status=values.get("status", ""),
                                badge=values.get("badge", ""))
    page = Paginator(awards, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
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
