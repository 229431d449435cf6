"""Award operations: every write to awards and status lists happens here.

``issue_award`` signs one OB 3.0 credential and stores it unchanged; ``revoke_award``,
``suspend_award`` and ``unsuspend_award`` flip status-list bits (the credential itself never changes).
Each checks the actor's permission and tenancy, runs in one transaction, writes an audit event and
schedules its side effects (``insignia.awards.events``) after commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from insignia.awards import credentials as documents
from insignia.awards import events, statuslists
from insignia.awards.evidence import CheckedEvidence, EvidenceUpload, check_upload
from insignia.awards.models import Award, AwardStatus, EvidenceFile, RecipientKind, StatusList, StatusPurpose
from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.badges.services import expiry_for, require_awardable
from insignia.core import audit
from insignia.core.errors import Conflict, ServiceError
from insignia.core.ids import new_public_id
from insignia.core.tenancy import Actor, get_scoped
from insignia.credentials import CredentialError, Signer, sign_credential
from insignia.credentials.model.identity import hash_identity, new_salt, normalise_phone
from insignia.issuers.models import Issuer

#: How far in the future an award date may be (clock differences between machines).
FUTURE_SKEW = timedelta(minutes=5)
MAX_EVIDENCE_ITEMS = 20
MAX_NARRATIVE = 10_000
MAX_NAME = 200
MAX_REASON = 1_000

_DID_RE = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._%-]$")
_http_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence: a URL and/or a narrative (Markdown), with an optional name and description."""

    url: str = ""
    narrative: str = ""
    name: str = ""
    description: str = ""

    def to_json(self) -> dict[str, str]:
        return {key: value for key, value in (("url", self.url), ("narrative", self.narrative),
                                              ("name", self.name), ("description", self.description)) if value}


# -- input checks ----------------------------------------------------------------------------


def _is_http_url(value: str) -> bool:
    try:
        _http_url(value)
    except DjangoValidationError:
        return False
    return True


_RECIPIENT_KINDS = frozenset(RecipientKind.values)


def normalise_recipient(kind: str, value: str) -> str:
    """The recipient identity in canonical form, or a ServiceError saying what is wrong with it."""
    text = (value or "").strip()
    if kind not in _RECIPIENT_KINDS:
        raise ServiceError(f"Unknown recipient type {kind!r}: use email, url, phone or did.", field="recipient_kind",
                           code="recipient_kind_invalid")
    if not text:
        raise ServiceError("Give the recipient's identity.", field="recipient", code="recipient_missing")
    if len(text) > 320:
        raise ServiceError("The recipient's identity is too long (at most 320 characters).", field="recipient",
                           code="recipient_invalid")
    if kind == RecipientKind.EMAIL:
        try:
            validate_email(text)
        except DjangoValidationError:
            raise ServiceError(f"{text!r} is not a valid email address.", field="recipient",
                               code="recipient_invalid") from None
        return text.lower()
    if kind == RecipientKind.URL:
        if not _is_http_url(text):
            raise ServiceError(f"{text!r} is not an http(s) URL.", field="recipient", code="recipient_invalid")
        return text
    if kind == RecipientKind.PHONE:
        if not text.startswith(("+", "00")):
            raise ServiceError("Give the phone number in international form, starting with + and the country code "
                               "(e.g. +44 20 7946 0000).", field="recipient", code="recipient_invalid")
        try:
            phone = normalise_phone(text)
        except CredentialError:
            phone = ""
        if not 8 <= len(phone) <= 16:
            raise ServiceError(f"{text!r} is not a phone number: give it in international form, e.g. "
                               "+44 20 7946 0000.", field="recipient", code="recipient_invalid")
        return phone
    if not _DID_RE.match(text):
        raise ServiceError(f"{text!r} is not a DID (did:method:identifier, without a fragment or query).",
                           field="recipient", code="recipient_invalid")
    return text


