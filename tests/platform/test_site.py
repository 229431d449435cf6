"""The project itself: migrations are complete, settings refuse unsafe production configurations."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_migrations_are_committed() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def _settings_in_subprocess(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='insignia.site.settings'; django.setup()"
    full = {k: v for k, v in os.environ.items() if not k.startswith("INSIGNIA_")} | env
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True, text=True, check=False)


def test_production_refuses_default_secrets(tmp_path) -> None:
    result = _settings_in_subprocess({"INSIGNIA_ENV": "production", "INSIGNIA_DATA_DIR": str(tmp_path),
                                      "INSIGNIA_BASE_URL": "https://badges.example.org"})
    assert result.returncode != 0
    assert "INSIGNIA_SECRET_KEY" in result.stderr


def test_production_starts_with_real_secrets(tmp_path) -> None:
    result = _settings_in_subprocess({
        "INSIGNIA_ENV": "production", "INSIGNIA_DATA_DIR": str(tmp_path),
        "INSIGNIA_BASE_URL": "https://badges.example.org",
        "INSIGNIA_SECRET_KEY": "s" * 50, "INSIGNIA_KEY_ENCRYPTION_KEY": "k" * 50,
    })
    assert result.returncode == 0, result.stderr


def test_development_keeps_generated_secrets_in_the_data_dir(tmp_path) -> None:
    result = _settings_in_subprocess({"INSIGNIA_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists()
    assert (tmp_path / "key_encryption_key").exists()
