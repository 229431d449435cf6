"""Public identifiers: random, never sequential, safe in URLs."""

from __future__ import annotations

import uuid


def new_public_id() -> str:
    """A random UUID4 in hex: nothing public can be enumerated or guessed."""
    return uuid.uuid4().hex
