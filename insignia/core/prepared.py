"""One-row queries run as server-side prepared statements on PostgreSQL (the public hot paths).

Why: Django's psycopg backend binds parameters client-side and turns psycopg's prepared statements off
(``prepare_threshold=None``, so connection poolers keep working), so PostgreSQL parses and plans every
statement it is sent. For the fixed one-row queries a cached public page and a verification run on every
request, planning was most of the database's work: measured ~300 µs of backend CPU a query, ~70-95 µs prepared.
:func:`fetch_one` prepares such a query once per database connection (psycopg's protocol-level prepare: a plan
cached in the session under a name psycopg keeps) and executes it by name after, through one cursor kept per
connection; optionally the row comes in binary. Client CPU per query (the page's): ~120 µs through Django's
cursor, ~80 µs prepared on a kept cursor, ~65 µs with the row in binary.

Scope and safety:

* Only the statements passed to :func:`fetch_one` are prepared; every other query keeps Django's behaviour
  (the connection's ``prepare_threshold`` is switched on only while one of ours runs, unless the deployment set
  it itself in ``OPTIONS``).
* It goes through Django's cursor wrapper: ``connection.queries``, ``CaptureQueriesContext``, execute wrappers
  and the database error translation all see it as one ordinary query.
* A connection lives across requests (``CONN_MAX_AGE``), and so do its prepared statements; a new connection
  prepares again on its first use. psycopg forgets (and deallocates) them on a rollback, after which the next
  call prepares again, inside a transaction as outside one.
* If the session loses the statement behind psycopg's back (a transaction-mode pooler handing over another
  server session, ``DISCARD ALL``), the call outside a transaction answers through an ordinary cursor instead,
  and that connection no longer prepares (until it is replaced). Inside a transaction the error is raised: the
  transaction is aborted anyway.
* Other databases (SQLite) run the query through an ordinary cursor, unchanged.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import DatabaseError
from django.utils.asyncio import async_unsafe

#: SQLSTATE of "prepared statement ... does not exist".
INVALID_STATEMENT_NAME = "26000"
#: The threshold set while one of our statements runs: high enough that psycopg never prepares anything on its
#: own; only an explicit request (ours) does.
_EXPLICIT_ONLY = 1 << 30

#: Raw connections whose session lost a prepared statement: they use ordinary cursors from then on.
_not_preparing: weakref.WeakSet[Any] = weakref.WeakSet()
_cursor_class: Any = None


def _preparing_cursor_class() -> Any:
    """psycopg's server-binding cursor, asking for each statement it executes to be prepared (built on first use,
    so that nothing imports psycopg on a SQLite-only install)."""
    global _cursor_class
    if _cursor_class is None:
        import psycopg

        class PreparingCursor(psycopg.Cursor):  # type: ignore[type-arg]
            """Executes with ``prepare=True``, and ``binary=binary_rows`` (Django's cursor wrapper passes only the
            SQL and parameters)."""

            __slots__ = ("binary_rows",)
            binary_rows: bool

            def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                        binary: bool | None = None) -> Any:
                try:
                    return super().execute(query, params, prepare=True if prepare is None else prepare,
                                           binary=self.binary_rows if binary is None else binary)
                finally:
                    # psycopg leaves ``_query`` unset for a prepared execution (and never reads it); Django's
                    # query log (DEBUG, CaptureQueriesContext) reads it for the SQL it shows: the statement with
                    # its values.
                    self._query = _ShownQuery(self.connection, query, params)  # type: ignore[assignment]

        _cursor_class = PreparingCursor
    return _cursor_class


class _ShownQuery:
    """What Django's query log shows for one of our executions: the SQL with its values in, composed only when
    something reads it."""

    __slots__ = ("connection", "params", "sql")

    def __init__(self, connection: Any, sql: str, params: Any) -> None:
        self.connection, self.sql, self.params = connection, sql, params

    @property
    def query(self) -> bytes:
        import psycopg

        return psycopg.ClientCursor(self.connection).mogrify(self.sql, self.params).encode()


def _cursor(connection: Any, raw: Any) -> Any:
    """The preparing cursor of ``raw``: made on first use and kept on the connection (so it goes with it), reading
    timestamps in the connection's time zone as Django's own cursors do (they register a loader only when the
    connection's disagrees). Reused: a cursor cost more to make than to execute a prepared statement with."""
    kept = getattr(raw, "_insignia_preparing_cursor", None)
    if kept is not None and kept[1] == connection.timezone and not kept[0].closed:
        return kept[0]
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    cursor = _preparing_cursor_class()(raw)
    cursor.binary_rows = False
    loader = raw.adapters.get_loader(raw.adapters.types["timestamptz"].oid, Format.TEXT)
    if connection.timezone != loader.timezone:
        register_tzloader(connection.timezone, cursor)
    raw._insignia_preparing_cursor = (cursor, connection.timezone)
    return cursor


def _plain_fetch_one(connection: Any, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _lost_statement(error: BaseException) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) == INVALID_STATEMENT_NAME


@async_unsafe
def fetch_one(sql: str, params: Sequence[Any], *, binary: bool = False,
              using: str = DEFAULT_DB_ALIAS) -> tuple[Any, ...] | None:
    """The first row of ``sql`` (Django's ``%s`` placeholders) with ``params``, or None; prepared on PostgreSQL.

    Meant for fixed statements run on every request: each distinct text is prepared once per connection (psycopg
    keeps at most ``prepared_max`` of them, least recently used out). Rows are as an ordinary cursor gives them;
    with ``binary`` (PostgreSQL only), the row comes in PostgreSQL's binary format, read in a third of the time
    (timestamps most), with psycopg's own loaders rather than the ones Django registers for text: only for
    statements whose columns are numbers, text, booleans and timestamps (a timestamp then carries the session's
    time zone, which Django sets: UTC with ``USE_TZ``), not JSON (psycopg would parse it) or network addresses.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return _plain_fetch_one(connection, sql, params)
    # What Django's ``connection.cursor()`` does, with our cursor in place of a new client-binding one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw in _not_preparing:
        return _plain_fetch_one(connection, sql, params)
    with connection.wrap_database_errors:
        cursor = _cursor(connection, raw)
    cursor.binary_rows = binary
    connection.validate_thread_sharing()
    wrapped = connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)
    threshold = raw.prepare_threshold
    if threshold is None:
        raw.prepare_threshold = _EXPLICIT_ONLY
    try:
        # Not closed after use (it is kept); its last result is replaced by the next execution.
        wrapped.execute(sql, params)
        return wrapped.fetchone()
    except DatabaseError as error:
        if not _lost_statement(error) or connection.in_atomic_block:
            raise
        _not_preparing.add(raw)
    finally:
        if threshold is None:
            raw.prepare_threshold = None
    return _plain_fetch_one(connection, sql, params)
