"""Atomic request counters for throttles and lockouts.

:func:`hit` counts one request in a fixed window that opens with the
first request for a key and lasts ``window`` seconds; it returns the
count including this request and the seconds until the window closes.
Every process and thread that shares the configured cache shares the
count, and no increment is lost however many arrive at once:

* Redis (``REDIS_URL``): one Lua script (INCR, then PEXPIRE if the key
  has no expiry, then PTTL), which Redis runs atomically.
* File-based cache (the one-machine default): Django's ``incr`` there is
  a read followed by a write, not atomic across processes, so the
  read-modify-write runs under an exclusive ``flock`` on one of a fixed
  set of lock files beside the cache files (the locks exclude threads
  too: each call opens its own file description).
* Local-memory cache (tests): a process-wide lock; that cache is
  per-process anyway.

Any other backend gets the process-wide lock only, and a warning: its
counts are exact per process but not across processes.

A fixed window can admit up to twice the rate across a window boundary
(the end of one window and the start of the next); over any run of whole
windows it admits exactly the rate.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.cache import BaseCache, caches
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.files import locks

logger = logging.getLogger(__name__)

KEY_PREFIX = "baton:rate:"
LOCK_STRIPES = 64

_process_lock = threading.Lock()
_warned: set[str] = set()

# KEYS[1]: the counter; ARGV[1]: the window in milliseconds.
_REDIS_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True)
class Hit:
    """One counted request: ``count`` requests so far in the window (this
    one included); the window closes in ``remaining`` seconds."""

    count: int
    remaining: float

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window closes (at least 1), for
        ``Retry-After``."""
        return max(1, math.ceil(self.remaining))


def hit(key: str, window: int, *, using: str = "default") -> Hit:
    """Count one request for ``key`` in its current ``window``-second
    window (see the module docstring for how each cache makes it atomic).
    """
    if window <= 0:
        raise ValueError("window must be positive")
    backend = caches[using]
    name = KEY_PREFIX + key
    if isinstance(backend, RedisCache):
        return _hit_redis(backend, name, window)
    if isinstance(backend, FileBasedCache):
        with _file_lock(backend, name):
            return _hit_locked(backend, name, window)
    if not isinstance(backend, LocMemCache):
        _warn_once(backend)
    with _process_lock:
        return _hit_locked(backend, name, window)


def _hit_redis(backend: RedisCache, name: str, window: int) -> Hit:
    key = backend.make_and_validate_key(name)
    client: Any = backend._cache.get_client(key, write=True)  # type: ignore[attr-defined]
    count, ttl_ms = client.eval(_REDIS_HIT, 1, key, window * 1000)
    return Hit(count=int(count), remaining=int(ttl_ms) / 1000)


def _hit_locked(backend: BaseCache, name: str, window: int) -> Hit:
    """Read-modify-write of ``(window start, count)``; the caller holds a
    lock that every writer of ``name`` takes."""
    now = time.time()
    value = backend.get(name)
    start, count = now, 0
    if (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], float)
        and isinstance(value[1], int)
        and value[0] <= now < value[0] + window
    ):
        start, count = value
    count += 1
    remaining = start + window - now
    backend.set(name, (start, count), timeout=max(1, math.ceil(remaining)))
    return Hit(count=count, remaining=remaining)


@contextmanager
def _file_lock(backend: FileBasedCache, name: str) -> Iterator[None]:
    directory = Path(backend._dir) / "locks"  # type: ignore[attr-defined]
    stripe = zlib.crc32(name.encode()) % LOCK_STRIPES
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{stripe}.lock", "a+b") as handle:
        locks.lock(handle, locks.LOCK_EX)
        try:
            yield
        finally:
            locks.unlock(handle)


def _warn_once(backend: BaseCache) -> None:
    kind = type(backend).__name__
    if kind not in _warned:
        _warned.add(kind)
        logger.warning(
            "Rate limits count per process with the %s cache: use Redis or "
            "the file-based cache for counts shared by all processes.",
            kind,
        )
