"""Bulk issuing pages (organisation-scoped)."""

from __future__ import annotations

from django.urls import path

from insignia.bulk import views

app_name = "bulk"

urlpatterns = [
    path("orgs/<str:org_id>/badges/<str:badge_id>/bulk", views.upload, name="upload"),
    path("orgs/<str:org_id>/bulk", views.job_list, name="jobs"),
    path("orgs/<str:org_id>/bulk/<str:job_id>", views.job_detail, name="job"),
    path("orgs/<str:org_id>/bulk/<str:job_id>/status.json", views.job_status_json, name="status"),
    path("orgs/<str:org_id>/bulk/<str:job_id>/start", views.job_start, name="start"),
    path("orgs/<str:org_id>/bulk/<str:job_id>/cancel", views.job_cancel, name="cancel"),
    path("orgs/<str:org_id>/bulk/<str:job_id>/result.csv", views.job_result_csv, name="result"),
]
