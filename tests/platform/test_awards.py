"""Award services: issuing, status lists, revocation and suspension, idempotency, input checks, tenancy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from insignia.awards import statuslists
from insignia.awards.models import Award, AwardStatus, StatusList
from insignia.awards.services import issue_award, revoke_award, suspend_award, unsuspend_award
from insignia.badges.models import BadgeStatus, ExpiryPolicy
from insignia.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from insignia.core.models import AuditEvent, Role
from insignia.credentials.model.identity import identity_matches, ob2_recipient_matches
from insignia.credentials.status.bitstring import MIN_BITS
from insignia.issuers.identity import issuer_did
from tests.platform.test_awards_support import ClientFetch, check, make_badge, make_issuer

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def issuer(owner):
    return make_issuer(owner)


@pytest.fixture
def badge(owner, issuer):
    return make_badge(owner, issuer)


def _issue(actor, badge, recipient="Ada@Example.org", **kwargs) -> Award:
    return issue_award(actor=actor, badge=badge, recipient=recipient, **kwargs)


def test_issue_stores_a_signed_credential_that_verifies(owner, issuer, badge) -> None:
    award = _issue(owner, badge, recipient_name="Ada Lovelace",
                   evidence=[{"url": "https://ada.example/work", "narrative": "A notebook"}], narrative="Well done")
    credential = award.credential
    assert credential["id"] == award.credential_id == f"http://127.0.0.1:8000/c/{award.public_id}"
    assert credential["issuer"]["id"] == issuer_did(issuer)
    assert credential["issuer"]["name"] == "Acme Academy"
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["awardedDate"] == credential["validFrom"]
    subject = credential["credentialSubject"]
    assert "Ada Lovelace" not in str(credential)  # the name stays out of the credential
    assert "ada@example.org" not in str(credential).lower()  # only the salted hash goes in
    (identifier,) = subject["identifier"]
    assert identity_matches(identifier, "email", "ada@example.org")
    assert subject["achievement"]["name"] == "Data Stewardship"
    assert credential["evidence"] == [{"id": "https://ada.example/work", "type": ["Evidence"],
                                       "narrative": "A notebook"}]
    assert credential["credentialStatus"]["statusPurpose"] == "revocation"
    assert award.recipient_identity == "ada@example.org"

    report = ClientFetch().verifier().verify(credential, recipient="ada@example.org")
    assert report.verdict == "valid", report.to_json()
    assert check(report, "issuer_key") == ("passed", "issuer_key_bound")
    assert check(report, "status") == ("passed", "not_revoked")
    assert AuditEvent.objects.filter(verb="award.issued", object_id=award.public_id).exists()


@pytest.mark.parametrize(("kind", "value", "stored"), [
    ("url", "https://ada.example/me", "https://ada.example/me"),
    ("phone", "+44 20 7946 0000", "+442079460000"),
])
def test_url_and_phone_recipients_are_hashed(owner, badge, kind, value, stored) -> None:
    award = _issue(owner, badge, recipient=value, recipient_kind=kind)
    assert award.recipient_identity == stored
    (identifier,) = award.credential["credentialSubject"]["identifier"]
    assert identifier["hashed"] is True
    assert identity_matches(identifier, kind, value)


def test_a_did_recipient_is_the_subject_id(owner, badge) -> None:
    did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    award = _issue(owner, badge, recipient=did, recipient_kind="did")
    assert award.credential["credentialSubject"]["id"] == did
    assert "identifier" not in award.credential["credentialSubject"]


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("email", "not-an-email", "not a valid email address"),
    ("email", "", "Give the recipient"),
    ("url", "ftp://ada.example/", r"not an http\(s\) URL"),
    ("url", "ada.example", r"not an http\(s\) URL"),
    ("phone", "020 7946 0000", "international form"),
    ("phone", "+44 abc", "not a phone number"),
    ("did", "did:web", "not a DID"),
    ("did", "did:example:123#key-1", "not a DID"),
    ("fax", "123", "Unknown recipient type"),
])
def test_bad_recipients_are_refused_and_nothing_is_stored(owner, badge, kind, value, message) -> None:
    with pytest.raises(ServiceError, match=message):
        _issue(owner, badge, recipient=value, recipient_kind=kind)
    assert Award.objects.count() == 0
    assert StatusList.objects.count() == 0


def test_bad_evidence_and_dates_are_refused(owner, badge) -> None:
    with pytest.raises(ServiceError, match="evidence URL"):
        _issue(owner, badge, evidence=[{"url": "javascript:alert(1)"}])
    with pytest.raises(ServiceError, match="in the future"):
        _issue(owner, badge, issued_on=timezone.now() + timedelta(days=2))
    badge.evidence_required = True
    badge.save()
    with pytest.raises(ServiceError, match="requires evidence"):
        _issue(owner, badge)
    assert Award.objects.count() == 0
    award = _issue(owner, badge, evidence=[{"narrative": "Presented the plan to the board."}])
    assert award.evidence == [{"narrative": "Presented the plan to the board."}]


def test_expiry_follows_the_badge_policy(owner, issuer) -> None:
    badge = make_badge(owner, issuer, expiry_policy=ExpiryPolicy.DURATION, expiry_days=30)
    issued_on = timezone.now().replace(microsecond=0) - timedelta(days=1)
    award = _issue(owner, badge, issued_on=issued_on)
    assert award.issued_on == issued_on
    assert award.expires_on == issued_on + timedelta(days=30)
    assert award.credential["validUntil"].startswith(award.expires_on.strftime("%Y-%m-%dT%H:%M:%S"))
    fixed = make_badge(owner, issuer, name="Old", expiry_policy=ExpiryPolicy.FIXED_DATE,
                       expiry_date=timezone.now() - timedelta(days=1))
    with pytest.raises(ServiceError, match="before the award date"):
        _issue(owner, fixed)


def test_only_published_badges_of_the_own_organisation_can_be_awarded(owner, member, issuer) -> None:
    draft = make_badge(owner, issuer, status=BadgeStatus.DRAFT, image="none")
    with pytest.raises(ServiceError, match="draft"):
        _issue(owner, draft)
    other = member(Role.OWNER)
    foreign = make_badge(other, make_issuer(other, "Other"))
    with pytest.raises(NotFound):
        _issue(owner, foreign)
    with pytest.raises(NotFound):
        _issue(owner, foreign.public_id)


def test_viewers_cannot_issue_or_change_status(owner, member, badge) -> None:
    viewer = member(Role.VIEWER, org=owner.organisation)
    with pytest.raises(PermissionDenied):
        _issue(viewer, badge)
    award = _issue(owner, badge)
    for operation in (revoke_award, suspend_award):
        with pytest.raises(PermissionDenied):
            operation(actor=viewer, award=award, reason="no")
    with pytest.raises(PermissionDenied):
        unsuspend_award(actor=viewer, award=award)


def test_other_organisations_cannot_touch_an_award(owner, member, badge) -> None:
    award = _issue(owner, badge)
    stranger = member(Role.OWNER)
    with pytest.raises(NotFound):
        revoke_award(actor=stranger, award=award, reason="mine now")
    with pytest.raises(NotFound):
        suspend_award(actor=stranger, award=award.public_id, reason="x")
    award.refresh_from_db()
    assert award.status == AwardStatus.ACTIVE


def test_idempotency_key_returns_the_same_award_and_refuses_a_different_request(owner, badge) -> None:
    first = _issue(owner, badge, idempotency_key="req-1")
    again = _issue(owner, badge, idempotency_key="req-1")
    assert again.pk == first.pk
    assert Award.objects.count() == 1
    with pytest.raises(Conflict) as caught:
        _issue(owner, badge, recipient="someone@else.example", idempotency_key="req-1")
    assert caught.value.status == 409
    assert Award.objects.count() == 1
    assert _issue(owner, badge, idempotency_key="req-2").pk != first.pk


def test_status_indexes_are_random_unique_and_lists_are_per_issuer_and_purpose(owner, issuer, badge) -> None:
    awards = [_issue(owner, badge, recipient=f"r{n}@example.org") for n in range(12)]
    revocation = {a.revocation_index for a in awards}
    assert len(revocation) == 12
    assert len({a.suspension_index for a in awards}) == 12
    assert sorted(revocation) != list(range(min(revocation), min(revocation) + 12))  # not sequential
    assert max(revocation) > 1000  # spread over the list (probability of failing: ~1e-40)
    assert StatusList.objects.filter(issuer=issuer).count() == 2
    (revocation_list,) = StatusList.objects.filter(issuer=issuer, purpose="revocation")
    assert revocation_list.size == MIN_BITS
    assert revocation_list.allocated == 12
    assert len(bytes(revocation_list.bits)) == MIN_BITS // 8


def test_a_full_list_starts_a_new_one(owner, issuer, badge) -> None:
    first = _issue(owner, badge)
    StatusList.objects.filter(pk=first.revocation_list_id).update(allocated=MIN_BITS)
    second = _issue(owner, badge, recipient="b@example.org")
    assert second.revocation_list_id != first.revocation_list_id
    assert second.suspension_list_id == first.suspension_list_id


def test_revocation_is_visible_at_once_and_permanent(owner, badge) -> None:
    award = _issue(owner, badge)
    fetch = ClientFetch()
    assert fetch.verifier().verify(award.credential).verdict == "valid"
    revoke_award(actor=owner, award=award, reason="Issued by mistake")
    award.refresh_from_db()
    assert (award.status, award.status_reason) == (AwardStatus.REVOKED, "Issued by mistake")
    assert statuslists.is_set(StatusList.objects.get(pk=award.revocation_list_id), award.revocation_index)
    report = fetch.verifier().verify(award.credential)
    assert report.verdict == "invalid"
    assert check(report, "status") == ("failed", "revoked")
    with pytest.raises(ServiceError, match="permanent"):
        unsuspend_award(actor=owner, award=award)
    with pytest.raises(ServiceError, match="permanent"):
        suspend_award(actor=owner, award=award, reason="x")
    with pytest.raises(ServiceError, match="already revoked"):
        revoke_award(actor=owner, award=award, reason="again")
    assert AuditEvent.objects.filter(verb="award.revoked", object_id=award.public_id).exists()


def test_suspension_sets_and_clears_its_bit(owner, badge) -> None:
    award = _issue(owner, badge)
    with pytest.raises(ServiceError, match="reason"):
        suspend_award(actor=owner, award=award, reason="  ")
    suspend_award(actor=owner, award=award, reason="Under review")
    award.refresh_from_db()
    suspension = StatusList.objects.get(pk=award.suspension_list_id)
    assert award.status == AwardStatus.SUSPENDED
    assert statuslists.is_set(suspension, award.suspension_index)
    listed = ClientFetch()(statuslists.list_url(suspension))
    assert b"BitstringStatusListCredential" in listed
    unsuspend_award(actor=owner, award=award)
    award.refresh_from_db()
    assert award.status == AwardStatus.ACTIVE
    assert not statuslists.is_set(StatusList.objects.get(pk=award.suspension_list_id), award.suspension_index)
    with pytest.raises(ServiceError, match="not suspended"):
        unsuspend_award(actor=owner, award=award)
    assert [e.verb for e in AuditEvent.objects.filter(object_id=award.public_id).order_by("id")] == [
        "award.issued", "award.suspended", "award.unsuspended"]


def test_the_signed_list_is_cached_until_a_bit_changes(owner, badge) -> None:
    award = _issue(owner, badge)
    status_list = StatusList.objects.get(pk=award.revocation_list_id)
    first = statuslists.signed_list_credential(status_list)
    assert statuslists.signed_list_credential(status_list) == first
    statuslists.set_bit(status_list, award.revocation_index)
    second = statuslists.signed_list_credential(status_list)
    assert second["credentialSubject"]["encodedList"] != first["credentialSubject"]["encodedList"]
    status_list.refresh_from_db()
    assert status_list.signed_version == status_list.version == 1


def test_ob2_recipient_uses_the_same_salt(owner, badge) -> None:
    from insignia.awards.credentials import hosted_assertion

    award = _issue(owner, badge)
    assertion = hosted_assertion(award)
    assert ob2_recipient_matches(assertion["recipient"], "ada@example.org")
    assert assertion["recipient"]["salt"] == award.credential["credentialSubject"]["identifier"][0]["salt"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuance_never_shares_an_entry_or_opens_two_lists(member) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    owner = member(Role.OWNER)
    badge = make_badge(owner, make_issuer(owner))

    def work(n: int) -> list[tuple[int, int, int, int]]:
        try:
            made = [_issue(owner, badge, recipient=f"t{n}-{i}@example.org") for i in range(3)]
            return [(a.revocation_list_id, a.revocation_index, a.suspension_list_id, a.suspension_index) for a in made]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [entry for batch in pool.map(work, range(4)) for entry in batch]
    assert len(results) == 12
    assert len({(r[0], r[1]) for r in results}) == 12
    assert len({(r[2], r[3]) for r in results}) == 12
    assert StatusList.objects.count() == 2
    assert sorted(StatusList.objects.values_list("allocated", flat=True)) == [12, 12]
