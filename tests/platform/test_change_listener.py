"""Rows kept per process while PostgreSQL announces every committed change (``insignia.core.changes``).

Real listeners on real connections: the triggers of migration ``awards/0009`` notify on commit, a listener thread
hears it, and a ``RowMemo`` forgets what it kept; nothing is kept while the listener is not listening, inside a
transaction, on SQLite, or when the row changed while it was being read. The public page end to end: served
without a query once kept, and a revocation committed elsewhere shows as soon as it is announced. No timings
are asserted; waits are bounded polls for an event that must come.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext

from insignia.awards import views
from insignia.awards.models import Award, StatusList
from insignia.awards.services import revoke_award
from insignia.badges.models import BadgeClass
from insignia.core import changes
from insignia.core.models import Organisation, Role
from insignia.issuers.models import Issuer, SigningKey
from tests.platform.test_awards_support import make_badge, make_issuer, make_public_award
from tests.platform.test_prepared_queries import _page, buffered  # noqa: F401 (a fixture)
from tests.platform.test_serving_verifier import _fresh  # noqa: F401 (autouse: no rate limit, empty caches)

POSTGRES = connection.vendor == "postgresql"
WAIT_SECONDS = 10.0


def _eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")
        time.sleep(0.01)


def _other_connection() -> Any:
    """A connection of its own, as another server process would have."""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    return psycopg.Connection.connect(**params, autocommit=True)


def _moves_on(listener: changes.ChangeListener, change: Callable[[], Any]) -> None:
    before = listener.live_generation()
    assert before is not None
    change()
    _eventually(lambda: listener.live_generation() not in (before, None), "the change is announced")


@pytest.fixture
def listener() -> Iterator[changes.ChangeListener]:
    own = changes.ChangeListener()
    # A fresh connection: on SQLite a statement some earlier code left unfinished would hold an old snapshot of the
    # file, in which neither the rows nor ``data_version`` show later commits of other connections.
    connection.close()
    if POSTGRES:
        assert own.start()
        assert own.listening.wait(WAIT_SECONDS)
    yield own
    own.stop()


class Loads:
    """A load function that counts its calls and answers what ``rows`` holds."""

    def __init__(self, rows: dict[str, Any]) -> None:
        self.rows, self.calls = rows, 0

    def __call__(self, key: str) -> Any:
        self.calls += 1
        return self.rows.get(key)


def _sqlite_listens_to_nothing(listener: changes.ChangeListener) -> None:
    """What the listener's tests check on SQLite: nothing listens (memos watch the file instead)."""
    assert connection.vendor == "sqlite"
    assert listener.start() is False
    assert listener.live_generation() is None


#: A change on either database: PostgreSQL's triggers notify even when no row changes; SQLite's file changes only
#: when bytes do (a row set to what it holds is no change), so one migration's timestamp moves (the test database's).
SOME_CHANGE = {
    True: "UPDATE core_organisation SET name = name",
    False: "UPDATE django_migrations SET applied = strftime('%Y-%m-%d %H:%M:%f', 'now') "
           "WHERE id = (SELECT MIN(id) FROM django_migrations)",
}


def _commit_elsewhere(listener: changes.ChangeListener, statement: str = SOME_CHANGE[POSTGRES]) -> None:
    """A change committed by another connection, as another process makes it; on PostgreSQL, waited for until
    the listener has heard it."""
    if POSTGRES:
        with _other_connection() as other:
            _moves_on(listener, lambda: other.execute(statement))
        return
    with closing(sqlite3.connect(connection.settings_dict["NAME"], timeout=10)) as other:
        other.execute(statement)
        other.commit()


pytestmark = pytest.mark.django_db(transaction=True)


# == the listener =================================================================================================


def test_a_committed_change_elsewhere_is_heard(listener: changes.ChangeListener) -> None:
    if not POSTGRES:
        return _sqlite_listens_to_nothing(listener)
    with _other_connection() as other:
        _moves_on(listener, lambda: other.execute("UPDATE core_organisation SET name = name"))


def test_every_watched_table_announces_its_changes(listener: changes.ChangeListener, member: Any) -> None:
    if not POSTGRES:
        return _sqlite_listens_to_nothing(listener)
    owner = member(Role.OWNER)
    award = make_public_award(owner, make_badge(owner, make_issuer(owner)))
    statements = {
        Award: f"UPDATE {Award._meta.db_table} SET status_reason = status_reason WHERE id = {award.pk}",
        StatusList: f"UPDATE {StatusList._meta.db_table} SET version = version",
        BadgeClass: f"UPDATE {BadgeClass._meta.db_table} SET name = name",
        Issuer: f"UPDATE {Issuer._meta.db_table} SET name = name",
        Organisation: f"UPDATE {Organisation._meta.db_table} SET name = name",
        SigningKey: f"UPDATE {SigningKey._meta.db_table} SET retired_at = retired_at",
    }
    with _other_connection() as other:
        for statement in statements.values():
            _moves_on(listener, lambda statement=statement: other.execute(statement))

        def all_in_one_transaction() -> None:
            with other.transaction():
                for statement in statements.values():
                    other.execute(statement)

        _moves_on(listener, all_in_one_transaction)


