"""Bulk issuing: preview a CSV (nothing issued), start the job, run it resumably, report the result.

* ``preview_bulk_issue`` reads the file and stores a *draft* job with every row and every problem.
  Recipients who already hold an active award of the badge are marked *skipped* up front.
* ``start_bulk_issue`` refuses a file with problems, then queues the job (``insignia.site.jobs``).
* ``run_bulk_issue`` issues the pending rows in chunks (up to ``CHUNK_SIZE``, sized to take about
  ``CHUNK_SECONDS``) through the batch path
  (``insignia.awards.batch``): each chunk is one transaction that makes the awards (idempotency key
  ``bulk:<job>:<row>``), marks their rows and moves the job's counters and heartbeat, so the progress bar
  moves chunk by chunk. Run it again after a crash (``resume`` does so at start-up) and it continues where
  it stopped: a chunk is committed whole or not at all, so finished rows are never issued twice. A chunk
  that fails unexpectedly is retried row by row (``issue_award``), so one bad row fails alone.
* The award emails are queued with the awards and sent afterwards by a second job (``EMAIL_JOB_KIND``,
  ``send_job_emails``), so issuing never waits on the mail server; ``emails_sent_at`` records it ran.
* ``cancel_bulk_issue`` stops a job; rows not yet issued become *skipped*.
* ``result_csv`` is the outcome of every row, safe to open in a spreadsheet.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from insignia.awards.batch import BatchRow, Stencil, Timings, issue_awards_outcomes
from insignia.awards.models import Award, AwardStatus
from insignia.awards.services import issue_award, normalise_recipient
from insignia.badges.models import BadgeClass, BadgeStatus
from insignia.bulk import csvparse
from insignia.bulk.models import FINISHED_STATUSES, BulkIssueJob, BulkIssueRow, JobStatus, RowState
from insignia.core import audit
from insignia.core.bulkinsert import insert_values
from insignia.core.errors import Conflict, NotFound, ServiceError
from insignia.core.models import Membership
from insignia.core.tenancy import Actor, get_scoped, system_actor

log = logging.getLogger(__name__)

JOB_KIND = "bulk_issue"
#: The job that sends the award emails of a job's awards once they are issued.
EMAIL_JOB_KIND = "bulk_issue.emails"
#: Most rows issued per transaction (and per progress update).
CHUNK_SIZE = 1_000
#: A chunk holds the issuer's status-list lock (on SQLite, the database's write lock) while it signs, so its
#: size adapts to take about this long: the whole ``CHUNK_SIZE`` when signing is fast, fewer rows when not.
CHUNK_SECONDS = 2.0
#: The first chunk's size, and the fewest rows an adapted chunk takes.
MIN_CHUNK = 50
#: Rows read per query by the row-by-row fallback; each row commits on its own there.
BATCH_SIZE = 50
#: Emails claimed and sent per query by ``send_job_emails``.
EMAIL_BATCH = 200


def idempotency_key(job: BulkIssueJob, row_number: int) -> str:
    """The key a row is issued under: the same row of the same job can only ever yield one award."""
    return f"bulk:{job.public_id}:{row_number}"


def get_job(*, actor: Actor, public_id: str) -> BulkIssueJob:
    """A job of the actor's organisation, or NotFound."""
    actor.require("view")
    job = get_scoped(BulkIssueJob.objects.select_related("badge", "organisation"), actor, public_id=public_id)
    assert isinstance(job, BulkIssueJob)
    return job


def _check_badge(actor: Actor, badge: BadgeClass) -> None:
    if badge.organisation_id != actor.organisation.pk:
        raise NotFound("No such badge.")
    if badge.status != BadgeStatus.PUBLISHED:
        raise ServiceError(f"“{badge.name}” is not published: publish it before issuing it.",
                           code="badge_not_published")


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit]


def _holders(badge: BadgeClass, emails: Iterable[str]) -> dict[str, str]:
    """Lower-cased recipient → public id of an active award of ``badge`` they already hold."""
    wanted = sorted({e.lower() for e in emails if e})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = (
            Award.objects.filter(badge=badge, recipient_kind="email")
            .exclude(status=AwardStatus.REVOKED)
            .annotate(identity=Lower("recipient_identity"))
            .filter(identity__in=chunk)
            .values_list("identity", "public_id")
        )
        found.update(dict(rows))
    return found


