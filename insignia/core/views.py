"""Organisation pages: landing, onboarding, dashboard, settings (general, members, invitations), audit log.

Views are thin: resolve the member's Actor (non-members get 404), parse a form, call a service, render.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Func, IntegerField, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from insignia.core import services
from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.forms import InvitationForm, OrganisationForm, OrganisationSettingsForm, RoleForm
from insignia.core.models import AuditEvent, Invitation, Membership, Organisation, Role
from insignia.core.tenancy import Actor, actor_for_request

PENDING_INVITATION_SESSION_KEY = "insignia_pending_invitation"

OrgView = Callable[..., HttpResponse]


def org_view(permission: str = "view") -> Callable[[OrgView], Callable[..., HttpResponse]]:
    """Resolve ``org`` to the signed-in member's Actor (404 for anyone else) and require ``permission`` (403)."""

    def decorate(view: OrgView) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, org: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                actor = actor_for_request(request, org)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            if not actor.can(permission):
                raise DjangoPermissionDenied(f"Your role ({actor.role}) cannot do this; ask an owner or admin.")
            if request.method == "POST" and not actor.can("manage") and permission == "view":
                raise DjangoPermissionDenied("Viewers cannot change anything here; ask an owner or admin.")
            return view(request, actor, *args, **kwargs)

        return wrapper

    return decorate


def _apply_error(form: forms.Form, exc: ServiceError) -> None:
    """Put a service's message on the field it names (or on the whole form)."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _raise_http(exc: ServiceError) -> None:
    if isinstance(exc, NotFound):
        raise Http404(exc.message) from exc
    if isinstance(exc, PermissionDenied):
        raise DjangoPermissionDenied(exc.message) from exc


def org_url(organisation: Organisation, suffix: str = "") -> str:
    return f"/orgs/{organisation.public_id}/{suffix}"


# --- Landing and onboarding -------------------------------------------------------------------------------------


def landing(request: HttpRequest) -> HttpResponse:
    """What Insignia is, with sign-up and sign-in; members go straight to their dashboard."""
    if request.user.is_authenticated:
        return redirect("core:home")
    return render(request, "core/landing.html")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where sign-in lands: a pending invitation, the first organisation's dashboard, or onboarding."""
    token = request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
    if token:
        return redirect("core:invitation", token=token)
    membership = (Membership.objects.filter(user=request.user).select_related("organisation")
                  .order_by("organisation__name", "pk").first())
    if membership is None:
        from insignia.backpack.queries import wallet_has_badges

        return redirect("backpack:wallet" if wallet_has_badges(request.user) else "core:org_new")
    return redirect(org_url(membership.organisation))


@login_required
@require_http_methods(["GET", "POST"])
def org_new(request: HttpRequest) -> HttpResponse:
    """Create an organisation; the creator becomes its owner."""
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actor = services.create_organisation(user=request.user, name=form.cleaned_data["name"])
        except ServiceError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, f"{actor.organisation.name} is ready. Next: create an issuer profile.")
            return redirect(org_url(actor.organisation))
    first = not Membership.objects.filter(user=request.user).exists()
    return render(request, "core/org_new.html", {"form": form, "first": first})


# --- Dashboard --------------------------------------------------------------------------------------------------


def _onboarding_steps(actor: Actor, *, has_award: bool) -> list[dict[str, Any]]:
    """The getting-started checklist. An award implies its badge and that badge's issuer (protected foreign keys),
    so an organisation that has awarded anything costs no query here."""
    from insignia.badges.models import BadgeClass
    from insignia.issuers.models import Issuer

    org = actor.organisation
    has_issuer = has_award or Issuer.objects.filter(organisation=org).exists()
    has_badge = has_award or BadgeClass.objects.filter(organisation=org).exists()
    return [
        {"title": "Create your organisation", "done": True, "url": None,
         "text": f"{org.name} exists and you are one of its owners."},
        {"title": "Create an issuer profile", "done": has_issuer, "url": org_url(org, "issuers/new"),
         "action": "Create issuer profile",
         "text": "The name, website and contact that recipients and verifiers see, with its signing keys."},
        {"title": "Create your first badge", "done": has_badge, "url": org_url(org, "badges/new"),
         "action": "Create a badge", "text": "Name it, give it an image and say what earning it means."},
        {"title": "Issue it to yourself", "done": has_award, "url": org_url(org, "awards/new"),
         "action": "Issue a badge", "text": "Send the badge to your own email address to see what recipients get."},
    ]


def _count_of(queryset: Any) -> Subquery:
    """``queryset``'s row count as a scalar subquery (several counts then cost one round trip)."""
    return Subquery(queryset.order_by().annotate(_n=Func(F("pk"), function="COUNT")).values("_n"),
                    output_field=IntegerField())


