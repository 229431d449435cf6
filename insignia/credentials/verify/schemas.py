"""JSON Schema checks named by a credential's ``credentialSchema`` (``1EdTechJsonSchemaValidator2019``).

OB 3.0 verifiers MUST validate against the schema a credential names. Schemas are never fetched at
verification time: the caller hands the Verifier the schema documents it trusts (URL → schema), e.g.
the published 1EdTech schemas. A named schema that was not supplied is reported, not guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT201909

SCHEMA_TYPES = ("1EdTechJsonSchemaValidator2019", "JsonSchema", "JsonSchemaValidator2018")
MAX_ERRORS = 8


class SchemaSet:
    """Trusted JSON Schemas by URL; validators are built once and reused."""

    def __init__(self, schemas: Mapping[str, dict[str, Any]]) -> None:
        self._schemas = dict(schemas)
        self._validators: dict[str, jsonschema.protocols.Validator] = {}

    @cached_property
    def _registry(self) -> Registry:
        resources = [
            (url, Resource.from_contents(schema, default_specification=DRAFT201909))
            for url, schema in self._schemas.items()
        ]
        resources += [
            (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT201909))
            for schema in self._schemas.values()
            if isinstance(schema.get("$id"), str) and schema["$id"] not in self._schemas
        ]
        return Registry().with_resources(resources)

    def knows(self, url: str) -> bool:
        return url in self._schemas

    def errors(self, url: str, document: Any) -> list[str]:
        """Problems of ``document`` against the schema at ``url`` (empty when it conforms)."""
        validator = self._validators.get(url)
        if validator is None:
            schema = self._schemas[url]
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft201909Validator)
            validator = cls(schema, registry=self._registry, format_checker=cls.FORMAT_CHECKER)
            self._validators[url] = validator
        found = []
        for error in validator.iter_errors(document):
            path = ".".join(str(part) for part in error.absolute_path) or "(document)"
            found.append(f"{path}: {error.message[:200]}")
            if len(found) >= MAX_ERRORS:
                break
        return found


def named_schemas(credential: Mapping[str, Any]) -> list[str]:
    """The schema URLs a credential asks verifiers to validate it against."""
    raw = credential.get("credentialSchema")
    entries = raw if isinstance(raw, list) else [raw] if raw is not None else []
    return [
        entry["id"]
        for entry in entries
        if isinstance(entry, dict) and entry.get("type") in SCHEMA_TYPES and isinstance(entry.get("id"), str)
    ]
