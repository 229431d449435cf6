"""The checks for Open Badges 3.0 / VC credentials (embedded proof or VC-JWT), in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from insignia.credentials.errors import CredentialError, FetchError, ProofError, ValidationError
from insignia.credentials.model.identity import identity_matches
from insignia.credentials.model.ob3 import validate_endorsement_credential, validate_ob3_credential
from insignia.credentials.proofs import data_integrity, jose
from insignia.credentials.status.bitstring import check_status as read_status_entry
from insignia.credentials.status.revocation_list import is_revoked_1edtech
from insignia.credentials.verify.inputs import ParsedInput, parse_json_text
from insignia.credentials.verify.report import CheckStatus, VerificationReport
from insignia.credentials.verify.schemas import named_schemas

if TYPE_CHECKING:
    from insignia.credentials.verify.pipeline import Verifier

VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
MAX_ENDORSEMENT_DEPTH = 2


@dataclass
class Context:
    verifier: Verifier
    report: VerificationReport
    now: datetime
    recipient: str | None
    skew: timedelta
    depth: int = 0
    notes: list[str] = field(default_factory=list)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _types(node: Any) -> set[str]:
    return {t for t in _as_list(node.get("type")) if isinstance(t, str)} if isinstance(node, dict) else set()


def _text(value: Any) -> str | None:
    """A display string from a plain string or a language map."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("en", "en-US", "@value"):
            if isinstance(value.get(key), str):
                return value[key]
        for item in value.values():
            if isinstance(item, str):
                return item
    return None


def _id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def _image(value: Any) -> str | None:
    return _id(value)


