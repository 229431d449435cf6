"""A newcomer in a real browser: landing → sign up → confirm the email → create an organisation → checklist.

Then the organisation settings (general, members, invitations with the confirm dialog, audit log).
Screenshots of each page at 1280 and 375 px go to /tmp/insignia-screens (outside the repository).
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from insignia.core.models import Invitation, Membership, Organisation, Role

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and unusual passphrase 42"


def _confirm_path() -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_newcomer_signs_up_creates_an_organisation_and_sees_the_checklist(page, screenshot, a11y) -> None:
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Digital badges")
    a11y()
    screenshot("01-landing")

    page.get_by_role("link", name="Create an account").first.click()
    page.wait_for_url("**/accounts/signup/")
    a11y()
    screenshot("02-signup")

    # A mistake first: the error is named on the field.
    page.get_by_label("Email").fill("newcomer@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill("not the same passphrase")
    page.get_by_role("button", name="Create account").click()
    assert page.locator(".field-invalid").count() >= 1
    a11y()
    screenshot("03-signup-error")

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    assert page.get_by_role("heading", name="Check your email").is_visible()
    screenshot("04-check-email")

    page.goto(_confirm_path())
    a11y()
    page.get_by_role("button", name="Confirm email address").click()
    page.wait_for_url("**/orgs/new")
    a11y()
    screenshot("05-org-new")

    page.get_by_label("Organisation name").fill("Northwind Learning")
    page.get_by_role("button", name="Create organisation").click()
    org = Organisation.objects.get(name="Northwind Learning")
    page.wait_for_url(f"**/orgs/{org.public_id}/")
    checklist = page.locator(".checklist")
    assert checklist.is_visible()
    assert page.locator(".checklist-item.is-done").count() == 1
    assert page.get_by_role("link", name="Create issuer profile").get_attribute("href") == (
        f"/orgs/{org.public_id}/issuers/new")
    assert page.get_by_role("navigation", name="Main").is_visible()
    assert page.locator(".alert-success").is_visible()
    a11y()
    screenshot("06-dashboard")
    assert Membership.objects.get(organisation=org).role == Role.OWNER
    assert page.console_errors == [], page.console_errors


def test_settings_pages_and_the_confirm_dialog(page, screenshot, a11y, django_user_model) -> None:
    from allauth.account.models import EmailAddress

    from insignia.core import services

    user = django_user_model.objects.create_user(email="owner@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    org = services.create_organisation(user=user, name="Northwind Learning").organisation
    colleague = django_user_model.objects.create_user(email="colleague@example.org", password=PASSWORD)
    Membership.objects.create(organisation=org, user=colleague, role=Role.ISSUER)

    page.goto("/accounts/login/")
    a11y()
    screenshot("07-login")
    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/orgs/{org.public_id}/")

    page.get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/")
    a11y()
    screenshot("08-settings-general")
    page.get_by_role("button", name="Save settings").click()
    assert page.locator(".alert-success").is_visible()

    page.get_by_role("link", name="Members").click()
    page.wait_for_url("**/settings/members/")
    a11y()
    screenshot("09-settings-members")

    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Email address").fill("friend@example.org")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_role("cell", name="friend@example.org", exact=True).is_visible()
    assert mail.outbox[-1].to == ["friend@example.org"]
    a11y()
    screenshot("10-settings-invitations")

    # Cancelling asks first, in the native <dialog>; Cancel keeps the invitation.
    page.get_by_role("button", name="Cancel invitation to friend@example.org").click()
    dialog = page.locator("#confirm-dialog")
    assert dialog.is_visible()
    screenshot("11-confirm-dialog", widths=(1280,))
    dialog.get_by_role("button", name="Cancel", exact=True).click()
    assert not dialog.is_visible()
    assert Invitation.objects.count() == 1
    page.get_by_role("button", name="Cancel invitation to friend@example.org").click()
    with page.expect_navigation():
        dialog.get_by_role("button", name="Cancel invitation").click()
    assert "its link no longer works" in page.locator(".alert-success").inner_text()
    assert Invitation.objects.count() == 0

    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/audit/")
    assert page.get_by_role("cell", name="invitation.cancelled").is_visible()
    a11y()
    screenshot("12-audit-log")

    page.goto("/styleguide/")
    a11y()
    screenshot("13-styleguide")
    page.emulate_media(color_scheme="dark")
    screenshot("13-styleguide-dark", widths=(1280,))
    page.goto(f"/orgs/{org.public_id}/")
    screenshot("13-dashboard-dark", widths=(375,))
    page.emulate_media(color_scheme="light")
    assert page.console_errors == [], page.console_errors
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "We could not find that page"
    a11y()
    screenshot("14-not-found")
