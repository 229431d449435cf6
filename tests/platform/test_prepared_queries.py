"""Prepared statements for the public hot paths (``insignia.core.prepared``): the cached page's version query and
the verifier's stored-award query.

On PostgreSQL each is prepared once per connection and executed by name after, across requests on a kept
connection, again after a rollback or on a new connection, and never for any other query; on SQLite the same
calls run through an ordinary cursor. Either way the answers are the ORM's, a revocation or suspension shows on
the very next page load and verification, and a cached page still costs one query. Runs on SQLite and
PostgreSQL; no timings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from insignia.awards import engagement
from insignia.awards.models import Award
from insignia.awards.services import revoke_award, suspend_award, unsuspend_award
from insignia.awards.views import _page_version_sql
from insignia.core import prepared
from insignia.core.models import Role
from insignia.core.prepared import fetch_one
from insignia.issuers.services import rotate_keys
from insignia.verification import services
from tests.platform.test_awards_support import make_badge, make_issuer, make_public_award
from tests.platform.test_serving_verifier import _fresh  # noqa: F401 (autouse: no rate limit, empty caches)

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"


def _sqlite_is_unaffected(sql: str, params: list[Any]) -> None:
    """What the PostgreSQL-only tests check on SQLite: the same calls answer through an ordinary cursor, the same
    rows, with nothing kept on the connection."""
    assert connection.vendor == "sqlite"
    for _ in range(3):
        with transaction.atomic():
            assert fetch_one(sql, params) == _plain(sql, params)
            transaction.set_rollback(True)
        assert fetch_one(sql, params) == _plain(sql, params)
    assert not hasattr(connection.connection, "_insignia_preparing_cursor")


@pytest.fixture
def owner(member: Any) -> Any:
    return member(Role.OWNER)


@pytest.fixture
def award(owner: Any) -> Award:
    return make_public_award(owner, make_badge(owner, make_issuer(owner)))


@pytest.fixture
def buffered() -> Any:
    """Views counted in this process's buffer, as the server's workers count them (so a cached page's queries are
    the page's own)."""
    engagement.flush()
    engagement.enable_buffering(flush_every=1_000_000, flush_seconds=3600, background=False)
    yield
    engagement.disable_buffering()


def _fresh_award(award: Award) -> Award:
    return Award.objects.get(pk=award.pk)


def _plain(sql: str, params: list[Any]) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _executions(sql: str) -> list[int]:
    """How often each protocol-level prepared statement with this text ran in this session (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans + custom_plans FROM pg_prepared_statements "
                       "WHERE NOT from_sql AND statement = %s", [sql.replace("%s", "$1")])
        return [row[0] for row in cursor.fetchall()]


def _prepared_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_prepared_statements")
        return int(cursor.fetchone()[0])


def _request_cycle(work: Any) -> Any:
    """What the server does around every request (the test client leaves it out): close obsolete connections
    before and after, keeping a connection younger than CONN_MAX_AGE."""
    request_started.send(sender=None)
    try:
        return work()
    finally:
        request_finished.send(sender=None)


def _page(client: Client, award: Award) -> Any:
    response = client.get(f"/c/{award.public_id}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    return response


# == the helper ==================================================================================================


def test_fetch_one_answers_as_an_ordinary_cursor(award: Award, owner: Any) -> None:
    sql = _page_version_sql()
    expected = _plain(sql, [award.public_id])
    assert expected is not None
    assert expected[0] == award.pk
    assert fetch_one(sql, [award.public_id]) == expected
    assert fetch_one(sql, [award.public_id]) == expected  # executed by name the second time on PostgreSQL
    assert fetch_one(sql, ["no-such-award"]) is None
    # read in binary (as the page does): the same values, down to their repr (the page's key is made of it)
    assert repr(fetch_one(sql, [award.public_id], binary=True)) == repr(expected)
    suspend_award(actor=owner, award=_fresh_award(award), reason="Checking.")  # a status change time, too
    rotate_keys(actor=owner, issuer=award.issuer)
    changed = _plain(sql, [award.public_id])
    assert changed != expected
    assert repr(fetch_one(sql, [award.public_id], binary=True)) == repr(changed)
    assert fetch_one(sql, [award.public_id]) == changed


def test_the_query_log_shows_the_statement_with_its_values(award: Award) -> None:
    with CaptureQueriesContext(connection) as queries:
        fetch_one(_page_version_sql(), [award.public_id])
        fetch_one(_page_version_sql(), [award.public_id])
    assert len(queries.captured_queries) == 2
    assert all(award.public_id in query["sql"] and "awards_award" in query["sql"]
               for query in queries.captured_queries)


def test_the_statement_is_prepared_once_and_nothing_else_is(award: Award) -> None:
    sql = _page_version_sql()
    if not POSTGRES:
        return _sqlite_is_unaffected(sql, [award.public_id])
    before = _prepared_count()
    for _ in range(4):
        fetch_one(sql, [award.public_id])
    assert _executions(sql) == [4]  # one statement, run four times
    assert connection.connection.prepare_threshold is None  # Django's setting is back for every other query
    for _ in range(8):
        assert Award.objects.filter(public_id=award.public_id).count() == 1
    assert _prepared_count() == before + 1


def test_a_rolled_back_savepoint_keeps_the_statement(award: Award) -> None:
    sql = _page_version_sql()
    if not POSTGRES:
        return _sqlite_is_unaffected(sql, [award.public_id])
    expected = _plain(sql, [award.public_id])
    fetch_one(sql, [award.public_id])
    with transaction.atomic():  # a savepoint rolled back: the statement stays
        assert fetch_one(sql, [award.public_id]) == expected
        transaction.set_rollback(True)
    assert fetch_one(sql, [award.public_id]) == expected
    assert _executions(sql) == [3]


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_reuses_the_statement_across_requests(owner: Any, buffered: Any) -> None:
    award = make_public_award(owner, make_badge(owner, make_issuer(owner)))
    sql = _page_version_sql()
    if not POSTGRES:
        return _sqlite_is_unaffected(sql, [award.public_id])
    connection.close()
    client = Client()
    _request_cycle(lambda: _page(client, award))  # renders (and stores) the page
    kept = connection.connection
    first = _executions(sql)
    assert len(first) == 1
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            _request_cycle(lambda: _page(client, award))
        assert len(queries.captured_queries) == 1  # a cached page: the version query only
    assert connection.connection is kept
    assert _executions(sql) == [first[0] + 3]

    with transaction.atomic():  # a whole transaction rolled back: psycopg forgets its statements
        fetch_one(sql, [award.public_id])
        transaction.set_rollback(True)
    assert fetch_one(sql, [award.public_id])[0] == award.pk
    assert _executions(sql) == [1]  # prepared afresh

    connection.close()  # a new connection (CONN_MAX_AGE passed): prepared again on first use
    assert _request_cycle(lambda: _page(client, award)).content
    assert connection.connection is not kept
    assert _executions(sql) == [1]


@pytest.mark.django_db(transaction=True)
def test_a_statement_lost_behind_psycopg_s_back_is_answered_all_the_same(owner: Any) -> None:
    award = make_public_award(owner, make_badge(owner, make_issuer(owner)))
    sql = _page_version_sql()
    if not POSTGRES:
        return _sqlite_is_unaffected(sql, [award.public_id])
    connection.close()
    expected = _plain(sql, [award.public_id])

    def lose_it() -> None:
        fetch_one(sql, [award.public_id])  # prepared
        with connection.cursor() as cursor:  # as a pooler handing over another session would leave it
            cursor.execute("DEALLOCATE ALL")

    lose_it()
    assert fetch_one(sql, [award.public_id]) == expected  # outside a transaction: an ordinary cursor answers
    assert connection.connection in prepared._not_preparing
    assert fetch_one(sql, [award.public_id]) == expected
    assert _executions(sql) == []  # and this connection prepares no more

    connection.close()  # a new connection prepares again
    lose_it()
    with pytest.raises(DatabaseError), transaction.atomic():  # in a transaction: the error (it is aborted anyway)
        fetch_one(sql, [award.public_id])
    assert fetch_one(sql, [award.public_id]) == expected  # the rollback reset psycopg's statements: prepared again
    assert connection.connection not in prepared._not_preparing
    assert _executions(sql) == [1]


# == what the hot paths answer ===================================================================================


def test_a_cached_page_is_one_query_and_shows_a_revocation_at_once(award: Award, owner: Any,
                                                                   buffered: Any) -> None:
    client = Client()
    first = _page(client, award)
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert _page(client, award).content == first.content
        assert len(queries.captured_queries) == 1  # the version query
        assert "awards_award" in queries.captured_queries[0]["sql"]
    revoke_award(actor=owner, award=_fresh_award(award), reason="Awarded in error.")
    after = _page(client, award)
    assert after.content != first.content
    assert b"Awarded in error." in after.content


@pytest.mark.parametrize("change", ["revoke", "suspend", "rotate"])
def test_the_verify_api_shows_a_change_on_the_next_request(award: Award, owner: Any, change: str, buffered: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client()
    body = json.dumps({"credential": award.credential})
    runs: list[str] = []  # the kernel's verifications (the verifier's answers not taken from the verdict cache)
    verifier = services.platform_verifier()
    original = verifier.verify
    monkeypatch.setattr(verifier, "verify", lambda data, **options: runs.append("run") or original(data, **options))

    def verify() -> dict[str, Any]:
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/api/v1/verify", body, content_type="application/json")
        assert response.status_code == 200
        answer = dict(response.json())
        answer["queries"] = len(queries.captured_queries)
        return answer

    assert verify()["verdict"] == "valid"
    warm = verify()
    assert (warm["verdict"], warm["queries"], len(runs)) == ("valid", 1, 1)  # the cached verdict: one query
    if change == "revoke":
        revoke_award(actor=owner, award=_fresh_award(award), reason="Awarded in error.")
    elif change == "suspend":
        suspend_award(actor=owner, award=_fresh_award(award), reason="Checking.")
    else:
        rotate_keys(actor=owner, issuer=award.issuer)  # the old key retired: a new key set
    answer = verify()
    assert len(runs) == 2  # verified afresh
    codes = {check["id"]: check["code"] for check in answer["checks"]}
    if change == "rotate":
        assert answer["verdict"] == "valid"  # a retired key still verifies what it signed
        return
    assert answer["verdict"] == "invalid"
    assert codes["status"] == ("revoked" if change == "revoke" else "suspended")
    if change == "suspend":
        unsuspend_award(actor=owner, award=_fresh_award(award))
        assert verify()["verdict"] == "valid"


def test_the_stored_award_is_what_the_orm_s_raw_query_gives(award: Award, owner: Any) -> None:
    rotate_keys(actor=owner, issuer=award.issuer)  # non-null timestamps from the database
    suspend_award(actor=owner, award=_fresh_award(award), reason="Checking.")
    names = (*services.STORED_FIELDS, "status_reason", *services.STORED_EXTRAS)
    for lookup in ({"public_id": award.public_id}, {"pk": award.pk}):
        by_orm = next(iter(Award.objects.raw(services._stored_award_sql("pk" if "pk" in lookup else "public_id"),
                                             [award.pk if "pk" in lookup else award.public_id])))
        stored = services.stored_award(**lookup)
        assert stored is not None
        for name in names:
            mine, theirs = getattr(stored, name), getattr(by_orm, name)
            assert (mine, type(mine)) == (theirs, type(theirs)), name
        assert stored.get_deferred_fields() == by_orm.get_deferred_fields()
        assert (stored._state.adding, stored._state.db) == (False, connection.alias)
        assert stored.status_changed_at is not None
        assert stored.verdict_keys_retired is not None
    with CaptureQueriesContext(connection) as queries:
        assert services.stored_award(public_id="no-such-award") is None
    assert len(queries.captured_queries) == 1
