"""The claim page, the unsubscribe page and the issuer's "Resend email" action. Rules live in ``services``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from insignia.awards.queries import display_state
from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.orgviews import org_view
from insignia.core.tenancy import Actor
from insignia.notifications import queries, services
from insignia.notifications.models import NotificationStatus

#: Claim pages carry a secret in their URL: never cached, never indexed, never sent on as a Referer.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}

_CLAIM_REFUSALS = {
    "unknown": (404, "This claim link does not work",
                "Check that you opened the whole link from the email. If it still does not work, ask the "
                "organisation that awarded the badge to send the email again."),
    "expired": (410, "This claim link has expired",
                "Claim links work for 90 days. Ask the organisation that awarded the badge to send the email "
                "again; the new email has a fresh link."),
    "used": (410, "This claim link has already been used",
             "The badge was already claimed with it. Sign in to see it in your account."),
}


def _private(response: HttpResponse) -> HttpResponse:
    for name, value in PRIVATE_HEADERS.items():
        response[name] = value
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    """What a claim link leads to: the award, and how to keep it. Nothing about it for a wrong token.

    Opening the link proves control of the address it was sent to. Signed out, the page offers sign-up with
    that address (allauth is told the address is verified, for this browser session only) or sign-in; signed
    in, "Add to my wallet" (a POST) spends the token and makes the address a verified one of the account.
    """
    found = queries.find_claim(token)
    if found.token is None:
        status, title, text = _CLAIM_REFUSALS[found.state]
        return _private(render(request, "notifications/claim_invalid.html",
                               {"title": title, "text": text, "state": found.state}, status=status))
    award = found.token.award
    here = request.path
    email = award.recipient_identity
    error = ""
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?{urlencode({'next': here})}")
        from insignia.backpack.services import claim_award

        try:
            claimed = claim_award(user=request.user, token=token)
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, f"“{claimed.badge.name}” is in your wallet. Accept it to keep it, or "
                                      "decline it.")
            return _private(redirect("backpack:award", award_id=claimed.public_id))
    elif not request.user.is_authenticated and award.recipient_kind == "email":
        from allauth.account.adapter import get_adapter

        get_adapter(request).stash_verified_email(request, email.strip().lower())
    response = _private(render(request, "notifications/claim.html", {
        "award": award, "badge": award.badge, "issuer": award.issuer, "organisation": award.organisation,
        "brand_organisation": award.organisation, "state": display_state(award),
        "masked_email": services.mask_email(email),
        "image_url": reverse("badges:image_png", args=[award.badge.public_id])
        if services.badge_image_url(award) else None,  # relative: served by whichever host answered
        "login_url": f"{reverse('account_login')}?{urlencode({'next': here})}",
        "signup_url": f"{reverse('account_signup')}?{urlencode({'email': email, 'next': here})}",
        "award_url": reverse("awards:public", args=[award.public_id]),
        "expires_at": found.token.expires_at, "error": error,
    }, status=409 if error else 200))
    if request.user.is_authenticated:
        # The page posts to itself: browsers send "Origin: null" under no-referrer, which CSRF rightly refuses.
        # same-origin still keeps the token in the URL away from every other site.
        response["Referrer-Policy"] = "same-origin"
    return response


# The signed token is the credential here (it cannot be forged without the secret key), so a cross-site
# request cannot opt anyone out; mail clients' one-click unsubscribe (RFC 8058) POSTs without a CSRF token.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def opt_out(request: HttpRequest, signed: str) -> HttpResponse:
    """Confirm, then stop award emails to the address an unsubscribe link names."""
    wanted = services.read_opt_out_token(signed)
    if wanted is None:
        return _private(render(request, "notifications/opt_out_invalid.html", status=404))
    context = {"masked_email": services.mask_email(wanted.email), "organisation": wanted.organisation,
               "brand_organisation": wanted.organisation}
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        everywhere = request.POST.get("scope") == "all" or wanted.organisation is None
        services.opt_out(wanted.email, None if everywhere else wanted.organisation,
                         reason="one-click unsubscribe" if one_click else "unsubscribe link")
        return _private(render(request, "notifications/opt_out_done.html", {**context, "everywhere": everywhere}))
    return _private(render(request, "notifications/opt_out.html", context))


@require_POST
@org_view("issue")
def resend(request: HttpRequest, actor: Actor, award_id: str) -> HttpResponse:
    """Resend an award's email (issuers); back to the award (or a safe ``next``) with what happened."""
    try:
        notification = services.resend_award_email(actor=actor, award=award_id)
    except (NotFound, PermissionDenied):
        raise  # org_view turns these into 404 / 403
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        if notification.status == NotificationStatus.SKIPPED_OPTED_OUT:
            messages.warning(request, f"Not sent: {notification.to} has opted out of emails from "
                                      f"{actor.organisation.name}.")
        elif notification.status == NotificationStatus.FAILED:
            messages.error(request, f"The email to {notification.to} could not be sent: {notification.error}")
        else:
            messages.success(request, f"The email was sent again to {notification.to}, with a new claim link.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("awards:detail", args=[actor.organisation.public_id, award_id])
    return redirect(target)
