"""Property-based fuzzing of each input parser of the kernel, one by one (``test_verify_fuzz`` drives them all
through ``Verifier.verify``; here each parser is called directly, so a crash is pinned to its parser).

For every parser the property is the same: whatever it is given, it returns or raises one of the kernel's
documented errors (a ``CredentialError`` subclass, usually a specific one) — never ``TypeError``,
``KeyError``, ``RecursionError``, ``zlib.error`` … (which the platform would turn into a 500) — and each
example finishes well inside hypothesis' ``deadline`` (10 s, a hang guard generous enough for loaded CI; typical
examples take milliseconds). Inputs are random bytes and text, random JSON, and structured mutations of
genuine artefacts: baked PNGs and SVGs with bytes flipped, signed credentials and tokens with members
changed, spec examples, very deep nesting and very long strings.
"""

from __future__ import annotations

import copy
import gzip
import json
import string
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insignia.credentials.baking import bake, sniff_image_type, unbake
from insignia.credentials.baking.png import parse_chunks, unbake_png
from insignia.credentials.baking.svg import check_svg_safe, unbake_svg
from insignia.credentials.encoding import b64url_encode, multibase_encode
from insignia.credentials.errors import (
    BakingError,
    CredentialError,
    MalformedInputError,
    ProofError,
    ResourceLimitError,
    StatusListError,
    ValidationError,
)
from insignia.credentials.issue import credential_jwt
from insignia.credentials.jsonld.canonize import Limits, canonize
from insignia.credentials.model import (
    validate_endorsement_credential,
    validate_ob2_assertion,
    validate_ob2_badgeclass,
    validate_ob2_issuer,
    validate_ob3_credential,
    validate_profile,
)
from insignia.credentials.model.ob3 import inspect_ob3_credential
from insignia.credentials.proofs.jose import check_vc_jwt_claims, decode_jws, decode_vc_jwt, verify_jws, verify_vc_jwt
from insignia.credentials.status import Bitstring, check_status, is_revoked_1edtech, is_revoked_ob2
from insignia.credentials.verify.inputs import classify_dict, classify_text, parse_json_text
from insignia.credentials.verify.pipeline import Verifier
from insignia.credentials.verify.report import VerificationReport
from tests.conftest import spec_json
from tests.credentials.world import NOW, PLAIN_SVG, Issuer, Network, Ob2Issuer, plain_png

# hostile examples (megabyte strings, 20,000-item arrays) are meant to be large
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")


