"""Run every benchmark module (or those named on the command line) and print one table.

python -m bench                 # all
python -m bench table bucket    # bench_table.py and bench_bucket.py only
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

from bench.common import Row, format_rows


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
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name}...", file=sys.stderr, flush=True)
        rows.extend(module.run())
    print(format_rows(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
