"""gunicorn settings and hooks for the production server when ``INSIGNIA_SERVER=gunicorn`` (``insignia serve``
runs granian by default: see ``insignia.site.server``).

Worker model (measured with ``benchmarks/serving.py`` on 2 cores): threaded workers (``gthread``) keep
connections alive between requests, which sync workers cannot, and a load balancer or load tool reuses
them; one process per core, each with a few threads, which keep it busy while one of them waits on the
database (a third process on two cores only added scheduling: p99 went up, requests/s did not). Each worker
listens on its own socket (``reuse_port``, below). Every value here can be overridden on the gunicorn command
line or with the environment variables below.

Hooks: each worker starts the in-process job runner and periodic ticker (when no broker is configured) and
buffers engagement counts (``insignia.awards.engagement``), flushing them when it exits.

Latency: a worker's heartbeat file lives in memory (``/dev/shm``) where there is one, since gunicorn touches it
on every turn of its loop and on a disk-backed ``/tmp`` that can block for a fraction of a millisecond; and
the objects that live as long as the worker (Django, the URL map, templates, JSON-LD contexts, the verifier)
are moved out of the garbage collector's sight (``gc.freeze``) once loaded and again once warm, so that a full
collection, which would otherwise walk them all and stall every request of the worker for tens of
milliseconds, stays short.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import socket
import sys
from typing import Any


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


worker_class = os.environ.get("INSIGNIA_WORKER_CLASS", "gthread")
workers = _int("INSIGNIA_WORKERS", multiprocessing.cpu_count())
threads = _int("INSIGNIA_THREADS", 4)
#: Keep idle client connections open a little while (browsers, proxies and load tools reuse them).
keepalive = _int("INSIGNIA_KEEPALIVE", 5)
backlog = 2048
#: Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new connections over them. With
#: one shared socket, the worker that wakes first accepts nearly all of a burst of connections, and kept-alive
#: connections stay where they were accepted: measured with wrk, 62 of 64 connections on one of three workers,
#: which then had one core for everything. Linux only (elsewhere the option does not spread connections).
reuse_port = sys.platform == "linux" and os.environ.get("INSIGNIA_REUSE_PORT", "1") != "0"
#: The access log costs a write per request; INSIGNIA_ACCESS_LOG=off turns it off (e.g. behind a proxy that logs).
accesslog = None if os.environ.get("INSIGNIA_ACCESS_LOG", "").lower() in ("off", "0", "no", "false") else "-"
#: The worker heartbeat file, touched on every turn of a worker's loop: in memory, not on disk, where possible
#: (gunicorn makes it with mkstemp and unlinks it at once, so a shared directory is safe).
_SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = _SHM if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK) else None


def on_starting(server: Any) -> None:
    """SO_REUSEPORT only where it spreads connections: plain TCP addresses with a fixed port that this server
    binds itself (not a Unix socket, not port 0, not sockets handed over by systemd or a re-exec); and, since
    the option would otherwise let a second server share the port silently, refuse a port already listened on."""
    if not server.cfg.reuse_port:
        return
    addresses = server.cfg.address
    inherited = os.environ.get("LISTEN_FDS") or os.environ.get("GUNICORN_FD")
    if inherited or not all(isinstance(address, tuple) and address[1] for address in addresses):
        server.cfg.set("reuse_port", False)
        return
    from insignia.site.server import refuse_a_port_in_use

    for host, port in addresses:
        try:
            refuse_a_port_in_use(host, port)
        except SystemExit as exc:
            server.log.error("%s", exc.code)
            raise SystemExit(1) from exc


#: Requests after which a worker freezes what it holds by then (what its first requests loaded) as well.
FREEZE_AFTER_REQUESTS = 1000


def post_worker_init(worker: Any) -> None:
    """The job runner, the periodic ticker, buffered engagement counts and ``gc.freeze`` (shared with granian's
    workers: ``insignia.site.server.start_worker_services``)."""
    from insignia.site import server

    server.start_worker_services()


_TCP_CORK = getattr(socket, "TCP_CORK", None)


def _cork(sock: Any, on: bool) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not TCP, or closed already
        sock.setsockopt(socket.IPPROTO_TCP, _TCP_CORK, 1 if on else 0)


def pre_request(worker: Any, req: Any) -> None:
    """Hold the response's packets until it is complete (Linux TCP_CORK; undone in ``post_request``): gunicorn
    writes the status line and headers, then the body, and with TCP_NODELAY each write would be a packet of
    its own, which the client has to wake up for (measured: ~30% fewer requests/s for small responses)."""
    sock = getattr(getattr(req, "unreader", None), "sock", None)
    if _TCP_CORK is not None and sock is not None:
        _cork(sock, True)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    sock = getattr(resp, "sock", None)
    if _TCP_CORK is not None and sock is not None:
        _cork(sock, False)  # sends what is held, at once (else the kernel would after 200 ms)
    if worker.nr == FREEZE_AFTER_REQUESTS:  # warm now: templates, URL resolvers, caches of the verifier, …
        gc.freeze()


def worker_exit(server: Any, worker: Any) -> None:
    """Write the worker's buffered engagement counts before it goes."""
    from insignia.site import server as servers

    servers.stop_worker_services()
