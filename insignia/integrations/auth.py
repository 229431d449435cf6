"""Bearer-token authentication for the API: ``Authorization: Bearer ins_<prefix>_<secret>`` → a TokenActor."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from insignia.core.errors import PermissionDenied
from insignia.core.models import ROLE_PERMISSIONS, Role
from insignia.core.tenancy import Actor
from insignia.integrations.models import ApiToken
from insignia.integrations.services import SCOPE_PERMISSIONS, TOKEN_PREFIX, hash_secret

#: ``last_used_at`` is written at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DUMMY_HASH = hash_secret("no-such-token")


class TokenRejected(AuthenticationError):
    """The Authorization header is missing, malformed, forged, revoked or expired."""

    def __init__(self, message: str = "Send an API token: Authorization: Bearer ins_<prefix>_<secret>.") -> None:
        super().__init__(401, message)


@dataclass(frozen=True)
class TokenActor(Actor):
    """An Actor whose permissions come from a token's scopes, not from a membership role."""

    permissions: frozenset[str] = frozenset()
    scopes: tuple[str, ...] = ()

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if not self.can(permission):
            have = ", ".join(self.scopes) or "none"
            raise PermissionDenied(
                f"This API token's scopes ({have}) do not allow this; it needs the permission {permission!r}.",
                code="insufficient_scope",
            )


def permissions_for_scopes(scopes: list[str]) -> frozenset[str]:
    """Each scope grants its permission; any scope grants ``view``. Tokens never get ``own``."""
    granted = {SCOPE_PERMISSIONS[s] for s in scopes if s in SCOPE_PERMISSIONS}
    return frozenset(granted | {"view"}) if granted else frozenset()


def role_for_permissions(permissions: frozenset[str]) -> str:
    """The least role covering the permissions (shown in messages and audit; checks use the permissions)."""
    for role in (Role.VIEWER, Role.ISSUER, Role.ADMIN):
        if permissions <= ROLE_PERMISSIONS[role]:
            return str(role)
    return str(Role.ADMIN)


def parse_token(raw: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` from ``ins_<prefix>_<secret>``, or None when it is not shaped like a token."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) > 16 or not prefix.isalnum() or len(secret) > 128 or not secret.isascii():
        return None
    return prefix, secret


def actor_for_token(raw: str) -> TokenActor:
    """Authenticate a token string; raises TokenRejected with a reason safe to show."""
    parsed = parse_token(raw)
    if parsed is None:
        raise TokenRejected("The API token is malformed; it looks like ins_<prefix>_<secret>.")
    prefix, secret = parsed
    token = ApiToken.objects.select_related("organisation").filter(prefix=prefix).first()
    presented = hash_secret(secret)
    if not hmac.compare_digest(presented, token.token_hash if token else _DUMMY_HASH) or token is None:
        raise TokenRejected("The API token is not valid.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRejected("The API token has been revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRejected("The API token has expired.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    permissions = permissions_for_scopes(list(token.scopes))
    return TokenActor(
        organisation=token.organisation,
        role=role_for_permissions(permissions),
        label=f"token:{token.name}",
        permissions=permissions,
        scopes=tuple(token.scopes),
    )


class BearerToken(HttpBearer):
    """django-ninja auth: sets ``request.auth`` to the token's TokenActor."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if not header:
            raise TokenRejected()
        if scheme.lower() != "bearer" or not value.strip():
            raise TokenRejected("Use the Bearer scheme: Authorization: Bearer ins_<prefix>_<secret>.")
        return self.authenticate(request, value.strip())

    def authenticate(self, request: HttpRequest, token: str) -> TokenActor:
        return actor_for_token(token)
