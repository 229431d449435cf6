"""Reads of awards: tenant-scoped for members, by public id for the public endpoints."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from insignia.awards.models import Award, AwardStatus, EvidenceFile, StatusList
from insignia.core.errors import NotFound
from insignia.core.tenancy import Actor, get_scoped, scoped
from insignia.issuers.models import Issuer

#: Filter values of the award list: the stored states, plus "expired" (derived from the expiry date).
STATUS_FILTERS = ("active", "suspended", "revoked", "expired")


def awards_for(
    actor: Actor, *, search: str = "", status: str = "", badge: str = "", now: datetime | None = None
) -> QuerySet[Award]:
    """The organisation's awards, newest first, optionally by recipient text, status and badge public id."""
    actor.require("view")
    now = now or timezone.now()
    awards = scoped(Award.objects.select_related("badge", "issuer"), actor)
    text = search.strip()
    if text:
        awards = awards.filter(Q(recipient_identity__icontains=text) | Q(recipient_name__icontains=text))
    if status == "expired":
        awards = awards.filter(status=AwardStatus.ACTIVE, expires_on__lte=now)
    elif status == AwardStatus.ACTIVE:
        awards = awards.filter(status=AwardStatus.ACTIVE).filter(Q(expires_on__isnull=True) | Q(expires_on__gt=now))
    elif status in (AwardStatus.SUSPENDED, AwardStatus.REVOKED):
        awards = awards.filter(status=status)
    if badge:
        awards = awards.filter(badge__public_id=badge)
    return awards.order_by("-issued_on", "-id")


def get_award(actor: Actor, public_id: str) -> Award:
    """One award of the actor's organisation; NotFound for unknown ids and other tenants' awards."""
    actor.require("view")
    award = get_scoped(Award.objects.select_related("badge", "issuer"), actor, public_id=public_id)
    assert isinstance(award, Award)
    return award


def public_award(public_id: str) -> Award:
    """An award by its public id (random, unguessable), for the public endpoints."""
    award = Award.objects.select_related("badge", "issuer").filter(public_id=public_id).first()
    if award is None:
        raise NotFound("No such badge award.")
    return award


def public_evidence_file(award_public_id: str, file_public_id: str) -> EvidenceFile:
    """An uploaded evidence file of an award, by both random public ids (for the public download)."""
    found = EvidenceFile.objects.filter(public_id=file_public_id, award__public_id=award_public_id).first()
    if found is None:
        raise NotFound("No such evidence file.")
    return found


def public_status_list(public_id: str) -> StatusList:
    status_list = StatusList.objects.select_related("issuer").filter(public_id=public_id).first()
    if status_list is None:
        raise NotFound("No such status list.")
    return status_list


def revoked_awards(issuer_public_id: str) -> tuple[Issuer, list[Award]]:
    """An issuer and its revoked awards, oldest revocation first (for the OB 2.0 revocation list)."""
    issuer = Issuer.objects.filter(public_id=issuer_public_id).first()
    if issuer is None:
        raise NotFound("No such issuer.")
    return issuer, list(Award.objects.filter(issuer=issuer, status=AwardStatus.REVOKED)
                        .order_by("status_changed_at", "id"))


def display_state(award: Award, now: datetime | None = None) -> str:
    """What to show: revoked, suspended, expired or valid (in that order of precedence)."""
    if award.status in (AwardStatus.REVOKED, AwardStatus.SUSPENDED):
        return str(award.status)
    if award.expires_on is not None and award.expires_on <= (now or timezone.now()):
        return "expired"
    return "valid"
