"""The wallet under ``/wallet/`` (signed-in earners) and the public portfolio and collection pages under ``/p/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from insignia.backpack import views_wallet as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/awards/<str:award_id>", views.award, name="award"),
    path("wallet/awards/<str:award_id>/accept", views.award_accept, name="award_accept"),
    path("wallet/awards/<str:award_id>/decline", views.award_decline, name="award_decline"),
    path("wallet/awards/<str:award_id>/visibility", views.award_visibility, name="award_visibility"),
    path("wallet/awards/<str:award_id>/collect", views.award_add_to_collection, name="award_collect"),
    path("wallet/collections/", views.collections, name="collections"),
    path("wallet/collections/<str:collection_id>", views.collection, name="collection"),
    path("wallet/collections/<str:collection_id>/move", views.collection_move, name="collection_move"),
    path("wallet/collections/<str:collection_id>/delete", views.collection_delete, name="collection_delete"),
    path("wallet/collections/<str:collection_id>/add", views.collection_add, name="collection_add"),
    path("wallet/collections/<str:collection_id>/items/<str:item_id>/move", views.item_move, name="item_move"),
    path("wallet/collections/<str:collection_id>/items/<str:item_id>/remove", views.item_remove,
         name="item_remove"),
    path("wallet/identities/", views.identities, name="identities"),
    path("wallet/identities/<str:identity_id>/verify", views.identity_verify, name="identity_verify"),
    path("wallet/identities/<str:identity_id>/renew", views.identity_renew, name="identity_renew"),
    path("wallet/identities/<str:identity_id>/remove", views.identity_remove, name="identity_remove"),
    path("wallet/portfolio", views.profile, name="profile"),
    path("wallet/leave", views.leave, name="leave"),
    path("wallet/export.zip", views.export_zip, name="export"),
    path("p/<str:profile_id>", views.portfolio, name="portfolio"),
    path("p/<str:profile_id>/c/<str:collection_id>", views.shared_collection, name="shared_collection"),
]
