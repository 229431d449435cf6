"""Badge pages: the public, standard endpoints (no login) and the organisation's badge editor.

Public: ``/a/<id>`` (OB 3.0 Achievement JSON for clients asking for JSON, an HTML page otherwise),
``/a/<id>/ob2`` (OB 2.0 BadgeClass), ``/a/<id>/image`` and ``/a/<id>/image.png``. Drafts are 404;
archived badges stay public because awards point at them.

Management (members): ``/orgs/<org>/badges/`` and below. Another organisation's badges are 404; a
role without the ``design`` permission gets 403 on every page that writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from insignia.badges import documents, queries, services
from insignia.badges.designer import Design, design_svg, parse_design
from insignia.badges.forms import BadgeForm, initial_for
from insignia.badges.images import PNG_TYPE, SVG_TYPE, ImageUpload, check_upload_size
from insignia.badges.models import BadgeClass, BadgeStatus, ExpiryPolicy
from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.http import JSON_LD, SVG_CSP, cached_response, json_document_response
from insignia.core.markdown import markdown_html
from insignia.core.orgviews import org_view
from insignia.core.tenancy import Actor
from insignia.issuers.identity import issuer_url
from insignia.issuers.models import Issuer

View = Callable[..., HttpResponse]


def expiry_summary(badge: BadgeClass) -> str:
    """The expiry policy in words."""
    if badge.expiry_policy == ExpiryPolicy.FIXED_DATE and badge.expiry_date:
        return f"Awards expire on {badge.expiry_date.day} {badge.expiry_date:%B %Y}."
    if badge.expiry_policy == ExpiryPolicy.DURATION and badge.expiry_days:
        days = badge.expiry_days
        return f"Awards expire {days} day{'s' if days != 1 else ''} after they are awarded."
    return "Awards do not expire."


def _image_response(request: HttpRequest, field: FieldFile, content_type: str, *, public: bool) -> HttpResponse:
    if not field:
        raise Http404("This badge has no image.")
    try:
        with field.open("rb") as handle:
            body = handle.read()
    except OSError as exc:
        raise Http404("The image is not available.") from exc
    extension = "svg" if content_type == SVG_TYPE else "png"
    headers = {"X-Content-Type-Options": "nosniff", "Content-Disposition": f'inline; filename="badge.{extension}"'}
    if content_type == SVG_TYPE:
        headers["Content-Security-Policy"] = SVG_CSP
    if not public:
        headers["Cache-Control"] = "private, max-age=60"
    return cached_response(request, body, content_type=content_type, headers=headers)


# == public endpoints ============================================================================


def _public(public_id: str) -> BadgeClass:
    try:
        return queries.public_badge(public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_safe
def achievement(request: HttpRequest, public_id: str) -> HttpResponse:
    """The Achievement's URL: OB 3.0 JSON for clients asking for JSON, the badge page for people."""
    badge = _public(public_id)
    wanted = request.get_preferred_type(["text/html", JSON_LD, "application/json"])
    if request.GET.get("format") == "json":
        wanted = JSON_LD
    if wanted in (JSON_LD, "application/json"):
        return json_document_response(request, documents.achievement_document(badge), content_type=wanted,
                                      vary=["Accept"])
    response = render(request, "badges/public.html", {
        "badge": badge,
        "issuer": badge.issuer,
        "issuer_url": issuer_url(badge.issuer),
        "image_url": reverse("badges:image", args=[badge.public_id]) if badge.image else "",
        "image_png_url": documents.image_png_url(badge) if badge.image_png else "",
        "achievement_url": documents.achievement_url(badge),
        "ob2_url": documents.ob2_badgeclass_url(badge),
        "criteria_html": markdown_html(badge.criteria_narrative, heading_offset=2),
        "expiry": expiry_summary(badge),
        "brand_organisation": badge.organisation,
    })
    response["Vary"] = "Accept"
    return response


@require_safe
def ob2_badgeclass(request: HttpRequest, public_id: str) -> HttpResponse:
    """The Open Badges 2.0 BadgeClass."""
    return json_document_response(request, documents.ob2_badgeclass_document(_public(public_id)))


