"""The batch issue path (``insignia.awards.batch``) and the chunked, resumable bulk job built on it.

Real SQLite / PostgreSQL, the real kernel: batch credentials verify, match the single-issue builder byte for
byte, take unique status entries, queue (not send) their emails, create webhook deliveries and audit events;
a job that dies in its second chunk resumes without issuing anything twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail

from insignia.awards import batch, statuslists
from insignia.awards import credentials as documents
from insignia.awards.batch import BatchRow, BatchRowError, Stencil, issue_awards_batch, issue_awards_outcomes
from insignia.awards.models import Award, StatusList, StatusPurpose
from insignia.awards.services import issue_award
from insignia.badges.models import BadgeClass, ExpiryPolicy
from insignia.bulk import services
from insignia.bulk.models import JobStatus, RowState
from insignia.core.errors import Conflict, ServiceError
from insignia.core.models import AuditEvent, Role
from insignia.core.tenancy import Actor
from insignia.credentials.status.bitstring import Bitstring
from insignia.integrations.models import WebhookDelivery
from insignia.integrations.services import create_webhook
from insignia.issuers.models import Issuer
from insignia.notifications.models import ClaimToken, Notification, NotificationStatus
from insignia.notifications.services import opt_out
from insignia.site import jobs
from tests.platform.test_awards_support import ClientFetch, check, make_badge, make_issuer


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing catches it."""


@pytest.fixture
def owner(member: Any) -> Actor:
    return member(Role.OWNER)


@pytest.fixture
def issuer(owner: Actor) -> Issuer:
    return make_issuer(owner)


@pytest.fixture
def badge(owner: Actor, issuer: Issuer) -> BadgeClass:
    return make_badge(owner, issuer)


def rows(count: int, start: int = 0) -> list[BatchRow]:
    return [BatchRow(recipient=f"Learner{n}@Example.org", recipient_name=f"Learner {n}",
                     evidence=[{"url": f"https://work.example/{n}"}] if n % 2 else [],
                     narrative="Completed the course" if n % 3 == 0 else "") for n in range(start, start + count)]


def csv_of(count: int) -> bytes:
    lines = ["recipient,name,evidence_url,evidence_narrative,award_date"]
    lines += [f"person{n}@example.org,Person {n},https://work.example/{n},,2025-0{1 + n % 9}-1{n % 10}"
              for n in range(count)]
    return ("\n".join(lines) + "\n").encode()


def started_job(actor: Actor, badge: BadgeClass, count: int) -> Any:
    job = services.preview_bulk_issue(actor=actor, badge=badge, csv_bytes=csv_of(count), filename="people.csv")
    return services.start_bulk_issue(actor=actor, job=job, enqueue=False)


def _unsigned(credential: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in credential.items() if key != "proof"}


