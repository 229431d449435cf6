"""`insignia token create` gives a working API token for the organisation, shown once."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from insignia.cli import main


@pytest.mark.django_db
def test_token_create_prints_a_token_the_api_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "create", "--name", "deploy", "--scopes", "read", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scopes"] == ["read"]
    assert data["token"].startswith("ins_")
    client = Client()
    assert client.get("/api/v1/issuers", HTTP_AUTHORIZATION=f"Bearer {data['token']}").status_code == 200
    assert client.get("/api/v1/issuers", HTTP_AUTHORIZATION="Bearer ins_000000000000_forged").status_code == 401
    refused = client.post("/api/v1/issuers", data={"name": "X", "url": "https://x.example", "email": "a@x.example"},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {data['token']}")
    assert refused.status_code == 403
