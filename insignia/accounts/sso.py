"""Single sign-on configuration from the environment (OpenID Connect and SAML through django-allauth).

OpenID Connect: either one provider with ``INSIGNIA_OIDC_SERVER_URL``, ``INSIGNIA_OIDC_CLIENT_ID``,
``INSIGNIA_OIDC_CLIENT_SECRET`` (and optionally ``INSIGNIA_OIDC_NAME``, ``INSIGNIA_OIDC_ID``), or several
with ``INSIGNIA_OIDC_PROVIDERS``: a JSON list of ``{"id", "name", "server_url", "client_id", "secret"}``.

SAML 2.0 (needs the ``saml`` extra: python3-saml and xmlsec): either one identity provider with
``INSIGNIA_SAML_ENTITY_ID`` and ``INSIGNIA_SAML_METADATA_URL`` (or ``INSIGNIA_SAML_SSO_URL`` +
``INSIGNIA_SAML_X509_CERT``), optionally ``INSIGNIA_SAML_ID``, ``INSIGNIA_SAML_NAME`` and the attribute names
``INSIGNIA_SAML_UID_ATTRIBUTE``, ``INSIGNIA_SAML_EMAIL_ATTRIBUTE``, ``INSIGNIA_SAML_EMAIL_VERIFIED_ATTRIBUTE``;
or several with ``INSIGNIA_SAML_PROVIDERS``: a JSON list of ``{"id", "name", "entity_id", "metadata_url",
"sso_url", "x509cert", "attributes": {"uid", "email", "email_verified"}}``.

The result is allauth's ``SOCIALACCOUNT_PROVIDERS``: apps live in settings, no database rows are needed.

This module is imported by the settings, so it must not import Django models or allauth.
"""

from __future__ import annotations

import base64
import binascii
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


# -- SAML 2.0 ----------------------------------------------------------------------------------------------------

SAML_APP = "allauth.socialaccount.providers.saml"
# Where common IdPs put the email address (LDAP ``mail`` and the Microsoft claim); used unless configured.
DEFAULT_SAML_EMAIL_ATTRIBUTES = [
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
]
_SAML_KEYS = {"id", "name", "entity_id", "metadata_url", "sso_url", "x509cert", "attributes"}
_SAML_ATTRIBUTE_KEYS = {"uid", "email", "email_verified"}


def _https_url(value: Any, *, where: str, what: str, production: bool) -> str:
    url = str(value or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"{where}: {what} must be an absolute https URL.")
    if production and parts.scheme != "https" and not _is_loopback(parts.hostname):
        raise ImproperlyConfigured(f"{where}: in production {what} must use https.")
    return url


def _certificate(value: Any, *, where: str) -> str:
    """The IdP's signing certificate as bare base64 DER (PEM with or without its armour lines is accepted)."""
    from cryptography import x509

    text = str(value or "").replace("\\n", "\n")
    body = "".join(line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("-----"))
    body = "".join(body.split())
    try:
        x509.load_der_x509_certificate(base64.b64decode(body, validate=True))
    except (ValueError, binascii.Error):
        raise ImproperlyConfigured(f"{where}: x509cert must be the identity provider's signing certificate "
                                   "(PEM, or its base64 body).") from None
    return body


def _attribute_names(value: Any, *, where: str, key: str) -> list[str]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(name, str) and name.strip() for name in names):
        raise ImproperlyConfigured(f"{where}: attributes.{key} must be an attribute name or a list of names.")
    return [name.strip() for name in names]


def _saml_app(entry: Mapping[str, Any], *, where: str, production: bool, base_url: str) -> dict[str, Any]:
    """One allauth SAML app from ``{"id", "name", "entity_id", "metadata_url" | "sso_url" + "x509cert",
    "attributes"}``."""
    unknown = set(entry) - _SAML_KEYS
    if unknown:
        raise ImproperlyConfigured(f"{where}: unknown keys {sorted(unknown)}; use {', '.join(sorted(_SAML_KEYS))}.")
    slug = str(entry.get("id") or DEFAULT_ID).strip().lower()
    if not _ID_RE.match(slug):
        raise ImproperlyConfigured(f"{where}: the id {slug!r} must be lower-case letters, digits, - or _ "
                                   "(it appears in the SAML URLs).")
    entity_id = str(entry.get("entity_id") or "").strip()
    if not entity_id or len(entity_id) > 200:
        raise ImproperlyConfigured(f"{where}: entity_id (the identity provider's entity ID, at most 200 characters) "
                                   "is required.")
    metadata_url = str(entry.get("metadata_url") or "").strip()
    sso_url = str(entry.get("sso_url") or "").strip()
    if bool(metadata_url) == bool(sso_url):
        raise ImproperlyConfigured(f"{where}: give exactly one of metadata_url (the IdP's metadata) and sso_url "
                                   "(with x509cert).")
    if metadata_url:
        if entry.get("x509cert"):
            raise ImproperlyConfigured(f"{where}: x509cert comes from the metadata when metadata_url is set.")
        idp = {"entity_id": entity_id,
               "metadata_url": _https_url(metadata_url, where=where, what="metadata_url", production=production)}
    else:
        if not entry.get("x509cert"):
            raise ImproperlyConfigured(f"{where}: with sso_url, x509cert (the IdP's signing certificate) is required.")
        idp = {"entity_id": entity_id, "sso_url": _https_url(sso_url, where=where, what="sso_url",
                                                              production=production),
               "x509cert": _certificate(entry["x509cert"], where=where)}
    attributes = entry.get("attributes") or {}
    if not isinstance(attributes, Mapping) or set(attributes) - _SAML_ATTRIBUTE_KEYS:
        raise ImproperlyConfigured(f"{where}: attributes must be an object with uid, email and/or email_verified.")
    # Without a uid attribute allauth falls back to the NameID; without email_verified nothing is verified.
    mapping = {"email": DEFAULT_SAML_EMAIL_ATTRIBUTES}
    for key, value in attributes.items():
        if value:
            mapping[key] = _attribute_names(value, where=where, key=key)
    return {
        "provider_id": entity_id,
        "name": str(entry.get("name") or DEFAULT_NAME).strip(),
        "client_id": slug,
        "settings": {
            "idp": idp,
            "attribute_mapping": mapping,
            # A stable SP entity ID (the audience the IdP must name), whatever Host the request came in on.
            "sp": {"entity_id": f"{base_url.rstrip('/')}/accounts/saml/{slug}/metadata/"},
            "advanced": {"strict": True, "reject_idp_initiated_sso": True},
        },
    }


