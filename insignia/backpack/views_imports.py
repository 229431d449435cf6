"""Pages for imported badges (``/wallet/import``, ``/wallet/imported/<id>``, public ``/b/<id>``) and for requests
to the issuer (the earner's ``/wallet/requests/…`` and the organisation's ``/orgs/<org>/requests/``).

Views parse input and call ``insignia.backpack.imports`` / ``insignia.backpack.requests``. Imported badges are
foreign data: only strings are shown (escaped), links only when http(s), images only as the PNG ``data:`` URIs
made at import time.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from insignia.awards.models import Visibility
from insignia.awards.services import MAX_NAME, MAX_NARRATIVE
from insignia.backpack import imports
from insignia.backpack import requests as asks
from insignia.backpack.imports import AlreadyImported, ImportRefused
from insignia.backpack.models import AwardRequest, ImportedBadge, RequestState
from insignia.backpack.pages import render_private, wallet_tabs
from insignia.core.errors import NotFound, ServiceError
from insignia.core.orgviews import org_view
from insignia.core.tenancy import Actor
from insignia.credentials.verify.report import CHECK_TITLES
from insignia.verification.presenters import STATUS_WORDS
from insignia.verification.presenters import link as safe_link
from insignia.verification.presenters import text as safe_text

IMPORT_WAYS = (("url", "From a link"), ("file", "Upload a file"), ("paste", "Paste JSON or a JWT"))


def _render(request: HttpRequest, template: str, context: dict[str, Any], *, tab: str = "badges",
            status: int = 200) -> HttpResponse:
    return render_private(request, template, {**wallet_tabs(tab), **context}, status=status)


# == presenting an imported badge ================================================================================


def present_checks(report: dict[str, Any] | None) -> list[dict[str, str]]:
    """The report's checks in plain words for a template (strings only)."""
    rows = []
    for check in (report or {}).get("checks") or []:
        if not isinstance(check, dict):
            continue
        status = str(check.get("status", ""))
        message = safe_text(check.get("message")) or ""
        if check.get("code") == "recipient_not_supplied":  # the import matches identities only after the rest passes
            message = "Checked against your verified identities once the badge itself verifies."
        rows.append({"id": str(check.get("id", "")), "title": CHECK_TITLES.get(str(check.get("id")), "Check"),
                     "status": status, "word": STATUS_WORDS.get(status, status),
                     "message": message})
    return rows


def present(imported: ImportedBadge) -> dict[str, Any]:
    """What the pages show of an imported badge: strings, safe links, our own re-encoded image."""
    summary = imported.summary or {}
    evidence = []
    for item in (summary.get("evidence") or [])[:50]:
        if isinstance(item, dict):
            entry = {"url": safe_link(item.get("id")), "name": safe_text(item.get("name"), 200),
                     "narrative": safe_text(item.get("narrative"))}
            if entry["url"] or entry["name"] or entry["narrative"]:
                evidence.append(entry)
    alignments = []
    for item in (summary.get("alignments") or [])[:50]:
        if isinstance(item, dict) and safe_text(item.get("targetName"), 300):
            alignments.append({"name": safe_text(item.get("targetName"), 300), "url": safe_link(item.get("targetUrl"))})
    return {
        "name": safe_text(summary.get("name"), 300) or safe_text(summary.get("achievement_name"), 300)
        or "Imported badge",
        "description": safe_text(summary.get("achievement_description")) or safe_text(summary.get("description")),
        "issuer_name": safe_text(summary.get("issuer_name"), 300) or safe_text(summary.get("issuer_id"), 300)
        or "an unnamed issuer",
        "issuer_url": safe_link(summary.get("issuer_url")) or safe_link(summary.get("issuer_id")),
        "image": imports.safe_image_url(summary.get("image")) if str(summary.get("image", "")).startswith(
            "data:image/png;base64,") else None,
        "criteria": safe_text(summary.get("criteria"), 5000),
        "criteria_url": safe_link(summary.get("criteria_url")),
        "recipient_name": safe_text(summary.get("recipient_name"), 200),
        "valid_from": imports_moment(summary.get("valid_from")),
        "valid_until": imports_moment(summary.get("valid_until")),
        "evidence": evidence,
        "alignments": alignments,
        "credential_id": safe_link(imported.credential_id),
        "state": imports.display_state(imported),
        "checks": present_checks(imported.report),
        "format_label": {"ob3": "Open Badges 3.0", "ob2": "Open Badges 2.0", "vc-jwt": "Open Badges 3.0 (VC-JWT)"}
        .get(imported.format, imported.format),
        "source_url": safe_link(imported.source_url),
    }


def imports_moment(value: Any) -> Any:
    from django.utils.dateparse import parse_datetime

    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


# == forms =======================================================================================================


