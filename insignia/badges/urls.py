"""Badge URLs: public documents under ``/a/<public_id>`` and management pages under ``/orgs/<org>/badges/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insignia.badges import views

app_name = "badges"

urlpatterns: list[URLPattern | URLResolver] = [
    # Public, standard endpoints (no login; ids are random; drafts are 404).
    path("a/<str:public_id>", views.achievement, name="achievement"),
    path("a/<str:public_id>/ob2", views.ob2_badgeclass, name="ob2"),
    path("a/<str:public_id>/image", views.image, name="image"),
    path("a/<str:public_id>/image.png", views.image_png, name="image_png"),
    # Management (members of the organisation).
    path("orgs/<str:org_id>/badges/", views.badge_list, name="list"),
    path("orgs/<str:org_id>/badges/new", views.badge_create, name="create"),
    path("orgs/<str:org_id>/badges/preview.svg", views.badge_preview, name="preview"),
    path("orgs/<str:org_id>/badges/<str:badge_id>/", views.badge_detail, name="detail"),
    path("orgs/<str:org_id>/badges/<str:badge_id>/edit", views.badge_edit, name="edit"),
    path("orgs/<str:org_id>/badges/<str:badge_id>/publish", views.badge_publish, name="publish"),
    path("orgs/<str:org_id>/badges/<str:badge_id>/archive", views.badge_archive, name="archive"),
    path("orgs/<str:org_id>/badges/<str:badge_id>/image", views.manage_image, name="manage_image"),
    path("orgs/<str:org_id>/badges/<str:badge_id>/image.png", views.manage_image_png, name="manage_image_png"),
]