def test_a_rolled_back_change_is_not_announced(listener: changes.ChangeListener) -> None:
    if not POSTGRES:
        return _sqlite_listens_to_nothing(listener)
    before = listener.live_generation()
    assert before is not None
    with _other_connection() as other:
        other.execute("BEGIN")
        other.execute("UPDATE core_organisation SET name = name")
        other.execute("ROLLBACK")
        # a committed change after it: the listener was listening, and the rollback had moved nothing
        with _other_connection() as probe:
            probe.execute(f"LISTEN {changes.CHANNEL}")
            other.execute("UPDATE core_organisation SET name = name")
            seen = [1 for _ in probe.notifies(timeout=WAIT_SECONDS, stop_after=1)]
        assert seen == [1]
    _eventually(lambda: listener.live_generation() == before + 1, "exactly one change is announced")


def test_a_lost_connection_keeps_nothing_until_listening_again(listener: changes.ChangeListener) -> None:
    if not POSTGRES:
        return _sqlite_listens_to_nothing(listener)
    memo, load = changes.RowMemo(10, listener), Loads({"a": (1,)})
    memo.get("a", load, "a")
    assert len(memo) == 1
    listener.listening.clear()
    with _other_connection() as other:  # as a restarted server or a broken network would end it
        ended = other.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                              "current_database() AND application_name = 'insignia-changes'").fetchall()
    assert ended == [(True,)]
    assert listener.listening.wait(WAIT_SECONDS), "it listens again"
    assert len(memo) == 0  # the generation moved on: nothing heard in between can have been missed
    memo.get("a", load, "a")
    memo.get("a", load, "a")
    assert load.calls == 2


def test_a_stopped_listener_keeps_nothing(listener: changes.ChangeListener) -> None:
    if not POSTGRES:
        return _sqlite_listens_to_nothing(listener)
    memo, load = changes.RowMemo(10, listener), Loads({"a": (1,)})
    memo.get("a", load, "a")
    listener.stop()
    assert listener.live_generation() is None
    assert [memo.get("a", load, "a") for _ in range(2)] == [(1,), (1,)]
    assert load.calls == 3
    assert len(memo) == 0


def test_the_settings_can_turn_listening_off(settings: Any) -> None:
    settings.LISTEN_FOR_CHANGES = False
    assert changes.start_listening() is False
    assert changes.listener.live_generation() is None


# == the memo =====================================================================================================


def test_a_row_is_loaded_once_until_a_change_is_announced(listener: changes.ChangeListener) -> None:
    memo, load = changes.RowMemo(10, listener), Loads({"a": (1,), "b": (2,)})
    assert [memo.get("a", load, "a") for _ in range(3)] == [(1,)] * 3
    assert memo.get("b", load, "b") == (2,)
    assert load.calls == 2
    load.rows["a"] = (10,)
    _commit_elsewhere(listener)
    assert memo.get("a", load, "a") == (10,)
    assert memo.get("b", load, "b") == (2,)
    assert load.calls == 4


def test_no_row_is_never_kept(listener: changes.ChangeListener) -> None:
    memo, load = changes.RowMemo(10, listener), Loads({})
    assert memo.get("new", load, "new") is None
    load.rows["new"] = (3,)  # inserting announces nothing: the row must be found at once
    assert memo.get("new", load, "new") == (3,)


def test_a_row_that_changed_while_it_was_read_is_not_kept(listener: changes.ChangeListener) -> None:
    memo = changes.RowMemo(10, listener)
    calls: list[str] = []

    def load_while_it_changes(key: str) -> tuple[int]:
        calls.append(key)
        if len(calls) == 1:  # read the old row, then a change commits (and is heard) before the row is kept
            _commit_elsewhere(listener)
            return (0,)
        return (1,)

    assert memo.get("a", load_while_it_changes, "a") == (0,)
    assert memo.get("a", load_while_it_changes, "a") == (1,)  # loaded again: the old row was not kept
    assert memo.get("a", load_while_it_changes, "a") == (1,)
    assert calls == ["a", "a"]


def test_inside_a_transaction_every_lookup_loads(listener: changes.ChangeListener) -> None:
    memo, load = changes.RowMemo(10, listener), Loads({"a": (1,)})
    with transaction.atomic():  # its own writes show only at commit, if at all
        memo.get("a", load, "a")
        memo.get("a", load, "a")
    assert load.calls == 2
    assert len(memo) == 0


