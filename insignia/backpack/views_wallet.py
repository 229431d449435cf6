"""The wallet (``/wallet/``), its collections, identities and leaving; portfolios and collection pages (``/p/``).

Thin: parse, call a service or a query, render. Anything that is not the signed-in earner's is 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from insignia.awards.models import AcceptanceState, Visibility
from insignia.backpack import export, forms, queries, services
from insignia.backpack.identities import META_NAME
from insignia.backpack.models import EarnerIdentity, ImportedBadge
from insignia.backpack.pages import private as _private
from insignia.backpack.pages import render_private as _render
from insignia.backpack.pages import wallet_tabs as _tabs
from insignia.core.errors import NotFound, ServiceError

View = Callable[..., HttpResponse]


def _not_found(exc: NotFound) -> Http404:
    return Http404(exc.message)


def _form_error(form: Any, exc: ServiceError) -> None:
    form.add_error(exc.field if exc.field in getattr(form, "fields", {}) else None, exc.message)


# == the wallet ==================================================================================================


@login_required
@require_safe
def wallet(request: HttpRequest) -> HttpResponse:
    """Every badge the earner holds: pending first, with search and filters."""
    collections = queries.collections_of(request.user)
    form = forms.WalletFilterForm(request.GET or None, collections=collections)
    wanted = form.cleaned_data if form.is_valid() else {}
    found = queries.wallet_page(request.user, search=wanted.get("q", ""), status=wanted.get("status", ""),
                                collection=wanted.get("collection", ""), origin=wanted.get("origin", ""),
                                page=request.GET.get("page", 1))
    filtered = any(wanted.get(name) for name in ("q", "status", "collection", "origin"))
    query = request.GET.copy()
    query.pop("page", None)
    return _render(request, "backpack/wallet.html", {
        **_tabs("badges"), "form": form, "pending": found.pending, "waiting": found.waiting,
        "entries": found.entries, "page": found.page, "query": query.urlencode(), "filtered": filtered,
        "total": found.total,
    })


def _award_context(request: HttpRequest, award: Any, **extra: Any) -> dict[str, Any]:
    collections = queries.collections_of(request.user)
    holding = queries.collections_with(request.user, award=award)
    counts = queries.engagement_counts([award.pk]).get(award.pk, {})
    entry = queries.award_entry(award, counts)
    public = reverse("awards:public", args=[award.public_id])
    downloads = [("Credential (OB 3.0 JSON)", reverse("awards:credential_json", args=[award.public_id])),
                 ("Credential (VC-JWT)", reverse("awards:credential_jwt", args=[award.public_id])),
                 ("OB 2.0 assertion", reverse("awards:assertion", args=[award.public_id])),
                 ("PDF certificate (A4)", reverse("awards:certificate", args=[award.public_id]) + "?size=a4"),
                 ("PDF certificate (US Letter)",
                  reverse("awards:certificate", args=[award.public_id]) + "?size=letter")]
    if entry.image_url:
        downloads.insert(0, ("Baked PNG image", reverse("awards:baked_png", args=[award.public_id])))
        if award.badge.image_type == "image/svg+xml":
            downloads.insert(1, ("Baked SVG image", reverse("awards:baked_svg", args=[award.public_id])))
    return {
        **_tabs("badges"), "award": award, "badge": award.badge, "issuer": award.issuer, "entry": entry,
        "state": entry.status, "counts": counts,
        "visibility_form": extra.pop("visibility_form", None) or forms.VisibilityForm(initial={
            "visibility": award.visibility, "show_recipient_name": award.show_recipient_name}),
        "visibility_help": forms.VISIBILITY_HELP,
        "collections_in": [c for c in collections if c.pk in holding],
        "add_form": forms.AddToCollectionForm(collections=[c for c in collections if c.pk not in holding]),
        "public_url": public, "public_absolute": settings.BASE_URL + public, "downloads": downloads,
        "accepted": award.acceptance == AcceptanceState.ACCEPTED, **extra,
    }


@login_required
@require_safe
def award(request: HttpRequest, award_id: str) -> HttpResponse:
    """One award in the wallet: accept or decline, visibility, collections, links and downloads."""
    try:
        found = queries.wallet_award(request.user, award_id)
    except NotFound as exc:
        raise _not_found(exc) from exc
    return _render(request, "backpack/award.html", _award_context(request, found))


def _award_action(request: HttpRequest, award_id: str, action: Callable[[], Any], done: str) -> HttpResponse:
    try:
        action()
    except NotFound as exc:
        raise _not_found(exc) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("backpack:award", award_id=award_id)


@login_required
@require_POST
def award_accept(request: HttpRequest, award_id: str) -> HttpResponse:
    return _award_action(request, award_id, lambda: services.accept_award(user=request.user, award=award_id),
                         "Accepted. The badge is yours; choose below who can see it.")


@login_required
@require_POST
def award_decline(request: HttpRequest, award_id: str) -> HttpResponse:
    return _award_action(request, award_id, lambda: services.decline_award(user=request.user, award=award_id),
                         "Declined. The badge's page no longer shows it; you can still accept it later.")


@login_required
@require_POST
def award_visibility(request: HttpRequest, award_id: str) -> HttpResponse:
    form = forms.VisibilityForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        return _award_action(request, award_id, lambda: services.set_award_visibility(
            user=request.user, award=award_id, visibility=data["visibility"],
            show_recipient_name=data["show_recipient_name"]),
            f"Saved: the badge's page is now {Visibility(data['visibility']).label.lower()}"
            f"{' and shows your name' if data['show_recipient_name'] else ''}.")
    try:
        found = queries.wallet_award(request.user, award_id)
    except NotFound as exc:
        raise _not_found(exc) from exc
    return _render(request, "backpack/award.html", _award_context(request, found, visibility_form=form), status=400)


@login_required
@require_POST
def award_add_to_collection(request: HttpRequest, award_id: str) -> HttpResponse:
    target = request.POST.get("collection", "")
    return _award_action(request, award_id, lambda: services.add_to_collection(
        user=request.user, collection=target, award=award_id), "Added to the collection.")


# == collections =================================================================================================


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def collections(request: HttpRequest) -> HttpResponse:
    """The earner's collections in their order, with a form to make a new one."""
    form = forms.CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = services.create_collection(user=request.user, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"“{made.name}” is ready. Add badges to it below.")
            return redirect("backpack:collection", collection_id=made.public_id)
    rows = queries.collections_of(request.user)
    sizes = {c.pk: c.items.count() for c in rows}
    profile = services.profile_for(request.user)
    return _render(request, "backpack/collections.html", {
        **_tabs("collections"), "form": form, "collections": [(c, sizes[c.pk]) for c in rows], "profile": profile,
    }, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    """Edit one collection: name, description, visibility; its badges in order; badges to add."""
    try:
        found = queries.collection_of(request.user, collection_id)
    except NotFound as exc:
        raise _not_found(exc) from exc
    form = forms.CollectionForm(request.POST or None, initial={
        "name": found.name, "description": found.description, "visibility": found.visibility})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_collection(user=request.user, collection=found, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("backpack:collection", collection_id=found.public_id)
    items = queries.collection_items(found, public=False)
    inside = {(e.kind, e.key) for _, e in items}
    candidates = [e for e in queries.wallet(request.user) if (e.kind, e.key) not in inside
                  and (e.kind == "imported" or e.status not in ("pending", "declined"))]
    profile = services.profile_for(request.user)
    share_url = reverse("backpack:shared_collection", args=[profile.public_id, found.public_id])
    return _render(request, "backpack/collection_edit.html", {
        **_tabs("collections"), "collection": found, "form": form, "items": items, "candidates": candidates,
        "share_url": share_url, "share_absolute": settings.BASE_URL + share_url, "profile": profile,
    }, status=400 if form.errors else 200)


def _collection_action(request: HttpRequest, collection_id: str, action: Callable[[], Any], done: str = "",
                       to: str | None = None) -> HttpResponse:
    try:
        action()
    except NotFound as exc:
        raise _not_found(exc) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if done:
            messages.success(request, done)
    return redirect(to or reverse("backpack:collection", args=[collection_id]))


@login_required
@require_POST
def collection_move(request: HttpRequest, collection_id: str) -> HttpResponse:
    direction = request.POST.get("direction", "")
    return _collection_action(request, collection_id, lambda: services.move_collection(
        user=request.user, collection=collection_id, direction=direction), to=reverse("backpack:collections"))


@login_required
@require_POST
def collection_delete(request: HttpRequest, collection_id: str) -> HttpResponse:
    return _collection_action(request, collection_id, lambda: services.delete_collection(
        user=request.user, collection=collection_id), "The collection was deleted; its badges stay in your wallet.",
        to=reverse("backpack:collections"))


@login_required
@require_POST
def collection_add(request: HttpRequest, collection_id: str) -> HttpResponse:
    award_id, imported_id = request.POST.get("award") or None, request.POST.get("imported") or None
    return _collection_action(request, collection_id, lambda: services.add_to_collection(
        user=request.user, collection=collection_id, award=award_id, imported=imported_id), "Added.")


@login_required
@require_POST
def item_move(request: HttpRequest, collection_id: str, item_id: str) -> HttpResponse:
    direction = request.POST.get("direction", "")
    return _collection_action(request, collection_id, lambda: services.move_item(
        user=request.user, collection=collection_id, item=item_id, direction=direction))


@login_required
@require_POST
def item_remove(request: HttpRequest, collection_id: str, item_id: str) -> HttpResponse:
    return _collection_action(request, collection_id, lambda: services.remove_from_collection(
        user=request.user, collection=collection_id, item=item_id), "Removed from the collection.")


# == identities ==================================================================================================


def _profile_url(request: HttpRequest) -> str:
    return settings.BASE_URL + reverse("backpack:portfolio", args=[services.profile_for(request.user).public_id])


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def identities(request: HttpRequest) -> HttpResponse:
    """Email addresses (managed by the account pages), web addresses and DIDs, with their proofs."""
    from allauth.account.models import EmailAddress

    form = forms.IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.add_identity(user=request.user, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.info(request, f"Now prove that {added.value} is yours, as described below.")
            return redirect(f"{reverse('backpack:identities')}#identity-{added.pk}")
    rows = [(identity, services.identity_challenge(identity))
            for identity in EarnerIdentity.objects.filter(user=request.user).order_by("kind", "value")]
    return _render(request, "backpack/identities.html", {
        **_tabs("identities"), "form": form, "identities": rows, "did_form": forms.DidProofForm(),
        "emails": EmailAddress.objects.filter(user=request.user).order_by("-primary", "email"),
        "profile_url": _profile_url(request), "meta_name": META_NAME,
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def identity_verify(request: HttpRequest, identity_id: str) -> HttpResponse:
    found = EarnerIdentity.objects.filter(user=request.user, pk=identity_id if identity_id.isdigit() else 0).first()
    if found is None:
        raise Http404("No such identity.")
    try:
        if found.kind == "url":
            services.verify_url_identity(user=request.user, identity=found, profile_url=_profile_url(request))
        else:
            services.verify_did_identity(user=request.user, identity=found, jws=request.POST.get("jws", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Verified: badges awarded to {found.value} now appear in your wallet.")
    return redirect(f"{reverse('backpack:identities')}#identity-{found.pk}")


@login_required
@require_POST
def identity_renew(request: HttpRequest, identity_id: str) -> HttpResponse:
    try:
        services.renew_challenge(user=request.user, identity=identity_id)
    except NotFound as exc:
        raise _not_found(exc) from exc
    messages.info(request, "Here is a new code; the old one no longer works.")
    return redirect(f"{reverse('backpack:identities')}#identity-{identity_id}")


@login_required
@require_POST
def identity_remove(request: HttpRequest, identity_id: str) -> HttpResponse:
    try:
        services.remove_identity(user=request.user, identity=identity_id)
    except NotFound as exc:
        raise _not_found(exc) from exc
    messages.success(request, "Removed. Badges you already accepted stay in your wallet.")
    return redirect("backpack:identities")


# == portfolio settings ==========================================================================================


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """The portfolio's name, headline and switch."""
    current = services.profile_for(request.user)
    form = forms.ProfileForm(request.POST or None, initial={
        "display_name": current.display_name, "headline": current.headline,
        "portfolio_enabled": current.portfolio_enabled})
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.update_profile(user=request.user, **form.cleaned_data)
        except ServiceError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Your portfolio is on." if saved.portfolio_enabled else
                             "Saved. Your portfolio is off: its page answers “not found”.")
            return redirect("backpack:profile")
    public = [c for c in queries.collections_of(request.user) if c.visibility == Visibility.PUBLIC]
    portfolio_url = reverse("backpack:portfolio", args=[current.public_id])
    return _render(request, "backpack/profile.html", {
        **_tabs("portfolio"), "form": form, "profile": current, "public_collections": public,
        "portfolio_url": portfolio_url, "portfolio_absolute": settings.BASE_URL + portfolio_url,
    }, status=400 if form.errors else 200)


# == leaving =====================================================================================================


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def leave(request: HttpRequest) -> HttpResponse:
    """Export everything, and delete the account (confirmed with the password or the email address)."""
    has_password = request.user.has_usable_password()
    form = forms.DeleteAccountForm(request.POST or None, has_password=has_password)
    if request.method == "POST" and form.is_valid():
        try:
            services.delete_account(user=request.user, password=form.cleaned_data.get("password", ""),
                                    confirm_email=form.cleaned_data.get("confirm_email", ""))
        except ServiceError as exc:
            form.add_error("password" if has_password else "confirm_email", exc.message) \
                if exc.code in ("password_wrong", "confirmation_wrong") else form.add_error(None, exc.message)
        else:
            logout(request)
            return _private(render(request, "backpack/deleted.html"))
    awards = queries.wallet_awards(request.user)
    return _render(request, "backpack/leave.html", {
        **_tabs("leave"), "form": form, "has_password": has_password, "award_count": len(awards),
        "imported_count": ImportedBadge.objects.filter(user=request.user).count(),
    }, status=400 if form.errors else 200)


@login_required
@require_safe
def export_zip(request: HttpRequest) -> HttpResponse:
    """Every credential, baked image and imported document, plus ``index.json``, as one zip."""
    body = export.build_export(request.user)
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, "insignia-wallet.zip")
    return _private(response)


# == public: portfolio and collection pages ======================================================================


@require_safe
def portfolio(request: HttpRequest, profile_id: str) -> HttpResponse:
    """The earner's public portfolio: public collections and public badges. 404 unless switched on."""
    try:
        found = queries.portfolio(profile_id)
    except NotFound as exc:
        raise _not_found(exc) from exc
    collections_, badges = queries.portfolio_content(found)
    response = render(request, "backpack/portfolio.html", {
        "profile": found, "collections": collections_, "badges": badges,
        "is_owner": request.user.is_authenticated and request.user.pk == found.user_id,
    })
    response["Cache-Control"] = "public, max-age=60"
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


@require_safe
def shared_collection(request: HttpRequest, profile_id: str, collection_id: str) -> HttpResponse:
    """A collection by its link: unlisted (noindex), public, or hidden (its owner only; 404 for everyone else)."""
    try:
        owner_profile, found = queries.shared_collection(profile_id, collection_id, request.user)
    except NotFound as exc:
        raise _not_found(exc) from exc
    is_owner = request.user.is_authenticated and request.user.pk == found.user_id
    response = render(request, "backpack/collection.html", {
        "profile": owner_profile, "collection": found, "is_owner": is_owner,
        "entries": [entry for _, entry in queries.collection_items(found, public=True)],
        "indexable": found.visibility == Visibility.PUBLIC,
        "portfolio_url": (reverse("backpack:portfolio", args=[owner_profile.public_id])
                          if owner_profile.portfolio_enabled else None),
    })
    if found.visibility != Visibility.PUBLIC:
        response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, no-store" if found.visibility == Visibility.HIDDEN else "public, max-age=60"
    return response