@transaction.atomic
def preview_bulk_issue(
    *, actor: Actor, badge: BadgeClass, csv_bytes: bytes, filename: str, now: datetime | None = None
) -> BulkIssueJob:
    """Read the file into a draft job: every row, every problem. Nothing is issued.

    Raises ServiceError (``field="file"``) when the file as a whole cannot be read: not UTF-8, too
    large, unknown or missing columns, no rows.
    """
    actor.require("issue")
    _check_badge(actor, badge)
    now = now or timezone.now()
    try:
        parsed = csvparse.parse_bulk_csv(csv_bytes, now=now)
    except csvparse.CSVFileError as exc:
        raise ServiceError(exc.message, code=f"csv_{exc.code}", field="file") from None
    holders = _holders(badge, (row.recipient for row in parsed.rows if row.ok))
    job = BulkIssueJob.objects.create(
        organisation=actor.organisation, badge=badge, created_by=actor.user,
        created_by_label=str(getattr(actor.user, "email", "") or actor.label or "system")[:200],
        filename=_clip(filename or "upload.csv", 255), status=JobStatus.DRAFT,
    )
    job.source_file.save(f"{job.public_id}.csv", ContentFile(csv_bytes), save=False)
    # Rows as plain values, not model instances: making 100,000 instances costs more than storing them.
    rows: list[dict[str, Any]] = []
    for parsed_row in parsed.rows:
        problems = [{"column": p.column, "value": p.value, "reason": p.reason} for p in parsed_row.problems]
        if not problems:
            try:  # the same check issue_award makes, so a row that previews well issues well
                normalise_recipient("email", parsed_row.recipient)
            except ServiceError as exc:
                problems.append({"column": "recipient", "value": parsed_row.recipient, "reason": exc.message})
        if badge.evidence_required and not (parsed_row.evidence_url or parsed_row.evidence_narrative):
            problems.append({"column": "evidence_url", "value": "",
                             "reason": "This badge requires evidence: give an evidence URL or narrative."})
        held = holders.get(parsed_row.recipient.lower()) if not problems else None
        rows.append({
            "job_id": job.pk, "row_number": parsed_row.row_number, "recipient": _clip(parsed_row.recipient, 320),
            "name": _clip(parsed_row.name, 200), "evidence_url": _clip(parsed_row.evidence_url, 2000),
            "narrative": parsed_row.evidence_narrative, "award_date": parsed_row.award_date, "problems": problems,
            "has_problems": bool(problems), "state": RowState.SKIPPED if held else RowState.PENDING,
            "award_id": None, "error": f"Already holds this badge (award {held})." if held else "",
        })
    # File-level row problems (too many rows) are attached to a row of their own.
    known = {row["row_number"] for row in rows}
    for problem in parsed.problems:
        if problem.row_number not in known:
            rows.append({"job_id": job.pk, "row_number": problem.row_number, "has_problems": True, "problems": [
                {"column": problem.column, "value": problem.value, "reason": problem.reason}]})
            known.add(problem.row_number)
    insert_values(BulkIssueRow, rows)
    job.total = len(parsed.rows)
    job.problem_count = sum(1 for r in rows if r["has_problems"])
    job.skipped = sum(1 for r in rows if r.get("state") == RowState.SKIPPED)
    job.save()
    audit.record(actor.organisation, actor=actor.audit_actor, verb="bulk_issue.previewed", obj=job,
                 data={"badge": badge.public_id, "rows": job.total, "problems": job.problem_count,
                       "filename": job.filename})
    return job


