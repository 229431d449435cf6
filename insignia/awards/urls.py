"""Award URLs: public documents under ``/c/<award>``, ``/status/<list>`` and the issuer's OB 2.0 revocation
list; management pages under ``/orgs/<org>/awards/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insignia.awards import views

app_name = "awards"

urlpatterns: list[URLPattern | URLResolver] = [
    # Public, standard endpoints (no login; ids are random).
    path("c/<str:public_id>", views.award_page, name="public"),
    path("c/<str:public_id>/credential.json", views.credential_json, name="credential_json"),
    path("c/<str:public_id>/credential.jwt", views.credential_jwt, name="credential_jwt"),
    path("c/<str:public_id>/assertion", views.assertion, name="assertion"),
    path("c/<str:public_id>/assertion.jws", views.assertion_jws, name="assertion_jws"),
    path("c/<str:public_id>/badge.png", views.baked_png, name="baked_png"),
    path("c/<str:public_id>/badge.svg", views.baked_svg, name="baked_svg"),
    path("c/<str:public_id>/badge-ob2.png", views.baked_ob2_png, name="baked_ob2_png"),
    path("c/<str:public_id>/badge-ob2.svg", views.baked_ob2_svg, name="baked_ob2_svg"),
    path("c/<str:public_id>/evidence/<str:file_id>", views.evidence_file, name="evidence_file"),
    # Sharing and downloads for people (declined awards: 404; hidden awards: only what the rules allow).
    path("c/<str:public_id>/share.png", views.share_image_png, name="share_image"),
    path("c/<str:public_id>/embed", views.embed, name="embed"),
    path("c/<str:public_id>/status.svg", views.status_svg, name="status_svg"),
    path("c/<str:public_id>/qr.svg", views.qr_svg, name="qr_svg"),
    path("c/<str:public_id>/qr.png", views.qr_png, name="qr_png"),
    path("c/<str:public_id>/share/<slug:channel>", views.share, name="share"),
    path("c/<str:public_id>/certificate.pdf", views.certificate_pdf, name="certificate"),
    path("oembed", views.oembed, name="oembed"),
    path("status/<str:public_id>", views.status_list, name="status_list"),
    path("i/<str:public_id>/ob2/revocations", views.ob2_revocations, name="ob2_revocations"),
    # Management (members of the organisation).
    path("orgs/<str:org_id>/awards/", views.award_list, name="list"),
    path("orgs/<str:org_id>/awards/new", views.award_new, name="new"),
    path("orgs/<str:org_id>/badges/<str:badge_id>/issue", views.award_issue, name="issue"),
    path("orgs/<str:org_id>/awards/<str:award_id>/", views.award_detail, name="detail"),
    path("orgs/<str:org_id>/awards/<str:award_id>/revoke", views.award_revoke, name="revoke"),
    path("orgs/<str:org_id>/awards/<str:award_id>/suspend", views.award_suspend, name="suspend"),
    path("orgs/<str:org_id>/awards/<str:award_id>/unsuspend", views.award_unsuspend, name="unsuspend"),
]
