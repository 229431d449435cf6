"""The one way an organisation page resolves its caller: member → Actor, others → 404, wrong role → 403."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from insignia.core.errors import NotFound, PermissionDenied
from insignia.core.tenancy import actor_for_request

View = Callable[..., HttpResponse]


def org_view(permission: str = "view", *, org_kwarg: str = "org_id") -> Callable[[View], View]:
    """Decorate ``view(request, actor, **kwargs)`` for URLs carrying the organisation's public id.

    Non-members get 404 (a tenant never learns another's objects exist); members without ``permission``
    get the 403 page; a service's NotFound / PermissionDenied raised inside the view map the same way.
    """

    def decorate(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            organisation_id = kwargs.pop(org_kwarg)
            try:
                actor = actor_for_request(request, organisation_id)
            except NotFound as exc:
                raise Http404(exc.message) from None
            if not actor.can(permission):
                raise DjangoPermissionDenied(
                    f"Your role ({actor.role}) does not allow this; ask an owner or admin of the organisation."
                )
            try:
                return view(request, actor, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from None
            except PermissionDenied as exc:
                raise DjangoPermissionDenied(exc.message) from None

        return wrapper

    return decorate