@require_safe
def image(request: HttpRequest, public_id: str) -> HttpResponse:
    """The badge image as stored: a sanitised SVG or a re-encoded PNG."""
    badge = _public(public_id)
    return _image_response(request, badge.image, badge.image_type or PNG_TYPE, public=True)


@require_safe
def image_png(request: HttpRequest, public_id: str) -> HttpResponse:
    """Always a PNG (the rendition of an SVG badge)."""
    badge = _public(public_id)
    return _image_response(request, badge.image_png, PNG_TYPE, public=True)


# == management pages ============================================================================


def _context(actor: Actor, **extra: Any) -> dict[str, Any]:
    return {"actor": actor, "organisation": actor.organisation, "can_design": actor.can("design"),
            "can_issue": actor.can("issue"), "can_manage": actor.can("manage"), **extra}


def _detail_url(actor: Actor, badge: BadgeClass) -> str:
    return reverse("badges:detail", args=[actor.organisation.public_id, badge.public_id])


def _issuer_choices(actor: Actor) -> list[tuple[str, str]]:
    return [(i.public_id, i.name) for i in Issuer.objects.filter(organisation=actor.organisation).order_by("name")]


def _preview_url(actor: Actor, params: dict[str, Any], name: str) -> str:
    base = reverse("badges:preview", args=[actor.organisation.public_id])
    return f"{base}?{urlencode({**params, 'name': name})}"


def _image_urls(actor: Actor, badge: BadgeClass) -> tuple[str, str]:
    org, bid = actor.organisation.public_id, badge.public_id
    return reverse("badges:manage_image", args=[org, bid]), reverse("badges:manage_image_png", args=[org, bid])


@require_safe
@org_view("view")
def badge_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in BadgeStatus.values else ""
    badges = [(badge, _image_urls(actor, badge)[0]) for badge in queries.badges_for(actor, status=status or None)]
    any_badges = bool(badges) or queries.badges_for(actor).exists()
    filters = [("", "All"), *BadgeStatus.choices]
    return render(request, "badges/list.html", _context(actor, badges=badges, status=status, filters=filters,
                                                         any_badges=any_badges))


@require_safe
@org_view("view")
def badge_detail(request: HttpRequest, actor: Actor, badge_id: str) -> HttpResponse:
    badge = queries.get_badge(actor, badge_id)
    image_url, png_url = _image_urls(actor, badge)
    return render(request, "badges/detail.html", _context(
        actor, badge=badge, image_url=image_url, image_png_url=png_url,
        criteria_html=markdown_html(badge.criteria_narrative, heading_offset=2), expiry=expiry_summary(badge),
        achievement_url=documents.achievement_url(badge), ob2_url=documents.ob2_badgeclass_url(badge),
        issuer_url=issuer_url(badge.issuer),
    ))


def _upload_from(form: BadgeForm) -> ImageUpload | None:
    uploaded = form.cleaned_data.get("image")
    if not isinstance(uploaded, UploadedFile):
        form.add_error("image", "Choose a PNG or SVG file to upload, or design the image here.")
        return None
    try:
        check_upload_size(uploaded.size or 0)
    except ServiceError as exc:
        form.add_error("image", exc.message)
        return None
    return ImageUpload(content=uploaded.read(), filename=uploaded.name or "", content_type=uploaded.content_type or "")


def _save(form: BadgeForm, actor: Actor, badge: BadgeClass | None) -> BadgeClass | None:
    """Call the service with the form's values; on refusal put the messages on the form and return None."""
    fields = form.badge_fields()
    source = form.cleaned_data.get("image_source")
    image: dict[str, Any] = {}
    if source == "upload":
        upload = _upload_from(form)
        if upload is None:
            return None
        image["image_upload"] = upload
    elif source == "design":
        image["design"] = form.design_params()
    try:
        if badge is None:
            return services.create_badge(actor=actor, **fields, **image)
        return services.update_badge(actor=actor, badge=badge, **fields, **image)
    except (NotFound, PermissionDenied):
        raise
    except services.BadgeInvalid as exc:
        for field, message in exc.errors:
            form.add_service_error(field, message)
    except ServiceError as exc:
        form.add_service_error(exc.field, exc.message)
    return None