def fuzz(examples: int) -> settings:
    """``examples`` cases, each within 2 s; derandomised so a CI run is reproducible."""
    return settings(max_examples=examples, deadline=timedelta(seconds=10), derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def only(allowed: type[CredentialError] | tuple[type[CredentialError], ...], call: Any, *args: Any,
         **kwargs: Any) -> Any:
    """Run ``call``; a documented error is a fine answer (returns None), anything else fails the test."""
    try:
        return call(*args, **kwargs)
    except allowed:
        return None


# == genuine artefacts to mutate ================================================================================


class Seeds:
    def __init__(self) -> None:
        network = Network()
        issuer = Issuer(network)
        ob2 = Ob2Issuer(network)
        self.issuer = issuer
        self.ob2 = ob2
        self.ob3 = issuer.sign(issuer.credential())
        self.vc_jwt = credential_jwt(issuer.credential(index=11), issuer.rsa)
        self.ob2_assertion = ob2.assertion("h1")
        self.ob2_signed = ob2.assertion("s1", signed=True)
        self.ob2_jws = ob2.sign(self.ob2_signed)
        self.ob2_badge = ob2.badge_class()
        self.ob2_profile = ob2.profile()
        self.ob2_revocations = json.loads(network.pages[ob2.revocation_list_url])
        self.status_entry = self.ob3["credentialStatus"]
        self.status_list = json.loads(network.pages[self.status_entry["statusListCredential"]])
        self.spec = [
            spec_json("examples", "ob_v3p0", "basicOpenBadgeCredential.json"),
            spec_json("examples", "ob_v3p0", "fullOpenBadge.json"),
            spec_json("examples", "ob_v3p0", "endorsement.json"),
            spec_json("test-vectors", "ob_v3p0-eddsa-rdfc-2022", "credential.signed.json"),
        ]
        png, svg = plain_png(), PLAIN_SVG
        ob3_text = json.dumps(self.ob3)
        self.pngs = [bake(png, ob3_text), bake(png, self.vc_jwt), bake(png, self.ob2_assertion["id"], flavour="ob2"),
                     bake(png, self.ob2_jws, flavour="ob2")]
        self.svgs = [bake(svg, ob3_text), bake(svg, self.vc_jwt), bake(svg, self.ob2_jws, flavour="ob2"),
                     bake(svg, json.dumps(self.ob2_assertion), flavour="ob2")]
        self.verifier = Verifier(fetch=network)
        self.offline = Verifier()

    @property
    def credentials(self) -> list[dict[str, Any]]:
        return [self.ob3, *self.spec]


@cache
def seeds() -> Seeds:
    return Seeds()


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Build the seeds and warm every cache once, so no example pays for it against the deadline."""
    s = seeds()
    for document in s.credentials:
        only(CredentialError, canonize, document)
    s.verifier.verify(s.ob3, now=NOW)
    s.verifier.verify(s.vc_jwt, now=NOW)
    s.verifier.verify(s.ob2_jws, now=NOW)


# == strategies =================================================================================================

KEYS = ["@context", "@id", "@type", "@vocab", "@base", "@graph", "@list", "@set", "@value", "@language",
        "@nest", "@reverse", "@included", "@json", "@protected", "@container", "id", "type", "proof",
        "proofValue", "cryptosuite", "verificationMethod", "proofPurpose", "created", "credentialSubject",
        "issuer", "validFrom", "validUntil", "issuanceDate", "expirationDate", "credentialStatus",
        "statusListCredential", "statusListIndex", "statusPurpose", "statusSize", "statusMessage", "encodedList",
        "achievement", "identifier", "identityHash", "identityType", "hashed", "salt", "endorsement",
        "endorsementJwt", "recipient", "badge", "verification", "creator", "issuedOn", "expires", "revoked",
        "revokedAssertions", "revocationReason", "publicKey", "vc", "iss", "sub", "nbf", "exp", "jti", "alg", "kid",
        "typ", "jwk", "crit", "b64", "name", "image", "evidence", "criteria", "alignment", "url", "email"]
TOKENS = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1",
          "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", "https://w3id.org/openbadges/v2",
          "https://w3id.org/security/data-integrity/v2", "VerifiableCredential", "OpenBadgeCredential",
          "AchievementCredential", "EndorsementCredential", "Achievement", "AchievementSubject", "Profile",
          "DataIntegrityProof", "eddsa-rdfc-2022", "Ed25519Signature2020", "assertionMethod", "Assertion",
          "BadgeClass", "Issuer", "hosted", "signed", "BitstringStatusListEntry", "BitstringStatusList",
          "BitstringStatusListCredential", "StatusList2021Entry", "1EdTechRevocationList", "revocation",
          "suspension", "message", "2026-11-22T12:00:00Z", "2026-11-22T12:00:00", "-0001-01-01T00:00:00Z",
          "9999-12-31T23:59:59+14:00", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
          "did:web:issuer.example", "urn:uuid:00000000-0000-4000-8000-000000004242", "sha256$" + "0" * 64,
          "z" + "1" * 80, "u", "uH4sIAAAAAAAA", "0", "-1", "01", "131072", "99999999999999999999", "", "{", "..",
          "\u0000", "\ufeff", "\ud800", "_:b0", "#", "./relative", "http://[::1", "EdDSA", "RS256", "none", "JWT"]


@cache
def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=24), st.sampled_from(TOKENS),
    )


@cache
def keys() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(KEYS), st.text(max_size=8))


@cache
def json_values(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(),
        lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(keys(), children, max_size=6)),
        max_leaves=max_leaves,
    )


@cache
def json_objects(max_leaves: int = 25) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(keys(), json_values(max_leaves), max_size=8)


def _items(node: Any) -> Any:
    """The members to descend into (not into a ``Deep`` value: it stays as inserted)."""
    if isinstance(node, Deep):
        return ()
    return node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out: list[tuple] = []
    items = _items(node)
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


def _containers(node: Any, prefix: tuple = ()) -> list[tuple]:
    out: list[tuple] = [prefix] if isinstance(node, dict | list) and not isinstance(node, Deep) else []
    items = _items(node)
    for key, child in items:
        out.extend(_containers(child, (*prefix, key)))
    return out


def _at(document: Any, path: tuple) -> Any:
    for key in path:
        document = document[key]
    return document


class Deep(dict):
    """A JSON object nested very deep, which says so when printed (hypothesis' printer would recurse)."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"nested({self.depth})")

    def __repr__(self) -> str:
        return f"nested({self.depth})"

    depth = 0


def nested(depth: int, leaf: Any = "x") -> Deep:
    """An object nested ``depth`` levels deep (alternating objects and arrays), built without recursion."""
    value = leaf
    for level in range(depth):
        value = {"credentialSubject": value} if level % 2 else [value]
    deep = Deep(credentialSubject=value)
    deep.depth = depth + 1
    return deep


@cache
def extremes(deep: bool = True) -> st.SearchStrategy[Any]:
    """Hostile values: very deep nesting (unless ``deep`` is False), very long strings, very wide arrays."""
    return st.one_of(
        st.integers(40, 3000).map(nested) if deep else st.nothing(),
        st.integers(10_000, 400_000).map(lambda n: "A" * n),
        st.integers(1000, 20_000).map(lambda n: ["https://w3id.org/openbadges/v2"] * n),
        st.integers(1000, 5000).map(lambda n: {f"k{i}": i for i in range(n)}),
        st.sampled_from([float("1e308"), -(2**1024), 2**200, "\ud800\udc00", "\U0010ffff" * 1000]),
    )


_OPS = st.sampled_from(["flip", "flip", "delete", "insert", "extreme"])
_SUFFIX = st.text(max_size=4)


def _pick(draw: st.DrawFn, options: list) -> Any:
    return options[draw(st.integers(0, len(options) - 1))]


@st.composite
def mutated(draw: st.DrawFn, original: Any, max_mutations: int = 3, deep: bool = True) -> Any:
    """``original`` with 1–``max_mutations`` values replaced (by random or hostile ones), deleted, or added.

    ``deep=False`` leaves out nesting too deep for ``json.dumps`` (for documents the test must serialise).
    """
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, max_mutations))):
        op = draw(_OPS)
        paths = _paths(document)
        if op in ("insert", "extreme") or not paths:
            where = _pick(draw, _containers(document) or [()])
            container = _at(document, where) if where else document
            if not isinstance(container, dict | list):
                continue
            value = draw(extremes(deep) if op == "extreme" else json_values(6))
            if isinstance(container, dict):
                container[draw(keys())] = value
            else:
                container.insert(draw(st.integers(0, len(container))), value)
            continue
        path = _pick(draw, paths)
        parent = _at(document, path[:-1])
        if op == "delete":
            del parent[path[-1]]
            continue
        old = parent[path[-1]]
        how = draw(st.integers(0, 3))
        if how == 0:
            parent[path[-1]] = draw(json_values(6))
        elif how == 1:
            suffix = draw(_SUFFIX)
            parent[path[-1]] = old + suffix if isinstance(old, str) else suffix
        else:
            parent[path[-1]] = [old] if how == 2 else {"id": old}
    return document