@transaction.atomic
def start_bulk_issue(*, actor: Actor, job: BulkIssueJob, enqueue: bool = True,
                     now: datetime | None = None) -> BulkIssueJob:
    """Queue a previewed job. Refuses while any row has a problem. ``enqueue=False``: the caller runs it."""
    actor.require("issue")
    job = BulkIssueJob.objects.select_for_update().get(pk=get_job(actor=actor, public_id=job.public_id).pk)
    if job.status != JobStatus.DRAFT:
        raise Conflict(f"This job has already been started (it is {job.get_status_display().lower()}).")
    if job.problem_count:
        raise ServiceError(
            f"{job.problem_count} row{'s' if job.problem_count != 1 else ''} of the file "
            f"{'have' if job.problem_count != 1 else 'has'} problems: fix them and upload the file again.",
            code="bulk_has_problems",
        )
    _check_badge(actor, job.badge)
    job.status = JobStatus.QUEUED
    job.heartbeat_at = now or timezone.now()
    job.save(update_fields=["status", "heartbeat_at"])
    audit.record(actor.organisation, actor=actor.audit_actor, verb="bulk_issue.started", obj=job,
                 data={"badge": job.badge.public_id, "rows": job.total})
    if enqueue:
        from insignia.site import jobs

        jobs.enqueue(JOB_KIND, job.public_id)
    return job


@transaction.atomic
def cancel_bulk_issue(*, actor: Actor, job: BulkIssueJob, now: datetime | None = None) -> BulkIssueJob:
    """Stop a job: rows not yet issued are skipped; awards already issued stay (revoke them if needed)."""
    actor.require("issue")
    job = BulkIssueJob.objects.select_for_update().get(pk=get_job(actor=actor, public_id=job.public_id).pk)
    if job.status in FINISHED_STATUSES:
        raise Conflict(f"This job has already {'finished' if job.status == JobStatus.DONE else job.status}.")
    now = now or timezone.now()
    skipped = job.rows.filter(state=RowState.PENDING).update(state=RowState.SKIPPED, error="Cancelled.")
    BulkIssueJob.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED, skipped=F("skipped") + skipped,
                                                  finished_at=now, heartbeat_at=now)
    job.refresh_from_db()
    audit.record(actor.organisation, actor=actor.audit_actor, verb="bulk_issue.cancelled", obj=job,
                 data={"issued": job.issued, "skipped": skipped})
    return job


def _run_actor(job: BulkIssueJob) -> Actor:
    """Who the job acts as: its creator (re-checked now) or, for command-line jobs, the system."""
    if job.created_by_id is None:
        return system_actor(job.organisation, job.created_by_label or "bulk")
    membership = Membership.objects.filter(organisation=job.organisation, user_id=job.created_by_id).first()
    actor = Actor(organisation=job.organisation, role=membership.role if membership else "",
                  user=job.created_by)
    actor.require("issue")
    return actor


def _evidence(row: BulkIssueRow) -> list[dict[str, str]]:
    if not (row.evidence_url or row.narrative):
        return []
    item = {"url": row.evidence_url, "narrative": row.narrative}
    return [{k: v for k, v in item.items() if v}]


def _issue_row(job: BulkIssueJob, row_pk: int, actor: Actor) -> bool:
    """Issue one row in its own transaction; False when another runner holds or finished it."""
    with transaction.atomic():
        row = (BulkIssueRow.objects.select_for_update(skip_locked=True)
               .filter(pk=row_pk, state=RowState.PENDING).first())
        if row is None:
            return False
        key = idempotency_key(job, row.row_number)
        award = (Award.objects.filter(organisation_id=job.organisation_id, idempotency_key=key)
                 .exclude(idempotency_key="").order_by().first())  # the exclude lets SQLite use the key's index
        counter = "issued"
        if award is not None:  # issued before a crash that lost the row's update: never issue twice
            row.state, row.award = RowState.ISSUED, award
        else:
            try:
                with transaction.atomic():
                    award = issue_award(
                        actor=actor, badge=job.badge, recipient=row.recipient, recipient_kind="email",
                        recipient_name=row.name, evidence=_evidence(row), issued_on=row.award_date,
                        idempotency_key=key,
                    )
                row.state, row.award = RowState.ISSUED, award
            except ServiceError as exc:
                row.state, row.error, counter = RowState.FAILED, exc.message, "failed"
            except DatabaseError:
                raise
            except Exception:
                log.exception("bulk job %s row %s failed", job.public_id, row.row_number)
                row.state, row.error, counter = RowState.FAILED, "Unexpected error: the award was not issued.", "failed"
        row.save(update_fields=["state", "award", "error"])
        BulkIssueJob.objects.filter(pk=job.pk).update(**{counter: F(counter) + 1}, heartbeat_at=timezone.now())
    return True


