"""The public ``/verify`` page: the verification matrix through the plain HTML form, and what it shows."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from insignia.awards.services import issue_award, revoke_award
from insignia.core.models import Role
from tests.credentials.world import did_key_credential, did_key_signer
from tests.platform.test_awards_support import make_badge, make_issuer
from tests.platform.verification_support import RECIPIENT, build_cases, page_answer, via_page

pytestmark = pytest.mark.django_db


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


def test_matrix_through_the_page(owner: Any, client: Client) -> None:
    problems = []
    for case in build_cases(owner):
        answer = via_page(client, case)
        if not answer.matches(case):
            problems.append(f"{case.name}: expected {case.verdict} {case.check}={case.status}/{case.code}; "
                            f"got {answer.verdict} {answer.checks} trust={answer.trust}")
    assert problems == []


def test_empty_page_needs_no_login_and_has_an_accessible_form(client: Client) -> None:
    response = client.get("/verify")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Verify a badge</h1>" in html
    assert 'enctype="multipart/form-data"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'for="id_file"' in html
    assert 'for="id_text"' in html
    assert 'for="id_recipient"' in html
    assert "data-drop-zone" in html
    assert "insignia/verify.js" in html
    assert "data-verdict" not in html
    assert "<script>" not in html  # no inline script (CSP)


def test_post_needs_the_csrf_token(award: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/verify", {"text": json.dumps(award.credential)}).status_code == 403


def test_a_badge_links_here_with_its_url(award: Any, client: Client) -> None:
    response = client.get("/verify?" + urlencode({"url": award.credential_id, "recipient": RECIPIENT}))
    assert response.status_code == 200
    answer = page_answer(response.content.decode())
    assert answer.verdict == "valid"
    assert answer.checks["recipient"] == ("passed", "recipient_match")
    html = response.content.decode()
    assert "Issuer known to this site" in html
    assert "Data Stewardship" in html
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"


def test_revoked_badge_page_says_so_in_words(owner: Any, award: Any, client: Client) -> None:
    revoke_award(actor=owner, award=award, reason="Awarded in error.")
    html = client.get("/verify?" + urlencode({"url": award.credential_id})).content.decode()
    assert "<h2 id=\"verdict-title\" class=\"verdict-word\">Invalid</h2>" in html
    assert 'data-check="status" data-status="failed" data-code="revoked"' in html
    assert "Failed<span class=\"visually-hidden\">:</span></span> Revocation and suspension" in html


def test_not_a_url_in_the_link_is_a_form_error(client: Client) -> None:
    response = client.get("/verify?url=javascript:alert(1)")
    assert response.status_code == 400
    assert "That is not a web address" in response.content.decode()


def test_missing_and_double_input_are_form_errors(client: Client, award: Any) -> None:
    empty = client.post("/verify", {"text": "", "recipient": ""})
    assert empty.status_code == 400
    assert "Choose a badge file" in empty.content.decode()
    both = client.post("/verify", {"text": "x", "file": SimpleUploadedFile("b.json", b"{}")})
    assert both.status_code == 400
    assert "not both" in both.content.decode()


def test_unknown_issuer_is_neither_an_error_nor_trusted(client: Client) -> None:
    credential = did_key_credential(did_key_signer(), recipient=RECIPIENT, now=__import__("datetime").datetime.now(
        __import__("datetime").UTC))
    html = client.post("/verify", {"text": json.dumps(credential)}).content.decode()
    answer = page_answer(html)
    assert (answer.verdict, answer.trust) == ("valid", "unknown")
    assert "Issuer not known to this site" in html
    assert "not an error, and not an endorsement either" in html


def test_foreign_content_is_escaped_and_images_are_safe(client: Client) -> None:
    signer = did_key_signer()
    from insignia.credentials import sign_credential

    credential = did_key_credential(signer, now=__import__("datetime").datetime.now(__import__("datetime").UTC))
    credential.pop("proof")
    achievement = credential["credentialSubject"]["achievement"]
    achievement["name"] = "<script>alert('x')</script>Hacker"
    achievement["image"] = {"id": "http://tracker.example/pixel.png", "type": "Image"}
    achievement["criteria"] = {"narrative": "<img src=x onerror=alert(1)>", "id": "javascript:alert(1)"}
    credential["evidence"] = [{"id": "javascript:alert(2)", "type": ["Evidence"], "name": "Bad link"},
                              {"id": "https://portfolio.example/work", "type": ["Evidence"], "name": "Good link"}]
    achievement["alignment"] = [{"type": ["Alignment"], "targetName": "Data literacy", "targetUrl":
                                 "https://skills.example/data", "targetFramework": "ESCO"}]
    credential["name"] = achievement["name"]
    signed = sign_credential(credential, signer)
    response = client.post("/verify", {"text": json.dumps(signed)})
    html = response.content.decode()
    assert page_answer(html).verdict == "valid"
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror" in html
    assert 'href="javascript:' not in html
    assert 'src="http://tracker.example' not in html  # plain-http images are not loaded…
    assert "http://tracker.example/pixel.png" in html  # …but their address is shown as text
    assert 'href="https://portfolio.example/work"' in html
    assert "Good link" in html
    assert 'href="https://skills.example/data"' in html
    assert "ESCO" in html


def test_data_uri_and_https_images_load_without_referrer() -> None:
    from insignia.verification.presenters import image

    assert image("data:image/png;base64,iVBORw0KGgo=") == "data:image/png;base64,iVBORw0KGgo="
    assert image("https://cdn.example/badge.png") == "https://cdn.example/badge.png"
    assert image("data:text/html;base64,PHNjcmlwdD4=") is None
    assert image("http://cdn.example/badge.png") is None
    assert image("javascript:alert(1)") is None
    assert image(["https://a.example/x.png"]) is None


def test_oversized_upload_is_a_friendly_413(client: Client, settings: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 4096
    response = client.post("/verify", {"file": SimpleUploadedFile("big.png", b"0" * 10_000)})
    assert response.status_code == 413
    assert "That file is too large" in response.content.decode()


def test_rate_limited_page_is_a_friendly_429(client: Client, settings: Any, award: Any) -> None:
    settings.VERIFY_RATE_LIMIT = "1/m"
    assert client.post("/verify", {"text": json.dumps(award.credential)}).status_code == 200
    limited = client.post("/verify", {"text": json.dumps(award.credential)})
    assert limited.status_code == 429
    assert "Too many checks from your address" in limited.content.decode()
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert client.get("/verify").status_code == 200  # the empty form is never limited
