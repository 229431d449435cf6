"""Issuer pages: the public, standard endpoints (no login) and the organisation's management pages.

Views are thin: resolve the caller (``actor_for``), read through ``queries``, write through ``services``,
render. Another organisation's issuers are 404; a role that may not write gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.http import JSON_LD, SVG_CSP, cached_response, json_document_response
from insignia.core.orgviews import org_view
from insignia.core.tenancy import Actor
from insignia.issuers import documents, queries, services
from insignia.issuers.forms import ConfirmForm, IssuerCreateForm, IssuerForm, IssuerImageForm
from insignia.issuers.identity import (
    DID_METHOD_TRADE_OFF,
    did_document_url,
    issuer_did,
    issuer_image_url,
    issuer_url,
    key_id,
    ob2_issuer_url,
    uses_did_key,
)
from insignia.issuers.models import Issuer

DID_JSON = "application/did+ld+json"

View = Callable[..., HttpResponse]


# == public endpoints ============================================================================================


def _public_issuer(public_id: str) -> Issuer:
    try:
        return queries.public_issuer(public_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_safe
def profile(request: HttpRequest, public_id: str) -> HttpResponse:
    """The issuer's URL: OB 3.0 Profile JSON for clients asking for JSON, a profile page for people."""
    issuer = _public_issuer(public_id)
    wanted = request.get_preferred_type(["text/html", JSON_LD, "application/json"])
    if wanted in (JSON_LD, "application/json"):
        return json_document_response(request, documents.profile_document(issuer), content_type=wanted,
                                      vary=["Accept"])
    response = render(request, "issuers/public_profile.html", {
        "issuer": issuer,
        "image_url": issuer_image_url(issuer),
        "did": issuer_did(issuer),
        "did_document_url": None if uses_did_key(issuer) else did_document_url(issuer),
        "ob2_url": ob2_issuer_url(issuer),
        "badges": queries.published_badges(issuer),
    })
    response["Vary"] = "Accept"
    return response


@require_safe
def did_document(request: HttpRequest, public_id: str) -> HttpResponse:
    """The did:web document: every key, active and retired (a did:key issuer has none: its DID resolves itself)."""
    issuer = _public_issuer(public_id)
    if uses_did_key(issuer):
        raise Http404("This issuer's DID is a did:key, which resolves from the DID itself.")
    return json_document_response(request, documents.did_document(issuer), content_type=DID_JSON)


@require_safe
def ob2_issuer(request: HttpRequest, public_id: str) -> HttpResponse:
    """The Open Badges 2.0 Issuer profile."""
    return json_document_response(request, documents.ob2_issuer_document(_public_issuer(public_id)))


@require_safe
def ob2_key(request: HttpRequest, public_id: str, fragment: str) -> HttpResponse:
    """An Open Badges 2.0 CryptographicKey (the issuer's RSA keys, active or retired)."""
    issuer = _public_issuer(public_id)
    try:
        key = queries.public_rsa_key(issuer, fragment)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return json_document_response(request, documents.ob2_key_document(key))


@require_safe
def image(request: HttpRequest, public_id: str) -> HttpResponse:
    """The issuer's image as stored (a re-encoded PNG or a checked SVG)."""
    issuer = _public_issuer(public_id)
    if not issuer.image:
        raise Http404("This issuer has no image.")
    try:
        with issuer.image.open("rb") as handle:
            body = handle.read()
    except OSError as exc:
        raise Http404("The image is not available.") from exc
    if issuer.image.name.endswith(".svg"):
        return cached_response(request, body, content_type="image/svg+xml",
                               headers={"Content-Security-Policy": SVG_CSP})
    return cached_response(request, body, content_type="image/png")


# == management pages ============================================================================================



def _context(actor: Actor, **extra: Any) -> dict[str, Any]:
    return {"actor": actor, "organisation": actor.organisation, "can_manage": actor.can("manage"), **extra}


def _detail_url(actor: Actor, issuer: Issuer) -> str:
    return reverse("issuers:detail", args=[actor.organisation.public_id, issuer.public_id])


def _bound(request: HttpRequest, *, files: bool = False) -> tuple[Any, ...]:
    """Form arguments: the submitted data on POST (even when empty), nothing otherwise."""
    if request.method != "POST":
        return (None, None) if files else (None,)
    return (request.POST, request.FILES) if files else (request.POST,)


