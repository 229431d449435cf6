"""The production web server ``insignia serve`` runs: granian (default) or gunicorn (``INSIGNIA_SERVER``).

Why granian: measured with ``benchmarks/serving.py`` on two cores shared with wrk, its Rust HTTP layer costs a
fraction of gunicorn's per request (a hello-world app: ~100-140 µs of server CPU per request against
~650-720 µs for gunicorn's threaded workers), and the public documents are cheap enough that the server's own
cost was most of theirs (credential JSON: ~430-650 µs against ~830-1,730 µs). gunicorn stays selectable
(``INSIGNIA_SERVER=gunicorn``, with ``gunicorn_config``).

Worker model (both servers): one process per core (``INSIGNIA_WORKERS``), each running the application on
``INSIGNIA_THREADS`` threads (granian's "blocking threads"; its default of half the backpressure would be
hundreds of threads, each holding a database connection). Granian runs ``GRANIAN_THREADS`` by default: the
cached public pages are CPU-bound, and more threads per process only queue behind one GIL (measured on SQLite,
64 connections: the badge page's p99 21.5 ms with 2 threads, 25.1 ms with 4, for 10% less throughput; on
PostgreSQL no difference with the prepared page query). Each granian worker listens on its own socket
(SO_REUSEPORT, as gunicorn_config sets it up), so this launcher refuses a port something already listens on
rather than share it.

Per-worker services: :func:`start_worker_services` (the in-process job runner and periodic ticker when no
broker is configured, buffered engagement counts, ``gc.freeze``) and :func:`stop_worker_services` (flush the
buffered counts). gunicorn calls them from its worker hooks; under granian ``insignia.site.granian_app`` calls
the first when a worker loads the application and the second when the worker process exits.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import socket
import sys
import threading
from collections.abc import Sequence

#: Granian's blocking threads per worker process unless ``INSIGNIA_THREADS`` says otherwise.
GRANIAN_THREADS = 2

SERVERS = ("granian", "gunicorn")
DEFAULT_SERVER = "granian"
#: Seconds a stopping server waits for requests in flight before it kills its workers.
GRACEFUL_SECONDS = 20


def env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def chosen_server() -> str:
    """``INSIGNIA_SERVER`` (granian or gunicorn); an unknown name is refused rather than silently replaced."""
    name = (os.environ.get("INSIGNIA_SERVER", "") or DEFAULT_SERVER).strip().lower()
    if name not in SERVERS:
        raise SystemExit(f"INSIGNIA_SERVER={name!r}: choose one of {', '.join(SERVERS)}.")
    return name


def access_log_enabled() -> bool:
    return os.environ.get("INSIGNIA_ACCESS_LOG", "").lower() not in ("off", "0", "no", "false")


# == what each worker process runs beside the requests ==========================================================

_services = {"started": False, "stopped": False}
_services_lock = threading.Lock()


def start_worker_services() -> None:
    """Once per worker process, after the application is loaded: background jobs and periodic tasks in-process
    (no-op with a broker), engagement counts buffered and written in batches, on PostgreSQL a listener for
    committed changes (``core.changes``: cached public pages then skip their database query), and the loaded
    application moved out of the garbage collector's sight (a full collection would otherwise walk it and stall
    requests)."""
    from insignia.awards import engagement
    from insignia.core import changes
    from insignia.site import jobs

    with _services_lock:
        if _services["started"]:
            return
        _services["started"] = True
    jobs.start_in_process_runner()
    jobs.start_periodic_runner()
    engagement.enable_buffering()
    changes.start_listening()
    gc.freeze()


def stop_worker_services() -> None:
    """Once, as a worker process exits: write the engagement counts it buffered."""
    with _services_lock:
        if _services["stopped"] or not _services["started"]:
            return
        _services["stopped"] = True
    from insignia.awards import engagement

    engagement.disable_buffering()


# == granian ======================================================================================================


def refuse_a_port_in_use(host: str, port: int) -> None:
    """Exit when something listens on ``host:port`` already: with SO_REUSEPORT the kernel would otherwise let
    the new server share the port with it silently and split the connections between them."""
    for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                               flags=socket.AI_PASSIVE)[:1]:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # connections left in TIME_WAIT: fine
            try:
                probe.bind(sockaddr)
            except OSError as exc:
                raise SystemExit(f"{host}:{port} is in use ({exc}): is another server running there?") from exc


def granian_server(host: str, port: int, workers: int | None = None) -> object:
    """The granian server, configured from the INSIGNIA_* variables (see the README's table)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server import Server

    workers = workers or env_int("INSIGNIA_WORKERS", multiprocessing.cpu_count())
    threads = max(1, env_int("INSIGNIA_THREADS", GRANIAN_THREADS))
    return Server(
        "insignia.site.granian_app:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        websockets=False,
        http=HTTPModes.http1,  # plain HTTP/1.1 (what a proxy in front speaks; h2c would need prior knowledge)
        workers=workers,
        blocking_threads=threads,
        # Idle threads are kept (with their database connections) for the longest granian allows.
        blocking_threads_idle_timeout=600,
        backlog=2048,
        http1_settings=HTTP1Settings(keep_alive=True,
                                     header_read_timeout=1000 * max(1, env_int("INSIGNIA_KEEPALIVE", 5))),
        log_access=access_log_enabled(),
        workers_kill_timeout=GRACEFUL_SECONDS,
        respawn_failed_workers=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m insignia.site.server --host H --port P [--workers N]``: run granian in this process (the
    workers import the application themselves, so this process must not have loaded Django)."""
    parser = argparse.ArgumentParser(description="Run Insignia's production server (granian).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    if args.port:
        refuse_a_port_in_use(args.host, args.port)
    # Workers start as fresh interpreters, not forks of this process: a fork would inherit granian's signal
    # handlers of the main process, under which a SIGTERM that comes while the worker starts is swallowed
    # (the worker then serves on until it is killed at the end of the graceful period).
    multiprocessing.set_start_method("spawn", force=True)
    server = granian_server(args.host, args.port, args.workers)
    server.serve()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
