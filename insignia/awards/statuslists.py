"""Bitstring Status Lists: allocating entries, flipping bits, publishing the signed list credential.

Each issuer has one open list per purpose (revocation, suspension) of 131,072 entries; when a list is
full a new one is started. Indexes are random (drawn with ``secrets``), never sequential, so an index
says nothing about issue order or volume.

Concurrency: every write happens inside a transaction that first locks the issuer row (PostgreSQL
``SELECT … FOR UPDATE``; SQLite transactions are ``IMMEDIATE``, so writers are serialised anyway), then
the list row. Two issuances can therefore never pick the same index or create two open lists; the
unique constraints on ``Award`` are the backstop.

The signed list credential is cached in ``signed_credential`` for ``signed_version``. Changing a bit
bumps ``version``; the next request for the list re-signs it, so a revocation is visible within one
request.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from insignia.awards.models import Award, StatusList, StatusPurpose
from insignia.credentials import sign_credential
from insignia.credentials.status.bitstring import (
    MIN_BITS,
    Bitstring,
    status_entry,
    status_list_credential,
)
from insignia.issuers.identity import active_signer, issuer_did
from insignia.issuers.models import Issuer, KeyAlgorithm


def list_url(status_list: StatusList) -> str:
    """Where the list credential is published (the ``statusListCredential`` of entries)."""
    return f"{settings.BASE_URL}/status/{status_list.public_id}"


def entry_for(status_list: StatusList, index: int) -> dict[str, Any]:
    """The ``credentialStatus`` entry for bit ``index`` of ``status_list``.

    ``str()``: a list created in this request holds the ``StatusPurpose`` member, and a str subclass in the
    credential sends the kernel's canonicalisation down its slow reference path.
    """
    return status_entry(list_url=list_url(status_list), index=index, purpose=str(status_list.purpose))  # type: ignore[arg-type]


def _index_field(purpose: str) -> tuple[str, str]:
    if purpose == StatusPurpose.REVOCATION:
        return "revocation_list", "revocation_index"
    if purpose == StatusPurpose.SUSPENSION:
        return "suspension_list", "suspension_index"
    raise ValueError(f"unknown status purpose {purpose!r}")


def _lock_issuer(issuer: Issuer) -> None:
    Issuer.objects.select_for_update().filter(pk=issuer.pk).values_list("pk", flat=True).first()


def _open_list(issuer: Issuer, purpose: str) -> StatusList:
    """The issuer's newest list of ``purpose`` with room left, created when there is none (locked)."""
    status_list = (
        StatusList.objects.select_for_update()
        .filter(issuer=issuer, purpose=purpose, allocated__lt=F("size"))
        .order_by("-id")
        .first()
    )
    if status_list is None:
        status_list = StatusList.objects.create(
            issuer=issuer, purpose=purpose, size=MIN_BITS, bits=Bitstring(MIN_BITS).to_bytes(),
            reserved=bytes(MIN_BITS // 8),
        )
    return status_list


def _pick_index(status_list: StatusList, purpose: str) -> int:
    """One random free index of the (locked) list, marked reserved (see ``_pick_indices``)."""
    return _pick_indices(status_list, purpose, 1)[0]


def allocate(issuer: Issuer, purpose: str) -> tuple[StatusList, int]:
    """Reserve a random free entry of ``issuer``'s open ``purpose`` list: ``(list, index)``.

    Must run inside the caller's transaction (the award that uses the entry is created in it too);
    it locks the issuer and the list until that transaction ends.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate() must run inside the transaction that stores the award")
    _lock_issuer(issuer)
    status_list = _open_list(issuer, purpose)
    index = _pick_index(status_list, purpose)
    status_list.allocated += 1
    status_list.save(update_fields=["allocated", "reserved", "updated_at"])
    return status_list, index


#: With at most this share of a list free, reserving enumerates the free entries instead of drawing at random
#: until it hits them (the draws would mostly hit reserved ones).
_ENUMERATE_BELOW = 0.25


def _reserved_map(status_list: StatusList, purpose: str) -> bytearray:
    """The list's reservation bits, rebuilt from its awards' indexes when the row has none yet (lists made
    before the column existed) or they do not match its size."""
    reserved = bytearray(status_list.reserved or b"")
    if len(reserved) == status_list.size // 8:
        return reserved
    list_field, index_field = _index_field(purpose)
    reserved = bytearray(status_list.size // 8)
    for index in Award.objects.filter(**{list_field: status_list}).order_by().values_list(index_field, flat=True):
        reserved[index >> 3] |= 0x80 >> (index & 7)
    return reserved


def _pick_indices(status_list: StatusList, purpose: str, count: int) -> list[int]:
    """``count`` distinct random free indices of the (locked) ``status_list``, in random order, marked in its
    ``reserved`` bits (the caller saves the row).

    No query: the list row carries which entries are reserved. Draws random indices and keeps the free ones
    while much of the list is free; enumerates the free ones and samples them once little is left.
    """
    reserved = _reserved_map(status_list, purpose)
    size = status_list.size
    chosen: list[int] = []
    randbelow = secrets.randbelow
    while len(chosen) < count:
        free = size - status_list.allocated - len(chosen)
        if free <= 0:
            raise RuntimeError("status list allocation ran out of free entries")  # ``allocated`` is out of step
        if free / size < _ENUMERATE_BELOW:
            break
        index = randbelow(size)
        byte, mask = index >> 3, 0x80 >> (index & 7)
        if not reserved[byte] & mask:
            reserved[byte] |= mask
            chosen.append(index)
    need = count - len(chosen)
    if need > 0:
        free_indices = [byte * 8 + bit for byte, value in enumerate(reserved) if value != 0xFF
                        for bit in range(8) if not value & (0x80 >> bit)]
        if len(free_indices) < need:
            raise RuntimeError("status list allocation ran out of free entries")  # ``allocated`` is out of step
        for index in secrets.SystemRandom().sample(free_indices, need):
            reserved[index >> 3] |= 0x80 >> (index & 7)
            chosen.append(index)
    status_list.reserved = bytes(reserved)
    return chosen


def allocate_many(issuer: Issuer, purpose: str, count: int) -> list[tuple[StatusList, int]]:
    """Reserve ``count`` random free entries of ``issuer``'s open ``purpose`` lists: ``[(list, index), …]``.

    The batch form of ``allocate``: same locks (issuer, then each list once), same randomness, a new list
    when one fills up. Must run inside the transaction that stores the awards.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate_many() must run inside the transaction that stores the awards")
    _lock_issuer(issuer)
    out: list[tuple[StatusList, int]] = []
    while len(out) < count:
        status_list = _open_list(issuer, purpose)
        take = min(count - len(out), status_list.size - status_list.allocated)
        indices = _pick_indices(status_list, purpose, take)
        status_list.allocated += take
        status_list.save(update_fields=["allocated", "reserved", "updated_at"])
        out.extend((status_list, index) for index in indices)
    return out


@transaction.atomic
def set_bit(status_list: StatusList, index: int, value: bool = True) -> StatusList:
    """Set (or clear) one bit and bump the list's version; returns the fresh row."""
    locked = StatusList.objects.select_for_update().get(pk=status_list.pk)
    bits = Bitstring.from_bytes(bytes(locked.bits))
    if bits.get(index) != value:
        bits.set(index, value)
        locked.bits = bits.to_bytes()
        locked.version += 1
        locked.save(update_fields=["bits", "version", "updated_at"])
    return locked


def is_set(status_list: StatusList, index: int) -> bool:
    return Bitstring.from_bytes(bytes(status_list.bits)).get(index)


def signed_list_credential(status_list: StatusList, *, now: datetime | None = None) -> dict[str, Any]:
    """The signed BitstringStatusListCredential for the list's current bits (cached per version)."""
    fresh = StatusList.objects.select_related("issuer").get(pk=status_list.pk)
    if fresh.signed_credential is not None and fresh.signed_version == fresh.version:
        return fresh.signed_credential
    issuer = fresh.issuer
    unsigned = status_list_credential(
        id=list_url(fresh),
        issuer=issuer_did(issuer),
        purpose=fresh.purpose,  # type: ignore[arg-type]
        bitstring=Bitstring.from_bytes(bytes(fresh.bits)),
        valid_from=(now or timezone.now()),
    )
    signed = sign_credential(unsigned, active_signer(issuer, KeyAlgorithm.ED25519))
    # Store only if nobody changed the bits meanwhile; a later request re-signs the newer version.
    StatusList.objects.filter(pk=fresh.pk, version=fresh.version).update(
        signed_credential=signed, signed_version=fresh.version
    )
    return signed
