"""``POST /api/v1/verify``: no login needed.

Body: JSON ``{"credential": <object or JWT string>}`` or ``{"url": "https://…"}``, or a multipart form with
the file in ``file``; optionally ``recipient`` (email or URL). The answer is always the report
``{"verdict", "checks", "credential", "trust"}`` with status 200, whatever the verdict; a request that
cannot be verified at all (no input, two inputs, bad JSON, too large, too many requests) is an RFC 9457
problem.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router

from insignia.awards.engagement import record_verification
from insignia.credentials.verify.inputs import MAX_JSON_DEPTH
from insignia.verification import ratelimit
from insignia.verification.services import (
    SubmissionError,
    max_input_bytes,
    refused_result,
    verify_submission,
)

router = Router(auth=None)

#: Room for the JSON envelope and form fields around the credential itself.
ENVELOPE_BYTES = 64 * 1024


def _problem(request: HttpRequest, status: int, code: str, detail: str, **extra: Any) -> HttpResponse:
    from insignia.site.api import problem

    return problem(request, status, code, detail, **extra)


def _too_large(request: HttpRequest) -> HttpResponse:
    return _problem(request, 413, "input_too_large",
                    f"The request is larger than {max_input_bytes():,} bytes, the most this verifier accepts.")


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _from_json(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _problem(request, 400, "malformed_body", "The request body is not UTF-8 JSON.")
    # Bounded by size here; by nesting where it matters: json.loads refuses absurd depth (RecursionError) at
    # once, and the kernel holds the credential object to its nesting bound (a ``json_too_deep`` report), as it
    # does pasted text. (No character-by-character pre-scan of every body: it cost more than parsing.)
    if len(text) > max_input_bytes() + ENVELOPE_BYTES:
        return _too_large(request)
    try:
        body = json.loads(text)
    except RecursionError:
        return JsonResponse(refused_result("json_too_deep", f"The JSON is nested more than {MAX_JSON_DEPTH} levels "
                                                            "deep; no credential needs that.").to_json())
    except ValueError:
        return _problem(request, 400, "malformed_body", "The request body is not valid JSON.")
    if not isinstance(body, dict):
        return _problem(request, 400, "malformed_body",
                        'Send a JSON object: {"credential": …}, {"url": "…"}, optionally with "recipient".')
    credential, url, recipient = body.get("credential"), body.get("url"), body.get("recipient")
    if credential is not None and not isinstance(credential, dict | str):
        return _problem(request, 400, "credential_invalid", "credential must be a JSON object or a JWT string.",
                        field="credential")
    if url is not None and not isinstance(url, str):
        return _problem(request, 400, "url_invalid", "url must be a string.", field="url")
    if recipient is not None and not isinstance(recipient, str):
        return _problem(request, 400, "recipient_invalid", "recipient must be a string (an email address or URL).",
                        field="recipient")
    return {"credential": credential, "url": url, "recipient": recipient}


def _from_form(request: HttpRequest) -> dict[str, Any] | HttpResponse:
    upload = request.FILES.get("file")
    file_bytes = None
    if upload is not None:
        if upload.size is not None and upload.size > max_input_bytes():
            return _too_large(request)
        file_bytes = upload.read(max_input_bytes() + 1)
    return {"credential": request.POST.get("credential") or None, "url": request.POST.get("url") or None,
            "file_bytes": file_bytes, "recipient": request.POST.get("recipient") or None}


@router.post("", summary="Verify a credential", response={200: dict})
def verify(request: HttpRequest) -> HttpResponse:
    """Verify one credential (object, JWT, URL or uploaded file); the report says valid, invalid or indeterminate.

    Answers ``{"verdict", "checks": [{"id", "status", "code", "message"}], "credential": {…summary…},
    "trust": {"level", "issuer_known", "issuer_name", "issuer_profile", "domain", "message"}}``.
    """
    retry_after = ratelimit.hit(request)
    if retry_after is not None:
        response = _problem(request, 429, "rate_limited",
                            f"Too many verifications from your address; try again in {retry_after} seconds.")
        response["Retry-After"] = str(retry_after)
        return response
    if _declared_length(request) > max_input_bytes() + ENVELOPE_BYTES:
        return _too_large(request)
    content_type = (request.content_type or "").lower()
    try:
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            parsed = _from_form(request)
        elif content_type in ("application/json", "application/ld+json", "") or content_type.endswith("+json"):
            parsed = _from_json(request)
        else:
            return _problem(request, 415, "unsupported_media_type",
                            "Send application/json, or multipart/form-data with the file in the field 'file'.")
    except RequestDataTooBig:
        return _too_large(request)
    if isinstance(parsed, HttpResponse):
        return parsed
    try:
        result = verify_submission(**parsed)
    except SubmissionError as exc:
        return _problem(request, exc.status, exc.code, exc.message, field=exc.field)
    record_verification(result.report.summary.id or "", channel="api")
    return JsonResponse(result.to_json(), json_dumps_params={"ensure_ascii": False})
