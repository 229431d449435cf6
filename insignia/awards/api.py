"""Awards over the API: list with filters, issue (idempotent, with or without files), read, revoke, suspend.

Issuing takes JSON at ``POST /awards``, or ``multipart/form-data`` at ``POST /awards/with-files`` when
evidence files go with it: a ``payload`` part holding the same JSON and one ``evidence_files`` part per
file. Files cannot be added later because the signed credential is immutable: the files' download URLs
and SHA-256 digests are inside what is signed. Refused files are RFC 9457 problems: 413 (too large),
415 (not a PDF, PNG, JPEG or plain text; markup of any kind), and nothing is stored or issued.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Header, Query, Router, Schema, Status, UploadedFile

from insignia.awards import queries, services
from insignia.awards.evidence import EvidenceUpload, check_evidence_size
from insignia.awards.models import Award
from insignia.awards.schemas import AwardIn, AwardOut, AwardPage, ReasonIn, StatusFilter, award_data
from insignia.core.errors import ServiceError
from insignia.integrations.pagination import LargePage, PageParams, paginate_large

router = Router()

IDEMPOTENCY_KEY_MAX = 200
IDEMPOTENCY_DESCRIPTION = (
    "Send an `Idempotency-Key` header to make retries safe: repeating the same request with the same key returns "
    "the award made the first time (200 instead of 201); the same key with a different request is a 409 problem."
)
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"type": "object"}}}
#: Refused uploads → HTTP status: too large is 413, a refused kind of file is 415 (the rest stay 400).
UPLOAD_STATUS = {"evidence_file_too_large": 413, "evidence_file_type": 415, "evidence_file_svg": 415,
                 "evidence_file_html": 415, "evidence_file_xml": 415}


class UploadRefused(ServiceError):
    """An evidence file the service refused, carrying the HTTP status the API answers with."""

    def __init__(self, refused: ServiceError, status: int) -> None:
        super().__init__(refused.message, code=refused.code, field=refused.field)
        self.status = status


class AwardFilters(Schema):
    badge: str | None = Field(None, description="A badge id.")
    status: StatusFilter | None = None
    recipient: str | None = Field(None, description="The recipient's identity (exact, case-insensitive).")
    after: str | None = Field(None, max_length=50, description="A position from `next`: the page starts right "
                                                               "after it (then `offset` is informative only).")


class AwardListPage(AwardPage, LargePage):
    pass


@router.get("", response=AwardListPage, summary="List awards",
            description=f"Newest first. `count` is exact up to {queries.COUNT_LIMIT:,} matches; above that it is "
                        f"{queries.COUNT_LIMIT:,} with `count_exact` false (follow `next` to the end).")
def list_awards(request: HttpRequest, page: Query[PageParams], filters: Query[AwardFilters]) -> dict[str, Any]:
    queryset = queries.awards_for(request.auth, status=filters.status or "", badge=filters.badge or "")
    if filters.recipient:
        queryset = queryset.filter(recipient_identity__iexact=filters.recipient.strip())
    return paginate_large(request, queryset, page, award_data, count_limit=queries.COUNT_LIMIT, keyset="issued_on",
                          after=filters.after)


@router.post("", response={200: AwardOut, 201: AwardOut}, summary="Issue an award (scope: issue)",
             description=IDEMPOTENCY_DESCRIPTION + " To attach evidence files, use `POST /awards/with-files`.")
def issue_award(
    request: HttpRequest,
    payload: AwardIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Status[dict[str, Any]]:
    return _issue(request, payload, response, idempotency_key, [])


@router.post(
    "/with-files", response={200: AwardOut, 201: AwardOut},
    summary="Issue an award with evidence files (scope: issue)",
    description=(
        "`multipart/form-data`: a `payload` part with the same JSON object as `POST /awards` (send it with "
        "`Content-Type: application/json`, or as a plain form field holding that JSON), and up to 20 "
        "`evidence_files` parts (PDF, PNG, JPEG or UTF-8 text; each at most the instance's upload limit, "
        "2 MB by default). Each file is stored, served as a download at a random URL, and becomes one Evidence "
        "item of the signed credential (its `id` the download URL, its `description` `sha256:<hex>` of the "
        "bytes). A file over the limit is a 413 problem, a refused kind of file a 415 problem; nothing is "
        "issued then. " + IDEMPOTENCY_DESCRIPTION + " The files are part of what the key identifies."
    ),
    openapi_extra={
        "requestBody": {"content": {"multipart/form-data": {
            "schema": {"properties": {"evidence_files": {"maxItems": services.MAX_EVIDENCE_ITEMS}}},
            "encoding": {"payload": {"contentType": "application/json"}},
        }}},
        "responses": {
            "413": {"description": "An evidence file is larger than the upload limit (a problem document).",
                    "content": PROBLEM_CONTENT},
            "415": {"description": "An evidence file is not a PDF, PNG, JPEG or plain-text file (a problem "
                                   "document).", "content": PROBLEM_CONTENT},
        },
    },
)
def issue_award_with_files(
    request: HttpRequest,
    payload: AwardIn,
    response: HttpResponse,
    evidence_files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> Status[dict[str, Any]]:
    files = list(evidence_files or [])
    if len(files) + len(payload.evidence) > services.MAX_EVIDENCE_ITEMS:
        raise ServiceError(f"Give at most {services.MAX_EVIDENCE_ITEMS} pieces of evidence (files and links "
                           "together).", field="evidence_files", code="evidence_invalid")
    uploads: list[EvidenceUpload] = []
    for uploaded in files:
        try:
            check_evidence_size(uploaded.size or 0)  # before reading it
        except ServiceError as exc:
            raise UploadRefused(exc, 413) from None
        uploads.append(EvidenceUpload(content=uploaded.read(), filename=uploaded.name or "",
                                      content_type=uploaded.content_type or ""))
    return _issue(request, payload, response, idempotency_key, uploads)


def _issue(request: HttpRequest, payload: AwardIn, response: HttpResponse, idempotency_key: str | None,
           uploads: list[EvidenceUpload]) -> Status[dict[str, Any]]:
    """Both issue endpoints: check the key, call the service, say whether this was a replay."""
    actor = request.auth
    key = (idempotency_key or "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ServiceError(f"The Idempotency-Key header must be printable text of at most {IDEMPOTENCY_KEY_MAX} "
                           "characters.", code="idempotency_key_invalid", field="Idempotency-Key")
    started = timezone.now()
    existed = bool(key) and Award.objects.filter(organisation=actor.organisation, idempotency_key=key).exists()
    try:
        award = services.issue_award(
            actor=actor, badge=payload.badge, recipient=payload.recipient, recipient_kind=payload.recipient_kind,
            recipient_name=payload.recipient_name, evidence=[e.dict() for e in payload.evidence],
            evidence_files=uploads, narrative=payload.narrative, issued_on=payload.issued_on, idempotency_key=key,
        )
    except ServiceError as exc:
        status = UPLOAD_STATUS.get(exc.code)
        if status is None:
            raise
        raise UploadRefused(exc, status) from None
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
