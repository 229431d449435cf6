"""W3C Bitstring Status List v1.0: the list itself, its credential, entries, and reading an entry's status.

Also reads the legacy StatusList2021 format (``StatusList2021Entry`` / ``StatusList2021Credential``, whose
``encodedList`` is base64url without the multibase ``u`` prefix), still found in OB 3.0 credentials in the wild.

Rules chosen where the standard leaves room:

* ``statusListIndex`` must be a **canonical** base-10 string (``"0"``, ``"94567"``): numbers, signs,
  leading zeros (``"01"``), spaces and other digits are refused, so one index has exactly one spelling.
* ``encodedList`` is decompressed with a hard cap (16 MiB by default; a 16 KiB list is the norm), so a
  gzip bomb fails with ``StatusListError`` instead of exhausting memory.
* Index allocation is random (``secrets``), never sequential, so an index says nothing about issue order.

Verifying the list credential's proof, issuer and validity period is the verification pipeline's job.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import secrets
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from insignia.credentials.encoding import b64url_decode, multibase_encode
from insignia.credentials.errors import MalformedInputError, StatusListError

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

#: The smallest list the standard allows: 16 KiB uncompressed, for herd privacy.
MIN_BITS = 131_072
#: The largest decompressed list accepted when reading (a gzip bomb beyond this is refused).
MAX_DECODED_BYTES = 16 * 1024 * 1024
#: The largest ``statusSize`` accepted (bits per entry).
MAX_STATUS_SIZE = 32

Purpose = Literal["revocation", "suspension"]

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
LEGACY_ENTRY_TYPE = "StatusList2021Entry"
LEGACY_LIST_CREDENTIAL_TYPE = "StatusList2021Credential"
LEGACY_LIST_TYPE = "StatusList2021"

_CANONICAL_INDEX = re.compile(r"0|[1-9][0-9]{0,14}")
_PURPOSES = ("revocation", "suspension")

__all__ = [
    "ENTRY_TYPE",
    "LEGACY_ENTRY_TYPE",
    "LEGACY_LIST_CREDENTIAL_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "MAX_DECODED_BYTES",
    "MIN_BITS",
    "Bitstring",
    "StatusResult",
    "allocate_index",
    "check_status",
    "status_entry",
    "status_list_credential",
]


class Bitstring:
    """A fixed-length list of status bits; index 0 is the most significant bit of the first byte."""

    __slots__ = ("_bytes",)

    def __init__(self, length: int = MIN_BITS) -> None:
        if isinstance(length, bool) or not isinstance(length, int):
            raise TypeError("length must be an int")
        if length < MIN_BITS:
            raise StatusListError(
                f"A status list must hold at least {MIN_BITS:,} entries (herd privacy); {length:,} was asked for.",
                code="status_list_too_short",
            )
        if length % 8:
            raise StatusListError("A status list's length must be a multiple of 8 bits.", code="status_list_length")
        self._bytes = bytearray(length // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> Bitstring:
        """Wrap raw (uncompressed) list bytes; any non-empty length is accepted when reading."""
        if not data:
            raise StatusListError("The status list is empty.", code="status_list_invalid")
        bitstring = cls.__new__(cls)
        bitstring._bytes = bytearray(data)
        return bitstring

    def __len__(self) -> int:
        return len(self._bytes) * 8

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitstring) and self._bytes == other._bytes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Bitstring(length={len(self)}, set={self.count()})"

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def count(self) -> int:
        """How many bits are set."""
        return int.from_bytes(self._bytes, "big").bit_count()

    def _check_index(self, index: int, size: int = 1) -> None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError("a status index must be an int")
        if index < 0 or (index + 1) * size > len(self):
            raise StatusListError(
                f"Status index {index} is outside this list of {len(self) // size:,} entries.",
                code="status_index_out_of_range",
            )

    def get(self, index: int) -> bool:
        self._check_index(index)
        return bool(self._bytes[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool = True) -> None:
        self._check_index(index)
        mask = 0x80 >> (index & 7)
        if value:
            self._bytes[index >> 3] |= mask
        else:
            self._bytes[index >> 3] &= ~mask & 0xFF

    def clear(self, index: int) -> None:
        self.set(index, False)

    def get_value(self, index: int, size: int = 1) -> int:
        """The ``size``-bit status of entry ``index`` (bits ``index*size`` to ``index*size+size-1``, MSB first)."""
        _check_size(size)
        self._check_index(index, size)
        value = 0
        for bit in range(index * size, index * size + size):
            value = (value << 1) | bool(self._bytes[bit >> 3] & (0x80 >> (bit & 7)))
        return value

    def set_value(self, index: int, value: int, size: int = 1) -> None:
        """Store ``value`` as the ``size``-bit status of entry ``index``."""
        _check_size(size)
        self._check_index(index, size)
        if not 0 <= value < (1 << size):
            raise ValueError(f"{value} does not fit in {size} bits")
        first = index * size
        for offset in range(size):
            bit = first + offset
            mask = 0x80 >> (bit & 7)
            if (value >> (size - 1 - offset)) & 1:
                self._bytes[bit >> 3] |= mask
            else:
                self._bytes[bit >> 3] &= ~mask & 0xFF

    def encode(self, *, legacy: bool = False) -> str:
        """GZIP (deterministic: mtime 0) then multibase base64url (``u`` prefix, no padding).

        ``legacy=True`` gives StatusList2021's form, without the ``u``.
        """
        # level 6: an order of magnitude faster than 9 on sparse lists, for output about 12% larger
        compressed = gzip.compress(bytes(self._bytes), compresslevel=6, mtime=0)
        encoded = multibase_encode(compressed, "u")
        return encoded[1:] if legacy else encoded

    @classmethod
    def decode(cls, encoded: str, *, legacy: bool = False, max_bytes: int = MAX_DECODED_BYTES) -> Bitstring:
        """Read an ``encodedList``. With ``legacy=True`` the ``u`` prefix is optional and plain base64 is accepted."""
        if not isinstance(encoded, str) or not encoded.strip():
            raise StatusListError("encodedList must be a non-empty string.", code="status_list_invalid")
        text = encoded.strip()
        if len(text) > 4 * max_bytes:
            raise StatusListError("encodedList is too large.", code="status_list_too_large")
        if text.startswith("u"):
            body = text[1:]
        elif legacy:
            body = text
        else:
            raise StatusListError(
                "encodedList must be multibase base64url (starting with 'u').", code="status_list_encoding"
            )
        compressed = _decode_base64(body, allow_standard=legacy)
        return cls.from_bytes(_gunzip(compressed, max_bytes))


def _check_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_STATUS_SIZE:
        raise StatusListError(
            f"statusSize must be an integer from 1 to {MAX_STATUS_SIZE}.", code="status_size_invalid"
        )


def _decode_base64(body: str, *, allow_standard: bool) -> bytes:
    try:
        return b64url_decode(body)
    except MalformedInputError as exc:
        if allow_standard:
            try:
                return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
            except (binascii.Error, ValueError):
                pass
        raise StatusListError(f"encodedList is not base64url: {exc.message}", code="status_list_encoding") from exc


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress one GZIP member, refusing more than ``max_bytes`` of output or a broken stream."""
    if not data.startswith(b"\x1f\x8b"):
        raise StatusListError("encodedList is not GZIP-compressed.", code="status_list_encoding")
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise StatusListError(f"encodedList is not valid GZIP: {exc}", code="status_list_encoding") from exc
    if len(out) > max_bytes:
        raise StatusListError(
            f"The status list expands beyond {max_bytes:,} bytes; refusing it.", code="status_list_too_large"
        )
    if not inflater.eof or inflater.unused_data:
        raise StatusListError("encodedList is truncated or has trailing data.", code="status_list_encoding")
    return out


