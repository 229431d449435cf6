"""Hashed recipient identifiers (OB 3.0 IdentityObject, OB 2.0 recipient)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insignia.credentials.errors import ValidationError
from insignia.credentials.model.identity import (
    IDENTITY_HASH_RE,
    IdentityObject,
    hash_identity,
    identity_matches,
    identity_type_for,
    make_identity_object,
    make_ob2_recipient,
    new_salt,
    normalise_identity,
    ob2_recipient_matches,
)
from insignia.credentials.model.ob3 import check_identity_object
from insignia.credentials.model.vc import Problems
from tests.conftest import spec_json

SPEC_VECTOR = "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"


def test_the_official_vector() -> None:
    assert hash_identity("a@example.com", "Kosher") == SPEC_VECTOR
    assert hashlib.sha256(b"a@example.comKosher").hexdigest() == SPEC_VECTOR.split("$")[1]


def test_hash_is_sha256_of_value_then_salt_in_utf8() -> None:
    assert hash_identity("zoë@example.com", "ß") == "sha256$" + hashlib.sha256("zoë@example.comß".encode()).hexdigest()
    assert hash_identity("a@example.com", "") == "sha256$" + hashlib.sha256(b"a@example.com").hexdigest()
    assert hash_identity("a@example.com", "Kosher", "md5") == "md5$" + hashlib.md5(
        b"a@example.comKosher", usedforsecurity=False).hexdigest()
    with pytest.raises(ValidationError, match="sha256"):
        hash_identity("a", "b", "sha1")


def test_salts_are_random_and_long_enough() -> None:
    salts = {new_salt() for _ in range(50)}
    assert len(salts) == 50
    assert all(len(bytes.fromhex(s)) >= 16 for s in salts)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("email", "  A@Example.COM \n", "a@example.com"),
        ("emailAddress", "Someone@Example.org", "someone@example.org"),
        ("url", " https://Example.org/Me ", "https://Example.org/Me"),
        ("phone", "+1 (222) 333-4444", "+12223334444"),
        ("telephone", "0031 6 1234.5678", "+31612345678"),
        ("phone", "44 20 7946 0000", "+442079460000"),
        ("sisSourcedId", " S-1 ", "S-1"),
    ],
)
def test_normalisation(kind: str, value: str, expected: str) -> None:
    assert normalise_identity(kind, value) == expected


@pytest.mark.parametrize(("kind", "value"), [("email", "no-at-sign"), ("phone", "call me"), ("phone", "+1"),
                                             ("url", "   "), ("nonsense", "x")])
def test_normalisation_refuses_garbage(kind: str, value: str) -> None:
    with pytest.raises(ValidationError):
        normalise_identity(kind, value)


def test_identity_type_mapping() -> None:
    assert identity_type_for("email") == "emailAddress"
    assert identity_type_for("url") == "identifier"
    assert identity_type_for("id") == "identifier"
    assert identity_type_for("phone") == "ext:telephone"
    assert identity_type_for("ltiUserId") == "ltiUserId"
    assert identity_type_for("ext:Badgr") == "ext:Badgr"


def test_make_identity_object_hashed() -> None:
    identity = make_identity_object("email", "A@Example.com", salt="Kosher")
    assert identity.to_json() == {"type": "IdentityObject", "identityHash": SPEC_VECTOR,
                                  "identityType": "emailAddress", "hashed": True, "salt": "Kosher"}
    fresh = make_identity_object("email", "a@example.com")
    assert fresh.salt
    assert len(fresh.salt) >= 32
    assert IDENTITY_HASH_RE.match(fresh.identity_hash)
    assert fresh.identity_hash != identity.identity_hash  # new random salt each time


def test_make_identity_object_plain_and_schema_shape() -> None:
    plain = make_identity_object("url", " https://learner.example/ ", hashed=False)
    assert plain.to_json() == {"type": "IdentityObject", "identityHash": "https://learner.example/",
                               "identityType": "identifier", "hashed": False}
    for identity in (plain, make_identity_object("phone", "+44 20 7946 0000")):
        problems = Problems(strict=True)
        check_identity_object(problems, identity.to_json(), "identifier[0]")
        assert problems.report.errors == []


def test_identity_object_refuses_a_malformed_hash() -> None:
    with pytest.raises(ValidationError):
        IdentityObject(identity_type="emailAddress", identity_hash="sha256$nothex", hashed=True, salt="x")
    with pytest.raises(ValidationError):
        IdentityObject(identity_type="email-ish", identity_hash="x", hashed=False)


def test_identity_matches() -> None:
    obj = make_identity_object("email", "a@example.com", salt="Kosher").to_json()
    assert identity_matches(obj, "email", "a@example.com")
    assert identity_matches(obj, "emailAddress", " A@EXAMPLE.com ")
    assert not identity_matches(obj, "email", "b@example.com")
    assert not identity_matches(obj, "url", "a@example.com")  # other identityTypes are skipped
    upper = dict(obj, identityHash="sha256$" + obj["identityHash"].split("$")[1].upper())
    assert identity_matches(upper, "email", "a@example.com")  # hex compared case-insensitively
    md5 = dict(obj, identityHash=hash_identity("a@example.com", "Kosher", "md5"))
    assert identity_matches(md5, "email", "a@example.com")  # md5 accepted on input
    unsalted = {"type": "IdentityObject", "hashed": True, "identityType": "emailAddress",
                "identityHash": hash_identity("a@example.com", "")}
    assert identity_matches(unsalted, "email", "a@example.com")


def test_identity_matches_issuers_that_did_not_normalise() -> None:
    raw = {"type": "IdentityObject", "hashed": True, "identityType": "emailAddress", "salt": "s",
           "identityHash": hash_identity("A@Example.com", "s")}
    assert identity_matches(raw, "email", "A@Example.com")


def test_identity_matches_plaintext_and_other_kinds() -> None:
    example = spec_json("examples", "ob_v3p0", "fullOpenBadge.json")
    identifiers = example["credentialSubject"]["identifier"]
    assert any(identity_matches(i, "email", "Student@1EdTech.edu") for i in identifiers)
    assert not any(identity_matches(i, "email", "nobody@1edtech.edu") for i in identifiers)
    phone = make_identity_object("phone", "+31 6 1234 5678").to_json()
    assert identity_matches(phone, "phone", "0031612345678")
    assert identity_matches(phone, "telephone", "+31-6-12345678")
    url = make_identity_object("url", "https://learner.example/").to_json()
    assert identity_matches(url, "url", "https://learner.example/")
    assert not identity_matches(url, "url", "https://LEARNER.example/")  # URLs are not case-folded
    ext_url = {"type": "IdentityObject", "hashed": False, "identityType": "ext:URL",
               "identityHash": "https://learner.example/"}
    assert identity_matches(ext_url, "url", "https://learner.example/")
    assert not identity_matches({"identityType": "emailAddress"}, "email", "a@example.com")
    assert not identity_matches("not a dict", "email", "a@example.com")  # type: ignore[arg-type]


@given(st.emails(), st.text(min_size=0, max_size=40), st.booleans())
def test_made_identities_always_match_their_value(email: str, salt: str, hashed: bool) -> None:
    identity = make_identity_object("email", email, salt=salt, hashed=hashed).to_json()
    assert identity_matches(identity, "email", email)
    assert identity_matches(identity, "email", email.upper())


# -- OB 2.0 ---------------------------------------------------------------------------------------


def test_ob2_recipient() -> None:
    recipient = make_ob2_recipient("email", "A@Example.com", salt="Kosher")
    assert recipient == {"type": "email", "hashed": True, "identity": SPEC_VECTOR, "salt": "Kosher"}
    assert make_ob2_recipient("phone", "+1 222 333 4444", hashed=False) == {
        "type": "telephone", "hashed": False, "identity": "+12223334444"}
    assert make_ob2_recipient("url", "https://me.example", hashed=False)["type"] == "url"
    with pytest.raises(ValidationError):
        make_ob2_recipient("sisSourcedId", "x")


def test_ob2_recipient_matches() -> None:
    recipient = make_ob2_recipient("email", "a@example.com", salt="Kosher")
    assert ob2_recipient_matches(recipient, "A@example.com")
    assert ob2_recipient_matches(recipient, "a@example.com", "email")
    assert not ob2_recipient_matches(recipient, "a@example.com", "url")
    assert not ob2_recipient_matches(recipient, "b@example.com")
    upper = dict(recipient, identity=recipient["identity"].upper().replace("SHA256", "sha256"))
    assert ob2_recipient_matches(upper, "a@example.com")
    md5 = {"type": "email", "hashed": True, "salt": "x", "identity": hash_identity("a@example.com", "x", "md5")}
    assert ob2_recipient_matches(md5, "a@example.com")
    plain = {"type": "email", "hashed": False, "identity": "A@Example.com"}
    assert ob2_recipient_matches(plain, "a@example.com")
    assert not ob2_recipient_matches({"type": "nickname", "hashed": False, "identity": "x"}, "x")
    phone = make_ob2_recipient("telephone", "+44 20 7946 0000")
    assert ob2_recipient_matches(phone, "0044 20 7946 0000")
