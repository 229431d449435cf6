"""JOSE: compact JWS, OB 2.0 signed assertions and OB 3.0 VC-JWT, cross-checked against PyJWT."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from insignia.credentials.encoding import b64url_decode, b64url_encode
from insignia.credentials.errors import MalformedInputError, ProofError, ResourceLimitError
from insignia.credentials.keys import Ed25519Signer, RsaSigner
from insignia.credentials.proofs.jose import (
    decode_jws,
    decode_vc_jwt,
    encode_jws,
    encode_vc_jwt,
    sign_ob2_assertion,
    verify_jws,
    verify_vc_jwt,
)
from tests.conftest import spec_json

KID = "https://example.com/issuers/876543#key-1"


@pytest.fixture(scope="module")
def rsa_signer() -> RsaSigner:
    return RsaSigner.generate(key_id=KID)


@pytest.fixture(scope="module")
def ed_signer() -> Ed25519Signer:
    return Ed25519Signer.from_seed(bytes(range(32)), key_id=KID)


@pytest.fixture
def credential() -> dict[str, Any]:
    return spec_json("examples", "ob_v3p0", "basicOpenBadgeCredential.json")


def _raw_token(header: dict[str, Any], payload: bytes | dict, signer: Any | None = None) -> str:
    """A token built by hand (bypassing encode_jws's checks) to play the attacker."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = b64url_encode(json.dumps(header).encode()) + "." + b64url_encode(body)
    signature = signer.sign(signing_input.encode()) if signer else b""
    return signing_input + "." + b64url_encode(signature)


def _resign(token: str, signer: Any, *, header: dict | None = None, payload: dict | None = None) -> str:
    """Re-sign a token after editing its header or payload: valid signature, inconsistent content."""
    decoded = decode_jws(token)
    new_header = header if header is not None else decoded.header
    new_payload = payload if payload is not None else json.loads(decoded.payload)
    return _raw_token(new_header, new_payload, signer)


# -- compact JWS ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("signer_name", ["rsa_signer", "ed_signer"])
def test_jws_round_trip(signer_name: str, request: pytest.FixtureRequest) -> None:
    signer = request.getfixturevalue(signer_name)
    token = encode_jws(b'{"hello":"world"}', signer, header={"kid": KID})
    header, payload, signing_input, signature = decode_jws(token)
    assert header == {"alg": signer.algorithm, "kid": KID}
    assert payload == b'{"hello":"world"}'
    assert signing_input == token.rsplit(".", 1)[0].encode()
    assert signer.public_key().verify(signing_input, signature)
    assert verify_jws(token, signer.public_key()) == {"hello": "world"}
    assert verify_jws(token.encode() + b"\n", signer.public_key()) == {"hello": "world"}


@pytest.mark.parametrize("signer_name", ["rsa_signer", "ed_signer"])
def test_tampering_is_detected(signer_name: str, request: pytest.FixtureRequest) -> None:
    signer = request.getfixturevalue(signer_name)
    token = encode_jws(b'{"amount":1}', signer)
    header, payload, signature = token.split(".")
    forged_payload = b64url_encode(b'{"amount":9}')
    forged_header = b64url_encode(json.dumps({"alg": signer.algorithm, "kid": "x"}).encode())
    flipped = bytearray(b64url_decode(signature))
    flipped[0] ^= 1
    for forged in (
        f"{header}.{forged_payload}.{signature}",
        f"{forged_header}.{payload}.{signature}",
        f"{header}.{payload}.{b64url_encode(bytes(flipped))}",
        f"{header}.{payload}.",
    ):
        with pytest.raises(ProofError) as error:
            verify_jws(forged, signer.public_key())
        assert error.value.code == "signature_invalid"


def test_alg_none_is_refused(ed_signer: Ed25519Signer) -> None:
    for alg in ("none", "None", "NONE"):
        token = _raw_token({"alg": alg}, {"admin": True})
        with pytest.raises(ProofError) as error:
            verify_jws(token, ed_signer.public_key())
        assert error.value.code == "jws_alg_none"


def test_hs256_with_public_key_as_secret_is_refused(rsa_signer: RsaSigner) -> None:
    """The classic confusion attack: HMAC keyed with the (public) PEM."""
    secret = rsa_signer.public_key_pem().encode()
    signing_input = b64url_encode(b'{"alg":"HS256"}') + "." + b64url_encode(b'{"admin":true}')
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(ProofError) as error:
        verify_jws(signing_input + "." + b64url_encode(mac), rsa_signer.public_key())
    assert error.value.code == "jws_alg_unsupported"
    for alg in ("ES256", "PS256", "RS512", "HS512", "eddsa"):
        with pytest.raises(ProofError):
            decode_jws(_raw_token({"alg": alg}, {}))


def test_alg_must_match_key_type(rsa_signer: RsaSigner, ed_signer: Ed25519Signer) -> None:
    ed_token = encode_jws(b"{}", ed_signer)
    with pytest.raises(ProofError) as error:
        verify_jws(ed_token, rsa_signer.public_key())
    assert error.value.code == "jws_alg_key_mismatch"
    # an EdDSA signature under a header that claims RS256
    lying = _raw_token({"alg": "RS256"}, {}, ed_signer)
    with pytest.raises(ProofError) as error:
        verify_jws(lying, ed_signer.public_key())
    assert error.value.code == "jws_alg_key_mismatch"
    with pytest.raises(ProofError):
        encode_jws(b"{}", ed_signer, header={"alg": "RS256"})


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({"alg": "EdDSA", "crit": ["exp"], "exp": 1}, "jws_crit_unsupported"),
        ({"alg": "EdDSA", "b64": False, "crit": ["b64"]}, "jws_crit_unsupported"),
        ({"alg": "EdDSA", "b64": False}, "jws_b64_unsupported"),
    ],
)
def test_unsupported_header_extensions(header: dict, code: str, ed_signer: Ed25519Signer) -> None:
    with pytest.raises(ProofError) as error:
        verify_jws(_raw_token(header, {}, ed_signer), ed_signer.public_key())
    assert error.value.code == code


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",
        "!!!.e30.",
        b64url_encode(b"not json") + ".e30.",
        b64url_encode(b"[1]") + ".e30.",
        b64url_encode(b"{}") + ".e30.",  # no alg
        b64url_encode(b'{"alg":"EdDSA","alg":"none"}') + ".e30.",  # duplicate member
        b64url_encode(b'{"alg":"EdDSA"}') + "=.e30.",  # padding
        b64url_encode(b'{"alg":"EdDSA"}')[:-1] + "1.e30.",  # non-canonical last character
        "\u00e9.e30.",
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(MalformedInputError):
        decode_jws(token)