def allocate_index(used: Collection[int] | Callable[[int], bool], size: int = MIN_BITS, *, tries: int = 64) -> int:
    """Pick a random free index in ``range(size)``; ``used`` is a set of taken indexes or a predicate.

    Random, never sequential (issue order must not leak). Raises ``StatusListError(code="status_list_full")``
    when nothing is free.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError("size must be a positive int")
    is_used: Callable[[int], bool] = used if callable(used) else used.__contains__
    if not callable(used) and sum(1 for i in used if isinstance(i, int) and 0 <= i < size) >= size:
        raise StatusListError("The status list is full; start a new list.", code="status_list_full")
    for _ in range(tries):
        candidate = secrets.randbelow(size)
        if not is_used(candidate):
            return candidate
    free = [i for i in range(size) if not is_used(i)]  # nearly full: choose among what is left
    if not free:
        raise StatusListError("The status list is full; start a new list.", code="status_list_full")
    return secrets.choice(free)


def _timestamp(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("dates must carry a time zone")
    if value.utcoffset() == timedelta(0):
        return value.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
    return value.replace(microsecond=0).isoformat()


def _check_purpose(purpose: str) -> None:
    if purpose not in _PURPOSES:
        raise ValueError(f"purpose must be one of {_PURPOSES}, not {purpose!r}")


def status_list_credential(
    *,
    id: str,
    issuer: str | Mapping[str, Any],
    purpose: Purpose,
    bitstring: Bitstring,
    valid_from: datetime | str,
    valid_until: datetime | str | None = None,
    ttl: int | None = None,
) -> dict[str, Any]:
    """The UNSIGNED BitstringStatusListCredential for ``bitstring`` (sign it with Data Integrity)."""
    _check_purpose(purpose)
    if not isinstance(id, str) or not id:
        raise ValueError("id must be the URL the list is published at")
    subject: dict[str, Any] = {
        "id": f"{id}#list",
        "type": LIST_TYPE,
        "statusPurpose": purpose,
        "encodedList": bitstring.encode(),
    }
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0:
            raise ValueError("ttl is a number of milliseconds >= 0")
        subject["ttl"] = ttl
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": id,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": dict(issuer) if isinstance(issuer, Mapping) else issuer,
        "validFrom": _timestamp(valid_from),
    }
    if valid_until is not None:
        credential["validUntil"] = _timestamp(valid_until)
    credential["credentialSubject"] = subject
    return credential


def status_entry(*, list_url: str, index: int, purpose: Purpose, entry_id: str | None = None) -> dict[str, Any]:
    """A ``credentialStatus`` entry pointing at bit ``index`` of the list published at ``list_url``."""
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError("index must be an int >= 0")
    entry_id = entry_id if entry_id is not None else f"{list_url}#{index}"
    if entry_id == list_url:
        raise ValueError("the entry id must not be the status list's URL")
    return {
        "id": entry_id,
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


@dataclass(frozen=True, slots=True)
class StatusResult:
    """The status an entry points at. ``is_set`` means revoked/suspended for those purposes."""

    purpose: str
    index: int
    is_set: bool
    value: int = 0
    size: int = 1
    message: str | None = None


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parse_index(raw: Any) -> int:
    if not isinstance(raw, str) or not _CANONICAL_INDEX.fullmatch(raw):
        raise StatusListError(
            f"statusListIndex must be a base-10 integer written as a string without leading zeros, not {raw!r}.",
            code="status_index_invalid",
        )
    return int(raw)


def _parse_size(raw: Any, where: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_STATUS_SIZE:
        raise StatusListError(
            f"The {where} statusSize must be an integer from 1 to {MAX_STATUS_SIZE}.", code="status_size_invalid"
        )
    return raw


def _status_message(entry: Mapping[str, Any], value: int) -> str | None:
    messages = entry.get("statusMessage")
    if not isinstance(messages, list):
        return None
    for item in messages:
        if isinstance(item, Mapping) and isinstance(item.get("status"), str):
            try:
                code = int(item["status"], 16)
            except ValueError:
                continue
            if code == value and isinstance(item.get("message"), str):
                return item["message"]
    return None


def check_status(
    entry: Mapping[str, Any],
    list_credential: Mapping[str, Any],
    *,
    legacy_allowed: bool = True,
    check_list_id: bool = True,
    max_bytes: int = MAX_DECODED_BYTES,
) -> StatusResult:
    """Read the status ``entry`` points at in an already verified ``list_credential``.

    Checks the entry and list types (and that they belong together), the purpose, the list's id against
    ``statusListCredential`` (``check_list_id``), the index and ``statusSize``. Raises ``StatusListError``.
    """
    if not isinstance(entry, Mapping):
        raise StatusListError("credentialStatus must be an object.", code="status_entry_invalid")
    if not isinstance(list_credential, Mapping):
        raise StatusListError("The status list credential must be a JSON object.", code="status_list_invalid")
    entry_types = _types(entry.get("type"))
    if ENTRY_TYPE in entry_types:
        legacy, want_credential, want_list = False, LIST_CREDENTIAL_TYPE, LIST_TYPE
    elif LEGACY_ENTRY_TYPE in entry_types and legacy_allowed:
        legacy, want_credential, want_list = True, LEGACY_LIST_CREDENTIAL_TYPE, LEGACY_LIST_TYPE
    else:
        raise StatusListError(
            f"Unsupported credentialStatus type {entry.get('type')!r}: expected {ENTRY_TYPE}"
            + (f" or {LEGACY_ENTRY_TYPE}." if legacy_allowed else "."),
            code="status_entry_type",
        )
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise StatusListError("credentialStatus has no statusPurpose.", code="status_entry_invalid")
    index = _parse_index(entry.get("statusListIndex"))
    list_url = entry.get("statusListCredential")
    if not isinstance(list_url, str) or not list_url:
        raise StatusListError("credentialStatus has no statusListCredential URL.", code="status_entry_invalid")
    if entry.get("id") is not None and entry.get("id") == list_url:
        raise StatusListError("credentialStatus.id must not be the status list's URL.", code="status_entry_invalid")

    if want_credential not in _types(list_credential.get("type")):
        raise StatusListError(f"The status list is not a {want_credential}.", code="status_list_type")
    if check_list_id and list_credential.get("id") is not None and list_credential.get("id") != list_url:
        raise StatusListError(
            f"The status list's id ({list_credential.get('id')}) is not the URL the entry names ({list_url}).",
            code="status_list_mismatch",
        )
    subject = list_credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    if not isinstance(subject, Mapping):
        raise StatusListError("The status list credential has no credentialSubject.", code="status_list_invalid")
    if want_list not in _types(subject.get("type")):
        raise StatusListError(f"The status list's credentialSubject is not a {want_list}.", code="status_list_type")
    list_purposes = _types(subject.get("statusPurpose"))
    if purpose not in list_purposes:
        raise StatusListError(
            f"The entry's statusPurpose {purpose!r} does not match the list's {subject.get('statusPurpose')!r}.",
            code="status_purpose_mismatch",
        )

    entry_size = _parse_size(entry.get("statusSize"), "entry's")
    list_size = _parse_size(subject.get("statusSize"), "list's")
    if entry_size is not None and list_size is not None and entry_size != list_size:
        raise StatusListError("The entry's and the list's statusSize differ.", code="status_size_invalid")
    size = entry_size or list_size or 1
    if size > 1 and not isinstance(entry.get("statusMessage", subject.get("statusMessage")), list):
        raise StatusListError("statusSize > 1 requires statusMessage.", code="status_entry_invalid")

    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise StatusListError("The status list has no encodedList.", code="status_list_invalid")
    bitstring = Bitstring.decode(encoded, legacy=legacy, max_bytes=max_bytes)
    value = bitstring.get_value(index, size)
    message = _status_message(entry, value) or _status_message(subject, value)
    return StatusResult(purpose=purpose, index=index, is_set=value != 0, value=value, size=size, message=message)