def _evidence(items: Iterable[EvidenceItem | Mapping[str, str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, Mapping):
            item = EvidenceItem(url=str(item.get("url") or item.get("id") or ""),
                                narrative=str(item.get("narrative") or ""), name=str(item.get("name") or ""),
                                description=str(item.get("description") or ""))
        item = EvidenceItem(url=item.url.strip(), narrative=item.narrative.strip(), name=item.name.strip(),
                            description=item.description.strip())
        if not item.url and not item.narrative:
            if item.name:
                raise ServiceError("Each piece of evidence needs a URL or a narrative.", field="evidence",
                                   code="evidence_invalid")
            continue
        if item.url and not _is_http_url(item.url):
            raise ServiceError(f"The evidence URL {item.url!r} is not an http(s) URL.", field="evidence_url",
                               code="evidence_invalid")
        if (len(item.narrative) > MAX_NARRATIVE or len(item.name) > MAX_NAME or len(item.url) > 2000
                or len(item.description) > MAX_NARRATIVE):
            raise ServiceError("The evidence is too long.", field="evidence", code="evidence_invalid")
        out.append(item.to_json())
    if len(out) > MAX_EVIDENCE_ITEMS:
        raise ServiceError(f"Give at most {MAX_EVIDENCE_ITEMS} pieces of evidence.", field="evidence",
                           code="evidence_invalid")
    return out


def _badge_for(actor: Actor, badge: BadgeClass | str) -> BadgeClass:
    lookup = {"public_id": badge} if isinstance(badge, str) else {"pk": badge.pk}
    found = get_scoped(BadgeClass.objects.select_related("issuer"), actor, **lookup)
    assert isinstance(found, BadgeClass)
    if found.status != BadgeStatus.PUBLISHED:
        raise ServiceError(f"“{found.name}” is {found.get_status_display().lower()}; only published badges can be "
                           "awarded.", code="badge_not_published", field="badge")
    return found


def _fingerprint(**request: Any) -> str:
    """A digest of an issue request, to tell a retry from a different request reusing the key."""
    text = json.dumps(request, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _repeat(actor: Actor, idempotency_key: str, fingerprint: str) -> Award | None:
    if not idempotency_key:
        return None
    # ``exclude`` repeats the partial unique index's condition, so SQLite uses that index (not an org-wide scan).
    existing = (Award.objects.filter(organisation=actor.organisation, idempotency_key=idempotency_key)
                .exclude(idempotency_key="").order_by().first())
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise Conflict("This idempotency key was already used for a different award; use a new key.",
                       code="idempotency_key_reused")
    return existing


# -- issuing ---------------------------------------------------------------------------------


def issue_award(
    *,
    actor: Actor,
    badge: BadgeClass | str,
    recipient: str,
    recipient_kind: str = RecipientKind.EMAIL,
    recipient_name: str = "",
    evidence: Iterable[EvidenceItem | Mapping[str, str]] = (),
    evidence_file: EvidenceUpload | None = None,
    evidence_files: Sequence[EvidenceUpload] = (),
    narrative: str = "",
    issued_on: datetime | None = None,
    idempotency_key: str = "",
    now: datetime | None = None,
) -> Award:
    """Award ``badge`` to one recipient: allocate status entries, sign the OB 3.0 credential, store it.

    An ``evidence_file`` (PDF, PNG, JPEG or plain text; see ``insignia.awards.evidence``) is stored under
    a random name and becomes one more Evidence item whose ``id`` is its public download URL, ``name`` its
    filename and ``description`` ``sha256:<hex>`` of its bytes; ``evidence_files`` adds more of them (the
    API and CLI send several). A refused file stores and issues nothing.

    With an ``idempotency_key``, repeating the same request returns the award made the first time;
    the same key with a different request raises ``Conflict``.
    """
    actor.require("issue")
    now = now or timezone.now()
    found = _badge_for(actor, badge)
    kind = str(recipient_kind)
    identity = normalise_recipient(kind, recipient)
    name = (recipient_name or "").strip()
    if len(name) > MAX_NAME:
        raise ServiceError(f"The recipient's name is too long (at most {MAX_NAME} characters).",
                           field="recipient_name", code="recipient_name_invalid")
    items = _evidence(evidence)
    files = [*([evidence_file] if evidence_file is not None else []), *evidence_files]
    if len(items) + len(files) > MAX_EVIDENCE_ITEMS:
        raise ServiceError(f"Give at most {MAX_EVIDENCE_ITEMS} pieces of evidence.", field="evidence",
                           code="evidence_invalid")
    uploads = [check_upload(file) for file in files]
    narrative = (narrative or "").strip()
    if len(narrative) > MAX_NARRATIVE:
        raise ServiceError("The narrative is too long.", field="narrative", code="narrative_invalid")
    if found.evidence_required and not items and not uploads:
        raise ServiceError("This badge requires evidence: give an evidence URL, narrative or file.",
                           field="evidence", code="evidence_required")
    if issued_on is not None and timezone.is_naive(issued_on):
        raise ServiceError("The award date needs a time zone.", field="issued_on", code="issued_on_invalid")
    if issued_on is not None and issued_on > now + FUTURE_SKEW:
        raise ServiceError("The award date is in the future.", field="issued_on", code="issued_on_invalid")
    key = (idempotency_key or "").strip()
    if len(key) > 200:
        raise ServiceError("The idempotency key is too long (at most 200 characters).", code="idempotency_key_invalid")
    fingerprint = _fingerprint(badge=found.public_id, kind=kind, identity=identity, name=name, evidence=items,
                               narrative=narrative, issued_on=issued_on.isoformat() if issued_on else None,
                               **_files_fingerprint(uploads))
    repeat = _repeat(actor, key, fingerprint)
    if repeat is not None:
        return repeat
    awarded = (issued_on or now).replace(microsecond=0)
    require_awardable(found, awarded_at=awarded)  # not expiring before the award date
    expires = expiry_for(found, awarded)
    stored: list[str] = []
    try:
        try:
            return _store(actor, found, kind=kind, identity=identity, name=name, evidence=items,
                          narrative=narrative, awarded=awarded, expires=expires, key=key, fingerprint=fingerprint,
                          uploads=uploads, stored=stored)
        except BaseException:
            _delete_stored(stored)  # the transaction rolled back: remove any file it saved
            raise
    except IntegrityError:
        repeat = _repeat(actor, key, fingerprint)  # a concurrent request with the same key won the race
        if repeat is None:
            raise
        return repeat


def _files_fingerprint(uploads: list[CheckedEvidence]) -> dict[str, Any]:
    """The files' part of the request fingerprint (one file keeps the form it always had)."""
    if not uploads:
        return {}
    if len(uploads) == 1:
        return {"file": [uploads[0].sha256, uploads[0].filename]}
    return {"files": [[upload.sha256, upload.filename] for upload in uploads]}


def _delete_stored(names: list[str]) -> None:
    storage = EvidenceFile._meta.get_field("file").storage  # type: ignore[attr-defined]
    for stored_name in names:
        with contextlib.suppress(OSError):  # a leftover file is harmless
            storage.delete(stored_name)


def _store_file(actor: Actor, award: Award, upload: CheckedEvidence, public_id: str, stored: list[str]) -> None:
    """Save the file under a random name (recorded in ``stored`` for clean-up) and its row."""
    row = EvidenceFile(organisation=actor.organisation, award=award, public_id=public_id, filename=upload.filename,
                       content_type=upload.content_type, size=len(upload.content), sha256=upload.sha256)
    row.file.save(f"{new_public_id()}{upload.extension}", ContentFile(upload.content), save=False)
    stored.append(row.file.name)
    row.save()


def signed_credential(*, public_id: str, issuer: Issuer, badge: BadgeClass, kind: str, identity: str, salt: str,
                      evidence: list[dict[str, str]], narrative: str, awarded: datetime, expires: datetime | None,
                      revocation_list: StatusList, revocation_index: int, signer: Signer | None = None,
                      build: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """The signed OB 3.0 credential of a new award; ``issue_award`` and the batch path both make it here.

    ``signer`` (the issuer's active Ed25519 signer) may be passed by callers signing many at once; ``build``
    stands in for ``documents.build_credential`` with the same arguments and result (the batch path's stencil).
    """
    unsigned = unsigned_credential(
        public_id=public_id, issuer=issuer, badge=badge, kind=kind, identity=identity, salt=salt,
        evidence=evidence, narrative=narrative, awarded=awarded, expires=expires, revocation_list=revocation_list,
        revocation_index=revocation_index, build=build)
    try:
        return sign_credential(unsigned, signer) if signer is not None else documents.sign(unsigned, issuer)
    except CredentialError as exc:
        raise credential_failed(exc) from exc


def unsigned_credential(*, public_id: str, issuer: Issuer, badge: BadgeClass, kind: str, identity: str, salt: str,
                        evidence: list[dict[str, str]], narrative: str, awarded: datetime, expires: datetime | None,
                        revocation_list: StatusList, revocation_index: int,
                        build: Callable[..., dict[str, Any]] | None = None) -> dict[str, Any]:
    """The OB 3.0 credential of a new award before its proof (``signed_credential``'s first half)."""
    try:
        return (build or documents.build_credential)(
            public_id=public_id, issuer=issuer, badge=badge, recipient_kind=kind, recipient_identity=identity,
            salt=salt, evidence=evidence, narrative=narrative, issued_on=awarded, expires_on=expires,
            credential_status=statuslists.entry_for(revocation_list, revocation_index),
        )
    except CredentialError as exc:
        raise credential_failed(exc) from exc


def credential_failed(exc: CredentialError) -> ServiceError:
    """The service error for a credential the kernel refused to build or sign."""
    return ServiceError(f"The credential could not be made: {exc.message}", code="credential_invalid")


@transaction.atomic
def _store(actor: Actor, badge: BadgeClass, *, kind: str, identity: str, name: str, evidence: list[dict[str, str]],
           narrative: str, awarded: datetime, expires: datetime | None, key: str, fingerprint: str,
           uploads: list[CheckedEvidence], stored: list[str]) -> Award:
    issuer = badge.issuer
    revocation_list, revocation_index = statuslists.allocate(issuer, StatusPurpose.REVOCATION)
    suspension_list, suspension_index = statuslists.allocate(issuer, StatusPurpose.SUSPENSION)
    public_id = new_public_id()
    salt = new_salt()
    file_ids = [new_public_id() for _ in uploads]
    evidence = [*evidence, *(EvidenceItem(url=documents.evidence_file_url(public_id, file_id), name=upload.filename,
                                          description=f"sha256:{upload.sha256}").to_json()
                             for upload, file_id in zip(uploads, file_ids, strict=True))]
    credential = signed_credential(public_id=public_id, issuer=issuer, badge=badge, kind=kind, identity=identity,
                                   salt=salt, evidence=evidence, narrative=narrative, awarded=awarded,
                                   expires=expires, revocation_list=revocation_list,
                                   revocation_index=revocation_index)
    award = Award.objects.create(
        organisation=actor.organisation, badge=badge, issuer=issuer, public_id=public_id, recipient_kind=kind,
        recipient_identity=identity, recipient_salt=salt, recipient_hash=hash_identity(identity, salt),
        recipient_name=name, narrative=narrative, evidence=evidence, issued_on=awarded, expires_on=expires,
        credential=credential, credential_id=credential["id"], revocation_list=revocation_list,
        revocation_index=revocation_index, suspension_list=suspension_list, suspension_index=suspension_index,
        idempotency_key=key, request_fingerprint=fingerprint, created_by=actor.user,
    )
    for upload, file_id in zip(uploads, file_ids, strict=True):
        _store_file(actor, award, upload, file_id, stored)
    audit.record(actor.organisation, actor=actor.audit_actor, verb="award.issued", obj=award,
                 data={"badge": badge.public_id, "recipient_kind": kind,
                       **({"evidence_file": file_ids[0]} if len(file_ids) == 1 else {}),
                       **({"evidence_files": file_ids} if len(file_ids) > 1 else {})})
    transaction.on_commit(lambda: events.award_issued(award))
    return award


# -- status changes --------------------------------------------------------------------------


def _locked_award(actor: Actor, award: Award | str) -> Award:
    lookup = {"public_id": award} if isinstance(award, str) else {"pk": award.pk}
    found = get_scoped(Award.objects.select_for_update(), actor, **lookup)
    assert isinstance(found, Award)
    return found


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ServiceError("Give a reason; it is recorded and shown with the badge's status.", field="reason",
                           code="reason_required")
    if len(text) > MAX_REASON:
        raise ServiceError(f"The reason is too long (at most {MAX_REASON} characters).", field="reason",
                           code="reason_invalid")
    return text


def _change(actor: Actor, award: Award, *, status: str, reason: str, verb: str, now: datetime | None) -> Award:
    award.status = status
    award.status_reason = reason
    award.status_changed_at = now or timezone.now()
    award.save(update_fields=["status", "status_reason", "status_changed_at"])
    audit.record(actor.organisation, actor=actor.audit_actor, verb=verb, obj=award,
                 data={"reason": reason} if reason else {})
    change = verb.removeprefix("award.")
    transaction.on_commit(lambda: events.award_status_changed(award, change))
    return award


@transaction.atomic
def revoke_award(*, actor: Actor, award: Award | str, reason: str, now: datetime | None = None) -> Award:
    """Revoke for good: set the revocation bit. Verifiers see it on their next status-list fetch."""
    actor.require("issue")
    found = _locked_award(actor, award)
    text = _reason(reason)
    if found.status == AwardStatus.REVOKED:
        raise ServiceError("This award is already revoked.", code="already_revoked")
    statuslists.set_bit(found.revocation_list, found.revocation_index, True)
    return _change(actor, found, status=AwardStatus.REVOKED, reason=text, verb="award.revoked", now=now)


@transaction.atomic
def suspend_award(*, actor: Actor, award: Award | str, reason: str, now: datetime | None = None) -> Award:
    """Suspend (reversibly): set the suspension bit."""
    actor.require("issue")
    found = _locked_award(actor, award)
    text = _reason(reason)
    if found.status == AwardStatus.REVOKED:
        raise ServiceError("This award is revoked; revocation is permanent.", code="already_revoked")
    if found.status == AwardStatus.SUSPENDED:
        raise ServiceError("This award is already suspended.", code="already_suspended")
    statuslists.set_bit(found.suspension_list, found.suspension_index, True)
    return _change(actor, found, status=AwardStatus.SUSPENDED, reason=text, verb="award.suspended", now=now)


@transaction.atomic
def unsuspend_award(*, actor: Actor, award: Award | str, now: datetime | None = None) -> Award:
    """Lift a suspension: clear the suspension bit. A revoked award stays revoked."""
    actor.require("issue")
    found = _locked_award(actor, award)
    if found.status == AwardStatus.REVOKED:
        raise ServiceError("This award is revoked; revocation is permanent and cannot be undone.",
                           code="already_revoked")
    if found.status != AwardStatus.SUSPENDED:
        raise ServiceError("This award is not suspended.", code="not_suspended")
    statuslists.set_bit(found.suspension_list, found.suspension_index, False)
    return _change(actor, found, status=AwardStatus.ACTIVE, reason="", verb="award.unsuspended", now=now)


# -- re-issuing (a correction) -----------------------------------------------------------------------------------


@transaction.atomic
def reissue_award(
    *,
    actor: Actor,
    award: Award | str,
    recipient_name: str | None = None,
    evidence: Iterable[EvidenceItem | Mapping[str, str]] | None = None,
    narrative: str | None = None,
    reason: str,
    now: datetime | None = None,
) -> Award:
    """Correct an award the only way a signed credential can be: issue a new one and revoke the old.

    The new award goes through ``issue_award`` (same badge, recipient identity and award date; the changes
    given here, the old values otherwise), points to the old one with ``replaces`` and keeps the earner's
    claim, acceptance and visibility. The old award is revoked through the status list with the reason
    "Replaced by <new credential id>". ``reason`` (why it was re-issued) goes into the audit log.
    """
    actor.require("issue")
    now = now or timezone.now()
    old = _locked_award(actor, award)
    why = _reason(reason)
    if old.status == AwardStatus.REVOKED:
        raise ServiceError("This award is revoked, so it cannot be re-issued; issue a new award instead.",
                           code="already_revoked")
    new = issue_award(
        actor=actor, badge=old.badge, recipient=old.recipient_identity, recipient_kind=old.recipient_kind,
        recipient_name=old.recipient_name if recipient_name is None else recipient_name,
        evidence=old.evidence if evidence is None else evidence,
        narrative=old.narrative if narrative is None else narrative, issued_on=old.issued_on, now=now,
    )
    Award.objects.filter(pk=new.pk).update(
        replaces=old, earner=old.earner, acceptance=old.acceptance, accepted_at=old.accepted_at,
        visibility=old.visibility, show_recipient_name=old.show_recipient_name,
    )
    new.refresh_from_db()
    statuslists.set_bit(old.revocation_list, old.revocation_index, True)
    _change(actor, old, status=AwardStatus.REVOKED, reason=f"Replaced by {new.credential_id}", verb="award.revoked",
            now=now)
    audit.record(actor.organisation, actor=actor.audit_actor, verb="award.reissued", obj=new,
                 data={"replaces": old.public_id, "reason": why})
    return new


__all__ = [
    "EvidenceItem",
    "EvidenceUpload",
    "issue_award",
    "normalise_recipient",
    "revoke_award",
    "suspend_award",
    "unsuspend_award",
]
