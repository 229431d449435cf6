"""The WSGI application as each granian worker process loads it (``insignia.site.server`` names it).

granian has no worker hooks as gunicorn has, but every worker (a fresh interpreter: ``server.main`` has them
spawned, not forked) imports its application target itself, once, after it started: so importing this module
*is* the worker's start (:func:`server.start_worker_services`), and a ``multiprocessing`` finalizer, which
runs as the worker process exits after its last request (on SIGTERM or SIGINT from the main process), is its
end (:func:`server.stop_worker_services`: buffered engagement counts are written). ``atexit`` does the same
should a worker ever be forked (a forked process leaves without running ``atexit``); the second call does
nothing.

Three differences from gunicorn are evened out here:

* a worker asked to stop while it still loads the application leaves at once (see ``_stop_while_loading``);
* granian copies the process environment into every request's ``environ`` (as CGI did): the keys it added
  are taken out again, so ``request.META`` holds the request and nothing of the server's secrets
  (``DATABASE_URL``, ``INSIGNIA_SECRET_KEY``, …), as under gunicorn. The CGI keys a request sets itself
  (``PATH_INFO``, ``SERVER_NAME``, …) are never taken out, and a header (``HTTP_…``) only when it has the
  environment variable's very value (``HTTP_PROXY``, say, which no request should set anyway).
* the second ``gc.freeze`` once the worker is warm (``gunicorn_config.post_request`` does it after
  ``FREEZE_AFTER_REQUESTS`` requests) happens after as many requests here.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import multiprocessing.util
import os
import signal
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any


def _stop_while_loading(signum: int, frame: FrameType | None) -> None:
    """A stop asked for while this worker still loads: leave at once (it serves nothing yet). Otherwise the
    handler the worker inherited from granian's main process would swallow the signal, and the worker, once
    loaded, would serve until the main process kills it (``GRACEFUL_SECONDS`` later) with requests in flight."""
    raise SystemExit(0)


for _signal in (signal.SIGTERM, signal.SIGINT):
    signal.signal(_signal, _stop_while_loading)  # granian sets its own once the application is loaded

from insignia.site import server  # noqa: E402 (after the handlers, which must cover loading Django)
from insignia.site.wsgi import application as django_application  # noqa: E402

#: Requests after which a worker freezes what it holds by then (what its first requests loaded) as well.
FREEZE_AFTER_REQUESTS = 1000

#: Keys every request sets itself (an environment variable of that name is overwritten by the request's value).
_REQUEST_KEYS = frozenset({
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "CONTENT_LENGTH",
    "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_HOST",
    "GATEWAY_INTERFACE", "SERVER_SOFTWARE", "RAW_URI", "REQUEST_URI",
})
#: The process environment as granian copies it into each request's environ, less the keys above.
_PROCESS_ENVIRONMENT = tuple((name, value) for name, value in os.environ.items()
                             if name not in _REQUEST_KEYS and not name.startswith("wsgi."))
_served = itertools.count(1)

StartResponse = Callable[..., Any]


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """Django's application, with the process environment taken out of ``environ`` first."""
    get = environ.get
    for name, value in _PROCESS_ENVIRONMENT:
        if get(name) == value:
            del environ[name]
    if next(_served) == FREEZE_AFTER_REQUESTS:  # warm now: templates, URL resolvers, caches of the verifier, …
        gc.freeze()
    return django_application(environ, start_response)


server.start_worker_services()
multiprocessing.util.Finalize(None, server.stop_worker_services, exitpriority=100)
atexit.register(server.stop_worker_services)
