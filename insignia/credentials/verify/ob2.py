"""The checks for Open Badges 2.0 assertions: hosted (re-fetched from their URL) or signed (JWS)."""

from __future__ import annotations

import json
from typing import Any

from insignia.credentials.errors import CredentialError, FetchError, ValidationError
from insignia.credentials.keys import public_key_from_pem
from insignia.credentials.model.identity import ob2_recipient_matches
from insignia.credentials.model.ob2 import (
    in_issuer_scope,
    validate_ob2_assertion,
    validate_ob2_badgeclass,
    validate_ob2_issuer,
)
from insignia.credentials.proofs import jose
from insignia.credentials.status.revocation_list import is_revoked_ob2
from insignia.credentials.verify.inputs import ParsedInput, parse_json_text
from insignia.credentials.verify.ob3 import Context, parse_datetime


def _fetch_json(url: str, ctx: Context) -> Any:
    fetch = ctx.verifier.fetch
    if fetch is None:
        raise FetchError(f"{url} could not be fetched: network access is off.", code="network_disabled")
    body = fetch(url)
    try:
        return parse_json_text(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FetchError(f"{url} did not return UTF-8 JSON.", code="fetch_not_json") from exc
    except CredentialError as exc:  # not JSON, too large or too deep: the document is unusable
        raise FetchError(f"{url} did not return usable JSON: {exc.message}", code="fetch_not_json") from exc


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _verification_type(assertion: dict[str, Any]) -> str:
    verification = assertion.get("verification")
    kind = verification.get("type") if isinstance(verification, dict) else None
    if kind in ("signed", "SignedBadge"):
        return "signed"
    return "hosted"


def _resolve(value: Any, ctx: Context, what: str) -> dict[str, Any] | None:
    """An embedded object as is, or the document behind an IRI (None if it cannot be fetched)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            document = _fetch_json(value, ctx)
        except FetchError as exc:
            ctx.notes.append(f"The {what} {value} could not be fetched: {exc.message}")
            return None
        return document if isinstance(document, dict) else None
    return None


def _summarise(assertion: dict[str, Any], badge: dict[str, Any] | None, issuer: dict[str, Any] | None,
               ctx: Context) -> None:
    summary = ctx.report.summary
    summary.standard = "ob2"
    summary.id = assertion.get("id") if isinstance(assertion.get("id"), str) else None
    summary.valid_from = assertion.get("issuedOn")
    summary.valid_until = assertion.get("expires")
    summary.image = assertion.get("image") if isinstance(assertion.get("image"), str) else None
    summary.evidence = [e if isinstance(e, dict) else {"id": e} for e in _as_list(assertion.get("evidence"))]
    if badge:
        summary.achievement_id = badge.get("id")
        summary.name = summary.achievement_name = badge.get("name")
        summary.description = summary.achievement_description = badge.get("description")
        image = badge.get("image")
        summary.image = summary.image or (image if isinstance(image, str) else
                                          image.get("id") if isinstance(image, dict) else None)
        criteria = badge.get("criteria")
        if isinstance(criteria, str):
            summary.criteria_url = criteria
        elif isinstance(criteria, dict):
            summary.criteria = criteria.get("narrative")
            summary.criteria_url = criteria.get("id")
        summary.alignments = [a for a in _as_list(badge.get("alignment")) if isinstance(a, dict)]
    if issuer:
        summary.issuer_id = issuer.get("id")
        summary.issuer_name = issuer.get("name")
        summary.issuer_url = issuer.get("url")


def _listed_keys(issuer: dict[str, Any] | None) -> list[str]:
    """The key URLs an OB 2.0 issuer profile lists under ``publicKey`` (ids or embedded keys)."""
    if not issuer:
        return []
    keys = [k if isinstance(k, str) else (k.get("id") if isinstance(k, dict) else None)
            for k in _as_list(issuer.get("publicKey"))]
    return [k for k in keys if isinstance(k, str)]


def _check_signed(token: str, assertion: dict[str, Any], issuer: dict[str, Any] | None, ctx: Context) -> None:
    report = ctx.report
    verification = assertion.get("verification") or {}
    creator = verification.get("creator") if isinstance(verification, dict) else None
    listed = _listed_keys(issuer)
    key_urls = list(dict.fromkeys(([creator] if isinstance(creator, str) else []) + listed))
    if not key_urls:
        report.failed("proof", "key_missing", "The signed assertion names no public key, and its issuer lists none.")
        report.not_checked("issuer_key", "not_reached", "No key to check.")
        return
    last_error = "no key verified the signature"
    for key_url in key_urls:
        try:
            key_doc = _fetch_json(key_url, ctx)
        except FetchError as exc:
            report.not_checked("proof", exc.code, f"The issuer's key {key_url} could not be fetched: {exc.message}")
            report.not_checked("issuer_key", exc.code, "The issuer's key was not retrieved.")
            return
        if not isinstance(key_doc, dict) or not isinstance(key_doc.get("publicKeyPem"), str):
            last_error = f"{key_url} is not a CryptographicKey with a publicKeyPem"
            continue
        try:
            public_key = public_key_from_pem(key_doc["publicKeyPem"])
            jose.verify_jws(token, public_key)
        except CredentialError as exc:
            last_error = exc.message
            continue
        report.passed("proof", "signature_valid", f"The JWS signature is valid (key {key_url}).")
        owner = key_doc.get("owner")
        issuer_id = issuer.get("id") if issuer else None
        if issuer_id is None:
            report.not_checked("issuer_key", "issuer_unavailable", "The issuer profile could not be retrieved.")
        elif owner != issuer_id:
            report.failed("issuer_key", "issuer_key_mismatch",
                          f"The key {key_url} belongs to {owner}, not to the issuer {issuer_id}.")
        elif key_url not in listed:
            report.failed("issuer_key", "key_not_listed", f"The issuer {issuer_id} does not list the key {key_url}.")
        else:
            report.passed("issuer_key", "issuer_key_bound", f"The key {key_url} belongs to the issuer {issuer_id}.")
        return
    report.failed("proof", "signature_invalid", f"The JWS signature does not verify: {last_error}.")
    report.not_checked("issuer_key", "not_reached", "Not checked, because the signature is not valid.")


def run(parsed: ParsedInput, ctx: Context) -> None:
    report = ctx.report
    token: str | None = None
    if parsed.kind == "ob2-jws":
        token = parsed.token or ""
        try:
            _, payload, _, _ = jose.decode_jws(token)
            assertion = json.loads(payload)
        except (CredentialError, ValueError, UnicodeDecodeError) as exc:
            code = exc.code if isinstance(exc, CredentialError) else "jws_malformed"  # e.g. jws_alg_none
            report.failed("format", code, f"The signed assertion cannot be read: {exc}")
            return
        if not isinstance(assertion, dict):
            report.failed("format", "jws_malformed", "The signed assertion's payload is not a JSON object.")
            return
        report.source = token
        report.passed("format", "ob2_signed", "Open Badges 2.0 signed assertion (JWS).")
        report.summary.format = report.summary.format or "jws"
    else:
        assertion = parsed.credential or {}
        report.passed("format", "ob2_hosted" if _verification_type(assertion) == "hosted" else "ob2_json",
                      "Open Badges 2.0 assertion.")
        report.summary.format = report.summary.format or "hosted"
    mode = _verification_type(assertion)
    if mode == "hosted" and parsed.kind != "ob2-jws":
        assertion_id = assertion.get("id")
        if parsed.url is None or parsed.url != assertion_id:
            if not isinstance(assertion_id, str) or not assertion_id.startswith(("http://", "https://")):
                report.failed("proof", "hosted_id_invalid", "A hosted assertion's id must be its https URL.")
                return
            try:
                fetched = _fetch_json(assertion_id, ctx)
            except FetchError as exc:
                if exc.status == 410:
                    report.failed("status", "revoked", "The issuer reports this badge as revoked (410 Gone).")
                    report.credential = assertion
                    _summarise(assertion, None, None, ctx)
                    return
                report.not_checked("proof", exc.code, f"The hosted assertion could not be re-fetched from its "
                                   f"issuer: {exc.message}")
                fetched = None
            if isinstance(fetched, dict):
                if fetched != assertion and parsed.url is None:
                    ctx.notes.append("The issuer's hosted copy differs from the one given; the hosted copy is used.")
                assertion = fetched
    report.credential = assertion
    badge = _resolve(assertion.get("badge"), ctx, "badge class")
    issuer = _resolve(badge.get("issuer"), ctx, "issuer profile") if badge else None
    _summarise(assertion, badge, issuer, ctx)
    problems: list[str] = []
    for document, validate in ((assertion, validate_ob2_assertion), (badge, validate_ob2_badgeclass),
                               (issuer, validate_ob2_issuer)):
        if document is None:
            continue
        try:
            validate(document)
        except ValidationError as exc:
            problems.extend(exc.errors)
    if problems:
        report.failed("schema", "schema_invalid", "; ".join(problems[:8]))
    elif badge is None or issuer is None:
        report.not_checked("schema", "linked_document_unavailable", " ".join(ctx.notes) or
                           "The badge class or issuer could not be retrieved.")
    else:
        report.passed("schema", "schema_valid", "The assertion, badge class and issuer are well formed.")
    if mode == "signed" or token is not None:
        if token is None:
            report.failed("proof", "signature_missing", "The assertion says it is signed, but no signature was given.")
        else:
            _check_signed(token, assertion, issuer, ctx)
    elif report.get("proof") is None:
        if issuer is None:
            report.not_checked("proof", "issuer_unavailable", "The issuer profile could not be retrieved.")
        elif not in_issuer_scope(str(assertion.get("id")), issuer):
            report.failed("proof", "hosted_origin_mismatch",
                          "The assertion is not hosted on the issuer's own web site, so it does not prove who "
                          "issued it.")
        else:
            report.passed("proof", "hosted_verified", f"Retrieved from the issuer's site ({assertion.get('id')}).")
        proof = report.get("proof")
        if report.get("issuer_key") is None:
            if proof is not None and proof.status.value == "passed":
                report.passed("issuer_key", "hosted_origin", "Hosted on the issuer's own domain.")
            else:
                report.not_checked("issuer_key", "not_reached", "Not checked, because the assertion is not verified.")
    _check_dates(assertion, ctx)
    _check_revocation(assertion, issuer, mode, ctx)
    _check_recipient(assertion, ctx)
    if assertion.get("endorsement"):
        report.not_checked("endorsements", "endorsements_unsupported",
                           "Open Badges 2.0 endorsements are shown but not verified.", blocking=False)
    else:
        report.passed("endorsements", "no_endorsements", "The badge carries no endorsements.")


def _check_dates(assertion: dict[str, Any], ctx: Context) -> None:
    report = ctx.report
    issued_raw, expires_raw = assertion.get("issuedOn"), assertion.get("expires")
    issued = parse_datetime(issued_raw)
    expires = parse_datetime(expires_raw) if expires_raw is not None else None
    if issued is None:
        report.failed("validity", "date_invalid", f"issuedOn {issued_raw!r} is not a date and time with a time zone.")
    elif expires_raw is not None and expires is None:
        report.failed("validity", "date_invalid", f"expires {expires_raw!r} is not a date and time with a time zone.")
    elif issued > ctx.now + ctx.skew:
        report.failed("validity", "not_yet_valid", f"The badge is dated in the future ({issued_raw}).")
    elif expires is not None and expires < ctx.now - ctx.skew:
        report.failed("validity", "expired", f"The badge expired on {expires_raw}.")
    else:
        until = f"until {expires_raw}" if expires_raw else "with no expiry date"
        report.passed("validity", "within_validity", f"Issued on {issued_raw}, valid {until}.")


def _check_revocation(assertion: dict[str, Any], issuer: dict[str, Any] | None, mode: str, ctx: Context) -> None:
    report = ctx.report
    if report.get("status") is not None:
        return
    if assertion.get("revoked") is True:
        reason = assertion.get("revocationReason")
        reason = reason if isinstance(reason, str) else None
        report.failed("status", "revoked", f"The issuer has revoked this badge{': ' + reason if reason else ''}.")
        return
    if mode != "signed":
        report.passed("status", "not_revoked", "The issuer's hosted copy is not marked as revoked.")
        return
    list_url = issuer.get("revocationList") if issuer else None
    if not isinstance(list_url, str):
        if issuer:
            report.passed("status", "no_status", "The issuer publishes no revocation list.")
        else:
            report.not_checked("status", "issuer_unavailable", "The issuer profile could not be retrieved.")
        return
    try:
        revocation_list = _fetch_json(list_url, ctx)
    except FetchError as exc:
        if exc.code == "fetch_not_json":  # retrieved, but not a list: fail closed, as for a list of the wrong shape
            report.failed("status", "revocation_list_invalid", f"The issuer's revocation list is not valid: "
                          f"{exc.message}")
        else:
            report.not_checked("status", exc.code, f"The revocation list could not be fetched: {exc.message}")
        return
    try:
        revoked, reason = is_revoked_ob2(revocation_list, str(assertion.get("id")), assertion.get("uid"))
    except CredentialError as exc:
        report.failed("status", exc.code, f"The issuer's revocation list is not valid: {exc.message}")
        return
    if revoked:
        report.failed("status", "revoked", f"The issuer has revoked this badge{': ' + reason if reason else ''}.")
    else:
        report.passed("status", "not_revoked", "Not on the issuer's revocation list.")


def _check_recipient(assertion: dict[str, Any], ctx: Context) -> None:
    report = ctx.report
    if not ctx.recipient:
        report.not_checked("recipient", "recipient_not_supplied",
                           "Give the email address or URL you were told to check it against.", blocking=False)
        return
    recipient = assertion.get("recipient")
    if isinstance(recipient, dict) and ob2_recipient_matches(recipient, ctx.recipient):
        report.passed("recipient", "recipient_match", f"The badge was awarded to {ctx.recipient}.")
    else:
        report.failed("recipient", "recipient_mismatch", f"The badge was not awarded to {ctx.recipient}.")
