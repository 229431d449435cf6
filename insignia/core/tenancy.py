"""The only way to reach tenant data: resolve the caller's membership, then scope every query to it.

An object of another organisation is reported as *not found*, never *forbidden*, so a tenant cannot
even learn that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Model, QuerySet

from insignia.core.errors import NotFound, PermissionDenied
from insignia.core.models import ROLE_PERMISSIONS, Membership, Organisation


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which organisation, with which permissions (a user, an API token, or the system)."""

    organisation: Organisation
    role: str
    user: Any = None
    label: str = ""

    def can(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"Your role ({self.role}) does not allow this; ask an owner or admin.")

    @property
    def audit_actor(self) -> Any:
        return self.user if self.user is not None else (self.label or "system")


def actor_for(user: Any, organisation_public_id: str) -> Actor:
    """The user's Actor in an organisation, or NotFound if they are not a member."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFound("No such organisation.")
    membership = (
        Membership.objects.select_related("organisation")
        .filter(user=user, organisation__public_id=organisation_public_id)
        .first()
    )
    if membership is None:
        raise NotFound("No such organisation.")
    return Actor(organisation=membership.organisation, role=membership.role, user=user)


def memberships_of(user: Any) -> list[Membership]:
    """Every membership of the user, with its organisation, in the organisation switcher's order (by name)."""
    return list(Membership.objects.filter(user=user).select_related("organisation")
                .order_by("organisation__name", "pk"))


def actor_for_request(request: Any, organisation_public_id: str) -> Actor:
    """:func:`actor_for` for a page: one query reads all of the user's memberships, and they stay on the request
    (``request.insignia_memberships``) for the page's navigation (``insignia.core.context.site``), which then reads
    none of its own. NotFound if the signed-in user is not a member."""
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotFound("No such organisation.")
    memberships = memberships_of(user)
    request.insignia_memberships = memberships
    for membership in memberships:
        if membership.organisation.public_id == organisation_public_id:
            return Actor(organisation=membership.organisation, role=membership.role, user=user)
    raise NotFound("No such organisation.")


def system_actor(organisation: Organisation, label: str = "system") -> Actor:
    """For jobs and the command line acting with full rights inside one organisation."""
    return Actor(organisation=organisation, role="owner", label=label)


def scoped(queryset: QuerySet, actor: Actor) -> QuerySet:
    """Restrict a queryset of an organisation-owned model to the actor's organisation."""
    return queryset.filter(organisation=actor.organisation)


def get_scoped(queryset: QuerySet, actor: Actor, **lookup: Any) -> Model:
    """One object of the actor's organisation, or NotFound (also for other tenants' objects)."""
    obj = scoped(queryset, actor).filter(**lookup).first()
    if obj is None:
        raise NotFound(f"No such {queryset.model._meta.verbose_name}.")
    return obj
