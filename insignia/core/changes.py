"""Committed changes to the tables public pages are made from, heard by every process (PostgreSQL LISTEN/NOTIFY).

Why: a cached public page still asked PostgreSQL on every request whether anything it shows had changed (one
prepared one-row query). Under load on a small machine that round trip was most of the page's cost, and worse,
its tail: a PostgreSQL backend preempted while holding a spinlock stalls the others for up to a second (measured
on two cores shared with the load generator: p50 9 ms, p99 21-83 ms, single queries of 0.1-4 s). With the rows
kept in the process (:class:`RowMemo`) the page answered 15,000 requests/s at p99 10 ms on the same machine.

How the rows stay right: triggers (migration ``awards/0009``) send ``NOTIFY insignia_changed`` from every
transaction that updates or deletes a row of those tables (or adds a signing key); PostgreSQL delivers it to
every listening session once the transaction has committed and its changes are visible. Each server process runs
one :class:`ChangeListener` thread on its own connection; every notification, every (re)connection and every
loss of the connection moves its ``generation`` on, and a :class:`RowMemo` forgets all it holds whenever the
generation moved. While the listener is not connected and listening, memos hold nothing and every lookup asks
the database, as before. What a process may show after a change committed elsewhere is therefore at most as
old as the notification's delivery (normally a millisecond).

On SQLite there is nothing to listen to, and nothing needed: the database is a file on this machine, and
each connection can tell cheaply whether the file changed. A memo keeps rows per thread (each thread has its
own connection) under a stamp read before each lookup: ``PRAGMA data_version`` (moves when another connection,
in any process, commits) and the connection's ``total_changes`` (moves with its own writes). A stamp that
moved empties that thread's memo; so a change shows on the very next request, in every process.

Not used inside a transaction (the caller may see its own uncommitted writes, which no notification announces:
every test case runs in one), and on PostgreSQL not when ``INSIGNIA_LISTEN_FOR_CHANGES`` is off (needed behind a
transaction-mode connection pooler, where a session's LISTEN does not outlive the transaction).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger(__name__)

#: The channel the triggers notify (one per database, as PostgreSQL scopes channels).
CHANNEL = "insignia_changed"
#: Seconds between checks that the listening connection still answers (a silent one would hear nothing).
PING_SECONDS = 5.0
#: Seconds the thread waits for notifications before it looks whether it should stop.
WAKE_SECONDS = 0.25
#: Seconds to wait before reconnecting after the connection was lost, doubled up to ``MAX_BACKOFF_SECONDS``.
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
#: libpq settings (unless the deployment's OPTIONS set them): a name to tell the connection by in
#: ``pg_stat_activity``, and noticing a dead server or network (not only a closed socket) within seconds.
_KEEPALIVE = {"application_name": "insignia-changes", "keepalives": 1, "keepalives_idle": 10,
              "keepalives_interval": 5, "keepalives_count": 3, "tcp_user_timeout": 15_000}


class ChangeListener:
    """One thread per process listening on ``CHANNEL``; ``live_generation()`` is what memos compare against."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.using = using
        self._generation = 0
        self._live = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Set each time the listener has (re)started listening; tests wait on it.
        self.listening = threading.Event()

    # -- what readers use -----------------------------------------------------------------------------------------

    def live_generation(self) -> int | None:
        """The current generation while listening, else None (then nothing may be kept)."""
        return self._generation if self._live else None

    # -- the thread -----------------------------------------------------------------------------------------------

    def start(self) -> bool:
        """Start listening in a daemon thread (once); False when there is nothing to listen to."""
        if connections[self.using].vendor != "postgresql":
            return False
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return True
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="insignia-changes", daemon=True)
            self._thread.start()
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening (memos stop keeping rows at once) and wait for the thread to end."""
        self._stop.set()
        self._moved(live=False)
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._thread = None

    def _moved(self, *, live: bool | None = None) -> None:
        with self._lock:
            self._generation += 1
            if live is not None:
                self._live = live
                if not live:
                    self.listening.clear()

    def _connect(self) -> Any:
        import psycopg

        params = connections[self.using].get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("pool", None)
        for name, value in _KEEPALIVE.items():
            params.setdefault(name, value)
        return psycopg.Connection.connect(**params, autocommit=True)

    def _run(self) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    # Changes committed before LISTEN were never announced: moving on forgets what memos hold.
                    self._moved(live=True)
                    self.listening.set()
                    backoff = FIRST_BACKOFF_SECONDS
                    pinged = time.monotonic()
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=WAKE_SECONDS):
                            self._moved()
                        if time.monotonic() - pinged >= PING_SECONDS:
                            connection.execute("SELECT 1")
                            pinged = time.monotonic()
            except Exception:  # the database went away, refused us, or the network broke: keep trying
                if not self._stop.is_set():
                    log.warning("listening for changes failed; retrying in %.1f s", backoff, exc_info=True)
            finally:
                self._moved(live=False)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


listener = ChangeListener()

_MISSING = object()


class RowMemo:
    """Rows of a one-row query by key, kept in this process while ``listener`` hears every change, or on SQLite
    per thread while the file is unchanged (see the module's docstring); at most ``size`` of them (the oldest
    stored goes first). ``None`` (no row) is never kept, so a row added later is found at once."""

    def __init__(self, size: int, changes: ChangeListener | None = None) -> None:
        self.size = size
        self.changes = changes or listener
        self._rows: dict[Hashable, Any] = {}
        self._generation: int | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def get(self, key: Hashable, load: Callable[..., Any], *args: Any) -> Any:
        """``load(*args)``'s row, from the memo when it was loaded since the last change."""
        generation = self.changes.live_generation()
        if generation is None:
            connection = connections[self.changes.using]
            if connection.vendor == "sqlite" and not connection.in_atomic_block:
                return self._sqlite_get(connection, key, load, args)
            return load(*args)
        if connections[self.changes.using].in_atomic_block:
            return load(*args)
        if self._generation == generation:
            row = self._rows.get(key, _MISSING)
            if row is not _MISSING:
                return row
        row = load(*args)
        if row is not None:
            self._keep(key, row, generation)
        return row

    def _keep(self, key: Hashable, row: Any, generation: int) -> None:
        with self._lock:
            # Only a row read entirely after the last change may be kept: had one been announced meanwhile, the
            # generation would have moved on (it is read again here, after the query).
            if self.changes.live_generation() != generation:
                return
            if self._generation != generation:
                self._rows = {}
                self._generation = generation
            self._put(self._rows, key, row)

    def _sqlite_get(self, connection: Any, key: Hashable, load: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """SQLite: rows kept per thread (each has its connection) while the database file is unchanged: no
        commit by another connection (``PRAGMA data_version``, read from shared memory, ~µs) nor any change by
        this one (``total_changes``). The stamp is read before the row: a commit in between changes the next."""
        connection.ensure_connection()
        raw = connection.connection
        stamp = (raw.execute("PRAGMA data_version").fetchone()[0], raw.total_changes)
        local = self._local
        # The connection itself is kept and compared (not its id, which a new one could reuse): a new connection's
        # stamp says nothing of what changed before it opened.
        if getattr(local, "raw", None) is not raw or local.stamp != stamp:
            local.raw, local.stamp, local.rows = raw, stamp, {}
        rows: dict[Hashable, Any] = local.rows
        row = rows.get(key, _MISSING)
        if row is not _MISSING:
            return row
        row = load(*args)
        if row is not None:
            self._put(rows, key, row)
        return row

    def _put(self, rows: dict[Hashable, Any], key: Hashable, row: Any) -> None:
        """Keep ``row``, the oldest kept going first when ``size`` are kept already."""
        if len(rows) >= self.size and key not in rows:
            del rows[next(iter(rows))]
        rows[key] = row

    def __len__(self) -> int:
        """Rows kept (PostgreSQL: for the process; SQLite: for this thread)."""
        if self._generation is not None and self._generation == self.changes.live_generation():
            return len(self._rows)
        return len(getattr(self._local, "rows", {}))


def start_listening() -> bool:
    """Start this process's listener when the settings ask for it (PostgreSQL only); whether it started."""
    if not getattr(settings, "LISTEN_FOR_CHANGES", True):
        return False
    return listener.start()