def _issue_chunk(job: BulkIssueJob, actor: Actor, timings: Timings | None, size: int,
                 stencil: Stencil | None = None) -> int | None:
    """Issue up to ``size`` pending rows in one transaction; how many were done, None when none is left.

    0 means every pending row is held by another runner. On an unexpected error the chunk is rolled back and
    its rows are issued one by one instead (``_issue_row``), so one bad row fails alone.
    """
    with transaction.atomic():
        rows = list(BulkIssueRow.objects.select_for_update(skip_locked=True)
                    .filter(job=job, state=RowState.PENDING).order_by("row_number")[:size])
        if not rows:
            return 0 if job.rows.filter(state=RowState.PENDING).exists() else None
        batch = [BatchRow(recipient=row.recipient, recipient_kind="email", recipient_name=row.name,
                          evidence=_evidence(row), issued_on=row.award_date,
                          idempotency_key=idempotency_key(job, row.row_number)) for row in rows]
        try:
            with transaction.atomic():
                outcomes = issue_awards_outcomes(actor=actor, badge=job.badge, rows=batch, timings=timings,
                                                 stencil=stencil)
        except DatabaseError:
            raise
        except Exception:
            log.exception("bulk job %s: a chunk failed; issuing its rows one by one", job.public_id)
            outcomes = None
        if outcomes is not None:
            issued = failed = 0
            for row, outcome in zip(rows, outcomes, strict=True):
                if isinstance(outcome, Award):
                    row.state, row.award, row.error = RowState.ISSUED, outcome, ""
                    issued += 1
                else:
                    row.state, row.award, row.error = RowState.FAILED, None, outcome.message
                    failed += 1
            started = time.perf_counter()
            _save_outcomes(rows)
            BulkIssueJob.objects.filter(pk=job.pk).update(issued=F("issued") + issued, failed=F("failed") + failed,
                                                          heartbeat_at=timezone.now())
            if timings is not None:
                timings.lap("database", "row states", started)
            return len(rows)
    return sum(1 for row in rows if _issue_row(job, row.pk, actor))


def _save_outcomes(rows: list[BulkIssueRow]) -> None:
    """Write each row's state, award and error: one prepared UPDATE run for all rows.

    (``bulk_update`` builds a CASE expression per row and field, which costs more than issuing the awards.)
    """
    meta = BulkIssueRow._meta
    columns = [meta.get_field(name).column for name in ("state", "award", "error")]
    table, pk = (connection.ops.quote_name(name) for name in (meta.db_table, meta.pk.column))
    if connection.vendor == "postgresql":  # one statement for the chunk: the values as four arrays
        state, award, error = (connection.ops.quote_name(column) for column in columns)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {state} = v.state, {award} = v.award, {error} = v.error "  # noqa: S608
                f"FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[]) AS v(id, state, award, error) "
                f"WHERE {table}.{pk} = v.id",
                [[row.pk for row in rows], [row.state for row in rows], [row.award_id for row in rows],
                 [row.error for row in rows]])
        return
    sets = ", ".join(f"{connection.ops.quote_name(column)} = %s" for column in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # noqa: S608 (names from the model)
                           [(row.state, row.award_id, row.error, row.pk) for row in rows])


