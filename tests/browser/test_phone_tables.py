"""Wide management tables on a 390 px phone: the page itself never scrolls sideways; a table that is wider
than the screen scrolls inside its own keyboard-focusable region, which says so (a visible hint).

Pages: the bulk-issue preview (rows with problems, long unbroken values), the awards list and the audit log,
filled with long names. Screenshots at 390 px go to ``$INSIGNIA_SCREENSHOT_DIR/phone-tables``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from insignia.accounts.models import User
from insignia.awards.services import issue_award
from insignia.bulk.services import preview_bulk_issue
from insignia.core.services import create_organisation
from tests.platform.test_awards_support import make_badge, make_issuer

from .conftest import SCREEN_DIR

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a long and unusual passphrase 42"
PHONE = {"width": 390, "height": 844}
LONG_URL = "https://evidence.example.org/" + "portfolio-of-work-" * 8 + "final"
CSV = (
    "recipient,name,evidence_url,evidence_narrative,award_date\n"
    f"ada@example.org,Ada Lovelace,{LONG_URL},Wrote the first program for the engine.,2025-03-01\n"
    "grace-hopper-at-the-navy-research-laboratory-example-org,Grace Hopper,,Built the first compiler.,\n"
    f"alan@example.org,Alan Turing,not-a-url-{'x' * 90},,31/02/2025\n"
    "ada@example.org,Ada again,,,\n"
)

#: What must hold on a phone: no sideways page scroll; every overflowing table sits in a labelled, focusable
#: scroll region whose hint is visible.
CHECK = """
() => {
  const problems = [];
  const scrolling = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth) problems.push(`page is ${doc.scrollWidth}px wide in ${window.innerWidth}px`);
  for (const wrap of document.querySelectorAll('.table-wrap')) {
    const table = wrap.querySelector('table');
    if (wrap.getBoundingClientRect().right > window.innerWidth + 1) problems.push('a table region sticks out');
    if (!table || wrap.scrollWidth <= wrap.clientWidth + 1) continue;
    scrolling.push(wrap.closest('section, .card')?.querySelector('h2')?.textContent || 'table');
    if (getComputedStyle(wrap).overflowX !== 'auto') problems.push('a wide table does not scroll in place');
    if (wrap.tabIndex !== 0) problems.push('a scrolling table region cannot be reached by keyboard');
    if (!wrap.getAttribute('role') || !(wrap.getAttribute('aria-label') || wrap.getAttribute('aria-labelledby'))) {
      problems.push('a scrolling table region has no role and name');
    }
    const hint = wrap.previousElementSibling;
    if (!hint || !hint.classList.contains('table-scroll-hint') || hint.offsetHeight === 0) {
      problems.push('a scrolling table has no visible scroll hint');
    }
  }
  return {problems, scrolling};
}
"""


@pytest.fixture
def org(live_server):
    user = User.objects.create_user(email="owner@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    owner = create_organisation(user=user, name="Institute of Exceptionally Long Organisation Names")
    issuer = make_issuer(owner, name="Department of Continuing Professional Development and Lifelong Learning")
    badge = make_badge(owner, issuer, name="Advanced Research Data Stewardship and Open Science Practice")
    for n in range(3):
        issue_award(actor=owner, badge=badge, recipient=f"a-very-long-recipient-address-number-{n}@"
                    "faculty-of-engineering.university-of-somewhere.example.org",
                    recipient_name="Maximiliane Alexandra Konstantinopoulou-Wetherington",
                    issued_on=timezone.now() - timedelta(days=n))
    job = preview_bulk_issue(actor=owner, badge=badge, csv_bytes=CSV.encode("utf-8"), filename="cohort.csv")
    assert job.problem_count >= 2
    return {"owner": owner, "badge": badge, "job": job}


def sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("owner@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/orgs/**")


def test_management_tables_fit_a_phone(page, org) -> None:
    sign_in(page)
    page.set_viewport_size(PHONE)
    (SCREEN_DIR / "phone-tables").mkdir(parents=True, exist_ok=True)
    organisation = org["owner"].organisation.public_id
    pages = {
        "bulk-preview": reverse("bulk:job", args=[organisation, org["job"].public_id]),
        "awards-list": reverse("awards:list", args=[organisation]),
        "audit-log": reverse("core:audit", args=[organisation]),
        "bulk-upload": reverse("bulk:upload", args=[organisation, org["badge"].public_id]),
    }
    results: dict[str, dict[str, list[str]]] = {}
    for name, path in pages.items():
        page.goto(path)
        assert page.locator("table").count() >= 1, name
        page.wait_for_load_state("load")  # app.js (deferred) has marked up the scrolling regions
        page.screenshot(path=str(SCREEN_DIR / "phone-tables" / f"{name}-390.png"), full_page=True)
        results[name] = page.evaluate(CHECK)
    assert {name: result["problems"] for name, result in results.items()} == {name: [] for name in pages}
    # the bulk tables stack into one block per row on a phone; the wide awards table scrolls in place, with a hint
    assert results["bulk-preview"]["scrolling"] == []
    assert results["bulk-upload"]["scrolling"] == []
    assert results["awards-list"]["scrolling"] != []

    # the problem column of the preview is on screen and readable: each reason in full, not cut off
    page.goto(pages["bulk-preview"])
    reason = page.locator("tr.row-problem td[data-label='Problem']").first
    assert "email address" in reason.inner_text()
    box = reason.bounding_box()
    assert box is not None
    assert box["width"] >= 200
    assert box["x"] + box["width"] <= PHONE["width"]
    label = reason.evaluate("(el) => getComputedStyle(el, '::before').content")
    assert label == '"Problem"'  # each stacked cell names its column
    assert page.get_by_role("table", name="Rows with problems").is_visible()  # still a named table to AT

    # a keyboard user can scroll the wide awards table: focus the region, press the arrow key
    page.goto(pages["awards-list"])
    region = page.get_by_role("region", name="Awards of")
    hint = page.locator(".table-scroll-hint").first
    assert hint.is_visible()
    assert "Scroll sideways" in hint.inner_text()
    region.focus()
    assert region.evaluate("(el) => el.scrollLeft") == 0
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(el) => el.scrollLeft > 0", arg=region.element_handle())
    # at desktop width the same table fits: no hint, no region role
    page.set_viewport_size({"width": 1280, "height": 800})
    page.wait_for_function("() => document.querySelector('.table-scroll-hint').hidden")
    assert page.locator(".table-wrap").first.get_attribute("role") is None