@cache
def mutations(*names: str, max_mutations: int = 3, deep: bool = True) -> st.SearchStrategy[Any]:
    """Mutations of the named seeds (attributes of ``Seeds``; a list attribute gives each of its items)."""

    def originals() -> list[Any]:
        out: list[Any] = []
        for name in names:
            value = getattr(seeds(), name)
            out.extend(value if isinstance(value, list) else [value])
        return out

    return st.deferred(lambda: st.sampled_from(originals()).flatmap(
        lambda original: mutated(original, max_mutations, deep)))


_BYTE_OPS = st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"])


@st.composite
def mutated_bytes(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with bytes flipped, ranges deleted, duplicated or inserted, or the end cut off."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(_BYTE_OPS)
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif op == "duplicate":
            data[at:at] = data[at:at + draw(st.integers(1, 256))]
        else:
            del data[at:]
    return bytes(data)


@cache
def byte_mutations(name: str) -> st.SearchStrategy[bytes]:
    """Byte-level mutations of the seed images ``Seeds.<name>``."""
    return st.deferred(lambda: st.sampled_from(getattr(seeds(), name)).flatmap(mutated_bytes))


B64URL = string.ascii_letters + string.digits + "-_"


def _json_b64(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


@cache
def segments() -> st.SearchStrategy[str]:
    return st.one_of(st.text(alphabet=B64URL, max_size=40), st.binary(max_size=64).map(b64url_encode),
                     json_values(10).map(_json_b64))


@cache
def jwt_shaped() -> st.SearchStrategy[str]:
    return st.deferred(_jwt_shaped)


def _jwt_shaped() -> st.SearchStrategy[str]:
    s = seeds()
    real = st.sampled_from([part for token in (s.vc_jwt, s.ob2_jws) for part in token.split(".")])
    header = st.fixed_dictionaries(
        {"alg": st.one_of(st.sampled_from(["none", "NONE", "RS256", "EdDSA", "ES256", "HS256", ""]), scalars())},
        optional={"kid": scalars(), "typ": st.sampled_from(["JWT", "vc+jwt"]), "crit": json_values(3),
                  "b64": json_values(2), "jwk": json_values(8)},
    ).map(_json_b64)
    payload = st.one_of(
        json_objects(12).map(_json_b64),
        mutated(decode_vc_jwt(s.vc_jwt).payload, 2, deep=False).map(_json_b64),
        mutated(s.ob2_signed, 2, deep=False).map(_json_b64),
    )
    return st.one_of(
        st.tuples(st.one_of(header, real, segments()), st.one_of(payload, real, segments()),
                  st.one_of(real, segments())).map(".".join),
        st.lists(segments(), min_size=1, max_size=6).map(".".join),
        st.sampled_from([s.vc_jwt, s.ob2_jws]).flatmap(
            lambda token: mutated_bytes(token.encode()).map(lambda b: b.decode("latin-1"))),
    )


# == the verifier as a whole ====================================================================================


def _check_report(report: Any) -> None:
    assert isinstance(report, VerificationReport)
    assert report.checks
    assert report.checks[0].id == "format"
    json.dumps(report.to_json())


@fuzz(700)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=200), json_values(30), extremes(),
                 st.builds(lambda v: json.dumps(v), json_values(30))))
