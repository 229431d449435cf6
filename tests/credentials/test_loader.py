"""The offline context loader: built-ins, INSIGNIA_CONTEXTS_DIR, and pinned fetching only."""

from __future__ import annotations

import hashlib
import json

import pytest

from insignia.credentials.errors import ContextError
from insignia.credentials.jsonld.canonize import canonize
from insignia.credentials.jsonld.loader import CONTEXTS_DIR_ENV, ContextLoader
from tests.conftest import spec_path

EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def _document_using(context_url: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", context_url],
        "id": "urn:uuid:5f3e0a51-1c1b-4c55-9b34-8a2f3b7c1d11",
        "type": ["VerifiableCredential"],
        "issuer": "https://issuer.example/",
        "credentialSubject": {"id": "did:example:abc"},
    }


def test_unknown_context_is_refused_with_a_clear_error() -> None:
    loader = ContextLoader(use_environment=False)
    with pytest.raises(ContextError) as info:
        canonize(_document_using("https://contexts.example/unknown/v1"), loader=loader)
    assert info.value.code == "context_unknown"
    assert "https://contexts.example/unknown/v1" in info.value.message


def test_contexts_dir_from_the_environment_adds_contexts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONTEXTS_DIR_ENV, str(spec_path("contexts")))
    loader = ContextLoader()
    assert loader.knows(EXAMPLES_V2)
    assert "<https://www.w3.org/ns/credentials/examples#" in canonize(
        {**_document_using(EXAMPLES_V2), "credentialSubject": {"id": "did:example:abc", "alumniOf": "X"}},
        loader=loader,
    )


def test_a_broken_manifest_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "manifest.json").write_text("not json")
    with pytest.raises(ContextError) as info:
        ContextLoader(contexts_dir=tmp_path)
    assert info.value.code == "context_manifest_invalid"


def test_fetching_needs_a_pin_and_the_pin_must_match() -> None:
    body = spec_path("contexts", "credentials-examples-v2.jsonld").read_bytes()
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return body

    unpinned = ContextLoader(fetcher=fetch, use_environment=False)
    with pytest.raises(ContextError) as info:
        unpinned.load(EXAMPLES_V2)
    assert info.value.code == "context_unpinned"
    assert fetched == []

    wrong = ContextLoader(fetcher=fetch, pins={EXAMPLES_V2: "0" * 64}, use_environment=False)
    with pytest.raises(ContextError) as info:
        wrong.load(EXAMPLES_V2)
    assert info.value.code == "context_pin_mismatch"

    pinned = ContextLoader(fetcher=fetch, pins={EXAMPLES_V2: hashlib.sha256(body).hexdigest()},
                           use_environment=False)
    assert pinned.load(EXAMPLES_V2) == json.loads(body)


def test_builtin_contexts_are_served_as_private_copies() -> None:
    loader = ContextLoader(use_environment=False)
    first = loader.load("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json")
    first["@context"]["Achievement"] = "tampered"
    assert loader.load("https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json") != first