def _form_error(form: Any, exc: ServiceError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@org_view("view")
@require_safe
def issuer_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    issuers = [(issuer, issuer_url(issuer)) for issuer in queries.issuers_for(actor)]
    return render(request, "issuers/list.html", _context(actor, issuers=issuers))


@org_view("manage")
@require_http_methods(["GET", "HEAD", "POST"])
def issuer_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = IssuerCreateForm(*_bound(request))
    if request.method == "POST" and form.is_valid():
        try:
            issuer = services.create_issuer(actor=actor, **form.cleaned_data)
        except (NotFound, PermissionDenied):
            raise
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{issuer.name} is ready to issue badges; its signing keys are published.")
            return redirect(_detail_url(actor, issuer))
    return render(request, "issuers/form.html", _context(actor, form=form, issuer=None,
                                                          did_trade_off=DID_METHOD_TRADE_OFF))


@org_view("view")
@require_safe
def issuer_detail(request: HttpRequest, actor: Actor, issuer_id: str) -> HttpResponse:
    issuer = queries.get_issuer(actor, issuer_id)
    keys = [(key, key_id(key)) for key in queries.issuer_keys(issuer)]
    return render(request, "issuers/detail.html", _context(
        actor, issuer=issuer, keys=keys, profile_url=issuer_url(issuer), did=issuer_did(issuer),
        did_document_url=None if uses_did_key(issuer) else did_document_url(issuer), ob2_url=ob2_issuer_url(issuer),
        image_url=issuer_image_url(issuer), did_key=uses_did_key(issuer), did_trade_off=DID_METHOD_TRADE_OFF,
    ))


@org_view("manage")
@require_http_methods(["GET", "HEAD", "POST"])
def issuer_edit(request: HttpRequest, actor: Actor, issuer_id: str) -> HttpResponse:
    issuer = queries.get_issuer(actor, issuer_id)
    initial = {"name": issuer.name, "url": issuer.url, "email": issuer.email, "description": issuer.description}
    form = IssuerForm(*_bound(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_issuer(actor=actor, issuer=issuer, **form.cleaned_data)
        except (NotFound, PermissionDenied):
            raise
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "The issuer's profile is updated; its public documents show the change.")
            return redirect(_detail_url(actor, issuer))
    return render(request, "issuers/form.html", _context(actor, form=form, issuer=issuer))


@org_view("manage")
@require_http_methods(["GET", "HEAD", "POST"])
def issuer_image(request: HttpRequest, actor: Actor, issuer_id: str) -> HttpResponse:
    issuer = queries.get_issuer(actor, issuer_id)
    if request.method == "POST" and "remove" in request.POST:
        services.remove_issuer_image(actor=actor, issuer=issuer)
        messages.success(request, "The issuer's image is removed.")
        return redirect(_detail_url(actor, issuer))
    form = IssuerImageForm(*_bound(request, files=True))
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["image"]
        try:
            services.set_issuer_image(actor=actor, issuer=issuer, content=upload.read())
        except (NotFound, PermissionDenied):
            raise
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "The new image is published with the issuer's profile.")
            return redirect(_detail_url(actor, issuer))
    return render(request, "issuers/image.html", _context(
        actor, form=form, issuer=issuer, image_url=issuer_image_url(issuer)))


@org_view("manage")
@require_http_methods(["GET", "HEAD", "POST"])
def issuer_rotate(request: HttpRequest, actor: Actor, issuer_id: str) -> HttpResponse:
    issuer = queries.get_issuer(actor, issuer_id)
    form = ConfirmForm(*_bound(request))
    if request.method == "POST" and form.is_valid():
        try:
            keys = services.rotate_keys(actor=actor, issuer=issuer)
        except (NotFound, PermissionDenied):
            raise
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"New keys {', '.join(k.fragment for k in keys)} now sign new credentials; "
                                      "the old keys stay published so earlier credentials keep verifying.")
            return redirect(_detail_url(actor, issuer))
    rotating = services.rotating_algorithms(issuer)
    active = [key for key in queries.issuer_keys(issuer) if key.active and key.algorithm in rotating]
    return render(request, "issuers/rotate.html", _context(actor, form=form, issuer=issuer, active_keys=active,
                                                           did_key=uses_did_key(issuer)))
