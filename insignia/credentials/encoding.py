"""Byte encodings used by the standards: base64url (JOSE), base58btc and multibase."""

from __future__ import annotations

import base64
import binascii
import re

from insignia.credentials.errors import KeyFormatError, MalformedInputError

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
#: Base58 works five digits at a time: 58**5 fits one 30-bit CPython digit, so each divmod of the big number
#: by it is a single cheap pass, a fifth as many as digit by digit; the digits of a chunk come from small-int
#: divmods. Only small tables are used (they stay in cache between signatures, where a pair table did not).
_B58_CHUNK = 58**5
#: digit value -> ASCII character, and ASCII byte -> digit value (255 outside the alphabet): ``bytes.translate``.
_B58_CHARS = bytes.maketrans(bytes(range(58)), _B58_ALPHABET.encode("ascii"))
_B58_DIGITS = bytes(_B58_ALPHABET.index(chr(byte)) if chr(byte) in _B58_ALPHABET else 255 for byte in range(256))
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as JOSE and multibase 'u' use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded (or padded) base64url; refuses any other alphabet."""
    if not isinstance(text, str):
        raise MalformedInputError("Expected a base64url string.", code="base64url_invalid")
    stripped = text.rstrip("=")
    if not _B64URL.fullmatch(stripped):
        raise MalformedInputError("The value is not base64url (unexpected characters).", code="base64url_invalid")
    if len(stripped) % 4 == 1:
        raise MalformedInputError("The value is not base64url (impossible length).", code="base64url_invalid")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedInputError(f"The value is not base64url: {exc}", code="base64url_invalid") from exc


def b58_encode(data: bytes) -> str:
    """Bitcoin base58 (the 'z' multibase alphabet): each leading zero byte is a '1', the rest a big number."""
    body = data.lstrip(b"\0")
    number = int.from_bytes(body, "big")
    digits: list[int] = []  # least significant first
    while number:
        number, chunk = divmod(number, _B58_CHUNK)
        chunk, d4 = divmod(chunk, 58)
        chunk, d3 = divmod(chunk, 58)
        d0, d2 = divmod(chunk, 58)
        d0, d1 = divmod(d0, 58)
        digits += (d4, d3, d2, d1, d0)
    digits.reverse()
    # The top chunk may be short: its zero digits ('1') are padding, not leading zero bytes.
    return "1" * (len(data) - len(body)) + bytes(digits).translate(_B58_CHARS).decode("ascii").lstrip("1")


def b58_decode(text: str) -> bytes:
    """Decode base58btc; each leading '1' is a zero byte. Refuses any character outside the alphabet."""
    if not isinstance(text, str):
        raise KeyFormatError("Expected a base58btc string.", code="base58_invalid")
    try:
        digits = text.encode("ascii").translate(_B58_DIGITS)
    except UnicodeEncodeError:
        digits = b"\xff"
    if 255 in digits:
        bad = next(char for char in text if char not in _B58_ALPHABET)
        raise KeyFormatError(f"'{bad}' is not a base58btc character.", code="base58_invalid")
    zeros = len(digits) - len(digits.lstrip(b"\0"))
    if len(digits) % 5:  # leading zero digits change nothing, and make whole five-digit chunks
        digits = bytes(5 - len(digits) % 5) + digits
    number = 0
    for a, b, c, d, e in zip(digits[0::5], digits[1::5], digits[2::5], digits[3::5], digits[4::5], strict=True):
        number = number * _B58_CHUNK + (((a * 58 + b) * 58 + c) * 58 + d) * 58 + e
    return bytes(zeros) + number.to_bytes((number.bit_length() + 7) // 8, "big")


def multibase_encode(data: bytes, base: str = "z") -> str:
    """Multibase with prefix 'z' (base58btc) or 'u' (base64url, no padding)."""
    if base == "z":
        return "z" + b58_encode(data)
    if base == "u":
        return "u" + b64url_encode(data)
    raise ValueError(f"unsupported multibase prefix {base!r}")


def multibase_decode(text: str) -> bytes:
    """Decode a 'z' (base58btc) or 'u' (base64url) multibase string."""
    if not isinstance(text, str) or not text:
        raise KeyFormatError("Expected a multibase string.", code="multibase_invalid")
    prefix, body = text[0], text[1:]
    if prefix == "z":
        return b58_decode(body)
    if prefix == "u":
        try:
            return b64url_decode(body)
        except MalformedInputError as exc:
            raise KeyFormatError(str(exc), code="multibase_invalid") from exc
    raise KeyFormatError(
        f"Unsupported multibase prefix '{prefix}': expected 'z' (base58btc) or 'u' (base64url).",
        code="multibase_invalid",
    )
