"""Property-based fuzzing of every input parser, through ``Verifier.verify``.

Whatever it is given — random bytes or text, random JSON, random JWT-shaped strings, or a genuine
credential, token or baked image with a few things flipped, deleted or inserted — ``verify``:

* returns a report and never raises;
* finishes quickly;
* says ``valid`` only when what it verified is one of the genuine credentials of the test world
  (an unmodified credential, or the issuer's hosted copy an OB 2.0 input points at).

Two verifiers run on each example: one with the in-memory ``Network`` (every fetch is instant and
most URLs lead somewhere real) and one with no network at all.
"""

from __future__ import annotations

import copy
import json
import string
import time
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from insignia.credentials.baking import bake
from insignia.credentials.encoding import b64url_encode
from insignia.credentials.errors import CredentialError
from insignia.credentials.issue import credential_jwt
from insignia.credentials.jsonld.canonize import canonize
from insignia.credentials.verify.pipeline import Verifier
from insignia.credentials.verify.report import CheckStatus, CredentialSummary, Verdict, VerificationReport
from tests.credentials.world import NOW, PLAIN_SVG, Issuer, Network, Ob2Issuer, plain_png

#: A verify call slower than this on hostile input is a finding (typical calls take 1–20 ms).
MAX_SECONDS = 30.0  # a hang guard (generous for loaded CI machines), not a speed test


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# == the world ==================================================================================================


@dataclass
class World:
    network: Network
    online: Verifier
    offline: Verifier
    ob3: dict[str, Any]  # a valid, signed OB 3.0 credential (eddsa-rdfc-2022)
    vc_jwt: str
    ob2_hosted: dict[str, Any]
    ob2_url: str
    ob2_signed: dict[str, Any]
    ob2_jws: str
    images: dict[str, bytes]
    urls: list[str]
    genuine: list[dict[str, Any]]


@cache
def world() -> World:
    network = Network()
    issuer = Issuer(network)
    ob2 = Ob2Issuer(network)
    online = Verifier(fetch=network)
    ob3 = issuer.sign(issuer.credential())
    vc_jwt = credential_jwt(issuer.credential(index=11), issuer.rsa)
    ob2_hosted = ob2.assertion("h1")
    ob2_url = ob2.host(ob2_hosted)
    ob2_signed = ob2.assertion("s1", signed=True)
    ob2_jws = ob2.sign(ob2_signed)
    png, svg = plain_png(), PLAIN_SVG
    images = {
        "png-ob3-json": bake(png, json.dumps(ob3)),
        "png-vc-jwt": bake(png, vc_jwt),
        "png-ob2-url": bake(png, ob2_url, flavour="ob2"),
        "png-ob2-jws": bake(png, ob2_jws, flavour="ob2"),
        "svg-ob3-json": bake(svg, json.dumps(ob3)),
        "svg-vc-jwt": bake(svg, vc_jwt),
        "svg-ob2-url": bake(svg, ob2_url, flavour="ob2"),
        "svg-ob2-json": bake(svg, json.dumps(ob2_hosted), flavour="ob2"),
        "svg-ob2-jws": bake(svg, ob2_jws, flavour="ob2"),
    }
    status_lists = [url for url in network.pages if url.startswith("https://issuer.example/status/")]
    # every credential that exists in this world; a URL may lead to one (status lists are credentials too)
    genuine_inputs: list[Any] = [ob3, vc_jwt, ob2_url, ob2_jws, *images.values(), *status_lists]
    genuine: list[dict[str, Any]] = []
    for data in genuine_inputs:
        report = online.verify(data, now=NOW)
        assert report.verdict is Verdict.VALID, report.to_json()
        assert report.credential is not None
        genuine.append(copy.deepcopy(report.credential))
    return World(
        network=network, online=online, offline=Verifier(), ob3=ob3, vc_jwt=vc_jwt, ob2_hosted=ob2_hosted,
        ob2_url=ob2_url, ob2_signed=ob2_signed, ob2_jws=ob2_jws, images=images,
        urls=sorted(network.pages), genuine=genuine,
    )


_STRING_FIELDS = [f.name for f in fields(CredentialSummary) if f.type in ("str | None", str | None)]


def _same_meaning(credential: Any) -> bool:
    """An embedded-proof credential whose JSON differs from a genuine one but whose RDF dataset is the same.

    eddsa-rdfc-2022 signs the canonical RDF, not the JSON text, so a change JSON-LD gives no meaning to
    (``"@context": []`` on a node, a repeated ``type``) keeps the proof valid. That is the standard working.
    """
    if not isinstance(credential, dict) or "proof" not in credential:
        return False
    try:
        quads = canonize(credential)
        return any(quads == canonize(g) for g in world().genuine if isinstance(g, dict) and "proof" in g)
    except CredentialError:
        return False


