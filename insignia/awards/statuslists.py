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
from django.db import connection, transaction
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
            issuer=issuer, purpose=purpose, size=MIN_BITS, bits=Bitstring(MIN_BITS).to_bytes()
        )
    return status_list


def _pick_index(status_list: StatusList, purpose: str) -> int:
    """One random free index: a probe of a few random candidates in one query (see ``_pick_indices``)."""
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
    status_list.save(update_fields=["allocated", "updated_at"])
    return status_list, index


#: Most candidates checked in one ``IN (…)`` query when reserving many entries (SQLite's parameter limit).
_PROBE_BATCH = 5_000
#: With fewer free entries than this left, reserving reads every used index instead of probing.
_READ_ALL_BELOW = 256


def _pick_indices(status_list: StatusList, purpose: str, count: int) -> list[int]:
    """``count`` distinct random free indices of ``status_list``, in random order (one query per round).

    Draws random candidates (more the fuller the list), asks the database which are taken, keeps the free
    ones in draw order; a list with fewer than ``_READ_ALL_BELOW`` free entries (or four unlucky draws) falls
    back to reading every used index. Probing keeps one allocation at one small query however full the list
    is: reading every used index of a 131,072-entry list costs a single issue a tenth of a second.
    """
    list_field, index_field = _index_field(purpose)
    taken = Award.objects.filter(**{list_field: status_list}).order_by()
    size = status_list.size
    chosen: list[int] = []
    picked: set[int] = set()
    for _ in range(4):
        need = count - len(chosen)
        if need <= 0 or size - (status_list.allocated + len(chosen)) < _READ_ALL_BELOW:
            break
        free_ratio = 1 - (status_list.allocated + len(chosen)) / size
        want = min(int(need / free_ratio * 1.2) + 16, _PROBE_BATCH, size - len(chosen))
        candidates: list[int] = []
        seen: set[int] = set(picked)
        while len(candidates) < want:
            candidate = secrets.randbelow(size)
            if candidate not in seen:
                seen.add(candidate)
                candidates.append(candidate)
        used = _used_among(status_list, list_field, index_field, candidates)
        for candidate in candidates:
            if candidate not in used and len(chosen) < count:
                chosen.append(candidate)
                picked.add(candidate)
    need = count - len(chosen)
    if need > 0:
        used = set(taken.values_list(index_field, flat=True)) | picked
        free = [index for index in range(size) if index not in used]
        if len(free) < need:
            raise RuntimeError("status list allocation ran out of free entries")  # ``allocated`` is out of step
        chosen.extend(secrets.SystemRandom().sample(free, need))
    return chosen


def _used_among(status_list: StatusList, list_field: str, index_field: str, candidates: list[int]) -> set[int]:
    """Which of ``candidates`` are taken in ``status_list``: one query on the (list, index) unique index.

    Written by hand because the ORM spends longer composing ``IN`` with thousands of parameters than the
    database spends answering; PostgreSQL gets the candidates as one array parameter.
    """
    meta = Award._meta
    quote = connection.ops.quote_name
    table, list_column, index_column = (quote(name) for name in (
        meta.db_table, meta.get_field(list_field).column, meta.get_field(index_field).column))
    if connection.vendor == "postgresql":
        sql, params = f"{index_column} = ANY(%s)", [status_list.pk, candidates]
    else:
        sql, params = f"{index_column} IN ({', '.join(['%s'] * len(candidates))})", [status_list.pk, *candidates]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {index_column} FROM {table} WHERE {list_column} = %s AND {sql}",  # noqa: S608
                       params)
        return {row[0] for row in cursor.fetchall()}


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
        status_list.save(update_fields=["allocated", "updated_at"])
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
