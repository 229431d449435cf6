"""What we build passes 1EdTech's official OB 3.0 JSON Schemas (read in place from ../shared/spec).

The schemas are draft 2019-09 and only ``$ref`` their own ``$defs``; we still resolve every ``$ref``
through a registry built from the files in the folder, so nothing is ever fetched. ``json/`` holds
the JSON-LD-compaction-tolerant schemas (single values allowed), ``json-ld/`` the formal one
(arrays required) — see shared/spec/INDEX.md. Our output must pass both.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from referencing import Registry, Resource

from insignia.credentials.model.ob3 import OpenBadgeCredential, profile_document
from tests.conftest import spec_json, spec_path
from tests.credentials.test_model_ob3 import (
    DUMMY_PROOF,
    EXAMPLES,
    credentials,
    endorsement_credential,
    issuer,
    minimal_credential,
    rich_credential,
    signed_endorsement,
)

ACHIEVEMENT = ("json", "ob_v3p0_achievementcredential_schema.json")
ACHIEVEMENT_FORMAL = ("json-ld", "ob_v3p0_achievementcredential_schema.json")
ENDORSEMENT = ("json", "ob_v3p0_endorsementcredential_schema.json")
PROFILE = ("json", "ob_v3p0_profile_schema.json")


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(spec_path("schemas", "ob_v3p0").glob("*/*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


@cache
def _validator(folder: str, name: str) -> jsonschema.Draft201909Validator:
    schema = spec_json("schemas", "ob_v3p0", folder, name)
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema, registry=_registry(),
                                           format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)


def schema_errors(document: Any, which: tuple[str, str]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in _validator(*which).iter_errors(document)]


def with_proof(document: dict[str, Any]) -> dict[str, Any]:
    signed = copy.deepcopy(document)
    signed["proof"] = [dict(DUMMY_PROOF)]
    return signed


def test_schemas_need_no_network() -> None:
    refs: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in spec_path("schemas", "ob_v3p0").glob("*/*.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    external = {ref for ref in refs if not ref.startswith("#")}
    assert all(ref.split("#")[0] in _registry() for ref in external), external


def test_proof_is_not_required_by_the_schemas() -> None:
    # Checked so the unsigned tests below mean something: signing is another module's job.
    for which in (ACHIEVEMENT, ACHIEVEMENT_FORMAL, ENDORSEMENT):
        assert "proof" not in spec_json("schemas", "ob_v3p0", *which)["required"]


@pytest.mark.parametrize("build", [minimal_credential, rich_credential], ids=["minimal", "rich"])
@pytest.mark.parametrize("which", [ACHIEVEMENT, ACHIEVEMENT_FORMAL], ids=["json", "json-ld-formal"])
def test_our_credentials_pass_the_official_schema(build: Any, which: tuple[str, str]) -> None:
    document = build().to_json()
    assert schema_errors(document, which) == []
    assert schema_errors(with_proof(document), which) == []


def test_our_endorsement_passes_the_official_schema() -> None:
    document = endorsement_credential().to_json()
    assert schema_errors(document, ENDORSEMENT) == []
    assert schema_errors(signed_endorsement(), ENDORSEMENT) == []


def test_our_profile_passes_the_official_schema() -> None:
    profile = rich_credential().credential_subject.achievement.creator
    assert profile is not None
    assert schema_errors(profile.to_json(), PROFILE) == []
    assert schema_errors(profile_document(issuer(url="https://example.edu", email="badges@example.edu")),
                         PROFILE) == []


def test_the_schema_catches_what_our_validator_catches() -> None:
    # A sanity check of the harness: a broken document fails the official schema too.
    document = minimal_credential().to_json()
    del document["credentialSubject"]["achievement"]["criteria"]
    assert any("criteria" in e for e in schema_errors(document, ACHIEVEMENT))


@pytest.mark.parametrize("name", EXAMPLES)
def test_official_examples_pass_the_official_schema(name: str) -> None:
    # All seven spec examples pass both schema variants (none needed an exception); the endorsement
    # example is checked against the EndorsementCredential schema only.
    document = spec_json("examples", "ob_v3p0", name)
    if "EndorsementCredential" in document["type"]:
        assert schema_errors(document, ENDORSEMENT) == []
    else:
        assert schema_errors(document, ACHIEVEMENT) == []
        assert schema_errors(document, ACHIEVEMENT_FORMAL) == []


def test_compacted_single_values_pass_json_but_not_the_formal_schema() -> None:
    document = minimal_credential().to_json()
    document["proof"] = dict(DUMMY_PROOF)
    assert schema_errors(document, ACHIEVEMENT) == []
    assert schema_errors(document, ACHIEVEMENT_FORMAL) != []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credentials())
def test_builder_output_always_passes_the_formal_schema(credential: OpenBadgeCredential) -> None:
    document = credential.to_json()
    assert schema_errors(document, ACHIEVEMENT_FORMAL) == []
    assert schema_errors(document, ACHIEVEMENT) == []
