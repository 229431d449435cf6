"""An earner in a real browser: claim link → sign up → add to wallet → accept → make public → collection →
portfolio. Every wallet page passes the accessibility checks at 1280 and 390 px; screenshots go to
/tmp/insignia-screens (outside the repository)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from insignia.awards.models import AcceptanceState, Award, Visibility
from insignia.awards.services import issue_award
from insignia.backpack.models import EarnerProfile
from insignia.core.models import Membership, Organisation, Role
from insignia.core.tenancy import Actor
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and unusual passphrase 42"
WIDTHS = (1280, 390)


@pytest.fixture
def awarded(django_user_model):
    owner = django_user_model.objects.create_user(email="registrar@acme.example", password=PASSWORD)
    org = Organisation.objects.create(name="Acme Academy", slug="acme")
    Membership.objects.create(organisation=org, user=owner, role=Role.OWNER)
    actor = Actor(organisation=org, role=Role.OWNER, user=owner)
    issuer = make_issuer(actor)
    first = issue_award(actor=actor, badge=make_badge(actor, issuer), recipient="grace@example.org",
                        recipient_name="Grace Hopper")
    second = issue_award(actor=actor, badge=make_badge(actor, issuer, name="Cloud Security Fundamentals"),
                         recipient="grace@example.org", recipient_name="Grace Hopper")
    return first, second


def test_earner_claims_accepts_collects_and_shares(page, screenshot, a11y, awarded) -> None:
    first, _second = awarded
    claim = re.search(r"https?://[^/\s]+(/claim/[A-Za-z0-9_-]+)", mail.outbox[0].body).group(1)
    page.goto(claim)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"**{claim}")
    page.get_by_role("button", name="Add to my wallet").click()
    page.wait_for_url(f"**/wallet/awards/{first.public_id}")
    a11y(WIDTHS)
    screenshot("wallet-award-pending", WIDTHS)

    page.get_by_role("button", name="Accept badge").click()
    page.get_by_label("Public").check()
    page.get_by_label("Show my name on the badge's page").check()
    page.get_by_role("button", name="Save").click()
    assert "now public" in page.locator(".messages").inner_text()
    award = Award.objects.get(pk=first.pk)
    assert (award.acceptance, award.visibility, award.show_recipient_name) == (
        AcceptanceState.ACCEPTED, Visibility.PUBLIC, True)
    a11y(WIDTHS)
    screenshot("wallet-award", WIDTHS)

    page.get_by_role("link", name="Wallet", exact=True).first.click()
    page.wait_for_url("**/wallet/")
    assert page.get_by_role("heading", name="Waiting for you").is_visible()  # the second award
    a11y(WIDTHS)
    screenshot("wallet", WIDTHS)

    page.goto("/wallet/collections/")
    page.get_by_label("Name").fill("For employers")
    page.get_by_label("Who can see it").select_option("public")
    page.get_by_role("button", name="Create collection").click()
    page.get_by_role("button", name="Add Data Stewardship").click()
    a11y(WIDTHS)
    screenshot("wallet-collection-edit", WIDTHS)

    page.goto("/wallet/portfolio")
    page.get_by_label("Name shown on your portfolio").fill("Grace Hopper")
    page.get_by_label("Headline").fill("Computer scientist and teacher")
    page.get_by_label("Turn on my public portfolio page").check()
    page.get_by_role("button", name="Save").click()
    profile = EarnerProfile.objects.get(user__email="grace@example.org")
    assert profile.portfolio_enabled

    page.goto("/wallet/identities/")
    page.get_by_label("Type").select_option("url")
    page.get_by_label("Web address or DID").fill("https://grace.example/about")
    page.get_by_role("button", name="Add", exact=True).click()
    assert page.get_by_label("Or a meta tag with your code").input_value().startswith(
        '<meta name="insignia-verification" content="insignia-verify-')
    a11y(WIDTHS)
    screenshot("wallet-identities", WIDTHS)
    page.goto("/wallet/leave")
    a11y(WIDTHS)
    screenshot("wallet-leave", WIDTHS)

    page.context.clear_cookies()  # as a visitor
    page.goto(f"/p/{profile.public_id}")
    assert page.get_by_role("heading", name="Grace Hopper").is_visible()
    assert page.get_by_role("heading", name="For employers").is_visible()
    a11y(WIDTHS)
    screenshot("portfolio", WIDTHS)
    page.get_by_role("link", name="For employers").click()
    assert page.get_by_role("heading", name="For employers", level=1).is_visible()
    a11y(WIDTHS)
    screenshot("collection", WIDTHS)
    assert page.console_errors == []
