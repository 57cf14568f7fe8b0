"""Run every benchmark module (or those named on the command line) and print one table.

python -m bench                 # all
python -m bench table bucket    # bench_table.py and bench_bucket.py only

Each module runs in an interpreter of its own, as its workload would in a process of its own: one
module's threads, heap and collector settings (a served gateway freezes the heap and raises the
collector's thresholds, as `stratus up` does) must not weigh on the next one's figures.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from bench.common import Figures, Row, format_rows

#: The argument with which a child interpreter runs one module and prints its rows as JSON.
ONE = "--one"


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    wanted = [f"bench_{a}" for a in argv] or names
    unknown = [w for w in wanted if w not in names]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    for name in wanted:
        print(f"running {name}...", file=sys.stderr, flush=True)
        rows.extend(_run_isolated(name))
    print(format_rows(rows))
    return 0


def _run_isolated(name: str) -> list[Row]:
    out = subprocess.run([sys.executable, "-m", "bench", ONE, name], stdout=subprocess.PIPE, text=True, check=True)
    return [_row(data) for data in json.loads(out.stdout.strip().splitlines()[-1])]


def _row(data: dict[str, object]) -> Row:
    figures = {k: Figures(**v) for k in ("stratus", "other") if isinstance(v := data[k], dict)}
    return Row(**{**data, "other": None, **figures})  # type: ignore[arg-type]


def _one(name: str) -> int:
    rows = importlib.import_module(f"bench.{name}").run()
    print(json.dumps([dataclasses.asdict(r) for r in rows]), flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == [ONE]:
        raise SystemExit(_one(sys.argv[2]))
    raise SystemExit(main(sys.argv[1:]))
