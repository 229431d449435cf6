"""Single sign-on configuration from the environment (OpenID Connect through django-allauth).

Either one provider with ``INSIGNIA_OIDC_SERVER_URL``, ``INSIGNIA_OIDC_CLIENT_ID``,
``INSIGNIA_OIDC_CLIENT_SECRET`` (and optionally ``INSIGNIA_OIDC_NAME``, ``INSIGNIA_OIDC_ID``), or several
with ``INSIGNIA_OIDC_PROVIDERS``: a JSON list of ``{"id", "name", "server_url", "client_id", "secret"}``.
The result is allauth's ``SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]``: apps live in settings,
no database rows are needed.

This module is imported by the settings, so it must not import Django models or allauth.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_ID = "sso"
DEFAULT_NAME = "single sign-on"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _app(entry: Mapping[str, Any], *, where: str, production: bool) -> dict[str, Any]:
    """One allauth app config from ``{"id", "name", "server_url", "client_id", "secret"}``."""
    unknown = set(entry) - {"id", "name", "server_url", "client_id", "secret"}
    if unknown:
        raise ImproperlyConfigured(f"{where}: unknown keys {sorted(unknown)}; use id, name, server_url, client_id "
                                   "and secret.")
    provider_id = str(entry.get("id") or DEFAULT_ID).strip().lower()
    if not _ID_RE.match(provider_id):
        raise ImproperlyConfigured(f"{where}: the id {provider_id!r} must be lower-case letters, digits, - or _ "
                                   "(it appears in the callback URL).")
    server_url = str(entry.get("server_url") or "").strip().rstrip("/")
    parts = urlsplit(server_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"{where}: server_url must be the issuer's absolute https URL "
                                   "(its /.well-known/openid-configuration is fetched from there).")
    if production and parts.scheme != "https" and not _is_loopback(parts.hostname):
        raise ImproperlyConfigured(f"{where}: in production server_url must use https.")
    client_id = str(entry.get("client_id") or "").strip()
    if not client_id:
        raise ImproperlyConfigured(f"{where}: client_id is required.")
    return {
        "provider_id": provider_id,
        "name": str(entry.get("name") or DEFAULT_NAME).strip(),
        "client_id": client_id,
        "secret": str(entry.get("secret") or ""),
        # Never treat the IdP's email as verified unless its ``email_verified`` claim says so.
        "settings": {"server_url": server_url, "verified_email": False},
    }


def oidc_apps(environ: Mapping[str, str], *, production: bool = False) -> list[dict[str, Any]]:
    """The OpenID Connect apps configured in ``environ`` (empty when SSO is off)."""
    listed = (environ.get("INSIGNIA_OIDC_PROVIDERS") or "").strip()
    single = (environ.get("INSIGNIA_OIDC_SERVER_URL") or "").strip()
    if listed and single:
        raise ImproperlyConfigured("Set INSIGNIA_OIDC_PROVIDERS or INSIGNIA_OIDC_SERVER_URL (one provider), "
                                   "not both.")
    if single:
        return [_app({"id": environ.get("INSIGNIA_OIDC_ID") or DEFAULT_ID,
                      "name": environ.get("INSIGNIA_OIDC_NAME") or DEFAULT_NAME,
                      "server_url": single,
                      "client_id": environ.get("INSIGNIA_OIDC_CLIENT_ID") or "",
                      "secret": environ.get("INSIGNIA_OIDC_CLIENT_SECRET") or ""},
                     where="INSIGNIA_OIDC_*", production=production)]
    if not listed:
        return []
    try:
        entries = json.loads(listed)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"INSIGNIA_OIDC_PROVIDERS is not valid JSON: {exc}") from None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ImproperlyConfigured("INSIGNIA_OIDC_PROVIDERS must be a JSON list of objects with id, name, "
                                   "server_url, client_id and secret.")
    apps = [_app(entry, where=f"INSIGNIA_OIDC_PROVIDERS[{index}]", production=production)
            for index, entry in enumerate(entries)]
    ids = [app["provider_id"] for app in apps]
    if len(set(ids)) != len(ids):
        raise ImproperlyConfigured("INSIGNIA_OIDC_PROVIDERS: each provider needs a different id.")
    return apps


def socialaccount_providers(apps: list[dict[str, Any]]) -> dict[str, Any]:
    """``SOCIALACCOUNT_PROVIDERS`` for the given OpenID Connect apps."""
    return {
        "openid_connect": {
            "APPS": apps,
            "OAUTH_PKCE_ENABLED": True,
            "VERIFIED_EMAIL": False,
            "EMAIL_AUTHENTICATION": False,
        },
    }


def claim_is_true(value: Any) -> bool:
    """An OIDC boolean claim: ``True`` (or the string ``"true"`` some IdPs send), nothing else."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


__all__ = ["claim_is_true", "oidc_apps", "socialaccount_providers"]
