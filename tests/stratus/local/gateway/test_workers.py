"""The gateway's worker threads: results, errors, concurrency, cancellation and closing."""

from __future__ import annotations

import asyncio
import threading

import pytest

from stratus.local.gateway.workers import Workers


def test_a_call_runs_off_the_loop_and_returns_its_result() -> None:
    workers = Workers(2)

    async def main() -> tuple[int, int]:
        return await workers.run(threading.get_ident), threading.get_ident()

    worker_thread, loop_thread = asyncio.run(main())
    assert worker_thread != loop_thread
    workers.close()


def test_an_exception_reaches_the_awaiting_coroutine() -> None:
    workers = Workers(1)

    def fail() -> None:
        raise KeyError("missing")

    async def main() -> None:
        await workers.run(fail)

    with pytest.raises(KeyError, match="missing"):
        asyncio.run(main())
    workers.close()


def test_a_blocked_call_does_not_hold_up_the_next_one_while_workers_remain() -> None:
    workers = Workers(4)
    release = threading.Event()

    async def main() -> list[str]:
        blocked = asyncio.ensure_future(workers.run(lambda: "blocked" if release.wait(5) else "timed out"))
        quick = await asyncio.wait_for(workers.run(lambda: "quick"), 2)  # another thread starts for it
        release.set()
        return [quick, await blocked]

    assert asyncio.run(main()) == ["quick", "blocked"]
    workers.close()


def test_beyond_the_limit_calls_wait_for_a_free_worker() -> None:
    workers = Workers(1)
    order: list[int] = []

    async def main() -> None:
        await asyncio.gather(*(workers.run(lambda i=i: order.append(i)) for i in range(5)))

    asyncio.run(main())
    assert order == [0, 1, 2, 3, 4]  # one thread, first come first served
    assert len(workers._threads) == 1
    workers.close()


def test_a_cancelled_await_drops_the_result_and_the_worker_goes_on() -> None:
    workers = Workers(1)
    release = threading.Event()

    async def main() -> str:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await workers.run(lambda: release.wait(5))
        release.set()
        return await workers.run(lambda: "next")

    assert asyncio.run(main()) == "next"
    workers.close()


def test_closed_workers_refuse_new_calls_and_bad_sizes_are_refused() -> None:
    workers = Workers(1)
    workers.close()

    async def main() -> None:
        await workers.run(lambda: None)

    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(main())
    with pytest.raises(ValueError, match="max_workers"):
        Workers(0)
