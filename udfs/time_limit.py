"""A wall-clock limit on one call, so one pathological page cannot stall a task.

SIGALRM works only in a process's main thread, which is where PySpark runs Python UDF code; in
any other thread the limit is not enforced (and the caller's size caps still bound the work).
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class TimeLimitExceeded(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _expire(signum, frame):
        raise TimeLimitExceeded(f"exceeded {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
