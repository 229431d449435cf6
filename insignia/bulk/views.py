"""Bulk issuing pages: upload → preview (bad rows and reasons) → start → live progress → result CSV.

Views are thin: resolve the member's Actor (404 for other organisations), call a service, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from insignia.badges.models import BadgeClass
from insignia.bulk import csvparse, services
from insignia.bulk.forms import BulkUploadForm
from insignia.bulk.models import BulkIssueJob, JobStatus, RowState
from insignia.core.errors import NotFound, PermissionDenied, ServiceError
from insignia.core.orgviews import org_view
from insignia.core.tenancy import Actor, get_scoped, scoped

PREVIEW_PAGE_SIZE = 100
MAX_PROBLEM_ROWS_SHOWN = 500


_member_view = org_view("view")


def _badge(actor: Actor, badge_id: str) -> BadgeClass:
    badge = get_scoped(BadgeClass.objects.select_related("issuer"), actor, public_id=badge_id)
    assert isinstance(badge, BadgeClass)
    return badge


def _job_url(job: BulkIssueJob, name: str = "bulk:job") -> str:
    return reverse(name, args=[job.organisation.public_id, job.public_id])


@require_http_methods(["GET", "POST"])
@_member_view
def upload(request: HttpRequest, actor: Actor, badge_id: str) -> HttpResponse:
    """The upload form; a readable file becomes a draft job and we show its preview."""
    badge = _badge(actor, badge_id)
    actor.require("issue")
    form = BulkUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        try:
            job = services.preview_bulk_issue(actor=actor, badge=badge, csv_bytes=upload_file.read(),
                                              filename=upload_file.name or "upload.csv")
        except (NotFound, PermissionDenied):
            raise
        except ServiceError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect(_job_url(job))
    return render(request, "bulk/upload.html", {
        "organisation": actor.organisation, "badge": badge, "form": form, "max_cell": csvparse.MAX_CELL_CHARS,
        "recent_jobs": scoped(BulkIssueJob.objects, actor).filter(badge=badge)[:5],
    }, status=400 if form.errors else 200)


@require_GET
@_member_view
def job_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require("view")
    jobs = scoped(BulkIssueJob.objects.select_related("badge"), actor)
    page = Paginator(jobs, 50).get_page(request.GET.get("page"))
    return render(request, "bulk/jobs.html", {"organisation": actor.organisation, "page": page})


@require_GET
@_member_view
def job_detail(request: HttpRequest, actor: Actor, job_id: str) -> HttpResponse:
    """A draft job: the preview. A started job: its progress bar, counts and result download."""
    job = services.get_job(actor=actor, public_id=job_id)
    context: dict[str, Any] = {
        "organisation": actor.organisation, "job": job, "badge": job.badge, "status": services.job_status(job),
        "can_issue": actor.can("issue"),
    }
    if job.status == JobStatus.DRAFT:
        problem_rows = job.rows.filter(has_problems=True).order_by("row_number")
        context["problem_rows"] = problem_rows[:MAX_PROBLEM_ROWS_SHOWN]
        context["problem_rows_hidden"] = max(0, job.problem_count - MAX_PROBLEM_ROWS_SHOWN)
        context["to_issue"] = job.rows.filter(state=RowState.PENDING, has_problems=False).count()
        context["page"] = Paginator(job.rows.order_by("row_number"), PREVIEW_PAGE_SIZE).get_page(
            request.GET.get("page"))
    else:
        context["failed_rows"] = job.rows.filter(state=RowState.FAILED).order_by("row_number")[:200]
    return render(request, "bulk/job.html", context)


@require_GET
@_member_view
def job_status_json(request: HttpRequest, actor: Actor, job_id: str) -> HttpResponse:
    job = services.get_job(actor=actor, public_id=job_id)
    response = JsonResponse(services.job_status(job))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@_member_view
def job_start(request: HttpRequest, actor: Actor, job_id: str) -> HttpResponse:
    job = services.get_job(actor=actor, public_id=job_id)
    try:
        job = services.start_bulk_issue(actor=actor, job=job)
    except ServiceError as exc:
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Issuing {job.total - job.skipped} badges: you can leave this page and "
                                  "come back; the job carries on.")
    return redirect(_job_url(job))


@require_POST
@_member_view
def job_cancel(request: HttpRequest, actor: Actor, job_id: str) -> HttpResponse:
    job = services.get_job(actor=actor, public_id=job_id)
    try:
        job = services.cancel_bulk_issue(actor=actor, job=job)
    except ServiceError as exc:
        if isinstance(exc, NotFound | PermissionDenied):
            raise
        messages.error(request, exc.message)
    else:
        messages.info(request, f"Cancelled: {job.issued} issued, the remaining rows were skipped.")
    return redirect(_job_url(job))


@require_GET
@_member_view
def job_result_csv(request: HttpRequest, actor: Actor, job_id: str) -> HttpResponse:
    job = services.get_job(actor=actor, public_id=job_id)
    response = HttpResponse(services.result_csv(job).encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulk-{job.public_id}-result.csv"'
    response["Cache-Control"] = "no-store"
    return response
