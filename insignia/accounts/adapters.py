"""allauth adapter for single sign-on: an IdP's email counts as verified only if the IdP says so."""

from __future__ import annotations

from typing import Any

from allauth.account.utils import user_email
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest

from insignia.accounts.sso import claim_is_true, saml_attribute_is_true


def _claims(extra_data: dict[str, Any]) -> dict[str, Any]:
    """The claims allauth's OpenID Connect provider reads: userinfo first, else the ID token."""
    return extra_data.get("userinfo") or extra_data.get("id_token") or extra_data


def _saml_email_verified(sociallogin: Any) -> bool:
    """The mapped ``email_verified`` attribute of the SAML assertion, read strictly (unmapped: not verified)."""
    names = sociallogin.provider.app.settings.get("attribute_mapping", {}).get("email_verified") or []
    attributes = sociallogin.account.extra_data or {}
    for name in [names] if isinstance(names, str) else names:
        if attributes.get(name):
            return saml_attribute_is_true(attributes[name])
    return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Strict about ``email_verified``: only ``true`` marks the IdP's email verified (``"false"`` does not)."""

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        super().pre_social_login(request, sociallogin)
        if sociallogin.provider.id == "openid_connect":
            claims = _claims(sociallogin.account.extra_data or {})
            verified = claim_is_true(claims.get("email_verified"))
            email = str(claims.get("email") or "").strip().lower()
        elif sociallogin.provider.id == "saml":
            verified = _saml_email_verified(sociallogin)
            email = str(user_email(sociallogin.user) or "").strip().lower()
        else:
            return
        for address in sociallogin.email_addresses:
            address.verified = verified and address.email.strip().lower() == email
