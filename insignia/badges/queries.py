"""Reads of badge classes: tenant-scoped for members, public (non-draft) for everyone."""

from __future__ import annotations

from django.db.models import QuerySet

from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.core.errors import NotFound
from insignia.core.tenancy import Actor, get_scoped, scoped


def badges_for(actor: Actor, *, status: str | None = None) -> QuerySet[BadgeClass]:
    """The organisation's badges, newest first, optionally of one status."""
    queryset = scoped(BadgeClass.objects.select_related("issuer"), actor).order_by("-created_at", "-id")
    if status in BadgeStatus.values:
        queryset = queryset.filter(status=status)
    return queryset


def get_badge(actor: Actor, public_id: str) -> BadgeClass:
    """One badge of the actor's organisation, or NotFound."""
    badge = get_scoped(BadgeClass.objects.select_related("issuer", "organisation"), actor, public_id=public_id)
    assert isinstance(badge, BadgeClass)
    return badge


def public_badge(public_id: str) -> BadgeClass:
    """A published or archived badge by its public id; drafts are NotFound."""
    badge = (BadgeClass.objects.select_related("issuer", "organisation")
             .exclude(status=BadgeStatus.DRAFT).filter(public_id=public_id).first())
    if badge is None:
        raise NotFound("No such badge.")
    return badge
