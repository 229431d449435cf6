"""Award management pages: list with search and filters, the issue form, status changes; tenancy and roles."""

from __future__ import annotations

import pytest
from django.test import Client

from insignia.awards.models import Award, AwardStatus
from insignia.awards.services import issue_award
from insignia.core.models import Role
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def badge(owner):
    return make_badge(owner, make_issuer(owner))


@pytest.fixture
def award(owner, badge) -> Award:
    return issue_award(actor=owner, badge=badge, recipient="ada@example.org", recipient_name="Ada Lovelace")


def _client(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def _org(actor) -> str:
    return f"/orgs/{actor.organisation.public_id}"


def test_pages_need_a_login(owner, award) -> None:
    response = Client().get(f"{_org(owner)}/awards/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_issue_form_issues_and_redirects_to_the_award(owner, badge) -> None:
    client = _client(owner)
    form = client.get(f"{_org(owner)}/badges/{badge.public_id}/issue")
    assert form.status_code == 200
    assert 'name="recipient"' in form.content.decode()
    response = client.post(f"{_org(owner)}/badges/{badge.public_id}/issue", {
        "recipient_kind": "email", "recipient": "grace@example.org", "recipient_name": "Grace Hopper",
        "evidence_url": "https://grace.example/cobol", "evidence_narrative": "A compiler",
    })
    award = Award.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{_org(owner)}/awards/{award.public_id}/"
    assert award.recipient_name == "Grace Hopper"
    assert award.evidence == [{"url": "https://grace.example/cobol", "narrative": "A compiler"}]
    detail = client.get(response["Location"]).content.decode()
    assert "grace@example.org" in detail
    assert "status-pill status-valid" in detail


@pytest.mark.parametrize(("data", "message"), [
    ({"recipient_kind": "email", "recipient": "not-an-email"}, "is not a valid email address"),
    ({"recipient_kind": "phone", "recipient": "12345"}, "international form"),
    ({"recipient_kind": "email", "recipient": "a@example.org", "evidence_url": "ftp://x"}, "is not an http(s) URL"),
])
def test_bad_input_shows_form_errors_and_stores_nothing(owner, badge, data, message) -> None:
    response = _client(owner).post(f"{_org(owner)}/badges/{badge.public_id}/issue", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="field field-invalid"' in response.content.decode()
    assert Award.objects.count() == 0


def test_list_searches_filters_and_paginates(owner, badge, award) -> None:
    other_badge = make_badge(owner, badge.issuer, name="Second badge")
    for n in range(26):
        issue_award(actor=owner, badge=other_badge, recipient=f"learner{n}@example.org")
    client = _client(owner)
    url = f"{_org(owner)}/awards/"
    page = client.get(url).content.decode()
    assert "Page 1 of 2" in page
    assert "status-pill status-valid" in page
    found = client.get(url, {"q": "ada@"}).content.decode()
    assert "Ada Lovelace" in found
    assert "learner1@" not in found
    by_name = client.get(url, {"q": "lovelace"}).content.decode()
    assert "Ada Lovelace" in by_name
    by_badge = client.get(url, {"badge": badge.public_id}).content.decode()
    assert "Ada Lovelace" in by_badge
    assert "learner" not in by_badge
    assert "No awards match" in client.get(url, {"status": "revoked"}).content.decode()
    second = client.get(url, {"badge": other_badge.public_id, "page": 2}).content.decode()
    assert "Page 2 of 2" in second
    assert f"badge={other_badge.public_id}&amp;page=1" in second  # filters kept across pages


def test_revoke_suspend_and_unsuspend_from_the_detail_page(owner, award) -> None:
    client = _client(owner)
    base = f"{_org(owner)}/awards/{award.public_id}"
    missing = client.post(f"{base}/suspend", {"reason": ""})
    assert missing.status_code == 400
    assert "This field is required" in missing.content.decode()
    assert client.post(f"{base}/suspend", {"reason": "Under review"}).status_code == 302
    award.refresh_from_db()
    assert award.status == AwardStatus.SUSPENDED
    assert "status-pill status-suspended" in client.get(f"{base}/").content.decode()
    assert client.post(f"{base}/unsuspend").status_code == 302
    award.refresh_from_db()
    assert award.status == AwardStatus.ACTIVE
    assert client.post(f"{base}/revoke", {"reason": "Plagiarism"}).status_code == 302
    award.refresh_from_db()
    assert (award.status, award.status_reason) == (AwardStatus.REVOKED, "Plagiarism")
    again = client.post(f"{base}/unsuspend")
    assert again.status_code == 400
    assert "permanent" in again.content.decode()
    detail = client.get(f"{base}/").content.decode()
    assert "status-pill status-revoked" in detail
    assert "Revoke permanently" not in detail
    assert client.get(f"{base}/revoke").status_code == 405


def test_viewers_read_but_cannot_write(owner, member, badge, award) -> None:
    viewer = member(Role.VIEWER, org=owner.organisation)
    client = _client(viewer)
    base = f"{_org(owner)}/awards/{award.public_id}"
    assert client.get(f"{_org(owner)}/awards/").status_code == 200
    detail = client.get(f"{base}/")
    assert detail.status_code == 200
    assert "Revoke permanently" not in detail.content.decode()
    issue_url = f"{_org(owner)}/badges/{badge.public_id}/issue"
    assert client.get(issue_url).status_code == 403
    assert client.post(issue_url, {"recipient_kind": "email", "recipient": "x@example.org"}).status_code == 403
    for action in ("revoke", "suspend", "unsuspend"):
        assert client.post(f"{base}/{action}", {"reason": "no"}).status_code == 403
    assert Award.objects.count() == 1
    award.refresh_from_db()
    assert award.status == AwardStatus.ACTIVE


def test_other_organisations_get_not_found_everywhere(owner, member, badge, award) -> None:
    stranger = member(Role.OWNER)
    client = _client(stranger)
    theirs = _org(owner)
    for path in (f"{theirs}/awards/", f"{theirs}/awards/{award.public_id}/",
                 f"{theirs}/badges/{badge.public_id}/issue"):
        assert client.get(path).status_code == 404, path
    for action in ("revoke", "suspend", "unsuspend"):
        assert client.post(f"{theirs}/awards/{award.public_id}/{action}", {"reason": "x"}).status_code == 404
    # Their own organisation's URLs with the other tenant's ids: not found either.
    mine = _org(stranger)
    assert client.get(f"{mine}/awards/{award.public_id}/").status_code == 404
    assert client.get(f"{mine}/badges/{badge.public_id}/issue").status_code == 404
    for action in ("revoke", "suspend", "unsuspend"):
        assert client.post(f"{mine}/awards/{award.public_id}/{action}", {"reason": "x"}).status_code == 404
    assert client.post(f"{mine}/badges/{badge.public_id}/issue",
                       {"recipient_kind": "email", "recipient": "x@example.org"}).status_code == 404
    assert "Ada Lovelace" not in client.get(f"{mine}/awards/").content.decode()
    award.refresh_from_db()
    assert award.status == AwardStatus.ACTIVE
    assert Award.objects.count() == 1
