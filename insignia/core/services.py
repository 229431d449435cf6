"""Organisation operations: creating tenants, branding, invitations, membership and roles.

Every function takes keyword-only arguments, checks permission itself, runs in one transaction,
writes an audit event and sends email only after the transaction commits. ``create_organisation``
and ``accept_invitation`` act for a *user* (who is not yet a member); the others take an ``actor``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from insignia.core import audit
from insignia.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from insignia.core.ids import new_public_id
from insignia.core.models import Invitation, Membership, Organisation, Role
from insignia.core.tenancy import Actor

#: How long an invitation link stays valid.
INVITATION_LIFETIME = timedelta(days=7)
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def hash_token(token: str) -> str:
    """The stored form of an invitation token (SHA-256, hex): the plain token exists only in the email."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_colour(value: str) -> str:
    """``#RRGGBB`` in lower case, or a ServiceError naming the expected form."""
    value = (value or "").strip()
    if len(value) == 4 and value.startswith("#"):  # #abc -> #aabbcc
        value = "#" + "".join(c * 2 for c in value[1:])
    if not _HEX_COLOUR.match(value):
        raise ServiceError("Give the brand colour as a hex code such as #1d4ed8.", field="brand_colour")
    return value.lower()


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ServiceError("Give the organisation a name.", field="name")
    if len(name) > 200:
        raise ServiceError("Keep the name to 200 characters or fewer.", field="name")
    return name


@transaction.atomic
def create_organisation(*, user: Any, name: str, brand_colour: str | None = None) -> Actor:
    """A new organisation with ``user`` as its owner; returns the owner's Actor."""
    name = _clean_name(name)
    colour = normalise_colour(brand_colour) if brand_colour else None
    base = slugify(name)[:48] or "organisation"
    slug = base if not Organisation.objects.filter(slug=base).exists() else f"{base}-{new_public_id()[:6]}"
    organisation = Organisation.objects.create(name=name, slug=slug, **({"brand_colour": colour} if colour else {}))
    Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
    actor = Actor(organisation=organisation, role=Role.OWNER, user=user)
    audit.record(organisation, actor=user, verb="organisation.created", obj=organisation, data={"name": name})
    return actor


@transaction.atomic
def update_organisation(*, actor: Actor, name: str | None = None, brand_colour: str | None = None) -> Organisation:
    """Rename the organisation and/or change its brand colour (admins and owners)."""
    actor.require("manage")
    organisation = Organisation.objects.select_for_update().get(pk=actor.organisation.pk)
    changes: dict[str, list[str]] = {}
    if name is not None:
        name = _clean_name(name)
        if name != organisation.name:
            changes["name"] = [organisation.name, name]
            organisation.name = name
    if brand_colour is not None:
        colour = normalise_colour(brand_colour)
        if colour != organisation.brand_colour:
            changes["brand_colour"] = [organisation.brand_colour, colour]
            organisation.brand_colour = colour
    if changes:
        organisation.save(update_fields=list(changes))
        audit.record(organisation, actor=actor.audit_actor, verb="organisation.updated", obj=organisation,
                     data={"changes": changes})
    return organisation


def _clean_role(role: str) -> str:
    if role not in Role.values:
        raise ServiceError(f"Choose a role: {', '.join(Role.values)}.", field="role")
    return role


def _require_role_rights(actor: Actor, role: str) -> None:
    """Granting (or touching) the owner role needs the ``own`` permission."""
    if role == Role.OWNER and not actor.can("own"):
        raise PermissionDenied("Only an owner can make someone an owner or change an owner's role.")


def invitation_url(token: str) -> str:
    return f"{settings.BASE_URL}/invitations/{token}"


@transaction.atomic
def invite_member(*, actor: Actor, email: str, role: str = Role.VIEWER, now: datetime | None = None) -> Invitation:
    """Invite ``email`` to the organisation with ``role``; the link (valid 7 days) is emailed after commit.

    Only a hash of the token is stored. Inviting the same address again replaces the pending invitation.
    """
    actor.require("manage")
    role = _clean_role(role)
    _require_role_rights(actor, role)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ServiceError("Enter a valid email address, like name@example.org.", field="email") from exc
    organisation = actor.organisation
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member of {organisation.name}.", field="email")
    now = now or timezone.now()
    Invitation.objects.filter(organisation=organisation, email__iexact=email, accepted_at__isnull=True).delete()
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation, email=email, role=role, token_hash=hash_token(token),
        invited_by=actor.user, expires_at=now + INVITATION_LIFETIME,
    )
    audit.record(organisation, actor=actor.audit_actor, verb="invitation.created", obj=invitation,
                 data={"email": email, "role": role})
    inviter = str(actor.user) if actor.user is not None else organisation.name
    transaction.on_commit(lambda: _send_invitation(invitation, token, inviter))
    return invitation


