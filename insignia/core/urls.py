"""Organisation pages. Every ``/orgs/<org>/…`` view resolves the caller's membership first (others get 404)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insignia.core import views

app_name = "core"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.landing, name="landing"),
    path("dashboard/", views.home, name="home"),
    path("orgs/new", views.org_new, name="org_new"),
    path("orgs/new/", views.org_new),
    path("orgs/<str:org>/", views.dashboard, name="dashboard"),
    path("orgs/<str:org>/settings/", views.settings_general, name="settings"),
    path("orgs/<str:org>/settings/members/", views.settings_members, name="members"),
    path("orgs/<str:org>/settings/members/<int:membership_id>/role", views.member_role, name="member_role"),
    path("orgs/<str:org>/settings/members/<int:membership_id>/remove", views.member_remove, name="member_remove"),
    path("orgs/<str:org>/settings/invitations/", views.settings_invitations, name="invitations"),
    path("orgs/<str:org>/settings/invitations/<int:invitation_id>/cancel", views.invitation_cancel,
         name="invitation_cancel"),
    path("orgs/<str:org>/audit/", views.audit_log, name="audit"),
    path("invitations/<str:token>", views.invitation, name="invitation"),
    path("brand/<str:org>.css", views.brand_css, name="brand_css"),
    path("styleguide/", views.styleguide, name="styleguide"),
]
