"""Compact JWS (RFC 7515) written on ``cryptography``: OB 3.0 VC-JWT and OB 2.0 signed assertions.

We implement JOSE ourselves because it is small and because the dangerous parts are policy, not
arithmetic: only ``EdDSA`` and ``RS256`` are accepted, ``alg: none``, ``crit`` and unencoded payloads
are refused, and a key verifies only the one algorithm it was made for (no RSA/HMAC confusion).

OB 3.0's VC-JWT (OB30 #jwt-proof) is not W3C VC-JOSE-COSE: the payload is the credential itself plus
the registered claims ``iss`` = issuer.id, ``jti`` = id, ``nbf`` = validFrom, ``sub`` = credentialSubject.id
and ``exp`` = validUntil; the header is ``alg``, ``kid`` and ``typ: "JWT"`` only. Verifiers also accept
the VC 1.1 form, with the credential under the ``vc`` claim.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from insignia.credentials.encoding import b64url_decode, b64url_encode
from insignia.credentials.errors import KeyFormatError, MalformedInputError, ProofError, ResourceLimitError
from insignia.credentials.keys.multikey import EDDSA, RS256, public_key_from_jwk
from insignia.credentials.keys.signer import Signer, Verifier

SUPPORTED_ALGORITHMS = frozenset({EDDSA, RS256})
MAX_TOKEN_LENGTH = 4_000_000
"""Characters. Credentials may embed images as data URLs, so this is generous, but finite."""
DEFAULT_SKEW = timedelta(minutes=5)

JWT_CLAIMS = ("iss", "sub", "aud", "exp", "nbf", "iat", "jti")
VC_JWT_HEADERS = frozenset({"alg", "kid", "typ", "jwk"})
"""The only JOSE header parameters OB 3.0 allows in a VC-JWT."""
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

_DATETIME_START = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class DecodedJws(NamedTuple):
    """A parsed (not yet verified) compact JWS."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes


# -- JSON helpers -----------------------------------------------------------------------------------------------
def _json_bytes(value: Any) -> bytes:
    """Compact JSON with sorted keys: the bytes we sign are reproducible."""
    try:
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MalformedInputError(f"The value cannot be written as JSON: {exc}", code="json_invalid") from exc
    return text.encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedInputError(
                f"The JSON repeats the member {key!r}; it is ambiguous.", code="json_duplicate_key"
            )
        result[key] = value
    return result


