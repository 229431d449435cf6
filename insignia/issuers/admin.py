"""Django admin for issuers: read-mostly. Issuers and keys are created and changed through the services
(which generate and encrypt keys and write the audit log), so the admin shows them and changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from insignia.issuers.models import Issuer, SigningKey


class ReadOnlyAdminMixin:
    """Viewing only: no adding, changing or deleting from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SigningKeyInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SigningKey
    fields = ("fragment", "algorithm", "public_id", "created_at", "retired_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Issuer)
class IssuerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "organisation", "email", "public_id", "created_at")
    list_select_related = ("organisation",)
    list_filter = ("organisation",)
    search_fields = ("name", "email", "public_id", "organisation__name")
    readonly_fields = ("organisation", "public_id", "name", "url", "email", "description", "image",
                       "created_at", "updated_at")
    inlines = [SigningKeyInline]


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("fragment", "issuer", "algorithm", "created_at", "retired_at")
    list_select_related = ("issuer",)
    list_filter = ("algorithm",)
    search_fields = ("fragment", "public_id", "issuer__name")
    #: The encrypted private key is never shown.
    fields = ("issuer", "public_id", "algorithm", "fragment", "public_jwk", "public_multibase", "public_pem",
              "created_at", "retired_at")
    readonly_fields = fields
