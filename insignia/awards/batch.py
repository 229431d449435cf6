"""Issuing many awards of one badge at once: the bulk path behind ``insignia.bulk``.

``issue_awards_batch`` does what ``issue_award`` does for each row — the same checks, the same request
fingerprint and idempotency keys, the same credential (``services.unsigned_credential``, then the kernel's
``sign_credential``) — but per chunk rather than per row: one transaction, one lock of the issuer and of each
status list (``statuslists.allocate_many``), one signer, and, for each part of ``signing.PART_SIZE`` awards,
one insert each for the awards, their audit events, their queued emails
(``notifications.queue_award_emails``) and their webhook deliveries (``integrations.emit_many``). The parts
are signed by worker processes (``awards.signing``) while this process makes the award objects of the part just
signed and a writer thread (``core.writer``, same connection and transaction) stores the part before it.

Audit: one ``award.issued`` event per award, with the same data ``issue_award`` records (plus ``batch``),
so an award's history and the audit API's ``object_id`` filter work the same for bulk-issued awards.

Emails are only *queued* here (no claim token is made yet); the caller sends them after commit in a
background job (``notifications.send_queued_award_email``), so a 100,000-row job never waits on SMTP.
Evidence files are not supported on this path (the bulk CSV has none).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import signals
from django.db.models.base import ModelState
from django.utils import timezone

from insignia.awards import credentials as documents
from insignia.awards import signing, statuslists
from insignia.awards.models import Award, RecipientKind, StatusPurpose
from insignia.awards.services import (
    FUTURE_SKEW,
    MAX_NAME,
    MAX_NARRATIVE,
    _badge_for,
    _evidence,
    _fingerprint,
    credential_failed,
    normalise_recipient,
    unsigned_credential,
)
from insignia.badges.models import BadgeClass
from insignia.badges.services import expiry_for, require_awardable
from insignia.core.bulkinsert import insert_rows, insert_values
from insignia.core.errors import Conflict, ServiceError
from insignia.core.ids import new_public_id
from insignia.core.models import AuditEvent
from insignia.core.tenancy import Actor
from insignia.core.writer import ConnectionWriter
from insignia.credentials.errors import CredentialError
from insignia.credentials.model.dates import format_datetime
from insignia.credentials.model.identity import hash_identity, new_salt
from insignia.issuers.identity import active_signer
from insignia.issuers.models import KeyAlgorithm

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchRow:
    """One award to make: the arguments ``issue_award`` takes, without evidence files."""

    recipient: str
    recipient_kind: str = RecipientKind.EMAIL
    recipient_name: str = ""
    evidence: Sequence[Mapping[str, str]] = ()
    narrative: str = ""
    issued_on: datetime | None = None
    idempotency_key: str = ""


class BatchRowError(ServiceError):
    """A row of a strict batch was refused; ``index`` is its position in ``rows``. Nothing was issued."""

    def __init__(self, index: int, error: ServiceError) -> None:
        super().__init__(f"Row {index + 1}: {error.message}", code=error.code, field=error.field)
        self.index = index
        self.error = error
        self.status = error.status  # a Conflict stays a 409


@dataclass
class Timings:
    """Where a batch's time went (seconds), for the benchmark: checking, signing, and the database."""

    check: float = 0.0
    sign: float = 0.0
    database: float = 0.0
    rows: int = 0
    extra: dict[str, float] = field(default_factory=dict)

    def add(self, other: Timings) -> None:
        self.check += other.check
        self.sign += other.sign
        self.database += other.database
        self.rows += other.rows
        for name, seconds in other.extra.items():
            self.extra[name] = self.extra.get(name, 0.0) + seconds

    def lap(self, kind: str, name: str, started: float) -> float:
        """Add the time since ``started`` to ``kind`` (check, sign, database) and to ``extra[name]``; now."""
        now = time.perf_counter()
        setattr(self, kind, getattr(self, kind) + now - started)
        self.extra[name] = self.extra.get(name, 0.0) + now - started
        return now


#: Store each signed part on a second thread while this one makes the next part's awards (``core.writer``).
WRITE_IN_THREAD = True

#: Evidence JSON members → the keys of the checked evidence item they come from.
_EVIDENCE_SOURCE = {"id": "url", "narrative": "narrative", "name": "name", "description": "description"}


