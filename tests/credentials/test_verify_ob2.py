"""Open Badges 2.0 through the verification pipeline: hosted (re-fetched from the issuer) and signed (JWS).

Each case names the verdict and the check that decides it. The issuer's documents live on a ``Network``
test double; every component of ours runs for real against it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from insignia.credentials.baking import bake, unbake
from insignia.credentials.encoding import b64url_decode, b64url_encode
from insignia.credentials.keys import RsaSigner
from insignia.credentials.model.ob2 import CryptographicKey
from insignia.credentials.verify.pipeline import Verifier
from insignia.credentials.verify.report import Verdict, VerificationReport
from tests.credentials.world import NOW, PLAIN_SVG, RECIPIENT, Network, Ob2Issuer, plain_png

PNG = plain_png()
IMAGES = {"png": PNG, "svg": PLAIN_SVG}
ELSEWHERE = "https://badges.elsewhere.example"


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
def issuer(network: Network) -> Ob2Issuer:
    return Ob2Issuer(network)


@pytest.fixture
def verifier(network: Network) -> Verifier:
    return Verifier(fetch=network)


def _status(report: VerificationReport, check_id: str) -> tuple[str, str]:
    check = report.get(check_id)
    assert check is not None, f"no {check_id} check in {report.to_json()}"
    return str(check.status), check.code


def _message(report: VerificationReport, check_id: str) -> str:
    check = report.get(check_id)
    assert check is not None
    return check.message


# == hosted ====================================================================================================


def test_hosted_url_is_fetched_and_every_check_passes(issuer: Ob2Issuer, verifier: Verifier,
                                                      network: Network) -> None:
    url = issuer.host(issuer.assertion())
    report = verifier.verify(url, now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert [c.id for c in report.checks] == [
        "format", "schema", "proof", "issuer_key", "validity", "status", "recipient", "endorsements"
    ]
    assert _status(report, "format") == ("passed", "ob2_hosted")
    assert _status(report, "proof") == ("passed", "hosted_verified")
    assert _status(report, "issuer_key") == ("passed", "hosted_origin")
    assert _status(report, "status") == ("passed", "not_revoked")
    assert report.source == url
    assert network.requests[0] == url
    summary = report.summary
    assert (summary.standard, summary.format) == ("ob2", "hosted")
    assert (summary.issuer_id, summary.issuer_name) == (issuer.issuer_id, "Acme Academy")
    assert summary.achievement_name == "Data Stewardship"
    assert summary.valid_from == "2026-11-22T12:00:00Z"


def test_hosted_json_is_re_fetched_and_the_hosted_copy_is_used(issuer: Ob2Issuer, verifier: Verifier,
                                                                network: Network) -> None:
    hosted = issuer.assertion()
    issuer.host(hosted)
    given = issuer.assertion(recipient="mallory@example.org", issued_on=NOW - timedelta(days=300))
    assert given["id"] == hosted["id"]
    assert given != hosted
    report = verifier.verify(given, recipient=RECIPIENT, now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert hosted["id"] in network.requests
    assert report.credential == hosted
    assert report.summary.valid_from == hosted["issuedOn"]
    # the recipient is checked against the issuer's copy, not the one handed in
    assert _status(report, "recipient") == ("passed", "recipient_match")
    assert _status(verifier.verify(given, recipient="mallory@example.org", now=NOW), "recipient") == (
        "failed", "recipient_mismatch")


def test_hosted_json_that_the_issuer_does_not_serve_is_indeterminate(issuer: Ob2Issuer, verifier: Verifier) -> None:
    report = verifier.verify(issuer.assertion("never-published"), now=NOW)
    assert report.verdict is Verdict.INDETERMINATE
    assert _status(report, "proof") == ("not_checked", "http_404")


def test_hosted_json_with_a_non_url_id_fails(issuer: Ob2Issuer, verifier: Verifier) -> None:
    assertion = issuer.assertion()
    assertion["id"] = "urn:uuid:2f1e9a9c-33a4-4b4a-9d1e-0c4ad9b6f001"
    report = verifier.verify(assertion, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("failed", "hosted_id_invalid")


@pytest.mark.parametrize("image", ["png", "svg"])
@pytest.mark.parametrize("payload", ["url", "json"])
def test_baked_hosted_assertions_verify(issuer: Ob2Issuer, verifier: Verifier, image: str, payload: str) -> None:
    assertion = issuer.assertion()
    url = issuer.host(assertion)
    baked = bake(IMAGES[image], url if payload == "url" else json.dumps(assertion), flavour="ob2")
    assert unbake(baked).flavour == "ob2"
    report = verifier.verify(baked, now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert _status(report, "proof") == ("passed", "hosted_verified")
    assert report.summary.format == image
    assert report.credential == assertion


@pytest.mark.parametrize("form", ["url", "json", "baked-url", "baked-json"])
def test_hosted_assertion_answering_410_gone_is_revoked(issuer: Ob2Issuer, verifier: Verifier, network: Network,
                                                        form: str) -> None:
    assertion = issuer.assertion()
    url = assertion["id"]
    network.pages[url] = 410
    data: bytes | str | dict = {
        "url": url,
        "json": assertion,
        "baked-url": bake(PNG, url, flavour="ob2"),
        "baked-json": bake(PNG, json.dumps(assertion), flavour="ob2"),
    }[form]
    report = verifier.verify(data, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "status") == ("failed", "revoked")


def test_hosted_copy_marked_revoked_with_a_reason(issuer: Ob2Issuer, verifier: Verifier) -> None:
    assertion = issuer.assertion()
    issuer.host({**assertion, "revoked": True, "revocationReason": "Awarded in error"})
    for data in (assertion["id"], assertion):
        report = verifier.verify(data, now=NOW)
        assert report.verdict is Verdict.INVALID
        assert _status(report, "status") == ("failed", "revoked")
        assert "Awarded in error" in _message(report, "status")


def test_hosted_on_another_origin_than_the_issuer_fails(issuer: Ob2Issuer, verifier: Verifier) -> None:
    url = issuer.host(issuer.assertion(host=ELSEWHERE))
    report = verifier.verify(url, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("failed", "hosted_origin_mismatch")
    assert _status(report, "issuer_key") == ("not_checked", "not_reached")


@pytest.mark.parametrize("allowed", ["badges.elsewhere.example", ELSEWHERE])
def test_allowed_origins_lets_the_issuer_host_elsewhere(network: Network, verifier: Verifier, allowed: str) -> None:
    issuer = Ob2Issuer(network, allowed_origins=(allowed,))
    url = issuer.host(issuer.assertion(host=ELSEWHERE))
    report = verifier.verify(url, now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert _status(report, "proof") == ("passed", "hosted_verified")
    # …but only the origins it names
    other = issuer.host(issuer.assertion(host="https://badges.third.example"))
    assert _status(verifier.verify(other, now=NOW), "proof") == ("failed", "hosted_origin_mismatch")


def test_expired_and_not_yet_valid(issuer: Ob2Issuer, verifier: Verifier) -> None:
    expired = issuer.host(issuer.assertion("old", issued_on=NOW - timedelta(days=10),
                                           expires=NOW - timedelta(days=1)))
    report = verifier.verify(expired, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "validity") == ("failed", "expired")
    future = issuer.host(issuer.assertion("future", issued_on=NOW + timedelta(days=2)))
    assert _status(verifier.verify(future, now=NOW), "validity") == ("failed", "not_yet_valid")
    current = issuer.host(issuer.assertion("current", expires=NOW + timedelta(days=30)))
    assert verifier.verify(current, now=NOW).verdict is Verdict.VALID


def test_issued_on_without_a_time_zone_fails(issuer: Ob2Issuer, verifier: Verifier) -> None:
    assertion = issuer.assertion()
    assertion["issuedOn"] = "2026-11-22T12:00:00"
    url = issuer.host(assertion)
    report = verifier.verify(url, now=NOW)
    assert report.verdict is Verdict.INVALID
    # both the shape check and the date check refuse it
    assert _status(report, "schema") == ("failed", "schema_invalid")
    assert "issuedOn" in _message(report, "schema")
    assert _status(report, "validity") == ("failed", "date_invalid")


def test_issuer_without_email_fails_the_structure_check(network: Network, verifier: Verifier) -> None:
    issuer = Ob2Issuer(network, email=None)
    report = verifier.verify(issuer.host(issuer.assertion()), now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "schema") == ("failed", "schema_invalid")
    assert "email" in _message(report, "schema")


@pytest.mark.parametrize("salt", ["deadbeefcafe", ""])
def test_hashed_email_recipient_match_and_mismatch(issuer: Ob2Issuer, verifier: Verifier, salt: str) -> None:
    assertion = issuer.assertion(salt=salt)
    assert assertion["recipient"]["hashed"] is True
    assert assertion["recipient"]["identity"].startswith("sha256$")
    url = issuer.host(assertion)
    report = verifier.verify(url, recipient=" Ada@Example.org ", now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert _status(report, "recipient") == ("passed", "recipient_match")
    report = verifier.verify(url, recipient="eve@example.org", now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "recipient") == ("failed", "recipient_mismatch")


def test_recipient_hash_with_the_wrong_salt_does_not_match(issuer: Ob2Issuer, verifier: Verifier) -> None:
    assertion = issuer.assertion()
    assertion["recipient"]["salt"] = "another-salt"
    report = verifier.verify(issuer.host(assertion), recipient=RECIPIENT, now=NOW)
    assert _status(report, "recipient") == ("failed", "recipient_mismatch")


@pytest.mark.parametrize("missing", ["badge", "issuer"])
def test_unreachable_badge_class_or_issuer_is_indeterminate(issuer: Ob2Issuer, verifier: Verifier, network: Network,
                                                            missing: str) -> None:
    url = issuer.host(issuer.assertion())
    del network.pages[issuer.badge_id if missing == "badge" else issuer.issuer_id]
    report = verifier.verify(url, now=NOW)
    assert report.verdict is Verdict.INDETERMINATE, report.to_json()
    assert _status(report, "schema") == ("not_checked", "linked_document_unavailable")
    assert _status(report, "proof") == ("not_checked", "issuer_unavailable")
    assert _status(report, "issuer_key") == ("not_checked", "not_reached")


def test_badge_class_that_is_not_json_is_indeterminate_not_a_crash(issuer: Ob2Issuer, verifier: Verifier,
                                                                   network: Network) -> None:
    url = issuer.host(issuer.assertion())
    network.pages[issuer.badge_id] = b"<html>Not found</html>"
    report = verifier.verify(url, now=NOW)
    assert report.verdict is Verdict.INDETERMINATE
    assert _status(report, "format") == ("passed", "ob2_hosted")
    assert _status(report, "schema") == ("not_checked", "linked_document_unavailable")


def test_hosted_url_without_network_is_indeterminate(issuer: Ob2Issuer) -> None:
    report = Verifier().verify(issuer.host(issuer.assertion()), now=NOW)
    assert report.verdict is Verdict.INDETERMINATE
    assert _status(report, "format") == ("not_checked", "network_disabled")


def test_odd_revocation_reason_and_badge_image_do_not_crash(issuer: Ob2Issuer, verifier: Verifier) -> None:
    assertion = issuer.assertion()
    badge = issuer.badge_class()
    badge["image"] = ["https://issuer.example/a.png"]
    issuer.host({**assertion, "badge": badge, "revoked": True, "revocationReason": 42})
    report = verifier.verify(assertion["id"], now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "status") == ("failed", "revoked")


# == signed ====================================================================================================


def _signed(issuer: Ob2Issuer, slug: str = "s1") -> tuple[dict, str]:
    assertion = issuer.assertion(slug, signed=True)
    return assertion, issuer.sign(assertion)


def test_signed_assertion_verifies(issuer: Ob2Issuer, verifier: Verifier) -> None:
    assertion, token = _signed(issuer)
    assert assertion["verification"] == {"type": "signed", "creator": issuer.key_id}
    report = verifier.verify(token, recipient=RECIPIENT, now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert _status(report, "format") == ("passed", "ob2_signed")
    assert _status(report, "schema") == ("passed", "schema_valid")
    assert _status(report, "proof") == ("passed", "signature_valid")
    assert _status(report, "issuer_key") == ("passed", "issuer_key_bound")
    assert _status(report, "status") == ("passed", "not_revoked")
    assert _status(report, "recipient") == ("passed", "recipient_match")
    assert report.credential == assertion
    assert report.source == token
    assert (report.summary.standard, report.summary.format) == ("ob2", "jws")


@pytest.mark.parametrize("image", ["png", "svg"])
def test_baked_signed_assertion_verifies(issuer: Ob2Issuer, verifier: Verifier, image: str) -> None:
    _, token = _signed(issuer)
    report = verifier.verify(bake(IMAGES[image], token, flavour="ob2"), now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert _status(report, "proof") == ("passed", "signature_valid")
    assert report.summary.format == image


def test_tampered_payload_fails_the_signature(issuer: Ob2Issuer, verifier: Verifier) -> None:
    _, token = _signed(issuer)
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["issuedOn"] = "2020-01-01T00:00:00Z"
    forged = ".".join([header, b64url_encode(json.dumps(claims).encode()), signature])
    report = verifier.verify(forged, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("failed", "signature_invalid")
    assert _status(report, "issuer_key") == ("not_checked", "not_reached")


def test_tampered_signature_fails(issuer: Ob2Issuer, verifier: Verifier) -> None:
    _, token = _signed(issuer)
    header, payload, signature = token.split(".")
    raw = bytearray(b64url_decode(signature))
    raw[10] ^= 0x01
    report = verifier.verify(".".join([header, payload, b64url_encode(bytes(raw))]), now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("failed", "signature_invalid")


def test_signed_by_another_key_fails(issuer: Ob2Issuer, verifier: Verifier) -> None:
    assertion, _ = _signed(issuer)
    report = verifier.verify(issuer.sign(assertion, RsaSigner.generate()), now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("failed", "signature_invalid")


def test_key_owned_by_someone_else_fails_the_issuer_key_check(issuer: Ob2Issuer, verifier: Verifier,
                                                              network: Network) -> None:
    network.put_json(issuer.key_id, issuer.key(owner="https://impostor.example/issuer"))
    _, token = _signed(issuer)
    report = verifier.verify(token, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("passed", "signature_valid")
    assert _status(report, "issuer_key") == ("failed", "issuer_key_mismatch")


def test_a_key_the_issuer_does_not_list_fails(issuer: Ob2Issuer, verifier: Verifier, network: Network) -> None:
    # An attacker publishes its own key claiming the victim as owner; the victim's profile does not list it.
    attacker = RsaSigner.generate()
    attacker_key = "https://attacker.example/keys/1"
    network.put_json(attacker_key, CryptographicKey(id=attacker_key, owner=issuer.issuer_id,
                                                    public_key_pem=attacker.public_key_pem()).to_json())
    assertion = issuer.assertion("s1", signed=True)
    assertion["verification"]["creator"] = attacker_key
    report = verifier.verify(issuer.sign(assertion, attacker), now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("passed", "signature_valid")
    assert _status(report, "issuer_key") == ("failed", "key_not_listed")


def test_unreachable_key_is_indeterminate(issuer: Ob2Issuer, verifier: Verifier, network: Network) -> None:
    network.pages[issuer.key_id] = 503
    _, token = _signed(issuer)
    report = verifier.verify(token, now=NOW)
    assert report.verdict is Verdict.INDETERMINATE
    assert _status(report, "proof") == ("not_checked", "http_503")


@pytest.mark.parametrize("reason", ["Academic misconduct", None])
def test_assertion_on_the_revocation_list_is_revoked(issuer: Ob2Issuer, verifier: Verifier,
                                                     reason: str | None) -> None:
    assertion, token = _signed(issuer)
    issuer.revoke(issuer.assertion("other", signed=True)["id"], "Unrelated")
    assert verifier.verify(token, now=NOW).verdict is Verdict.VALID
    issuer.revoke(assertion["id"], reason)
    report = verifier.verify(token, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "status") == ("failed", "revoked")
    if reason:
        assert reason in _message(report, "status")


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'{"type": "RevocationList", "revokedAssertions": "all of them"}',
        b'{"type": "SomethingElse", "revokedAssertions": []}',
        b"[" * 10_000,
    ],
    ids=["text", "binary", "array", "entries-not-array", "wrong-type", "too-deep"],
)
def test_malformed_revocation_list_fails_the_status_check(issuer: Ob2Issuer, verifier: Verifier, network: Network,
                                                          body: bytes) -> None:
    _, token = _signed(issuer)
    network.pages[issuer.revocation_list_url] = body
    report = verifier.verify(token, now=NOW)
    assert report.verdict is Verdict.INVALID, report.to_json()
    assert _status(report, "status") == ("failed", "revocation_list_invalid")
    assert _status(report, "format") == ("passed", "ob2_signed")


def test_unreachable_revocation_list_is_indeterminate(issuer: Ob2Issuer, verifier: Verifier,
                                                      network: Network) -> None:
    _, token = _signed(issuer)
    network.pages[issuer.revocation_list_url] = 503
    report = verifier.verify(token, now=NOW)
    assert report.verdict is Verdict.INDETERMINATE
    assert _status(report, "status") == ("not_checked", "http_503")


def test_signed_verification_without_a_signature_fails(issuer: Ob2Issuer, verifier: Verifier) -> None:
    assertion, _ = _signed(issuer)
    report = verifier.verify(assertion, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("failed", "signature_missing")


def _token(header: dict, payload: str, signature: bytes) -> str:
    return f"{b64url_encode(json.dumps(header).encode())}.{payload}.{b64url_encode(signature)}"


@pytest.mark.parametrize("alg", ["none", "None", "HS256"])
def test_unsigned_and_symmetric_tokens_are_refused(issuer: Ob2Issuer, verifier: Verifier, alg: str) -> None:
    _, token = _signed(issuer)
    payload = token.split(".")[1]
    if alg == "HS256":
        # the classic confusion attack: HMAC keyed with the issuer's public key PEM
        header = b64url_encode(json.dumps({"alg": alg}).encode())
        key = issuer.rsa.public_key_pem().encode()
        signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    else:
        signature = b""
    report = verifier.verify(_token({"alg": alg}, payload, signature), now=NOW)
    assert report.verdict is Verdict.INVALID
    status, code = _status(report, "format")
    assert status == "failed"
    assert code == ("jws_alg_unsupported" if alg == "HS256" else "jws_alg_none")
    assert report.get("proof") is None or _status(report, "proof")[0] != "passed"
