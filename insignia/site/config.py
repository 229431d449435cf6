"""Reading INSIGNIA_* settings from the environment, with safe defaults (no Django imports here)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEV_SECRET_FILE = "secret_key"  # noqa: S105 (a file name)
DEV_KEK_FILE = "key_encryption_key"


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value is not None else default


def data_dir() -> Path:
    path = Path(env("INSIGNIA_DATA_DIR", "data") or "data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def persistent_secret(directory: Path, name: str) -> str:
    """A random secret kept in the data directory, for development only (production must set its own)."""
    path = directory / name
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return value