def _structure(value: Any) -> Any:
    """The shape of a JSON value: keys in order and value types, not the values."""
    if isinstance(value, dict):
        return [(key, _structure(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [_structure(item) for item in value]
    return type(value).__name__


# -- credentials -------------------------------------------------------------------------------


def test_batch_and_single_credentials_have_the_same_shape_and_both_verify(owner: Actor, badge: BadgeClass) -> None:
    request: dict[str, Any] = {"recipient": "ada@example.org", "recipient_name": "Ada",
                               "evidence": [{"url": "https://ada.example/work", "narrative": "A notebook"}],
                               "narrative": "Well done", "issued_on": datetime(2025, 3, 1, 9, 30, tzinfo=UTC)}
    single = issue_award(actor=owner, badge=badge, **request)
    batched = issue_awards_batch(actor=owner, badge=badge, rows=[
        BatchRow(**{**request, "recipient": email})
        for email in ("grace@example.org", "alan@example.org", "edsger@example.org")
    ])
    assert len(batched) == 3
    for award in batched:
        assert _structure(award.credential) == _structure(single.credential)
        assert award.credential["validFrom"] == single.credential["validFrom"] == "2025-03-01T09:30:00Z"
        # byte for byte what the single-issue builder makes from the same award's values
        rebuilt = documents.build_credential(
            public_id=award.public_id, issuer=award.issuer, badge=badge, recipient_kind=award.recipient_kind,
            recipient_identity=award.recipient_identity, salt=award.recipient_salt, evidence=award.evidence,
            narrative=award.narrative, issued_on=award.issued_on, expires_on=award.expires_on,
            credential_status=statuslists.entry_for(award.revocation_list, award.revocation_index))
        assert json.dumps(_unsigned(award.credential)) == json.dumps(rebuilt)
    fetch = ClientFetch()
    for award in [single, *batched]:
        stored = Award.objects.get(pk=award.pk).credential  # as served, after the database round trip
        report = fetch.verifier().verify(stored, recipient=award.recipient_identity)
        assert report.verdict == "valid", report.to_json()
        assert check(report, "status") == ("passed", "not_revoked")


def test_parts_signed_by_worker_processes_come_back_to_the_right_awards(owner: Actor, badge: BadgeClass,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Five parts, four of them offered to a real worker process: every award carries its own credential."""
    from insignia.awards import signing
    from insignia.credentials.parallel import SigningPool

    pool = SigningPool(1)
    monkeypatch.setattr(signing, "_pool", pool)
    monkeypatch.setattr(signing, "PART_SIZE", 30)
    try:
        awards = issue_awards_batch(actor=owner, badge=badge, rows=rows(140))
    finally:
        pool.shutdown()
    assert not pool.broken
    fetch = ClientFetch()
    for n, award in enumerate(awards):
        stored = Award.objects.get(pk=award.pk)
        assert stored.recipient_identity == f"learner{n}@example.org"
        assert stored.credential["id"] == stored.credential_id == documents.credential_url(stored.public_id)
        assert stored.credential["credentialStatus"] == statuslists.entry_for(stored.revocation_list,
                                                                             stored.revocation_index)
        if n % 10 == 0:  # a sample through the whole verifier (the rest: ids, status, recipient above)
            report = fetch.verifier().verify(stored.credential, recipient=stored.recipient_identity)
            assert report.verdict == "valid", report.to_json()


def test_batch_awards_are_stored_as_the_single_path_stores_them(owner: Actor, badge: BadgeClass) -> None:
    """The batch path writes rows itself (COPY / executemany): read back, every column matches ``issue_award``'s."""
    request: dict[str, Any] = {"recipient_name": "Zoë O'Brien", "narrative": "Ünïcode\nand a second line",
                               "evidence": [{"url": "https://ada.example/work", "narrative": "A notebook"}],
                               "issued_on": datetime(2025, 3, 1, 9, 30, 15, tzinfo=UTC),
                               "idempotency_key": ""}
    single = Award.objects.get(pk=issue_award(actor=owner, badge=badge, recipient="ada@example.org", **request).pk)
    (batched,) = issue_awards_batch(actor=owner, badge=badge, rows=[BatchRow(recipient="ada@example.org", **request)])
    batched = Award.objects.get(pk=batched.pk)
    differ = {"id", "public_id", "recipient_salt", "recipient_hash", "credential", "credential_id", "revocation_index",
              "suspension_index", "created_at", "request_fingerprint"}
    for field in Award._meta.concrete_fields:
        if field.name not in differ:
            assert getattr(batched, field.attname) == getattr(single, field.attname), field.name
    assert batched.issued_on == datetime(2025, 3, 1, 9, 30, 15, tzinfo=UTC)
    assert abs((batched.created_at - single.created_at).total_seconds()) < 60
    (event,) = AuditEvent.objects.filter(object_id=batched.public_id, verb="award.issued")
    assert event.data == {"badge": badge.public_id, "recipient_kind": "email", "batch": True}
    assert event.organisation_id == owner.organisation.pk
    assert event.created_at is not None
    (notification,) = Notification.objects.filter(award=batched)
    assert (notification.to, notification.status) == ("ada@example.org", NotificationStatus.QUEUED)


def test_the_stencil_makes_exactly_what_the_builder_makes(owner: Actor, issuer: Issuer) -> None:
    """A differential test over many shapes and awkward values: stencil copies equal the builder's output."""
    badge = make_badge(owner, issuer, name="Ünïcode “badge” ✓", expiry_policy=ExpiryPolicy.DURATION, expiry_days=30)
    status_list = StatusList.objects.create(issuer=issuer, purpose=StatusPurpose.REVOCATION,
                                            bits=Bitstring(131_072).to_bytes())
    kinds = [("email", "a{n}@example.org"), ("url", "https://people.example/{n}"), ("phone", "+4420794600{n:02d}"),
             ("did", "did:example:learner{n}")]
    evidences = [[], [{"url": "https://w.example/{n}"}], [{"narrative": "Zoë's 𝒲ork\n\tline two {n}"}],
                 [{"url": "https://w.example/{n}", "name": "Report", "description": "sha256:{n}"},
                  {"narrative": "Second ‘piece’ {n}"}]]
    stencil = Stencil()
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(240):
        kind, identity = kinds[n % 4]
        evidence = [{key: value.format(n=n) for key, value in item.items()} for item in evidences[(n // 4) % 4]]
        issued = base + timedelta(days=n, seconds=n * 7)
        arguments: dict[str, Any] = {
            "public_id": f"award{n:04d}", "issuer": issuer, "badge": badge, "recipient_kind": kind,
            "recipient_identity": identity.format(n=n), "salt": f"{n:032x}", "evidence": evidence,
            "narrative": ["", "Well done, Zoë — 100 %", "\u00e9\u0301 <b>&amp;</b>"][n % 3],
            "issued_on": issued, "expires_on": issued + timedelta(days=30) if n % 5 else None,
            "credential_status": statuslists.entry_for(status_list, n),
        }
        assert json.dumps(stencil(**arguments)) == json.dumps(documents.build_credential(**arguments)), n
    assert len(stencil.trusted) > 20
    assert not stencil.refused


def test_a_stencil_that_would_differ_is_refused_and_the_builder_is_used(owner: Actor, badge: BadgeClass,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real_fill = Stencil.fill
    monkeypatch.setattr(Stencil, "fill", staticmethod(lambda base, **kw: {**real_fill(base, **kw), "name": "Wrong"}))
    awards = issue_awards_batch(actor=owner, badge=badge, rows=rows(4))
    assert all(award.credential["name"] == badge.name for award in awards)


# -- status entries, emails, webhooks, audit ----------------------------------------------------


def test_status_entries_are_unique_and_counted(owner: Actor, badge: BadgeClass, issuer: Issuer) -> None:
    issue_award(actor=owner, badge=badge, recipient="first@example.org")
    awards = issue_awards_batch(actor=owner, badge=badge, rows=rows(300))
    awards += issue_awards_batch(actor=owner, badge=badge, rows=rows(300, start=300))
    everything = Award.objects.filter(issuer=issuer)
    assert everything.count() == 601
    for list_field, index_field, purpose in (("revocation_list", "revocation_index", StatusPurpose.REVOCATION),
                                             ("suspension_list", "suspension_index", StatusPurpose.SUSPENSION)):
        pairs = list(everything.values_list(list_field, index_field))
        assert len(set(pairs)) == 601
        (status_list,) = StatusList.objects.filter(issuer=issuer, purpose=purpose)
        assert status_list.allocated == 601
    indexes = [award.revocation_index for award in awards]
    assert indexes != sorted(indexes)  # random, not sequential


@pytest.mark.parametrize("fill", [0.0, 0.6, 0.99])
def test_a_single_issue_reads_no_used_indexes_however_full_the_list(owner: Actor, badge: BadgeClass,
                                                                    issuer: Issuer, fill: float) -> None:
    """One award = a read and a write of each list row (its reservation bits), no query over the awards'
    indexes (reading every used index of a 131,072-entry list cost a single issue a tenth of a second)."""
    import random

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    issue_award(actor=owner, badge=badge, recipient="first@example.org")  # the lists exist
    before = {}
    for status_list in StatusList.objects.filter(issuer=issuer):
        reserved = Bitstring.from_bytes(bytes(status_list.reserved))
        for index in random.sample(range(status_list.size), int(status_list.size * fill)):
            reserved.set(index)  # as if that many entries were in use
        status_list.reserved = reserved.to_bytes()
        status_list.allocated = reserved.count()
        status_list.save(update_fields=["reserved", "allocated"])
        before[status_list.pk] = reserved
    with CaptureQueriesContext(connection) as queries:
        award = issue_award(actor=owner, badge=badge, recipient="second@example.org")
    probes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
              and ("revocation_index" in q["sql"].split("FROM")[0] or "suspension_index" in q["sql"].split("FROM")[0])]
    assert probes == []
    for list_id, index in ((award.revocation_list_id, award.revocation_index),
                           (award.suspension_list_id, award.suspension_index)):
        assert not before[list_id].get(index)  # a free entry was taken …
        after = StatusList.objects.get(pk=list_id)
        assert Bitstring.from_bytes(bytes(after.reserved)).get(index)  # … and is marked reserved
        assert Bitstring.from_bytes(bytes(after.reserved)).count() == after.allocated == before[list_id].count() + 1


def test_a_list_without_reservation_bits_rebuilds_them_from_its_awards(owner: Actor, badge: BadgeClass,
                                                                       issuer: Issuer) -> None:
    """Lists made before the ``reserved`` column: the first reservation reads their awards' indexes once."""
    for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):  # 16 entries, to fill them
        StatusList.objects.create(issuer=issuer, purpose=purpose, size=16, bits=Bitstring().to_bytes())
    issue_awards_batch(actor=owner, badge=badge, rows=rows(15))
    StatusList.objects.filter(issuer=issuer).update(reserved=b"")  # as a list from before the migration
    last = issue_award(actor=owner, badge=badge, recipient="last@example.org")
    every = Award.objects.filter(issuer=issuer)
    assert sorted(every.values_list("revocation_index", flat=True)) == list(range(16))
    assert sorted(every.values_list("suspension_index", flat=True)) == list(range(16))
    assert Bitstring.from_bytes(bytes(StatusList.objects.get(pk=last.revocation_list_id).reserved)).count() == 16


def test_reservation_bits_match_the_awards(owner: Actor, badge: BadgeClass, issuer: Issuer) -> None:
    issue_award(actor=owner, badge=badge, recipient="first@example.org")
    issue_awards_batch(actor=owner, badge=badge, rows=rows(250))
    issue_award(actor=owner, badge=badge, recipient="last@example.org")
    for status_list in StatusList.objects.filter(issuer=issuer):
        field = "revocation" if status_list.purpose == StatusPurpose.REVOCATION else "suspension"
        used = set(Award.objects.filter(**{f"{field}_list": status_list}).values_list(f"{field}_index", flat=True))
        reserved = Bitstring.from_bytes(bytes(status_list.reserved))
        assert {index for index in range(status_list.size) if reserved.get(index)} == used
        assert status_list.allocated == len(used) == 252


@pytest.mark.parametrize("allocated", [10, 15])  # few entries left: the free ones are enumerated
def test_a_full_list_rolls_over_to_a_new_one(owner: Actor, badge: BadgeClass, issuer: Issuer, allocated: int) -> None:
    lists = {}
    for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):  # lists of 16 entries, to fill them quickly
        lists[purpose] = StatusList.objects.create(issuer=issuer, purpose=purpose, size=16,
                                                   bits=Bitstring().to_bytes())
    # the small lists already have ``allocated`` entries in use
    taken = issue_awards_batch(actor=owner, badge=badge, rows=rows(allocated, start=1000))
    assert {a.revocation_list_id for a in taken} == {lists[StatusPurpose.REVOCATION].pk}
    awards = issue_awards_batch(actor=owner, badge=badge, rows=rows(20))
    small = [a for a in awards if a.revocation_list_id == lists[StatusPurpose.REVOCATION].pk]
    assert len(small) == 16 - allocated
    every = Award.objects.filter(revocation_list=lists[StatusPurpose.REVOCATION])
    assert sorted(every.values_list("revocation_index", flat=True)) == list(range(16))
    assert StatusList.objects.get(pk=lists[StatusPurpose.REVOCATION].pk).allocated == 16
    newer = StatusList.objects.filter(issuer=issuer, purpose=StatusPurpose.REVOCATION).exclude(
        pk=lists[StatusPurpose.REVOCATION].pk).get()
    assert newer.allocated == 20 - (16 - allocated)
    assert len(set(Award.objects.values_list("suspension_list", "suspension_index"))) == allocated + 20


def _ids_match(awards: list[Award]) -> None:
    stored = dict(Award.objects.filter(public_id__in=[a.public_id for a in awards]).values_list("public_id", "pk"))
    assert {a.public_id: a.pk for a in awards} == stored
    assert all(not a._state.adding for a in awards)


def test_award_ids_are_known_without_reading_the_awards_back(owner: Actor, badge: BadgeClass) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        awards = issue_awards_batch(actor=owner, badge=badge, rows=rows(250))
    _ids_match(awards)
    read_back = [q["sql"] for q in queries.captured_queries
                 if q["sql"].startswith("SELECT") and "public_id" in q["sql"] and " IN (" in q["sql"]]
    assert read_back == []


def test_award_ids_are_right_when_other_rows_are_inserted_in_between(owner: Actor, badge: BadgeClass) -> None:
    """Another writer's rows between ours (here a trigger adding a copy after each award) do not shift the ids."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns = [f.column for f in Award._meta.concrete_fields if not f.primary_key]
    changed = {"public_id": "'copy-' || substr(public_id, 1, 25)", "credential_id": "'copy-' || credential_id",
               "revocation_index": "revocation_index + 1000000", "suspension_index": "suspension_index + 1000000"}
    copy = (f"INSERT INTO awards_award ({', '.join(quote(c) for c in columns)}) "
            f"SELECT {', '.join(changed.get(c, quote(c)) for c in columns)} FROM awards_award WHERE id = NEW.id;")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE FUNCTION interleave_award() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                           f"IF NEW.public_id NOT LIKE 'copy-%%' THEN {copy} END IF; RETURN NULL; END $$")
            cursor.execute("CREATE TRIGGER interleave AFTER INSERT ON awards_award FOR EACH ROW "
                           "EXECUTE FUNCTION interleave_award()")
        else:
            cursor.execute("CREATE TEMP TRIGGER interleave AFTER INSERT ON awards_award "
                           f"WHEN NEW.public_id NOT LIKE 'copy-%%' BEGIN {copy} END")
    try:
        awards = issue_awards_batch(actor=owner, badge=badge, rows=rows(120))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER interleave ON awards_award" if connection.vendor == "postgresql"
                           else "DROP TRIGGER interleave")
    assert Award.objects.filter(public_id__startswith="copy-").count() == 120  # the other rows did come in between
    _ids_match(awards)


def test_emails_are_queued_not_sent_and_opt_outs_are_honoured(owner: Actor, badge: BadgeClass,
                                                              django_capture_on_commit_callbacks: Any) -> None:
    opt_out("learner1@example.org", owner.organisation)
    opt_out("learner2@example.org")  # from every organisation
    with django_capture_on_commit_callbacks(execute=True):
        awards = issue_awards_batch(actor=owner, badge=badge, rows=[*rows(5), BatchRow(
            recipient="https://people.example/me", recipient_kind="url")])
    assert mail.outbox == []
    by_award = {n.award_id: n for n in Notification.objects.all()}
    assert len(by_award) == 5  # the URL recipient has no email
    statuses = {by_award[a.pk].to: by_award[a.pk].status for a in awards[:5]}
    assert statuses == {"learner0@example.org": NotificationStatus.QUEUED,
                        "learner1@example.org": NotificationStatus.SKIPPED_OPTED_OUT,
                        "learner2@example.org": NotificationStatus.SKIPPED_OPTED_OUT,
                        "learner3@example.org": NotificationStatus.QUEUED,
                        "learner4@example.org": NotificationStatus.QUEUED}
    assert ClaimToken.objects.count() == 0  # made when the email is sent, so it exists only in the email


def test_webhook_deliveries_and_audit_events_are_recorded(owner: Actor, badge: BadgeClass) -> None:
    webhook, _secret = create_webhook(actor=owner, url="https://hooks.example.org/insignia", events=["award.issued"])
    create_webhook(actor=owner, url="https://other.example.org/hook", events=["award.revoked"])
    awards = issue_awards_batch(actor=owner, badge=badge, rows=rows(4))
    deliveries = list(WebhookDelivery.objects.all())
    assert len(deliveries) == 4
    assert {d.webhook_id for d in deliveries} == {webhook.pk}
    assert {d.event for d in deliveries} == {"award.issued"}
    assert {d.payload["data"]["award"]["id"] for d in deliveries} == {a.public_id for a in awards}
    assert all(d.payload["id"] == d.public_id for d in deliveries)
    events = AuditEvent.objects.filter(verb="award.issued")
    assert sorted(events.values_list("object_id", flat=True)) == sorted(a.public_id for a in awards)
    assert {e.actor_id for e in events} == {owner.user.pk}
    assert all(e.data["badge"] == badge.public_id for e in events)


# -- checks and idempotency ---------------------------------------------------------------------


def test_a_strict_batch_with_a_bad_row_issues_nothing(owner: Actor, badge: BadgeClass) -> None:
    with pytest.raises(BatchRowError) as caught:
        issue_awards_batch(actor=owner, badge=badge, rows=[*rows(2), BatchRow(recipient="not-an-email")])
    assert caught.value.index == 2
    assert caught.value.code == "recipient_invalid"
    assert Award.objects.count() == 0
    outcomes = issue_awards_outcomes(actor=owner, badge=badge, rows=[
        *rows(2), BatchRow(recipient="x@example.org", issued_on=datetime.now(UTC) + timedelta(days=2))])
    assert isinstance(outcomes[2], ServiceError)
    assert outcomes[2].code == "issued_on_invalid"
    assert Award.objects.count() == 2


def test_idempotency_keys_work_as_in_issue_award(owner: Actor, badge: BadgeClass) -> None:
    single = issue_award(actor=owner, badge=badge, recipient="ada@example.org", idempotency_key="k-0")
    keyed = [BatchRow(recipient="ada@example.org", idempotency_key="k-0"),
             BatchRow(recipient="grace@example.org", idempotency_key="k-1"),
             BatchRow(recipient="grace@example.org", idempotency_key="k-1")]
    first = issue_awards_batch(actor=owner, badge=badge, rows=keyed)
    assert first[0].pk == single.pk  # the same request with a used key: the earlier award
    assert first[1].pk == first[2].pk
    assert Award.objects.count() == 2
    again = issue_awards_batch(actor=owner, badge=badge, rows=keyed)
    assert [a.pk for a in again] == [a.pk for a in first]
    # and issue_award recognises a batch-made award as the same request
    assert issue_award(actor=owner, badge=badge, recipient="grace@example.org", idempotency_key="k-1").pk == first[1].pk
    with pytest.raises(BatchRowError) as caught:
        issue_awards_batch(actor=owner, badge=badge, rows=[BatchRow(recipient="alan@example.org",
                                                                    idempotency_key="k-1")])
    assert isinstance(caught.value.error, Conflict)
    assert (caught.value.status, caught.value.code) == (409, "idempotency_key_reused")
    assert Award.objects.count() == 2


# -- the bulk job --------------------------------------------------------------------------------


def test_a_job_issues_chunk_by_chunk_and_the_progress_moves(owner: Actor, badge: BadgeClass,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    job = started_job(owner, badge, 8)
    seen: list[dict[str, Any]] = []
    done = services.run_bulk_issue(job.public_id, progress=lambda j: seen.append(services.job_status(j)))
    assert done is not None
    assert done.status == JobStatus.DONE
    assert [s["processed"] for s in seen] == [0, 3, 6, 8]
    assert [s["percent"] for s in seen] == [0, 38, 75, 100]
    assert (done.issued, done.failed) == (8, 0)
    rows_ = list(done.rows.order_by("row_number"))
    assert len({r.award_id for r in rows_}) == 8
    for row in rows_:
        award = Award.objects.get(pk=row.award_id)
        assert award.idempotency_key == services.idempotency_key(job, row.row_number)
        assert award.recipient_identity == row.recipient
        assert award.evidence == [{"url": row.evidence_url}]
    assert Notification.objects.filter(status=NotificationStatus.QUEUED).count() == 8


def test_a_crash_in_the_second_chunk_then_resume_issues_everything_once(owner: Actor, badge: BadgeClass,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    job = started_job(owner, badge, 9)  # three chunks
    real_audit = batch._audit
    calls = {"n": 0}

    def dying_audit(*args: Any) -> None:
        calls["n"] += 1
        real_audit(*args)
        if calls["n"] == 2:
            raise Crash  # in chunk 2, after its awards were inserted: the whole chunk rolls back

    monkeypatch.setattr(batch, "_audit", dying_audit)
    with pytest.raises(Crash):
        services.run_bulk_issue(job.public_id)
    job.refresh_from_db()
    assert (job.status, job.issued) == (JobStatus.RUNNING, 3)
    assert Award.objects.count() == 3
    assert job.rows.filter(state=RowState.ISSUED).count() == 3
    assert Notification.objects.count() == 3
    assert AuditEvent.objects.filter(verb="award.issued").count() == 3
    monkeypatch.setattr(batch, "_audit", real_audit)
    assert services.unfinished_jobs() == [("bulk_issue", job.public_id)]
    jobs.run_now("bulk_issue", job.public_id)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert (job.issued, job.failed, job.skipped) == (9, 0, 0)
    assert Award.objects.count() == 9
    assert len(set(Award.objects.values_list("idempotency_key", flat=True))) == 9
    assert len(set(Award.objects.values_list("recipient_identity", flat=True))) == 9
    assert len(set(Award.objects.values_list("revocation_list", "revocation_index"))) == 9
    assert Notification.objects.count() == 9
    assert len(set(Notification.objects.values_list("award_id", flat=True))) == 9
    assert StatusList.objects.get(issuer=badge.issuer, purpose=StatusPurpose.REVOCATION).allocated == 9
    assert calls["n"] == 2


def test_a_chunk_that_fails_unexpectedly_is_issued_row_by_row(owner: Actor, badge: BadgeClass,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("a bug in the batch path")

    monkeypatch.setattr(batch, "_audit", broken)
    job = started_job(owner, badge, 4)
    done = services.run_bulk_issue(job.public_id)
    assert done is not None
    assert (done.status, done.issued, done.failed) == (JobStatus.DONE, 4, 0)
    assert Award.objects.count() == 4
    assert AuditEvent.objects.filter(verb="award.issued").count() == 4  # written by issue_award, one by one


def test_the_email_job_sends_each_queued_email_once(owner: Actor, badge: BadgeClass,
                                                   django_capture_on_commit_callbacks: Any) -> None:
    opt_out("person1@example.org", owner.organisation)
    job = started_job(owner, badge, 4)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.run_bulk_issue(job.public_id)
    assert callbacks  # the email job is enqueued when issuing finishes
    assert mail.outbox == []
    assert services.unsent_email_jobs() == [("bulk_issue.emails", job.public_id)]
    assert jobs._HANDLERS["bulk_issue.emails"] is services.send_job_emails
    assert services.send_job_emails(job.public_id) == 3
    assert sorted(m.to[0] for m in mail.outbox) == ["person0@example.org", "person2@example.org",
                                                   "person3@example.org"]
    assert all("/claim/" in m.body for m in mail.outbox)
    assert ClaimToken.objects.count() == 3
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 3
    assert Notification.objects.filter(status=NotificationStatus.SKIPPED_OPTED_OUT).count() == 1
    assert services.unsent_email_jobs() == []
    assert services.send_job_emails(job.public_id) == 0  # run again: nothing is sent twice
    assert len(mail.outbox) == 3


def test_issuing_refuses_an_expired_badge_row_by_row(owner: Actor, badge: BadgeClass) -> None:
    """A check that can only fail at issue time (the badge's expiry) fails the rows it applies to."""
    job = started_job(owner, badge, 3)  # award dates in 2025
    BadgeClass.objects.filter(pk=badge.pk).update(expiry_policy=ExpiryPolicy.FIXED_DATE,
                                                  expiry_date=datetime(2025, 2, 1, tzinfo=UTC))
    done = services.run_bulk_issue(job.public_id)
    assert done is not None
    by_row = {r.row_number: r for r in done.rows.all()}
    assert by_row[2].state == RowState.ISSUED  # 2025-01-10, before the expiry
    assert by_row[3].state == RowState.FAILED
    assert "expire" in by_row[3].error
    assert (done.issued, done.failed) == (1, 2)


@pytest.mark.parametrize(("seconds", "processed"), [(0.0, [0, 2, 4, 5]), (1e9, [0, 2, 5])])
def test_chunks_are_sized_to_hold_the_lock_briefly(owner: Actor, badge: BadgeClass, monkeypatch: pytest.MonkeyPatch,
                                                   seconds: float, processed: list[int]) -> None:
    """The first chunk is small; later ones grow to ``CHUNK_SECONDS`` worth of rows, within the bounds."""
    monkeypatch.setattr(services, "CHUNK_SIZE", 100)
    monkeypatch.setattr(services, "MIN_CHUNK", 2)
    monkeypatch.setattr(services, "CHUNK_SECONDS", seconds)
    job = started_job(owner, badge, 5)
    seen: list[int] = []
    done = services.run_bulk_issue(job.public_id, progress=lambda j: seen.append(j.processed))
    assert done is not None
    assert (done.status, done.issued) == (JobStatus.DONE, 5)
    assert seen == processed


@pytest.mark.django_db
def test_stored_credentials_are_compressed_with_lz4_on_postgresql() -> None:
    """Migration 0007: the credential column uses LZ4 where the server has it; SQLite stores text as before."""
    from django.db import connection

    if connection.vendor != "postgresql":
        assert connection.vendor == "sqlite"
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT a.attcompression FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                       "WHERE c.relname = 'awards_award' AND a.attname = 'credential'")
        (method,) = cursor.fetchone()
        cursor.execute("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
        (available,) = cursor.fetchone()
    assert method == ("l" if available else "")


def test_a_large_job_keeps_postgresqls_statistics_in_step(owner: Actor, badge: BadgeClass,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL the job analyses the rows table at its start and the awards table as it grows (stale
    statistics planned the job's lookups as scans of every row); SQLite has no such statistics to refresh."""
    from django.db import connection

    from insignia.bulk.models import BulkIssueRow

    monkeypatch.setattr(services._PlannerStats, "MIN_ROWS", 20)  # a "large" job, at test size
    monkeypatch.setattr(services, "_CHUNK_FLOOR_FOR_STATS", 10)
    monkeypatch.setattr(services, "CHUNK_SIZE", 10)
    job = started_job(owner, badge, 35)
    stats = services._PlannerStats(job)
    assert stats.on == (connection.vendor == "postgresql")
    done = services.run_bulk_issue(job.public_id)
    assert done.issued == 35
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname IN (%s, %s)",
                       [Award._meta.db_table, BulkIssueRow._meta.db_table])
        estimated = dict(cursor.fetchall())
    # ANALYZE reads a table this small whole: its estimate is the row count at the last ANALYZE
    assert estimated[BulkIssueRow._meta.db_table] == BulkIssueRow.objects.count()
    assert 10 <= estimated[Award._meta.db_table] <= Award.objects.count()


def test_a_job_builds_each_credential_shape_once_not_once_per_chunk(owner: Actor, badge: BadgeClass,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Any] = []
    real = documents.build_credential
    monkeypatch.setattr(documents, "build_credential", lambda **kw: built.append(kw) or real(**kw))
    monkeypatch.setattr(services, "CHUNK_SIZE", 10)
    job = started_job(owner, badge, 45)  # every row has evidence and no narrative: one shape
    done = services.run_bulk_issue(job.public_id)
    assert done.issued == 45
    assert len(built) == 2  # the shape's base, and the check of its first copy; not 2 per chunk (10)


def test_a_kept_stencil_starts_again_when_the_badge_changes(owner: Actor, badge: BadgeClass) -> None:
    stencil = Stencil()
    issue_awards_outcomes(actor=owner, badge=badge, rows=rows(3), stencil=stencil)
    assert stencil.bases
    badge.name = "Renamed badge"
    badge.save()
    awards = issue_awards_outcomes(actor=owner, badge=BadgeClass.objects.get(pk=badge.pk), rows=rows(3, start=3),
                                   stencil=stencil)
    assert all(award.credential["credentialSubject"]["achievement"]["name"] == "Renamed badge" for award in awards)