def test_the_memo_is_bounded_and_the_oldest_row_goes_first(listener: changes.ChangeListener) -> None:
    memo, load = changes.RowMemo(3, listener), Loads({key: (key,) for key in "abcd"})
    for key in "abcd":
        memo.get(key, load, key)
    assert len(memo) == 3
    memo.get("b", load, "b")
    memo.get("d", load, "d")
    assert load.calls == 4
    memo.get("a", load, "a")  # went first
    assert load.calls == 5


def test_sqlite_a_change_by_this_connection_or_a_new_connection_loads_afresh(listener: changes.ChangeListener) -> None:
    if POSTGRES:  # PostgreSQL hears its own commits as any other (test_a_committed_change_elsewhere_is_heard)
        return _moves_on(listener, lambda: Organisation.objects.update(name=F("name")))
    memo, load = changes.RowMemo(10, listener), Loads({"a": (1,)})
    memo.get("a", load, "a")
    memo.get("a", load, "a")
    assert load.calls == 1
    with connection.cursor() as cursor:  # committed by this very connection (no data_version change)
        cursor.execute(SOME_CHANGE[POSTGRES])
    memo.get("a", load, "a")
    assert load.calls == 2
    connection.close()  # a new connection knows nothing of what changed before it opened
    memo.get("a", load, "a")
    memo.get("a", load, "a")
    assert load.calls == 3


def test_sqlite_rows_are_kept_per_thread(listener: changes.ChangeListener) -> None:
    memo, load = changes.RowMemo(10, listener), Loads({"a": (1,)})
    memo.get("a", load, "a")

    def elsewhere() -> None:
        memo.get("a", load, "a")
        connection.close()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    memo.get("a", load, "a")
    assert load.calls == (1 if POSTGRES else 2)  # PostgreSQL: one memo per process; SQLite: per connection


# == the public page ==============================================================================================


@pytest.fixture
def page_listener(listener: changes.ChangeListener, monkeypatch: pytest.MonkeyPatch) -> changes.ChangeListener:
    """The page's memo on the test's own listener, as a server process has it on the process's listener."""
    monkeypatch.setattr(views, "_page_rows", changes.RowMemo(views.PAGE_ROWS_KEPT, listener))
    return listener


def _settled(listener: changes.ChangeListener) -> None:
    """Wait until every change committed so far has been heard (delivered in order: up to a marker of ours), as
    it long has been when a visitor comes."""
    if POSTGRES:
        with _other_connection() as other:
            _moves_on(listener, lambda: other.execute(f"NOTIFY {changes.CHANNEL}, 'marker'"))


@pytest.mark.usefixtures("buffered")
def test_a_kept_page_costs_no_query_and_shows_a_revocation_once_announced(page_listener: changes.ChangeListener,
                                                                          member: Any) -> None:
    owner = member(Role.OWNER)
    award = make_public_award(owner, make_badge(owner, make_issuer(owner)))
    client = Client()
    first = _page(client, award)  # verifying it signed its status lists, which is a change too
    _settled(page_listener)
    assert _page(client, award).content == first.content
    with CaptureQueriesContext(connection) as queries:
        assert _page(client, award).content == first.content
    assert len(queries.captured_queries) == 0  # the version row is kept
    before = page_listener.live_generation()
    revoke_award(actor=owner, award=Award.objects.get(pk=award.pk), reason="Awarded in error.")
    if POSTGRES:
        _eventually(lambda: page_listener.live_generation() != before, "the revocation is announced")
    after = _page(client, award)
    assert after.content != first.content
    assert b"Awarded in error." in after.content
    _settled(page_listener)  # (its status list signed afresh)
    assert _page(client, award).content == after.content
    with CaptureQueriesContext(connection) as queries:
        assert _page(client, award).content == after.content
    assert len(queries.captured_queries) == 0


@pytest.mark.usefixtures("buffered")
def test_a_badge_edited_elsewhere_shows_once_announced(page_listener: changes.ChangeListener, member: Any) -> None:
    owner = member(Role.OWNER)
    award = make_public_award(owner, make_badge(owner, make_issuer(owner)))
    _settled(page_listener)
    client = Client()
    assert b"Renamed by another process" not in _page(client, award).content
    _page(client, award)
    update = (f"UPDATE {BadgeClass._meta.db_table} SET name = 'Renamed by another process', "
              f"updated_at = updated_at + interval '1 second' WHERE id = {award.badge_id}")
    if not POSTGRES:
        update = update.replace("updated_at + interval '1 second'", "datetime(updated_at, '+1 second')")
    _commit_elsewhere(page_listener, update)
    assert b"Renamed by another process" in _page(client, award).content
