"""Reads of issuers and their keys: tenant-scoped for members, by public id for the public endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from insignia.core.errors import NotFound
from insignia.core.tenancy import Actor, get_scoped, scoped
from insignia.issuers.models import Issuer, KeyAlgorithm, SigningKey


def issuers_for(actor: Actor) -> QuerySet[Issuer]:
    """The issuers of the actor's organisation, by name, with how many keys each has."""
    actor.require("view")
    return scoped(Issuer.objects.all(), actor).annotate(key_count=Count("keys")).order_by("name", "id")


def get_issuer(actor: Actor, public_id: str) -> Issuer:
    """One issuer of the actor's organisation; NotFound for unknown ids and for other tenants' issuers."""
    actor.require("view")
    issuer = get_scoped(Issuer.objects.select_related("organisation"), actor, public_id=public_id)
    assert isinstance(issuer, Issuer)
    return issuer


def issuer_keys(issuer: Issuer) -> list[SigningKey]:
    """The issuer's keys, newest first, active and retired."""
    return list(issuer.keys.order_by("-created_at", "-id"))


def public_issuer(public_id: str) -> Issuer:
    """An issuer by its public id, for the public endpoints (anyone may read a published profile)."""
    issuer = Issuer.objects.select_related("organisation").filter(public_id=public_id).first()
    if issuer is None:
        raise NotFound("No such issuer.")
    return issuer


def public_rsa_key(issuer: Issuer, fragment: str) -> SigningKey:
    """One of the issuer's RSA keys (active or retired) by fragment: the keys OB 2.0 signatures name."""
    key = issuer.keys.filter(fragment=fragment, algorithm=KeyAlgorithm.RSA).first()
    if key is None:
        raise NotFound("No such key.")
    return key


def published_badges(issuer: Issuer) -> list[Any]:
    """The issuer's published badge classes, by name (for its public page)."""
    from insignia.badges.models import BadgeClass, BadgeStatus

    return list(BadgeClass.objects.filter(issuer=issuer, status=BadgeStatus.PUBLISHED).order_by("name", "id"))
