"""Notification URLs: the claim link, the unsubscribe link and the issuer's "Resend email" action."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insignia.notifications import views

app_name = "notifications"

urlpatterns: list[URLPattern | URLResolver] = [
    path("claim/<str:token>", views.claim, name="claim"),
    path("email/opt-out/<str:signed>", views.opt_out, name="opt_out"),
    path("orgs/<str:org_id>/awards/<str:award_id>/resend", views.resend, name="resend"),
]
