"""base58btc (multibase 'z'): the chunked encoder/decoder against published vectors and the plain reference.

``encoding.b58_encode``/``b58_decode`` convert four digits per step with a pair table, for speed: signatures
and keys are base58 in every Data Integrity proof. This file pins them to the published vectors (the base58
draft and multibase test vectors, Bitcoin Core's ``base58_encode_decode.json``) and, with hypothesis, to the
digit-at-a-time implementation they replaced, kept here as the reference: same text for every byte string,
same bytes (or the same refusal) for every text.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insignia.credentials.encoding import b58_decode, b58_encode, multibase_decode, multibase_encode
from insignia.credentials.errors import KeyFormatError

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: index for index, char in enumerate(ALPHABET)}


def reference_encode(data: bytes) -> str:
    """The previous implementation, one digit per divmod (the reference for the differential tests)."""
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, rem = divmod(number, 58)
        chars.append(ALPHABET[rem])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(chars))


def reference_decode(text: str) -> bytes:
    """The previous implementation, one digit per step (raises on the first character outside the alphabet)."""
    number = 0
    for char in text:
        digit = _INDEX.get(char)
        if digit is None:
            raise KeyFormatError(f"'{char}' is not a base58btc character.", code="base58_invalid")
        number = number * 58 + digit
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


VECTORS = [
    # draft-msporny-base58 and the multibase test vectors
    (b"", ""),
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (b"The quick brown fox jumps over the lazy dog.", "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"),
    (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    (b"yes mani !", "7paNL19xttacUY"),
    (b"\0yes mani !", "17paNL19xttacUY"),
    (b"\0\0yes mani !", "117paNL19xttacUY"),
    (b"Decentralize everything!!", "UXE7GvtEk8XTXs1GF8HSGbVA9FCX9SEBPe"),
    # Bitcoin Core, src/test/data/base58_encode_decode.json
    (bytes.fromhex("61"), "2g"),
    (bytes.fromhex("626262"), "a3gV"),
    (bytes.fromhex("636363"), "aPEr"),
    (bytes.fromhex("73696d706c792061206c6f6e6720737472696e67"), "2cFupjhnEsSn59qHXstmK2ffpLv2"),
    (bytes.fromhex("00eb15231dfceb60925886b67d065299925915aeb172c06647"), "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
    (bytes.fromhex("516b6fcd0f"), "ABnLTmg"),
    (bytes.fromhex("bf4f89001e670274dd"), "3SEo3LWLoPntC"),
    (bytes.fromhex("572e4794"), "3EFU7m"),
    (bytes.fromhex("ecac89cad93923c02321"), "EJDM8drfXA6uyA"),
    (bytes.fromhex("10c8511e"), "Rt5zm"),
    (bytes(10), "1111111111"),
    (bytes.fromhex("000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5"),
     ALPHABET),
    (bytes(range(256)),
     "1cWB5HCBdLjAuqGGReWE3R3CguuwSjw6RHn39s2yuDRTS5NsBgNiFpWgAnEx6VQi8csexkgYw3mdYrMHr8x9i7aEwP8kZ7vccXWqKDvGv3u1"
     "GxFKPuAkn8JCPPGDMf3vMMnbzm6Nh9zh1gcNsMvH3ZNLmP5fSG6DGbbi2tuwMWPthr4boWwCxf7ewSgNQeacyozhKDDQQ1qL5fQFUW52QKUZ"
     "DZ5fw3KXNQJMcNTcaB723LchjeKun7MuGW5qyCBZYzA1KjofN1gYBV3NqyhQJ3Ns746GNuf9N2pQPmHz4xpnSrrfCvy6TVVz5d4Pdrjeshs"
     "WQwpZsZGzvbdAdN8MKV5QsBDY"),
]


@pytest.mark.parametrize(("data", "text"), VECTORS, ids=[text[:16] or "empty" for _, text in VECTORS])
def test_published_vectors_encode_and_decode(data: bytes, text: str) -> None:
    assert b58_encode(data) == text
    assert b58_decode(text) == data
    assert multibase_encode(data, "z") == "z" + text
    assert multibase_decode("z" + text) == data


@pytest.mark.parametrize("zeros", range(0, 9))
def test_leading_zero_bytes_are_ones_and_come_back(zeros: int) -> None:
    """Each leading zero byte is one '1', whatever the length of the rest (chunk boundaries included)."""
    for body in (b"", b"\x01", b"\xff" * 3, b"\x80" + bytes(7), bytes(range(1, 34))):
        data = bytes(zeros) + body
        text = b58_encode(data)
        assert text.startswith("1" * zeros)
        assert text[zeros:zeros + 1] != "1"
        assert b58_decode(text) == data


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "+", "/", " ", "é", "\u0661", "\x00"])
def test_characters_outside_the_alphabet_are_refused_by_name(bad: str) -> None:
    for text in (bad, "2NEpo7" + bad, bad + "2NEpo7TZRRrLZSi2U", "11" + bad + "0"):
        with pytest.raises(KeyFormatError) as caught:
            b58_decode(text)
        assert caught.value.code == "base58_invalid"
        assert str(caught.value) == f"'{bad}' is not a base58btc character."


def test_a_non_string_is_refused() -> None:
    with pytest.raises(KeyFormatError) as caught:
        b58_decode(b"2NEpo7TZRRrLZSi2U")  # type: ignore[arg-type]
    assert caught.value.code == "base58_invalid"


PROPERTIES = settings(max_examples=400, deadline=timedelta(seconds=2), derandomize=True)
# Leading zero bytes / '1's and lengths around whole four-digit chunks are where a chunked coder could go wrong.
byte_strings = st.builds(lambda zeros, body: bytes(zeros) + body, st.integers(0, 5), st.binary(max_size=300))
base58_texts = st.builds(lambda ones, body: "1" * ones + body, st.integers(0, 5),
                         st.text(alphabet=ALPHABET, max_size=300))


@PROPERTIES
@given(byte_strings)
def test_encoding_matches_the_reference_and_round_trips(data: bytes) -> None:
    text = b58_encode(data)
    assert text == reference_encode(data)
    assert b58_decode(text) == data


@PROPERTIES
@given(base58_texts)
def test_decoding_matches_the_reference_and_round_trips(text: str) -> None:
    data = b58_decode(text)
    assert data == reference_decode(text)
    assert b58_encode(data) == text  # base58btc has one spelling per byte string


@PROPERTIES
@given(st.text(alphabet=ALPHABET + "0OIl+/= é\x00", max_size=60))
def test_any_text_gives_the_reference_answer_or_its_refusal(text: str) -> None:
    try:
        expected: bytes | str = reference_decode(text)
    except KeyFormatError as exc:
        expected = str(exc)
    try:
        actual: bytes | str = b58_decode(text)
    except KeyFormatError as exc:
        actual = str(exc)
    assert actual == expected


@PROPERTIES
@given(byte_strings)
def test_a_bytearray_encodes_like_bytes(data: bytes) -> None:
    assert b58_encode(bytearray(data)) == b58_encode(data)  # type: ignore[arg-type]
