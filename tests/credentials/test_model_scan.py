"""``scan_document`` answers in one walk what the three walks it replaces answered (depth, nulls, extension types)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insignia.credentials.model import ob3
from insignia.credentials.model.vc import (
    EXTENSION_TYPES,
    MAX_DEPTH,
    Problems,
    _has_null,
    extension_types_used,
    scan_document,
)

_TYPES = st.sampled_from([*sorted(EXTENSION_TYPES), "Evidence", "Profile", "Achievement"])
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4) | _TYPES
_KEYS = st.sampled_from(["type", "@context", "id", "name", "evidence", "x"])


def _json(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    typed = st.fixed_dictionaries({"type": _TYPES | st.lists(_TYPES | _SCALARS, max_size=3)},
                                  optional={"@context": children, "more": children})
    return st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4) | typed


DOCUMENTS = st.recursive(_SCALARS, _json, max_leaves=40)


def _expected(document: dict[str, Any], limit: int) -> tuple[bool, bool, frozenset[str]]:
    deep = Problems().too_deep(document, limit)
    return deep, _has_null(document), frozenset(extension_types_used(document))


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(_KEYS, DOCUMENTS, max_size=5) | _json(DOCUMENTS).filter(lambda d: isinstance(d, dict)),
       st.sampled_from([2, 3, 5, MAX_DEPTH]))
def test_one_walk_finds_what_the_three_walks_find(document: dict[str, Any], limit: int) -> None:
    deep, nulls, types = _expected(document, limit)
    scanned = scan_document(document, limit)
    assert scanned.too_deep == deep
    if not deep:  # past the limit the walk stops; only "too deep" is promised
        assert scanned.has_null == nulls
        assert scanned.extension_types == types


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 5_000])
def test_depth_limit_is_the_same_and_a_hostile_depth_does_not_exhaust_the_stack(depth: int) -> None:
    document: Any = {"leaf": None}
    for level in range(depth - 1):
        document = {"x": document} if level % 2 else [document]
    if not isinstance(document, dict):
        document = {"x": document}
    assert scan_document(document).too_deep == Problems().too_deep(document)


def test_a_nested_document_with_its_own_context_keeps_its_types_to_itself() -> None:
    document = {"type": ["VerifiableCredential"],
                "evidence": [{"type": "1EdTechRevocationList"}],
                "endorsement": [{"@context": ["https://example.org"], "type": ["1EdTechCredentialRefresh"],
                                 "credentialStatus": {"type": "1EdTechJsonSchemaValidator2019"}}],
                "@context": [{"type": "1EdTechCredentialRefresh"}]}
    scanned = scan_document(document)
    assert scanned.extension_types == {"1EdTechRevocationList"} == extension_types_used(document)
    assert not scanned.has_null
    assert not scanned.too_deep


def test_shape_check_reports_nulls_and_missing_extension_context_as_before() -> None:
    """The credential check reuses the scan: its reports are those the separate walks gave."""
    document = {"@context": ["https://www.w3.org/ns/credentials/v2",
                             "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                "type": ["VerifiableCredential", "OpenBadgeCredential"], "id": "urn:uuid:1", "name": None,
                "credentialSchema": [{"id": "https://example.org/s.json", "type": "1EdTechJsonSchemaValidator2019"}]}
    report = ob3.inspect_ob3_credential(document, strict=True)
    assert "name: is null; omit the property instead." in report.errors
    assert any("extensions" in message for message in report.errors)
