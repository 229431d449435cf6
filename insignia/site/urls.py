"""URL map. Each app owns its URLs; public, standard endpoints live at short random-id paths.

Django tries the patterns in order, so the most requested ones come first: the awards' public documents and
pages (``/c/<id>…``, also the in-process fetches of the verifier), then the API. No two apps share a path, so
the order changes nothing else.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from insignia.site.api import api

urlpatterns = [
    path("", include("insignia.awards.urls")),
    path("api/v1/", api.urls),
    path("accounts/", include("allauth.urls")),
    path("django-admin/", admin.site.urls),
    path("", include("insignia.core.urls")),
    path("", include("insignia.accounts.urls")),
    path("", include("insignia.issuers.urls")),
    path("", include("insignia.badges.urls")),
    path("", include("insignia.bulk.urls")),
    path("", include("insignia.notifications.urls")),
    path("", include("insignia.backpack.urls")),
    path("", include("insignia.verification.urls")),
]
