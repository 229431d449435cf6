"""Revocation by published list: OB 2.0 ``RevocationList`` and OB 3.0 ``1EdTechRevocationList`` (VCRL-10).

Both are plain lists of revoked credential ids, optionally with reasons. OB 2.0 signed badges are checked
against the issuer Profile's ``revocationList`` (``revokedAssertions``: ids, or objects with ``id`` or the
legacy ``uid`` and an optional ``revocationReason``). OB 3.0 credentials whose ``credentialStatus.type`` is
``1EdTechRevocationList`` are checked against the JSON at ``credentialStatus.id``; the reader accepts the
shapes seen in practice: ``revokedCredentials`` (VCRL-10), ``revokedAssertions``, either of them inside
``credentialSubject``, or a bare array.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from insignia.credentials.errors import StatusListError

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
REVOCATION_LIST_TYPE = "RevocationList"
EDTECH_REVOCATION_LIST_TYPE = "1EdTechRevocationList"

#: Refuse absurdly long lists rather than scan them.
MAX_ENTRIES = 1_000_000

__all__ = [
    "EDTECH_REVOCATION_LIST_TYPE",
    "OB2_CONTEXT",
    "REVOCATION_LIST_TYPE",
    "is_revoked_1edtech",
    "is_revoked_ob2",
    "revocation_list",
]


def revocation_list(
    *,
    id: str,
    issuer: str,
    revoked: Mapping[str, str | None] | Iterable[str] = (),
) -> dict[str, Any]:
    """An OB 2.0 RevocationList. ``revoked`` maps assertion id → reason (or ``None``), or lists ids.

    Entries keep their input order; an id without a reason is written as a bare string, as in OB20's example.
    """
    if not isinstance(id, str) or not id or not isinstance(issuer, str) or not issuer:
        raise ValueError("id and issuer must be non-empty strings")
    items = revoked.items() if isinstance(revoked, Mapping) else ((ident, None) for ident in revoked)
    entries: list[str | dict[str, str]] = []
    seen: set[str] = set()
    for ident, reason in items:
        if not isinstance(ident, str) or not ident:
            raise ValueError("revoked assertion ids must be non-empty strings")
        if ident in seen:
            continue
        seen.add(ident)
        entries.append({"id": ident, "revocationReason": reason} if reason else ident)
    return {
        "@context": OB2_CONTEXT,
        "id": id,
        "type": REVOCATION_LIST_TYPE,
        "issuer": issuer,
        "revokedAssertions": entries,
    }


def _entries(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise StatusListError(f"{where} must be an array.", code="revocation_list_invalid")
    if len(value) > MAX_ENTRIES:
        raise StatusListError(f"{where} has more than {MAX_ENTRIES:,} entries.", code="revocation_list_too_large")
    return value


def _reason(entry: Mapping[str, Any]) -> str | None:
    reason = entry.get("revocationReason")
    return reason if isinstance(reason, str) and reason else None


def is_revoked_ob2(revocation_list: Any, assertion_id: str, uid: str | None = None) -> tuple[bool, str | None]:
    """Whether an OB 2.0 assertion is on its issuer's RevocationList, and the reason given (if any).

    Matches entries by ``id`` (a bare string or an object's ``id``) or, for 1.x-era entries, by ``uid``.
    """
    if not isinstance(revocation_list, Mapping):
        raise StatusListError("The revocation list is not a JSON object.", code="revocation_list_invalid")
    types = revocation_list.get("type")
    if types is not None and REVOCATION_LIST_TYPE not in (types if isinstance(types, list) else [types]):
        raise StatusListError("The document is not an OB 2.0 RevocationList.", code="revocation_list_invalid")
    for entry in _entries(revocation_list.get("revokedAssertions"), "revokedAssertions"):
        if isinstance(entry, str):
            if entry == assertion_id:
                return True, None
        elif isinstance(entry, Mapping) and (
            entry.get("id") == assertion_id or (uid is not None and entry.get("uid") == uid)
        ):
            return True, _reason(entry)
    return False, None


def _edtech_entries(document: Any) -> list[Any]:
    if isinstance(document, list):
        return _entries(document, "The revocation list")
    if not isinstance(document, Mapping):
        raise StatusListError("The revocation list is not JSON list data.", code="revocation_list_invalid")
    holders = [document]
    subject = document.get("credentialSubject")
    if isinstance(subject, Mapping):
        holders.append(subject)
    for holder in holders:
        for key in ("revokedCredentials", "revokedAssertions"):
            if key in holder:
                return _entries(holder[key], key)
    raise StatusListError(
        "The revocation list has no revokedCredentials array.", code="revocation_list_invalid"
    )


def is_revoked_1edtech(revocation_list: Any, credential_id: str | None) -> tuple[bool, str | None]:
    """Whether an OB 3.0 credential is on the ``1EdTechRevocationList`` its status points at, and why."""
    if not isinstance(credential_id, str) or not credential_id:
        raise StatusListError(
            "The credential has no id, so a revocation list cannot say whether it is revoked.",
            code="status_unverifiable",
        )
    for entry in _edtech_entries(revocation_list):
        if isinstance(entry, str):
            if entry == credential_id:
                return True, None
        elif isinstance(entry, Mapping) and entry.get("id") == credential_id:
            return True, _reason(entry)
    return False, None