def run_bulk_issue(job_id: str, *, progress: Callable[[BulkIssueJob], None] | None = None,
                   timings: Timings | None = None) -> BulkIssueJob | None:
    """Run (or resume) a queued job until every row is issued, failed or skipped. Safe to call twice.

    ``progress(job)`` is called before the first chunk and after each one; ``timings`` collects where the
    batch path spent its time (for the benchmark).
    """
    job = BulkIssueJob.objects.select_related("organisation", "badge", "created_by").filter(public_id=job_id).first()
    if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return job
    now = timezone.now()
    BulkIssueJob.objects.filter(pk=job.pk, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).update(
        status=JobStatus.RUNNING, heartbeat_at=now, started_at=job.started_at or now)
    try:
        actor = _run_actor(job)
    except ServiceError as exc:
        return _fail(job, f"The job cannot run: {exc.message}")
    _widen_sqlite_cache()
    stats = _PlannerStats(job)
    stencil = Stencil()  # the badge's base credentials, built once for the job (``batch.Stencil``)
    floor = min(CHUNK_SIZE, MIN_CHUNK)
    size = floor
    while True:
        job.refresh_from_db(fields=["status", "issued", "skipped", "failed", "heartbeat_at"])
        if progress is not None:
            progress(job)
        if job.status != JobStatus.RUNNING:
            _enqueue_emails(job)  # cancelled (or finished by another runner): send what was issued
            return job
        stats.refresh(job.issued)
        started = time.perf_counter()
        done = _issue_chunk(job, actor, timings, size, stencil)
        if done is None:
            break
        if done == 0:
            time.sleep(0.2)  # every row is held by another runner (a resumed copy): let it finish them
            continue
        per_row = (time.perf_counter() - started) / done
        size = max(floor, min(CHUNK_SIZE, int(CHUNK_SECONDS / per_row) if per_row > 0 else CHUNK_SIZE))
    return _finish(job)