def test_payload_must_be_a_json_object(ed_signer: Ed25519Signer) -> None:
    for payload in (b"[]", b"not json", b'{"a":1,"a":2}', b"\xff"):
        with pytest.raises(MalformedInputError):
            verify_jws(encode_jws(payload, ed_signer), ed_signer.public_key())


def test_size_is_bounded(ed_signer: Ed25519Signer) -> None:
    token = encode_jws(b'{"x":"' + b"a" * 5000 + b'"}', ed_signer)
    with pytest.raises(ResourceLimitError):
        decode_jws(token, max_length=1000)
    assert decode_jws(token, max_length=10_000)


# -- OB 2.0 -----------------------------------------------------------------------------------------------------------
def test_ob2_signed_assertion(rsa_signer: RsaSigner, ed_signer: Ed25519Signer) -> None:
    assertion = {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "urn:uuid:2d4f4ab7-8d5b-4d2f-a0fd-6a9b0c1f3e51",
        "verification": {"type": "signed", "creator": "https://example.org/keys/1"},
    }
    token = sign_ob2_assertion(assertion, rsa_signer)
    assert decode_jws(token).header == {"alg": "RS256"}
    assert verify_jws(token, rsa_signer.public_key()) == assertion
    with_kid = sign_ob2_assertion(assertion, rsa_signer, kid="https://example.org/keys/1")
    assert decode_jws(with_kid).header == {"alg": "RS256", "kid": "https://example.org/keys/1"}
    with pytest.raises(ProofError) as error:
        sign_ob2_assertion(assertion, ed_signer)
    assert error.value.code == "ob2_requires_rs256"


