"""The per-document wall-clock limit."""
import threading
import time

import pytest

from corpusforge.udfs.time_limit import TimeLimitExceeded, time_limit


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_slow_call_is_interrupted():
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.05):
            spin(5)
    assert time.monotonic() - started < 1


def test_a_fast_call_passes_and_no_alarm_is_left_behind():
    with time_limit(0.05):
        spin(0.001)
    spin(0.1)  # a leftover timer would fire here


def test_an_earlier_signal_handler_is_restored():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.02):
            spin(1)
    assert signal.getsignal(signal.SIGALRM) is before


def test_outside_the_main_thread_the_limit_is_not_enforced_and_does_not_fail():
    outcome = []

    def work():
        with time_limit(0.01):
            spin(0.05)
        outcome.append("finished")

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert outcome == ["finished"]


def test_zero_means_no_limit():
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with time_limit(0):
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm was armed …
        assert signal.getsignal(signal.SIGALRM) is before          # … and no handler installed
        spin(0.05)
