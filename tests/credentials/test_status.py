"""Bitstring Status List (and legacy StatusList2021), OB 2.0 RevocationList, 1EdTechRevocationList."""

from __future__ import annotations

import base64
import gzip
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from insignia.credentials.encoding import b64url_decode
from insignia.credentials.errors import StatusListError
from insignia.credentials.status import (
    MIN_BITS,
    Bitstring,
    allocate_index,
    check_status,
    is_revoked_1edtech,
    is_revoked_ob2,
    revocation_list,
    status_entry,
    status_list_credential,
)

LIST_URL = "https://issuer.example/status/3"


def code_of(function: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(StatusListError) as info:
        function(*args, **kwargs)  # type: ignore[operator]
    return info.value.code


# The bitstring ------------------------------------------------------------------------------------------------


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    bits = Bitstring()
    bits.set(0)
    assert bits.to_bytes()[0] == 0x80
    bits.set(9)
    assert bits.to_bytes()[:2] == b"\x80\x40"
    bits.set(MIN_BITS - 1)
    assert bits.to_bytes()[-1] == 0x01
    assert bits.get(0)
    assert bits.get(9)
    assert not bits.get(1)
    bits.clear(0)
    assert not bits.get(0)
    assert bits.count() == 2


def test_minimum_size_is_enforced() -> None:
    assert len(Bitstring()) == MIN_BITS == 131_072
    assert code_of(Bitstring, MIN_BITS - 8) == "status_list_too_short"
    assert code_of(Bitstring, MIN_BITS + 1) == "status_list_length"
    assert len(Bitstring(2 * MIN_BITS)) == 2 * MIN_BITS


def test_index_bounds() -> None:
    bits = Bitstring()
    assert code_of(bits.get, MIN_BITS) == "status_index_out_of_range"
    assert code_of(bits.set, -1) == "status_index_out_of_range"
    with pytest.raises(TypeError):
        bits.get("1")  # type: ignore[arg-type]


def test_encode_is_multibase_gzip_and_deterministic() -> None:
    bits = Bitstring()
    bits.set(42)
    encoded = bits.encode()
    assert encoded.startswith("uH4sI")  # 'u' + base64url of the gzip magic 1f 8b 08
    assert "=" not in encoded
    assert "+" not in encoded
    assert "/" not in encoded
    assert encoded == bits.encode()
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(raw) == bits.to_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # mtime 0
    assert Bitstring.decode(encoded) == bits
    assert not bits.encode(legacy=True).startswith("u")


def test_round_trip_with_many_bits() -> None:
    bits = Bitstring()
    chosen = {0, 1, 7, 8, 1000, 65_535, MIN_BITS - 1}
    for index in chosen:
        bits.set(index)
    decoded = Bitstring.decode(bits.encode())
    assert {i for i in range(MIN_BITS) if decoded.get(i)} == chosen


def test_known_encodings_from_published_examples() -> None:
    # An all-zero 16 KiB list, as digitalbazaar's library produces it (quoted in MATTR's RevocationList2020
    # docs); only the gzip header differs from ours.
    published = "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
    zeros = Bitstring.decode(published, legacy=True)
    assert len(zeros) == MIN_BITS
    assert zeros.count() == 0
    ours = b64url_decode(Bitstring().encode()[1:])
    assert ours[10:] == b64url_decode(published)[10:]  # same deflate stream, CRC and length
    # StatusList2021 list from the Hyperledger Identus revocation docs: one bit set, at index 6.
    identus = Bitstring.decode("H4sIAAAAAAAA_-3BMQ0AAAACIGf_0MbwARoAAAAAAAAAAAAAAAAAAADgbbmHB0sAQAAA", legacy=True)
    assert [i for i in range(64) if identus.get(i)] == [6]
    assert identus.count() == 1
    # A BitstringStatusListCredential example found in public OB 3.0 sample data: index 23 set.
    sample = Bitstring.decode("uH4sIAAAAAAAA_-3BMQEAAAzDoMy_6cnoA9QFAAAAAAAAAAAAAAAAAAAAbD3uPa2cAEAAAA")
    assert sample.count() == 1
    assert sample.get(23)


def test_decode_refusals() -> None:
    legacy_form = Bitstring().encode(legacy=True)
    assert code_of(Bitstring.decode, legacy_form) == "status_list_encoding"  # no 'u' outside legacy mode
    assert Bitstring.decode(legacy_form, legacy=True) == Bitstring()
    assert code_of(Bitstring.decode, "u!!!") == "status_list_encoding"
    assert code_of(Bitstring.decode, "uAAAA") == "status_list_encoding"  # not gzip
    assert code_of(Bitstring.decode, "") == "status_list_invalid"
    assert code_of(Bitstring.decode, 5) == "status_list_invalid"
    truncated = Bitstring().encode()[:-10]
    assert code_of(Bitstring.decode, truncated) == "status_list_encoding"


def test_legacy_accepts_standard_base64() -> None:
    bits = Bitstring()
    bits.set(3)
    standard = base64.b64encode(gzip.compress(bits.to_bytes())).decode()
    assert Bitstring.decode(standard, legacy=True) == bits


def test_gzip_bomb_is_refused_fast() -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9, mtime=0)
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    start = time.perf_counter()
    assert code_of(Bitstring.decode, encoded) == "status_list_too_large"
    assert time.perf_counter() - start < 20  # hang guard, not a speed test
    assert code_of(Bitstring.decode, Bitstring().encode(), max_bytes=1000) == "status_list_too_large"


