"""EventBridge ``wildcard`` values: parsing, AWS's validation rules, matching and the complexity limit.

A wildcard value is UTF-8 text where ``*`` matches any run of characters (including none), ``\\*`` is a
literal star and ``\\\\`` a literal backslash; any other escape, and two stars in a row, are rejected with
the byte position AWS reports (positions count the opening quote EventBridge adds, as AWS's messages do).

AWS also rejects rules whose wildcards make matching too non-deterministic ("Rule is too complex ...").
EventBridge measures this as the largest number of wildcard-pattern states one input could keep alive at
once. :func:`complexity` computes that for the wildcard values on one field by exploring the subset
construction of their automaton over the bytes that matter; :data:`MAX_COMPLEXITY` is the bound that
reproduces AWS's accept/reject decisions recorded in the conformance corpus. :mod:`fnmatch` and :mod:`re`
do not validate like AWS or measure complexity, so this is hand-written; matching itself compiles to
:mod:`re`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from stratus.matching.errors import PatternError

STAR = -1
#: Largest accepted complexity: `/Users/*/dir/dir/dir/dir/dir/doc.txt` (accepted by AWS) scores 8,
#: `*:*:*:*:*:event-bus/*` (rejected) scores 11.
MAX_COMPLEXITY = 10

_TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences "
    "after a wildcard character"
)


def parse(value: str) -> list[int]:
    """The pattern as bytes and :data:`STAR` tokens, including EventBridge's enclosing quotes."""
    data = ('"' + value + '"').encode("utf-8")
    tokens: list[int] = []
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x2A:  # *
            if i + 1 < len(data) and data[i + 1] == 0x2A:
                raise PatternError(f"Consecutive wildcard characters at pos {i}")
            tokens.append(STAR)
        elif b == 0x5C:  # backslash
            if i + 1 < len(data) - 1 and data[i + 1] in (0x2A, 0x5C):
                tokens.append(data[i + 1])
                i += 2
                continue
            raise PatternError(f"Invalid escape character at pos {i}")
        else:
            tokens.append(b)
        i += 1
    return tokens


def compile_matcher(value: str) -> Callable[[str], bool]:
    """A predicate for string values, for an already validated wildcard ``value``."""
    parts: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\\":
            literal.append(value[i + 1])
            i += 2
            continue
        if c == "*":
            parts.append(re.escape("".join(literal)))
            literal = []
            parts.append(".*")
        else:
            literal.append(c)
        i += 1
    parts.append(re.escape("".join(literal)))
    if len(parts) == 1:
        exact = value.replace("\\*", "*").replace("\\\\", "\\")
        return exact.__eq__
    fullmatch = re.compile("".join(parts), re.DOTALL).fullmatch
    return lambda s: fullmatch(s) is not None


def complexity(patterns: Iterable[list[int]]) -> int:
    """The most wildcard-automaton states any single input keeps alive at once, over ``patterns``."""
    machines = [t for t in patterns if STAR in t]
    if not machines:
        return 0
    # One NFA: state (m, i) means pattern m has matched its first i tokens.
    alphabet = [*sorted({b for t in machines for b in t if b != STAR}), STAR]  # STAR: "any other byte"

    def closure(states: set[tuple[int, int]]) -> frozenset[tuple[int, int]]:
        out = set(states)
        todo = list(states)
        while todo:
            m, i = todo.pop()
            tokens = machines[m]
            if i < len(tokens) and tokens[i] == STAR and (m, i + 1) not in out:
                out.add((m, i + 1))
                todo.append((m, i + 1))
        return frozenset(out)

    def live(state: tuple[int, int]) -> bool:
        return state[1] < len(machines[state[0]])

    start = closure({(m, 0) for m in range(len(machines))})
    seen = {start}
    todo = [start]
    worst = 0
    while todo:
        current = todo.pop()
        for symbol in alphabet:
            nxt: set[tuple[int, int]] = set()
            for m, i in current:
                tokens = machines[m]
                if i >= len(tokens):
                    continue
                token = tokens[i]
                if token == STAR:
                    nxt.add((m, i))
                elif token == symbol:
                    nxt.add((m, i + 1))
            if not nxt:
                continue
            state = closure(nxt)
            size = sum(1 for s in state if live(s))
            worst = max(worst, size)
            if worst > MAX_COMPLEXITY:
                return worst
            if state not in seen:
                seen.add(state)
                todo.append(state)
    return worst


def check_complexity(patterns: Iterable[list[int]]) -> None:
    if complexity(patterns) > MAX_COMPLEXITY:
        raise PatternError(_TOO_COMPLEX)
