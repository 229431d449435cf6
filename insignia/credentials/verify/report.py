"""The verification report: an ordered list of checks and one verdict.

Each check is *passed*, *failed* or *not_checked* (could not be decided, e.g. the status
list could not be fetched), with a machine code and a sentence for people. The verdict is
``invalid`` if any check failed, ``indeterminate`` if a check that matters could not be
made, else ``valid``. Checks that only apply when asked (the recipient) do not make a
report indeterminate when they were not asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


#: Check ids, in the order the pipeline runs them.
CHECK_ORDER = ("format", "schema", "proof", "issuer_key", "validity", "status", "recipient", "endorsements")

CHECK_TITLES = {
    "format": "Format",
    "schema": "Structure",
    "proof": "Signature",
    "issuer_key": "Signing key belongs to the issuer",
    "validity": "Issue and expiry dates",
    "status": "Revocation and suspension",
    "recipient": "Recipient",
    "endorsements": "Endorsements",
}


@dataclass(frozen=True)
class Check:
    id: str
    status: CheckStatus
    code: str
    message: str
    #: False for checks that were not asked for (an unsupplied recipient): they never make a report indeterminate.
    blocking: bool = True

    @property
    def title(self) -> str:
        return CHECK_TITLES.get(self.id, self.id)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": str(self.status), "code": self.code, "message": self.message}


@dataclass
class CredentialSummary:
    """What a person wants to see about the badge, whatever format it came in."""

    standard: str | None = None  # "ob3" | "ob2" | "vc"
    format: str | None = None  # "json" | "jwt" | "jws" | "hosted" | "png" | "svg"
    id: str | None = None
    name: str | None = None
    description: str | None = None
    image: str | None = None
    issuer_id: str | None = None
    issuer_name: str | None = None
    issuer_url: str | None = None
    achievement_id: str | None = None
    achievement_name: str | None = None
    achievement_description: str | None = None
    criteria: str | None = None
    criteria_url: str | None = None
    recipient_name: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    alignments: list[dict[str, Any]] = field(default_factory=list)
    endorsements: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if value not in (None, [])}


@dataclass
class VerificationReport:
    checks: list[Check] = field(default_factory=list)
    credential: dict[str, Any] | None = None
    summary: CredentialSummary = field(default_factory=CredentialSummary)
    #: The compact JWS / hosted URL / baked payload the credential was read from, when it was not plain JSON.
    source: str | None = None

    def add(self, check_id: str, status: CheckStatus, code: str, message: str, *, blocking: bool = True) -> Check:
        check = Check(check_id, status, code, message, blocking)
        self.checks = [c for c in self.checks if c.id != check_id] + [check]
        self.checks.sort(key=lambda c: CHECK_ORDER.index(c.id) if c.id in CHECK_ORDER else len(CHECK_ORDER))
        return check

    def passed(self, check_id: str, code: str, message: str) -> Check:
        return self.add(check_id, CheckStatus.PASSED, code, message)

    def failed(self, check_id: str, code: str, message: str) -> Check:
        return self.add(check_id, CheckStatus.FAILED, code, message)

    def not_checked(self, check_id: str, code: str, message: str, *, blocking: bool = True) -> Check:
        return self.add(check_id, CheckStatus.NOT_CHECKED, code, message, blocking=blocking)

    def get(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def verdict(self) -> Verdict:
        if any(c.status is CheckStatus.FAILED for c in self.checks):
            return Verdict.INVALID
        if any(c.status is CheckStatus.NOT_CHECKED and c.blocking for c in self.checks):
            return Verdict.INDETERMINATE
        return Verdict.VALID

    @property
    def is_valid(self) -> bool:
        return self.verdict is Verdict.VALID

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "checks": [c.to_json() for c in self.checks],
            "credential": self.summary.to_json(),
        }
