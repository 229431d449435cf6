"""Talking to the issuer: an earner offers more evidence or asks for a correction; the issuer answers.

A signed credential never changes, so a request is answered by **re-issuing** (a new award that ``replaces``
the old one, which is revoked through the status list with the reason "Replaced by <new credential id>"; see
``insignia.awards.services.reissue_award``) or by **declining** with a note. The earner may withdraw an open
request. Who may ask: the award's earner, or, while it is unclaimed, the holder of a verified identity it was
made to (``insignia.backpack.identities.owns``, the wallet's one ownership rule). Every write is audited in the
award's organisation; the earner is emailed when the issuer answers.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from insignia.awards.models import Award, AwardStatus
from insignia.awards.services import MAX_NAME, MAX_NARRATIVE, EvidenceItem, reissue_award
from insignia.backpack.identities import owns
from insignia.backpack.models import AwardRequest, RequestKind, RequestState
from insignia.core import audit
from insignia.core.errors import Conflict, NotFound, ServiceError
from insignia.core.models import Organisation
from insignia.core.tenancy import Actor, get_scoped, scoped

log = logging.getLogger(__name__)

MAX_MESSAGE = 4_000
MAX_RESPONSE = 4_000
#: An earner keeps at most this many requests open across all their awards (a brake on flooding an issuer).
MAX_OPEN_PER_EARNER = 20
_http_url = URLValidator(schemes=["http", "https"])


# -- the earner's side -----------------------------------------------------------------------------------------


def earner_award(*, user: Any, award: Award | str) -> Award:
    """An award the user may make requests about, or NotFound (others' awards look like missing ones)."""
    public_id = award if isinstance(award, str) else award.public_id
    found = (Award.objects.select_related("badge", "issuer", "organisation").filter(public_id=public_id).first()
             if getattr(user, "is_authenticated", False) else None)
    if found is None or not owns(user, found):
        raise NotFound("No such badge in your wallet.")
    return found


def _text(value: str | None, limit: int, what: str, field: str) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise ServiceError(f"The {what} is too long (at most {limit:,} characters).", code=f"{field}_too_long",
                           field=field)
    return text


def _may_ask(user: Any, award: Award, kind: str) -> None:
    if award.status == AwardStatus.REVOKED:
        raise ServiceError("This badge is revoked, so it cannot be corrected or re-issued; contact the issuer.",
                           code="award_revoked")
    if award.requests.filter(kind=kind, state=RequestState.OPEN).exists():
        raise Conflict("You already have an open request of this kind for this badge: wait for the issuer's answer, "
                       "or withdraw it and ask again.", code="request_open")
    if AwardRequest.objects.filter(requested_by=user, state=RequestState.OPEN).count() >= MAX_OPEN_PER_EARNER:
        raise Conflict(f"You have {MAX_OPEN_PER_EARNER} open requests; wait for answers before asking again.",
                       code="too_many_requests")


def _create(user: Any, award: Award, *, kind: str, message: str, changes: dict[str, Any],
            evidence: list[dict[str, str]]) -> AwardRequest:
    request = AwardRequest.objects.create(
        award=award, organisation=award.organisation, requested_by=user, kind=kind, message=message,
        changes=changes, evidence=evidence,
    )
    audit.record(award.organisation, actor=user, verb=f"award_request.{kind}", obj=request,
                 data={"award": award.public_id, "fields": sorted(changes)})
    return request


@transaction.atomic
def request_correction(*, user: Any, award: Award | str, recipient_name: str | None = None, details: str = "",
                       message: str = "", now: datetime | None = None) -> AwardRequest:
    """Ask the issuer to correct an award: a new recipient name and/or other changes described in words."""
    found = earner_award(user=user, award=award)
    name = _text(recipient_name, MAX_NAME, "name", "recipient_name")
    other = _text(details, MAX_MESSAGE, "description of the change", "details")
    note = _text(message, MAX_MESSAGE, "message", "message")
    changes: dict[str, Any] = {}
    if name and name != found.recipient_name:
        changes["recipient_name"] = name
    if other:
        changes["details"] = other
    if not changes:
        raise ServiceError("Say what should change: the name to show on the badge, or the correction in words.",
                           code="correction_empty", field="recipient_name")
    _may_ask(user, found, RequestKind.CORRECTION)
    return _create(user, found, kind=RequestKind.CORRECTION, message=note, changes=changes, evidence=[])


@transaction.atomic
def offer_evidence(*, user: Any, award: Award | str, url: str = "", narrative: str = "", name: str = "",
                   message: str = "", now: datetime | None = None) -> AwardRequest:
    """Offer the issuer more evidence (a link and/or a description) to add to the award when re-issuing it."""
    found = earner_award(user=user, award=award)
    link = _text(url, 2000, "link", "url")
    if link:
        try:
            _http_url(link)
        except DjangoValidationError:
            raise ServiceError(f"{link!r} is not a web address: give the full link, starting with https://.",
                               code="evidence_invalid", field="url") from None
    story = _text(narrative, MAX_NARRATIVE, "description", "narrative")
    title = _text(name, MAX_NAME, "title", "name")
    if not link and not story:
        raise ServiceError("Give a link to the evidence or describe it (or both).", code="evidence_empty",
                           field="url")
    note = _text(message, MAX_MESSAGE, "message", "message")
    _may_ask(user, found, RequestKind.EVIDENCE)
    item = EvidenceItem(url=link, narrative=story, name=title).to_json()
    return _create(user, found, kind=RequestKind.EVIDENCE, message=note, changes={}, evidence=[item])


@transaction.atomic
def withdraw_request(*, user: Any, request: AwardRequest | str, now: datetime | None = None) -> AwardRequest:
    """The earner takes back an open request."""
    public_id = request if isinstance(request, str) else request.public_id
    found = AwardRequest.objects.select_for_update().filter(public_id=public_id, requested_by=user).first() \
        if getattr(user, "is_authenticated", False) else None
    if found is None:
        raise NotFound("No such request.")
    if found.state != RequestState.OPEN:
        raise Conflict(f"This request is already {found.get_state_display().lower()}.", code="request_closed")
    found.state = RequestState.WITHDRAWN
    found.resolved_at = now or timezone.now()
    found.resolved_by = user
    found.save(update_fields=["state", "resolved_at", "resolved_by"])
    audit.record(found.organisation, actor=user, verb="award_request.withdrawn", obj=found,
                 data={"award": found.award.public_id})
    return found


def requests_of(user: Any) -> QuerySet[AwardRequest]:
    """The user's own requests, newest first."""
    return AwardRequest.objects.filter(requested_by=user).select_related("award__badge", "replacement")


# -- the issuer's side -----------------------------------------------------------------------------------------


def org_requests(actor: Actor, *, state: str = RequestState.OPEN) -> QuerySet[AwardRequest]:
    """The organisation's requests (one state, or every state with ``state=""``), oldest open first."""
    rows = scoped(AwardRequest.objects.select_related("award__badge", "requested_by", "replacement"), actor)
    if state:
        rows = rows.filter(state=state)
    return rows.order_by("created_at", "id") if state == RequestState.OPEN else rows.order_by("-created_at", "-id")


def open_count(organisation: Organisation) -> int:
    return AwardRequest.objects.filter(organisation=organisation, state=RequestState.OPEN).count()


def get_request(actor: Actor, public_id: str) -> AwardRequest:
    found = get_scoped(AwardRequest.objects.select_related("award__badge", "award__issuer", "requested_by",
                                                           "replacement"), actor, public_id=public_id)
    assert isinstance(found, AwardRequest)
    return found


def _locked_open(actor: Actor, request: AwardRequest | str) -> AwardRequest:
    public_id = request if isinstance(request, str) else request.public_id
    found = get_scoped(AwardRequest.objects.select_for_update(), actor, public_id=public_id)
    assert isinstance(found, AwardRequest)
    if found.state != RequestState.OPEN:
        raise Conflict(f"This request is already {found.get_state_display().lower()}.", code="request_closed")
    return found


@transaction.atomic
def reissue_for_request(*, actor: Actor, request: AwardRequest | str, recipient_name: str | None = None,
                        add_evidence: bool = True, narrative: str | None = None, response: str = "",
                        now: datetime | None = None) -> AwardRequest:
    """Answer by re-issuing: the changes asked for (or the issuer's edit of them) go into a new award.

    ``recipient_name`` defaults to the name the earner asked for; ``add_evidence`` appends the offered evidence
    to the award's. The old award is revoked as "Replaced by <new credential id>".
    """
    actor.require("issue")
    now = now or timezone.now()
    found = _locked_open(actor, request)
    old = found.award
    note = _text(response, MAX_RESPONSE, "answer", "response")
    name = recipient_name if recipient_name is not None else found.changes.get("recipient_name")
    evidence = None
    if add_evidence and found.evidence:
        evidence = [*(old.evidence or []), *found.evidence]
    reason = note or ("Correction requested by the earner" if found.kind == RequestKind.CORRECTION
                      else "Evidence added at the earner's request")
    new = reissue_award(actor=actor, award=old, recipient_name=name, evidence=evidence, narrative=narrative,
                        reason=reason, now=now)
    found.state = RequestState.REISSUED
    found.replacement = new
    found.response = note
    found.resolved_at = now
    found.resolved_by = actor.user
    found.save(update_fields=["state", "replacement", "response", "resolved_at", "resolved_by"])
    audit.record(actor.organisation, actor=actor.audit_actor, verb="award_request.reissued", obj=found,
                 data={"award": old.public_id, "replacement": new.public_id})
    transaction.on_commit(lambda: notify_answer(found), robust=True)
    return found


@transaction.atomic
def decline_request(*, actor: Actor, request: AwardRequest | str, response: str,
                    now: datetime | None = None) -> AwardRequest:
    """Answer with a no, and a note saying why (the earner sees it)."""
    actor.require("issue")
    found = _locked_open(actor, request)
    note = _text(response, MAX_RESPONSE, "answer", "response")
    if not note:
        raise ServiceError("Tell the earner why: the note is shown to them.", code="response_required",
                           field="response")
    found.state = RequestState.DECLINED
    found.response = note
    found.resolved_at = now or timezone.now()
    found.resolved_by = actor.user
    found.save(update_fields=["state", "response", "resolved_at", "resolved_by"])
    audit.record(actor.organisation, actor=actor.audit_actor, verb="award_request.declined", obj=found,
                 data={"award": found.award.public_id})
    transaction.on_commit(lambda: notify_answer(found), robust=True)
    return found


def notify_answer(request: AwardRequest) -> None:
    """Email the earner that the issuer answered (best effort: a failure is logged, never raised)."""
    user = request.requested_by
    if user is None or not getattr(user, "email", ""):
        return
    context = {"request": request, "award": request.award, "BASE_URL": settings.BASE_URL,
               "organisation": request.organisation}
    subject = (f"{request.organisation.name} re-issued your badge “{request.award.badge.name}”"
               if request.state == RequestState.REISSUED else
               f"{request.organisation.name} answered your request about “{request.award.badge.name}”")
    try:
        body = render_to_string("backpack/request_answer_email.txt", context)
        EmailMultiAlternatives(subject=subject, body=body, to=[user.email]).send()
    except Exception:
        log.warning("The answer to request %s could not be emailed.", request.public_id, exc_info=True)


__all__ = [
    "decline_request",
    "earner_award",
    "get_request",
    "notify_answer",
    "offer_evidence",
    "open_count",
    "org_requests",
    "reissue_for_request",
    "request_correction",
    "requests_of",
    "withdraw_request",
]
