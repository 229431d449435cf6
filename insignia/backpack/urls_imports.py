"""Imported badges (``/wallet/import``, ``/wallet/imported/<id>``, public ``/b/<id>``) and requests to the issuer
(``/wallet/requests/…`` for the earner, ``/orgs/<org>/requests/`` for the organisation)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insignia.backpack import views_imports as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("wallet/import", views.import_page, name="import"),
    path("wallet/imported/<str:public_id>", views.imported_detail, name="imported_detail"),
    path("wallet/imported/<str:public_id>/verify", views.imported_verify, name="imported_verify"),
    path("wallet/imported/<str:public_id>/visibility", views.imported_visibility, name="imported_visibility"),
    path("wallet/imported/<str:public_id>/collect", views.imported_collect, name="imported_collect"),
    path("wallet/imported/<str:public_id>/remove", views.imported_remove, name="imported_remove"),
    path("b/<str:public_id>", views.imported_public, name="imported_public"),
    path("wallet/requests/", views.request_list, name="requests"),
    path("wallet/awards/<str:award_id>/request", views.request_new, name="request_new"),
    path("wallet/requests/<str:request_id>/withdraw", views.request_withdraw, name="request_withdraw"),
    path("orgs/<str:org_id>/requests/", views.org_request_queue, name="org_requests"),
    path("orgs/<str:org_id>/requests/<str:request_id>/", views.org_request_detail, name="org_request"),
    path("orgs/<str:org_id>/requests/<str:request_id>/reissue", views.org_request_reissue, name="org_request_reissue"),
    path("orgs/<str:org_id>/requests/<str:request_id>/decline", views.org_request_decline, name="org_request_decline"),
]
