"""Shared test fixtures. Official data is read in place from ../shared/spec (never copied)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = Path(os.environ.get("INSIGNIA_SHARED_DIR", ROOT.parent / "shared")) / "spec"


def spec_path(*parts: str) -> Path:
    path = SPEC.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the tests need ../shared/spec beside the checkout")
    return path


def spec_json(*parts: str) -> dict:
    return json.loads(spec_path(*parts).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    return spec_path()
