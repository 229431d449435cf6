"""The verification pipeline, input by input: each case names the verdict and the check that decides it."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from insignia.credentials.baking import bake
from insignia.credentials.dids import did_key_from_public_key
from insignia.credentials.issue import credential_jwt, sign_credential
from insignia.credentials.keys import Ed25519Signer
from insignia.credentials.model.ob3 import EndorsementCredential, EndorsementSubject, Profile
from insignia.credentials.verify.pipeline import Verifier
from insignia.credentials.verify.report import CheckStatus, Verdict
from tests.credentials.world import NOW, RECIPIENT, Issuer, Network


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image as PILImage

    out = BytesIO()
    PILImage.new("RGBA", (8, 8), (20, 90, 200, 255)).save(out, format="PNG")
    return out.getvalue()


PNG_1X1 = _png()
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4"/></svg>'


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
def issuer(network: Network) -> Issuer:
    return Issuer(network)


@pytest.fixture
def verifier(network: Network) -> Verifier:
    return Verifier(fetch=network)


def _status(report, check_id: str) -> tuple[str, str]:
    check = report.get(check_id)
    assert check is not None, f"no {check_id} check in {[c.id for c in report.checks]}"
    return str(check.status), check.code


def test_valid_credential_passes_every_check(issuer: Issuer, verifier: Verifier) -> None:
    report = verifier.verify(issuer.sign(issuer.credential()), now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert [c.id for c in report.checks] == [
        "format", "schema", "proof", "issuer_key", "validity", "status", "recipient", "endorsements"
    ]
    assert _status(report, "recipient") == ("not_checked", "recipient_not_supplied")
    assert report.summary.issuer_name == "Acme Academy"
    assert report.summary.achievement_name == "Data Stewardship"


def test_recipient_match_and_mismatch(issuer: Issuer, verifier: Verifier) -> None:
    signed = issuer.sign(issuer.credential())
    assert _status(verifier.verify(signed, recipient=" Ada@Example.org ", now=NOW), "recipient") == (
        "passed", "recipient_match")
    report = verifier.verify(signed, recipient="eve@example.org", now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "recipient") == ("failed", "recipient_mismatch")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name",), "Something Else"),
        (("credentialSubject", "achievement", "name"), "Brain Surgery"),
        (("credentialSubject", "identifier", 0, "identityHash"), "sha256$" + "0" * 64),
        (("validFrom",), "2020-01-01T00:00:00Z"),
        (("credentialStatus", "statusListIndex"), "7"),
        (("issuer", "name"), "Impostor University"),
    ],
)
def test_changing_any_signed_value_fails_the_signature(issuer: Issuer, verifier: Verifier, path, value) -> None:
    tampered = issuer.sign(issuer.credential())
    node = tampered
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    report = verifier.verify(tampered, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("failed", "signature_invalid")


def test_swapping_the_issuer_fails(network: Network, issuer: Issuer, verifier: Verifier) -> None:
    other = Issuer(network, slug="other")
    signed = issuer.sign(issuer.credential())
    swapped = copy.deepcopy(signed)
    swapped["issuer"]["id"] = other.did
    report = verifier.verify(swapped, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("failed", "signature_invalid")


def test_a_key_of_someone_else_cannot_sign_for_the_issuer(network: Network, issuer: Issuer, verifier: Verifier) -> None:
    attacker = Ed25519Signer.generate()
    attacker_did = did_key_from_public_key(attacker.public_key())
    attacker.key_id = f"{attacker_did}#{attacker_did.split(':')[-1]}"
    forged = sign_credential(issuer.credential(), attacker)  # names the victim as issuer
    report = verifier.verify(forged, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "proof") == ("passed", "signature_valid")
    assert _status(report, "issuer_key") == ("failed", "issuer_key_mismatch")


def test_moving_the_proof_to_another_credential_fails(issuer: Issuer, verifier: Verifier) -> None:
    first = issuer.sign(issuer.credential(index=1))
    second = issuer.credential(index=2, recipient="mallory@example.org")
    second["proof"] = first["proof"]
    report = verifier.verify(second, now=NOW)
    assert _status(report, "proof") == ("failed", "signature_invalid")


def test_an_undefined_term_added_after_signing_is_named(issuer: Issuer, verifier: Verifier) -> None:
    signed = issuer.sign(issuer.credential())
    signed["credentialSubject"]["achievement"]["grade"] = "A+"
    report = verifier.verify(signed, now=NOW)
    assert report.verdict is Verdict.INVALID
    status, code = _status(report, "proof")
    assert (status, code) == ("failed", "undefined_term")
    assert "grade" in report.get("proof").message


def test_expired_and_not_yet_valid(issuer: Issuer, verifier: Verifier) -> None:
    expired = issuer.sign(issuer.credential(valid_from=NOW - timedelta(days=9), valid_until=NOW - timedelta(days=1)))
    assert _status(verifier.verify(expired, now=NOW), "validity") == ("failed", "expired")
    future = issuer.sign(issuer.credential(valid_from=NOW + timedelta(days=2)))
    assert _status(verifier.verify(future, now=NOW), "validity") == ("failed", "not_yet_valid")
    within_skew = issuer.sign(issuer.credential(valid_from=NOW + timedelta(minutes=2)))
    assert verifier.verify(within_skew, now=NOW).verdict is Verdict.VALID


def test_revocation_suspension_and_reinstatement(issuer: Issuer, verifier: Verifier) -> None:
    revocable = issuer.sign(issuer.credential(index=77))
    issuer.set_status("revocation", 77, True)
    report = verifier.verify(revocable, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "status") == ("failed", "revoked")

    suspendable = issuer.sign(issuer.credential(index=78, purpose="suspension"))
    issuer.set_status("suspension", 78, True)
    assert _status(verifier.verify(suspendable, now=NOW), "status") == ("failed", "suspended")
    issuer.set_status("suspension", 78, False)
    verifier.resolver.clear_cache()
    assert verifier.verify(suspendable, now=NOW).verdict is Verdict.VALID


def test_a_status_list_signed_by_someone_else_is_not_trusted(network: Network, issuer: Issuer,
                                                             verifier: Verifier) -> None:
    other = Issuer(network, slug="other")
    signed = issuer.sign(issuer.credential(index=5))
    issuer.publish_list("revocation", signer=other.ed25519, issuer=other.did)  # re-used, foreign list
    report = verifier.verify(signed, now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "status") == ("failed", "status_list_invalid")


def test_a_status_entry_pointing_at_the_wrong_purpose_fails(issuer: Issuer, verifier: Verifier) -> None:
    credential = issuer.credential(index=9)
    credential["credentialStatus"]["statusListCredential"] = issuer.list_url("suspension")
    report = verifier.verify(issuer.sign(credential), now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "status")[0] == "failed"


def test_without_network_the_report_says_what_could_not_be_checked(issuer: Issuer) -> None:
    report = Verifier().verify(issuer.sign(issuer.credential()), now=NOW)
    assert report.verdict is Verdict.INDETERMINATE
    assert _status(report, "proof") == ("not_checked", "verification_method_unresolved")
    assert _status(report, "status")[0] == "not_checked"


def test_unreachable_status_list_is_indeterminate(network: Network, issuer: Issuer, verifier: Verifier) -> None:
    network.pages[issuer.list_url("revocation")] = 503
    report = verifier.verify(issuer.sign(issuer.credential()), now=NOW)
    assert report.verdict is Verdict.INDETERMINATE
    assert _status(report, "status") == ("not_checked", "http_503")


@pytest.mark.parametrize("signer_name", ["rsa", "ed25519"])
def test_vc_jwt_valid_and_tampered(issuer: Issuer, verifier: Verifier, signer_name: str) -> None:
    token = credential_jwt(issuer.credential(), getattr(issuer, signer_name))
    report = verifier.verify(token, recipient=RECIPIENT, now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert report.summary.format == "jwt"
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature])
    bad = verifier.verify(forged, now=NOW)
    assert bad.verdict is Verdict.INVALID


def test_vc_jwt_expired(issuer: Issuer, verifier: Verifier) -> None:
    token = credential_jwt(
        issuer.credential(valid_from=NOW - timedelta(days=9), valid_until=NOW - timedelta(days=3)), issuer.rsa
    )
    assert _status(verifier.verify(token, now=NOW), "validity") == ("failed", "expired")


@pytest.mark.parametrize("image", [PNG_1X1, SVG], ids=["png", "svg"])
@pytest.mark.parametrize("form", ["json", "jwt"])
def test_baked_images_verify(issuer: Issuer, verifier: Verifier, image: bytes, form: str) -> None:
    signed = issuer.sign(issuer.credential())
    payload = json.dumps(signed) if form == "json" else credential_jwt(issuer.credential(), issuer.rsa)
    report = verifier.verify(bake(image, payload), now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert report.summary.format in ("png", "svg")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x00\x01garbage", "not_a_credential"),
        ("{", "json_invalid"),
        ("[" * 100_000, "json_too_deep"),
        ("x" * 3_000_000, "input_too_large"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, None),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><svg>&b;</svg>', None),
        ("not a credential at all", "not_a_credential"),
        ({"@context": "https://www.w3.org/ns/credentials/v2"}, None),
    ],
)
def test_malformed_and_hostile_inputs_are_refused_clearly(verifier: Verifier, data, code) -> None:
    report = verifier.verify(data, now=NOW)
    assert report.verdict is Verdict.INVALID
    failed = [c for c in report.checks if c.status is CheckStatus.FAILED]
    assert failed, report.to_json()
    if code is not None:
        assert failed[0].code == code


def test_embedded_endorsement_is_verified(network: Network, issuer: Issuer, verifier: Verifier) -> None:
    endorser = Issuer(network, slug="guild")
    endorsement = EndorsementCredential(
        id="urn:uuid:11111111-2222-4333-8444-555555555555",
        name="Guild endorsement",
        issuer=Profile(id=endorser.did, name="The Data Guild"),
        valid_from=NOW - timedelta(days=10),
        credential_subject=EndorsementSubject(
            id=f"https://{issuer.host}/achievements/data-stewardship", endorsement_comment="Rigorous."
        ),
    ).to_json()
    signed_endorsement = sign_credential(endorsement, endorser.ed25519)
    report = verifier.verify(issuer.sign(issuer.credential(endorsement=(signed_endorsement,))), now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert _status(report, "endorsements") == ("passed", "endorsements_valid")

    tampered = copy.deepcopy(signed_endorsement)
    tampered["credentialSubject"]["endorsementComment"] = "Sloppy."
    report = verifier.verify(issuer.sign(issuer.credential(endorsement=(tampered,))), now=NOW)
    assert report.verdict is Verdict.INVALID
    assert _status(report, "endorsements") == ("failed", "endorsement_invalid")


def test_official_1edtech_signed_vector_verifies_offline_with_its_issuer_document() -> None:
    from tests.conftest import spec_json

    vector = spec_json("test-vectors", "ob_v3p0-eddsa-rdfc-2022", "vector.json")["keyPair"]
    controller = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": vector["controller"],
        "assertionMethod": [{
            "id": vector["verificationMethod"], "type": "Multikey", "controller": vector["controller"],
            "publicKeyMultibase": vector["publicKeyMultibase"],
        }],
    }
    verifier = Verifier(known_documents={vector["controller"]: controller})
    signed = spec_json("test-vectors", "ob_v3p0-eddsa-rdfc-2022", "credential.signed.json")
    report = verifier.verify(signed, now=NOW)
    assert _status(report, "proof") == ("passed", "signature_valid")
    assert _status(report, "issuer_key") == ("passed", "issuer_key_bound")
    assert report.verdict is Verdict.VALID, report.to_json()


def _official_schemas() -> dict[str, dict]:
    from tests.conftest import spec_path

    base = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
    return {
        base + path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in spec_path("schemas", "ob_v3p0", "json").glob("*.json")
    }


def test_credential_schema_named_by_the_credential_is_applied(network: Network, issuer: Issuer) -> None:
    from insignia.credentials.model.ob3 import ACHIEVEMENT_CREDENTIAL_SCHEMA

    verifier = Verifier(fetch=network, schemas=_official_schemas())
    credential = issuer.credential()
    credential["@context"].append("https://purl.imsglobal.org/spec/ob/v3p0/extensions.json")
    credential["credentialSchema"] = [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}]
    report = verifier.verify(issuer.sign(credential), now=NOW)
    assert report.verdict is Verdict.VALID, report.to_json()
    assert "not available" not in report.get("schema").message
    offline = Verifier(fetch=network).verify(issuer.sign(credential), now=NOW)
    assert "not available offline" in offline.get("schema").message


def test_schema_set_reports_violations() -> None:
    from insignia.credentials.model.ob3 import ACHIEVEMENT_CREDENTIAL_SCHEMA
    from insignia.credentials.verify.schemas import SchemaSet

    schemas = SchemaSet(_official_schemas())
    errors = schemas.errors(ACHIEVEMENT_CREDENTIAL_SCHEMA, {"type": ["VerifiableCredential"], "issuer": 5})
    assert errors