# -- OB 3.0 VC-JWT ---------------------------------------------------------------------------------------------------
def test_vc_jwt_shape(credential: dict, rsa_signer: RsaSigner) -> None:
    credential["validUntil"] = "2030-01-01T00:00:00Z"
    token = encode_vc_jwt(credential, rsa_signer)
    decoded = decode_vc_jwt(token)
    assert decoded.header == {"alg": "RS256", "kid": KID, "typ": "JWT"}
    assert decoded.payload["iss"] == "https://example.com/issuers/876543"
    assert decoded.payload["jti"] == "http://example.com/credentials/3527"
    assert decoded.payload["nbf"] == 1262304000  # 2010-01-01T00:00:00Z
    assert decoded.payload["exp"] == 1893456000  # 2030-01-01T00:00:00Z
    assert decoded.payload["sub"] == "did:example:ebfeb1f712ebc6f1c276e12ec21"
    assert {k: v for k, v in decoded.payload.items() if k not in ("iss", "jti", "nbf", "exp", "sub")} == credential
    assert decoded.credential == credential
    assert not decoded.vc_claim
    assert decoded.nbf == datetime(2010, 1, 1, tzinfo=UTC)
    assert decoded.exp == datetime(2030, 1, 1, tzinfo=UTC)
    assert decoded.kid == KID
    assert decoded.alg == "RS256"
    no_typ = decode_vc_jwt(encode_vc_jwt(credential, rsa_signer, kid="https://other#k", include_typ=False))
    assert no_typ.header == {"alg": "RS256", "kid": "https://other#k"}


@pytest.mark.parametrize("signer_name", ["rsa_signer", "ed_signer"])
def test_vc_jwt_round_trip(signer_name: str, credential: dict, request: pytest.FixtureRequest) -> None:
    signer = request.getfixturevalue(signer_name)
    token = encode_vc_jwt(credential, signer)
    verified = verify_vc_jwt(token, signer.public_key(), now=datetime(2024, 1, 1, tzinfo=UTC))
    assert verified.credential == credential
    assert verified.exp is None


def test_vc_jwt_without_subject_id(credential: dict, ed_signer: Ed25519Signer) -> None:
    del credential["credentialSubject"]["id"]
    credential["credentialSubject"]["identifier"] = [{"type": "IdentityObject", "identityHash": "x"}]
    token = encode_vc_jwt(credential, ed_signer)
    assert "sub" not in decode_vc_jwt(token).payload
    assert verify_vc_jwt(token, ed_signer.public_key()).credential == credential


def test_vc_jwt_encode_refusals(credential: dict, ed_signer: Ed25519Signer) -> None:
    for field, code in (("id", "credential_id_missing"), ("issuer", "credential_issuer_missing"),
                        ("validFrom", "credential_valid_from_missing")):
        broken = copy.deepcopy(credential)
        del broken[field]
        with pytest.raises(MalformedInputError) as error:
            encode_vc_jwt(broken, ed_signer)
        assert error.value.code == code
    with pytest.raises(MalformedInputError):
        encode_vc_jwt({**credential, "iss": "x"}, ed_signer)
    with pytest.raises(MalformedInputError):
        encode_vc_jwt({**credential, "validFrom": "yesterday"}, ed_signer)
    with pytest.raises(ProofError) as proof_error:
        encode_vc_jwt(credential, Ed25519Signer.generate())
    assert proof_error.value.code == "vc_jwt_kid_missing"


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        ({"iss": "https://attacker.example/issuer"}, "vc_jwt_iss_mismatch"),
        ({"iss": None}, "vc_jwt_iss_missing"),
        ({"jti": "urn:uuid:other"}, "vc_jwt_jti_mismatch"),
        ({"jti": None}, "vc_jwt_jti_missing"),
        ({"sub": "did:example:someone-else"}, "vc_jwt_sub_mismatch"),
        ({"sub": None}, "vc_jwt_sub_missing"),
        ({"nbf": 1262304000 + 3600}, "vc_jwt_nbf_mismatch"),
        ({"nbf": None}, "vc_jwt_nbf_missing"),
        ({"nbf": "1262304000"}, "vc_jwt_claim_invalid"),
        ({"nbf": True}, "vc_jwt_claim_invalid"),
        ({"exp": None}, "vc_jwt_exp_missing"),
        ({"exp": 1893456000 + 1}, "vc_jwt_exp_mismatch"),
        ({"exp": 1e300}, "vc_jwt_claim_invalid"),
    ],
)
def test_vc_jwt_each_claim_mismatch_is_named(edit: dict, code: str, credential: dict, ed_signer: Ed25519Signer) -> None:
    credential["validUntil"] = "2030-01-01T00:00:00Z"
    token = encode_vc_jwt(credential, ed_signer)
    payload = json.loads(decode_jws(token).payload)
    for name, value in edit.items():
        if value is None:
            del payload[name]
        else:
            payload[name] = value
    forged = _resign(token, ed_signer, payload=payload)
    with pytest.raises(ProofError) as error:
        verify_vc_jwt(forged, ed_signer.public_key())
    assert error.value.code == code


