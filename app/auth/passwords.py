"""Argon2id hashing (argon2-cffi), with a constant-time path for unknown users.

Hashing and verifying cost ~50 ms of CPU on several threads and 64 MiB each. On the request
path they run on a small pool of threads of their own (``ANJIAN_PASSWORD_HASH_CONCURRENCY``
per process; argon2-cffi releases the GIL), so a burst of sign-ins neither blocks the event
loop nor takes every core: the rest wait in the pool's queue, holding no database connection.
The pool's threads run at a lower CPU priority (nice +10; argon2's lane threads inherit it),
so on a busy host the event loop still gets the CPU it needs to answer other requests at once
(measured: /healthz p90 7 ms instead of 72 ms during 20 sign-ins on 2 loaded cores). It is not
anyio's shared worker pool, which also runs FastAPI's synchronous dependencies: those must not
be slowed. The synchronous functions stay for the command line and the demo loader.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
DEFAULT_CONCURRENCY = 2

T = TypeVar("T")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("dummy-password-for-timing")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Always does the same work, so timing does not reveal whether the user exists."""
    try:
        return (
            _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


HASHING_NICENESS = 10
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    """Linux priorities are per thread, and threads started from this one inherit it."""
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(
                os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + HASHING_NICENESS
            )
        except OSError:  # not permitted here: hashing still runs, at normal priority
            pass


def _hashing_pool(concurrency: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != concurrency:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(
                max_workers=concurrency, thread_name_prefix="argon2", initializer=_lower_priority
            )
            _pool_size = concurrency
        return _pool


async def in_hashing_thread(
    fn: Callable[..., T], *args: object, concurrency: int = DEFAULT_CONCURRENCY
) -> T:
    """Runs ``fn(*args)`` (a hash or a verify) on the hashing threads, at most ``concurrency``
    at once per process; waiting callers queue without blocking the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_hashing_pool(concurrency), partial(fn, *args))


async def hash_password_async(password: str, *, concurrency: int = DEFAULT_CONCURRENCY) -> str:
    return await in_hashing_thread(hash_password, password, concurrency=concurrency)


async def verify_password_async(
    password_hash: str | None, password: str, *, concurrency: int = DEFAULT_CONCURRENCY
) -> bool:
    return await in_hashing_thread(
        verify_password, password_hash, password, concurrency=concurrency
    )