class _PlannerStats:
    """Keeps PostgreSQL's statistics of the awards and bulk-row tables in step with a large job (``ANALYZE``).

    A job can grow the awards table many times over in a minute, faster than autovacuum looks at it. Planned
    with the statistics of the table as it was (empty, say), the job's own lookups read the whole table: the
    rows' state update (1,000 rows by id) became a hash join over every row of the table, the idempotency-key
    lookup a scan of every award of the organisation, each some 100 ms at 100,000 rows. So: the rows table
    once at the start, and the awards table each time the job has issued as many awards as the table held at
    its last ``ANALYZE`` (at most ~log2 of the job's size times, each sampling at most ~30,000 rows).
    """

    #: Jobs smaller than this never analyse (their tables' statistics cannot be far off for long).
    MIN_ROWS = 2_000

    def __init__(self, job: BulkIssueJob) -> None:
        self.on = connection.vendor == "postgresql" and job.total >= self.MIN_ROWS
        self.next_at = 0
        if self.on:
            self._analyze(BulkIssueRow)
            self.next_at = job.issued + max(_CHUNK_FLOOR_FOR_STATS, self._estimated_rows(Award))

    def refresh(self, issued: int) -> None:
        if self.on and issued >= self.next_at:
            self._analyze(Award)
            self.next_at = issued + max(_CHUNK_FLOOR_FOR_STATS, self._estimated_rows(Award))

    @staticmethod
    def _analyze(model: type[models.Model]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    @staticmethod
    def _estimated_rows(model: type[models.Model]) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
            row = cursor.fetchone()
        return max(0, int(row[0])) if row else 0


#: The awards table is analysed again after at least this many awards, however small it was.
_CHUNK_FLOOR_FOR_STATS = 1_000


#: SQLite page cache of a connection running a bulk job (KiB): each award adds an entry at a random place in
#: several unique indexes (ids, hashes, status entries), which the default 2 MB cache cannot hold.
SQLITE_JOB_CACHE_KIB = 131_072


def _widen_sqlite_cache() -> None:
    """Give this connection a page cache that holds the award table's indexes (SQLite only; per connection)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = -{int(SQLITE_JOB_CACHE_KIB)}")


def _enqueue_emails(job: BulkIssueJob) -> None:
    from insignia.site import jobs

    with transaction.atomic():
        jobs.enqueue(EMAIL_JOB_KIND, job.public_id)


def send_job_emails(job_id: str) -> int:
    """Send the queued award emails of a job's awards (the ``EMAIL_JOB_KIND`` job); returns how many went out.

    Safe to run twice or alongside another runner: each email is claimed before it is sent. Waits for
    nothing: a job still issuing enqueues this again when it stops.
    """
    from insignia.notifications.models import Notification, NotificationKind, NotificationStatus
    from insignia.notifications.services import send_queued_award_email

    job = BulkIssueJob.objects.filter(public_id=job_id).first()
    if job is None:
        return 0
    awards = job.rows.filter(state=RowState.ISSUED, award__isnull=False).values("award_id")
    pending = (Notification.objects.filter(award_id__in=awards, kind=NotificationKind.AWARD_ISSUED,
                                           status=NotificationStatus.QUEUED, message_id="")
               .select_related("award__badge", "award__issuer", "award__organisation").order_by("pk"))
    sent = 0
    while True:
        batch = list(pending[:EMAIL_BATCH])
        if not batch:
            break
        for notification in batch:
            if send_queued_award_email(notification) is not None:
                sent += 1
    if job.status in FINISHED_STATUSES:
        BulkIssueJob.objects.filter(pk=job.pk).update(emails_sent_at=timezone.now())
    return sent


def unsent_email_jobs() -> list[tuple[str, str]]:
    """Finished jobs whose emails were not (all) sent when a process stopped, for ``jobs.resume_interrupted``."""
    ids = (BulkIssueJob.objects.filter(status__in=FINISHED_STATUSES, emails_sent_at__isnull=True, issued__gt=0)
           .order_by("created_at").values_list("public_id", flat=True))
    return [(EMAIL_JOB_KIND, public_id) for public_id in ids]


def _finish(job: BulkIssueJob) -> BulkIssueJob:
    counts = {state: job.rows.filter(state=state).count() for state in (RowState.ISSUED, RowState.SKIPPED,
                                                                        RowState.FAILED)}
    now = timezone.now()
    with transaction.atomic():
        updated = BulkIssueJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE, finished_at=now, heartbeat_at=now, issued=counts[RowState.ISSUED],
            skipped=counts[RowState.SKIPPED], failed=counts[RowState.FAILED])
        job.refresh_from_db()
        if updated:
            audit.record(job.organisation, actor=job.created_by or job.created_by_label or "system",
                         verb="bulk_issue.finished", obj=job,
                         data={"issued": job.issued, "skipped": job.skipped, "failed": job.failed})
            _enqueue_emails(job)
    return job


def _fail(job: BulkIssueJob, message: str) -> BulkIssueJob:
    now = timezone.now()
    BulkIssueJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error=message, finished_at=now,
                                                  heartbeat_at=now)
    job.refresh_from_db()
    return job


def unfinished_jobs() -> list[tuple[str, str]]:
    """Jobs a stopped process left queued or running, for ``jobs.resume_interrupted``."""
    ids = BulkIssueJob.objects.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING)).order_by("created_at")
    return [(JOB_KIND, public_id) for public_id in ids.values_list("public_id", flat=True)]


def job_status(job: BulkIssueJob) -> dict[str, Any]:
    """The progress of a job as plain data (the status page polls it as JSON)."""
    processed = job.processed
    return {
        "id": job.public_id,
        "status": job.status,
        "status_label": job.get_status_display(),
        "total": job.total,
        "issued": job.issued,
        "skipped": job.skipped,
        "failed": job.failed,
        "processed": processed,
        "percent": round(100 * processed / job.total) if job.total else 100,
        "finished": job.finished,
        "problems": job.problem_count,
        "error": job.error,
        "heartbeat_at": job.heartbeat_at.isoformat() if job.heartbeat_at else None,
    }


RESULT_HEADER = ("row", "recipient", "name", "state", "award_id", "award_url", "error")


def result_rows(job: BulkIssueJob) -> Iterable[tuple[object, ...]]:
    from insignia.awards.credentials import credential_url

    rows = job.rows.select_related("award").order_by("row_number").iterator(chunk_size=2_000)
    for row in rows:
        award_id = row.award.public_id if row.award else ""
        error = row.error or "; ".join(f"{p.get('column') or 'row'}: {p.get('reason')}" for p in row.problems)
        yield (row.row_number, row.recipient, row.name, row.state, award_id,
               credential_url(award_id) if award_id else "", error)


def result_csv(job: BulkIssueJob) -> str:
    """One line per row: row, recipient, name, state, award id and URL, error (formula-neutralised)."""
    return csvparse.write_csv(RESULT_HEADER, result_rows(job))


def _register_email_job() -> None:
    """The email job is registered here, beside its handler (``apps.py`` registers the issuing job)."""
    from insignia.site import jobs

    jobs.register(EMAIL_JOB_KIND, send_job_emails, resume=unsent_email_jobs)


_register_email_job()