def test_multi_bit_values() -> None:
    bits = Bitstring()
    bits.set_value(5, 0b10, size=2)  # bits 10 and 11
    assert bits.get(10)
    assert not bits.get(11)
    assert bits.get_value(5, size=2) == 2
    bits.set_value(5, 0b01, size=2)
    assert bits.get_value(5, size=2) == 1
    assert code_of(bits.get_value, MIN_BITS // 2, size=2) == "status_index_out_of_range"
    assert code_of(bits.get_value, 0, size=0) == "status_size_invalid"


# Allocation ---------------------------------------------------------------------------------------------------


def test_allocation_is_random_and_never_repeats() -> None:
    used: set[int] = set()
    picks = []
    for _ in range(2000):
        index = allocate_index(used, MIN_BITS)
        assert index not in used
        assert 0 <= index < MIN_BITS
        used.add(index)
        picks.append(index)
    assert picks != sorted(picks)
    assert max(picks) > MIN_BITS // 2
    assert min(picks) < MIN_BITS // 2


def test_allocation_fills_the_list_then_says_full() -> None:
    used: set[int] = set()
    for _ in range(64):
        used.add(allocate_index(used, 64))
    assert used == set(range(64))
    assert code_of(allocate_index, used, 64) == "status_list_full"
    assert code_of(allocate_index, lambda i: True, 64) == "status_list_full"
    assert allocate_index(lambda i: i != 37, 64) == 37


# The list credential and the entry ------------------------------------------------------------------------


def make_list(purpose: str = "revocation", set_bits: tuple[int, ...] = ()) -> dict:
    bits = Bitstring()
    for index in set_bits:
        bits.set(index)
    return status_list_credential(
        id=LIST_URL, issuer="did:example:issuer", purpose=purpose, bitstring=bits,  # type: ignore[arg-type]
        valid_from=datetime(2025, 1, 1, tzinfo=UTC), ttl=300_000,
    )


def test_status_list_credential_shape() -> None:
    credential = make_list()
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["validFrom"] == "2025-01-01T00:00:00Z"
    assert credential["credentialSubject"] == {
        "id": LIST_URL + "#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": Bitstring().encode(),
        "ttl": 300_000,
    }
    assert "proof" not in credential
    assert "validUntil" not in credential
    until = datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    other = status_list_credential(id=LIST_URL, issuer={"id": "did:example:i"}, purpose="suspension",
                                   bitstring=Bitstring(), valid_from="2025-01-01T00:00:00Z", valid_until=until)
    assert other["validUntil"] == "2026-01-01T02:00:00+02:00"
    with pytest.raises(ValueError, match="time zone"):
        status_list_credential(id=LIST_URL, issuer="x", purpose="revocation", bitstring=Bitstring(),
                               valid_from=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="purpose"):
        make_list("message")


def test_status_entry_shape() -> None:
    assert status_entry(list_url=LIST_URL, index=94567, purpose="revocation") == {
        "id": LIST_URL + "#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }
    assert status_entry(list_url=LIST_URL, index=0, purpose="suspension", entry_id="urn:uuid:1")["id"] == "urn:uuid:1"
    with pytest.raises(ValueError, match="must not be"):
        status_entry(list_url=LIST_URL, index=1, purpose="revocation", entry_id=LIST_URL)
    with pytest.raises(ValueError, match="index"):
        status_entry(list_url=LIST_URL, index=-1, purpose="revocation")


# check_status -------------------------------------------------------------------------------------------------


def test_check_status_reads_the_bit() -> None:
    listing = make_list(set_bits=(94567,))
    revoked = check_status(status_entry(list_url=LIST_URL, index=94567, purpose="revocation"), listing)
    assert (revoked.purpose, revoked.index, revoked.is_set) == ("revocation", 94567, True)
    fine = check_status(status_entry(list_url=LIST_URL, index=94566, purpose="revocation"), listing)
    assert fine.is_set is False


def test_purpose_mismatch() -> None:
    entry = status_entry(list_url=LIST_URL, index=1, purpose="suspension")
    assert code_of(check_status, entry, make_list("revocation")) == "status_purpose_mismatch"


def test_out_of_range_index() -> None:
    entry = status_entry(list_url=LIST_URL, index=MIN_BITS, purpose="revocation")
    assert code_of(check_status, entry, make_list()) == "status_index_out_of_range"
    last = status_entry(list_url=LIST_URL, index=MIN_BITS - 1, purpose="revocation")
    assert check_status(last, make_list()).is_set is False


@pytest.mark.parametrize("index", [5, -1, "-1", "01", "+1", " 1", "1 ", "1.0", "0x10", "١", "", None, True,
                                   "9" * 16])
def test_non_canonical_indexes_are_refused(index: object) -> None:
    entry = {**status_entry(list_url=LIST_URL, index=0, purpose="revocation"), "statusListIndex": index}
    assert code_of(check_status, entry, make_list()) == "status_index_invalid"


def test_entry_and_list_types() -> None:
    entry = status_entry(list_url=LIST_URL, index=1, purpose="revocation")
    assert code_of(check_status, {**entry, "type": "RevocationList2020Status"}, make_list()) == "status_entry_type"
    assert code_of(check_status, entry, {**make_list(), "type": ["VerifiableCredential"]}) == "status_list_type"
    subject = {**make_list()["credentialSubject"], "type": "StatusList2021"}
    assert code_of(check_status, entry, {**make_list(), "credentialSubject": subject}) == "status_list_type"
    assert code_of(check_status, entry, {**make_list(), "id": "https://elsewhere.example/list"}) == (
        "status_list_mismatch"
    )
    assert code_of(check_status, {**entry, "id": LIST_URL}, make_list()) == "status_entry_invalid"
    assert code_of(check_status, {**entry, "statusPurpose": None}, make_list()) == "status_entry_invalid"
    assert code_of(check_status, "nope", make_list()) == "status_entry_invalid"  # type: ignore[arg-type]


def test_legacy_status_list_2021() -> None:
    bits = Bitstring()
    bits.set(7)
    legacy_list = {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/vc/status-list/2021/v1"],
        "id": LIST_URL,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": "did:example:issuer",
        "issuanceDate": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": LIST_URL + "#list", "type": "StatusList2021", "statusPurpose": "revocation",
                              "encodedList": bits.encode(legacy=True)},
    }
    entry = {"id": LIST_URL + "#7", "type": "StatusList2021Entry", "statusPurpose": "revocation",
             "statusListIndex": "7", "statusListCredential": LIST_URL}
    assert check_status(entry, legacy_list).is_set is True
    assert code_of(check_status, entry, legacy_list, legacy_allowed=False) == "status_entry_type"
    # a Bitstring entry must not be satisfied by a StatusList2021 list
    assert code_of(check_status, {**entry, "type": "BitstringStatusListEntry"}, legacy_list) == "status_list_type"


def test_status_size_greater_than_one() -> None:
    bits = Bitstring()
    bits.set_value(3, 2, size=2)
    listing = status_list_credential(id=LIST_URL, issuer="did:example:i", purpose="revocation", bitstring=bits,
                                     valid_from="2025-01-01T00:00:00Z")
    listing["credentialSubject"]["statusPurpose"] = "message"
    messages = [{"status": f"0x{i:x}", "message": m} for i, m in enumerate(["ok", "pending", "rejected", "x"])]
    entry = {"type": "BitstringStatusListEntry", "statusPurpose": "message", "statusListIndex": "3",
             "statusListCredential": LIST_URL, "statusSize": 2, "statusMessage": messages}
    result = check_status(entry, listing)
    assert (result.value, result.size, result.is_set, result.message) == (2, 2, True, "rejected")
    assert code_of(check_status, {**entry, "statusMessage": None}, listing) == "status_entry_invalid"
    assert code_of(check_status, {**entry, "statusSize": 0}, listing) == "status_size_invalid"
    assert code_of(check_status, {**entry, "statusListIndex": str(MIN_BITS // 2)}, listing) == (
        "status_index_out_of_range"
    )


def test_gzip_bomb_in_a_list_credential() -> None:
    listing = make_list()
    bomb = gzip.compress(b"\0" * (32 * 1024 * 1024), mtime=0)
    listing["credentialSubject"]["encodedList"] = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    entry = status_entry(list_url=LIST_URL, index=1, purpose="revocation")
    assert code_of(check_status, entry, listing) == "status_list_too_large"


# OB 2.0 RevocationList and 1EdTechRevocationList ---------------------------------------------------------------


def test_ob2_revocation_list_builder() -> None:
    document = revocation_list(
        id="https://issuer.example/revocations", issuer="https://issuer.example/issuer",
        revoked={"https://issuer.example/a/1": "Honor code violation", "https://issuer.example/a/2": None},
    )
    assert document == {
        "@context": "https://w3id.org/openbadges/v2",
        "id": "https://issuer.example/revocations",
        "type": "RevocationList",
        "issuer": "https://issuer.example/issuer",
        "revokedAssertions": [
            {"id": "https://issuer.example/a/1", "revocationReason": "Honor code violation"},
            "https://issuer.example/a/2",
        ],
    }
    assert revocation_list(id="x:1", issuer="x:2", revoked=["a:1", "a:1"])["revokedAssertions"] == ["a:1"]


def test_is_revoked_ob2() -> None:
    document = {
        "@context": "https://w3id.org/openbadges/v2", "id": "https://issuer.example/revocations",
        "type": "RevocationList",
        "revokedAssertions": [
            {"id": "https://issuer.example/a/1", "revocationReason": "Honor code violation"},
            "https://issuer.example/a/2",
            {"uid": "abc123", "revocationReason": "legacy"},
        ],
    }
    assert is_revoked_ob2(document, "https://issuer.example/a/1") == (True, "Honor code violation")
    assert is_revoked_ob2(document, "https://issuer.example/a/2") == (True, None)
    assert is_revoked_ob2(document, "https://issuer.example/a/3") == (False, None)
    assert is_revoked_ob2(document, "https://issuer.example/a/3", uid="abc123") == (True, "legacy")
    assert is_revoked_ob2({"type": "RevocationList"}, "x") == (False, None)
    assert code_of(is_revoked_ob2, [], "x") == "revocation_list_invalid"
    assert code_of(is_revoked_ob2, {"type": "Issuer"}, "x") == "revocation_list_invalid"
    assert code_of(is_revoked_ob2, {"revokedAssertions": "x"}, "x") == "revocation_list_invalid"


def test_is_revoked_1edtech() -> None:
    cid = "https://issuer.example/credentials/3732"
    vcrl = {"id": "https://issuer.example/credentials/3732/revocations", "issuer": "https://issuer.example",
            "revokedCredentials": [{"id": cid, "revocationReason": "Issued in error"}, "urn:uuid:2"]}
    assert is_revoked_1edtech(vcrl, cid) == (True, "Issued in error")
    assert is_revoked_1edtech(vcrl, "urn:uuid:2") == (True, None)
    assert is_revoked_1edtech(vcrl, "urn:uuid:3") == (False, None)
    assert is_revoked_1edtech([cid], cid) == (True, None)
    assert is_revoked_1edtech({"credentialSubject": {"revokedCredentials": [{"id": cid}]}}, cid) == (True, None)
    assert is_revoked_1edtech({"revokedAssertions": []}, cid) == (False, None)
    assert code_of(is_revoked_1edtech, {"id": "x"}, cid) == "revocation_list_invalid"
    assert code_of(is_revoked_1edtech, "text", cid) == "revocation_list_invalid"
    assert code_of(is_revoked_1edtech, vcrl, None) == "status_unverifiable"
