"""The expiry sweep: announce every award whose ``expires_on`` has passed, once.

Nothing about the credential changes when it expires (its ``validUntil`` was signed in; verifiers and our
pages already read it), so expiry needs no write to the credential or the status lists. What it needs is
an announcement: the ``award.expired`` webhook event and an audit entry. ``sweep_expired_awards`` claims
each due award with a conditional UPDATE of ``expiry_announced_at`` inside its own transaction, so two
sweeps running at once (several web workers, or a worker and ``insignia sweep-expired``) announce each
award exactly once, and a crash half-way leaves the rest for the next run.

It runs every ``INSIGNIA_EXPIRY_SWEEP_MINUTES`` (default 15; 0 turns the schedule off): under Celery beat
when ``INSIGNIA_BROKER_URL`` is set, otherwise in a ticker thread of each ``insignia serve`` web worker
(see ``insignia.site.jobs``); ``insignia sweep-expired`` runs it by hand. Revoked awards are not announced
(revocation already said everything); suspended ones are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from insignia.awards import events
from insignia.awards.models import Award, AwardStatus
from insignia.core import audit
from insignia.site.config import env_int

PERIODIC_NAME = "awards.sweep_expired"
DEFAULT_INTERVAL_MINUTES = 15
BATCH = 200
AUDIT_LABEL = "expiry sweep"


def sweep_interval() -> timedelta:
    """``INSIGNIA_EXPIRY_SWEEP_MINUTES`` (default 15); zero or less means no periodic sweep."""
    return timedelta(minutes=env_int("INSIGNIA_EXPIRY_SWEEP_MINUTES", DEFAULT_INTERVAL_MINUTES))


def due_awards(now: datetime) -> list[int]:
    """Primary keys of the next batch of expired, unannounced, unrevoked awards, oldest expiry first."""
    return list(
        Award.objects.filter(expires_on__isnull=False, expires_on__lte=now, expiry_announced_at__isnull=True)
        .exclude(status=AwardStatus.REVOKED)
        .order_by("expires_on", "id")
        .values_list("pk", flat=True)[:BATCH]
    )


@transaction.atomic
def _announce(pk: int, now: datetime) -> bool:
    """Claim one award and announce its expiry; False when another sweep claimed it first."""
    claimed = Award.objects.filter(pk=pk, expiry_announced_at__isnull=True).update(expiry_announced_at=now)
    if not claimed:
        return False
    award = Award.objects.select_related("organisation", "badge", "issuer").get(pk=pk)
    audit.record(award.organisation, actor=AUDIT_LABEL, verb="award.expired", obj=award,
                 data={"expires_on": award.expires_on.isoformat() if award.expires_on else None})
    events.award_expired(award)  # records the webhook deliveries in this transaction; sent after commit
    return True


def sweep_expired_awards(*, now: datetime | None = None) -> int:
    """Announce every award that expired by ``now`` and was not announced yet; returns how many this run did."""
    now = now or timezone.now()
    announced = 0
    while True:
        batch = due_awards(now)
        if not batch:
            return announced
        announced += sum(1 for pk in batch if _announce(pk, now))


def run_periodic_sweep() -> int:
    """The periodic task's body (the clock is read when it runs)."""
    return sweep_expired_awards()


__all__ = ["sweep_expired_awards", "sweep_interval"]
