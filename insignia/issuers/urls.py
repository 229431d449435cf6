"""Issuer URLs: public documents under ``/i/<public_id>`` and management pages under ``/orgs/<org>/issuers/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insignia.issuers import views

app_name = "issuers"

urlpatterns: list[URLPattern | URLResolver] = [
    # Public, standard endpoints (no login).
    path("i/<str:public_id>", views.profile, name="profile"),
    path("i/<str:public_id>/did.json", views.did_document, name="did"),
    path("i/<str:public_id>/ob2", views.ob2_issuer, name="ob2"),
    path("i/<str:public_id>/keys/<str:fragment>", views.ob2_key, name="key"),
    path("i/<str:public_id>/image", views.image, name="image"),
    # Management (members of the organisation).
    path("orgs/<str:org_id>/issuers/", views.issuer_list, name="list"),
    path("orgs/<str:org_id>/issuers/new", views.issuer_create, name="create"),
    path("orgs/<str:org_id>/issuers/<str:issuer_id>/", views.issuer_detail, name="detail"),
    path("orgs/<str:org_id>/issuers/<str:issuer_id>/edit", views.issuer_edit, name="edit"),
    path("orgs/<str:org_id>/issuers/<str:issuer_id>/image", views.issuer_image, name="image_upload"),
    path("orgs/<str:org_id>/issuers/<str:issuer_id>/rotate", views.issuer_rotate, name="rotate"),
]