class Stencil:
    """``documents.build_credential`` for many awards of one badge, at a fraction of the cost.

    Credentials of one badge differ only in a few members (id, dates, recipient identifier or id,
    narrative, evidence, status entry). The first credential of each *shape* (recipient kind, which
    optional members are present) is made by ``build_credential`` itself; later ones are copies of it
    with the row's values put in the same places, so key order and types are the builder's. The first
    copy of each shape is also built by the builder and compared byte for byte (JSON); on any difference
    the shape is left to the builder. ``sign_credential`` then checks every credential in full, as always.
    """

    def __init__(self) -> None:
        self.bases: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.trusted: set[tuple[Any, ...]] = set()
        self.refused: set[tuple[Any, ...]] = set()
        self.badge: tuple[Any, ...] | None = None

    def bind(self, badge: BadgeClass) -> Stencil:
        """Use this stencil for ``badge`` (as it is now): kept bases are dropped when it is another badge or the
        badge or its issuer was saved since. A bulk job keeps one stencil for all its chunks, so the builder runs
        a few times per job rather than per chunk."""
        key = (badge.pk, badge.updated_at, badge.issuer_id, badge.issuer.updated_at)
        if key != self.badge:
            self.bases.clear()
            self.trusted.clear()
            self.refused.clear()
            self.badge = key
        return self

    @staticmethod
    def shape(kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
        return (str(kwargs["recipient_kind"]), bool(kwargs["narrative"]), kwargs["expires_on"] is not None,
                tuple(tuple(item) for item in kwargs["evidence"]))

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        key = self.shape(kwargs)
        base = self.bases.get(key)
        if base is None or key in self.refused:
            built = documents.build_credential(**kwargs)
            self.bases.setdefault(key, built)
            return built
        made = self.fill(base, **kwargs)
        if key not in self.trusted:
            built = documents.build_credential(**kwargs)
            if json.dumps(made) != json.dumps(built):
                log.error("batch credential stencil differs from the builder for shape %r; using the builder", key)
                self.refused.add(key)
                return built
            self.trusted.add(key)
        return made

    @staticmethod
    def fill(base: dict[str, Any], *, public_id: str, recipient_kind: str, recipient_identity: str, salt: str,
             evidence: Sequence[Mapping[str, str]], narrative: str, issued_on: datetime,
             expires_on: datetime | None, credential_status: Mapping[str, Any], **_constant: Any) -> dict[str, Any]:
        """A copy of ``base`` (same shape) carrying this award's values; shared members are not copied."""
        out = dict(base)
        out["id"] = documents.credential_url(public_id)
        out["validFrom"] = out["awardedDate"] = format_datetime(issued_on)
        if expires_on is not None:
            out["validUntil"] = format_datetime(expires_on)
        subject = dict(base["credentialSubject"])
        subject_id, identifiers = documents.subject_identity(recipient_kind, recipient_identity, salt)
        if subject_id is not None:
            subject["id"] = subject_id
        if identifiers:
            subject["identifier"] = [identifier.to_json() for identifier in identifiers]
        if narrative:
            subject["narrative"] = narrative
        out["credentialSubject"] = subject
        if evidence:
            out["evidence"] = [{name: value if name == "type" else item[_EVIDENCE_SOURCE[name]]
                                for name, value in template.items()}
                               for template, item in zip(base["evidence"], evidence, strict=True)]
        out["credentialStatus"] = dict(credential_status)
        return out


class AwardMaker:
    """``Award(**values)`` for many awards, several times cheaper: the attributes set as Django would set them.

    Keyword construction costs more than storing the award (each related object goes through its descriptor);
    here related objects become their ids plus the same cached object, every other field its default, set as
    ``Award(*args)`` would set them. ``test_batch_awards_are_stored_as_the_single_path_stores_them`` compares
    the result with ``issue_award``'s, column by column.
    """

    def __init__(self) -> None:
        fields = Award._meta.concrete_fields
        self.order = [field.attname for field in fields]
        self.relations = {field.name: field for field in fields if field.is_relation}
        self.defaults = {field.attname: None if field.primary_key else field.get_default() for field in fields}
        #: defaults that must not be shared between awards (a list or dict per award)
        self.fresh = {model_field.attname: model_field for model_field in fields
                      if isinstance(self.defaults[model_field.attname], list | dict | set)}
        #: Without init signal receivers, ``Award(*args)`` only sets each attribute (a foreign key's through its
        #: descriptor, which checks for a cached object to forget: there is none yet); setting ``__dict__`` is
        #: the same at a third of the cost.
        self.plain = not (signals.pre_init.has_listeners(Award) or signals.post_init.has_listeners(Award))

    def __call__(self, **values: Any) -> Award:
        row = dict(self.defaults)
        for attname, model_field in self.fresh.items():
            if attname not in values:
                row[attname] = model_field.get_default()
        related = []
        for name, value in values.items():
            relation = self.relations.get(name)
            if relation is None:
                row[name] = value
            else:
                row[relation.attname] = None if value is None else value.pk
                if value is not None:
                    related.append((relation, value))
        if self.plain:
            award = Award.__new__(Award)
            award._state = ModelState()
            award.__dict__.update(row)
        else:
            award = Award(*[row[attname] for attname in self.order])
        for relation, value in related:
            relation.set_cached_value(award, value)
        return award


@dataclass
class _Checked:
    kind: str
    identity: str
    name: str
    evidence: list[dict[str, str]]
    narrative: str
    awarded: datetime
    expires: datetime | None
    key: str
    fingerprint: str


def _check(badge: BadgeClass, row: BatchRow, now: datetime) -> _Checked:
    """``issue_award``'s checks for one row (without files), in the same order with the same messages."""
    kind = str(row.recipient_kind)
    identity = normalise_recipient(kind, row.recipient)
    name = (row.recipient_name or "").strip()
    if len(name) > MAX_NAME:
        raise ServiceError(f"The recipient's name is too long (at most {MAX_NAME} characters).",
                           field="recipient_name", code="recipient_name_invalid")
    items = _evidence(row.evidence)
    narrative = (row.narrative or "").strip()
    if len(narrative) > MAX_NARRATIVE:
        raise ServiceError("The narrative is too long.", field="narrative", code="narrative_invalid")
    if badge.evidence_required and not items:
        raise ServiceError("This badge requires evidence: give an evidence URL, narrative or file.",
                           field="evidence", code="evidence_required")
    issued_on = row.issued_on
    if issued_on is not None and timezone.is_naive(issued_on):
        raise ServiceError("The award date needs a time zone.", field="issued_on", code="issued_on_invalid")
    if issued_on is not None and issued_on > now + FUTURE_SKEW:
        raise ServiceError("The award date is in the future.", field="issued_on", code="issued_on_invalid")
    key = (row.idempotency_key or "").strip()
    if len(key) > 200:
        raise ServiceError("The idempotency key is too long (at most 200 characters).", code="idempotency_key_invalid")
    fingerprint = _fingerprint(badge=badge.public_id, kind=kind, identity=identity, name=name, evidence=items,
                               narrative=narrative, issued_on=issued_on.isoformat() if issued_on else None)
    awarded = (issued_on or now).replace(microsecond=0)
    require_awardable(badge, awarded_at=awarded)
    return _Checked(kind=kind, identity=identity, name=name, evidence=items, narrative=narrative, awarded=awarded,
                    expires=expiry_for(badge, awarded), key=key, fingerprint=fingerprint)


def issue_awards_batch(*, actor: Actor, badge: BadgeClass | str, rows: Iterable[BatchRow],
                       now: datetime | None = None) -> list[Award]:
    """Award ``badge`` to every row in one transaction; all or nothing.

    Returns one award per row, in order (an earlier award for a repeated idempotency key, as
    ``issue_award`` would). Raises ``BatchRowError`` (naming the row) if any row is refused.
    """
    outcomes = issue_awards_outcomes(actor=actor, badge=badge, rows=rows, now=now, strict=True)
    return [outcome for outcome in outcomes if isinstance(outcome, Award)]


def issue_awards_outcomes(*, actor: Actor, badge: BadgeClass | str, rows: Iterable[BatchRow],
                          now: datetime | None = None, strict: bool = False,
                          timings: Timings | None = None, stencil: Stencil | None = None) -> list[Award | ServiceError]:
    """Like ``issue_awards_batch``, but a refused row yields its ``ServiceError`` and the others are issued.

    Runs in one transaction (joining the caller's, if any). With ``strict`` the first refused row raises
    ``BatchRowError`` instead. ``timings`` collects where the time went; ``stencil``, kept by a caller that
    issues the same badge batch after batch, saves rebuilding its base credentials each time.
    """
    actor.require("issue")
    now = now or timezone.now()
    found = _badge_for(actor, badge)
    rows = list(rows)
    spent = Timings(rows=len(rows))
    started = time.perf_counter()
    outcomes: list[Award | ServiceError | _Checked] = []
    for index, row in enumerate(rows):
        try:
            outcomes.append(_check(found, row, now))
        except ServiceError as exc:
            if strict:
                raise BatchRowError(index, exc) from exc
            outcomes.append(exc)
    spent.check += time.perf_counter() - started
    with transaction.atomic():
        same_as = _resolve_repeats(actor, outcomes, strict=strict)
        fresh = [(index, item) for index, item in enumerate(outcomes)
                 if isinstance(item, _Checked) and index not in same_as]
        if fresh:
            stored = _store(actor, found, [c for _, c in fresh], now, spent, stencil or Stencil())
            for index, award in zip((i for i, _ in fresh), stored, strict=True):
                outcomes[index] = award
        for index, first in same_as.items():
            outcomes[index] = outcomes[first]
    if timings is not None:
        timings.add(spent)
    assert all(not isinstance(item, _Checked) for item in outcomes)
    return outcomes  # type: ignore[return-value]


def _resolve_repeats(actor: Actor, outcomes: list[Any], *, strict: bool) -> dict[int, int]:
    """Replace rows whose idempotency key was already used by the award made then (or a Conflict).

    Returns ``{row: earlier row}`` for a key repeated within the batch with the same request: that row
    gets the earlier row's award.
    """
    if not any(isinstance(item, _Checked) and item.key for item in outcomes):
        return {}
    keys = sorted({item.key for item in outcomes if isinstance(item, _Checked) and item.key})
    existing: dict[str, Award] = {}
    # The ``exclude`` repeats the partial unique index's condition word for word, so SQLite and PostgreSQL use
    # that index (neither proves it from ``key IN (…)`` for a long list: they would scan every award).
    keyed = Award.objects.filter(organisation=actor.organisation).exclude(idempotency_key="").order_by()
    for start in range(0, len(keys), 500):
        for award in keyed.filter(idempotency_key__in=keys[start:start + 500]):
            existing[award.idempotency_key] = award
    first_in_batch: dict[str, int] = {}
    same_as: dict[int, int] = {}
    for index, item in enumerate(outcomes):
        if not isinstance(item, _Checked) or not item.key:
            continue
        earlier = existing.get(item.key)
        first = first_in_batch.get(item.key)
        if earlier is None and first is None:
            first_in_batch[item.key] = index
            continue
        fingerprint = earlier.request_fingerprint if earlier is not None else outcomes[first].fingerprint
        if fingerprint != item.fingerprint:
            error = Conflict("This idempotency key was already used for a different award; use a new key.",
                             code="idempotency_key_reused")
            if strict:
                raise BatchRowError(index, error)
            outcomes[index] = error
        elif earlier is not None:
            outcomes[index] = earlier
        else:
            same_as[index] = first  # type: ignore[assignment]
    return same_as


def _store(actor: Actor, badge: BadgeClass, checked: list[_Checked], now: datetime, spent: Timings,
           stencil: Stencil) -> list[Award]:
    """Allocate status entries, sign, and insert the awards and their side records (inside the transaction).

    The credentials are built here, then signed part by part (``signing.sign_in_parts``): while worker
    processes sign the next parts, this process makes the award objects of the part just signed, and a writer
    thread (``core.writer``, in this connection and transaction) stores the part before.
    """
    from insignia.integrations.services import emit_many
    from insignia.notifications.services import queue_award_emails

    issuer = badge.issuer
    started = time.perf_counter()
    revocations = statuslists.allocate_many(issuer, StatusPurpose.REVOCATION, len(checked))
    suspensions = statuslists.allocate_many(issuer, StatusPurpose.SUSPENSION, len(checked))
    signer = active_signer(issuer, KeyAlgorithm.ED25519)
    stencil = stencil.bind(badge)
    started = spent.lap("database", "status entries", started)
    made: list[tuple[str, str]] = []
    unsigned: list[dict[str, Any]] = []
    for item, (revocation_list, revocation_index) in zip(checked, revocations, strict=True):
        public_id, salt = new_public_id(), new_salt()
        unsigned.append(unsigned_credential(
            public_id=public_id, issuer=issuer, badge=badge, kind=item.kind, identity=item.identity, salt=salt,
            evidence=item.evidence, narrative=item.narrative, awarded=item.awarded, expires=item.expires,
            revocation_list=revocation_list, revocation_index=revocation_index, build=stencil))
        made.append((public_id, salt))
    started = spent.lap("sign", "build", started)
    new_award = AwardMaker()
    awards: list[Award] = []
    parts = signing.sign_in_parts(unsigned, signer, pool=signing.pool(), part_size=signing.PART_SIZE,
                                  json_texts=True)
    stored = Timings()  # the writer thread's share, added to ``spent`` when it is done

    def store(part: list[Award], texts: list[str]) -> None:
        """Runs on the writer thread (``WRITE_IN_THREAD``) or here: the part's rows, in one insert per table."""
        begun = time.perf_counter()
        insert_rows(Award, part, read_ids=True, prepared={"credential": texts})
        begun = stored.lap("database", "insert awards", begun)
        _audit(actor, badge, part)
        begun = stored.lap("database", "audit events", begun)
        queue_award_emails(part, now=now)
        begun = stored.lap("database", "notifications", begun)
        emit_many("award.issued", part, now=now)
        stored.lap("database", "webhooks", begun)

    with ConnectionWriter(name="award-writer") if WRITE_IN_THREAD and len(checked) > signing.PART_SIZE \
            else nullcontext() as writer:
        while True:
            try:
                credentials = next(parts)
            except StopIteration:
                break
            except CredentialError as exc:
                raise credential_failed(exc) from exc
            started = spent.lap("sign", "sign (here, or waiting for the workers)", started)
            here = slice(len(awards), len(awards) + len(credentials))
            part = [
                new_award(
                    organisation=actor.organisation, badge=badge, issuer=issuer, public_id=public_id,
                    recipient_kind=item.kind, recipient_identity=item.identity, recipient_salt=salt,
                    recipient_hash=hash_identity(item.identity, salt), recipient_name=item.name,
                    narrative=item.narrative, evidence=item.evidence, issued_on=item.awarded,
                    expires_on=item.expires, credential=credential, credential_id=credential["id"],
                    revocation_list=revocation_list, revocation_index=revocation_index,
                    suspension_list=suspension_list, suspension_index=suspension_index, idempotency_key=item.key,
                    request_fingerprint=item.fingerprint, created_by=actor.user,
                )
                for item, (public_id, salt), credential, (revocation_list, revocation_index),
                (suspension_list, suspension_index)
                in zip(checked[here], made[here], credentials, revocations[here], suspensions[here], strict=True)
            ]
            started = spent.lap("database", "award objects", started)
            if writer is None:
                store(part, credentials.json_texts())
                started = time.perf_counter()  # ``stored`` has the time
            else:
                writer.submit(partial(store, part, credentials.json_texts()))
                started = spent.lap("database", "handing parts to the writer", started)
            awards.extend(part)
        threaded = writer is not None
    if threaded:  # the writer's time overlaps this thread's: shown apart, not added to the wall-time kinds
        spent.lap("database", "waiting for the writer", started)
        for name, seconds in stored.extra.items():
            spent.extra[f"writer thread: {name}"] = spent.extra.get(f"writer thread: {name}", 0.0) + seconds
    else:
        spent.add(stored)
    assert len(awards) == len(checked)
    return awards


def _audit(actor: Actor, badge: BadgeClass, awards: list[Award]) -> None:
    """One ``award.issued`` event per award, as ``issue_award`` writes them (see ``insignia.core.audit``)."""
    user = actor.audit_actor
    account = user if getattr(user, "pk", None) is not None and hasattr(user, "email") else None
    label = str(getattr(user, "email", None) or (user if isinstance(user, str) else "") or "system")[:200]
    insert_values(AuditEvent, (
        {"organisation_id": actor.organisation.pk, "actor_id": account.pk if account is not None else None,
         "actor_label": label, "verb": "award.issued", "object_type": "Award", "object_id": award.public_id,
         "data": {"badge": badge.public_id, "recipient_kind": award.recipient_kind, "batch": True}}
        for award in awards
    ))