def check(data: bytes | str | dict) -> list[VerificationReport]:
    """The property, on both verifiers; returns the reports for tests that want to say more."""
    w = world()
    reports = []
    for verifier in (w.online, w.offline):
        start = time.perf_counter()
        report = verifier.verify(data, now=NOW)
        elapsed = time.perf_counter() - start
        assert isinstance(report, VerificationReport)
        assert elapsed < MAX_SECONDS, f"verify took {elapsed:.2f} s"
        assert report.checks, "a report always says something"
        assert report.checks[0].id == "format"
        json.dumps(report.to_json())  # what `insignia verify --json` prints
        for name in _STRING_FIELDS:  # what the human output and the web page print
            value = getattr(report.summary, name)
            assert value is None or isinstance(value, str), f"summary.{name} = {value!r}"
        if report.verdict is Verdict.VALID:
            assert report.credential in w.genuine or _same_meaning(report.credential), (
                f"valid but not genuine: {report.to_json()}")
        reports.append(report)
    deciding = next((c for c in reports[0].checks if c.status is not CheckStatus.PASSED and c.blocking),
                    reports[0].checks[-1])
    event(f"online: {reports[0].verdict} ({deciding.id}: {deciding.code})")
    return reports


# == strategies =================================================================================================

KEYS = ["@context", "@id", "@type", "@vocab", "id", "type", "proof", "proofValue", "cryptosuite", "verificationMethod",
        "proofPurpose", "created", "credentialSubject", "issuer", "validFrom", "validUntil", "issuanceDate",
        "credentialStatus", "statusListCredential", "statusListIndex", "statusPurpose", "achievement", "identifier",
        "identityHash", "endorsement", "endorsementJwt", "recipient", "badge", "verification", "creator",
        "issuedOn", "expires", "revoked", "revocationReason", "publicKey", "vc", "iss", "nbf", "exp", "jti", "alg",
        "kid", "name", "image", "evidence"]
TOKENS = ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1",
          "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json", "https://w3id.org/openbadges/v2",
          "https://w3id.org/security/data-integrity/v2", "VerifiableCredential", "OpenBadgeCredential",
          "AchievementCredential", "EndorsementCredential", "DataIntegrityProof", "eddsa-rdfc-2022",
          "Ed25519Signature2020", "assertionMethod", "Assertion", "BadgeClass", "Issuer", "hosted", "signed",
          "BitstringStatusListEntry", "1EdTechRevocationList", "2026-11-22T12:00:00Z", "2026-11-22T12:00:00",
          "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "did:web:issuer.example:issuers:acme",
          "did:web:issuer.example:issuers:acme#key-1", "urn:uuid:00000000-0000-4000-8000-000000004242",
          "sha256$" + "0" * 64, "z" + "1" * 80, "", "{", "..", "\u0000", "\ufeff"]


@cache
def _tokens() -> list[str]:
    return TOKENS + world().urls


def keys() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(KEYS), st.text(max_size=8))


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=24),
        st.sampled_from(_tokens()),
    )


def json_values(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(),
        lambda children: st.one_of(
            st.lists(children, max_size=5),
            st.dictionaries(keys(), children, max_size=6),
        ),
        max_leaves=max_leaves,
    )


