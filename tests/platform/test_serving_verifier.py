"""The verifier's hot path (``POST /api/v1/verify``, the page's live check): what it reads and caches.

Our own documents (DID documents, signed status lists) are kept per process under their current version, read
live with one small query each; one verification reads each once; our award and its issuer come from one query.
None of that may ever answer from a stale state: a revocation, suspension, unsuspension or new key shows on the
very next verification. No timings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from insignia.awards.models import Award
from insignia.awards.services import issue_award, revoke_award, suspend_award, unsuspend_award
from insignia.core.models import Role
from insignia.issuers.identity import did_document_url
from insignia.issuers.models import SigningKey
from insignia.issuers.services import rotate_keys, update_issuer
from insignia.verification import services
from insignia.verification.services import verify_stored_award, verify_submission
from tests.platform.test_awards_support import check, make_badge, make_issuer
from tests.platform.verification_support import deep_json

pytestmark = pytest.mark.django_db

RECIPIENT = "ada@example.org"


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Any:
    settings.VERIFY_RATE_LIMIT = "off"
    cache.clear()
    services._local_documents.clear()
    yield
    cache.clear()
    services._local_documents.clear()


@pytest.fixture
def owner(member: Any) -> Any:
    return member(Role.OWNER)


@pytest.fixture
def badge(owner: Any) -> Any:
    return make_badge(owner, make_issuer(owner))


@pytest.fixture
def award(owner: Any, badge: Any) -> Award:
    return issue_award(actor=owner, badge=badge, recipient=RECIPIENT, recipient_name="Ada Lovelace")


def _fresh_award(award: Award) -> Award:
    return Award.objects.get(pk=award.pk)


def _status_entries(award: Award) -> list[dict[str, Any]]:
    entries = award.credential["credentialStatus"]
    return entries if isinstance(entries, list) else [entries]


# == what one verification reads ==============================================================================


def test_a_warm_verification_reads_each_document_version_once_and_the_award_once(award: Award) -> None:
    assert verify_submission(credential=award.credential, recipient=RECIPIENT).verdict == "valid"  # warms
    with CaptureQueriesContext(connection) as queries:
        result = verify_submission(credential=award.credential, recipient=RECIPIENT)
    assert (result.verdict, result.trust.level) == ("valid", "known")
    assert check(result.report, "recipient")[:2] == ("passed", "recipient_match")
    lists = {entry["statusListCredential"] for entry in _status_entries(award)}
    # the DID document's version (needed twice: the credential's proof and its status list's proof), each status
    # list's version, and the award with its issuer: nothing else, and nothing twice
    assert len(queries.captured_queries) == 1 + len(lists) + 1, [q["sql"] for q in queries.captured_queries]


def test_our_credential_exactly_as_stored_gets_the_stored_award_s_cached_verdict(
        award: Award, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    verifier = services.platform_verifier()
    original = verifier.verify
    monkeypatch.setattr(verifier, "verify", lambda data, **options: calls.append(data) or original(data, **options))
    reordered = dict(reversed(list(json.loads(json.dumps(award.credential)).items())))  # key order aside
    first = verify_submission(credential=reordered)
    with CaptureQueriesContext(connection) as queries:
        again = verify_submission(credential=award.credential)
    assert len(calls) == 1  # the second answer is the cached verdict: the kernel ran once
    assert len(queries.captured_queries) == 1  # the award, with its versions and issuer: one query
    assert first.to_json() == again.to_json()
    assert (again.verdict, again.trust.level, again.trust.issuer_name) == ("valid", "known", "Acme Academy")
    # and it is the answer a full verification gives
    full = services.platform_verifier().verify(json.loads(json.dumps(award.credential)))
    assert again.report.to_json() == full.to_json()


@pytest.mark.parametrize("change", ["name", "type", "bool"])
def test_anything_but_the_stored_credential_is_verified_in_full(award: Award, change: str) -> None:
    altered = json.loads(json.dumps(award.credential))
    if change == "name":
        altered["name"] = altered["name"] + " "
    elif change == "type":
        altered["credentialSubject"]["extra"] = 1
        award.credential["credentialSubject"]["extra"] = 1.0  # equal in Python, not as JSON
        Award.objects.filter(pk=award.pk).update(credential=award.credential)
    else:
        altered["credentialSubject"]["extra"] = True
        award.credential["credentialSubject"]["extra"] = 1  # True == 1 in Python, not as JSON
        Award.objects.filter(pk=award.pk).update(credential=award.credential)
    assert services._stored_twin(altered) is None
    assert verify_submission(credential=altered).verdict == "invalid"  # its signature no longer holds


def test_a_verification_scope_fetches_each_url_once_and_nested_scopes_share_it(award: Award) -> None:
    did_url = did_document_url(award.issuer)
    with services.verification_scope():
        first = services.instance_fetch(did_url)
        with services.verification_scope(), CaptureQueriesContext(connection) as inner:
            assert services.instance_fetch(did_url) == first
        assert inner.captured_queries == []  # answered from the scope's memo: not even a version read
    with CaptureQueriesContext(connection) as outside:
        assert services.instance_fetch(did_url) == first
    assert len(outside.captured_queries) == 1  # outside a scope: the live version read


def test_the_document_cache_is_bounded_and_forgets_the_least_recently_used() -> None:
    documents = services._LocalDocuments(3)
    for name in "abcd":
        documents.put(name, name.encode())
    assert documents.get("a") is None
    assert documents.get("b") == b"b"  # now the most recently used
    documents.put("e", b"e")
    assert (documents.get("c"), documents.get("b"), documents.get("d"), documents.get("e")) == (None, b"b", b"d", b"e")
    assert len(documents.entries) == 3


# == never stale ==============================================================================================


@pytest.mark.parametrize("recipient", [None, RECIPIENT])  # as stored (the cached verdict), and verified in full
def test_revocation_suspension_and_unsuspension_show_on_the_next_verification(award: Award, owner: Any,
                                                                              recipient: str | None) -> None:
    def verify() -> Any:
        return verify_submission(credential=award.credential, recipient=recipient)

    assert verify().verdict == "valid"

    suspend_award(actor=owner, award=_fresh_award(award), reason="Checking.")
    report = verify().report
    assert (report.verdict, check(report, "status")[:2]) == ("invalid", ("failed", "suspended"))

    unsuspend_award(actor=owner, award=_fresh_award(award))  # the list bit clears: a new version of the list
    result = verify()
    assert (result.verdict, check(result.report, "status")[:2]) == ("valid", ("passed", "not_revoked"))
    assert verify_stored_award(_fresh_award(award)).verdict == "valid"

    revoke_award(actor=owner, award=_fresh_award(award), reason="Awarded in error.")
    report = verify().report
    assert (report.verdict, check(report, "status")[:2]) == ("invalid", ("failed", "revoked"))


def test_the_status_list_each_verification_sees_is_the_current_one(award: Award, owner: Any) -> None:
    list_url = next(entry["statusListCredential"] for entry in _status_entries(award)
                    if entry.get("statusPurpose") == "revocation")
    before = services.instance_fetch(list_url)
    revoke_award(actor=owner, award=_fresh_award(award), reason="Error.")
    after = services.instance_fetch(list_url)
    assert after != before
    assert json.loads(after)["credentialSubject"]["encodedList"] != json.loads(before)["credentialSubject"][
        "encodedList"]


@pytest.mark.parametrize("recipient", [None, RECIPIENT])
def test_a_credential_signed_with_a_new_key_verifies_at_once(award: Award, owner: Any, badge: Any,
                                                            recipient: str | None) -> None:
    assert verify_submission(credential=award.credential, recipient=recipient).verdict == "valid"  # the old DID
    rotate_keys(actor=owner, issuer=award.issuer)  # document is cached now; the new one must be read
    newer = issue_award(actor=owner, badge=badge, recipient=RECIPIENT)
    assert newer.credential["proof"]["verificationMethod"] != award.credential["proof"]["verificationMethod"]
    assert verify_submission(credential=newer.credential, recipient=recipient).verdict == "valid"
    assert verify_submission(credential=award.credential, recipient=recipient).verdict == "valid"  # retired keys
    # stay published


@pytest.mark.parametrize("recipient", [None, RECIPIENT])
def test_a_removed_key_no_longer_verifies(award: Award, recipient: str | None) -> None:
    assert verify_submission(credential=award.credential, recipient=recipient).verdict == "valid"
    SigningKey.objects.filter(issuer=award.issuer).delete()
    assert verify_submission(credential=award.credential, recipient=recipient).verdict != "valid"


def test_trust_names_the_issuer_as_it_is_now(award: Award, owner: Any) -> None:
    assert verify_submission(credential=award.credential).trust.issuer_name == "Acme Academy"
    issuer = award.issuer
    update_issuer(actor=owner, issuer=issuer, name="Acme University", url=issuer.url, email=issuer.email)
    result = verify_submission(credential=award.credential)
    assert result.verdict == "valid"
    assert result.trust.issuer_name == "Acme University"
    # the award found by the status check stands for the issuer: the same answer as looking the issuer up
    assert result.trust == services.trust_signals(result.report)


def test_a_credential_naming_our_award_but_another_issuer_is_not_ours(award: Award, owner: Any) -> None:
    other = issue_award(actor=owner, badge=make_badge(owner, make_issuer(owner, "Other Academy")),
                        recipient=RECIPIENT)
    report = verify_submission(credential=other.credential).report
    report.summary.id = award.credential["id"]  # pretend it is about our first award
    assert services._our_award(report) is None


def test_a_submitted_object_is_verified_unchanged(award: Award) -> None:
    submitted = json.loads(json.dumps(award.credential))
    assert verify_submission(credential=submitted).verdict == "valid"
    assert submitted == award.credential  # verifying the parsed object in place changed nothing in it


# == the API ==================================================================================================


def test_api_refuses_nesting_beyond_the_bound_however_deep(client: Client) -> None:
    for levels in (70, 100_000):  # past the kernel's bound, and past what json.loads would recurse into
        response = client.post("/api/v1/verify", '{"credential": ' + deep_json(levels) + "}",
                               content_type="application/json")
        assert response.status_code == 200
        body = response.json()
        assert body["verdict"] == "invalid"
        assert body["checks"][0]["id"] == "format"
        assert (body["checks"][0]["status"], body["checks"][0]["code"]) == ("failed", "json_too_deep")


def test_api_verifies_our_credential_with_trust(award: Award, client: Client) -> None:
    response = client.post("/api/v1/verify", json.dumps({"credential": award.credential}),
                           content_type="application/json")
    body = response.json()
    assert (response.status_code, body["verdict"], body["trust"]["level"]) == (200, "valid", "known")


def test_the_stored_award_query_reads_the_same_versions_as_the_orm(award: Award, owner: Any) -> None:
    rotate_keys(actor=owner, issuer=award.issuer)  # a retired key: a timestamp computed by the database
    suspend_award(actor=owner, award=_fresh_award(award), reason="Checking.")
    by_orm = services.with_verdict_versions(Award.objects.filter(pk=award.pk)).get()
    stored = services.stored_award(public_id=award.public_id)
    assert stored is not None
    assert services.award_versions(stored) == services.award_versions(by_orm)
    assert services.award_versions(services.stored_award(pk=award.pk)) == services.award_versions(by_orm)
    assert services.award_versions(Award.objects.get(pk=award.pk)) == services.award_versions(by_orm)
    assert stored.credential == award.credential
    assert (stored.issuer_public_id, stored.issuer_name) == (award.issuer.public_id, award.issuer.name)
    assert services.stored_award(public_id="nope") is None
    assert services.award_versions(Award(pk=award.pk + 1000)) == ("missing",)
