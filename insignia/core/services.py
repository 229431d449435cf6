"""Organisation operations: creating tenants, membership and roles."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from insignia.core import audit
from insignia.core.errors import ServiceError
from insignia.core.ids import new_public_id
from insignia.core.models import Membership, Organisation, Role
from insignia.core.tenancy import Actor


@transaction.atomic
def create_organisation(*, user: object, name: str) -> Actor:
    """A new organisation with ``user`` as its owner; returns the owner's Actor."""
    name = name.strip()
    if not name:
        raise ServiceError("Give the organisation a name.", field="name")
    base = slugify(name)[:48] or "organisation"
    slug = base if not Organisation.objects.filter(slug=base).exists() else f"{base}-{new_public_id()[:6]}"
    organisation = Organisation.objects.create(name=name, slug=slug)
    Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
    actor = Actor(organisation=organisation, role=Role.OWNER, user=user)
    audit.record(organisation, actor=user, verb="organisation.created", obj=organisation, data={"name": name})
    return actor
