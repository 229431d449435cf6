"""Side effects of award operations, run after the transaction commits.

Services call these through ``transaction.on_commit`` so nothing leaves the system (email, webhooks)
for a change that was rolled back. They are explicit calls, not Django signals, so the path from a
service to its effects is visible in the code: the claim email and the organisation's webhooks.
"""

from __future__ import annotations

from insignia.awards.models import Award
from insignia.integrations.services import emit
from insignia.notifications.services import notify_award_issued


def award_issued(award: Award) -> None:
    """Called once after a new award is committed (not for an idempotent repeat).

    A re-issue that an earner already holds (``reissue_award`` carries the claim over in the same transaction)
    gets no claim email: the earner has it in their wallet and hears about it through their request.
    """
    if not Award.objects.filter(pk=award.pk, earner__isnull=False).exists():
        notify_award_issued(award)
    emit("award.issued", award)


def award_accepted(award: Award) -> None:
    """Called once after the earner's acceptance of an award is committed."""
    emit("award.accepted", award)


def award_expired(award: Award) -> None:
    """Called once per award by the expiry sweep (``insignia.awards.expiry``), inside its transaction."""
    emit("award.expired", award)


def award_status_changed(award: Award, change: str) -> None:
    """Called after a revocation, suspension or un-suspension (``change``) is committed."""
    emit(f"award.{change}", award)
