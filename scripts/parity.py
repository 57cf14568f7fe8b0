"""Parity: run every port's conformance suite and print, per port, what passes on each adapter.

    .venv/bin/python scripts/parity.py            # all ports
    .venv/bin/python scripts/parity.py table queue  # some ports
    .venv/bin/python scripts/parity.py -- -x      # extra pytest arguments after "--"

Each suite under tests/ports/<kind>/ is parametrized by adapter id (``local``, ``aws`` on
moto, ``postgres``/``redis`` where they apply); a test that takes no adapter parameter runs
on the local runtime only and is counted as ``local``. The table shows passed/skipped/failed
per adapter; the exit status is 1 when any test failed.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTS = ROOT / "tests" / "ports"
ADAPTER_IDS = ("local", "aws", "postgres", "redis", "memory", "sqlite")


class Tally:
    """A pytest plugin counting outcomes per (port, adapter)."""

    def __init__(self) -> None:
        self.adapter_of: dict[str, str] = {}
        self.counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        for item in items:
            adapter = "local"
            callspec = getattr(item, "callspec", None)
            if callspec is not None:
                for value in callspec.params.values():
                    if isinstance(value, str) and value in ADAPTER_IDS:
                        adapter = value
                        break
            self.adapter_of[item.nodeid] = adapter

    def pytest_runtest_logreport(self, report: Any) -> None:
        parts = Path(report.nodeid.split("::", 1)[0]).parts
        port = parts[parts.index("ports") + 1] if "ports" in parts else "?"
        adapter = self.adapter_of.get(report.nodeid, "local")
        counts = self.counts[(port, adapter)]
        if report.when == "call":
            counts[report.outcome] += 1
        elif report.outcome == "skipped":
            counts["skipped"] += 1
        elif report.outcome == "failed":
            counts["failed"] += 1  # an error in setup or teardown


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1 :]
    ports = argv or sorted(p.name for p in PORTS.iterdir() if p.is_dir() and any(p.glob("test_*.py")))
    paths = [str(PORTS / p) for p in ports]
    tally = Tally()
    started = time.monotonic()
    code = pytest.main(
        ["-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", "-m", "not slow", *extra, *paths],
        plugins=[tally],
    )
    elapsed = time.monotonic() - started

    adapters = [a for a in ADAPTER_IDS if any(key[1] == a for key in tally.counts)]
    header = f"{'port':<12}" + "".join(f"{a + ' pass/skip/fail':>26}" for a in adapters)
    print()
    print(header)
    print("-" * len(header))
    totals: dict[str, list[int]] = {a: [0, 0, 0] for a in adapters}
    for port in ports:
        cells = []
        for adapter in adapters:
            counts = tally.counts.get((port, adapter))
            if not counts:
                cells.append(f"{'-':>26}")
                continue
            numbers = [counts.get("passed", 0), counts.get("skipped", 0), counts.get("failed", 0)]
            totals[adapter] = [t + n for t, n in zip(totals[adapter], numbers, strict=True)]
            cells.append(f"{'/'.join(str(n) for n in numbers):>26}")
        print(f"{port:<12}" + "".join(cells))
    print("-" * len(header))
    print(f"{'total':<12}" + "".join(f"{'/'.join(str(n) for n in totals[a]):>26}" for a in adapters))
    print(f"\n{elapsed:.0f} s; a port without an aws column takes no adapter parameter yet (local runtime only).")
    return 0 if code in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