def test_the_verifier_answers_anything_with_a_report(data: Any) -> None:
    s = seeds()
    if not isinstance(data, bytes | str | dict):
        data = json.dumps(data)
    _check_report(s.offline.verify(data, now=NOW))


@fuzz(500)
@given(st.data())
def test_the_verifier_answers_mutated_credentials_with_a_report(data: st.DataObject) -> None:
    s = seeds()
    document = data.draw(mutations("credentials", "ob2_assertion", "ob2_signed"))
    if isinstance(document, dict):
        _check_report(s.verifier.verify(document, now=NOW))


# == baked images ===============================================================================================


@fuzz(1200)
@given(st.data())
def test_unbaking_mutated_pngs(data: st.DataObject) -> None:
    image = data.draw(byte_mutations("pngs"))
    payload = only(BakingError, unbake, image)
    if payload is not None:
        assert isinstance(payload.text, str)
    only(BakingError, parse_chunks, image)


@fuzz(600)
@given(st.binary(max_size=600))
def test_unbaking_random_bytes_behind_a_png_signature(rest: bytes) -> None:
    image = b"\x89PNG\r\n\x1a\n" + rest
    assert sniff_image_type(image) == "png"
    only(BakingError, unbake_png, image)


@fuzz(400)
@given(st.lists(st.tuples(st.sampled_from([b"IHDR", b"iTXt", b"tEXt", b"zTXt", b"IDAT", b"IEND", b"oBiX"]),
                          st.binary(max_size=80)), max_size=6),
       st.sampled_from(["openbadgecredential", "openbadges", "other"]))
