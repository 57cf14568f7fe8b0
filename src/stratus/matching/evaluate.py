"""Evaluating a compiled rule against flattened event values.

The fast path checks each field of an alternative against the flat values. Only when a value came from
inside an array and the alternative names several fields does the slow path run: it looks for one
choice of matching value per field whose array positions agree (the same element of every array they
share), which is how AWS treats arrays of objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stratus.matching.flatten import Membership, flatten, flatten_members
from stratus.matching.rules import Branch, CompiledRule


def rule_matches(rule: CompiledRule, event: dict[str, Any]) -> bool:
    flat, in_array = flatten(event, rule.trie)
    return branches_match(rule, flat, in_array, lambda: flatten_members(event, rule.trie))


def branches_match(
    rule: CompiledRule,
    flat: dict[str, list[Any]],
    in_array: bool,
    members: Callable[[], dict[str, list[tuple[Any, Membership]]]],
) -> bool:
    positions: dict[str, list[tuple[Any, Membership]]] | None = None
    for branch, check in zip(rule.branches, rule.checks, strict=True):
        if not check(flat):
            continue
        if not in_array or len(branch) < 2:
            return True
        if positions is None:
            positions = members()
        if _consistent(branch, positions):
            return True
    return False


def _consistent(branch: Branch, positions: dict[str, list[tuple[Any, Membership]]]) -> bool:
    choices: list[list[Membership]] = []
    for f in branch:
        pairs = positions.get(f.path)
        if not pairs:
            continue  # absent and allowed to be
        candidates = {m for v, m in pairs if f.test(v)}
        if () in candidates:
            continue  # a value outside any array constrains nothing
        choices.append(list(candidates))
    return _choose(choices, 0, {})


def _choose(choices: list[list[Membership]], i: int, fixed: dict[int, int]) -> bool:
    if i == len(choices):
        return True
    for members in choices[i]:
        if all(fixed.get(array, index) == index for array, index in members):
            added = {a: ix for a, ix in members if a not in fixed}
            fixed.update(added)
            if _choose(choices, i + 1, fixed):
                return True
            for a in added:
                del fixed[a]
    return False
