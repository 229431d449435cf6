"""Backpack URLs: the wallet under ``/wallet/``, portfolios under ``/p/<id>``. Each part keeps its own list."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from insignia.backpack import urls_imports, urls_wallet

app_name = "backpack"

urlpatterns: list[URLPattern | URLResolver] = [*urls_wallet.urlpatterns, *urls_imports.urlpatterns]
