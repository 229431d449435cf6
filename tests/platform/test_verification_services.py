"""The platform verifier's services, and the CLI surface of the verification matrix.

``instance_fetch`` answers this instance's URLs from its own views and sends the rest to the hardened
fetcher; ``verify_stored_award`` sees revocation at once; ``verify_submission`` adds trust signals and
refuses malformed requests. The matrix in ``verification_support`` is asserted here through the service
itself and through ``insignia verify --instance --json``; the API and page tests assert the same table.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from insignia.awards.services import issue_award, revoke_award, suspend_award, unsuspend_award
from insignia.core.models import Role
from insignia.credentials.errors import FetchError
from insignia.issuers.identity import did_document_url, issuer_did
from insignia.verification import services
from insignia.verification.services import SubmissionError, instance_fetch, verify_stored_award, verify_submission
from tests.conftest import spec_path
from tests.platform.test_awards_support import check, make_badge, make_issuer
from tests.platform.verification_support import RECIPIENT, Answer, answer_from_json, build_cases, run_cli, via_cli

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limit(settings: Any) -> None:
    settings.VERIFY_RATE_LIMIT = "off"


@pytest.fixture
def owner(member: Any) -> Any:
    return member(Role.OWNER)


@pytest.fixture
def issuer(owner: Any) -> Any:
    return make_issuer(owner)


@pytest.fixture
def badge(owner: Any, issuer: Any) -> Any:
    return make_badge(owner, issuer)


def _mismatches(cases: list[Any], answer_for: Any) -> list[str]:
    problems = []
    for case in cases:
        answer: Answer = answer_for(case)
        if not answer.matches(case):
            problems.append(f"{case.name}: expected {case.verdict} {case.check}={case.status}/{case.code} "
                            f"trust={case.trust}; got {answer.verdict} {answer.checks} trust={answer.trust}")
    return problems


def test_matrix_through_the_service(owner: Any) -> None:
    def answer_for(case: Any) -> Answer:
        inputs: dict[str, Any] = {"url": case.value} if case.kind == "url" else (
            {"file_bytes": case.value} if case.kind == "file" else {"credential": case.value})
        return answer_from_json(verify_submission(recipient=case.recipient, **inputs).to_json())

    assert _mismatches(build_cases(owner), answer_for) == []


def test_matrix_through_the_cli(owner: Any, tmp_path: Path) -> None:
    assert _mismatches(build_cases(owner), lambda case: via_cli(tmp_path, case)) == []


def test_cli_human_output_shows_the_trust_signal(owner: Any, badge: Any, tmp_path: Path) -> None:
    award = issue_award(actor=owner, badge=badge, recipient=RECIPIENT)
    status, out, _ = run_cli("verify", "--instance", award.credential_id)
    assert status == 0
    assert out.startswith("VALID")
    assert "Trust:   Issued by Acme Academy, an issuer on this Insignia instance. [known]" in out


def test_cli_refuses_an_oversized_file_and_flag_clashes(tmp_path: Path, settings: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 1024
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"x": "y" * 5000}))
    status, out, err = run_cli("verify", "--instance", "--json", str(big))
    assert (status, out) == (3, "")
    assert "larger than 1,024 bytes" in err
    status, _, err = run_cli("verify", "--instance", "--offline", str(big))
    assert status == 3
    assert "--instance cannot be combined" in err


# == instance_fetch ==============================================================================================


def test_instance_fetch_serves_our_documents_in_process(issuer: Any, owner: Any, badge: Any) -> None:
    document = json.loads(instance_fetch(did_document_url(issuer)))
    assert document["id"] == issuer_did(issuer)
    # did:web always names https: the https form of a development base URL is ours too
    https_form = did_document_url(issuer).replace("http://", "https://")
    assert json.loads(instance_fetch(https_form))["id"] == issuer_did(issuer)
    award = issue_award(actor=owner, badge=badge, recipient=RECIPIENT)
    assert json.loads(instance_fetch(award.credential_id)) == award.credential  # content negotiation: JSON
    status_url = award.credential["credentialStatus"]["statusListCredential"]
    assert "BitstringStatusListCredential" in json.loads(instance_fetch(status_url))["type"]


def test_instance_fetch_reports_missing_and_non_public_paths(issuer: Any) -> None:
    base = services.settings.BASE_URL
    with pytest.raises(FetchError) as missing:
        instance_fetch(f"{base}/i/nobody/did.json")
    assert missing.value.status == 404
    with pytest.raises(FetchError) as private:  # a management page is not something a verifier may read
        instance_fetch(f"{base}/orgs/{issuer.organisation.public_id}/issuers/")
    assert private.value.status == 404
    with pytest.raises(FetchError) as nowhere:
        instance_fetch(f"{base}/no/such/page")
    assert nowhere.value.status == 404


def test_revoked_hosted_assertion_is_410_in_process(owner: Any, badge: Any) -> None:
    award = issue_award(actor=owner, badge=badge, recipient=RECIPIENT)
    revoke_award(actor=owner, award=award, reason="Error.")
    with pytest.raises(FetchError) as gone:
        instance_fetch(f"{services.settings.BASE_URL}/c/{award.public_id}/assertion")
    assert gone.value.status == 410


def test_other_hosts_go_to_the_hardened_fetcher_which_refuses_private_targets() -> None:
    for url, code in (("https://127.0.0.1:8001/x", "address_forbidden"), ("http://localhost:9/x", "https_required"),
                      ("https://169.254.169.254/latest/meta-data/", "address_forbidden")):
        with pytest.raises(FetchError) as refused:
            instance_fetch(url)
        assert refused.value.code == code, url


def test_a_base_path_prefix_is_respected(settings: Any, issuer: Any) -> None:
    settings.BASE_URL = "https://badges.example.org/acme"
    assert services._instance_path("https://badges.example.org/acme/i/x/did.json") == "/i/x/did.json"
    assert services._instance_path("https://badges.example.org/other/i/x/did.json") is None
    assert services._instance_path("https://badges.example.org:8443/acme/i/x") is None
    assert services._instance_path("https://evil.example/acme/i/x") is None


# == verify_stored_award: status is live =========================================================================


def test_stored_award_status_changes_show_immediately(owner: Any, badge: Any) -> None:
    award = issue_award(actor=owner, badge=badge, recipient=RECIPIENT)
    assert verify_stored_award(award).verdict == "valid"
    suspend_award(actor=owner, award=award, reason="Checking.")
    report = verify_stored_award(award)
    assert (report.verdict, check(report, "status")) == ("invalid", ("failed", "suspended"))
    unsuspend_award(actor=owner, award=award)
    assert verify_stored_award(award).verdict == "valid"
    revoke_award(actor=owner, award=award, reason="Error.")
    report = verify_stored_award(award)
    assert (report.verdict, check(report, "status")) == ("invalid", ("failed", "revoked"))


def test_stored_award_dates_use_the_given_clock(owner: Any, badge: Any) -> None:
    award = issue_award(actor=owner, badge=badge, recipient=RECIPIENT)
    report = verify_stored_award(award, now=timezone.now() - timedelta(days=2))
    assert check(report, "validity") == ("failed", "not_yet_valid")


# == verify_submission: requests and trust =======================================================================


@pytest.mark.parametrize(("inputs", "code", "status"), [
    ({}, "input_missing", 400),
    ({"credential": "", "url": ""}, "input_missing", 400),
    ({"credential": "{}", "url": "https://example.org/b"}, "input_ambiguous", 400),
    ({"url": "ftp://example.org/badge"}, "url_invalid", 400),
    ({"url": "not a url"}, "url_invalid", 400),
    ({"credential": 42}, "input_invalid", 400),
    ({"credential": "x", "recipient": "r" * 501}, "recipient_invalid", 400),
])
def test_malformed_requests_are_refused(inputs: dict[str, Any], code: str, status: int) -> None:
    with pytest.raises(SubmissionError) as refused:
        verify_submission(**inputs)
    assert (refused.value.code, refused.value.status) == (code, status)


def test_oversized_input_is_413(settings: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 2048
    for inputs in ({"credential": "x" * 3000}, {"file_bytes": b"x" * 3000}, {"credential": {"x": "y" * 3000}}):
        with pytest.raises(SubmissionError) as refused:
            verify_submission(**inputs)
        assert (refused.value.code, refused.value.status) == ("input_too_large", 413)


def test_trust_for_a_foreign_did_web_issuer_names_its_domain() -> None:
    from insignia.credentials.verify.report import VerificationReport

    report = VerificationReport()
    report.summary.issuer_id = "did:web:badges.university.example:issuers:7"
    report.passed("proof", "signature_valid", "ok")
    report.passed("issuer_key", "issuer_key_bound", "ok")
    trust = services.trust_signals(report)
    assert (trust.level, trust.domain, trust.issuer_known) == ("domain", "badges.university.example", False)
    report.failed("issuer_key", "issuer_key_mismatch", "no")  # no binding: nothing can be said
    assert services.trust_signals(report).level == "unverified"


def test_our_issuer_id_with_a_foreign_key_is_not_trusted(issuer: Any) -> None:
    """A credential that names our issuer but is signed by someone else's key must not borrow our name."""
    from tests.credentials.world import did_key_credential, did_key_signer

    forged = did_key_credential(did_key_signer(), now=timezone.now())
    forged["issuer"] = {"id": issuer_did(issuer), "type": ["Profile"], "name": "Acme Academy"}
    result = verify_submission(credential=forged)
    assert result.verdict == "invalid"
    assert result.trust.level == "unverified"
    assert not result.trust.issuer_known


def test_1edtech_signed_example_is_not_called_invalid_when_its_issuer_is_unreachable() -> None:
    """1EdTech's signed OB 3.0 vector names an issuer at example.edu: the signature cannot be checked here."""
    signed = spec_path("test-vectors", "ob_v3p0-eddsa-rdfc-2022", "credential.signed.json").read_text()
    result = verify_submission(credential=signed)
    assert result.verdict == "indeterminate"
    assert result.report.get("proof").status == "not_checked"
    assert result.report.get("format").code == "ob3_json"
    assert result.report.get("schema").status == "passed"
    assert result.trust.level == "unverified"
