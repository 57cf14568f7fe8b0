"""Pinning a serving process to one CPU: every thread, those started later, and back again."""

from __future__ import annotations

import os
import threading

import pytest

from stratus.local import affinity

pytestmark = pytest.mark.skipif(
    not affinity.supported() or len(affinity.allowed_cpus()) < 2, reason="needs Linux and at least two CPUs"
)


def test_every_thread_is_pinned_for_the_block_and_restored_after() -> None:
    before = affinity.allowed_cpus()
    seen: dict[str, set[int]] = {}
    go, done = threading.Event(), threading.Event()

    def existing() -> None:  # started before the pinning: must be pinned all the same
        go.wait(5)
        seen["existing"] = set(os.sched_getaffinity(0))
        done.set()

    thread = threading.Thread(target=existing)
    thread.start()
    with affinity.pinned_to_one_cpu() as cpu:
        assert cpu == max(before)
        assert affinity.allowed_cpus() == {cpu}
        go.set()
        done.wait(5)
        later = threading.Thread(target=lambda: seen.update(later=set(os.sched_getaffinity(0))))
        later.start()
        later.join()
    thread.join()
    assert seen == {"existing": {cpu}, "later": {cpu}}
    assert affinity.allowed_cpus() == before


def test_a_cpu_the_process_may_not_use_is_refused() -> None:
    with pytest.raises(ValueError, match="not one this process may use"):
        affinity.pin_to_one_cpu(max(affinity.allowed_cpus()) + 1000)