def test_vc_jwt_exp_without_valid_until_is_accepted_and_exposed(credential: dict, ed_signer: Ed25519Signer) -> None:
    token = encode_vc_jwt(credential, ed_signer)
    payload = {**json.loads(decode_jws(token).payload), "exp": 1262304000 + 86400}
    verified = verify_vc_jwt(_resign(token, ed_signer, payload=payload), ed_signer.public_key())
    assert verified.exp == datetime(2010, 1, 2, tzinfo=UTC)


def test_vc_jwt_fractional_valid_from(credential: dict, ed_signer: Ed25519Signer) -> None:
    credential["validFrom"] = "2010-01-01T00:00:00.250Z"
    token = encode_vc_jwt(credential, ed_signer)
    assert decode_vc_jwt(token).payload["nbf"] == 1262304000.25
    payload = {**json.loads(decode_jws(token).payload), "nbf": 1262304000}
    assert verify_vc_jwt(_resign(token, ed_signer, payload=payload), ed_signer.public_key())


def test_vc_jwt_time(credential: dict, ed_signer: Ed25519Signer) -> None:
    credential["validFrom"] = "2030-01-01T00:00:00Z"
    credential["validUntil"] = "2031-01-01T00:00:00Z"
    token = encode_vc_jwt(credential, ed_signer)
    with pytest.raises(ProofError) as error:
        verify_vc_jwt(token, ed_signer.public_key(), now=datetime(2029, 12, 31, tzinfo=UTC))
    assert error.value.code == "vc_jwt_not_yet_valid"
    just_before = datetime(2030, 1, 1, tzinfo=UTC) - timedelta(minutes=1)
    assert verify_vc_jwt(token, ed_signer.public_key(), now=just_before)  # within the default skew
    # expiry is the pipeline's business, not the signature check's
    assert verify_vc_jwt(token, ed_signer.public_key(), now=datetime(2040, 1, 1, tzinfo=UTC))
    assert verify_vc_jwt(token, ed_signer.public_key())  # no clock at all


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({"alg": "EdDSA", "kid": KID, "typ": "vc+jwt"}, "vc_jwt_typ_invalid"),
        ({"alg": "EdDSA", "kid": KID, "typ": "JWT", "cty": "vc"}, "vc_jwt_header_not_allowed"),
        ({"alg": "EdDSA", "kid": KID, "x5u": "https://attacker.example/cert"}, "vc_jwt_header_not_allowed"),
        ({"alg": "EdDSA", "typ": "JWT"}, "vc_jwt_kid_missing"),
    ],
)
def test_vc_jwt_header_rules(header: dict, code: str, credential: dict, ed_signer: Ed25519Signer) -> None:
    forged = _resign(encode_vc_jwt(credential, ed_signer), ed_signer, header=header)
    with pytest.raises(ProofError) as error:
        verify_vc_jwt(forged, ed_signer.public_key())
    assert error.value.code == code


def test_vc_jwt_embedded_jwk(credential: dict, ed_signer: Ed25519Signer) -> None:
    jwk = ed_signer.public_key().to_jwk()
    token = _resign(encode_vc_jwt(credential, ed_signer), ed_signer, header={"alg": "EdDSA", "jwk": jwk})
    assert verify_vc_jwt(token, ed_signer.public_key())
    leaked = {**jwk, "d": b64url_encode(ed_signer.seed())}
    token = _resign(token, ed_signer, header={"alg": "EdDSA", "jwk": leaked})
    with pytest.raises(ProofError) as error:
        verify_vc_jwt(token, ed_signer.public_key())
    assert error.value.code == "vc_jwt_jwk_invalid"


