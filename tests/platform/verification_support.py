"""Shared set-up for the verifier tests (no tests here): one table of inputs, and the three surfaces.

``build_cases`` issues real awards on this instance (valid, revoked, suspended, expired; OB 3.0 JSON,
JWT, baked PNG and SVG, OB 2.0 hosted and signed), signs did:key credentials with the kernel (an issuer
this instance does not know; one not yet valid) and adds malformed and hostile input. Each case names
the verdict and the one check that decides it. ``via_api``, ``via_page`` and ``via_cli`` put a case
through ``POST /api/v1/verify``, the ``/verify`` form and ``insignia verify --instance --json`` and
return the same normalised answer, so one table is asserted on every surface.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.test import Client
from django.utils import timezone

from insignia.awards import credentials as documents
from insignia.awards.services import issue_award, revoke_award, suspend_award
from insignia.badges.models import ExpiryPolicy
from insignia.core.tenancy import Actor
from tests.credentials.world import did_key_credential, did_key_signer
from tests.platform.test_awards_support import make_badge, make_issuer

RECIPIENT = "ada@example.org"
XML_BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&lol3;</text></svg>')


def deep_json(levels: int = 5000) -> str:
    """A JSON-LD-looking object nested far deeper than any credential (built as text: no recursion)."""
    return '{"@context": "https://www.w3.org/ns/credentials/v2", "a": ' + '{"a": ' * levels + "1" + "}" * levels + "}"


@dataclass
class Case:
    name: str
    kind: str  # "text" | "file" | "url"
    value: str | bytes
    verdict: str
    check: str
    status: str
    code: str
    recipient: str | None = None
    filename: str = "badge.bin"
    trust: str | None = None


@dataclass
class Answer:
    """What a surface said, normalised: verdict, {check id: (status, code)}, trust level."""

    verdict: str
    checks: dict[str, tuple[str, str]]
    trust: str | None

    def matches(self, case: Case) -> bool:
        return (self.verdict == case.verdict and self.checks.get(case.check) == (case.status, case.code)
                and (case.trust is None or self.trust == case.trust))


def _issued(actor: Actor, badge: Any, recipient: str = RECIPIENT, **kwargs: Any) -> Any:
    return issue_award(actor=actor, badge=badge, recipient=recipient, **kwargs)


def build_cases(owner: Actor) -> list[Case]:
    """Every row of the matrix (issues awards on this instance: needs the database)."""
    issuer = make_issuer(owner)
    badge = make_badge(owner, issuer)
    svg_badge = make_badge(owner, issuer, name="Open Science", image="svg")
    valid = _issued(owner, badge)
    valid_svg = _issued(owner, svg_badge)
    revoked = _issued(owner, badge, recipient="rev@example.org")
    revoke_award(actor=owner, award=revoked, reason="Awarded in error.")
    suspended = _issued(owner, badge, recipient="sus@example.org")
    suspend_award(actor=owner, award=suspended, reason="Under review.")
    short = make_badge(owner, issuer, name="Short-lived", expiry_policy=ExpiryPolicy.DURATION, expiry_days=1)
    expired = _issued(owner, short, issued_on=timezone.now() - timedelta(days=10))

    credential = json.dumps(valid.credential)
    tampered = json.loads(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    future = did_key_credential(did_key_signer(), recipient=RECIPIENT, now=datetime.now(UTC) + timedelta(days=3))
    foreign = did_key_credential(did_key_signer(), recipient=RECIPIENT, now=datetime.now(UTC))
    base = documents.credential_url(valid.public_id)
    return [
        Case("valid_json", "text", credential, "valid", "proof", "passed", "signature_valid", trust="known"),
        Case("valid_png", "file", documents.baked(valid, "png", "ob3"), "valid", "status", "passed", "not_revoked",
             filename="badge.png", trust="known"),
        Case("valid_svg", "file", documents.baked(valid_svg, "svg", "ob3"), "valid", "issuer_key", "passed",
             "issuer_key_bound", filename="badge.svg", trust="known"),
        Case("valid_url", "url", base, "valid", "issuer_key", "passed", "issuer_key_bound", trust="known"),
        Case("valid_jwt", "text", documents.jwt_for(valid), "valid", "format", "passed", "vc_jwt", trust="known"),
        Case("ob2_hosted", "url", documents.assertion_url(valid.public_id), "valid", "proof", "passed",
             "hosted_verified", trust="known"),
        Case("ob2_signed", "text", documents.signed_assertion(valid), "valid", "proof", "passed", "signature_valid",
             trust="known"),
        Case("ob2_baked_png", "file", documents.baked(valid, "png", "ob2"), "valid", "format", "passed", "ob2_hosted",
             filename="badge-ob2.png", trust="known"),
        Case("right_recipient", "text", credential, "valid", "recipient", "passed", "recipient_match",
             recipient=RECIPIENT.upper()),
        Case("wrong_recipient", "text", credential, "invalid", "recipient", "failed", "recipient_mismatch",
             recipient="eve@example.org"),
        Case("tampered", "text", json.dumps(tampered), "invalid", "proof", "failed", "signature_invalid"),
        Case("expired", "text", json.dumps(expired.credential), "invalid", "validity", "failed", "expired"),
        Case("not_yet_valid", "text", json.dumps(future), "invalid", "validity", "failed", "not_yet_valid"),
        Case("revoked", "text", json.dumps(revoked.credential), "invalid", "status", "failed", "revoked"),
        Case("revoked_url", "url", documents.credential_url(revoked.public_id), "invalid", "status", "failed",
             "revoked"),
        Case("revoked_ob2_hosted", "url", documents.assertion_url(revoked.public_id), "invalid", "status", "failed",
             "revoked"),
        Case("revoked_ob2_signed", "text", documents.signed_assertion(revoked), "invalid", "status", "failed",
             "revoked"),
        Case("suspended", "text", json.dumps(suspended.credential), "invalid", "status", "failed", "suspended"),
        Case("unknown_issuer", "text", json.dumps(foreign), "valid", "issuer_key", "passed", "issuer_key_bound",
             trust="unknown"),
        Case("malformed_text", "text", "this is not a badge", "invalid", "format", "failed", "not_a_credential",
             trust="unverified"),
        Case("malformed_file", "file", b"\x00\x01 binary junk \xff\xfe", "invalid", "format", "failed",
             "not_a_credential", filename="junk.bin"),
        Case("xml_bomb_svg", "file", XML_BOMB, "invalid", "format", "failed", "svg_dtd_forbidden",
             filename="bomb.svg"),
        Case("deep_json_ld", "text", deep_json(), "invalid", "format", "failed", "json_too_deep"),
        Case("ssrf_loopback", "url", "https://127.0.0.1/admin", "indeterminate", "format", "not_checked",
             "address_forbidden"),
        Case("ssrf_metadata", "url", "https://169.254.169.254/latest/meta-data/", "indeterminate", "format",
             "not_checked", "address_forbidden"),
        Case("ssrf_metadata_http", "url", "http://169.254.169.254/latest/meta-data/", "indeterminate", "format",
             "not_checked", "https_required"),
    ]


def answer_from_json(data: dict[str, Any]) -> Answer:
    return Answer(verdict=data["verdict"], checks={c["id"]: (c["status"], c["code"]) for c in data["checks"]},
                  trust=(data.get("trust") or {}).get("level"))


# == the three surfaces ==========================================================================================


def via_api(client: Client, case: Case) -> Answer:
    if case.kind == "file":
        data: dict[str, Any] = {"file": _upload(case)}
        if case.recipient:
            data["recipient"] = case.recipient
        response = client.post("/api/v1/verify", data)
    else:
        if case.kind == "url":
            body = '{"url": ' + json.dumps(case.value) + "}"
        elif isinstance(case.value, str) and case.value.lstrip().startswith("{"):
            body = '{"credential": ' + case.value + "}"  # the object itself, spliced in as JSON text
        else:
            body = '{"credential": ' + json.dumps(case.value) + "}"
        if case.recipient:
            body = body[:-1] + ', "recipient": ' + json.dumps(case.recipient) + "}"
        response = client.post("/api/v1/verify", body, content_type="application/json")
    assert response.status_code == 200, (case.name, response.status_code, response.content[:500])
    return answer_from_json(response.json())


def _upload(case: Case) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    assert isinstance(case.value, bytes)
    return SimpleUploadedFile(case.filename, case.value)


_VERDICT = re.compile(r'data-verdict="([a-z_]+)"')
_CHECK = re.compile(r'data-check="([a-z_]+)" data-status="([a-z_]+)" data-code="([^"]*)"')
_TRUST = re.compile(r'data-trust="([a-z_]+)"')


def page_answer(html: str) -> Answer:
    verdict = _VERDICT.search(html)
    assert verdict is not None, html[:3000]
    trust = _TRUST.search(html)
    return Answer(verdict=verdict.group(1), checks={m[0]: (m[1], m[2]) for m in _CHECK.findall(html)},
                  trust=trust.group(1) if trust else None)


def via_page(client: Client, case: Case) -> Answer:
    data: dict[str, Any] = {"recipient": case.recipient or ""}
    if case.kind == "file":
        data["file"] = _upload(case)
    else:
        data["text"] = case.value
    response = client.post("/verify", data)
    assert response.status_code == 200, (case.name, response.status_code, response.content[:500])
    return page_answer(response.content.decode())


def run_cli(*args: str) -> tuple[int, str, str]:
    """``insignia`` in-process (it shares the test database), returning (exit status, stdout, stderr)."""
    import contextlib
    import io

    from insignia.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()


EXIT = {"valid": 0, "invalid": 1, "indeterminate": 2}


def via_cli(tmp_path: Path, case: Case) -> Answer:
    if case.kind == "url":
        target = str(case.value)
    else:
        path = tmp_path / f"{case.name}-{case.filename}"
        path.write_bytes(case.value if isinstance(case.value, bytes) else case.value.encode("utf-8"))
        target = str(path)
    args = ["verify", "--instance", "--json", target] + (["--recipient", case.recipient] if case.recipient else [])
    status, out, err = run_cli(*args)
    answer = answer_from_json(json.loads(out))
    assert status == EXIT[answer.verdict], (case.name, status, out, err)
    return answer
