"""Credential status: W3C Bitstring Status List (and legacy StatusList2021), OB 2.0 and 1EdTech revocation lists."""

from insignia.credentials.status.bitstring import (
    MIN_BITS,
    Bitstring,
    StatusResult,
    allocate_index,
    check_status,
    status_entry,
    status_list_credential,
)
from insignia.credentials.status.revocation_list import is_revoked_1edtech, is_revoked_ob2, revocation_list

__all__ = [
    "MIN_BITS",
    "Bitstring",
    "StatusResult",
    "allocate_index",
    "check_status",
    "is_revoked_1edtech",
    "is_revoked_ob2",
    "revocation_list",
    "status_entry",
    "status_list_credential",
]
