"""``POST /api/v1/verify``: the verification matrix over HTTP, and RFC 9457 problems for bad requests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from insignia.awards.services import issue_award
from insignia.core.models import Role
from tests.platform.test_awards_support import make_badge, make_issuer
from tests.platform.verification_support import RECIPIENT, build_cases, deep_json, via_api

pytestmark = pytest.mark.django_db
URL = "/api/v1/verify"


@pytest.fixture(autouse=True)
def _no_rate_limit(settings: Any) -> None:
    settings.VERIFY_RATE_LIMIT = "off"
    cache.clear()


@pytest.fixture
def owner(member: Any) -> Any:
    return member(Role.OWNER)


@pytest.fixture
def award(owner: Any) -> Any:
    return issue_award(actor=owner, badge=make_badge(owner, make_issuer(owner)), recipient=RECIPIENT)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"], body["instance"]) == (status, code, URL)
    assert body["type"] == f"urn:insignia:problem:{code}"
    assert body["detail"]
    return body


def test_matrix_through_the_api(owner: Any, client: Client) -> None:
    problems = []
    for case in build_cases(owner):
        answer = via_api(client, case)
        if not answer.matches(case):
            problems.append(f"{case.name}: expected {case.verdict} {case.check}={case.status}/{case.code}; "
                            f"got {answer.verdict} {answer.checks} trust={answer.trust}")
    assert problems == []


def test_answer_shape_is_exactly_the_documented_one(award: Any, client: Client) -> None:
    response = client.post(URL, {"credential": award.credential, "recipient": "ADA@example.org"},
                           content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"verdict", "checks", "credential", "trust"}
    assert body["verdict"] == "valid"
    assert all(set(c) == {"id", "status", "code", "message"} for c in body["checks"])
    assert [c["id"] for c in body["checks"]] == ["format", "schema", "proof", "issuer_key", "validity", "status",
                                                 "recipient", "endorsements"]
    assert body["credential"]["name"] == "Data Stewardship"
    assert body["credential"]["issuer_name"] == "Acme Academy"
    assert set(body["trust"]) == {"level", "issuer_known", "issuer_name", "issuer_profile", "domain", "message"}
    assert (body["trust"]["level"], body["trust"]["issuer_known"]) == ("known", True)


def test_jwt_string_and_multipart_file_and_url(award: Any, client: Client) -> None:
    from insignia.awards import credentials as documents

    jwt = client.post(URL, {"credential": documents.jwt_for(award)}, content_type="application/json").json()
    assert jwt["verdict"] == "valid"
    assert jwt["credential"]["format"] == "jwt"
    png = SimpleUploadedFile("badge.png", documents.baked(award, "png", "ob3"), content_type="image/png")
    baked = client.post(URL, {"file": png, "recipient": RECIPIENT}).json()
    assert baked["verdict"] == "valid"
    assert baked["credential"]["format"] == "png"
    assert {c["id"]: c["code"] for c in baked["checks"]}["recipient"] == "recipient_match"
    by_url = client.post(URL, {"url": award.credential_id}, content_type="application/json").json()
    assert by_url["verdict"] == "valid"


def test_no_login_needed_even_with_a_bad_token(award: Any, client: Client) -> None:
    response = client.post(URL, {"credential": award.credential}, content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 200
    assert response.json()["verdict"] == "valid"


@pytest.mark.parametrize(("body", "code"), [
    ("{}", "input_missing"),
    ('{"credential": null, "url": ""}', "input_missing"),
    ('{"credential": {"a": 1}, "url": "https://example.org/b"}', "input_ambiguous"),
    ('{"credential": 7}', "credential_invalid"),
    ('{"url": 7}', "url_invalid"),
    ('{"url": "javascript:alert(1)"}', "url_invalid"),
    ('{"credential": "x", "recipient": ["a"]}', "recipient_invalid"),
    ("[1, 2]", "malformed_body"),
    ("{not json", "malformed_body"),
    ("", "malformed_body"),
])
def test_malformed_requests_are_400_problems(client: Client, body: str, code: str) -> None:
    _problem(client.post(URL, body, content_type="application/json"), 400, code)


def test_multipart_without_a_file_is_a_problem(client: Client) -> None:
    _problem(client.post(URL, {"recipient": RECIPIENT}), 400, "input_missing")


def test_other_content_types_are_415(client: Client) -> None:
    _problem(client.post(URL, "<xml/>", content_type="application/xml"), 415, "unsupported_media_type")


def test_oversized_upload_and_body_are_413(client: Client, settings: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 4096
    big = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10_000, content_type="image/png")
    _problem(client.post(URL, {"file": big}), 413, "input_too_large")
    gigantic = json.dumps({"credential": {"name": "x" * 200_000}})
    _problem(client.post(URL, gigantic, content_type="application/json"), 413, "input_too_large")
    just_over = json.dumps({"credential": {"name": "x" * 5000}})  # inside the envelope allowance, over the cap
    _problem(client.post(URL, just_over, content_type="application/json"), 413, "input_too_large")


def test_deeply_nested_json_ld_is_an_invalid_report_not_a_crash(client: Client) -> None:
    response = client.post(URL, '{"credential": ' + deep_json(100_000) + "}", content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "invalid"
    assert body["checks"][0] == {**body["checks"][0], "id": "format", "status": "failed", "code": "json_too_deep"}


def test_rate_limit_is_a_429_problem_with_retry_after(client: Client, settings: Any, award: Any) -> None:
    settings.VERIFY_RATE_LIMIT = "2/m"
    for _ in range(2):
        assert client.post(URL, {"credential": award.credential}, content_type="application/json").status_code == 200
    limited = client.post(URL, {"credential": award.credential}, content_type="application/json")
    _problem(limited, 429, "rate_limited")
    assert 1 <= int(limited["Retry-After"]) <= 60
    other = Client(REMOTE_ADDR="192.0.2.7")  # another address has its own budget
    assert other.post(URL, {"credential": award.credential}, content_type="application/json").status_code == 200


def test_rate_limit_behind_a_proxy_uses_the_last_forwarded_hop(client: Client, settings: Any) -> None:
    settings.VERIFY_RATE_LIMIT = "1/h"
    settings.BEHIND_PROXY = True
    first = client.post(URL, "{}", content_type="application/json", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1")
    assert first.status_code == 400  # counted, then refused for having no input
    spoofed = client.post(URL, "{}", content_type="application/json", HTTP_X_FORWARDED_FOR="7.7.7.7, 198.51.100.1")
    _problem(spoofed, 429, "rate_limited")  # the client-chosen first hop does not buy a fresh budget
    fresh = client.post(URL, "{}", content_type="application/json", HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert fresh.status_code == 400


def test_bad_rate_setting_is_reported_clearly(settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from insignia.verification.ratelimit import Limit, parse_rate

    assert parse_rate("30/m") == Limit(30, 60)
    assert parse_rate("100/5m") == Limit(100, 300)
    assert parse_rate("off") is None
    with pytest.raises(ImproperlyConfigured, match="INSIGNIA_VERIFY_RATE_LIMIT"):
        parse_rate("lots")


def test_openapi_documents_the_endpoint(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/verify"]["post"]
    assert "security" not in operation or operation["security"] in ([], [{}])
