"""Keeping a serving process's threads on one CPU, so the GIL changes hands on one core.

Why: only one thread runs Python at a time, yet the gateway hands every request from its event
loop to a worker thread and back, and the pumps (dispatcher, scheduler, flushes) run on threads
of their own. With those threads spread over several cores, each hand-over of the GIL wakes a
thread on another core, which then waits for the GIL while the first one runs on: the process
spent ~550 µs of CPU per request for a route reading one item on the project's 2-core machine,
~205 µs on one core, and served ~1,900 requests/s against ~4,900 (docs/benchmarks.md). Little is
lost: Python code runs on one core at a time anyway, and the C code that releases the GIL
(SQLite, hashing, image resizing) shares that core instead of running beside it.

``stratus up`` pins itself unless told ``--all-cpus``. Linux only; elsewhere nothing changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_TASKS = Path("/proc/self/task")


def supported() -> bool:
    """Whether this platform lets a process choose its CPUs (Linux)."""
    return hasattr(os, "sched_setaffinity") and _TASKS.is_dir()


def allowed_cpus() -> set[int]:
    """The CPUs the calling thread may run on now."""
    if not hasattr(os, "sched_getaffinity"):
        return set(range(os.cpu_count() or 1))
    return set(os.sched_getaffinity(0))


def pin_to_one_cpu(cpu: int | None = None) -> int | None:
    """Bind every thread of this process, and those it starts later, to ``cpu`` (default: the highest
    allowed, as the lowest ones take most interrupts). Returns the CPU, or None where CPUs can't be
    chosen or only one is allowed anyway."""
    if not supported():
        return None
    allowed = allowed_cpus()
    if cpu is None:
        if len(allowed) < 2:
            return None
        cpu = max(allowed)
    if cpu not in allowed:
        raise ValueError(f"CPU {cpu} is not one this process may use ({sorted(allowed)})")
    _set_all({cpu})
    return cpu


@contextmanager
def pinned_to_one_cpu(cpu: int | None = None) -> Iterator[int | None]:
    """:func:`pin_to_one_cpu` for a block; every thread's CPUs are as before afterwards (benchmarks
    pin a server for a while inside a process that goes on with other work)."""
    before = allowed_cpus()
    chosen = pin_to_one_cpu(cpu)
    try:
        yield chosen
    finally:
        if chosen is not None:
            _set_all(before)


def _set_all(cpus: set[int]) -> None:
    # sched_setaffinity(0) changes the calling thread only (and the threads it starts later): set the
    # caller first, then every other thread that exists already.
    os.sched_setaffinity(0, cpus)
    for task in _TASKS.iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except (ProcessLookupError, ValueError):  # a thread that ended meanwhile
            continue
