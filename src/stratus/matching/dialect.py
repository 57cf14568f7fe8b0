"""Where EventBridge and SNS differ in the rule language they share.

Both services read the same JSON rule language, but SNS accepts less of it (no ``wildcard``, no
case-insensitive prefixes, ``anything-but`` only with plain values or one ``prefix``), compares numbers
over a smaller range with less precision, and words some errors differently. One compiler serves both,
consulting a :class:`Dialect`.
"""

from __future__ import annotations

from dataclasses import dataclass

from stratus.matching.numeric import EVENTBRIDGE_NUMBERS, SNS_NUMBERS, NumberSpace


@dataclass(frozen=True)
class Dialect:
    """What one service accepts in a field's value list."""

    name: str
    numbers: NumberSpace
    wildcard: bool
    ignore_case_affixes: bool  # {"prefix": {"equals-ignore-case": "..."}}
    anything_but_operators: frozenset[str]
    anything_but_affix_lists: bool  # {"anything-but": {"prefix": ["a", "b"]}}
    anything_but_affix_error: str


EVENTBRIDGE = Dialect(
    name="EventBridge",
    numbers=EVENTBRIDGE_NUMBERS,
    wildcard=True,
    ignore_case_affixes=True,
    anything_but_operators=frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"}),
    anything_but_affix_lists=True,
    anything_but_affix_error="prefix/suffix match pattern must be a string",
)

SNS = Dialect(
    name="SNS",
    numbers=SNS_NUMBERS,
    wildcard=False,
    ignore_case_affixes=False,
    anything_but_operators=frozenset({"prefix"}),
    anything_but_affix_lists=False,
    anything_but_affix_error="prefix match pattern must be a string",
)