class UrlImportForm(forms.Form):
    url = forms.CharField(label="Link to the badge", max_length=2000,
                          widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
                          help_text="An Open Badges 2.0 assertion URL, an Open Badges 3.0 credential URL, or the "
                                    "link to a baked badge image.")


class FileImportForm(forms.Form):
    file = forms.FileField(label="Badge file", widget=forms.ClearableFileInput(attrs={
        "accept": ".png,.svg,.json,.jwt,image/png,image/svg+xml,application/json"}),
        help_text="A baked badge image (PNG or SVG) or the credential's JSON file.")


class PasteImportForm(forms.Form):
    text = forms.CharField(label="Credential JSON or JWT", widget=forms.Textarea(attrs={
        "rows": 10, "spellcheck": "false", "autocomplete": "off", "class": "code-input"}),
        help_text="Paste the whole credential: JSON starting with { or a JWT (three parts separated by dots).")


class CorrectionForm(forms.Form):
    recipient_name = forms.CharField(label="Name to show on the badge", max_length=MAX_NAME, required=False)
    details = forms.CharField(label="Anything else to correct", required=False, max_length=asks.MAX_MESSAGE,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Describe the correction in words; the issuer decides.")
    message = forms.CharField(label="Message to the issuer", required=False, max_length=asks.MAX_MESSAGE,
                              widget=forms.Textarea(attrs={"rows": 3}))


class EvidenceForm(forms.Form):
    url = forms.CharField(label="Link to the evidence", max_length=2000, required=False,
                          widget=forms.URLInput(attrs={"placeholder": "https://"}))
    name = forms.CharField(label="Title", max_length=MAX_NAME, required=False)
    narrative = forms.CharField(label="Describe the evidence", required=False, max_length=MAX_NARRATIVE,
                                widget=forms.Textarea(attrs={"rows": 4}))
    message = forms.CharField(label="Message to the issuer", required=False, max_length=asks.MAX_MESSAGE,
                              widget=forms.Textarea(attrs={"rows": 2}))


class ReissueForm(forms.Form):
    recipient_name = forms.CharField(label="Recipient's name on the new award", max_length=MAX_NAME, required=False)
    add_evidence = forms.BooleanField(label="Add the offered evidence to the new award", required=False,
                                      initial=True)
    response = forms.CharField(label="Note to the earner", required=False, max_length=asks.MAX_RESPONSE,
                               widget=forms.Textarea(attrs={"rows": 2}))


class DeclineForm(forms.Form):
    response = forms.CharField(label="Why not (shown to the earner)", max_length=asks.MAX_RESPONSE,
                               widget=forms.Textarea(attrs={"rows": 3}))


def _add_error(form: forms.Form, exc: ServiceError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# == importing ===================================================================================================


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Three ways in: a link, a file (drop zone), or pasted JSON/JWT. A refusal names the failing check."""
    via = request.POST.get("via") or request.GET.get("via") or "url"
    if via not in dict(IMPORT_WAYS):
        via = "url"
    form_class = {"url": UrlImportForm, "file": FileImportForm, "paste": PasteImportForm}[via]
    form: forms.Form = form_class()
    refusal: ImportRefused | None = None
    existing: ImportedBadge | None = None
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, request.FILES)
        if form.is_valid():
            try:
                imported = _import(request, via, form)
            except AlreadyImported as exc:
                existing, status = exc.existing, 409
                form.add_error(None, exc.message)
            except ImportRefused as exc:
                refusal, status = exc, 400 if exc.status < 500 else exc.status
            except ServiceError as exc:
                _add_error(form, exc)
                status = 400
            else:
                messages.success(request, f"“{present(imported)['name']}” was verified and added to your wallet. "
                                          "It is unlisted: only people you give the link to can see it.")
                return redirect("backpack:imported_detail", public_id=imported.public_id)
        else:
            status = 400
    tabs = [(key, label, f"{reverse('backpack:import')}?via={key}") for key, label in IMPORT_WAYS]
    return _render(request, "backpack/import.html", {
        "form": form, "via": via, "import_tabs": tabs, "refusal": refusal,
        "refusal_checks": present_checks(refusal.report) if refusal is not None else [],
        "existing": existing, "limit_mb": _limit_mb(),
    }, status=status)


def _limit_mb() -> str:
    from django.conf import settings

    return f"{int(settings.MAX_UPLOAD_BYTES) / (1024 * 1024):g} MB"


def _import(request: HttpRequest, via: str, form: forms.Form) -> ImportedBadge:
    data = form.cleaned_data
    if via == "url":
        return imports.import_credential(user=request.user, url=data["url"])
    if via == "file":
        from django.conf import settings

        upload = data["file"]
        if upload.size is not None and upload.size > int(settings.MAX_UPLOAD_BYTES):
            raise ImportRefused(f"The file is {upload.size:,} bytes; the limit is {_limit_mb()}. No badge needs more.",
                                code="input_too_large", check="format", field="file")
        content = upload.read(int(settings.MAX_UPLOAD_BYTES) + 1)
        if not content:
            raise ServiceError("The file is empty; choose the badge file again.", code="input_missing", field="file")
        return imports.import_credential(user=request.user, file_bytes=content, filename=upload.name)
    return imports.import_credential(user=request.user, text=data["text"])


def _mine(request: HttpRequest, public_id: str) -> ImportedBadge:
    try:
        return imports.get_import(user=request.user, public_id=public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_safe
def imported_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    imported = _mine(request, public_id)
    from insignia.backpack.models import Collection, CollectionItem

    collections = list(Collection.objects.filter(user=request.user).order_by("position", "id"))
    member_of = set(CollectionItem.objects.filter(imported=imported).values_list("collection_id", flat=True))
    return _render(request, "backpack/imported.html", {
        "imported": imported, "badge": present(imported),
        "public_url": request.build_absolute_uri(reverse("backpack:imported_public", args=[imported.public_id])),
        "visibility_choices": Visibility.choices,
        "collections": [c for c in collections if c.pk not in member_of],
        "in_collections": [c for c in collections if c.pk in member_of],
    })


@login_required
@require_POST
def imported_verify(request: HttpRequest, public_id: str) -> HttpResponse:
    imported = imports.reverify_import(user=request.user, imported=_mine(request, public_id))
    state = imports.display_state(imported)
    text = {"valid": "Verified again just now: the badge is valid.",
            "unconfirmed": "Verified again just now, but some checks could not be made (see below)."}.get(
        state, f"Verified again just now: the badge is {state}. See the checks below.")
    (messages.success if state == "valid" else messages.warning)(request, text)
    return redirect("backpack:imported_detail", public_id=public_id)


@login_required
@require_POST
def imported_visibility(request: HttpRequest, public_id: str) -> HttpResponse:
    imported = _mine(request, public_id)
    try:
        imports.set_import_visibility(user=request.user, imported=imported,
                                      visibility=request.POST.get("visibility", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, {"public": "The badge is public: it is listed on your portfolio.",
                                   "hidden": "The badge is hidden: its page says only that a credential exists.",
                                   }.get(imported.visibility, "The badge is unlisted: only people with the link "
                                                              "can see it."))
    return redirect("backpack:imported_detail", public_id=public_id)


@login_required
@require_POST
def imported_collect(request: HttpRequest, public_id: str) -> HttpResponse:
    imported = _mine(request, public_id)
    from insignia.backpack import services as wallet

    try:
        wallet.add_to_collection(user=request.user, collection=request.POST.get("collection", ""),
                                 imported=imported.public_id)
    except NotFound:
        messages.error(request, "Choose one of your collections.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Added to the collection.")
    return redirect("backpack:imported_detail", public_id=public_id)


@login_required
@require_POST
def imported_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    imported = _mine(request, public_id)
    name = present(imported)["name"]
    imports.remove_import(user=request.user, imported=imported)
    messages.success(request, f"“{name}” was removed from your wallet. You can import it again at any time.")
    return redirect("backpack:wallet")


@require_safe
def imported_public(request: HttpRequest, public_id: str) -> HttpResponse:
    """The public page of an imported badge, honouring its visibility; always marked as imported."""
    try:
        imported = imports.public_import(public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    owner = request.user.is_authenticated and request.user.pk == imported.user_id
    hidden = imported.visibility == Visibility.HIDDEN and not owner
    response = render(request, "backpack/import_public.html", {
        "imported": imported, "badge": None if hidden else present(imported), "hidden": hidden, "owner": owner,
        "state": imports.display_state(imported), "noindex": imported.visibility != Visibility.PUBLIC,
    })
    response["Cache-Control"] = "private, no-store" if owner else "public, max-age=60"
    response["Referrer-Policy"] = "no-referrer"
    if imported.visibility != Visibility.PUBLIC:
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# == requests: the earner ========================================================================================


def _earner_award(request: HttpRequest, award_id: str) -> Any:
    try:
        return asks.earner_award(user=request.user, award=award_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest, award_id: str) -> HttpResponse:
    """Offer more evidence or ask for a correction of one of the earner's awards."""
    award = _earner_award(request, award_id)
    kind = request.POST.get("kind") or request.GET.get("kind") or "evidence"
    correction = CorrectionForm(initial={"recipient_name": award.recipient_name}, prefix="correction")
    evidence = EvidenceForm(prefix="evidence")
    status = 200
    if request.method == "POST":
        form: forms.Form
        if kind == "correction":
            form = correction = CorrectionForm(request.POST, prefix="correction")
        else:
            kind = "evidence"
            form = evidence = EvidenceForm(request.POST, prefix="evidence")
        if form.is_valid():
            try:
                if kind == "correction":
                    asks.request_correction(user=request.user, award=award, **form.cleaned_data)
                else:
                    asks.offer_evidence(user=request.user, award=award, **form.cleaned_data)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except ServiceError as exc:
                _add_error(form, exc)
                status = 409 if exc.status == 409 else 400
            else:
                messages.success(request, f"Your request was sent to {award.organisation.name}. You will get an "
                                          "email when they answer; meanwhile it is listed here.")
                return redirect("backpack:requests")
        else:
            status = 400
    return _render(request, "backpack/request_new.html", {
        "award": award, "kind": kind, "correction_form": correction, "evidence_form": evidence,
        "open_requests": award.requests.filter(requested_by=request.user, state=RequestState.OPEN),
    }, tab="requests", status=status)


@login_required
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    return _render(request, "backpack/request_list.html", {"requests": list(asks.requests_of(request.user)),
                                                           "wallet_url": reverse("backpack:wallet")},
                   tab="requests")


@login_required
@require_POST
def request_withdraw(request: HttpRequest, request_id: str) -> HttpResponse:
    try:
        asks.withdraw_request(user=request.user, request=request_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The request was withdrawn.")
    return redirect("backpack:requests")


# == requests: the issuer ========================================================================================

QUEUE_STATES = (("open", "Open"), ("reissued", "Re-issued"), ("declined", "Declined"), ("withdrawn", "Withdrawn"),
                ("", "All"))


@org_view("view")
@require_safe
def org_request_queue(request: HttpRequest, actor: Actor) -> HttpResponse:
    state = request.GET.get("state", "open")
    if state not in dict(QUEUE_STATES):
        state = "open"
    base = reverse("backpack:org_requests", args=[actor.organisation.public_id])
    return render(request, "backpack/request_queue.html", {
        "organisation": actor.organisation, "requests": list(asks.org_requests(actor, state=state)[:200]),
        "state": state, "state_tabs": [(key, label, f"{base}?state={key}") for key, label in QUEUE_STATES],
        "can_issue": actor.can("issue"), "open_count": asks.open_count(actor.organisation),
    })


def _request_page(request: HttpRequest, actor: Actor, found: AwardRequest, *, reissue_form: ReissueForm | None = None,
                  decline_form: DeclineForm | None = None, status: int = 200) -> HttpResponse:
    name = found.changes.get("recipient_name") if isinstance(found.changes, dict) else None
    return render(request, "backpack/request_detail.html", {
        "organisation": actor.organisation, "req": found, "award": found.award, "can_issue": actor.can("issue"),
        "reissue_form": reissue_form or ReissueForm(prefix="reissue", initial={
            "recipient_name": name if name is not None else found.award.recipient_name, "add_evidence": True}),
        "decline_form": decline_form or DeclineForm(prefix="decline"),
        "evidence": [{"url": safe_link(e.get("url")), "name": safe_text(e.get("name"), 200),
                      "narrative": safe_text(e.get("narrative"))} for e in found.evidence if isinstance(e, dict)],
    }, status=status)


@org_view("view")
@require_safe
def org_request_detail(request: HttpRequest, actor: Actor, request_id: str) -> HttpResponse:
    return _request_page(request, actor, asks.get_request(actor, request_id))


@org_view("issue")
@require_POST
def org_request_reissue(request: HttpRequest, actor: Actor, request_id: str) -> HttpResponse:
    found = asks.get_request(actor, request_id)
    form = ReissueForm(request.POST, prefix="reissue")
    if form.is_valid():
        try:
            answered = asks.reissue_for_request(actor=actor, request=found, **form.cleaned_data)
        except NotFound:
            raise
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            assert answered.replacement is not None
            messages.success(request, "A new award was issued and the old one revoked as replaced. The earner "
                                      "has been told.")
            return redirect("awards:detail", org_id=actor.organisation.public_id,
                            award_id=answered.replacement.public_id)
    return _request_page(request, actor, found, reissue_form=form, status=400)


@org_view("issue")
@require_POST
def org_request_decline(request: HttpRequest, actor: Actor, request_id: str) -> HttpResponse:
    found = asks.get_request(actor, request_id)
    form = DeclineForm(request.POST, prefix="decline")
    if form.is_valid():
        try:
            asks.decline_request(actor=actor, request=found, response=form.cleaned_data["response"])
        except NotFound:
            raise
        except ServiceError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, "The request was declined; the earner has been told why.")
            return redirect("backpack:org_requests", org_id=actor.organisation.public_id)
    return _request_page(request, actor, found, decline_form=form, status=400)
