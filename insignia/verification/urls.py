"""The public verifier's pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insignia.verification import views

app_name = "verification"

urlpatterns: list[URLPattern | URLResolver] = [
    path("verify", views.verify_page, name="verify"),
]
