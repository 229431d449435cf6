"""The REST API: one NinjaAPI at /api/v1/, bearer-token auth, every error an RFC 9457 problem.

Errors are mapped to responses here and nowhere else: a ServiceError keeps its status and stable
``code``; request validation failures are 422 with the failing fields; missing or bad tokens are 401;
anything unexpected is a 500 that names no internals (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from insignia.core.errors import ServiceError
from insignia.integrations.auth import BearerToken

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:insignia:problem:"
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
}
_HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 429: "rate_limited"}
_renderer = JSONRenderer()


def problem(request: HttpRequest, status: int, code: str, detail: str, **extra: Any) -> HttpResponse:
    """An ``application/problem+json`` response (RFC 9457) with our stable ``code`` as an extension member."""
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_BASE}{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.path,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    response = HttpResponse(_renderer.render(request, body, response_status=status), status=status,
                            content_type=PROBLEM_CONTENT_TYPE)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="insignia"'
    return response


def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    status = 404 if exc.code == "not_found" else exc.status
    details = getattr(exc, "errors", None)  # e.g. BadgeInvalid: [(field, message), …]
    errors = None
    if isinstance(details, list | tuple) and all(isinstance(d, list | tuple) and len(d) == 2 for d in details):
        errors = [{"field": field or "", "message": str(message)} for field, message in details]
    return problem(request, status, exc.code, exc.message, field=exc.field, errors=errors)


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc[1:] if p not in ("payload", "body", "data")] if len(loc) > 1 else [str(p) for p in loc]
    return ".".join(parts)


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field_name(e.get("loc", ())), "in": str(e.get("loc", ("body",))[0]), "message": e.get("msg", ""),
         "type": e.get("type", "")}
        for e in exc.errors
    ]
    fields = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
    detail = f"Check these fields: {fields}." if fields else "The request is not valid."
    return problem(request, 422, "validation_failed", detail, errors=errors)


def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(request, 401, "unauthenticated", exc.message)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    detail = exc.message
    if exc.status_code == 400 and exc.message.startswith("Cannot parse request body"):
        code, detail = "malformed_body", "The request body is not valid JSON."
    return problem(request, exc.status_code, code, detail)


def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(request, 404, "not_found", "No such object.")


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API request %s %s failed", request.method, request.path, exc_info=exc)
    return problem(request, 500, "internal_error", "Something went wrong on our side; it has been logged.")


def build_api() -> NinjaAPI:
    """The one API object; routers come from each app's ``api.py``."""
    from insignia.awards.api import router as awards_router
    from insignia.badges.api import router as badges_router
    from insignia.integrations.api import audit_router, tokens_router, webhooks_router
    from insignia.issuers.api import router as issuers_router
    from insignia.verification.api import router as verification_router

    instance = NinjaAPI(
        title="Insignia API",
        version="1",
        description=(
            "Organisation-scoped REST API. Authenticate with `Authorization: Bearer ins_<prefix>_<secret>`. "
            "Errors are RFC 9457 problem documents (`application/problem+json`) with a stable `code`."
        ),
        urls_namespace="api-v1",
        auth=BearerToken(),
    )
    instance.add_exception_handler(ServiceError, _service_error)
    instance.add_exception_handler(ValidationError, _validation_error)
    instance.add_exception_handler(AuthenticationError, _authentication_error)
    instance.add_exception_handler(HttpError, _http_error)
    instance.add_exception_handler(Http404, _not_found)
    instance.add_exception_handler(Exception, _unexpected)
    instance.add_router("/issuers", issuers_router, tags=["issuers"])
    instance.add_router("/badges", badges_router, tags=["badges"])
    instance.add_router("/awards", awards_router, tags=["awards"])
    instance.add_router("/audit", audit_router, tags=["audit"])
    instance.add_router("/tokens", tokens_router, tags=["tokens"])
    instance.add_router("/webhooks", webhooks_router, tags=["webhooks"])
    instance.add_router("/verify", verification_router, tags=["verification"])
    return instance


api = build_api()
