"""Keys: signers, public key formats, and the official test-vector key pairs."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from insignia.credentials.encoding import b58_encode, b64url_encode, multibase_encode
from insignia.credentials.errors import KeyFormatError
from insignia.credentials.keys import (
    EDDSA,
    RS256,
    Ed25519Signer,
    PublicKey,
    RsaSigner,
    Signer,
    Verifier,
    decode_ed25519_secret_multibase,
    encode_ed25519_secret_multibase,
    jsonwebkey_document,
    jwk_thumbprint,
    multikey_document,
    public_key_from_method,
    signer_from_pem,
)
from tests.conftest import spec_json

OB3_VECTOR = ("test-vectors", "ob_v3p0-eddsa-rdfc-2022", "vector.json")


@pytest.fixture(scope="module")
def rsa_signer() -> RsaSigner:
    return RsaSigner.generate(2048, key_id="https://example.edu/keys/rsa-1")


# -- the 1EdTech OB 3.0 vector ------------------------------------------------------------------------------------
def test_vector_public_key_hex_gives_published_multibase() -> None:
    pair = spec_json(*OB3_VECTOR)["keyPair"]
    key = PublicKey.from_raw_ed25519(bytes.fromhex(pair["publicKeyHex"]))
    assert key.to_multibase() == pair["publicKeyMultibase"] == "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
    assert PublicKey.from_multibase(pair["publicKeyMultibase"]) == key


def test_vector_secret_multibase_is_digital_bazaar_64_byte_form() -> None:
    pair = spec_json(*OB3_VECTOR)["keyPair"]
    seed_plus_public = bytes.fromhex(pair["privateKeyHex_seed_plus_public"])
    assert decode_ed25519_secret_multibase(pair["secretKeyMultibase"]) == seed_plus_public[:32]
    signer = Ed25519Signer.from_multibase(pair["secretKeyMultibase"])
    assert signer.public_key().raw.hex() == pair["publicKeyHex"]
    assert Ed25519Signer.from_private_bytes(seed_plus_public).seed() == signer.seed()


def test_vector_signature_is_reproduced_exactly() -> None:
    vector = spec_json(*OB3_VECTOR)
    signer = Ed25519Signer.from_multibase(vector["keyPair"]["secretKeyMultibase"])
    data = bytes.fromhex(vector["dataToSignHex"])
    signature = signer.sign(data)
    assert signature.hex() == vector["signatureHex"]
    assert multibase_encode(signature, "z") == vector["proofValue"]
    assert signer.public_key().verify(data, signature)


def test_w3c_vc_di_eddsa_key_pair_32_byte_secret() -> None:
    pair = spec_json("test-vectors", "vc-di-eddsa", "keyPair.json")
    signer = Ed25519Signer.from_multibase(pair["privateKeyMultibase"])
    assert signer.public_key().to_multibase() == pair["publicKeyMultibase"]
    assert signer.to_multibase() == pair["privateKeyMultibase"]  # standard form round-trips


@pytest.mark.parametrize("name", ["keyPair1", "keyPair2", "keyPair3", "keyPair4"])
def test_w3c_proof_set_key_pairs(name: str) -> None:
    pair = spec_json("test-vectors", "vc-di-eddsa", "proof-set-chain", "multiKeyPairs.json")[name]
    assert Ed25519Signer.from_multibase(pair["privateKeyMultibase"]).public_key().to_multibase() == pair[
        "publicKeyMultibase"
    ]


def test_64_byte_secret_with_foreign_public_half_is_refused() -> None:
    pair = spec_json(*OB3_VECTOR)["keyPair"]
    seed = bytes.fromhex(pair["privateKeyHex_seed_plus_public"])[:32]
    other = Ed25519Signer.generate().public_key().raw
    with pytest.raises(KeyFormatError) as error:
        decode_ed25519_secret_multibase(multibase_encode(b"\x80\x26" + seed + other))
    assert error.value.code == "key_mismatch"
    with pytest.raises(KeyFormatError):
        Ed25519Signer.from_private_bytes(seed + other)


def test_secret_multibase_wrong_codec_or_length() -> None:
    with pytest.raises(KeyFormatError) as error:
        decode_ed25519_secret_multibase(multibase_encode(b"\xed\x01" + bytes(32)))
    assert error.value.code == "multicodec_unsupported"
    with pytest.raises(KeyFormatError) as error:
        decode_ed25519_secret_multibase(multibase_encode(b"\x80\x26" + bytes(31)))
    assert error.value.code == "key_length_invalid"
    with pytest.raises(KeyFormatError):
        encode_ed25519_secret_multibase(bytes(31))


# -- signers -------------------------------------------------------------------------------------------------------
def test_signers_follow_the_protocols(rsa_signer: RsaSigner) -> None:
    ed = Ed25519Signer.generate(key_id="did:key:x#y")
    for signer in (ed, rsa_signer):
        assert isinstance(signer, Signer)
        assert isinstance(signer.public_key(), Verifier)
    assert ed.algorithm == EDDSA
    assert rsa_signer.algorithm == RS256
    ed.key_id = "https://example.edu/issuers/1#key-2"
    assert ed.key_id.endswith("#key-2")


def test_ed25519_sign_and_verify() -> None:
    signer = Ed25519Signer.from_seed(bytes(range(32)))
    signature = signer.sign(b"hello")
    key = signer.public_key()
    assert len(signature) == 64
    assert key.verify(b"hello", signature)
    assert not key.verify(b"hellO", signature)
    assert not key.verify(b"hello", signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not key.verify(b"hello", b"short")
    assert not key.verify(b"hello", "not bytes")  # type: ignore[arg-type]


def test_rsa_sign_and_verify(rsa_signer: RsaSigner) -> None:
    signature = rsa_signer.sign(b"payload")
    key = rsa_signer.public_key()
    assert key.algorithm == RS256
    assert key.key_type == "RSA"
    assert key.verify(b"payload", signature)
    assert not key.verify(b"payload!", signature)
    assert not key.verify(b"payload", b"")
    assert not key.verify(b"payload", signature + b"\0")


def test_one_key_type_never_verifies_the_others_signature(rsa_signer: RsaSigner) -> None:
    ed = Ed25519Signer.generate()
    assert not rsa_signer.public_key().verify(b"x", ed.sign(b"x"))
    assert not ed.public_key().verify(b"x", rsa_signer.sign(b"x"))


def test_pem_round_trips(rsa_signer: RsaSigner) -> None:
    ed = Ed25519Signer.generate()
    again = Ed25519Signer.from_pem(ed.to_pem())
    assert again.public_key() == ed.public_key()
    encrypted = ed.to_pem(password="correct horse")
    assert b"ENCRYPTED" in encrypted
    assert Ed25519Signer.from_pem(encrypted, password="correct horse").seed() == ed.seed()
    with pytest.raises(KeyFormatError):
        Ed25519Signer.from_pem(encrypted, password="wrong")
    assert RsaSigner.from_pem(rsa_signer.to_pem()).public_key() == rsa_signer.public_key()
    assert isinstance(signer_from_pem(rsa_signer.to_pem()), RsaSigner)
    assert isinstance(signer_from_pem(ed.to_pem(), key_id="k").key_id, str)
    with pytest.raises(KeyFormatError):
        RsaSigner.from_pem(ed.to_pem())
    with pytest.raises(KeyFormatError):
        Ed25519Signer.from_pem(rsa_signer.to_pem())
    assert PublicKey.from_pem(rsa_signer.public_key_pem()) == rsa_signer.public_key()
    assert PublicKey.from_pem(ed.public_key().to_pem()) == ed.public_key()


def test_public_pem_refuses_private_keys_and_garbage(rsa_signer: RsaSigner) -> None:
    with pytest.raises(KeyFormatError) as error:
        PublicKey.from_pem(rsa_signer.to_pem())
    assert error.value.code == "pem_private_key"
    with pytest.raises(KeyFormatError) as error:
        PublicKey.from_pem("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")
    assert error.value.code == "pem_invalid"


def test_short_rsa_keys_are_refused_everywhere() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(KeyFormatError) as error:
        RsaSigner(weak)
    assert error.value.code == "rsa_key_too_small"
    with pytest.raises(KeyFormatError):
        RsaSigner.generate(1024)
    with pytest.raises(KeyFormatError):
        PublicKey(weak.public_key())
    pem = weak.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyFormatError):
        PublicKey.from_pem(pem)
    numbers = weak.public_key().public_numbers()
    small_jwk = {"kty": "RSA", "n": b64url_encode(numbers.n.to_bytes(128, "big")), "e": "AQAB"}
    with pytest.raises(KeyFormatError) as error:
        PublicKey.from_jwk(small_jwk)
    assert error.value.code == "rsa_key_too_small"


def test_other_key_types_are_refused() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(KeyFormatError) as error:
        PublicKey(p256)  # type: ignore[arg-type]
    assert error.value.code == "key_type_unsupported"
    pem = p256.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyFormatError):
        PublicKey.from_pem(pem)


# -- multibase / multicodec ------------------------------------------------------------------------------------------
def test_multibase_refuses_wrong_codec_and_length() -> None:
    with pytest.raises(KeyFormatError) as error:
        PublicKey.from_multibase(multibase_encode(b"\x80\x24" + bytes(33)))  # P-256 (zDn…)
    assert error.value.code == "multicodec_unsupported"
    with pytest.raises(KeyFormatError) as error:
        PublicKey.from_multibase(multibase_encode(b"\x80\x26" + bytes(32)))  # a secret key
    assert error.value.code == "multicodec_invalid"
    with pytest.raises(KeyFormatError) as error:
        PublicKey.from_multibase(multibase_encode(b"\xed\x01" + bytes(31)))
    assert error.value.code == "key_length_invalid"
    with pytest.raises(KeyFormatError):
        PublicKey.from_multibase("m" + "A" * 44)
    with pytest.raises(KeyFormatError):
        PublicKey.from_multibase("z0OIl")  # not base58


def test_base64url_multibase_is_accepted() -> None:
    key = Ed25519Signer.generate().public_key()
    assert PublicKey.from_multibase(multibase_encode(b"\xed\x01" + key.raw, "u")) == key


@settings(max_examples=50)
@given(st.binary(min_size=32, max_size=32))
def test_multibase_and_jwk_round_trip(seed: bytes) -> None:
    key = Ed25519Signer.from_seed(seed).public_key()
    assert key.to_multibase().startswith("z6Mk")
    assert PublicKey.from_multibase(key.to_multibase()) == key
    assert PublicKey.from_jwk(key.to_jwk()) == key
    assert PublicKey.from_base58(key.to_base58()) == key
    assert PublicKey.from_der(key.to_der()) == key


# -- JWK -------------------------------------------------------------------------------------------------------------
def test_jwk_shapes(rsa_signer: RsaSigner) -> None:
    ed = Ed25519Signer.from_seed(bytes(32)).public_key()
    assert ed.to_jwk() == {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(ed.raw)}
    jwk = rsa_signer.public_key().to_jwk()
    assert set(jwk) == {"kty", "n", "e"}
    assert jwk["e"] == "AQAB"
    assert PublicKey.from_jwk(jwk) == rsa_signer.public_key()


def test_rfc8037_ed25519_jwk_example() -> None:
    # RFC 8037 Appendix A.2 public key; A.3 gives its RFC 7638 thumbprint.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    key = PublicKey.from_jwk(jwk)
    assert key.raw.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert jwk_thumbprint(jwk) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        ({"d": "AAAA"}, "jwk_private_key"),
        ({"kty": "EC"}, "key_type_unsupported"),
        ({"crv": "X25519"}, "key_type_unsupported"),
        ({"use": "enc"}, "jwk_wrong_use"),
        ({"alg": "RS256"}, "jwk_wrong_alg"),
        ({"x": b64url_encode(bytes(31))}, "key_length_invalid"),
        ({"x": "***"}, "jwk_invalid"),
    ],
)
def test_jwk_refusals(mutation: dict, code: str) -> None:
    jwk = {**Ed25519Signer.generate().public_key().to_jwk(), **mutation}
    with pytest.raises(KeyFormatError) as error:
        PublicKey.from_jwk(jwk)
    assert error.value.code == code


def test_rsa_private_jwk_members_refused(rsa_signer: RsaSigner) -> None:
    for member in ("d", "p", "q", "dp", "dq", "qi"):
        jwk = {**rsa_signer.public_key().to_jwk(), member: "AQAB"}
        with pytest.raises(KeyFormatError) as error:
            PublicKey.from_jwk(jwk)
        assert error.value.code == "jwk_private_key"
    assert PublicKey.from_jwk({**rsa_signer.public_key().to_jwk(), "alg": "RS256", "use": "sig"})
    with pytest.raises(KeyFormatError):
        PublicKey.from_jwk({**rsa_signer.public_key().to_jwk(), "alg": "EdDSA"})


# -- method documents ------------------------------------------------------------------------------------------------
def test_multikey_and_jsonwebkey_documents(rsa_signer: RsaSigner) -> None:
    pair = spec_json(*OB3_VECTOR)["keyPair"]
    key = PublicKey.from_multibase(pair["publicKeyMultibase"])
    document = multikey_document(key, id=pair["verificationMethod"], controller=pair["controller"])
    assert document == {
        "id": "https://example.edu/issuers/565049#z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
        "type": "Multikey",
        "controller": "https://example.edu/issuers/565049",
        "publicKeyMultibase": "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi",
    }
    assert multikey_document(key, id="x", controller="y", with_context=True)["@context"] == (
        "https://w3id.org/security/multikey/v1"
    )
    assert public_key_from_method(document) == key
    jwk_doc = jsonwebkey_document(rsa_signer.public_key(), id="https://e.edu/i#k", controller="https://e.edu/i")
    assert jwk_doc["type"] == "JsonWebKey"
    assert "d" not in jwk_doc["publicKeyJwk"]
    assert public_key_from_method(jwk_doc) == rsa_signer.public_key()


def test_legacy_method_types(rsa_signer: RsaSigner) -> None:
    key = Ed25519Signer.generate().public_key()
    assert public_key_from_method(
        {"id": "did:x#1", "type": "Ed25519VerificationKey2020", "controller": "did:x", "publicKeyMultibase":
         key.to_multibase()}
    ) == key
    assert public_key_from_method(
        {"id": "did:x#1", "type": "Ed25519VerificationKey2018", "controller": "did:x",
         "publicKeyBase58": b58_encode(key.raw)}
    ) == key
    assert public_key_from_method({"type": "JsonWebKey2020", "publicKeyJwk": key.to_jwk()}) == key
    assert public_key_from_method(
        {"id": "https://e.org/key", "type": "CryptographicKey", "owner": "https://e.org/issuer",
         "publicKeyPem": rsa_signer.public_key_pem()}
    ) == rsa_signer.public_key()


@pytest.mark.parametrize(
    "method",
    [
        {"type": "Multikey"},
        {"type": "Multikey", "publicKeyBase58": "abc"},
        {"type": "Ed25519VerificationKey2018", "publicKeyMultibase": "z6Mk"},
        {"type": "EcdsaSecp256k1VerificationKey2019", "publicKeyMultibase": "zQ3s"},
        {"type": "JsonWebKey", "publicKeyJwk": "not an object"},
        "not a method",
    ],
)
def test_method_refusals(method: object) -> None:
    with pytest.raises(KeyFormatError):
        public_key_from_method(method)  # type: ignore[arg-type]


def test_public_key_equality_and_repr() -> None:
    a = Ed25519Signer.from_seed(bytes(32)).public_key()
    b = Ed25519Signer.from_seed(bytes(32)).public_key()
    c = Ed25519Signer.from_seed(bytes([1]) * 32).public_key()
    assert a == b
    assert hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert "z6Mk" in repr(a)
    with pytest.raises(KeyFormatError):
        _ = RsaSigner.generate().public_key().raw