def _editor(request: HttpRequest, actor: Actor, badge: BadgeClass | None) -> HttpResponse:
    issuers = _issuer_choices(actor)
    if not issuers:
        return render(request, "badges/no_issuer.html", _context(actor), status=200)
    posted = request.method == "POST"
    initial = initial_for(badge) if badge is not None else {
        **Design().to_json(), "issuer": issuers[0][0], "primary": actor.organisation.brand_colour}
    form = BadgeForm(request.POST if posted else None, request.FILES if posted else None, initial=initial,
                     issuers=issuers, editing=badge)
    form.load_alignments(request.POST if posted else None, list(badge.alignments) if badge else [])
    if posted and form.is_valid():
        saved = _save(form, actor, badge)
        if saved is not None:
            if badge is None:
                messages.success(request, f"“{saved.name}” is saved as a draft. Publish it when it is ready to award.")
            else:
                messages.success(request, f"Your changes to “{saved.name}” are saved.")
            return redirect(_detail_url(actor, saved))
    design_values = {key: (form.data.get(key) if posted else form.initial.get(key)) or ""
                     for key in ("shape", "primary", "secondary", "icon", "initials", "ribbon")}
    try:
        parse_design(design_values)
        preview_params = design_values
    except ServiceError:
        preview_params = (badge.design if badge and badge.design else Design().to_json())
    name = (form.data.get("name") if posted else form.initial.get("name")) or "New badge"
    current_image = _image_urls(actor, badge)[0] if badge is not None and badge.image else ""
    return render(request, "badges/form.html", _context(
        actor, form=form, badge=badge, preview_url=_preview_url(actor, preview_params, name),
        preview_base=reverse("badges:preview", args=[actor.organisation.public_id]), current_image=current_image,
    ), status=400 if posted else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@org_view("design")
def badge_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _editor(request, actor, None)


@require_http_methods(["GET", "HEAD", "POST"])
@org_view("design")
def badge_edit(request: HttpRequest, actor: Actor, badge_id: str) -> HttpResponse:
    badge = queries.get_badge(actor, badge_id)
    if badge.status == BadgeStatus.ARCHIVED:
        messages.error(request, "This badge is archived; publish it again before changing it.")
        return redirect(_detail_url(actor, badge))
    return _editor(request, actor, badge)


def _transition(request: HttpRequest, actor: Actor, badge_id: str, operation: Callable[..., BadgeClass],
                done: str) -> HttpResponse:
    badge = queries.get_badge(actor, badge_id)
    try:
        badge = operation(actor=actor, badge=badge)
    except (NotFound, PermissionDenied):
        raise
    except services.BadgeInvalid as exc:
        for _, message in exc.errors:
            messages.error(request, message)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(name=badge.name))
    return redirect(_detail_url(actor, badge))


@require_POST
@org_view("design")
def badge_publish(request: HttpRequest, actor: Actor, badge_id: str) -> HttpResponse:
    return _transition(request, actor, badge_id, services.publish_badge,
                       "“{name}” is published: its public page is live and it can be awarded.")


@require_POST
@org_view("design")
def badge_archive(request: HttpRequest, actor: Actor, badge_id: str) -> HttpResponse:
    return _transition(request, actor, badge_id, services.archive_badge,
                       "“{name}” is archived: it can no longer be awarded; existing awards stay valid.")


@require_safe
@org_view("view")
def badge_preview(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The designer's live preview: an SVG drawn from the query string (nothing is stored)."""
    try:
        design = parse_design(request.GET, defaults=Design(primary=actor.organisation.brand_colour))
    except ServiceError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    name = " ".join(request.GET.get("name", "").split())[:200] or "Badge preview"
    response = HttpResponse(design_svg(design, title=name), content_type=SVG_TYPE)
    response["Content-Security-Policy"] = SVG_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_safe
@org_view("view")
def manage_image(request: HttpRequest, actor: Actor, badge_id: str) -> HttpResponse:
    """The image of any of the organisation's badges, drafts included (for the editor)."""
    badge = queries.get_badge(actor, badge_id)
    return _image_response(request, badge.image, badge.image_type or PNG_TYPE, public=False)


@require_safe
@org_view("view")
def manage_image_png(request: HttpRequest, actor: Actor, badge_id: str) -> HttpResponse:
    badge = queries.get_badge(actor, badge_id)
    return _image_response(request, badge.image_png, PNG_TYPE, public=False)

