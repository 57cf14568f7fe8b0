"""Measuring helpers shared by every benchmark: timing, percentiles and the printed table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figures:
    """Throughput and latency of one measured operation."""

    ops: int
    seconds: float
    p50_us: float
    p99_us: float

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds else float("inf")


@dataclass
class Row:
    """One line of the report: Stratus's figures, and the alternative's (moto...) when there is one."""

    group: str
    name: str
    stratus: Figures
    other: Figures | None = None
    other_name: str = "moto"
    target: str = ""
    #: For rows that measure a duration rather than a rate: shown instead of ops/s.
    seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.other is None or not self.other.ops_per_s:
            return None
        return self.stratus.ops_per_s / self.other.ops_per_s


def measure(op: Callable[[int], object], count: int, *, warmup: int = 50, max_seconds: float = 10.0) -> Figures:
    """Call ``op(i)`` ``count`` times (stopping early after ``max_seconds``), timing each call."""
    for i in range(min(warmup, count)):
        op(i)
    latencies: list[float] = []
    clock = time.perf_counter
    start = clock()
    deadline = start + max_seconds
    for i in range(count):
        t0 = clock()
        op(i)
        t1 = clock()
        latencies.append(t1 - t0)
        if t1 > deadline:
            break
    total = clock() - start
    return summarize(latencies, total)


def summarize(latencies: list[float], total_seconds: float) -> Figures:
    """Figures from per-operation latencies (seconds) and the wall time they took."""
    if not latencies:
        return Figures(0, total_seconds, 0.0, 0.0)
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Figures(len(latencies), total_seconds, statistics.median(ordered) * 1e6, p99 * 1e6)


def format_rows(rows: list[Row]) -> str:
    """A Markdown table of the rows (printed, and pasted into docs/benchmarks.md)."""
    lines = [
        "| group | operation | stratus ops/s | p50 µs | p99 µs | other ops/s | ratio | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        other = f"{r.other.ops_per_s:,.0f} ({r.other_name})" if r.other else "—"
        ratio = f"{r.ratio:,.1f}x" if r.ratio is not None else "—"
        if r.seconds is not None:
            lines.append(f"| {r.group} | {r.name} | {r.seconds:.2f} s | — | — | — | — | {r.target} |")
            continue
        lines.append(
            f"| {r.group} | {r.name} | {r.stratus.ops_per_s:,.0f} | {r.stratus.p50_us:,.1f} | "
            f"{r.stratus.p99_us:,.1f} | {other} | {ratio} | {r.target} |"
        )
    return "\n".join(lines)
