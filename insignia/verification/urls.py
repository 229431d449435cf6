"""The public verifier's pages."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "verification"

urlpatterns: list[URLPattern | URLResolver] = []