def dashboard_stats(org: Organisation, now: Any) -> dict[str, int]:
    """The dashboard's counts in one query, each count indexed (``award_org_issued``, ``award_org_status_issued``)."""
    from insignia.awards.models import Award, AwardStatus
    from insignia.badges.models import BadgeClass, BadgeStatus

    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    awards = Award.objects.filter(organisation=org)
    counts = Organisation.objects.filter(pk=org.pk).values(
        badges=_count_of(BadgeClass.objects.filter(organisation=org).exclude(status=BadgeStatus.ARCHIVED)),
        awards_this_month=_count_of(awards.filter(issued_on__gte=month_start)),
        revoked=_count_of(awards.filter(status=AwardStatus.REVOKED)),
    ).get()
    return {name: int(counts[name] or 0) for name in ("badges", "awards_this_month", "revoked")}


@org_view("view")
def dashboard(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Recent awards, quick stats and — until the first award — the getting-started checklist."""
    from insignia.awards.models import Award

    org = actor.organisation
    now = timezone.now()
    recent = list(Award.objects.filter(organisation=org).select_related("badge")
                  .only("public_id", "recipient_name", "recipient_identity", "issued_on", "status", "badge",
                        "badge__name")
                  .order_by("-issued_on", "-id")[:8])
    steps = _onboarding_steps(actor, has_award=bool(recent))
    stats = dashboard_stats(org, now)
    return render(request, "core/dashboard.html", {
        "actor": actor, "org": org, "steps": steps, "onboarding": not all(s["done"] for s in steps),
        "next_step": next((s for s in steps if not s["done"]), None), "stats": stats, "recent": recent,
        "month_name": now.strftime("%B"),
    })


# --- Settings ---------------------------------------------------------------------------------------------------


def _settings_context(actor: Actor, tab: str, **extra: Any) -> dict[str, Any]:
    org = actor.organisation
    tabs = [("general", "General", org_url(org, "settings/")),
            ("members", "Members", org_url(org, "settings/members/")),
            ("invitations", "Invitations", org_url(org, "settings/invitations/"))]
    if actor.can("manage"):
        tabs.append(("audit", "Audit log", org_url(org, "audit/")))
    return {"actor": actor, "org": org, "tab": tab, "tabs": tabs, "can_manage": actor.can("manage"), **extra}


@org_view("view")
@require_http_methods(["GET", "POST"])
def settings_general(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Name and brand colour."""
    org = actor.organisation
    initial = {"name": org.name, "brand_colour": org.brand_colour}
    form = OrganisationSettingsForm(request.POST or None, initial=initial)
    form.fields["brand_colour"].help_text = (f"Now {org.brand_colour}. Used for buttons and accents on your "
                                             "organisation's pages; text on it stays readable automatically.")
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organisation(actor=actor, name=form.cleaned_data["name"],
                                         brand_colour=form.cleaned_data["brand_colour"])
        except ServiceError as exc:
            _raise_http(exc)
            _apply_error(form, exc)
        else:
            messages.success(request, "Organisation settings saved.")
            return redirect(org_url(org, "settings/"))
    return render(request, "core/settings_general.html", _settings_context(actor, "general", form=form))


@org_view("view")
def settings_members(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Everyone in the organisation, with role changes and removal for admins and owners."""
    org = actor.organisation
    memberships = list(Membership.objects.filter(organisation=org).select_related("user")
                       .order_by("user__email"))
    owners = sum(1 for m in memberships if m.role == Role.OWNER)
    rows = []
    for m in memberships:
        touch_owner = m.role != Role.OWNER or actor.can("own")
        last_owner = m.role == Role.OWNER and owners <= 1
        roles = [c for c in Role.choices if c[0] != Role.OWNER or actor.can("own")]
        rows.append({"m": m, "is_me": m.user_id == actor.user.pk, "roles": roles,
                     "can_edit": actor.can("manage") and touch_owner and not last_owner,
                     "last_owner": last_owner})
    return render(request, "core/settings_members.html", _settings_context(actor, "members", rows=rows))


def _member_action(request: HttpRequest, actor: Actor, action: Callable[[], Any], success: str) -> HttpResponse:
    try:
        action()
    except ServiceError as exc:
        _raise_http(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect(org_url(actor.organisation, "settings/members/"))


@org_view("manage")
@require_POST
def member_role(request: HttpRequest, actor: Actor, membership_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
        return redirect(org_url(actor.organisation, "settings/members/"))
    role = form.cleaned_data["role"]
    return _member_action(request, actor,
                          lambda: services.change_role(actor=actor, membership_id=membership_id, role=role),
                          f"Role changed to {Role(role).label}.")


@org_view("manage")
@require_POST
def member_remove(request: HttpRequest, actor: Actor, membership_id: int) -> HttpResponse:
    return _member_action(request, actor,
                          lambda: services.remove_member(actor=actor, membership_id=membership_id),
                          "Member removed. They no longer see this organisation.")


@org_view("view")
@require_http_methods(["GET", "POST"])
def settings_invitations(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Invite by email with a role; list pending invitations."""
    org = actor.organisation
    form = InvitationForm(request.POST or None, can_own=actor.can("own"))
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite_member(actor=actor, email=form.cleaned_data["email"],
                                                role=form.cleaned_data["role"])
        except ServiceError as exc:
            _raise_http(exc)
            _apply_error(form, exc)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}. It is listed below until accepted.")
            return redirect(org_url(org, "settings/invitations/"))
    now = timezone.now()
    pending = list(Invitation.objects.filter(organisation=org, accepted_at__isnull=True)
                   .select_related("invited_by").order_by("-created_at"))
    for invitation in pending:
        invitation.expired = invitation.expires_at <= now  # type: ignore[attr-defined]
    return render(request, "core/settings_invitations.html",
                  _settings_context(actor, "invitations", form=form, pending=pending))


@org_view("manage")
@require_POST
def invitation_cancel(request: HttpRequest, actor: Actor, invitation_id: int) -> HttpResponse:
    try:
        services.cancel_invitation(actor=actor, invitation_id=invitation_id)
    except ServiceError as exc:
        _raise_http(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, "Invitation cancelled; its link no longer works.")
    return redirect(org_url(actor.organisation, "settings/invitations/"))


@org_view("manage")
def audit_log(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every write in the organisation, newest first, 25 to a page."""
    events = AuditEvent.objects.filter(organisation=actor.organisation).select_related("actor")
    page = Paginator(events, 25).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", _settings_context(actor, "audit", page=page))


# --- Invitations (the link in the email) ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Show an invitation; signed in with the invited address, accept it."""
    found = services.find_invitation(token)
    problem = None
    if found is None:
        problem = "This invitation link is not valid. Ask the person who invited you to send a new one."
    elif found.accepted_at is not None:
        problem = "This invitation has already been used. Sign in to reach the organisation, or ask for a new one."
    elif found.expires_at <= timezone.now():
        problem = "This invitation has expired. Ask the person who invited you to send a new one."
    if problem:
        return render(request, "core/invitation.html", {"problem": problem}, status=410 if found else 404)
    assert found is not None
    if not request.user.is_authenticated:
        request.session[PENDING_INVITATION_SESSION_KEY] = token
        return render(request, "core/invitation.html", {"invitation": found, "token": token,
                                                        "next": request.path})
    if request.method == "POST":
        try:
            membership = services.accept_invitation(user=request.user, token=token)
        except ServiceError as exc:
            return render(request, "core/invitation.html",
                          {"invitation": found, "token": token, "error": exc.message,
                           "unverified": exc.code == "email_unverified"}, status=exc.status)
        request.session.pop(PENDING_INVITATION_SESSION_KEY, None)
        messages.success(request, f"Welcome to {membership.organisation.name}.")
        return redirect(org_url(membership.organisation))
    match = services.invitation_match(request.user, found)
    if match == "unverified":  # after confirming the address, sign-in brings them back here
        request.session[PENDING_INVITATION_SESSION_KEY] = token
    return render(request, "core/invitation.html", {"invitation": found, "token": token,
                                                    "matches": match == "verified",
                                                    "unverified": match == "unverified"})


# --- Brand colour and the component gallery ---------------------------------------------------------------------


def brand_css(request: HttpRequest, org: str) -> HttpResponse:
    """The organisation's brand colour as CSS custom properties (a stylesheet, because CSP forbids inline style)."""
    organisation = Organisation.objects.filter(public_id=org).only("brand_colour").first()
    if organisation is None:
        raise Http404("No such organisation.")
    colour = organisation.brand_colour
    ink = brand_ink(colour)
    body = f":root{{--brand:{colour};--brand-ink:{ink};}}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def brand_ink(hex_colour: str) -> str:
    """White or near-black text on the brand colour, whichever contrasts more (WCAG relative luminance)."""
    lum = _luminance(hex_colour)
    on_white = 1.05 / (lum + 0.05)
    on_black = (lum + 0.05) / (_luminance("#111827") + 0.05)
    return "#ffffff" if on_white >= on_black else "#111827"


@login_required
def styleguide(request: HttpRequest) -> HttpResponse:
    """Every component on one page, for the people building pages (not linked from the navigation)."""
    return render(request, "core/styleguide.html", {"sample_form": _SampleForm({"email": "not-an-email"}),
                                                    "upload_form": _UploadForm()})


class _SampleForm(forms.Form):
    name = forms.CharField(label="Badge name", help_text="Short and specific, e.g. 'Python Foundations'.")
    email = forms.EmailField(label="Recipient email")


class _UploadForm(forms.Form):
    image = forms.FileField(label="Badge image", help_text="PNG or SVG, up to 2 MB.")

