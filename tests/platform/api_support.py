"""Helpers for API tests: tokens for an actor, a JSON client that sends them, objects to act on."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from insignia.core.tenancy import Actor
from insignia.integrations.services import create_api_token

API = "/api/v1"


class ApiClient:
    """A Django test client speaking JSON with ``Authorization: Bearer <token>``."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return headers | (extra or {})

    def get(self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(f"{API}{path}", params or {}, headers=self._headers(headers))

    def send(self, method: str, path: str, body: Any = None, *, raw: str | None = None,
             headers: dict[str, str] | None = None) -> Any:
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        call = getattr(self.client, method.lower())
        return call(f"{API}{path}", data=data, content_type="application/json", headers=self._headers(headers))

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.send("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.send("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.send("DELETE", path, **kw)


def token_for(actor: Actor, scopes: list[str], name: str = "test") -> str:
    """A fresh token of the actor's organisation with these scopes (the actor must hold them)."""
    _, plaintext = create_api_token(actor=actor, name=name, scopes=scopes)
    return plaintext


def client_for(actor: Actor, scopes: list[str] | None = None) -> ApiClient:
    return ApiClient(token_for(actor, scopes or ["read", "issue", "design", "manage"]))


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and code); returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail", "code"):
        assert body[member], body
    if code is not None:
        assert body["code"] == code, body
    return body


def make_issuer(actor: Actor, name: str = "Acme Academy") -> Any:
    from insignia.issuers.services import create_issuer

    return create_issuer(actor=actor, name=name, url="https://acme.example.org", email="badges@acme.example.org")


def make_badge(actor: Actor, issuer: Any = None, *, name: str = "Python Basics", status: str = "published") -> Any:
    """A badge class row (directly: the badge services are not what these tests are about)."""
    from insignia.badges.models import BadgeClass

    issuer = issuer or make_issuer(actor)
    return BadgeClass.objects.create(organisation=actor.organisation, issuer=issuer, name=name,
                                     description="Writes small Python programs.",
                                     criteria_narrative="Pass the test.", status=status)


def make_award(actor: Actor, badge: Any = None, recipient: str = "ada@example.org") -> Any:
    from insignia.awards.services import issue_award

    return issue_award(actor=actor, badge=badge or make_badge(actor), recipient=recipient, recipient_name="Ada")
