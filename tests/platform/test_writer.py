"""Database steps on a second thread, in the caller's connection and transaction (``insignia.core.writer``)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from insignia.awards import batch, signing
from insignia.awards.batch import issue_awards_batch
from insignia.awards.models import Award
from insignia.core.models import AuditEvent, Organisation, Role
from insignia.core.tenancy import Actor
from insignia.core.writer import ConnectionWriter
from tests.platform.test_awards_support import make_badge, make_issuer
from tests.platform.test_bulk_batch import rows

pytestmark = pytest.mark.django_db


def _event(org: Organisation, label: str) -> None:
    AuditEvent.objects.create(organisation=org, actor_label=label, verb="test.step", object_type="Test",
                              object_id=label)


def _labels(org: Organisation) -> list[str]:
    return list(AuditEvent.objects.filter(organisation=org, verb="test.step").order_by("pk")
                .values_list("actor_label", flat=True))


def test_steps_run_in_order_on_another_thread_in_the_callers_transaction(make_org: Any) -> None:
    org = make_org()
    seen: list[tuple[int, Any]] = []

    def step(label: str) -> None:
        seen.append((threading.get_ident(), connection.connection))
        _event(org, label)

    with transaction.atomic():
        raw = connection.connection
        with ConnectionWriter() as writer:
            for n in range(7):
                writer.submit(lambda n=n: step(f"step {n}"))
        # the rows are already there for this thread: the same transaction, not another connection's
        assert _labels(org) == [f"step {n}" for n in range(7)]
    assert {ident for ident, _ in seen} != {threading.get_ident()}
    assert all(used is raw for _, used in seen)


def test_the_callers_rollback_takes_the_writers_rows_with_it(make_org: Any) -> None:
    org = make_org()
    seen: list[list[str]] = []

    def write_then_fail() -> None:
        with transaction.atomic():
            with ConnectionWriter() as writer:
                writer.submit(lambda: _event(org, "kept?"))
            seen.append(_labels(org))
            raise RuntimeError("the caller fails after the writer is done")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert seen == [["kept?"]]
    assert _labels(org) == []
    _event(org, "after")  # the connection is this thread's again, and usable
    assert _labels(org) == ["after"]


def test_a_failing_step_is_raised_and_the_steps_after_it_do_not_run(make_org: Any) -> None:
    org = make_org()
    ran: list[str] = []

    def duplicate() -> None:
        ran.append("duplicate")
        Organisation.objects.create(name="Again", slug=org.slug)  # the slug is unique

    def write() -> None:
        with transaction.atomic(), ConnectionWriter() as writer:
            writer.submit(lambda: (ran.append("first"), _event(org, "first")))
            writer.submit(duplicate)
            for _ in range(5):  # raised by a later submit, or by close: either way nothing more runs
                writer.submit(lambda: (ran.append("later"), _event(org, "later")))

    with pytest.raises(IntegrityError):
        write()
    assert ran == ["first", "duplicate"]
    assert _labels(org) == []
    assert Organisation.objects.filter(slug=org.slug).count() == 1


def test_the_callers_own_error_wins_over_the_writers(make_org: Any) -> None:
    org = make_org()

    def fail() -> None:
        raise DatabaseError("the writer's error")

    def write() -> None:
        with transaction.atomic(), ConnectionWriter() as writer:
            writer.submit(fail)
            raise ValueError("the caller's error")

    with pytest.raises(ValueError, match="the caller's error"):
        write()
    assert _labels(org) == []


def test_a_batch_whose_writer_fails_midway_stores_nothing(member: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error in the third part's audit insert (on the writer thread) fails the whole batch."""
    owner: Actor = member(Role.OWNER)
    badge = make_badge(owner, make_issuer(owner))
    monkeypatch.setattr(signing, "PART_SIZE", 20)
    monkeypatch.setattr(batch, "WRITE_IN_THREAD", True)
    real_audit, calls = batch._audit, []

    def audit(actor: Actor, badge: Any, awards: list[Award]) -> None:
        calls.append(threading.get_ident())
        if len(calls) == 3:
            raise DatabaseError("disk full (injected)")
        real_audit(actor, badge, awards)

    monkeypatch.setattr(batch, "_audit", audit)
    with pytest.raises(DatabaseError, match="injected"):
        issue_awards_batch(actor=owner, badge=badge, rows=rows(100))
    assert threading.get_ident() not in calls
    assert not Award.objects.filter(badge=badge).exists()
    assert not AuditEvent.objects.filter(organisation=owner.organisation, verb="award.issued").exists()
    monkeypatch.setattr(batch, "_audit", real_audit)
    assert len(issue_awards_batch(actor=owner, badge=badge, rows=rows(45))) == 45  # the connection still works
