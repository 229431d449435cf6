"""Status-list contexts: W3C Bitstring Status List v1.0 and the legacy StatusList2021.

Both describe a credential that carries a compressed bitstring (the list) and an entry that points a
credential at one index of it. StatusList2021 (``https://w3id.org/vc/status-list#``) was the CCG draft
that Bitstring Status List (``https://www.w3.org/ns/credentials/status#``) replaced; credentials issued
with it are still verified, so its context is kept.
"""

from __future__ import annotations

from typing import Any, Final

from insignia.credentials.jsonld.contexts._terms import SEC, Producer, document, scope, term

STATUS: Final = "https://www.w3.org/ns/credentials/status#"
STATUS_LIST_2021: Final = "https://w3id.org/vc/status-list#"


def build_bitstring_status_list() -> dict[str, Any]:
    """``https://www.w3.org/ns/credentials/status/v1`` (``statusSize`` is typed with the https XSD namespace, sic)."""
    status_list = scope(
        {
            "encodedList": term(STATUS + "encodedList", type=SEC + "multibase"),
            "statusPurpose": STATUS + "statusPurpose",
            "ttl": STATUS + "ttl",
        }
    )
    status_message = scope({"message": STATUS + "message", "status": STATUS + "status"})
    entry = scope(
        {
            "statusListCredential": term(STATUS + "statusListCredential", type="@id"),
            "statusListIndex": STATUS + "statusListIndex",
            "statusPurpose": STATUS + "statusPurpose",
            "statusMessage": term(STATUS + "statusMessage", context=status_message),
            "statusReference": term(STATUS + "statusReference", type="@id"),
            "statusSize": term(STATUS + "statusSize", type="https://www.w3.org/2001/XMLSchema#integer"),
        }
    )
    return document(
        scope(
            {
                "BitstringStatusListCredential": STATUS + "BitstringStatusListCredential",
                "BitstringStatusList": term(STATUS + "BitstringStatusList", context=status_list),
                "BitstringStatusListEntry": term(STATUS + "BitstringStatusListEntry", context=entry),
            }
        )
    )


def build_status_list_2021() -> dict[str, Any]:
    """``https://w3id.org/vc/status-list/2021/v1``: note it defines no top-level ``id``/``type`` aliases."""
    credential = scope({"description": "http://schema.org/description", "name": "http://schema.org/name"})
    status_list = scope(
        {"statusPurpose": STATUS_LIST_2021 + "statusPurpose", "encodedList": STATUS_LIST_2021 + "encodedList"}
    )
    entry = scope(
        {
            "statusPurpose": STATUS_LIST_2021 + "statusPurpose",
            "statusListIndex": STATUS_LIST_2021 + "statusListIndex",
            "statusListCredential": term(STATUS_LIST_2021 + "statusListCredential", type="@id"),
        }
    )
    terms = {
        "StatusList2021Credential": term(STATUS_LIST_2021 + "StatusList2021Credential", context=credential),
        "StatusList2021": term(STATUS_LIST_2021 + "StatusList2021", context=status_list),
        "StatusList2021Entry": term(STATUS_LIST_2021 + "StatusList2021Entry", context=entry),
    }
    return document(scope(terms, aliases=False))


PRODUCERS: Final[dict[str, Producer]] = {
    "https://www.w3.org/ns/credentials/status/v1": build_bitstring_status_list,
    "https://w3id.org/vc/status-list/2021/v1": build_status_list_2021,
}
