"""``/verify``: anyone can check a badge, with or without JavaScript.

GET shows the form (and verifies ``?url=…`` straight away, so a badge can link to its own check);
POST takes a file or pasted text with the CSRF token. Both are rate limited per client address and
capped in size; the result is never stored.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from insignia.awards.engagement import record_verification
from insignia.verification import ratelimit
from insignia.verification.forms import VerifyForm
from insignia.verification.presenters import page_context
from insignia.verification.services import SubmissionError, max_input_bytes, verify_submission

#: Room for the form fields and multipart framing around the file itself.
ENVELOPE_BYTES = 64 * 1024
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


def _render(request: HttpRequest, form: VerifyForm, *, status: int = 200, **extra: Any) -> HttpResponse:
    response = render(request, "verification/verify.html", {"form": form, "max_bytes": max_input_bytes(), **extra},
                      status=status)
    # Foreign badge images and links must not learn who is looking, or from where (same-origin keeps the
    # Origin header our own CSRF check needs; images also carry referrerpolicy="no-referrer").
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    return response


def _refused(request: HttpRequest, form: VerifyForm, status: int, title: str, text: str) -> HttpResponse:
    return _render(request, form, status=status, refusal={"title": title, "text": text})


def _rate_limited(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = _refused(request, VerifyForm(), 429, "Too many checks from your address",
                        f"To keep this free service available to everyone, please wait {retry_after} seconds "
                        "and try again.")
    response["Retry-After"] = str(retry_after)
    return response


def _too_large(request: HttpRequest) -> HttpResponse:
    limit = max_input_bytes()
    return _refused(request, VerifyForm(), 413, "That file is too large",
                    f"Badges are small: this verifier accepts up to {limit // 1024:,} KB. Check that you chose "
                    "the badge image or credential file itself.")


def _verify(request: HttpRequest, form: VerifyForm, **inputs: Any) -> HttpResponse:
    try:
        result = verify_submission(**inputs)
    except SubmissionError as exc:
        if exc.status == 413:
            return _too_large(request)
        form.add_error("recipient" if exc.field == "recipient" else None, exc.message)
        return _render(request, form, status=400)
    record_verification(result.report.summary.id or "", channel="web")
    return _render(request, VerifyForm(initial={"recipient": inputs.get("recipient") or ""}), **page_context(result))


@require_http_methods(["GET", "HEAD", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """Show the verifier; verify what was posted, or the ``url`` a badge linked here with."""
    if request.method == "POST":
        return _post(request)
    url = (request.GET.get("url") or "").strip()
    if not url:
        return _render(request, VerifyForm())
    retry_after = ratelimit.hit(request)
    if retry_after is not None:
        return _rate_limited(request, retry_after)
    recipient = (request.GET.get("recipient") or "").strip()[:500] or None
    form = VerifyForm(initial={"text": url, "recipient": recipient or ""})
    if not _URL.match(url) or len(url) > 2000:
        form = VerifyForm(data={"text": url[:2000], "recipient": recipient or ""})
        form.is_valid()
        form.add_error("text", "That is not a web address (it should start with https://).")
        return _render(request, form, status=400)
    return _verify(request, form, url=url, recipient=recipient)


def _post(request: HttpRequest) -> HttpResponse:
    retry_after = ratelimit.hit(request)
    if retry_after is not None:
        return _rate_limited(request, retry_after)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_input_bytes() + ENVELOPE_BYTES:
        return _too_large(request)
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, form, status=400)
    upload = form.cleaned_data.get("file")
    text = (form.cleaned_data.get("text") or "").strip()
    recipient = (form.cleaned_data.get("recipient") or "").strip() or None
    file_bytes = None
    if upload:
        if upload.size is not None and upload.size > max_input_bytes():
            return _too_large(request)
        file_bytes = upload.read(max_input_bytes() + 1)
    if file_bytes is not None and text:
        form.add_error(None, "Choose a file or paste a link, JSON or JWT — not both.")
        return _render(request, form, status=400)
    if file_bytes is None and not text:
        form.add_error(None, "Choose a badge file, or paste its link, JSON or JWT.")
        return _render(request, form, status=400)
    if file_bytes is not None:
        return _verify(request, form, file_bytes=file_bytes, recipient=recipient)
    if _URL.match(text):
        return _verify(request, form, url=text, recipient=recipient)
    return _verify(request, form, credential=text, recipient=recipient)
