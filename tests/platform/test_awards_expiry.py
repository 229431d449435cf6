"""The expiry sweep: ``award.expired`` is emitted once per expired award (webhook, audit), by hand
(``insignia sweep-expired``), from the in-process periodic runner and from Celery beat's task."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from insignia import cli as insignia_cli
from insignia.awards import expiry
from insignia.awards.models import Award
from insignia.awards.services import issue_award, revoke_award, suspend_award
from insignia.badges.models import ExpiryPolicy
from insignia.core.models import AuditEvent, Role
from insignia.integrations import delivery
from insignia.integrations.models import DeliveryState, WebhookDelivery
from insignia.integrations.services import create_webhook
from insignia.site import jobs
from tests.platform.test_awards_support import make_badge, make_issuer
from tests.platform.test_webhooks import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(member):
    return member(Role.OWNER)


@pytest.fixture
def badge(owner):
    """Awards of this badge expire 30 days after the award date."""
    return make_badge(owner, make_issuer(owner), expiry_policy=ExpiryPolicy.DURATION, expiry_days=30)


@pytest.fixture
def hook(owner, settings):
    settings.INSIGNIA_WEBHOOKS_ALLOW_LOOPBACK = True
    webhook, secret = create_webhook(actor=owner, url="http://127.0.0.1:9/hook", events=["award.expired"])
    return webhook, secret


def award(owner: Any, badge: Any, recipient: str, *, days_ago: int = 0) -> Award:
    return issue_award(actor=owner, badge=badge, recipient=recipient,
                       issued_on=timezone.now() - timedelta(days=days_ago))


def expired_deliveries() -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(event="award.expired").order_by("id"))


def test_sweep_announces_each_expired_award_once(owner, badge, hook, django_capture_on_commit_callbacks) -> None:
    old = award(owner, badge, "old@example.org", days_ago=40)          # expired 10 days ago
    older = award(owner, badge, "older@example.org", days_ago=45)      # expired 15 days ago
    fresh = award(owner, badge, "fresh@example.org", days_ago=5)       # expires in 25 days
    forever = issue_award(actor=owner, badge=make_badge(owner, badge.issuer, name="Forever"),
                          recipient="forever@example.org", issued_on=timezone.now() - timedelta(days=400))
    revoked = award(owner, badge, "revoked@example.org", days_ago=40)
    revoke_award(actor=owner, award=revoked, reason="Issued by mistake.")
    suspended = award(owner, badge, "suspended@example.org", days_ago=40)
    suspend_award(actor=owner, award=suspended, reason="Under review.")
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert expiry.sweep_expired_awards(now=now) == 3
    items = expired_deliveries()
    assert len(callbacks) == len(items) == 3  # sending waits for each commit
    assert [i.payload["data"]["award"]["id"] for i in items] == [older.public_id, old.public_id,
                                                                 suspended.public_id]
    assert all(i.payload["type"] == "award.expired" for i in items)
    assert items[0].payload["data"]["award"]["state"] == "expired"
    for row in (old, older, suspended):
        row.refresh_from_db()
        assert row.expiry_announced_at == now
    for row in (fresh, forever, revoked):
        row.refresh_from_db()
        assert row.expiry_announced_at is None
    audit = AuditEvent.objects.filter(verb="award.expired").order_by("id")
    assert [e.object_id for e in audit] == [older.public_id, old.public_id, suspended.public_id]
    assert audit[0].actor_label == "expiry sweep"
    assert audit[0].data["expires_on"] == older.expires_on.isoformat()

    # idempotent: nothing new to say, however often it runs
    assert expiry.sweep_expired_awards(now=now + timedelta(minutes=15)) == 0
    assert len(expired_deliveries()) == 3
    # 26 days later the fresh one expires too, and only it is announced
    assert expiry.sweep_expired_awards(now=now + timedelta(days=26)) == 1
    assert expired_deliveries()[-1].payload["data"]["award"]["id"] == fresh.public_id


def test_a_claimed_award_is_not_announced_twice(owner, badge, hook) -> None:
    """Two sweeps racing (two web workers): the conditional UPDATE lets exactly one announce."""
    row = award(owner, badge, "ada@example.org", days_ago=31)
    now = timezone.now()
    [pk] = expiry.due_awards(now)
    assert expiry._announce(pk, now) is True
    assert expiry._announce(pk, now) is False  # the second worker's claim finds it taken
    assert [d.payload["data"]["award"]["id"] for d in expired_deliveries()] == [row.public_id]
    assert expiry.due_awards(now) == []


def test_a_real_receiver_gets_the_signed_expired_event(owner, badge, settings,
                                                       django_capture_on_commit_callbacks) -> None:
    settings.INSIGNIA_WEBHOOKS_ALLOW_LOOPBACK = True
    row = award(owner, badge, "ada@example.org", days_ago=31)
    with Receiver(200) as receiver:
        _, secret = create_webhook(actor=owner, url=receiver.url, events=["award.expired"])
        with django_capture_on_commit_callbacks(execute=False):
            assert expiry.sweep_expired_awards() == 1
        [item] = expired_deliveries()
        delivery.run_delivery_job(item.public_id)  # what the job runner does after commit
    [request] = receiver.requests
    assert request["headers"]["Insignia-Event"] == "award.expired"
    assert delivery.verify_signature(secret, request["headers"]["Insignia-Signature"], request["body"])
    body = json.loads(request["body"])
    assert (body["type"], body["data"]["award"]["id"]) == ("award.expired", row.public_id)
    item.refresh_from_db()
    assert item.state == DeliveryState.DELIVERED


def test_cli_sweep_expired(owner, badge, hook, capsys) -> None:
    award(owner, badge, "ada@example.org", days_ago=31)
    award(owner, badge, "grace@example.org", days_ago=1)
    assert insignia_cli.main(["sweep-expired", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"announced": 1}
    assert insignia_cli.main(["sweep-expired", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"announced": 0}
    assert insignia_cli.main(["sweep-expired"]) == 0
    assert "No newly expired awards." in capsys.readouterr().out
    assert len(expired_deliveries()) == 1


def test_the_sweep_is_registered_as_a_periodic_task_and_runs_when_due(owner, badge, hook) -> None:
    entry = jobs.periodic_tasks()[expiry.PERIODIC_NAME]
    assert entry.every == timedelta(minutes=15)  # INSIGNIA_EXPIRY_SWEEP_MINUTES's default
    award(owner, badge, "ada@example.org", days_ago=31)
    saved = entry.last_run
    try:
        entry.last_run = None
        start = 1_000_000.0
        assert expiry.PERIODIC_NAME in jobs.run_due_periodic(clock=lambda: start)  # first tick: runs
        assert len(expired_deliveries()) == 1
        award(owner, badge, "grace@example.org", days_ago=32)
        assert jobs.run_due_periodic(clock=lambda: start + 14 * 60) == []  # not due yet
        assert len(expired_deliveries()) == 1
        assert expiry.PERIODIC_NAME in jobs.run_due_periodic(clock=lambda: start + 15 * 60)
        assert len(expired_deliveries()) == 2
    finally:
        entry.last_run = saved


def test_periodic_registry_rules(settings) -> None:
    calls: list[int] = []
    try:
        jobs.register_periodic("test.counter", timedelta(seconds=60), lambda: calls.append(1))
        jobs.register_periodic("test.broken", timedelta(seconds=60), lambda: 1 / 0)
        ran = jobs.run_due_periodic(clock=lambda: 5.0)
        assert "test.counter" in ran
        assert "test.broken" not in ran  # it failed; the others still ran
        assert calls == [1]
        jobs.run_periodic("test.counter")  # by name, at once (Celery beat's entry point)
        assert calls == [1, 1]
        jobs.register_periodic("test.counter", timedelta(0), lambda: calls.append(1))  # zero: switched off
        assert "test.counter" not in jobs.periodic_tasks()
        with pytest.raises(LookupError):
            jobs.run_periodic("test.counter")
    finally:
        jobs._PERIODIC.pop("test.counter", None)
        jobs._PERIODIC.pop("test.broken", None)
    settings.BROKER_URL = "redis://127.0.0.1:6379/0"
    assert jobs.start_periodic_runner() is False  # with a broker, Celery beat runs them


def test_celery_beat_schedules_the_sweep_and_its_task_runs_it(owner, badge, hook) -> None:
    from insignia.site.celery import app, run_periodic

    app.finalize()
    entry = app.conf.beat_schedule[expiry.PERIODIC_NAME]
    assert entry["task"] == "insignia.run_periodic"
    assert entry["args"] == (expiry.PERIODIC_NAME,)
    assert entry["schedule"] == 15 * 60
    award(owner, badge, "ada@example.org", days_ago=31)
    result = run_periodic.apply(args=(expiry.PERIODIC_NAME,))  # the task beat sends, run here
    assert result.get() == 1
    assert len(expired_deliveries()) == 1
    assert run_periodic.apply(args=(expiry.PERIODIC_NAME,)).get() == 0
