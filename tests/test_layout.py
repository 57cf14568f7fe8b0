"""The suite's own layout: test modules need distinct file names (pytest imports them by basename)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def test_test_module_names_are_unique() -> None:
    root = Path(__file__).parent
    names = Counter(p.name for p in root.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