def saml_apps(environ: Mapping[str, str], *, production: bool = False,
              base_url: str = "http://127.0.0.1:8000") -> list[dict[str, Any]]:
    """The SAML apps configured in ``environ`` (empty when SAML is off)."""
    listed = (environ.get("INSIGNIA_SAML_PROVIDERS") or "").strip()
    single = {key: (environ.get(f"INSIGNIA_SAML_{name}") or "").strip() for key, name in (
        ("entity_id", "ENTITY_ID"), ("metadata_url", "METADATA_URL"), ("sso_url", "SSO_URL"),
        ("x509cert", "X509_CERT"))}
    if listed and any(single.values()):
        raise ImproperlyConfigured("Set INSIGNIA_SAML_PROVIDERS or INSIGNIA_SAML_ENTITY_ID (one identity provider), "
                                   "not both.")
    if any(single.values()):
        attributes = {key: environ.get(f"INSIGNIA_SAML_{key.upper()}_ATTRIBUTE") or ""
                      for key in ("uid", "email", "email_verified")}
        entry = {**single, "id": environ.get("INSIGNIA_SAML_ID") or DEFAULT_ID,
                 "name": environ.get("INSIGNIA_SAML_NAME") or DEFAULT_NAME, "attributes": attributes}
        apps = [_saml_app(entry, where="INSIGNIA_SAML_*", production=production, base_url=base_url)]
    elif listed:
        try:
            entries = json.loads(listed)
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"INSIGNIA_SAML_PROVIDERS is not valid JSON: {exc}") from None
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise ImproperlyConfigured("INSIGNIA_SAML_PROVIDERS must be a JSON list of objects with id, name, "
                                       "entity_id, metadata_url (or sso_url and x509cert) and attributes.")
        apps = [_saml_app(entry, where=f"INSIGNIA_SAML_PROVIDERS[{index}]", production=production, base_url=base_url)
                for index, entry in enumerate(entries)]
        for key, what in (("client_id", "id"), ("provider_id", "entity_id")):
            values = [app[key] for app in apps]
            if len(set(values)) != len(values):
                raise ImproperlyConfigured(f"INSIGNIA_SAML_PROVIDERS: each identity provider needs a different {what}.")
    else:
        return []
    _require_saml_libraries()
    return apps


def _require_saml_libraries() -> None:
    """Refuse to start when SAML is configured but python3-saml/xmlsec are missing or broken."""
    try:
        import onelogin.saml2.auth  # noqa: F401
        import xmlsec  # noqa: F401
    except Exception as exc:  # ImportError, or xmlsec's libxml2 version check against lxml
        raise ImproperlyConfigured(
            "SAML single sign-on is configured (INSIGNIA_SAML_*) but its libraries cannot be loaded "
            f"({type(exc).__name__}: {exc}). Install the extra: pip install 'insignia[saml]'.") from None


def socialaccount_providers(apps: list[dict[str, Any]], saml: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``SOCIALACCOUNT_PROVIDERS`` for the given OpenID Connect apps and SAML apps."""
    providers: dict[str, Any] = {
        "openid_connect": {
            "APPS": apps,
            "OAUTH_PKCE_ENABLED": True,
            "VERIFIED_EMAIL": False,
            "EMAIL_AUTHENTICATION": False,
        },
    }
    if saml:
        clash = {app["provider_id"] for app in apps} & {app["provider_id"] for app in saml}
        if clash:
            raise ImproperlyConfigured(f"A SAML entity ID equals an OpenID Connect provider id ({sorted(clash)}); "
                                       "rename the OpenID Connect provider (INSIGNIA_OIDC_ID or its id).")
        providers["saml"] = {"APPS": saml, "VERIFIED_EMAIL": False, "EMAIL_AUTHENTICATION": False}
    return providers


def claim_is_true(value: Any) -> bool:
    """An OIDC boolean claim: ``True`` (or the string ``"true"`` some IdPs send), nothing else."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def saml_attribute_is_true(values: Any) -> bool:
    """A SAML boolean attribute (first value): xs:boolean's ``true`` or ``1``, nothing else."""
    value = values[0] if isinstance(values, list) and values else values
    return isinstance(value, str) and value.strip().lower() in ("true", "1")


__all__ = ["SAML_APP", "claim_is_true", "oidc_apps", "saml_apps", "saml_attribute_is_true", "socialaccount_providers"]