def _send_invitation(invitation: Invitation, token: str, inviter: str) -> None:
    context = {
        "organisation": invitation.organisation, "role": invitation.get_role_display(), "inviter": inviter,
        "url": invitation_url(token), "expires_at": invitation.expires_at,
    }
    send_mail(
        subject=f"You are invited to join {invitation.organisation.name} on Insignia",
        message=render_to_string("core/email/invitation.txt", context),
        html_message=render_to_string("core/email/invitation.html", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def cancel_invitation(*, actor: Actor, invitation_id: int) -> None:
    """Withdraw a pending invitation: its link stops working."""
    actor.require("manage")
    invitation = Invitation.objects.filter(organisation=actor.organisation, pk=invitation_id,
                                           accepted_at__isnull=True).first()
    if invitation is None:
        raise NotFound("No such pending invitation.")
    _require_role_rights(actor, invitation.role)
    audit.record(actor.organisation, actor=actor.audit_actor, verb="invitation.cancelled", obj=invitation,
                 data={"email": invitation.email, "role": invitation.role})
    invitation.delete()


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's token names (any state), or None."""
    if not token or len(token) > 200:
        return None
    return Invitation.objects.select_related("organisation", "invited_by").filter(
        token_hash=hash_token(token)).first()


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(len(local) - 1, 1)}@{domain}"


def _user_emails(user: Any) -> set[str]:
    """The user's *verified* addresses, lower-cased: the only ones an invitation can be accepted with.

    Verified means confirmed through allauth's emailed link, whatever INSIGNIA_EMAIL_VERIFICATION says for
    signing in: with verification relaxed, anyone can sign up with someone else's address, and joining an
    organisation (often with rights to issue in its name) must not follow from that.
    """
    from allauth.account.models import EmailAddress

    return {e.lower() for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)}


def invitation_match(user: Any, invitation: Invitation) -> str:
    """``"verified"`` (may accept), ``"unverified"`` (the user's address, not confirmed yet) or ``"other"``."""
    from allauth.account.models import EmailAddress

    email = invitation.email.lower()
    if email in _user_emails(user):
        return "verified"
    if (user.email or "").lower() == email or EmailAddress.objects.filter(user=user, email__iexact=email).exists():
        return "unverified"
    return "other"


@transaction.atomic
def accept_invitation(*, user: Any, token: str, now: datetime | None = None) -> Membership:
    """Join the organisation an invitation names. The invited address must be one of the signed-in user's
    verified addresses (even when INSIGNIA_EMAIL_VERIFICATION lets unverified accounts sign in)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Sign in (or create an account) with the invited email address first.")
    now = now or timezone.now()
    invitation = None
    if token and len(token) <= 200:
        invitation = (Invitation.objects.select_for_update().select_related("organisation")
                      .filter(token_hash=hash_token(token)).first())
    if invitation is None:
        raise NotFound("This invitation link is not valid. Ask the person who invited you to send a new one.",
                       code="invitation_invalid")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been used. Sign in to reach the organisation, or ask for a "
                       "new invitation.", code="invitation_used")
    if invitation.expires_at <= now:
        raise ServiceError("This invitation has expired. Ask the person who invited you to send a new one.",
                           code="invitation_expired")
    match = invitation_match(user, invitation)
    if match == "unverified":
        raise PermissionDenied("Confirm your email address first: open the verification link we emailed you (or "
                               "send a new one from your email settings), then accept the invitation.",
                               code="email_unverified")
    if match != "verified":
        raise PermissionDenied(f"This invitation was sent to {_mask(invitation.email)}. Sign out, then sign in or "
                               "create an account with that address.", code="wrong_email")
    organisation = invitation.organisation
    membership, created = Membership.objects.get_or_create(
        organisation=organisation, user=user, defaults={"role": invitation.role})
    invitation.accepted_at = now
    invitation.save(update_fields=["accepted_at"])
    audit.record(organisation, actor=user, verb="invitation.accepted", obj=invitation,
                 data={"email": invitation.email, "role": membership.role, "joined": created})
    return membership


def _owners_locked(organisation: Organisation) -> int:
    """The number of owners, with their rows locked so two requests cannot remove the last two at once."""
    return len(list(Membership.objects.select_for_update().filter(organisation=organisation, role=Role.OWNER)
                    .values_list("pk", flat=True)))


def _member(actor: Actor, membership_id: int) -> Membership:
    membership = (Membership.objects.select_for_update().select_related("user")
                  .filter(organisation=actor.organisation, pk=membership_id).first())
    if membership is None:
        raise NotFound("No such member.")
    return membership


@transaction.atomic
def change_role(*, actor: Actor, membership_id: int, role: str) -> Membership:
    """Give a member another role. Owners alone touch the owner role; the last owner stays an owner."""
    actor.require("manage")
    role = _clean_role(role)
    membership = _member(actor, membership_id)
    _require_role_rights(actor, membership.role)
    _require_role_rights(actor, role)
    if membership.role == role:
        return membership
    if membership.role == Role.OWNER and _owners_locked(actor.organisation) <= 1:
        raise Conflict("This is the last owner. Make someone else an owner first.", code="last_owner")
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record(actor.organisation, actor=actor.audit_actor, verb="member.role_changed", obj=membership.user,
                 data={"email": membership.user.email, "from": previous, "to": role})
    return membership


@transaction.atomic
def remove_member(*, actor: Actor, membership_id: int) -> None:
    """Remove someone from the organisation. Only owners remove owners; the last owner cannot be removed."""
    actor.require("manage")
    membership = _member(actor, membership_id)
    _require_role_rights(actor, membership.role)
    if membership.role == Role.OWNER and _owners_locked(actor.organisation) <= 1:
        raise Conflict("This is the last owner and cannot be removed. Make someone else an owner first.",
                       code="last_owner")
    audit.record(actor.organisation, actor=actor.audit_actor, verb="member.removed", obj=membership.user,
                 data={"email": membership.user.email, "role": membership.role})
    membership.delete()
