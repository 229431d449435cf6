"""One verification pipeline for every input form.

``Verifier.verify(data)`` accepts OB 3.0 JSON (eddsa-rdfc-2022 or legacy Ed25519Signature2020),
a VC-JWT, OB 2.0 hosted (URL or JSON) or signed (JWS) assertions, and baked PNG or SVG images
of any of these. It returns a :class:`VerificationReport`; it raises nothing for bad input.

All network access goes through the ``fetch`` callable given to the Verifier (none by default:
then only self-contained checks run and the rest are reported as not checked).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from insignia.credentials.baking import sniff_image_type, unbake
from insignia.credentials.dids.resolver import Resolver
from insignia.credentials.errors import BakingError, CredentialError, FetchError
from insignia.credentials.jsonld.loader import ContextLoader, default_loader
from insignia.credentials.verify import ob2 as ob2_checks
from insignia.credentials.verify import ob3 as ob3_checks
from insignia.credentials.verify.inputs import ParsedInput, classify_dict, classify_text
from insignia.credentials.verify.report import CredentialSummary, VerificationReport
from insignia.credentials.verify.schemas import SchemaSet

Fetch = Callable[[str], bytes]

DEFAULT_SKEW = timedelta(minutes=5)


class Verifier:
    """Verifies credentials; configure once, call ``verify`` many times (thread-safe if ``fetch`` is)."""

    def __init__(
        self,
        *,
        fetch: Fetch | None = None,
        loader: ContextLoader | None = None,
        resolver: Resolver | None = None,
        known_documents: Mapping[str, dict] | None = None,
        allow_http_loopback: bool = False,
        clock_skew: timedelta = DEFAULT_SKEW,
        max_input_bytes: int = 2 * 1024 * 1024,
        schemas: Mapping[str, dict] | None = None,
    ) -> None:
        self.fetch = fetch
        self.loader = loader or default_loader()
        self.resolver = resolver or Resolver(
            fetch=fetch, allow_http_loopback=allow_http_loopback, documents=dict(known_documents or {})
        )
        self.allow_http_loopback = allow_http_loopback
        self.clock_skew = clock_skew
        self.max_input_bytes = max_input_bytes
        #: Trusted JSON Schemas (URL → schema) for credentials that name one in ``credentialSchema``.
        self.schemas = SchemaSet(schemas or {})

    # -- input ------------------------------------------------------------------------------

    def _read(self, data: bytes | str | dict, report: VerificationReport) -> ParsedInput | None:
        try:
            if isinstance(data, dict):
                return classify_dict(data)
            if isinstance(data, str):
                return classify_text(data, max_bytes=self.max_input_bytes)
            if len(data) > self.max_input_bytes:
                report.failed(
                    "format", "input_too_large",
                    f"The file is {len(data):,} bytes; the limit is {self.max_input_bytes:,}.",
                )
                return None
            kind = sniff_image_type(data)
            if kind is not None:
                baked = unbake(data)
                parsed = classify_text(baked.text, max_bytes=self.max_input_bytes)
                parsed.container = kind
                report.summary.format = kind
                return parsed
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                report.failed(
                    "format", "not_a_credential",
                    "This file is neither a baked PNG or SVG badge, nor credential JSON or a JWT.",
                )
                return None
            return classify_text(text, max_bytes=self.max_input_bytes)
        except BakingError as exc:
            report.failed("format", exc.code, f"The image could not be read as a badge: {exc.message}")
        except CredentialError as exc:
            report.failed("format", exc.code, exc.message)
        return None

    def _fetch_url(self, url: str, report: VerificationReport) -> ParsedInput | None:
        if self.fetch is None:
            report.not_checked("format", "network_disabled", f"{url} could not be fetched: network access is off.")
            return None
        try:
            body = self.fetch(url)
        except FetchError as exc:
            if exc.status == 410:  # an OB 2.0 hosted assertion that was revoked
                report.passed("format", "ob2_hosted", "Open Badges 2.0 hosted assertion.")
                report.failed("status", "revoked", f"The issuer reports this badge as revoked ({url} is gone).")
                return None
            report.not_checked("format", exc.code, f"{url} could not be fetched: {exc.message}")
            return None
        except CredentialError as exc:
            report.not_checked("format", exc.code, f"{url} could not be fetched: {exc.message}")
            return None
        nested = self._read(body, report)
        if nested is not None and nested.kind == "ob2-json":
            nested.url = url
        return nested

    # -- entry point ------------------------------------------------------------------------

    def verify(
        self,
        data: bytes | str | dict,
        *,
        recipient: str | None = None,
        now: datetime | None = None,
    ) -> VerificationReport:
        """Run every check on ``data`` and return the report (never raises for bad input)."""
        return self._verify(data, recipient=recipient, now=now or datetime.now(UTC), depth=0)

    def verify_nested(self, data: Any, *, now: datetime, depth: int) -> VerificationReport:
        """Verify an embedded endorsement (object or compact JWS) with the same pipeline."""
        if not isinstance(data, dict | str):
            report = VerificationReport()
            report.failed("format", "not_a_credential", "An endorsement must be a credential object or a JWT.")
            return report
        return self._verify(data, recipient=None, now=now, depth=depth)

    def _verify(
        self, data: bytes | str | dict, *, recipient: str | None, now: datetime, depth: int
    ) -> VerificationReport:
        report = VerificationReport()
        parsed = self._read(data, report)
        if parsed is not None and parsed.kind == "url":
            report.source = parsed.url
            parsed = self._fetch_url(parsed.url or "", report)
        if parsed is None:
            return report
        context = ob3_checks.Context(
            verifier=self, report=report, now=now, recipient=recipient, skew=self.clock_skew, depth=depth
        )
        try:
            if parsed.kind in ("ob3-json", "vc-jwt"):
                ob3_checks.run(parsed, context)
            else:
                ob2_checks.run(parsed, context)
        except CredentialError as exc:  # a check that could not complete: report, do not crash
            report.not_checked("format", exc.code, exc.message)
        if parsed.container and report.summary.format is None:
            report.summary.format = parsed.container
        _tidy_summary(report.summary)
        return report


def _tidy_summary(summary: CredentialSummary) -> None:
    """The summary is for display: a text field copied from hostile input as a number, list or object is dropped."""
    for spec in fields(summary):
        if spec.type in ("str | None", str | None) and not isinstance(getattr(summary, spec.name), str | None):
            setattr(summary, spec.name, None)


def verify(data: bytes | str | dict, *, recipient: str | None = None, **options: Any) -> VerificationReport:
    """Verify with a one-off :class:`Verifier` (offline unless ``fetch=`` is given)."""
    now = options.pop("now", None)
    return Verifier(**options).verify(data, recipient=recipient, now=now)
