"""Template context available on every page: the site, and for members the organisation in view."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest

_ORG_PATH = re.compile(r"^/orgs/([0-9a-f]{32})(?:/|$)")


def current_org_id(request: HttpRequest) -> str | None:
    """The organisation public id in the URL (``/orgs/<id>/…``), if any."""
    match = _ORG_PATH.match(request.path or "")
    return match.group(1) if match else None


def site(request: HttpRequest) -> dict[str, Any]:
    """``nav_org`` is the organisation in the URL (or the user's first); ``nav_memberships`` feeds the switcher."""
    context: dict[str, Any] = {"BASE_URL": settings.BASE_URL, "SITE_NAME": "Insignia"}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return context
    from insignia.core.tenancy import memberships_of

    # An organisation page read them already, with the user's Actor (``actor_for_request``): never a second query.
    memberships = getattr(request, "insignia_memberships", None)
    if memberships is None:
        memberships = memberships_of(user)
    wanted = current_org_id(request)
    current = next((m for m in memberships if m.organisation.public_id == wanted), None)
    if current is None and wanted is None and memberships:
        current = memberships[0]
    context.update(
        nav_memberships=memberships,
        nav_membership=current,
        nav_org=current.organisation if current else None,
        nav_in_org=bool(wanted and current),
    )
    return context