def parse_datetime(value: Any) -> datetime | None:
    """An XML Schema dateTime with a time zone, as a datetime; None if it is not one."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment


def summarise(credential: dict[str, Any], report: VerificationReport) -> None:
    summary = report.summary
    summary.standard = "ob3" if _types(credential) & OB_TYPES or "EndorsementCredential" in _types(credential) else "vc"
    summary.id = _id(credential.get("id"))
    summary.name = _text(credential.get("name"))
    summary.description = _text(credential.get("description"))
    summary.image = _image(credential.get("image"))
    issuer = credential.get("issuer")
    summary.issuer_id = _id(issuer)
    if isinstance(issuer, dict):
        summary.issuer_name = _text(issuer.get("name"))
        summary.issuer_url = issuer.get("url") if isinstance(issuer.get("url"), str) else None
    summary.valid_from = credential.get("validFrom") or credential.get("issuanceDate")
    summary.valid_until = credential.get("validUntil") or credential.get("expirationDate")
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    if isinstance(subject, dict):
        achievement = subject.get("achievement")
        if isinstance(achievement, dict):
            summary.achievement_id = _id(achievement)
            summary.achievement_name = _text(achievement.get("name"))
            summary.achievement_description = _text(achievement.get("description"))
            summary.image = summary.image or _image(achievement.get("image"))
            criteria = achievement.get("criteria")
            if isinstance(criteria, dict):
                summary.criteria = _text(criteria.get("narrative"))
                summary.criteria_url = criteria.get("id") if isinstance(criteria.get("id"), str) else None
            summary.alignments = [a for a in _as_list(achievement.get("alignment")) if isinstance(a, dict)]
        summary.recipient_name = _text(subject.get("name"))
    summary.name = summary.name or summary.achievement_name
    summary.evidence = [e for e in _as_list(credential.get("evidence")) if isinstance(e, dict)]


# -- the checks -------------------------------------------------------------------------------


def check_schema(credential: dict[str, Any], ctx: Context) -> None:
    types = _types(credential)
    try:
        if "EndorsementCredential" in types:
            validate_endorsement_credential(credential)
        elif types & OB_TYPES:
            validate_ob3_credential(credential)
        else:
            _validate_plain_vc(credential)
    except ValidationError as exc:
        ctx.report.failed("schema", exc.code, "; ".join(exc.errors[:8]))
        return
    unavailable = []
    for url in named_schemas(credential):
        if not ctx.verifier.schemas.knows(url):
            unavailable.append(url)
            continue
        errors = ctx.verifier.schemas.errors(url, credential)
        if errors:
            ctx.report.failed("schema", "credential_schema_invalid",
                              f"The credential does not conform to its schema {url}: " + "; ".join(errors))
            return
    message = "The credential has every property the standard requires."
    if unavailable:
        message += " (The schema it names, " + ", ".join(unavailable) + ", was not available offline; the " \
            "Open Badges rules built into Insignia were applied instead.)"
    ctx.report.passed("schema", "schema_valid", message)


def _validate_plain_vc(credential: dict[str, Any]) -> None:
    problems = []
    if "VerifiableCredential" not in _types(credential):
        problems.append("type must include VerifiableCredential")
    if not _id(credential.get("issuer")):
        problems.append("issuer must be a URL or an object with an id")
    if "credentialSubject" not in credential:
        problems.append("credentialSubject is required")
    if problems:
        raise ValidationError("The credential is not a W3C Verifiable Credential.", errors=problems)


def _issuer_id(credential: dict[str, Any]) -> str | None:
    return _id(credential.get("issuer"))


def check_embedded_proof(credential: dict[str, Any], ctx: Context) -> None:
    report = ctx.report
    issuer = _issuer_id(credential)
    try:
        outcomes = data_integrity.verify_document(
            credential,
            resolve_method=ctx.verifier.resolver.dereference_method,
            expected_controller=issuer,
            loader=ctx.verifier.loader,
            now=ctx.now,
        )
    except ProofError as exc:
        report.failed("proof", exc.code, exc.message)
        report.not_checked("issuer_key", "no_proof", "There is no proof, so no signing key to check.")
        return
    best = next((o for o in outcomes if o.verified), None)
    if best is None:
        best = next((o for o in outcomes if o.signature_valid), None) or outcomes[0]
    _report_outcome(best, ctx, issuer)


def _report_outcome(outcome: data_integrity.ProofOutcome, ctx: Context, issuer: str | None) -> None:
    report = ctx.report
    if outcome.signature_valid:
        report.passed("proof", "signature_valid", outcome.message if outcome.verified else
                      f"The signature is valid ({outcome.cryptosuite}, key {outcome.verification_method}).")
    elif outcome.code == "verification_method_unresolved":
        report.not_checked("proof", outcome.code, outcome.message)
    else:
        report.failed("proof", outcome.code, outcome.message)
    if outcome.key_bound:
        report.passed(
            "issuer_key", "issuer_key_bound",
            f"The signing key {outcome.verification_method} is published by the issuer {issuer}.",
        )
    elif outcome.key_bound is False:
        report.failed("issuer_key", outcome.code, outcome.message)
    elif outcome.code == "verification_method_unresolved":
        report.not_checked("issuer_key", outcome.code, "The issuer's key could not be retrieved.")
    else:
        report.not_checked("issuer_key", "not_reached", "Not checked, because the signature is not valid.")


def check_jwt_proof(token: str, credential: dict[str, Any], ctx: Context) -> None:
    report = ctx.report
    try:
        decoded = jose.decode_vc_jwt(token)
    except CredentialError as exc:
        report.failed("proof", exc.code, exc.message)
        report.not_checked("issuer_key", "not_reached", "Not checked, because the JWT cannot be read.")
        return
    header = decoded.header
    issuer = _issuer_id(credential) or decoded.payload.get("iss")
    kid = header.get("kid")
    method = None
    if isinstance(kid, str) and kid:
        key_url = kid if not kid.startswith("#") or not issuer else issuer + kid
        try:
            method = ctx.verifier.resolver.dereference_method(key_url)
        except CredentialError as exc:
            report.not_checked("proof", "verification_method_unresolved", f"The key {key_url} could not be "
                               f"retrieved: {exc}")
            report.not_checked("issuer_key", "verification_method_unresolved", "The issuer's key was not retrieved.")
            return
        public_key = method.public_key
    elif isinstance(header.get("jwk"), dict):
        try:
            public_key = jose.public_key_from_jwk(header["jwk"])
        except CredentialError as exc:
            report.failed("proof", exc.code, exc.message)
            return
    else:
        report.failed("proof", "jwt_key_missing", "The JWT header names no key (kid) and carries none (jwk).")
        return
    try:
        jose.verify_vc_jwt(token, public_key, now=ctx.now)
    except ProofError as exc:
        report.failed("proof", exc.code, exc.message)
        report.not_checked("issuer_key", "not_reached", "Not checked, because the signature is not valid.")
        return
    report.passed("proof", "signature_valid", f"The JWT signature ({header.get('alg')}) is valid.")
    if method is None:
        report.not_checked(
            "issuer_key", "key_not_linked",
            "The JWT carries its own key, which cannot be linked to the issuer.",
        )
    elif "assertionMethod" not in set(method.purposes or ()):
        report.failed("issuer_key", "verification_method_not_authorized",
                      f"The key {method.id} is not listed under assertionMethod by {method.controller}.")
    elif issuer and method.controller != issuer:
        report.failed("issuer_key", "issuer_key_mismatch",
                      f"The credential names {issuer} as its issuer, but the key is controlled by {method.controller}.")
    else:
        report.passed("issuer_key", "issuer_key_bound", f"The signing key {method.id} is published by the issuer.")


def check_validity(credential: dict[str, Any], ctx: Context) -> None:
    report = ctx.report
    v1 = VC_V1 in _as_list(credential.get("@context"))
    start_name, end_name = ("issuanceDate", "expirationDate") if v1 else ("validFrom", "validUntil")
    start_raw = credential.get(start_name, credential.get("validFrom"))
    end_raw = credential.get(end_name, credential.get("validUntil"))
    start = parse_datetime(start_raw) if start_raw is not None else None
    end = parse_datetime(end_raw) if end_raw is not None else None
    if start_raw is not None and start is None:
        report.failed(
            "validity", "date_invalid", f"{start_name} {start_raw!r} is not a date and time with a time zone."
        )
        return
    if end_raw is not None and end is None:
        report.failed("validity", "date_invalid", f"{end_name} {end_raw!r} is not a date and time with a time zone.")
        return
    if start is not None and start > ctx.now + ctx.skew:
        report.failed("validity", "not_yet_valid", f"The credential is not valid until {start_raw}.")
        return
    if end is not None and end < ctx.now - ctx.skew:
        report.failed("validity", "expired", f"The credential expired on {end_raw}.")
        return
    since = f"valid since {start_raw}" if start_raw else "no start date"
    until = f"until {end_raw}" if end_raw else "with no expiry date"
    report.passed("validity", "within_validity", f"The credential is {since}, {until}.")


def _fetch_json(url: str, ctx: Context) -> Any:
    fetch = ctx.verifier.fetch
    if fetch is None:
        raise FetchError(f"{url} could not be fetched: network access is off.", code="network_disabled")
    body = fetch(url)
    try:
        return parse_json_text(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FetchError(f"{url} did not return UTF-8 JSON.", code="fetch_not_json") from exc


def _verify_list_credential(list_credential: dict[str, Any], issuer: str | None, ctx: Context) -> str | None:
    """Verify the status list credential itself; returns a failure message or None."""
    try:
        outcomes = data_integrity.verify_document(
            list_credential,
            resolve_method=ctx.verifier.resolver.dereference_method,
            expected_controller=_issuer_id(list_credential),
            loader=ctx.verifier.loader,
            now=ctx.now,
        )
    except ProofError as exc:
        return f"the status list is not signed ({exc.message})"
    if not any(o.verified for o in outcomes):
        return f"the status list's signature does not verify ({outcomes[0].message})"
    if issuer is not None and _issuer_id(list_credential) != issuer:
        return "the status list was issued by someone other than the credential's issuer"
    end = parse_datetime(list_credential.get("validUntil"))
    if end is not None and end < ctx.now - ctx.skew:
        return "the status list itself has expired"
    return None


def check_status(credential: dict[str, Any], ctx: Context) -> None:
    report = ctx.report
    entries = _as_list(credential.get("credentialStatus"))
    if not entries:
        report.passed("status", "no_status", "The issuer did not publish a revocation status for this credential.")
        return
    issuer = _issuer_id(credential)
    findings: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict):
            report.failed("status", "status_malformed", "credentialStatus must be an object.")
            return
        kind = entry.get("type")
        try:
            if kind in ("BitstringStatusListEntry", "StatusList2021Entry"):
                url = entry.get("statusListCredential")
                if not isinstance(url, str):
                    report.failed("status", "status_malformed", "The status entry does not name its status list.")
                    return
                list_credential = _fetch_json(url, ctx)
                if not isinstance(list_credential, dict):
                    report.failed("status", "status_list_invalid", f"{url} is not a status list credential.")
                    return
                problem = _verify_list_credential(list_credential, issuer, ctx)
                if problem:
                    report.failed("status", "status_list_invalid", f"The status could not be trusted: {problem}.")
                    return
                result = read_status_entry(entry, list_credential)
                purpose = result.purpose
                if result.is_set and purpose == "revocation":
                    report.failed("status", "revoked", "The issuer has revoked this credential.")
                    return
                if result.is_set and purpose == "suspension":
                    report.failed("status", "suspended", "The issuer has suspended this credential.")
                    return
                findings.append(f"not {'revoked' if purpose == 'revocation' else purpose + 'ed'}")
            elif kind == "1EdTechRevocationList":
                url = entry.get("id")
                revoked, reason = is_revoked_1edtech(_fetch_json(str(url), ctx), credential.get("id"))
                if revoked:
                    because = f": {reason}" if reason else ""
                    report.failed("status", "revoked", f"The issuer has revoked this credential{because}.")
                    return
                findings.append("not revoked")
            else:
                report.not_checked("status", "status_unsupported", f"The status method {kind!r} is not supported.")
                return
        except FetchError as exc:
            report.not_checked("status", exc.code, f"The status list could not be retrieved: {exc.message}")
            return
        except CredentialError as exc:
            report.failed("status", exc.code, f"The status entry is not valid: {exc.message}")
            return
    report.passed("status", "not_revoked", "Checked with the issuer's status list: " + ", ".join(findings) + ".")


def _recipient_kind(value: str) -> tuple[str, str]:
    text = value.strip()
    if text.lower().startswith("did:"):
        return "id", text
    if text.lower().startswith(("http://", "https://")):
        return "url", text
    if "@" in text:
        return "email", text
    if text.startswith("+") or text.replace(" ", "").replace("-", "").isdigit():
        return "phone", text
    return "id", text


def check_recipient(credential: dict[str, Any], ctx: Context) -> None:
    report = ctx.report
    if not ctx.recipient:
        report.not_checked("recipient", "recipient_not_supplied",
                           "Give the email address or URL you were told to check it against.", blocking=False)
        return
    kind, value = _recipient_kind(ctx.recipient)
    subjects = [s for s in _as_list(credential.get("credentialSubject")) if isinstance(s, dict)]
    for subject in subjects:
        if isinstance(subject.get("id"), str) and subject["id"] == value:
            report.passed("recipient", "recipient_match", f"The credential was awarded to {value}.")
            return
        for identity in _as_list(subject.get("identifier")):
            if isinstance(identity, dict) and identity_matches(identity, kind, value):
                report.passed("recipient", "recipient_match", f"The credential was awarded to {value}.")
                return
    report.failed("recipient", "recipient_mismatch", f"The credential was not awarded to {value}.")


def check_endorsements(credential: dict[str, Any], ctx: Context) -> None:
    report = ctx.report
    embedded: list[Any] = []
    jwts: list[Any] = []
    nodes = [credential, credential.get("issuer")]
    for subject in _as_list(credential.get("credentialSubject")):
        if isinstance(subject, dict):
            nodes.append(subject.get("achievement"))
    for node in nodes:
        if isinstance(node, dict):
            embedded.extend(_as_list(node.get("endorsement")))
            jwts.extend(_as_list(node.get("endorsementJwt")))
    if not embedded and not jwts:
        report.passed("endorsements", "no_endorsements", "The credential carries no endorsements.")
        return
    if ctx.depth >= MAX_ENDORSEMENT_DEPTH:
        report.not_checked("endorsements", "endorsements_too_deep", "Endorsements nested too deeply were not checked.")
        return
    names = []
    for item in [*embedded, *jwts]:
        sub = ctx.verifier.verify_nested(item, now=ctx.now, depth=ctx.depth + 1)
        label = sub.summary.issuer_name or sub.summary.issuer_id or "an endorser"
        if sub.verdict.value == "invalid":
            failed = next(c for c in sub.checks if c.status is CheckStatus.FAILED)
            report.failed("endorsements", "endorsement_invalid", f"The endorsement by {label} is not valid: "
                          f"{failed.message}")
            return
        if sub.verdict.value == "indeterminate":
            report.not_checked("endorsements", "endorsement_unchecked", f"The endorsement by {label} could not be "
                               "fully checked.")
            return
        names.append(label)
        report.summary.endorsements.append(sub.summary.to_json())
    report.passed("endorsements", "endorsements_valid", "Valid endorsements by " + ", ".join(names) + ".")


def run(parsed: ParsedInput, ctx: Context) -> None:
    report = ctx.report
    if parsed.kind == "vc-jwt":
        try:
            decoded = jose.decode_vc_jwt(parsed.token or "")
        except CredentialError as exc:
            report.failed("format", exc.code, exc.message)
            return
        credential = decoded.credential
        report.source = parsed.token
        report.passed("format", "vc_jwt", "Open Badges 3.0 credential secured as a VC-JWT.")
        report.summary.format = report.summary.format or "jwt"
    else:
        credential = parsed.credential or {}
        model = "VC 1.1" if VC_V1 in _as_list(credential.get("@context")) else "VC 2.0"
        report.passed("format", "ob3_json", f"Verifiable credential in JSON ({model} data model).")
        report.summary.format = report.summary.format or "json"
    report.credential = credential
    summarise(credential, report)
    check_schema(credential, ctx)
    if parsed.kind == "vc-jwt":
        check_jwt_proof(parsed.token or "", credential, ctx)
        jwt_proof = report.get("proof")
        if credential.get("proof") is not None and (jwt_proof is None or jwt_proof.status is not CheckStatus.PASSED):
            check_embedded_proof(credential, ctx)
    else:
        check_embedded_proof(credential, ctx)
    check_validity(credential, ctx)
    check_status(credential, ctx)
    check_recipient(credential, ctx)
    check_endorsements(credential, ctx)


__all__ = ["Context", "parse_datetime", "run", "summarise"]
