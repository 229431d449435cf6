"""Bulk issuing services: preview issues nothing, a job issues every row, a crash and resume never doubles."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage

from insignia.awards.models import Award
from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.bulk import services
from insignia.bulk.models import BulkIssueJob, BulkIssueRow, JobStatus, RowState
from insignia.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from insignia.core.models import Membership, Role
from insignia.core.tenancy import Actor
from insignia.site import jobs

GOOD_CSV = (
    b"recipient,name,evidence_url,evidence_narrative,award_date\n"
    b"ada@example.org,Ada Lovelace,https://example.org/engine,Wrote the first program,2024-03-01\n"
    b"grace@example.org,Grace Hopper,,Built a compiler,\n"
    b"alan@example.org,Alan Turing,,,\n"
    b"katherine@example.org,Katherine Johnson,,,2024-05-06T09:00:00Z\n"
    b"edsger@example.org,Edsger Dijkstra,,,\n"
)


def make_badge(actor: Actor, *, name: str = "Bulk Badge", evidence_required: bool = False) -> BadgeClass:
    """A published badge of a new issuer, made through the services."""
    from insignia.badges.services import create_badge, publish_badge
    from insignia.issuers.services import create_issuer

    issuer = create_issuer(actor=actor, name=f"{name} Issuer", url="https://issuer.example.org",
                           email="badges@issuer.example.org")
    badge = create_badge(actor=actor, issuer=issuer, name=name, description="Awarded in bulk.",
                         criteria_narrative="Do the thing.", evidence_required=evidence_required)
    return publish_badge(actor=actor, badge=badge)


@pytest.fixture
def owner(member: Any) -> Actor:
    return member(Role.OWNER)


@pytest.fixture
def badge(owner: Actor) -> BadgeClass:
    return make_badge(owner)


def preview(actor: Actor, badge: BadgeClass, data: bytes = GOOD_CSV) -> BulkIssueJob:
    return services.preview_bulk_issue(actor=actor, badge=badge, csv_bytes=data, filename="people.csv")


def started(actor: Actor, badge: BadgeClass, data: bytes = GOOD_CSV) -> BulkIssueJob:
    job = preview(actor, badge, data)
    return services.start_bulk_issue(actor=actor, job=job, enqueue=False)


def test_the_job_kind_is_registered() -> None:
    assert jobs._HANDLERS["bulk_issue"] is services.run_bulk_issue


def test_preview_stores_every_row_and_issues_nothing(owner: Actor, badge: BadgeClass) -> None:
    job = preview(owner, badge)
    assert job.status == JobStatus.DRAFT
    assert (job.total, job.problem_count, job.issued) == (5, 0, 0)
    assert Award.objects.count() == 0
    rows = list(job.rows.order_by("row_number"))
    assert [r.row_number for r in rows] == [2, 3, 4, 5, 6]
    assert rows[0].evidence_url == "https://example.org/engine"
    assert rows[0].award_date is not None
    assert rows[0].award_date.year == 2024
    assert all(r.state == RowState.PENDING for r in rows)
    with default_storage.open(job.source_file.name, "rb") as stored:
        assert stored.read() == GOOD_CSV


def test_preview_lists_every_problem_and_start_refuses(owner: Actor, badge: BadgeClass) -> None:
    data = b"recipient,name\nada@example.org,Ada\nnot-an-email,Bob\nada@example.org,Ada again\n,Nobody\n"
    job = preview(owner, badge, data)
    assert job.problem_count == 3
    bad = {r.row_number: r.problems[0]["reason"] for r in job.rows.filter(has_problems=True)}
    assert bad == {3: "This is not a valid email address.", 4: "Duplicate recipient: already on row 2.",
                   5: "The recipient's email address is empty."}
    with pytest.raises(ServiceError, match="3 rows of the file have problems") as info:
        services.start_bulk_issue(actor=owner, job=job, enqueue=False)
    assert info.value.code == "bulk_has_problems"
    assert BulkIssueJob.objects.get(pk=job.pk).status == JobStatus.DRAFT
    assert Award.objects.count() == 0


@pytest.mark.parametrize(("data", "code"), [
    ("recipient,name\nzoe@example.org,Zoë\n".encode("latin-1"), "csv_not_utf8"),
    (b"recipient,score\nada@example.org,3\n", "csv_unknown_columns"),
    (b"", "csv_empty"),
])
def test_a_file_that_cannot_be_read_creates_no_job(owner: Actor, badge: BadgeClass, data: bytes, code: str) -> None:
    with pytest.raises(ServiceError) as info:
        preview(owner, badge, data)
    assert info.value.code == code
    assert info.value.field == "file"
    assert BulkIssueJob.objects.count() == 0


def test_evidence_required_badges_need_evidence_on_every_row(owner: Actor) -> None:
    strict = make_badge(owner, name="Strict", evidence_required=True)
    job = preview(owner, strict)
    assert job.problem_count == 3  # these have neither an evidence URL nor a narrative
    assert {r.recipient for r in job.rows.filter(has_problems=True)} == {
        "alan@example.org", "katherine@example.org", "edsger@example.org"}


def test_a_job_issues_every_row(owner: Actor, badge: BadgeClass) -> None:
    job = started(owner, badge)
    assert job.status == JobStatus.QUEUED
    assert services.unfinished_jobs() == [("bulk_issue", job.public_id)]
    seen: list[int] = []
    done = services.run_bulk_issue(job.public_id, progress=lambda j: seen.append(j.processed))
    assert done is not None
    assert done.status == JobStatus.DONE
    assert (done.issued, done.failed, done.skipped) == (5, 0, 0)
    assert done.finished_at is not None
    assert done.heartbeat_at is not None
    assert seen[-1] == 5
    awards = {a.recipient_identity: a for a in Award.objects.filter(badge=badge)}
    assert set(awards) == {"ada@example.org", "grace@example.org", "alan@example.org", "katherine@example.org",
                           "edsger@example.org"}
    ada = awards["ada@example.org"]
    assert ada.recipient_name == "Ada Lovelace"
    assert ada.evidence == [{"url": "https://example.org/engine", "narrative": "Wrote the first program"}]
    assert ada.issued_on.date().isoformat() == "2024-03-01"
    assert ada.idempotency_key == f"bulk:{job.public_id}:2"
    assert all(r.award_id for r in done.rows.all())
    assert services.unfinished_jobs() == []
    # running a finished job again does nothing
    services.run_bulk_issue(job.public_id)
    assert Award.objects.count() == 5


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing catches it."""


