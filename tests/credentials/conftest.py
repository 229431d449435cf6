"""Kernel tests run without Django: under scripts/test (INSIGNIA_KERNEL_ONLY=1) this is enforced."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _no_django_loaded() -> Iterator[None]:
    yield
    if os.environ.get("INSIGNIA_KERNEL_ONLY") == "1":
        assert "django" not in sys.modules, "the kernel tests loaded Django"