def test_unbaking_pngs_built_of_random_chunks(chunks: list[tuple[bytes, bytes]], keyword: str) -> None:
    import struct
    import zlib

    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
    for kind, body in chunks:
        if kind == b"iTXt":
            flag = body[:1] == b"\x01"
            text = zlib.compress(body) if flag else body
            body = keyword.encode() + b"\x00" + (b"\x01\x00" if flag else b"\x00\x00") + b"\x00\x00" + text
        out += _chunk(kind, body)
    only(BakingError, unbake_png, out + _chunk(b"IEND", b""))


def _chunk(kind: bytes, body: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


@fuzz(900)
@given(st.data())
def test_unbaking_mutated_svgs(data: st.DataObject) -> None:
    image = data.draw(byte_mutations("svgs"))
    only(BakingError, unbake, image)
    only(BakingError, unbake_svg, image)
    only(BakingError, check_svg_safe, image)


SVG_BITS = ["<svg xmlns='http://www.w3.org/2000/svg'>", "</svg>", "<openbadges:assertion verify='x'>",
            "<openbadges:credential>", "</openbadges:credential>", "xmlns:openbadges='https://openbadges.org'",
            "<![CDATA[", "]]>", "<!DOCTYPE svg [<!ENTITY a 'aaaaaaaaaa'>]>", "&a;", "<!ENTITY b '&a;&a;&a;'>",
            "<script>", "<foreignObject>", "<?xml version='1.0'?>", "<!--", "-->", "&#0;", "&#x110000;", "<a:svg",
            " onload='x'", "<image href='https://evil.example/x.png'/>", "<use href='#a'/>", "\x00", "\ufeff", "{}"]


@fuzz(700)
@given(st.lists(st.one_of(st.sampled_from(SVG_BITS), st.text(max_size=12)), max_size=14))
def test_unbaking_svg_shaped_text(bits: list[str]) -> None:
    text = "<svg xmlns='http://www.w3.org/2000/svg'>" + "".join(bits)
    only(BakingError, unbake_svg, text.encode("utf-8", "surrogatepass"))
    only(BakingError, unbake, text.encode("utf-8", "surrogatepass"))


# == JSON input classification ==================================================================================


@fuzz(1000)
@given(st.one_of(st.text(max_size=300), json_values(30).map(json.dumps), extremes(deep=False).map(json.dumps),
                 st.integers(1, 200_000).map(lambda n: "[" * n + "]" * n),
                 st.integers(1, 200_000).map(lambda n: '{"a":' * n + "1" + "}" * n),
                 st.integers(1, 5000).map(lambda n: '"\\"[' * n),
                 st.sampled_from(TOKENS)))
def test_classifying_text(text: str) -> None:
    parsed = only((MalformedInputError, ResourceLimitError), classify_text, text)
    if parsed is not None:
        assert parsed.kind in ("ob3-json", "vc-jwt", "ob2-json", "ob2-jws", "url")
    only((MalformedInputError, ResourceLimitError), parse_json_text, text)


@fuzz(300)
@given(st.one_of(json_values(20), extremes()))
def test_classifying_values(value: Any) -> None:
    parsed = only((MalformedInputError, ResourceLimitError), classify_dict, value)
    if not isinstance(value, dict):
        assert parsed is None


# == JWS and VC-JWT =============================================================================================


@fuzz(1500)
@given(jwt_shaped())
def test_decoding_jws_and_vc_jwt(token: str) -> None:
    s = seeds()
    only((MalformedInputError, ResourceLimitError, ProofError), decode_jws, token)
    only((MalformedInputError, ResourceLimitError, ProofError), decode_jws, token.encode("utf-8", "surrogatepass"))
    parsed = only((MalformedInputError, ResourceLimitError, ProofError), decode_vc_jwt, token)
    if parsed is not None:
        for name in ("alg", "kid", "iss", "jti", "sub"):
            only(CredentialError, getattr, parsed, name)
        only(CredentialError, getattr, parsed, "nbf")
        only(CredentialError, getattr, parsed, "exp")
        only(CredentialError, check_vc_jwt_claims, parsed)
    only(CredentialError, verify_vc_jwt, token, s.issuer.rsa.public_key(), now=NOW)
    only(CredentialError, verify_vc_jwt, token, s.issuer.ed25519.public_key())
    only(CredentialError, verify_jws, token, s.ob2.rsa.public_key())


# == status lists ===============================================================================================


@cache
def _gzipped(size: int, fill: bytes) -> str:
    return multibase_encode(gzip.compress(fill * size, mtime=0), "u")


@cache
def encoded_lists() -> st.SearchStrategy[str]:
    gz = st.binary(max_size=300).map(lambda b: gzip.compress(b, mtime=0))
    return st.one_of(
        st.text(max_size=60),
        st.binary(max_size=200).map(lambda b: multibase_encode(b, "u")),
        gz.map(lambda b: multibase_encode(b, "u")),
        gz.flatmap(mutated_bytes).map(lambda b: multibase_encode(b, "u")),
        st.sampled_from([1, 16, 2048, 16384, 131072, 4_000_000]).map(lambda n: _gzipped(n, b"\xff")),
        st.just(40_000_000).map(lambda n: _gzipped(n, b"\x00")),  # a gzip bomb: 40 MB from 40 KB
    )


@fuzz(800)
@given(encoded_lists(), st.booleans())
def test_decoding_bitstrings(encoded: str, legacy: bool) -> None:
    bits = only(StatusListError, Bitstring.decode, encoded, legacy=legacy)
    if bits is not None:
        assert len(bits) >= 8
        only(StatusListError, bits.get_value, 0, 1)


@fuzz(700)
@given(st.data())
def test_checking_status_entries_against_mutated_lists(data: st.DataObject) -> None:
    s = seeds()
    entry = data.draw(st.one_of(mutations("status_entry"), st.just(s.status_entry), json_values(10)))
    status_list = data.draw(st.one_of(mutations("status_list"), st.just(s.status_list), json_values(10)))
    if data.draw(st.booleans()) and isinstance(status_list, dict) and isinstance(
            status_list.get("credentialSubject"), dict):  # copies: the seed itself stays untouched
        subject = {**status_list["credentialSubject"], "encodedList": data.draw(encoded_lists())}
        status_list = {**status_list, "credentialSubject": subject}
    only(StatusListError, check_status, entry, status_list)


@fuzz(300)
@given(st.data())
def test_revocation_lists(data: st.DataObject) -> None:
    s = seeds()
    document = data.draw(st.one_of(mutations("ob2_revocations"), json_values(15)))
    assertion_id = data.draw(st.one_of(st.just(s.ob2_assertion["id"]), st.text(max_size=10)))
    only(StatusListError, is_revoked_ob2, document, assertion_id)
    only(StatusListError, is_revoked_1edtech, document, assertion_id)


# == JSON-LD canonicalisation (safe mode, limits) ===============================================================

SMALL = Limits(max_depth=32, max_values=20_000, max_string_chars=2_000_000, max_context_terms=20_000,
               max_value_comparisons=200_000, max_quads=5_000, max_blank_nodes=1_000)


@fuzz(400)
@given(st.data())
def test_canonicalising_mutated_credentials(data: st.DataObject) -> None:
    document = data.draw(mutations("credentials", max_mutations=2))
    result = only(CredentialError, canonize, document, limits=SMALL)
    assert result is None or isinstance(result, str)


@fuzz(200)
@given(st.one_of(json_objects(20), extremes()),
       st.sampled_from([[], ["https://www.w3.org/ns/credentials/v2"],
                        ["https://www.w3.org/ns/credentials/v2",
                         "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                        "https://w3id.org/openbadges/v2", {"@vocab": "https://example.org/"}]))
def test_canonicalising_random_documents(document: Any, context: Any) -> None:
    if isinstance(document, dict) and "@context" not in document and context:
        document = {"@context": context, **document}
    only(CredentialError, canonize, document, limits=SMALL)


# == shape validators ===========================================================================================


@fuzz(700)
@given(st.data())
def test_ob3_shape_validators(data: st.DataObject) -> None:
    document = data.draw(st.one_of(mutations("credentials"), json_values(20), extremes()))
    strict = data.draw(st.booleans())
    only(ValidationError, validate_ob3_credential, document, strict=strict)
    only(ValidationError, validate_endorsement_credential, document, strict=strict)
    issuer = document.get("issuer") if isinstance(document, dict) else document
    only(ValidationError, validate_profile, issuer, strict=strict)


@fuzz(600)
@given(st.data())
def test_ob2_shape_validators(data: st.DataObject) -> None:
    document = data.draw(st.one_of(
        mutations("ob2_assertion", "ob2_signed", "ob2_badge", "ob2_profile"),
        json_values(20), extremes()))
    only(ValidationError, validate_ob2_assertion, document)
    only(ValidationError, validate_ob2_badgeclass, document)
    only(ValidationError, validate_ob2_issuer, document)


# == the seeds are genuine, and the regressions fuzzing found ===================================================


def test_the_seeds_are_genuine() -> None:
    """Mutations start from inputs every parser accepts, so a refusal of a mutation is the mutation's doing."""
    s = seeds()
    assert verify_vc_jwt(s.vc_jwt, s.issuer.rsa.public_key(), now=NOW).credential["issuer"]["id"]
    assert verify_jws(s.ob2_jws, s.ob2.rsa.public_key())["id"] == s.ob2_signed["id"]
    assert [unbake(image).text for image in s.pngs[1:2] + s.svgs[1:2]] == [s.vc_jwt, s.vc_jwt]
    assert check_status(s.status_entry, s.status_list).value == 0
    assert canonize(s.ob3).count("\n") > 10
    validate_ob3_credential(s.ob3)
    validate_ob2_assertion(s.ob2_assertion)
    validate_ob2_badgeclass(s.ob2_badge)
    validate_ob2_issuer(s.ob2_profile)
    assert str(s.verifier.verify(s.ob3, now=NOW).verdict) == "valid"


def _deep_credential(depth: int = 5000) -> dict[str, Any]:
    document = copy.deepcopy(seeds().ob3)
    document["credentialSubject"]["achievement"]["tag"] = nested(depth)
    return document


def test_regression_a_deeply_nested_object_gets_a_report_not_a_recursion_error() -> None:
    """Found by fuzzing: an already-parsed dict skipped the depth bound that text gets (RecursionError, a 500)."""
    report = seeds().offline.verify(_deep_credential(), now=NOW)
    assert str(report.verdict) == "invalid"
    assert (report.checks[0].id, report.checks[0].code) == ("format", "json_too_deep")
    with pytest.raises(ResourceLimitError, match="more than 64 levels"):
        classify_dict(_deep_credential())


@pytest.mark.parametrize("validate", [validate_ob3_credential, validate_endorsement_credential, validate_profile,
                                      validate_ob2_assertion, validate_ob2_badgeclass, validate_ob2_issuer])
def test_regression_shape_validators_refuse_deep_nesting_with_a_validation_error(validate: Any) -> None:
    """Found by fuzzing: the shape checks recursed through the document and hit RecursionError."""
    with pytest.raises(ValidationError, match="more than 64 levels deep"):
        validate(_deep_credential())
    with pytest.raises(ValidationError, match="more than 64 levels deep"):
        validate({"issuer": nested(3000)})


def test_regression_canonicalising_deep_nesting_is_a_resource_limit() -> None:
    """Deep nesting in a structural member (``type``) must be refused by the limits, not end in RecursionError."""
    document = copy.deepcopy(seeds().ob3)
    document["issuer"]["type"] = [nested(3000), "Profile"]
    with pytest.raises(ResourceLimitError):
        canonize(document)


def test_a_result_description_id_that_is_not_a_string_is_a_shape_error_not_a_crash() -> None:
    """Found by the mutation fuzzer: a list as a ResultDescription's id made the result check raise TypeError."""
    document = spec_json("examples", "ob_v3p0", "fullOpenBadge.json")
    descriptions = document["credentialSubject"]["achievement"]["resultDescription"]
    descriptions[0]["id"] = ["urn:uuid:not", "a string"]
    report = inspect_ob3_credential(document)
    assert report.errors  # the malformed id is reported, nothing raised
