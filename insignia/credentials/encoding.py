"""Byte encodings used by the standards: base64url (JOSE), base58btc and multibase."""

from __future__ import annotations

import base64
import binascii
import re

from insignia.credentials.errors import KeyFormatError, MalformedInputError

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: index for index, char in enumerate(_B58_ALPHABET)}
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
    """Bitcoin base58 (the 'z' multibase alphabet)."""
    number = int.from_bytes(data, "big")
    chars: list[str] = []
    while number:
        number, rem = divmod(number, 58)
        chars.append(_B58_ALPHABET[rem])
    leading = len(data) - len(data.lstrip(b"\0"))
    return "1" * leading + "".join(reversed(chars))


def b58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise KeyFormatError(f"'{char}' is not a base58btc character.", code="base58_invalid")
        number = number * 58 + digit
    leading = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * leading + body


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