def test_vc_jwt_bad_signature_and_wrong_key(credential: dict, ed_signer: Ed25519Signer, rsa_signer: RsaSigner) -> None:
    token = encode_vc_jwt(credential, ed_signer)
    with pytest.raises(ProofError) as error:
        verify_vc_jwt(token, Ed25519Signer.generate().public_key())
    assert error.value.code == "signature_invalid"
    with pytest.raises(ProofError) as error:
        verify_vc_jwt(token, rsa_signer.public_key())
    assert error.value.code == "jws_alg_key_mismatch"


def test_vc_1_1_form_with_vc_claim(rsa_signer: RsaSigner) -> None:
    vc = {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://purl.imsglobal.org/spec/ob/v3p0/context.json"],
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "credentialSubject": {"type": "AchievementSubject", "achievement": {"id": "https://e.org/a/1"}},
    }
    payload = {
        "iss": "https://example.org/issuer",
        "jti": "urn:uuid:91537dba-56cb-11ec-bf63-0242ac130002",
        "sub": "did:example:learner",
        "nbf": 1262304000,
        "exp": 1893456000,
        "vc": vc,
    }
    token = _raw_token({"alg": "RS256", "typ": "JWT", "kid": KID}, payload, rsa_signer)
    verified = verify_vc_jwt(token, rsa_signer.public_key())
    assert verified.vc_claim
    assert verified.credential["id"] == payload["jti"]
    assert verified.credential["issuer"] == payload["iss"]
    assert verified.credential["issuanceDate"] == "2010-01-01T00:00:00Z"
    assert verified.credential["expirationDate"] == "2030-01-01T00:00:00Z"
    assert verified.credential["credentialSubject"]["id"] == "did:example:learner"
    conflicting = {**payload, "vc": {**vc, "id": "urn:uuid:something-else"}}
    with pytest.raises(ProofError) as error:
        verify_vc_jwt(_raw_token({"alg": "RS256", "kid": KID}, conflicting, rsa_signer), rsa_signer.public_key())
    assert error.value.code == "vc_jwt_jti_mismatch"
    with pytest.raises(MalformedInputError):
        decode_vc_jwt(_raw_token({"alg": "RS256", "kid": KID}, {**payload, "vc": "nope"}, rsa_signer))


# -- independent implementation: PyJWT ---------------------------------------------------------------------------------
import jwt  # noqa: E402  (PyJWT, a dev dependency: an independent JOSE implementation)


@pytest.mark.parametrize("signer_name", ["rsa_signer", "ed_signer"])
def test_pyjwt_verifies_our_vc_jwt(signer_name: str, credential: dict, request: pytest.FixtureRequest) -> None:
    signer = request.getfixturevalue(signer_name)
    token = encode_vc_jwt(credential, signer)
    claims = jwt.decode(
        token, signer.public_key().to_pem(), algorithms=[signer.algorithm],
        issuer="https://example.com/issuers/876543", options={"require": ["iss", "jti", "nbf", "sub"]},
    )
    assert claims["credentialSubject"] == credential["credentialSubject"]
    assert jwt.get_unverified_header(token) == {"alg": signer.algorithm, "kid": KID, "typ": "JWT"}


@pytest.mark.parametrize("signer_name", ["rsa_signer", "ed_signer"])
def test_we_verify_pyjwt_tokens(signer_name: str, credential: dict, request: pytest.FixtureRequest) -> None:
    signer = request.getfixturevalue(signer_name)
    payload = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "nbf": 1262304000,
        "sub": credential["credentialSubject"]["id"],
    }
    token = jwt.encode(payload, signer.to_pem(), algorithm=signer.algorithm, headers={"kid": KID})
    assert verify_vc_jwt(token, signer.public_key()).credential == credential
    assert verify_jws(token, signer.public_key()) == payload
    with pytest.raises(ProofError):
        verify_jws(token, Ed25519Signer.generate().public_key() if signer_name == "ed_signer" else
                   RsaSigner.generate().public_key())
