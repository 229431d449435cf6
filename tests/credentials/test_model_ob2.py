"""OB 2.0 hosted documents: builders match standards.md §6.1, validators name what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from insignia.credentials.errors import ValidationError
from insignia.credentials.model.identity import make_ob2_recipient, ob2_recipient_matches
from insignia.credentials.model.ob2 import (
    OB2_CONTEXT,
    Alignment,
    Assertion,
    BadgeClass,
    Criteria,
    CryptographicKey,
    Evidence,
    Issuer,
    IssuerVerification,
    in_issuer_scope,
    revoked_assertion,
    validate_ob2_assertion,
    validate_ob2_badgeclass,
    validate_ob2_issuer,
)

ISSUED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
PEM = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"


def issuer(**extra: Any) -> Issuer:
    return Issuer(id="https://badges.example.org/issuer", name="Example Org", url="https://example.org",
                  email="badges@example.org", **extra)


def badge(**extra: Any) -> BadgeClass:
    fields: dict[str, Any] = {
        "id": "https://badges.example.org/badges/teamwork", "name": "Teamwork", "description": "Works in a team.",
        "image": "https://badges.example.org/badges/teamwork.png", "criteria": Criteria(narrative="Peer nominated."),
        "issuer": "https://badges.example.org/issuer",
    }
    fields.update(extra)
    return BadgeClass(**fields)


def assertion(**extra: Any) -> Assertion:
    fields: dict[str, Any] = {
        "id": "https://badges.example.org/assertions/1",
        "recipient": make_ob2_recipient("email", "a@example.com", salt="Kosher"),
        "badge": "https://badges.example.org/badges/teamwork",
        "issued_on": ISSUED,
    }
    fields.update(extra)
    return Assertion(**fields)


def errors(validate: Any, document: Any) -> list[str]:
    with pytest.raises(ValidationError) as info:
        validate(document)
    return info.value.errors


def test_issuer_profile() -> None:
    document = issuer(description="Badges for all.", image="data:image/png;base64,iVBORw0KGgo=",
                      telephone="+31201234567", public_key=["https://badges.example.org/keys/1"],
                      revocation_list="https://badges.example.org/revocations").to_json()
    assert document == {
        "@context": OB2_CONTEXT, "id": "https://badges.example.org/issuer", "type": "Issuer", "name": "Example Org",
        "url": "https://example.org", "email": "badges@example.org", "telephone": "+31201234567",
        "description": "Badges for all.", "image": "data:image/png;base64,iVBORw0KGgo=",
        "publicKey": "https://badges.example.org/keys/1", "revocationList": "https://badges.example.org/revocations",
    }
    assert validate_ob2_issuer(document).data_model == "OB 2.0"
    two_keys = issuer(public_key=["https://k/1", "https://k/2"]).to_json()
    assert two_keys["publicKey"] == ["https://k/1", "https://k/2"]


def test_issuer_requires_url_and_email() -> None:
    with pytest.raises(ValidationError, match="url"):
        Issuer(id="https://x.org/i", name="X", url="x.org", email="a@x.org")
    with pytest.raises(ValidationError, match="email"):
        Issuer(id="https://x.org/i", name="X", url="https://x.org", email="none")
    document = issuer().to_json()
    del document["url"], document["email"]
    found = errors(validate_ob2_issuer, document)
    assert any(e.startswith("url: is required") for e in found)
    assert any(e.startswith("email: is required") for e in found)


def test_cryptographic_key() -> None:
    key = CryptographicKey(id="https://badges.example.org/keys/1", owner="https://badges.example.org/issuer",
                           public_key_pem=PEM).to_json()
    assert key == {"@context": OB2_CONTEXT, "id": "https://badges.example.org/keys/1", "type": "CryptographicKey",
                   "owner": "https://badges.example.org/issuer", "publicKeyPem": PEM}
    with pytest.raises(ValidationError):
        CryptographicKey(id="https://k", owner="https://i", public_key_pem="not a pem")


def test_badgeclass() -> None:
    document = badge(alignment=[Alignment(target_name="Collaboration", target_url="https://case.example/1",
                                          target_framework="Skills", target_code="C1")],
                     tags=["teamwork", "soft skills"]).to_json()
    assert document["type"] == "BadgeClass"
    assert document["criteria"] == {"narrative": "Peer nominated."}
    assert document["alignment"] == [{"targetName": "Collaboration", "targetUrl": "https://case.example/1",
                                      "targetFramework": "Skills", "targetCode": "C1"}]
    assert document["tags"] == ["teamwork", "soft skills"]
    assert validate_ob2_badgeclass(document).ok
    by_url = badge(criteria="https://badges.example.org/badges/teamwork/criteria").to_json()
    assert by_url["criteria"] == "https://badges.example.org/badges/teamwork/criteria"
    assert "alignment" not in by_url
    assert "tags" not in by_url


def test_badgeclass_validator() -> None:
    document = badge().to_json()
    for key in ("name", "description", "image", "criteria", "issuer"):
        broken = dict(document)
        del broken[key]
        assert any(e.startswith(f"{key}: is required") for e in errors(validate_ob2_badgeclass, broken)), key
    broken = dict(document, image="data:image/gif;base64,R0lGOD", alignment=[{"targetName": "x"}], type="Badge")
    found = errors(validate_ob2_badgeclass, broken)
    assert any(e.startswith("image: is a data URI that is neither PNG nor SVG") for e in found)
    assert any(e.startswith("alignment[0].targetUrl: is required") for e in found)
    assert any(e.startswith("type: must be 'BadgeClass'") for e in found)


def test_hosted_assertion() -> None:
    document = assertion(expires=ISSUED + timedelta(days=365), image="https://badges.example.org/assertions/1.png",
                         evidence=[Evidence(id="https://portfolio.example/1", narrative="Did the thing."),
                                   Evidence(narrative="Observed in class.")],
                         narrative="Well done.").to_json()
    assert document["@context"] == OB2_CONTEXT
    assert document["type"] == "Assertion"
    assert document["verification"] == {"type": "hosted"}
    assert document["issuedOn"] == "2024-05-01T12:00:00Z"
    assert document["expires"] == "2025-05-01T12:00:00Z"
    assert document["recipient"]["identity"].startswith("sha256$")
    assert document["evidence"][1] == {"type": "Evidence", "narrative": "Observed in class."}
    assert "revoked" not in document
    assert validate_ob2_assertion(document).ok
    assert ob2_recipient_matches(document["recipient"], "a@example.com")


def test_signed_assertion_and_embedded_badge() -> None:
    document = assertion(id="urn:uuid:0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7", verification="signed",
                         creator="https://badges.example.org/keys/1", badge=badge()).to_json()
    assert document["verification"] == {"type": "signed", "creator": "https://badges.example.org/keys/1"}
    assert document["badge"]["type"] == "BadgeClass"
    assert "@context" not in document["badge"]
    assert validate_ob2_assertion(document).ok
    with pytest.raises(ValidationError, match="http"):
        assertion(id="urn:uuid:0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7")  # hosted needs a URL


def test_revoked_forms() -> None:
    document = assertion(revoked=True, revocation_reason="Issued in error.").to_json()
    assert document["revoked"] is True
    assert document["revocationReason"] == "Issued in error."
    assert validate_ob2_assertion(document).ok
    assert revoked_assertion("https://badges.example.org/assertions/1", "Issued in error.") == {
        "@context": OB2_CONTEXT, "id": "https://badges.example.org/assertions/1", "type": "Assertion",
        "revoked": True, "revocationReason": "Issued in error."}
    with pytest.raises(ValidationError):
        assertion(revocation_reason="no revoked flag")


def test_assertion_builder_refusals() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        assertion(issued_on=datetime(2024, 5, 1))
    with pytest.raises(ValidationError, match="expires"):
        assertion(expires=ISSUED - timedelta(days=1))
    with pytest.raises(ValidationError, match="data URI"):
        assertion(image="data:image/png;base64,iVBORw0KGgo=")
    with pytest.raises(ValidationError, match="recipient"):
        assertion(recipient={"type": "email", "identity": "a@example.com"})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"@context": "https://w3id.org/openbadges/v1"}, "@context: must be"),
        ({"issuedOn": "2024-05-01T12:00:00"}, "issuedOn: must be an ISO 8601 date-time with a time zone"),
        ({"issuedOn": 1714564800}, "issuedOn: must be"),
        ({"expires": "2024-05-01"}, "expires: must be"),
        ({"expires": "2020-01-01T00:00:00Z"}, "expires: must be after issuedOn"),
        ({"verification": {"type": "magic"}}, "verification.type: must be 'hosted' or 'signed'"),
        ({"verification": "hosted"}, "verification: must be an object"),
        ({"recipient": {"type": "email", "identity": "a@example.com"}}, "recipient.hashed: is required"),
        ({"recipient": {"type": "nickname", "hashed": False, "identity": "a"}}, "recipient.type: must be one of"),
        ({"recipient": {"type": "email", "hashed": True, "identity": "a@example.com"}},
         "recipient.identity: is hashed but"),
        ({"recipient": {"type": "email", "hashed": False, "identity": "nobody"}}, "recipient.identity:"),
        ({"badge": 42}, "badge: must be the BadgeClass IRI"),
        ({"badge": {"type": "BadgeClass", "id": "https://b"}}, "badge.name: is required"),
        ({"image": "data:image/png;base64,iVBORw0KGgo="}, "image: must be a URL"),
        ({"evidence": [42]}, "evidence[0]: must be a URL"),
        ({"type": "Badge"}, "type: must be 'Assertion'"),
        ({"id": "urn:uuid:0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7"}, "id: must be the http(s) URL"),
        ({"revoked": "yes"}, "revoked: must be true or false"),
    ],
)
def test_assertion_validator_names_the_property(change: dict[str, Any], expected: str) -> None:
    document = {**assertion().to_json(), **change}
    found = errors(validate_ob2_assertion, document)
    assert any(e.startswith(expected) for e in found), found


def test_assertion_validator_requires_everything() -> None:
    found = errors(validate_ob2_assertion, {"type": "Assertion"})
    for key in ("@context", "id", "recipient", "badge", "verification", "issuedOn"):
        assert any(e.startswith(f"{key}: is required") for e in found), key


def test_ob2_dates_accept_offsets_seen_in_the_wild() -> None:
    for value in ("2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00+0200"):
        assert validate_ob2_assertion({**assertion().to_json(), "issuedOn": value}).ok, value


def test_embedded_issuer_needs_no_context() -> None:
    embedded = issuer().to_json()
    del embedded["@context"]
    assert validate_ob2_issuer(embedded).ok
    assert validate_ob2_badgeclass({**badge().to_json(), "issuer": embedded}).ok


# -- hosted-origin rule ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assertion_id", "expected"),
    [
        ("https://badges.example.org/assertions/1", True),
        ("https://badges.example.org:443/assertions/1", True),
        ("http://badges.example.org/assertions/1", False),  # scheme is part of the origin
        ("https://evil.example.org/assertions/1", False),
        ("https://badges.example.org.evil.com/a/1", False),
        ("https://badges.example.org:8443/assertions/1", False),
        ("urn:uuid:0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7", False),
        ("not a url", False),
    ],
)
def test_same_origin_by_default(assertion_id: str, expected: bool) -> None:
    assert in_issuer_scope(assertion_id, issuer().to_json()) is expected


def test_allowed_origins_and_starts_with() -> None:
    widened = issuer(verification=IssuerVerification(allowed_origins=["cdn.example.net", "https://other.example"]
                                                     )).to_json()
    assert widened["verification"] == {"type": "hosted", "allowedOrigins": ["cdn.example.net",
                                                                            "https://other.example"]}
    assert in_issuer_scope("https://cdn.example.net/a/1", widened)
    assert in_issuer_scope("https://other.example/a/1", widened)
    assert not in_issuer_scope("http://other.example/a/1", widened)
    assert not in_issuer_scope("https://badges.example.org/assertions/1", widened)  # the list replaces the default
    narrowed = issuer(verification=IssuerVerification(starts_with=["https://badges.example.org/assertions/"]
                                                      )).to_json()
    assert in_issuer_scope("https://badges.example.org/assertions/1", narrowed)
    assert not in_issuer_scope("https://badges.example.org/other/1", narrowed)
    both = {"id": "https://i.example", "verification": {"allowedOrigins": "cdn.example.net",
                                                        "startsWith": "https://cdn.example.net/org1/"}}
    assert in_issuer_scope("https://cdn.example.net/org1/a", both)
    assert not in_issuer_scope("https://cdn.example.net/org2/a", both)
    assert not in_issuer_scope("https://x.example/a", {"verification": {}})  # no issuer id: nothing is in scope
