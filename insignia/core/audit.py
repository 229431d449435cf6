"""Writing audit events: every service that writes calls ``record`` inside its transaction."""

from __future__ import annotations

from typing import Any

from insignia.core.models import AuditEvent, Organisation


def record(
    organisation: Organisation,
    *,
    actor: Any,
    verb: str,
    obj: Any = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. ``actor`` is a user, a token/system label string, or None."""
    user = actor if getattr(actor, "pk", None) is not None and hasattr(actor, "email") else None
    label = getattr(actor, "email", None) or (actor if isinstance(actor, str) else "") or "system"
    return AuditEvent.objects.create(
        organisation=organisation,
        actor=user,
        actor_label=str(label)[:200],
        verb=verb,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "public_id", getattr(obj, "pk", "")) or "") if obj is not None else "",
        data=data or {},
    )
