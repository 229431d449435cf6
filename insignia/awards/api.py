"""Awards over the API: list with filters, issue (idempotent), read, revoke, suspend, unsuspend."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Header, Query, Router, Schema, Status

from insignia.awards import queries, services
from insignia.awards.models import Award
from insignia.awards.schemas import AwardIn, AwardOut, AwardPage, ReasonIn, StatusFilter, award_data
from insignia.core.errors import ServiceError
from insignia.integrations.pagination import PageParams, paginate

router = Router()

IDEMPOTENCY_KEY_MAX = 200


class AwardFilters(Schema):
    badge: str | None = Field(None, description="A badge id.")
    status: StatusFilter | None = None
    recipient: str | None = Field(None, description="The recipient's identity (exact, case-insensitive).")


@router.get("", response=AwardPage, summary="List awards")
def list_awards(request: HttpRequest, page: Query[PageParams], filters: Query[AwardFilters]) -> dict[str, Any]:
    queryset = queries.awards_for(request.auth, status=filters.status or "", badge=filters.badge or "")
    if filters.recipient:
        queryset = queryset.filter(recipient_identity__iexact=filters.recipient.strip())
    return paginate(request, queryset, page, award_data)


@router.post("", response={200: AwardOut, 201: AwardOut},
             summary="Issue an award (scope: issue)",
             description="Send an `Idempotency-Key` header to make retries safe: repeating the same request with "
                         "the same key returns the award made the first time (200 instead of 201); the same key "
                         "with a different request is a 409 problem.")
def issue_award(
    request: HttpRequest,
    payload: AwardIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Status[dict[str, Any]]:
    actor = request.auth
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ServiceError(f"The Idempotency-Key header must be printable text of at most {IDEMPOTENCY_KEY_MAX} "
                           "characters.", code="idempotency_key_invalid", field="Idempotency-Key")
    started = timezone.now()
    existed = bool(key) and Award.objects.filter(organisation=actor.organisation, idempotency_key=key).exists()
    award = services.issue_award(
        actor=actor, badge=payload.badge, recipient=payload.recipient, recipient_kind=payload.recipient_kind,
        recipient_name=payload.recipient_name, evidence=[e.dict() for e in payload.evidence],
        narrative=payload.narrative, issued_on=payload.issued_on, idempotency_key=key,
    )
    replay = existed or (bool(key) and award.created_at < started)
    if key:
        response["Idempotency-Key"] = key
    if replay:
        response["Idempotent-Replayed"] = "true"
    return Status(200 if replay else 201, award_data(award))


@router.get("/{award_id}", response=AwardOut, summary="Read an award, with the URLs of its public forms")
def get_award(request: HttpRequest, award_id: str) -> dict[str, Any]:
    return award_data(queries.get_award(request.auth, award_id))


@router.post("/{award_id}/revoke", response=AwardOut, summary="Revoke an award for good (scope: issue)")
def revoke_award(request: HttpRequest, award_id: str, payload: ReasonIn) -> dict[str, Any]:
    award = queries.get_award(request.auth, award_id)
    return award_data(services.revoke_award(actor=request.auth, award=award, reason=payload.reason))


@router.post("/{award_id}/suspend", response=AwardOut, summary="Suspend an award (scope: issue)")
def suspend_award(request: HttpRequest, award_id: str, payload: ReasonIn) -> dict[str, Any]:
    award = queries.get_award(request.auth, award_id)
    return award_data(services.suspend_award(actor=request.auth, award=award, reason=payload.reason))


@router.post("/{award_id}/unsuspend", response=AwardOut, summary="Lift a suspension (scope: issue)")
def unsuspend_award(request: HttpRequest, award_id: str) -> dict[str, Any]:
    award = queries.get_award(request.auth, award_id)
    return award_data(services.unsuspend_award(actor=request.auth, award=award))