def json_objects() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(keys(), json_values(12), max_size=8)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document (dict keys and list indexes)."""
    out: list[tuple] = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        out.append((*prefix, key))
        out.extend(_paths(child, (*prefix, key)))
    return out


def _containers(node: Any, prefix: tuple = ()) -> list[tuple]:
    out: list[tuple] = [prefix] if isinstance(node, dict | list) else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        out.extend(_containers(child, (*prefix, key)))
    return out


def _at(document: Any, path: tuple) -> Any:
    for key in path:
        document = document[key]
    return document


@st.composite
def mutated(draw: st.DrawFn, original: dict[str, Any], max_mutations: int = 3) -> dict[str, Any]:
    """``original`` with 1–3 values flipped, keys deleted, or keys/items inserted."""
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, max_mutations))):
        op = draw(st.sampled_from(["flip", "delete", "insert"]))
        paths = _paths(document)
        if op == "insert" or not paths:
            where = draw(st.sampled_from(_containers(document)))
            container = _at(document, where)
            value = draw(json_values(6))
            if isinstance(container, dict):
                container[draw(keys())] = value
            elif value not in container:  # a duplicate list item is the same RDF set: not a change
                container.insert(draw(st.integers(0, len(container))), value)
            continue
        path = draw(st.sampled_from(paths))
        parent = _at(document, path[:-1])
        if op == "delete":
            del parent[path[-1]]
        else:
            old = parent[path[-1]]
            parent[path[-1]] = draw(st.one_of(
                json_values(6),
                st.text(max_size=3).map(lambda s, old=old: (old + s) if isinstance(old, str) else s),
            ))
    return document


@st.composite
def mutated_bytes(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with bytes flipped, ranges deleted, duplicated or inserted, or the end cut off."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
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


def _b64(data: bytes) -> str:
    return b64url_encode(data)


def _json_b64(value: Any) -> str:
    return _b64(json.dumps(value).encode())


B64URL = string.ascii_letters + string.digits + "-_"


def segments() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(alphabet=B64URL, max_size=40),
        st.binary(max_size=64).map(_b64),
        json_values(10).map(_json_b64),
    )


def headers() -> st.SearchStrategy[str]:
    algs = st.sampled_from(["none", "None", "NONE", "RS256", "EdDSA", "ES256", "HS256", "PS256", "", "Ed25519"])
    header = st.fixed_dictionaries(
        {"alg": st.one_of(algs, scalars())},
        optional={"kid": st.one_of(st.sampled_from(_tokens()), scalars()), "typ": st.sampled_from(["JWT", "vc+jwt"]),
                  "crit": st.lists(st.text(max_size=4), max_size=2), "b64": st.booleans(), "jwk": json_values(6)},
    )
    return st.one_of(header.map(_json_b64), segments())


def payloads() -> st.SearchStrategy[str]:
    w = world()
    claims = st.one_of(
        json_objects(),
        st.builds(lambda vc, extra: {"vc": vc, **extra}, st.one_of(json_values(10), mutated(w.ob3, 2)),
                  json_objects()),
        mutated(w.ob2_signed, 2),
    )
    return st.one_of(claims.map(_json_b64), segments())


def jwt_shaped() -> st.SearchStrategy[str]:
    w = world()
    parts = [part for token in (w.vc_jwt, w.ob2_jws) for part in token.split(".")]
    real = st.sampled_from(parts)
    return st.one_of(
        st.tuples(headers(), payloads(), st.one_of(segments(), real)).map(".".join),
        st.tuples(real, real, real).map(".".join),  # real segments, shuffled between tokens
        st.lists(segments(), min_size=1, max_size=6).map(".".join),  # wrong number of parts (JWE has five)
        st.sampled_from([w.vc_jwt, w.ob2_jws]).flatmap(
            lambda token: mutated_bytes(token.encode()).map(lambda b: b.decode("latin-1"))),
    )


# == the properties =============================================================================================


@_settings(2400)
@given(st.binary(max_size=512))
def test_random_bytes(data: bytes) -> None:
    for report in check(data):
        assert report.verdict is not Verdict.VALID


@_settings(600)
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"<?xml version='1.0'?><svg ", b"<svg ", b"{", b"\xef\xbb\xbf{",
                        b"eyJhbGciOiJSUzI1NiJ9.", b"https://issuer.example/"]), st.binary(max_size=512))
def test_random_bytes_behind_a_magic_prefix(prefix: bytes, rest: bytes) -> None:
    for report in check(prefix + rest):
        assert report.verdict is not Verdict.VALID


@_settings(1800)
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    for report in check(text):
        assert report.verdict is not Verdict.VALID


@_settings(400)
@given(st.one_of(
    st.sampled_from(_tokens()),
    st.builds(lambda url, tail: url + tail, st.sampled_from(["https://issuer.example/", "http://", "https://"]),
              st.text(max_size=40)),
))
def test_urls_and_tokens(text: str) -> None:
    check(text)  # a URL may lead to a genuine credential (a hosted assertion, a status list): check() allows that


@_settings(1200)
@given(json_values(40), st.sampled_from(["object", "text", "bytes"]))
def test_random_json_values(value: Any, form: str) -> None:
    if form == "object" and isinstance(value, dict):
        check(value)
    else:
        text = json.dumps(value)
        check(text if form == "text" else text.encode())


@_settings(400)
@given(json_objects())
def test_random_json_objects_with_credential_keys(value: dict[str, Any]) -> None:
    check(value)


@_settings(600)
@given(st.data())
def test_mutated_ob3_credential(data: st.DataObject) -> None:
    w = world()
    document = data.draw(mutated(w.ob3))
    online, _ = check(document)
    if document != w.ob3 and online.verdict is Verdict.VALID:
        assert _same_meaning(document)


@_settings(250)
@given(st.data())
def test_mutated_ob3_credential_as_text_or_in_an_image(data: st.DataObject) -> None:
    w = world()
    document = data.draw(mutated(w.ob3))
    text = json.dumps(document)
    form = data.draw(st.sampled_from(["text", "png", "svg"]))
    check(text if form == "text" else bake(plain_png() if form == "png" else PLAIN_SVG, text))


@_settings(500)
@given(st.data())
def test_mutated_ob2_assertions(data: st.DataObject) -> None:
    w = world()
    which = data.draw(st.sampled_from(["hosted", "signed"]))
    if which == "hosted":
        check(data.draw(mutated(w.ob2_hosted)))  # may verify: the pipeline re-fetches the hosted copy
    else:
        header, _, signature = w.ob2_jws.split(".")
        check(".".join([header, _json_b64(data.draw(mutated(w.ob2_signed))), signature]))


@_settings(1500)
@given(jwt_shaped())
def test_jwt_shaped_strings(token: str) -> None:
    check(token)


@_settings(900)
@given(st.data())
def test_mutated_baked_images(data: st.DataObject) -> None:
    w = world()
    name = data.draw(st.sampled_from(sorted(w.images)))
    check(data.draw(mutated_bytes(w.images[name])))
