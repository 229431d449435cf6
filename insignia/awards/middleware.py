"""The public fast path: the two busiest public requests answered before the rest of the middleware stack.

``GET /c/<id>/credential.json`` and ``GET /c/<id>`` (as a page) are what the world asks for most, and a visitor
without cookies gets the same response as every other one. :class:`PublicDocumentMiddleware`, first in
``MIDDLEWARE``, keeps the *final* response for such a request, exactly as the whole stack made it (security
headers included), and answers the next equal request with it, counting the view or download as the view
would. Everything else goes through the stack unchanged.

When is a request "equal"? A GET with no cookie, no credentials and no conditional or range header, for an
allowed host (checked here too), the same scheme and host, to one of the two paths; the page only when the
visitor's Accept header prefers HTML. The stored response was made for such a request, and no middleware below
acts on one except by adding headers, which are kept with it. A middleware that should ever refuse or change
such a request (a block list, a maintenance switch) must go above this one.

Freshness is the views' own: the credential's bytes never change (a deleted award's are served at most
``CREDENTIAL_CACHE_SECONDS``, as by the view), and the page is keyed on the same live version query as the
view's page cache (``views._page_version``: status, visibility, badge, issuer, keys, status lists, time), so a
revocation shows on the very next request in every process (on PostgreSQL, with the version rows kept per
process, as soon as the database has announced the change to it: ``core.changes``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.cache import cache
from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpRequest, HttpResponse

from insignia.awards import engagement, views
from insignia.awards.models import EngagementKind

PREFIX = "insignia:public-response:v1"
_ROUTE = re.compile(r"/c/([A-Za-z0-9_-]{1,64})(/credential\.json)?")
#: Requests with any of these are never answered from the store (the stack decides).
_PERSONAL = ("HTTP_COOKIE", "HTTP_AUTHORIZATION", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE",
             "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE")

Plan = tuple[str, str, int | None, str, str, int]


def _plan(request: HttpRequest) -> Plan | None:
    """(store key, public id, award id or None when not known yet, engagement kind, channel, seconds to keep), or
    None when the request is not one the fast path answers."""
    if request.method != "GET":
        return None
    meta = request.META
    if any(meta.get(name) for name in _PERSONAL):  # (an empty header is no header)
        return None
    match = _ROUTE.fullmatch(request.path_info)
    if match is None:
        return None
    try:
        origin = f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:
        return None  # the stack answers 400
    public_id, credential_json = match.groups()
    if credential_json:
        return (f"{PREFIX}:json:{origin}:{public_id}", public_id, None, EngagementKind.DOWNLOAD, "json",
                views.CREDENTIAL_CACHE_SECONDS)
    if views._preferred_page_type(request) != "text/html":
        return None
    version = views._page_version(public_id)  # the live version: one query
    if version is None:
        return None  # the stack answers 404
    award_id, page_key = version
    return f"{page_key}:{origin}", public_id, award_id, EngagementKind.VIEW, "", views.PAGE_CACHE_SECONDS


class PublicDocumentMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        plan = _plan(request)
        if plan is None:
            return self.get_response(request)
        key, public_id, award_id, kind, channel, seconds = plan
        stored = cache.get(key)
        if stored is not None:
            stored_award, body, headers = stored
            response = HttpResponse(body, headers=headers)
            engagement.record_engagement(award_id or stored_award, kind, channel)
            return response
        response = self.get_response(request)  # counts the view or download itself
        if response.status_code == 200 and not response.streaming and not response.cookies:
            if award_id is None:
                try:
                    award_id = views._credential_body(public_id)[0]  # cached by the view just now
                except Http404:
                    return response
            cache.set(key, (award_id, response.content, dict(response.items())), seconds)
        return response