def test_a_crash_mid_job_then_resume_issues_nothing_twice(owner: Actor, badge: BadgeClass,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    job = started(owner, badge)
    real_issue = services.issue_awards_outcomes
    calls = {"n": 0}

    def dying_issue(**kwargs: Any) -> list[Any]:
        calls["n"] += 1
        outcomes = real_issue(**kwargs)
        if calls["n"] == 2:
            raise Crash  # after the second chunk's awards were made, before its rows were marked: it all rolls back
        return outcomes

    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    monkeypatch.setattr(services, "issue_awards_outcomes", dying_issue)
    with pytest.raises(Crash):
        services.run_bulk_issue(job.public_id)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    assert job.issued == 2
    assert Award.objects.count() == 2
    assert job.rows.filter(state=RowState.ISSUED).count() == 2
    # the process comes back: start-up lists the interrupted job and runs it again
    monkeypatch.setattr(services, "issue_awards_outcomes", real_issue)
    assert services.unfinished_jobs() == [("bulk_issue", job.public_id)]
    jobs.run_now("bulk_issue", job.public_id)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert (job.issued, job.failed) == (5, 0)
    assert Award.objects.count() == 5
    keys = list(Award.objects.values_list("idempotency_key", flat=True))
    assert len(set(keys)) == 5
    assert calls["n"] == 2  # the patched function saw only the first run


def test_an_award_made_before_a_lost_row_update_is_not_made_again(owner: Actor, badge: BadgeClass) -> None:
    """If an award exists under the row's key but the row still says pending, resume adopts it."""
    job = started(owner, badge)
    row = job.rows.get(row_number=3)
    earlier = services.issue_award(actor=owner, badge=badge, recipient=row.recipient, recipient_name=row.name,
                                   evidence=[{"narrative": row.narrative}],
                                   idempotency_key=services.idempotency_key(job, 3))
    services.run_bulk_issue(job.public_id)
    row.refresh_from_db()
    assert row.state == RowState.ISSUED
    assert row.award_id == earlier.pk
    assert Award.objects.filter(recipient_identity=row.recipient).count() == 1
    assert Award.objects.count() == 5


def test_a_row_the_service_refuses_fails_and_the_job_carries_on(owner: Actor, badge: BadgeClass,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from insignia.awards import batch

    job = started(owner, badge)
    real_check = batch._check

    def picky(badge: BadgeClass, row: Any, now: Any) -> Any:
        if row.recipient == "alan@example.org":
            raise ServiceError("The recipient opted out.")
        return real_check(badge, row, now)

    monkeypatch.setattr(batch, "_check", picky)
    done = services.run_bulk_issue(job.public_id)
    assert done is not None
    assert done.status == JobStatus.DONE
    assert (done.issued, done.failed) == (4, 1)
    assert done.rows.get(recipient="alan@example.org").error == "The recipient opted out."


def test_recipients_who_already_hold_the_badge_are_skipped(owner: Actor, badge: BadgeClass) -> None:
    services.issue_award(actor=owner, badge=badge, recipient="Grace@Example.org")
    job = started(owner, badge)
    assert job.skipped == 1
    done = services.run_bulk_issue(job.public_id)
    assert done is not None
    assert (done.issued, done.skipped) == (4, 1)
    assert "Already holds this badge" in done.rows.get(recipient="grace@example.org").error
    assert Award.objects.filter(recipient_identity="grace@example.org").count() == 1


def test_cancel_skips_the_remaining_rows(owner: Actor, badge: BadgeClass) -> None:
    job = started(owner, badge)
    cancelled = services.cancel_bulk_issue(actor=owner, job=job)
    assert cancelled.status == JobStatus.CANCELLED
    assert cancelled.skipped == 5
    services.run_bulk_issue(job.public_id)
    assert Award.objects.count() == 0
    with pytest.raises(Conflict):
        services.cancel_bulk_issue(actor=owner, job=job)


def test_a_job_cannot_start_twice(owner: Actor, badge: BadgeClass) -> None:
    job = started(owner, badge)
    with pytest.raises(Conflict):
        services.start_bulk_issue(actor=owner, job=job, enqueue=False)


def test_a_job_fails_if_its_creator_lost_the_right_to_issue(owner: Actor, badge: BadgeClass) -> None:
    job = started(owner, badge)
    Membership.objects.filter(user=owner.user).update(role=Role.VIEWER)
    done = services.run_bulk_issue(job.public_id)
    assert done is not None
    assert done.status == JobStatus.FAILED
    assert "cannot run" in done.error
    assert Award.objects.count() == 0


def test_result_csv_neutralises_formulas(owner: Actor, badge: BadgeClass) -> None:
    data = (b"recipient,name\n"
            b"ada@example.org,=HYPERLINK(\"http://evil.example\";\"click\")\n"
            b"bob@example.org,@SUM(1+1)\n"
            b"carol@example.org,+44 call me\n"
            b"dan@example.org,-1\n")
    job = started(owner, badge, data)
    services.run_bulk_issue(job.public_id)
    job.refresh_from_db()
    text = services.result_csv(job)
    lines = text.splitlines()
    assert lines[0] == "row,recipient,name,state,award_id,award_url,error"
    names = [line.split(",")[2] for line in lines[1:]]
    assert "'=HYPERLINK" in lines[1]
    assert names[1:] == ["'@SUM(1+1)", "'+44 call me", "'-1"]
    award = Award.objects.get(recipient_identity="bob@example.org")
    assert f"{award.public_id},http" in lines[2]
    assert f"/c/{award.public_id}" in lines[2]
    for line in lines[1:]:
        assert ",issued," in line


def test_tenancy_and_roles(owner: Actor, badge: BadgeClass, member: Any) -> None:
    stranger = member(Role.OWNER)
    with pytest.raises(NotFound):
        preview(stranger, badge)
    job = preview(owner, badge)
    with pytest.raises(NotFound):
        services.get_job(actor=stranger, public_id=job.public_id)
    with pytest.raises(NotFound):
        services.start_bulk_issue(actor=stranger, job=job, enqueue=False)
    viewer = member(Role.VIEWER, org=owner.organisation)
    with pytest.raises(PermissionDenied):
        preview(viewer, badge)
    with pytest.raises(PermissionDenied):
        services.start_bulk_issue(actor=viewer, job=job, enqueue=False)
    assert services.get_job(actor=viewer, public_id=job.public_id) == job


def test_an_unpublished_badge_cannot_be_bulk_issued(owner: Actor, badge: BadgeClass) -> None:
    BadgeClass.objects.filter(pk=badge.pk).update(status=BadgeStatus.DRAFT)
    badge.refresh_from_db()
    with pytest.raises(ServiceError, match="not published"):
        preview(owner, badge)


def test_rows_are_unique_per_job(owner: Actor, badge: BadgeClass) -> None:
    job = preview(owner, badge)
    assert BulkIssueRow.objects.filter(job=job).values("row_number").distinct().count() == 5
