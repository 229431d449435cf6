"""Errors a service raises; views, the API and the CLI map them to responses once."""

from __future__ import annotations


class ServiceError(Exception):
    """A business rule refused the operation. ``code`` is stable; ``message`` says what to do."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(ServiceError):
    """Also raised for objects of another organisation: a tenant never learns they exist."""

    status = 404
    code = "not_found"


class PermissionDenied(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
