"""The platform's pool of signing processes for bulk issuing (``insignia.credentials.parallel``).

``INSIGNIA_SIGNING_PROCESSES`` sets how many worker processes sign beside the process that issues: by
default one fewer than the CPUs this process may use (at most 4), so on a 2-core machine one worker signs
while the issuing process writes to the database; 0 signs everything in the issuing process. The pool
starts on the first batch large enough to be split (``PART_SIZE`` credentials a part, two parts or more)
and stays for the life of the process.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings

from insignia.credentials.parallel import SigningPool, sign_in_parts

#: Credentials per part handed to a worker: small enough to keep both processes busy, large enough that
#: the pipe's cost (pickling ~2.5 KB documents both ways) stays a few per cent of the signing.
PART_SIZE = 100

_pool: SigningPool | None = None
_lock = threading.Lock()


def default_processes() -> int:
    """One fewer than the usable CPUs, at most 4 (0 on one CPU)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(0, min(cpus - 1, 4))


def pool() -> SigningPool | None:
    """The process's signing pool (None when configured off)."""
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                configured = int(getattr(settings, "SIGNING_PROCESSES", -1))
                _pool = SigningPool(default_processes() if configured < 0 else configured)
    return None if _pool.processes == 0 else _pool


__all__ = ["PART_SIZE", "pool", "sign_in_parts"]
