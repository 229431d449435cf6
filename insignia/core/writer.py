"""Database writes on a second thread, in the calling thread's connection and transaction.

A bulk job alternates between Python work (building the next part's award objects, waiting for signed
parts) and database work (COPY or INSERT of the awards and their side records). Done in one thread, each
waits for the other: PostgreSQL works while the process waits for it, and the process works while
PostgreSQL waits. ``ConnectionWriter`` runs the database work, in order, on a thread of its own that shares
the caller's connection, so the two overlap: psycopg and SQLite release the GIL while the database works.

The connection stays the caller's, and so does the transaction: the writer thread is handed the caller's
``DatabaseWrapper`` (Django allows this with ``inc_thread_sharing``). The caller must not use the database
between ``ConnectionWriter()`` and ``close()``; it hands every database step to ``submit`` instead. An error in
a step is raised by the next ``submit`` or by ``close``; the steps after it are skipped, so nothing runs on a
failed transaction, and the caller's ``atomic`` block rolls everything back as it would without the thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from contextlib import suppress
from types import TracebackType

from django.db import DEFAULT_DB_ALIAS, connections

#: Steps waiting for the writer at most: enough to keep it busy, few enough to bound the memory held.
MAX_WAITING = 2


class ConnectionWriter:
    """Runs submitted steps one after another on a second thread, on this thread's database connection."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS, *, name: str = "db-writer") -> None:
        self.using = using
        self.wrapper = connections[using]
        self.wrapper.inc_thread_sharing()
        self.error: BaseException | None = None
        self._steps: queue.Queue[Callable[[], object] | None] = queue.Queue(maxsize=MAX_WAITING)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connections[self.using] = self.wrapper  # this thread's ``connection`` is the caller's
        while True:
            step = self._steps.get()
            if step is None:
                return
            if self.error is None:  # after a failure, drain without running anything
                try:
                    step()
                except BaseException as exc:  # handed to the caller, who raises it
                    self.error = exc

    def submit(self, step: Callable[[], object]) -> None:
        """Queue ``step`` (waits while ``MAX_WAITING`` steps are queued); raises an earlier step's error."""
        if self.error is not None:
            raise self.error
        self._steps.put(step)

    def close(self) -> None:
        """Wait for every queued step, give the connection back to this thread alone; raise a step's error."""
        if not self._closed:
            self._closed = True
            self._steps.put(None)
            self._thread.join()
            self.wrapper.dec_thread_sharing()
        if self.error is not None:
            raise self.error

    def __enter__(self) -> ConnectionWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if exc is None:
            self.close()
            return
        with suppress(BaseException):  # already failing: stop the thread, but let the first error propagate
            self.close()
