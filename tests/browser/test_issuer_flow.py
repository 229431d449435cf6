"""The issuer's whole job in a real browser, as one person would do it.

Sign up → confirm the email → create an organisation → create an issuer → design a badge (live preview) →
publish → award it to yourself → bulk-issue a CSV: a file with a bad row is refused with the reason, the
corrected file is issued by the background job while the progress bar reaches 100% → awards list → an
award → revoke with a reason through the confirmation dialog → the public page says "Revoked".

Each page gets the accessibility check at 1280 px and screenshots at 1280 and 375 px in
``$INSIGNIA_SCREENSHOT_DIR/flow`` (default /tmp/insignia-screens/flow), outside the repository.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from insignia.awards.models import Award
from insignia.badges.models import BadgeClass
from insignia.bulk.models import BulkIssueJob
from insignia.core.models import Organisation
from insignia.issuers.models import Issuer

from .conftest import SCREEN_DIR

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and unusual passphrase 42"
ME = "founder@example.org"
BAD_CSV = (
    "recipient,name,evidence_url,evidence_narrative,award_date\n"
    "ada@example.org,Ada Lovelace,https://example.org/projects/engine,Wrote the first program.,2025-03-01\n"
    "grace-at-example.org,Grace Hopper,,Built the first compiler.,\n"
    "alan@example.org,Alan Turing,,,\n"
)
GOOD_CSV = BAD_CSV.replace("grace-at-example.org", "grace@example.org")


def _confirm_path() -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _csv(name: str, text: str) -> dict[str, object]:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}


def test_issuer_designs_issues_bulk_issues_and_revokes(page, screenshot, a11y) -> None:
    (SCREEN_DIR / "flow").mkdir(parents=True, exist_ok=True)

    def look(name: str) -> None:
        """The accessibility check (1280 and 375 px: no sideways scroll on a phone), then both screenshots."""
        a11y()
        screenshot(f"flow/{name}")

    def h1() -> str:
        return page.get_by_role("heading", level=1).inner_text()

    # -- sign up, confirm, organisation ---------------------------------------------------------------
    page.goto("/accounts/signup/")
    look("01-signup")
    page.get_by_label("Email").fill(ME)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    page.goto(_confirm_path())
    page.get_by_role("button", name="Confirm email address").click()
    page.wait_for_url("**/orgs/new")
    look("02-org-new")
    page.get_by_label("Organisation name").fill("Northwind Learning")
    page.get_by_role("button", name="Create organisation").click()
    org = Organisation.objects.get(name="Northwind Learning")
    base = f"/orgs/{org.public_id}"
    page.wait_for_url(f"**{base}/")
    assert h1() == "Dashboard"
    look("03-dashboard-new")

    # -- issuer -----------------------------------------------------------------------------------------
    page.get_by_role("link", name="Create issuer profile").click()
    page.wait_for_url(f"**{base}/issuers/new")
    assert h1() == "Create an issuer"
    look("04-issuer-new")
    page.get_by_label("Name").fill("Northwind Academy")
    page.get_by_label("Website").fill("https://northwind.example.org")
    page.get_by_label("Contact email").fill("badges@northwind.example.org")
    page.get_by_label("Description").fill("Short courses in practical computing.")
    page.get_by_role("button", name="Create issuer").click()
    issuer = Issuer.objects.get(name="Northwind Academy")
    page.wait_for_url(f"**{base}/issuers/{issuer.public_id}/")
    assert "ready to issue badges" in page.locator(".alert-success").inner_text()
    assert h1() == "Northwind Academy"
    look("05-issuer-detail")

    # -- design a badge: the preview follows the designer fields -----------------------------------------
    page.goto(f"{base}/")
    assert page.locator(".checklist-item.is-done").count() == 2
    page.get_by_role("link", name="Create a badge").first.click()
    page.wait_for_url(f"**{base}/badges/new")
    assert h1() == "New badge"
    preview = page.locator("#designer-preview")
    first_preview = preview.get_attribute("src")
    about = page.get_by_role("group", name="The badge")
    about.get_by_label("Name", exact=True).fill("Python Foundations")
    about.get_by_label("Description").fill("Writes, tests and packages small Python programs.")
    page.get_by_label("Shape").select_option("shield")
    page.get_by_label("Main colour").fill("#1d4ed8")
    page.get_by_label("Accent colour").fill("#fbbf24")
    page.get_by_label("Initials").fill("PF")
    page.get_by_label("Ribbon text").fill("2025")
    page.wait_for_function(
        "() => { const s = document.getElementById('designer-preview').getAttribute('src');"
        " return s.includes('shape=shield') && s.includes('initials=PF') && s.includes('ribbon=2025'); }")
    assert preview.get_attribute("src") != first_preview
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("#designer-preview-status").inner_text() == "Preview"
    page.get_by_label("Criteria (optional)", exact=True).fill("Complete the **four** exercises, then the quiz.")
    page.get_by_label("Level").fill("Beginner")
    page.get_by_label("Tags").fill("python, programming")
    look("06-badge-editor")
    page.get_by_role("button", name="Save as draft").click()
    badge = BadgeClass.objects.get(name="Python Foundations")
    page.wait_for_url(f"**{base}/badges/{badge.public_id}/")
    assert h1() == "Python Foundations"
    assert page.locator(".page-header .status-pill").text_content().strip() == "Draft"
    hero = page.locator("img.badge-hero-image")
    assert hero.evaluate("img => img.complete && img.naturalWidth > 0")
    look("07-badge-draft")

    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    assert page.locator(".page-header .status-pill").text_content().strip() == "Published"
    assert page.get_by_role("link", name="Award this badge").is_visible()
    look("08-badge-published")

    # -- award it to yourself, from the dashboard's last checklist step -------------------------------------
    page.goto(f"{base}/")
    assert page.locator(".checklist-item.is-done").count() == 3
    look("08b-dashboard-checklist")
    page.locator(".checklist").get_by_role("link", name="Issue a badge").click()
    page.wait_for_url(f"**{base}/badges/{badge.public_id}/issue")
    assert h1() == "Award “Python Foundations”"
    page.get_by_label("Recipient", exact=True).fill(ME)
    page.get_by_label("Recipient's name").fill("Fran Founder")
    page.get_by_label("Evidence URL").fill("https://example.org/work/fran")
    look("09-award-form")
    page.get_by_role("button", name="Award badge").click()
    mine = Award.objects.get(recipient_identity=ME)
    page.wait_for_url(f"**{base}/awards/{mine.public_id}/")
    assert "was awarded" in page.locator(".alert-success").inner_text()
    assert page.locator(".details .status-pill").text_content().strip() == "Valid"
    look("10-award-detail")

    page.goto(f"/c/{mine.public_id}")
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.locator(".award-hero-status .status-pill").text_content().strip() == "Valid"
    assert page.locator("main img").first.evaluate("img => img.complete && img.naturalWidth > 0")
    look("11-public-award")

    # -- bulk: a file with a bad row is refused with its reason ------------------------------------------
    page.goto(f"{base}/badges/{badge.public_id}/")
    page.get_by_role("link", name="Issue from a CSV file").click()
    page.wait_for_url(f"**{base}/badges/{badge.public_id}/bulk")
    assert h1() == "Issue “Python Foundations” from a CSV file"
    look("12-bulk-upload")
    page.get_by_label("CSV file").set_input_files(_csv("learners.csv", BAD_CSV))
    page.get_by_role("button", name="Check the file").click()
    bad_job = BulkIssueJob.objects.get(filename="learners.csv")
    page.wait_for_url(f"**{base}/bulk/{bad_job.public_id}")
    assert h1() == "Check the file before issuing “Python Foundations”"
    assert "1 row has problems." in page.get_by_role("alert").inner_text()
    problems = page.locator("tr.row-problem")
    assert problems.count() == 2  # once in "Rows with problems", once in "All rows"
    assert "grace-at-example.org" in problems.first.inner_text()
    assert "This is not a valid email address." in problems.first.inner_text()
    assert page.get_by_role("button", name=re.compile(r"^Issue \d+ badges?$")).count() == 0
    look("13-bulk-preview-bad-row")

    page.get_by_role("link", name="upload the file again").click()
    page.wait_for_url(f"**{base}/badges/{badge.public_id}/bulk")
    page.get_by_label("CSV file").set_input_files(_csv("learners-fixed.csv", GOOD_CSV))
    page.get_by_role("button", name="Check the file").click()
    job = BulkIssueJob.objects.get(filename="learners-fixed.csv")
    page.wait_for_url(f"**{base}/bulk/{job.public_id}")
    assert "The file is ready: 3 badges to issue." in page.get_by_role("status").first.inner_text()
    assert page.locator("tr.row-problem").count() == 0
    look("14-bulk-preview-ready")

    # -- the job runs in the background; the page follows it to 100% -------------------------------------
    page.get_by_role("button", name="Issue 3 badges").click()
    page.wait_for_url(f"**{base}/bulk/{job.public_id}")
    page.get_by_role("heading", name="Issued “Python Foundations”").wait_for(timeout=30_000)
    progress = page.locator(".bulk-progress")
    assert progress.locator("[data-status-pill]").text_content().strip() == "Done"
    assert progress.locator('[data-count="percent"]').inner_text() == "100"
    assert progress.locator('[data-count="issued"]').inner_text() == "3"
    assert progress.locator("progress").evaluate("bar => bar.value === bar.max")
    assert page.get_by_role("link", name="Download the results (CSV)").is_visible()
    look("15-bulk-job-done")
    assert Award.objects.filter(badge=badge).count() == 4

    # -- awards list → an award → revoke with a reason, confirmed in the dialog --------------------------
    page.get_by_role("link", name="See all awards").click()
    page.wait_for_url(f"**{base}/awards/")
    assert h1() == "Awards"
    assert page.locator("tbody tr").count() == 4
    look("16-awards-list")
    page.get_by_role("link", name="Grace Hopper").click()
    grace = Award.objects.get(recipient_identity="grace@example.org")
    page.wait_for_url(f"**{base}/awards/{grace.public_id}/")
    assert h1() == "Python Foundations"
    look("17-award-before-revoke")

    revoke = page.locator("form[action$='/revoke']")
    revoke.get_by_label("Reason").fill("Issued to the wrong cohort by mistake.")
    revoke.get_by_role("button", name="Revoke permanently").click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    assert "Revoking is permanent" in dialog.inner_text()
    screenshot("flow/18-revoke-dialog")
    with page.expect_navigation():
        dialog.get_by_role("button", name="Confirm").click()
    assert "The badge was revoked." in page.locator(".alert-success").inner_text()
    assert page.locator(".details .status-pill").text_content().strip() == "Revoked"
    assert "Issued to the wrong cohort by mistake." in page.locator(".details").inner_text()
    assert page.get_by_role("button", name="Revoke permanently").count() == 0
    look("19-award-revoked")

    page.goto(f"/c/{grace.public_id}")
    assert page.locator(".award-hero-status .status-pill").text_content().strip() == "Revoked"
    assert "The issuer has revoked this badge" in page.get_by_role("alert").first.inner_text()
    assert "Issued to the wrong cohort by mistake." in page.locator("main").inner_text()
    look("20-public-revoked")

    assert page.console_errors == [], page.console_errors
