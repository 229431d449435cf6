"""Talking to the issuer: an earner asks, the issuer re-issues or declines; tenancy and permissions hold."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.utils import timezone

from insignia.awards.models import AcceptanceState, Award, AwardStatus
from insignia.awards.services import issue_award, reissue_award
from insignia.backpack import requests as asks
from insignia.backpack.models import AwardRequest, RequestState
from insignia.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from insignia.core.models import AuditEvent, Membership, Role
from insignia.core.tenancy import Actor
from insignia.verification.services import platform_verifier
from tests.platform.test_awards_support import make_badge, make_issuer

pytestmark = pytest.mark.django_db


@pytest.fixture
def earner(make_user):
    user = make_user("ada@example.org")
    EmailAddress.objects.create(user=user, email="ada@example.org", verified=True, primary=True)
    return user


@pytest.fixture
def owner(member) -> Actor:
    return member(Role.OWNER)


@pytest.fixture
def award(owner, earner) -> Award:
    """An award to ada@example.org that she accepted and made public."""
    issuer = make_issuer(owner)
    made = issue_award(actor=owner, badge=make_badge(owner, issuer), recipient="ada@example.org",
                       recipient_name="Ada Byron", evidence=[{"url": "https://ada.example/notes"}])
    Award.objects.filter(pk=made.pk).update(earner=earner, acceptance=AcceptanceState.ACCEPTED,
                                            accepted_at=timezone.now(), visibility="public")
    made.refresh_from_db()
    return made


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_correction_request_and_reissue_replace_the_award(owner, earner, award,
                                                         django_capture_on_commit_callbacks) -> None:
    request = asks.request_correction(user=earner, award=award.public_id, recipient_name="Ada Lovelace",
                                      message="I married.")
    assert (request.state, request.changes) == (RequestState.OPEN, {"recipient_name": "Ada Lovelace"})
    assert list(asks.org_requests(owner)) == [request]

    with django_capture_on_commit_callbacks(execute=True):
        answered = asks.reissue_for_request(actor=owner, request=request.public_id,
                                            response="Done, congratulations!")
    new = answered.replacement
    award.refresh_from_db()
    assert answered.state == RequestState.REISSUED
    assert new.replaces == award
    assert new.recipient_name == "Ada Lovelace"
    assert (new.recipient_kind, new.recipient_identity) == (award.recipient_kind, award.recipient_identity)
    assert new.recipient_hash != award.recipient_hash  # a fresh salt
    assert (new.earner, new.acceptance, new.visibility) == (earner, AcceptanceState.ACCEPTED, "public")
    assert new.issued_on == award.issued_on
    assert new.evidence == award.evidence
    assert award.status == AwardStatus.REVOKED
    assert award.status_reason == f"Replaced by {new.credential_id}"

    verifier = platform_verifier()
    old_report = verifier.verify(award.credential)
    assert old_report.get("status").code == "revoked"  # through the published status list
    new_report = verifier.verify(new.credential, recipient="ada@example.org")
    assert new_report.verdict == "valid", new_report.to_json()
    verbs = set(AuditEvent.objects.filter(organisation=owner.organisation).values_list("verb", flat=True))
    assert {"award_request.correction", "award.reissued", "award.revoked", "award_request.reissued"} <= verbs
    answer = [m for m in mail.outbox if m.to == ["ada@example.org"] and "re-issued" in m.subject]
    assert len(answer) == 1
    assert f"/wallet/awards/{new.public_id}" in answer[0].body
    from insignia.backpack.queries import wallet_awards

    assert wallet_awards(earner) == [new]  # the replaced award is not listed twice
    # The earner already holds the re-issued award: no second claim email for it, just the answer above.
    assert [m.subject for m in mail.outbox if m.to == ["ada@example.org"]] == [answer[0].subject]


def test_evidence_request_reissue_appends_the_evidence(owner, earner, award) -> None:
    request = asks.offer_evidence(user=earner, award=award, url="https://ada.example/engine",
                                  narrative="Plans for the analytical engine.", name="Engine notes")
    new = asks.reissue_for_request(actor=owner, request=request).replacement
    assert new.evidence == [*award.evidence, {"url": "https://ada.example/engine",
                                              "narrative": "Plans for the analytical engine.",
                                              "name": "Engine notes"}]
    evidence = new.credential["evidence"]
    assert any(item.get("id") == "https://ada.example/engine" for item in evidence)
    assert platform_verifier().verify(new.credential).verdict == "valid"


def test_decline_needs_a_note_and_closes_the_request(owner, earner, award,
                                                    django_capture_on_commit_callbacks) -> None:
    request = asks.request_correction(user=earner, award=award, details="The date is wrong.")
    with pytest.raises(ServiceError) as empty:
        asks.decline_request(actor=owner, request=request, response=" ")
    assert empty.value.code == "response_required"
    with django_capture_on_commit_callbacks(execute=True):
        declined = asks.decline_request(actor=owner, request=request, response="The date is right.")
    assert declined.state == RequestState.DECLINED
    award.refresh_from_db()
    assert award.status == AwardStatus.ACTIVE
    assert not Award.objects.filter(replaces=award).exists()
    with pytest.raises(Conflict):
        asks.reissue_for_request(actor=owner, request=request)
    assert any("answered your request" in m.subject for m in mail.outbox)


def test_withdraw_and_one_open_request_per_kind(earner, award, make_user) -> None:
    first = asks.offer_evidence(user=earner, award=award, url="https://ada.example/a")
    with pytest.raises(Conflict):
        asks.offer_evidence(user=earner, award=award, url="https://ada.example/b")
    with pytest.raises(NotFound):
        asks.withdraw_request(user=make_user("eve@example.org"), request=first.public_id)
    asks.withdraw_request(user=earner, request=first.public_id)
    first.refresh_from_db()
    assert first.state == RequestState.WITHDRAWN
    assert asks.offer_evidence(user=earner, award=award, url="https://ada.example/b").state == RequestState.OPEN


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"recipient_name": ""}, "correction_empty"),
    ({"recipient_name": "Ada Byron"}, "correction_empty"),  # unchanged
    ({"recipient_name": "x" * 300}, "recipient_name_too_long"),
])
def test_correction_input_is_checked(earner, award, kwargs, code) -> None:
    with pytest.raises(ServiceError) as caught:
        asks.request_correction(user=earner, award=award, **kwargs)
    assert caught.value.code == code


def test_evidence_input_is_checked(earner, award) -> None:
    with pytest.raises(ServiceError) as caught:
        asks.offer_evidence(user=earner, award=award, url="javascript:alert(1)")
    assert caught.value.code == "evidence_invalid"
    with pytest.raises(ServiceError):
        asks.offer_evidence(user=earner, award=award)


def test_unclaimed_award_holder_of_the_verified_identity_may_ask(owner, make_user) -> None:
    issuer = make_issuer(owner)
    award = issue_award(actor=owner, badge=make_badge(owner, issuer), recipient="grace@example.org")
    grace = make_user("grace@example.org")
    with pytest.raises(NotFound):  # address not verified yet
        asks.request_correction(user=grace, award=award, recipient_name="Grace Hopper")
    EmailAddress.objects.create(user=grace, email="grace@example.org", verified=True)
    assert asks.request_correction(user=grace, award=award, recipient_name="Grace Hopper").state == "open"


def test_another_earner_cannot_ask_about_my_award(earner, award, make_user) -> None:
    eve = make_user("eve@example.org")
    EmailAddress.objects.create(user=eve, email="eve@example.org", verified=True)
    with pytest.raises(NotFound):
        asks.request_correction(user=eve, award=award, recipient_name="Eve")
    page = login(eve).get(f"/wallet/awards/{award.public_id}/request")
    assert page.status_code == 404


def test_viewer_cannot_reissue_or_decline(member, owner, earner, award) -> None:
    viewer = member(Role.VIEWER, org=owner.organisation)
    request = asks.request_correction(user=earner, award=award, recipient_name="Ada Lovelace")
    with pytest.raises(PermissionDenied):
        asks.reissue_for_request(actor=viewer, request=request)
    with pytest.raises(PermissionDenied):
        reissue_award(actor=viewer, award=award, reason="No")
    client = login(viewer.user)
    org = owner.organisation.public_id
    assert client.get(f"/orgs/{org}/requests/").status_code == 200  # may see the queue
    assert client.post(f"/orgs/{org}/requests/{request.public_id}/reissue", {}).status_code == 403
    declined = client.post(f"/orgs/{org}/requests/{request.public_id}/decline", {"decline-response": "No"})
    assert declined.status_code == 403
    request.refresh_from_db()
    assert request.state == RequestState.OPEN
    base = client.get(f"/orgs/{org}/").content.decode()
    assert f"/orgs/{org}/requests/" not in base  # no Requests link for viewers


def test_other_organisation_sees_nothing(member, owner, earner, award) -> None:
    request = asks.request_correction(user=earner, award=award, recipient_name="Ada Lovelace")
    stranger = member(Role.OWNER)  # owner of another organisation
    assert list(asks.org_requests(stranger)) == []
    with pytest.raises(NotFound):
        asks.get_request(stranger, request.public_id)
    with pytest.raises(NotFound):
        asks.reissue_for_request(actor=stranger, request=request.public_id)
    with pytest.raises(NotFound):
        reissue_award(actor=stranger, award=award.public_id, reason="Mine now")
    client = login(stranger.user)
    theirs = stranger.organisation.public_id
    assert client.get(f"/orgs/{theirs}/requests/{request.public_id}/").status_code == 404
    assert client.post(f"/orgs/{theirs}/requests/{request.public_id}/reissue", {}).status_code == 404
    assert client.get(f"/orgs/{owner.organisation.public_id}/requests/").status_code == 404
    assert "Ada Lovelace" not in client.get(f"/orgs/{theirs}/requests/?state=").content.decode()


def test_full_flow_through_the_pages(owner, earner, award) -> None:
    ada = login(earner)
    form = ada.get(f"/wallet/awards/{award.public_id}/request")
    assert form.status_code == 200
    assert "Request a correction" in form.content.decode()
    sent = ada.post(f"/wallet/awards/{award.public_id}/request",
                    {"kind": "correction", "correction-recipient_name": "Ada Lovelace",
                     "correction-message": "New surname."})
    assert sent.status_code == 302
    request = AwardRequest.objects.get()
    assert "Ada Lovelace" in ada.get("/wallet/requests/").content.decode()

    issuer = login(owner.user)
    org = owner.organisation.public_id
    dashboard = issuer.get(f"/orgs/{org}/").content.decode()
    assert f'href="/orgs/{org}/requests/"' in dashboard
    assert '<span class="count">1<span class="visually-hidden"> open</span></span>' in dashboard
    queue = issuer.get(f"/orgs/{org}/requests/").content.decode()
    assert "Ada Lovelace" in queue
    assert "Data Stewardship" in queue
    detail = issuer.get(f"/orgs/{org}/requests/{request.public_id}/")
    assert detail.status_code == 200
    assert "Re-issue award" in detail.content.decode()
    done = issuer.post(f"/orgs/{org}/requests/{request.public_id}/reissue",
                       {"reissue-recipient_name": "Ada Lovelace", "reissue-response": "Updated.",
                        "reissue-add_evidence": "on"})
    request.refresh_from_db()
    assert request.state == RequestState.REISSUED
    assert done.status_code == 302
    assert done["Location"] == f"/orgs/{org}/awards/{request.replacement.public_id}/"
    mine = ada.get("/wallet/requests/").content.decode()
    assert "Updated." in mine
    assert f"/wallet/awards/{request.replacement.public_id}" in mine
    public = Client().get(f"/c/{award.public_id}", HTTP_ACCEPT="application/json")
    assert json.loads(public.content)["id"] == award.credential_id  # the old credential is still served, unchanged


def test_decline_through_the_page_requires_a_note(owner, earner, award) -> None:
    request = asks.offer_evidence(user=earner, award=award, url="https://ada.example/x")
    client = login(owner.user)
    org = owner.organisation.public_id
    assert client.post(f"/orgs/{org}/requests/{request.public_id}/decline", {"decline-response": ""}).status_code == 400
    assert client.post(f"/orgs/{org}/requests/{request.public_id}/decline",
                       {"decline-response": "Not relevant to this badge."}).status_code == 302
    request.refresh_from_db()
    assert request.state == RequestState.DECLINED
    assert Membership.objects.filter(organisation=owner.organisation).count() == 1


def test_revoked_award_cannot_be_reissued_or_asked_about(owner, earner, award) -> None:
    from insignia.awards.services import revoke_award

    revoke_award(actor=owner, award=award, reason="Cheating")
    with pytest.raises(ServiceError) as caught:
        reissue_award(actor=owner, award=award, reason="Fix")
    assert caught.value.code == "already_revoked"
    with pytest.raises(ServiceError):
        asks.request_correction(user=earner, award=award, recipient_name="Ada Lovelace")
