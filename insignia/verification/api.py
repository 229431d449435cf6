"""``POST /api/v1/verify``: no login needed."""

from __future__ import annotations

from ninja import Router

router = Router(auth=None)
