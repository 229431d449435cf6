"""Bulk issuing pages: upload → preview → start → progress → results; tenancy (404) and roles (403)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from insignia.awards.models import Award
from insignia.badges.models import BadgeClass
from insignia.bulk import services
from insignia.bulk.models import BulkIssueJob, JobStatus
from insignia.core.models import Role
from insignia.core.tenancy import Actor
from tests.platform.test_bulk_services import GOOD_CSV, make_badge


@pytest.fixture
def owner(member: Any) -> Actor:
    return member(Role.OWNER)


@pytest.fixture
def badge(owner: Actor) -> BadgeClass:
    return make_badge(owner)


def client_for(actor: Actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def upload_url(actor: Actor, badge: BadgeClass) -> str:
    return f"/orgs/{actor.organisation.public_id}/badges/{badge.public_id}/bulk"


def job_url(job: BulkIssueJob, suffix: str = "") -> str:
    return f"/orgs/{job.organisation.public_id}/bulk/{job.public_id}{suffix}"


def post_file(client: Client, url: str, data: bytes, name: str = "people.csv") -> Any:
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def test_upload_preview_start_progress_and_results(owner: Actor, badge: BadgeClass,
                                                   django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(owner)
    page = client.get(upload_url(owner, badge))
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    assert b"recipient" in page.content

    response = post_file(client, upload_url(owner, badge), GOOD_CSV)
    assert response.status_code == 302
    job = BulkIssueJob.objects.get()
    assert response["Location"] == job_url(job)
    preview = client.get(job_url(job))
    assert preview.status_code == 200
    assert b"Issue 5 badges" in preview.content
    assert b"ada@example.org" in preview.content
    assert Award.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = client.post(job_url(job, "/start"))
    assert started.status_code == 302
    assert len(callbacks) == 1  # the job is handed to the runner after commit
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED

    queued = client.get(job_url(job))
    assert b"<progress" in queued.content
    assert b'http-equiv="refresh"' in queued.content  # works without JavaScript
    assert b"bulk/progress" in queued.content
    status = client.get(job_url(job, "/status.json"))
    assert status["Cache-Control"] == "no-store"
    assert json.loads(status.content) | {"heartbeat_at": None} == {
        "id": job.public_id, "status": "queued", "status_label": "Queued", "total": 5, "issued": 0, "skipped": 0,
        "failed": 0, "processed": 0, "percent": 0, "finished": False, "problems": 0, "error": "",
        "heartbeat_at": None}

    services.run_bulk_issue(job.public_id)
    done = client.get(job_url(job))
    assert b'value="5"' in done.content
    assert b"Download the results" in done.content
    assert b'http-equiv="refresh"' not in done.content
    assert json.loads(client.get(job_url(job, "/status.json")).content)["issued"] == 5
    result = client.get(job_url(job, "/result.csv"))
    assert result["Content-Type"].startswith("text/csv")
    assert "attachment" in result["Content-Disposition"]
    lines = result.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 6
    assert all(",issued," in line for line in lines[1:])


def test_bad_rows_are_highlighted_with_their_reasons(owner: Actor, badge: BadgeClass) -> None:
    client = client_for(owner)
    post_file(client, upload_url(owner, badge), b"recipient,name\nada@example.org,Ada\nnope,Bob\nada@example.org,A\n")
    job = BulkIssueJob.objects.get()
    page = client.get(job_url(job)).content.decode()
    assert "2 rows have problems" in page
    assert 'class="row-problem"' in page
    assert "This is not a valid email address." in page
    assert "Duplicate recipient: already on row 2." in page
    assert "Issue " not in page.split("bulk-actions", 1)[1].split("</div>", 1)[0]  # no issue button
    start = client.post(job_url(job, "/start"), follow=True)
    assert b"have problems" in start.content
    job.refresh_from_db()
    assert job.status == JobStatus.DRAFT


@pytest.mark.parametrize(("data", "message"), [
    ("recipient\nzoë@example.org\n".encode("latin-1"), b"not UTF-8"),
    (b"recipient,score\nada@example.org,1\n", b"Unknown column"),
])
def test_an_unreadable_file_is_explained_on_the_form(owner: Actor, badge: BadgeClass, data: bytes,
                                                     message: bytes) -> None:
    response = post_file(client_for(owner), upload_url(owner, badge), data)
    assert response.status_code == 400
    assert message in response.content
    assert BulkIssueJob.objects.count() == 0


def test_other_organisations_get_404_everywhere(owner: Actor, badge: BadgeClass, member: Any) -> None:
    job = services.preview_bulk_issue(actor=owner, badge=badge, csv_bytes=GOOD_CSV, filename="a.csv")
    stranger = member(Role.OWNER)
    client = client_for(stranger)
    other_org = owner.organisation.public_id
    own_org = stranger.organisation.public_id
    for url in (upload_url(owner, badge), f"/orgs/{other_org}/bulk", job_url(job), job_url(job, "/status.json"),
                job_url(job, "/result.csv"),
                # the stranger's own organisation in the URL, the other tenant's object in the path
                f"/orgs/{own_org}/badges/{badge.public_id}/bulk", f"/orgs/{own_org}/bulk/{job.public_id}",
                f"/orgs/{own_org}/bulk/{job.public_id}/status.json"):
        assert client.get(url).status_code == 404, url
    for url in (job_url(job, "/start"), job_url(job, "/cancel"), f"/orgs/{own_org}/bulk/{job.public_id}/start"):
        assert client.post(url).status_code == 404, url
    assert post_file(client, upload_url(owner, badge), GOOD_CSV).status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.DRAFT


def test_viewers_may_look_but_not_write(owner: Actor, badge: BadgeClass, member: Any) -> None:
    job = services.preview_bulk_issue(actor=owner, badge=badge, csv_bytes=GOOD_CSV, filename="a.csv")
    viewer = member(Role.VIEWER, org=owner.organisation)
    client = client_for(viewer)
    assert client.get(job_url(job)).status_code == 200
    assert b"Issue 5 badges" not in client.get(job_url(job)).content
    assert client.get(job_url(job, "/status.json")).status_code == 200
    assert client.get(f"/orgs/{owner.organisation.public_id}/bulk").status_code == 200
    assert client.get(upload_url(owner, badge)).status_code == 403
    assert post_file(client, upload_url(owner, badge), GOOD_CSV).status_code == 403
    assert client.post(job_url(job, "/start")).status_code == 403
    assert client.post(job_url(job, "/cancel")).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.DRAFT
    assert BulkIssueJob.objects.count() == 1


def test_anonymous_visitors_are_sent_to_sign_in(owner: Actor, badge: BadgeClass) -> None:
    response = Client().get(upload_url(owner, badge))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_cancel_from_the_page(owner: Actor, badge: BadgeClass) -> None:
    client = client_for(owner)
    job = services.preview_bulk_issue(actor=owner, badge=badge, csv_bytes=GOOD_CSV, filename="a.csv")
    services.start_bulk_issue(actor=owner, job=job, enqueue=False)
    assert client.post(job_url(job, "/cancel")).status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    page = client.get(job_url(job))
    assert b"Cancelled" in page.content
    assert b"Download the results" in page.content


def test_the_job_list(owner: Actor, badge: BadgeClass) -> None:
    client = client_for(owner)
    assert b"No bulk issues yet" in client.get(f"/orgs/{owner.organisation.public_id}/bulk").content
    services.preview_bulk_issue(actor=owner, badge=badge, csv_bytes=GOOD_CSV, filename="cohort.csv")
    assert b"cohort.csv" in client.get(f"/orgs/{owner.organisation.public_id}/bulk").content
