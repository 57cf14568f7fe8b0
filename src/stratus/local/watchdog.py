"""Timeouts for handlers that run in the caller's thread.

Why: invoking a handler on a pool thread costs tens of microseconds, more than the whole
in-process invoke budget, so handlers run in the calling thread. A single watchdog thread
keeps the deadlines and, when one passes, raises :class:`HandlerTimedOut` inside the
handler's thread (CPython's ``PyThreadState_SetAsyncExc``). The exception arrives at the
next Python bytecode, so a handler blocked inside a C call is interrupted when it returns;
``asyncio`` handlers are timed out by ``asyncio.wait_for`` instead.

An exception that can arrive at any bytecode must not arrive while a thread begins, runs or
ends a transaction on a shared SQLite connection: one raised between ``BEGIN`` and the code
that would roll it back leaves the connection inside a transaction nobody owns, and every
later ``BEGIN`` on it fails ("cannot start a transaction within a transaction"). Such code
runs inside :func:`uninterrupted`; a deadline that passes meanwhile is delivered as soon as
the thread leaves it.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Two prototypes of the same C function: one raises an exception object, one (NULL) clears it.
_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)
_clear_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)


#: How late a timeout may fire: the watchdog checks deadlines this often while any is armed.
TICK = 0.05


class HandlerTimedOut(BaseException):  # BaseException: a handler's `except Exception` must not swallow it
    """Raised inside a handler's thread when its deadline passes."""


def _clear_pending(thread_id: int) -> None:
    _clear_async_exc(thread_id, None)


#: Threads inside :func:`uninterrupted` sections (thread id -> nesting depth), for every Watchdog.
_critical: dict[int, int] = {}
#: Timeouts raised into a thread that it may not have seen yet (thread id -> (watchdog, token)).
_raised: dict[int, tuple[Watchdog, int]] = {}
#: Held while a timeout is checked against :data:`_critical` and raised, so that a thread entering
#: a section can wait for a raise already under way to be complete (and then take it back).
_guard = threading.Lock()


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A section no handler timeout interrupts; one that falls due inside it is delivered after it.

    Entering takes back a timeout raised into this thread that has not surfaced yet (it is
    delivered again after the section), so none can surface inside.
    """
    thread_id = threading.get_ident()
    # An exception surfacing in .get() leaves nothing behind; none can surface between the
    # store and the try (no bytecode there checks for pending exceptions).
    _critical[thread_id] = _critical.get(thread_id, 0) + 1
    try:
        with _guard:
            late = _raised.pop(thread_id, None)
        if late is not None:
            _clear_pending(thread_id)
            late[0]._deliver_again(late[1], thread_id)
        yield
    finally:
        depth = _critical[thread_id] - 1
        if depth:
            _critical[thread_id] = depth
        else:
            del _critical[thread_id]


class Watchdog:
    """Deadlines for running handlers, enforced from one background thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._armed: dict[int, tuple[float, int]] = {}  # token -> (deadline, thread id)
        self._fired: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def arm(self, seconds: float) -> int:
        """Start a deadline ``seconds`` from now for the calling thread; returns a token."""
        deadline = time.monotonic() + seconds
        with self._lock:
            token = next(self._tokens)
            self._armed[token] = (deadline, threading.get_ident())
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stratus-watchdog", daemon=True)
                self._thread.start()
        return token

    def disarm(self, token: int) -> bool:
        """End a deadline; returns True if it had already fired (a pending timeout is cancelled)."""
        with self._lock:
            entry = self._armed.pop(token, None)
            if token in self._fired:
                self._fired.discard(token)
                with _guard:
                    if _raised.get(threading.get_ident()) == (self, token):
                        del _raised[threading.get_ident()]
                if entry is None:
                    _clear_pending(threading.get_ident())
                return True
            return False

    def _deliver_again(self, token: int, thread_id: int) -> None:
        """Re-arm a timeout that was taken back before it surfaced (it is due at once)."""
        with self._lock:
            self._fired.discard(token)
            self._armed[token] = (time.monotonic(), thread_id)
            self._wake.notify()

    def _run(self) -> None:
        # The thread polls on a short tick, always, and scans the deadlines armed now (as many as
        # invocations in flight) instead of keeping them in a heap: arming is one dict insert and never
        # wakes this thread (a thread switch per invocation cost more than the tick when idle).
        with self._lock:
            while not self._stopped:
                now = time.monotonic()
                due = [(token, thread_id) for token, (deadline, thread_id) in self._armed.items() if deadline <= now]
                for token, thread_id in due:
                    with _guard:
                        if _critical.get(thread_id):
                            # Inside an uninterrupted section: look again on the next tick.
                            self._armed[token] = (now + TICK, thread_id)
                            continue
                        del self._armed[token]
                        self._fired.add(token)
                        _raised[thread_id] = (self, token)
                        _set_async_exc(thread_id, HandlerTimedOut)
                self._wake.wait(TICK)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._wake.notify()
