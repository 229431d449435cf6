"""The API's infrastructure: OpenAPI, token authentication, scopes, problem responses, pagination."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from insignia.core.models import AuditEvent, Role
from insignia.integrations.models import ApiToken
from tests.platform.api_support import API, ApiClient, assert_problem, client_for, token_for

pytestmark = pytest.mark.django_db


def test_openapi_document_is_served_and_describes_every_endpoint(client) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["info"] == {"title": "Insignia API", "version": "1", "description": document["info"]["description"]}
    assert document["openapi"].startswith("3.")
    for path in ("/issuers", "/issuers/{issuer_id}", "/issuers/{issuer_id}/rotate-keys", "/badges",
                 "/badges/{badge_id}", "/awards", "/awards/{award_id}", "/awards/{award_id}/revoke",
                 "/awards/{award_id}/suspend", "/awards/{award_id}/unsuspend", "/audit", "/tokens",
                 "/tokens/{token_id}/revoke", "/webhooks", "/webhooks/{webhook_id}",
                 "/webhooks/{webhook_id}/deliveries"):
        assert f"{API}{path}" in document["paths"], path
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    assert client.get(f"{API}/docs").status_code == 200


def test_a_valid_token_acts_in_its_organisation(member) -> None:
    owner = member(Role.OWNER)
    api = client_for(owner, ["read"])
    response = api.get("/issuers")
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 0, "limit": 50, "offset": 0, "next": None}


@pytest.mark.parametrize("header", [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNz",
    "Token ins_abc_def",
    "Bearer not-a-token",
    "Bearer ins_",
    "Bearer ins__secret",
    "Bearer ins_abc_",
    "Bearer xyz_abcdef012345_secret",
    "Bearer ins_" + "a" * 40 + "_secret",
    "Bearer ins_abcdef012345_" + "s" * 500,
    "Bearer ins_abcdef012345_sécret",
], ids=lambda h: repr(h)[:30])
def test_missing_and_malformed_tokens_are_401_problems(client, header) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.get(f"{API}/issuers", headers=headers)
    body = assert_problem(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Traceback" not in body["detail"]


def test_a_forged_secret_is_401(member) -> None:
    owner = member(Role.OWNER)
    real = token_for(owner, ["read"])
    prefix = real.split("_")[1]
    for forged in (f"ins_{prefix}_{'x' * 43}", real[:-1] + ("A" if real[-1] != "A" else "B"), "ins_000000000000_abc"):
        body = assert_problem(ApiClient(forged).get("/issuers"), 401, "unauthenticated")
        assert body["detail"] == "The API token is not valid."


def test_a_revoked_token_is_401(member) -> None:
    owner = member(Role.OWNER)
    token = token_for(owner, ["read", "manage"])
    api = ApiClient(token)
    assert api.get("/issuers").status_code == 200
    token_id = ApiToken.objects.get(prefix=token.split("_")[1]).public_id
    assert api.post(f"/tokens/{token_id}/revoke").status_code == 200
    body = assert_problem(api.get("/issuers"), 401)
    assert "revoked" in body["detail"]


def test_an_expired_token_is_401(member) -> None:
    owner = member(Role.OWNER)
    token = token_for(owner, ["read"])
    ApiToken.objects.filter(prefix=token.split("_")[1]).update(expires_at=timezone.now() - timedelta(seconds=1))
    body = assert_problem(ApiClient(token).get("/issuers"), 401)
    assert "expired" in body["detail"]


def test_last_used_is_recorded_at_most_once_a_minute(member) -> None:
    owner = member(Role.OWNER)
    token = token_for(owner, ["read"])
    row = ApiToken.objects.get(prefix=token.split("_")[1])
    assert row.last_used_at is None
    api = ApiClient(token)
    api.get("/issuers")
    row.refresh_from_db()
    first = row.last_used_at
    assert first is not None
    api.get("/issuers")
    row.refresh_from_db()
    assert row.last_used_at == first
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/issuers")
    row.refresh_from_db()
    assert row.last_used_at > first - timedelta(minutes=2)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/issuers", {"name": "X", "url": "https://x.example", "email": "x@x.example"}),
    ("POST", "/tokens", {"name": "t", "scopes": ["read"]}),
    ("POST", "/webhooks", {"url": "https://hooks.example.org/in", "events": ["award.issued"]}),
    ("GET", "/audit", None),
    ("GET", "/tokens", None),
    ("GET", "/webhooks", None),
])
def test_a_read_only_token_cannot_manage(member, method, path, body) -> None:
    api = client_for(member(Role.OWNER), ["read"])
    response = api.get(path) if method == "GET" else api.send(method, path, body)
    problem = assert_problem(response, 403, "insufficient_scope")
    assert "read" in problem["detail"]


def test_scopes_map_to_permissions_exactly(member) -> None:
    owner = member(Role.OWNER)
    issuing = client_for(owner, ["issue"])
    assert_problem(issuing.post("/issuers", {"name": "X", "url": "https://x.example", "email": "x@x.example"}), 403)
    assert issuing.get("/issuers").status_code == 200  # every scope may read
    manager = client_for(owner, ["manage"])
    assert manager.post("/issuers", {"name": "X", "url": "https://x.example", "email": "x@x.example"}
                        ).status_code == 201
    # a token cannot mint a token more powerful than itself
    assert_problem(manager.post("/tokens", {"name": "escalate", "scopes": ["issue"]}), 403)
    assert manager.post("/tokens", {"name": "same", "scopes": ["manage"]}).status_code == 201


def test_people_without_manage_cannot_create_tokens(member) -> None:
    from insignia.core.errors import PermissionDenied

    issuer_member = member(Role.ISSUER)
    with pytest.raises(PermissionDenied):
        token_for(issuer_member, ["read"])


def test_token_actions_are_audited_under_the_token_name(member) -> None:
    owner = member(Role.OWNER)
    api = ApiClient(token_for(owner, ["manage"], name="ci-bot"))
    api.post("/issuers", {"name": "Audited", "url": "https://a.example", "email": "a@a.example"})
    event = AuditEvent.objects.get(verb="issuer.created", organisation=owner.organisation)
    assert event.actor_label == "token:ci-bot"
    assert event.actor is None


def test_malformed_json_is_a_400_problem(member) -> None:
    api = client_for(member(Role.OWNER))
    for raw in ("{", "not json", '{"name": "x",}', "\x00\xff"):
        assert_problem(api.post("/issuers", raw=raw), 400, "malformed_body")


def test_invalid_fields_are_a_422_problem_naming_them(member) -> None:
    api = client_for(member(Role.OWNER))
    body = assert_problem(api.post("/issuers", {"name": 5, "url": ["x"]}), 422, "validation_failed")
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "url", "email"} <= fields
    assert all(e["message"] for e in body["errors"])
    assert_problem(api.get("/awards", {"status": "bogus"}), 422, "validation_failed")
    assert_problem(api.post("/issuers", []), 422)


def test_a_service_error_keeps_its_code_and_field(member) -> None:
    api = client_for(member(Role.OWNER))
    body = assert_problem(api.post("/issuers", {"name": "X", "url": "ftp://x", "email": "x@x.example"}), 400)
    assert body["field"] == "url"
    assert body["type"] == f"urn:insignia:problem:{body['code']}"
    assert body["instance"] == f"{API}/issuers"


def test_an_unexpected_error_is_a_500_problem_without_internals(member, monkeypatch) -> None:
    from insignia.issuers import queries

    def boom(actor):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(queries, "issuers_for", boom)
    response = client_for(member(Role.OWNER)).get("/issuers")
    body = assert_problem(response, 500, "internal_error")
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    assert body["title"] == "Internal server error"


def test_pagination(member, settings) -> None:
    owner = member(Role.OWNER)
    api = client_for(owner, ["manage"])
    for n in range(4):
        token_for(owner, ["read"], name=f"extra-{n}")
    first = api.get("/tokens", {"limit": 2}).json()
    assert first["count"] == 5
    assert (first["limit"], first["offset"], len(first["items"])) == (2, 0, 2)
    assert first["next"] == f"{settings.BASE_URL}{API}/tokens?limit=2&offset=2"
    second = api.get("/tokens", {"limit": 2, "offset": 2}).json()
    last = api.get("/tokens", {"limit": 2, "offset": 4}).json()
    assert len(last["items"]) == 1
    assert last["next"] is None
    ids = [t["id"] for page in (first, second, last) for t in page["items"]]
    assert len(set(ids)) == 5
    assert api.get("/tokens", {"offset": 50}).json()["items"] == []
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "x"}):
        assert_problem(api.get("/tokens", bad), 422)


def test_tokens_are_shown_once_and_stored_hashed(member) -> None:
    owner = member(Role.OWNER)
    api = client_for(owner)
    created = api.post("/tokens", {"name": "deploy", "scopes": ["read", "issue"]})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith(f"ins_{created.json()['prefix']}_")
    row = ApiToken.objects.get(public_id=created.json()["id"])
    assert token.split("_", 2)[2] not in (row.token_hash, row.prefix, row.name)
    listed = api.get("/tokens").json()
    assert all("token" not in item for item in listed["items"])
    assert token not in json.dumps(listed)
    assert api.get(f"/tokens/{row.public_id}").json()["scopes"] == ["read", "issue"]
    assert_problem(api.post("/tokens", {"name": "bad", "scopes": ["root"]}), 422)
    assert_problem(api.post("/tokens", {"name": "none", "scopes": []}), 422)
    assert ApiClient(token).get("/awards").status_code == 200
