"""The public verifier in Chromium: drop a baked PNG, read the verdict; invalid and revoked reports too.

Screenshots of the valid, invalid and revoked reports at 1280 and 390 px go to the screenshot directory
(outside the repository); every page passes the accessibility check at both widths.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from insignia.awards import credentials as documents
from insignia.awards.services import issue_award, revoke_award
from insignia.core.models import Membership, Organisation, Role
from insignia.core.tenancy import Actor
from tests.platform.test_awards_support import make_badge, make_issuer

PHONE = 390


@pytest.fixture
def world(live_server: Any, settings: Any, django_user_model: Any) -> dict[str, Any]:
    settings.BASE_URL = live_server.url  # badge images and links point at the server the browser talks to
    settings.VERIFY_RATE_LIMIT = "off"
    organisation = Organisation.objects.create(name="Acme Academy", slug="acme-academy")
    user = django_user_model.objects.create_user(email="owner@example.org", password="correct horse battery")
    Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
    owner = Actor(organisation=organisation, role=Role.OWNER, user=user)
    badge = make_badge(owner, make_issuer(owner))
    return {"owner": owner, "badge": badge,
            "award": issue_award(actor=owner, badge=badge, recipient="ada@example.org")}


def _verdict(page: Any) -> str:
    page.wait_for_selector("[data-verdict]")
    return page.locator("#verdict-title").inner_text()


def test_drop_a_baked_png_and_read_the_verdict(page: Any, world: dict[str, Any], tmp_path: Path, screenshot: Any,
                                               a11y: Any) -> None:
    page.goto("/verify")
    assert page.locator("h1").inner_text() == "Verify a badge"
    a11y((1280, PHONE))
    png = tmp_path / "badge.png"
    png.write_bytes(documents.baked(world["award"], "png", "ob3"))
    with page.expect_navigation():
        page.locator("[data-drop-zone] input[type=file]").set_input_files(str(png))  # choosing submits at once
    assert _verdict(page) == "Valid"
    assert page.locator("[data-trust]").get_attribute("data-trust") == "known"
    assert page.locator('[data-check="proof"]').get_attribute("data-status") == "passed"
    assert page.locator("#badge-title").inner_text() == "Data Stewardship"
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "verdict"
    image = page.locator(".verify-badge-image")
    assert image.get_attribute("referrerpolicy") == "no-referrer"
    # The image loads after the navigation event: wait for it (times out, and fails, if it never decodes).
    page.wait_for_function("() => { const img = document.querySelector('.verify-badge-image');"
                           " return img && img.complete && img.naturalWidth > 0; }")
    assert page.evaluate("() => document.querySelector('.verify-badge-image').naturalWidth") > 0
    a11y((1280, PHONE))
    screenshot("verifier/valid", widths=(1280, PHONE))
    assert page.console_errors == [], page.console_errors


def test_drop_event_with_a_tampered_credential_is_invalid(page: Any, world: dict[str, Any], screenshot: Any,
                                                          a11y: Any) -> None:
    tampered = dict(world["award"].credential, name="Brain Surgery")
    page.goto("/verify")
    with page.expect_navigation():
        page.evaluate("""(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], 'tampered.json', {type: 'application/json'}));
            const zone = document.querySelector('[data-drop-zone]');
            zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: data, bubbles: true, cancelable: true}));
            zone.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
        }""", json.dumps(tampered))
    assert _verdict(page) == "Invalid"
    proof = page.locator('[data-check="proof"]')
    assert (proof.get_attribute("data-status"), proof.get_attribute("data-code")) == ("failed", "signature_invalid")
    assert "Failed" in (proof.text_content() or "")
    a11y((1280, PHONE))
    screenshot("verifier/invalid", widths=(1280, PHONE))
    assert page.console_errors == [], page.console_errors


def test_revoked_badge_from_its_own_link(page: Any, world: dict[str, Any], screenshot: Any, a11y: Any) -> None:
    award = world["award"]
    revoke_award(actor=world["owner"], award=award, reason="Awarded in error.")
    page.goto("/verify?" + urlencode({"url": award.credential_id, "recipient": "eve@example.org"}))
    assert _verdict(page) == "Invalid"
    status = page.locator('[data-check="status"]')
    assert status.get_attribute("data-code") == "revoked"
    assert page.locator('[data-check="recipient"]').get_attribute("data-code") == "recipient_mismatch"
    assert page.get_by_label("Awarded to").input_value() == "eve@example.org"
    a11y((1280, PHONE))
    screenshot("verifier/revoked", widths=(1280, PHONE))
    assert page.console_errors == [], page.console_errors


def test_works_without_javascript(browser: Any, live_server: Any, world: dict[str, Any]) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    try:
        page.goto("/verify")
        page.get_by_label("Or paste a link, JSON or JWT").fill(world["award"].credential_id)
        page.get_by_label("Awarded to").fill("ada@example.org")
        page.get_by_role("button", name="Verify").click()
        assert _verdict(page) == "Valid"
        assert page.locator('[data-check="recipient"]').get_attribute("data-code") == "recipient_match"
    finally:
        context.close()
