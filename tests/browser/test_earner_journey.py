"""One earner's whole journey in Chromium, as issue 4 asks: claim link → sign up → accept → make public → share →
the public page logged out → download the PDF and the baked PNG → import the PNG into a second account.

Why a *second* account may import the badge at all: imports only take badges awarded to one of the importing
account's verified identities, and a verified email address belongs to one account at a time. The legitimate way
for another account to hold ada@example.org is for the first to let go of it: Ada exports her wallet and deletes
account A (the page says the issuer's records, and so every copy she downloaded, keep verifying), signs up again
with the same address and confirms it from the email. The import then matches the address, and the original
award's public page still verifies, without her name (deleting the account withdraws it).

Every page passes our checks and axe-core (serious/critical) at 1280 and 375 px; screenshots go to
``$INSIGNIA_SCREENSHOT_DIR`` (default /tmp/insignia-screens/journey), outside the repository.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core import mail
from django.db.models import Sum

from insignia.awards.models import AcceptanceState, Award, EngagementCount, Visibility
from insignia.awards.services import issue_award
from insignia.backpack.models import ImportedBadge
from insignia.core.models import Membership, Organisation, Role
from insignia.core.tenancy import Actor
from insignia.verification.services import verify_submission
from tests.browser.conftest import A11Y_SCRIPT, DESKTOP, SCREEN_DIR, axe_violations
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and unusual passphrase 42"
ADA = "ada@example.org"
WIDTHS = (1280, 375)


@pytest.fixture
def award(live_server: Any, settings: Any, django_user_model: Any) -> Award:
    """An issuer set up through the services awards Data Stewardship to Ada; the claim email goes out."""
    settings.BASE_URL = live_server.url  # links in emails and credentials point at the server the browser talks to
    settings.VERIFY_RATE_LIMIT = "off"
    owner = django_user_model.objects.create_user(email="registrar@acme.example", password=PASSWORD)
    org = Organisation.objects.create(name="Acme Academy", slug="acme")
    Membership.objects.create(organisation=org, user=owner, role=Role.OWNER)
    actor = Actor(organisation=org, role=Role.OWNER, user=owner)
    return issue_award(actor=actor, badge=make_badge(actor, make_issuer(actor)), recipient=ADA,
                       recipient_name="Ada Lovelace")


def _link(pattern: str) -> str:
    """The path of the first link matching ``pattern`` in the newest email."""
    match = re.search(r"https?://[^/\s]+(" + pattern + r")", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _check(page: Any, name: str) -> None:
    """The a11y fixture's checks and a screenshot at each width, for any page (also a second browser context)."""
    SCREEN_DIR.joinpath("journey").mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        problems = page.evaluate(A11Y_SCRIPT)
        assert problems == [], f"{page.url} at {width}px: {problems}"
        violations = axe_violations(page)
        assert violations == [], f"{page.url} at {width}px, axe-core: {violations}"
        page.screenshot(path=str(SCREEN_DIR / "journey" / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def _count(award: Award, kind: str, channel: str | None = None) -> int:
    rows = EngagementCount.objects.filter(award=award, kind=kind)
    if channel is not None:
        rows = rows.filter(channel=channel)
    return rows.aggregate(total=Sum("count"))["total"] or 0


def _download(page: Any, name: str, into: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("link", name=name, exact=True).click()
    download = info.value
    assert download.failure() is None
    target = into / download.suggested_filename
    download.save_as(str(target))
    return target


def test_claim_share_download_and_import_into_a_second_account(page: Any, browser: Any, live_server: Any,
                                                               award: Award, tmp_path: Path) -> None:
    # -- the claim email's link, then sign-up from the claim page (the link proved the address) ------------------
    assert mail.outbox[-1].to == [ADA]
    claim = _link(r"/claim/[A-Za-z0-9_-]+")
    page.goto(claim)
    assert page.get_by_role("heading", level=1).inner_text() == "Data Stewardship"
    _check(page, "01-claim")
    page.get_by_role("link", name="Create an account").click()
    page.wait_for_url("**/accounts/signup/**")
    assert page.get_by_label("Email").input_value() == ADA
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    sent = len(mail.outbox)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"**{claim}")
    assert len(mail.outbox) == sent  # no confirmation email: opening the claim link verified the address
    page.get_by_role("button", name="Add to my wallet").click()
    page.wait_for_url(f"**/wallet/awards/{award.public_id}")

    # -- accept, make public with her name ------------------------------------------------------------------------
    page.get_by_role("button", name="Accept badge").click()
    page.get_by_label("Public").check()
    page.get_by_label("Show my name on the badge's page").check()
    page.get_by_role("button", name="Save").click()
    assert "now public" in page.locator(".messages").inner_text()
    award.refresh_from_db()
    assert (award.acceptance, award.visibility, award.show_recipient_name, award.earner.email) == (
        AcceptanceState.ACCEPTED, Visibility.PUBLIC, True, ADA)
    _check(page, "02-wallet-award")
    page.get_by_role("link", name="Wallet", exact=True).first.click()
    page.wait_for_url("**/wallet/")
    assert page.locator(".wallet-tile").filter(has_text="Data Stewardship").locator(".status-pill").inner_text() \
        == "Active"
    _check(page, "03-wallet")

    # -- the share panel on her public page: a share click is counted and goes on to the network ----------------
    page.goto(f"/c/{award.public_id}")
    panel = page.locator(".share-panel")
    assert panel.get_by_role("heading", name="Share").is_visible()
    assert _count(award, "share") == 0
    network = "https://www.linkedin.com/sharing/share-offsite/?url=" + quote(
        f"{live_server.url}/c/{award.public_id}", safe="")
    # The link opens a new tab; the test machine has no way out, so the network's request is caught, not loaded.
    with page.context.expect_event("response", lambda r: r.url.endswith("/share/linkedin")) as counted, \
            page.context.expect_event("request", lambda r: r.url.startswith("https://www.linkedin.com/")) as onward, \
            page.context.expect_page() as opened:
        panel.get_by_role("link", name=re.compile(r"^LinkedIn")).click()
    assert (counted.value.status, counted.value.headers["location"]) == (302, network)
    assert onward.value.url == network
    opened.value.close()
    assert _count(award, "share", "linkedin") == 1
    page.goto(f"/wallet/awards/{award.public_id}")
    assert page.locator(".wallet-stats .stat").filter(has_text="Share clicks").locator("dd").inner_text() == "1"
    assert page.get_by_role("link", name="PDF certificate (A4)").get_attribute("href") == (
        f"/c/{award.public_id}/certificate.pdf?size=a4")
    assert page.get_by_role("link", name="Requests").is_visible()  # the same tabs as the import pages
    (tmp_path / "earner").mkdir()
    assert _download(page, "PDF certificate (A4)", tmp_path / "earner").read_bytes().startswith(b"%PDF")

    # -- a visitor, logged out: name, badge, issuer, verdict; the PDF and the baked PNG ---------------------------
    visitor_context = browser.new_context(viewport=DESKTOP, base_url=live_server.url, accept_downloads=True)
    visitor = visitor_context.new_page()
    visitor.set_default_timeout(15_000)
    visitor_errors: list[str] = []
    visitor.on("console", lambda msg: visitor_errors.append(msg.text) if msg.type == "error" else None)
    visitor.on("pageerror", lambda exc: visitor_errors.append(str(exc)))
    views = _count(award, "view")
    visitor.goto(f"/c/{award.public_id}")
    assert visitor.get_by_role("heading", level=1).inner_text() == "Data Stewardship"
    assert visitor.locator(".award-recipient").inner_text() == "Ada Lovelace"
    assert visitor.locator(".award-hero").get_by_role("link", name="Acme Academy").is_visible()
    assert visitor.locator(".verdict-word").inner_text() == "Verified: valid"
    assert visitor.locator(".share-linkedin-profile").count() == 0  # "Add to LinkedIn profile" is for the earner
    assert _count(award, "view") == views + 1
    _check(visitor, "04-public")
    downloads = _count(award, "download", "pdf")
    pdf = _download(visitor, "PDF certificate (A4)", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert re.search(rb"/MediaBox\s*\[\s*0 0 841\.89 595\.28\s*\]", pdf.read_bytes())  # A4, landscape
    png = _download(visitor, "Badge image with the credential inside (PNG, Open Badges 3.0)", tmp_path)
    assert png.suffix == ".png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    result = verify_submission(file_bytes=png.read_bytes(), recipient=ADA)
    assert result.verdict == "valid", result.to_json()
    assert result.report.summary.id == award.credential["id"]
    assert _count(award, "download", "pdf") == downloads + 1
    assert visitor_errors == [], visitor_errors
    visitor_context.close()

    # -- Ada exports everything, then deletes account A ------------------------------------------------------------
    page.goto("/wallet/leave")
    export = _download(page, "Download the zip", tmp_path)
    with zipfile.ZipFile(io.BytesIO(export.read_bytes())) as archive:
        assert "index.json" in archive.namelist()
        assert any(name.endswith(".png") for name in archive.namelist())
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_load_state()
    assert not type(award.earner).objects.filter(email=ADA).exists()
    award.refresh_from_db()
    assert (award.earner, award.show_recipient_name, award.visibility) == (None, False, Visibility.UNLISTED)

    # -- account B: sign up with the same address, confirm it from the email --------------------------------------
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill(ADA)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    assert mail.outbox[-1].to == [ADA]
    page.goto(_link(r"/accounts/confirm-email/[^\s]+/"))
    page.get_by_role("button", name="Confirm email address").click()
    page.wait_for_load_state()

    # -- import the downloaded PNG -------------------------------------------------------------------------------
    page.goto("/wallet/import?via=file")
    _check(page, "05-import")
    page.get_by_label("Badge file").set_input_files(str(png))
    assert page.locator("[data-drop-zone-file]").inner_text() == f"Chosen: {png.name}"
    page.get_by_role("button", name="Verify and import").click()
    imported = ImportedBadge.objects.get(user__email=ADA)
    page.wait_for_url(f"**/wallet/imported/{imported.public_id}")
    assert (imported.verdict, imported.origin, imported.credential_id) == ("valid", "file", award.credential["id"])
    assert page.locator(".import-origin-tag").inner_text() == "Imported badge"
    assert page.get_by_role("heading", level=1).inner_text() == "Data Stewardship"
    assert page.locator(".wallet-award-state .status-pill").inner_text() == "Valid"
    assert page.locator(".import-check-passed").filter(has_text="one of their verified email addresses").count() == 1
    _check(page, "06-imported")

    page.goto("/wallet/")
    origin = page.locator(".wallet-tile-origin", has_text="Imported")
    tile = page.locator(".wallet-grid .wallet-tile").filter(has=origin)
    assert tile.locator(".badge-tile-name").inner_text() == "Data Stewardship"
    assert tile.locator(".status-pill").inner_text() == "Active"  # the wallet's word for a badge that verifies
    _check(page, "07-wallet-b")

    # -- the issuer's record is intact: the original award's page still verifies, without her name now -----------
    page.context.clear_cookies()
    page.goto(f"/c/{award.public_id}")
    assert page.locator(".verdict-word").inner_text() == "Verified: valid"
    assert page.locator(".award-recipient").count() == 0
    assert page.console_errors == [], page.console_errors