def _parse_object(data: bytes, what: str, code: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except MalformedInputError as exc:
        raise MalformedInputError(f"The JWS {what} is invalid: {exc}", code=code) from exc
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedInputError(f"The JWS {what} is not UTF-8 JSON: {exc}", code=code) from exc
    if not isinstance(value, dict):
        raise MalformedInputError(f"The JWS {what} must be a JSON object.", code=code)
    return value


def _segment(text: str, what: str) -> bytes:
    try:
        data = b64url_decode(text)
    except MalformedInputError as exc:
        raise MalformedInputError(f"The JWS {what} is not base64url: {exc}", code="jws_malformed") from exc
    if b64url_encode(data) != text:
        raise MalformedInputError(f"The JWS {what} is not canonical unpadded base64url.", code="jws_malformed")
    return data


# -- generic compact JWS --------------------------------------------------------------------------------------
def _check_header(header: Mapping[str, Any]) -> str:
    """Refuse what we do not implement; returns the algorithm."""
    alg = header.get("alg")
    if not isinstance(alg, str) or not alg:
        raise MalformedInputError("The JWS header has no 'alg'.", code="jws_header_invalid")
    if alg.lower() == "none":
        raise ProofError("The JWS is unsigned (alg 'none'); it proves nothing.", code="jws_alg_none")
    if alg not in SUPPORTED_ALGORITHMS:
        raise ProofError(f"The JWS algorithm {alg!r} is not accepted (EdDSA or RS256).", code="jws_alg_unsupported")
    if "crit" in header:
        raise ProofError("The JWS has critical header extensions ('crit') that Insignia does not implement.",
                         code="jws_crit_unsupported")
    if "b64" in header and header["b64"] is not True:
        raise ProofError("Unencoded-payload JWS (b64: false) is not supported.", code="jws_b64_unsupported")
    return alg


def encode_jws(payload: bytes, signer: Signer, *, header: Mapping[str, Any] | None = None) -> str:
    """Compact JWS of ``payload``; the header gets ``alg`` from the signer plus the members of ``header``."""
    full_header: dict[str, Any] = {"alg": signer.algorithm}
    for key, value in (header or {}).items():
        if key == "alg" and value != signer.algorithm:
            raise ProofError(f"The header says {value!r} but the key signs {signer.algorithm}.",
                             code="jws_alg_key_mismatch")
        full_header[key] = value
    _check_header(full_header)
    signing_input = b64url_encode(_json_bytes(full_header)) + "." + b64url_encode(payload)
    signature = signer.sign(signing_input.encode("ascii"))
    return signing_input + "." + b64url_encode(signature)


def decode_jws(token: str | bytes, *, max_length: int = MAX_TOKEN_LENGTH) -> DecodedJws:
    """Split and decode a compact JWS without verifying it; refuses unsupported or unsafe headers."""
    if isinstance(token, bytes | bytearray):
        try:
            token = bytes(token).decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedInputError("A compact JWS is ASCII text.", code="jws_malformed") from exc
    if not isinstance(token, str):
        raise MalformedInputError("Expected a compact JWS string.", code="jws_malformed")
    token = token.strip()
    if len(token) > max_length:
        raise ResourceLimitError(f"The JWS is longer than {max_length} characters.", code="jws_too_large")
    parts = token.split(".")
    if len(parts) == 5:
        raise MalformedInputError("This is an encrypted JWE, not a signed JWS.", code="jws_malformed")
    if len(parts) != 3:
        raise MalformedInputError("A compact JWS has three dot-separated parts.", code="jws_malformed")
    header = _parse_object(_segment(parts[0], "header"), "header", "jws_header_invalid")
    _check_header(header)
    payload = _segment(parts[1], "payload")
    signature = _segment(parts[2], "signature")
    return DecodedJws(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _verify_signature(decoded: DecodedJws, public_key: Verifier) -> None:
    alg = decoded.header["alg"]
    if alg != public_key.algorithm:
        raise ProofError(
            f"The JWS says it was signed with {alg}, but the key is for {public_key.algorithm}; refusing "
            "to verify with a different algorithm.",
            code="jws_alg_key_mismatch",
        )
    if not public_key.verify(decoded.signing_input, decoded.signature):
        raise ProofError(
            "The signature does not match: the token was altered after signing, or signed by another key.",
            code="signature_invalid",
        )


def verify_jws(token: str | bytes, public_key: Verifier, *, max_length: int = MAX_TOKEN_LENGTH) -> dict[str, Any]:
    """Verify a compact JWS with ``public_key`` and return its JSON payload; raises ProofError if it fails."""
    decoded = decode_jws(token, max_length=max_length)
    _verify_signature(decoded, public_key)
    return _parse_object(decoded.payload, "payload", "jws_payload_invalid")


# -- OB 2.0 ---------------------------------------------------------------------------------------------------
def sign_ob2_assertion(assertion: Mapping[str, Any], signer: Signer, *, kid: str | None = None) -> str:
    """An OB 2.0 signed assertion: compact JWS, header ``{"alg": "RS256"}`` (plus ``kid`` if given).

    The 1EdTech OB 2.0 validator verifies RS256 with ``publicKeyPem`` only, so other algorithms are refused.
    """
    if signer.algorithm != RS256:
        raise ProofError("OB 2.0 signed assertions must use RS256 (an RSA key).", code="ob2_requires_rs256")
    if not isinstance(assertion, Mapping):
        raise MalformedInputError("An OB 2.0 assertion must be a JSON object.", code="assertion_invalid")
    return encode_jws(_json_bytes(dict(assertion)), signer, header={"kid": kid} if kid else None)


# -- OB 3.0 VC-JWT --------------------------------------------------------------------------------------------
def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        return subject["id"]
    return None


def _valid_from(credential: Mapping[str, Any]) -> Any:
    return credential.get("validFrom", credential.get("issuanceDate"))


def _valid_until(credential: Mapping[str, Any]) -> Any:
    return credential.get("validUntil", credential.get("expirationDate"))


def parse_datetime(value: Any, what: str) -> datetime:
    """An XML Schema dateTime as an aware datetime (no zone means UTC)."""
    if not isinstance(value, str) or not _DATETIME_START.match(value):
        raise MalformedInputError(f"{what} {value!r} is not a dateTime.", code="credential_date_invalid")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedInputError(f"{what} {value!r} is not a dateTime: {exc}", code="credential_date_invalid") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def numeric_date(moment: datetime) -> int | float:
    """JWT NumericDate: seconds since the epoch (an integer when there is no fraction)."""
    seconds = moment.timestamp()
    return int(seconds) if seconds.is_integer() else seconds


def _claim_datetime(payload: Mapping[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProofError(f"The JWT claim '{name}' must be a NumericDate (seconds).", code="vc_jwt_claim_invalid")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ProofError(f"The JWT claim '{name}' is out of range.", code="vc_jwt_claim_invalid") from exc


def _xsd(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class VcJwt:
    """A decoded VC-JWT: JOSE header, JWT payload, and the credential it carries."""

    header: dict[str, Any]
    payload: dict[str, Any]
    credential: dict[str, Any]
    vc_claim: bool
    """True when the credential came from the VC 1.1 ``vc`` claim rather than being the payload itself."""
    signing_input: bytes = field(repr=False)
    signature: bytes = field(repr=False)

    @property
    def alg(self) -> str:
        return self.header["alg"]

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def iss(self) -> Any:
        return self.payload.get("iss")

    @property
    def jti(self) -> Any:
        return self.payload.get("jti")

    @property
    def sub(self) -> Any:
        return self.payload.get("sub")

    @property
    def nbf(self) -> datetime | None:
        """``nbf`` as a datetime: the credential's validFrom."""
        return _claim_datetime(self.payload, "nbf")

    @property
    def exp(self) -> datetime | None:
        """``exp`` as a datetime: the credential's validUntil (OB 3.0: exp sets it even if the body lacks it)."""
        return _claim_datetime(self.payload, "exp")


def encode_vc_jwt(
    credential: Mapping[str, Any], signer: Signer, *, kid: str | None = None, include_typ: bool = True
) -> str:
    """An OB 3.0 VC-JWT: payload = credential + iss/jti/nbf/sub/exp, header = alg, kid (+ typ "JWT")."""
    if not isinstance(credential, Mapping):
        raise MalformedInputError("A credential must be a JSON object.", code="credential_invalid")
    clashing = sorted(name for name in JWT_CLAIMS if name in credential)
    if clashing:
        raise MalformedInputError(
            f"The credential already has JWT claim members ({', '.join(clashing)}); pass the credential itself.",
            code="credential_has_jwt_claims",
        )
    issuer_id = _issuer_id(credential)
    if issuer_id is None:
        raise MalformedInputError(
            "The credential has no issuer id (needed for 'iss').", code="credential_issuer_missing"
        )
    credential_id = credential.get("id")
    if not isinstance(credential_id, str):
        raise MalformedInputError("The credential has no id (needed for 'jti').", code="credential_id_missing")
    valid_from = _valid_from(credential)
    if valid_from is None:
        raise MalformedInputError(
            "The credential has no validFrom (needed for 'nbf').", code="credential_valid_from_missing"
        )
    key_id = kid or signer.key_id
    if not key_id:
        raise ProofError("A VC-JWT must name its key: pass kid= or set the signer's key_id.", code="vc_jwt_kid_missing")
    payload = dict(credential)
    payload["iss"] = issuer_id
    payload["jti"] = credential_id
    payload["nbf"] = numeric_date(parse_datetime(valid_from, "validFrom"))
    subject_id = _subject_id(credential)
    if subject_id is not None:
        payload["sub"] = subject_id
    valid_until = _valid_until(credential)
    if valid_until is not None:
        payload["exp"] = numeric_date(parse_datetime(valid_until, "validUntil"))
    header: dict[str, Any] = {"kid": key_id}
    if include_typ:
        header["typ"] = "JWT"
    return encode_jws(_json_bytes(payload), signer, header=header)


def _credential_from_vc_claim(payload: Mapping[str, Any]) -> dict[str, Any]:
    """VC 1.1 JWT form: restore the members the issuer moved into registered claims (VC-DATA-MODEL 1.1 §6.3.1)."""
    vc = payload["vc"]
    if not isinstance(vc, dict):
        raise MalformedInputError("The 'vc' claim must be a JSON object.", code="vc_jwt_malformed")
    credential = copy.deepcopy(vc)
    contexts = credential.get("@context")
    v2 = VC_V2_CONTEXT in (contexts if isinstance(contexts, list) else [contexts])
    if "id" not in credential and isinstance(payload.get("jti"), str):
        credential["id"] = payload["jti"]
    if "issuer" not in credential and isinstance(payload.get("iss"), str):
        credential["issuer"] = payload["iss"]
    nbf, exp = _claim_datetime(payload, "nbf"), _claim_datetime(payload, "exp")
    start, end = ("validFrom", "validUntil") if v2 else ("issuanceDate", "expirationDate")
    if nbf is not None and _valid_from(credential) is None:
        credential[start] = _xsd(nbf)
    if exp is not None and _valid_until(credential) is None:
        credential[end] = _xsd(exp)
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and "id" not in subject and isinstance(payload.get("sub"), str):
        credential["credentialSubject"] = {"id": payload["sub"], **subject}
    return credential


def decode_vc_jwt(token: str | bytes, *, max_length: int = MAX_TOKEN_LENGTH) -> VcJwt:
    """Parse a VC-JWT (OB 3.0 form, or VC 1.1 with a ``vc`` claim) without verifying it."""
    decoded = decode_jws(token, max_length=max_length)
    payload = _parse_object(decoded.payload, "payload", "jws_payload_invalid")
    if "vc" in payload:
        credential, vc_claim = _credential_from_vc_claim(payload), True
    else:
        credential = {key: value for key, value in payload.items() if key not in JWT_CLAIMS}
        vc_claim = False
    return VcJwt(decoded.header, payload, credential, vc_claim, decoded.signing_input, decoded.signature)


def _same_second(claim: datetime, value: Any, what: str) -> bool:
    return math.floor(claim.timestamp()) == math.floor(parse_datetime(value, what).timestamp())


def _check_header_for_vc_jwt(header: Mapping[str, Any]) -> None:
    extra = sorted(set(header) - VC_JWT_HEADERS)
    if extra:
        raise ProofError(f"OB 3.0 allows no JOSE header besides alg, kid, typ, jwk; found {', '.join(extra)}.",
                         code="vc_jwt_header_not_allowed")
    if "typ" in header and header["typ"] != "JWT":
        raise ProofError(f"The JOSE header typ is {header['typ']!r}; an OB 3.0 VC-JWT uses 'JWT'.",
                         code="vc_jwt_typ_invalid")
    if "kid" not in header and "jwk" not in header:
        raise ProofError("The VC-JWT names no key: its header needs 'kid' or 'jwk'.", code="vc_jwt_kid_missing")
    if "jwk" in header:
        try:
            public_key_from_jwk(header["jwk"])
        except KeyFormatError as exc:
            raise ProofError(f"The header's 'jwk' is not an acceptable public key: {exc}",
                             code="vc_jwt_jwk_invalid") from exc


def check_vc_jwt_claims(token: VcJwt) -> None:
    """The JWT claims must agree with the credential: each disagreement has its own code."""
    credential, payload = token.credential, token.payload
    issuer_id = _issuer_id(credential)
    if "iss" not in payload:
        raise ProofError("The VC-JWT has no 'iss' claim.", code="vc_jwt_iss_missing")
    if payload["iss"] != issuer_id:
        raise ProofError(f"'iss' is {payload['iss']!r} but the credential's issuer is {issuer_id!r}.",
                         code="vc_jwt_iss_mismatch")
    if "jti" not in payload:
        raise ProofError("The VC-JWT has no 'jti' claim.", code="vc_jwt_jti_missing")
    if payload["jti"] != credential.get("id"):
        raise ProofError(f"'jti' is {payload['jti']!r} but the credential's id is {credential.get('id')!r}.",
                         code="vc_jwt_jti_mismatch")
    subject_id = _subject_id(credential)
    if subject_id is not None and "sub" not in payload:
        raise ProofError("The VC-JWT has no 'sub' claim though the credential subject has an id.",
                         code="vc_jwt_sub_missing")
    if "sub" in payload and payload["sub"] != subject_id:
        raise ProofError(f"'sub' is {payload['sub']!r} but the credential subject's id is {subject_id!r}.",
                         code="vc_jwt_sub_mismatch")
    nbf = token.nbf
    if nbf is None:
        raise ProofError("The VC-JWT has no 'nbf' claim.", code="vc_jwt_nbf_missing")
    valid_from = _valid_from(credential)
    if valid_from is None or not _same_second(nbf, valid_from, "validFrom"):
        raise ProofError(f"'nbf' ({_xsd(nbf)}) does not equal the credential's validFrom ({valid_from}).",
                         code="vc_jwt_nbf_mismatch")
    exp, valid_until = token.exp, _valid_until(credential)
    if valid_until is not None:
        if exp is None:
            raise ProofError("The credential has validUntil but the VC-JWT has no 'exp' claim.",
                             code="vc_jwt_exp_missing")
        if not _same_second(exp, valid_until, "validUntil"):
            raise ProofError(f"'exp' ({_xsd(exp)}) does not equal the credential's validUntil ({valid_until}).",
                             code="vc_jwt_exp_mismatch")


def verify_vc_jwt(
    token: str | bytes,
    public_key: Verifier,
    *,
    now: datetime | None = None,
    skew: timedelta = DEFAULT_SKEW,
    max_length: int = MAX_TOKEN_LENGTH,
) -> VcJwt:
    """Verify a VC-JWT's signature and that its claims agree with its credential.

    Expiry is not judged here (the pipeline checks the validity window and reads ``VcJwt.exp``). When
    ``now`` is given, an ``nbf`` later than ``now + skew`` is refused (OB30 #jwt-verify); with ``now=None``
    no clock is consulted at all.
    """
    parsed = decode_vc_jwt(token, max_length=max_length)
    _check_header_for_vc_jwt(parsed.header)
    _verify_signature(DecodedJws(parsed.header, b"", parsed.signing_input, parsed.signature), public_key)
    check_vc_jwt_claims(parsed)
    if now is not None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        nbf = parsed.nbf
        if nbf is not None and nbf > now + skew:
            raise ProofError(f"The VC-JWT is not valid before {_xsd(nbf)}.", code="vc_jwt_not_yet_valid")
    return parsed


__all__ = [
    "DEFAULT_SKEW",
    "MAX_TOKEN_LENGTH",
    "SUPPORTED_ALGORITHMS",
    "DecodedJws",
    "VcJwt",
    "check_vc_jwt_claims",
    "decode_jws",
    "decode_vc_jwt",
    "encode_jws",
    "encode_vc_jwt",
    "numeric_date",
    "parse_datetime",
    "public_key_from_jwk",
    "sign_ob2_assertion",
    "verify_jws",
    "verify_vc_jwt",
]
