"""Many event patterns at once: which rules of a bus match an event (PutEvents fan-out).

Testing every rule in turn would flatten the event once per rule and test rules that cannot match. A
:class:`RuleSet` flattens the event once (only the paths some rule reads) and indexes rules by the exact
values they require: a rule that, in every alternative, needs one of a few exact strings at a path
(typically ``source`` and ``detail-type``) is filed under those strings, on up to two such paths
combined, choosing the paths whose values vary most across the rule set. An event then only tests the
rules filed under its own values plus those that cannot be indexed, and for a single-alternative rule
only the conditions the index did not already settle. This keeps the part of AWS's event-ruler design
that pays off in Python (shared work across rules); its byte automaton would not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import product
from typing import Any

from stratus.matching.evaluate import branches_match
from stratus.matching.event_pattern import EventPattern, compile_pattern
from stratus.matching.flatten import PathTrie, flatten, flatten_members
from stratus.matching.rules import Check, CompiledRule, compile_check

#: Index a rule on two paths only while the combinations of its values stay few.
_MAX_KEYS_PER_RULE = 64


class _Entry:
    __slots__ = ("check", "name", "rule")

    def __init__(self, name: str, rule: CompiledRule, check: Check) -> None:
        self.name = name
        self.rule = rule
        #: What remains to check once the rule is a candidate (for an event without arrays): for a
        #: single-alternative rule found through the index, only the conditions the index did not settle.
        self.check = check


class _Snapshot:
    """The index as built for one version of the rules (replaced whole, never mutated)."""

    __slots__ = ("entries", "index", "trie", "unindexed", "version")

    def __init__(
        self,
        version: int,
        entries: list[_Entry],
        trie: PathTrie,
        index: list[tuple[tuple[str, ...], dict[Any, list[int]]]],
        unindexed: list[int],
    ) -> None:
        self.version = version
        self.entries = entries
        self.trie = trie
        self.index = index
        self.unindexed = unindexed


class RuleSet:
    """Compiled event patterns keyed by rule name, matched together.

    Safe to share between threads: changes take a lock, and matching uses an immutable snapshot of the
    index, rebuilt on the first match after a change.
    """

    def __init__(self) -> None:
        self._rules: dict[str, CompiledRule] = {}
        self._lock = threading.Lock()
        self._version = 0
        self._snapshot = _Snapshot(0, [], PathTrie(), [], [])

    def add(self, name: str, pattern: str | dict[str, Any] | EventPattern) -> None:
        """Add (or replace) rule ``name``; the pattern is validated (:class:`InvalidEventPattern`)."""
        compiled = pattern if isinstance(pattern, EventPattern) else compile_pattern(pattern)
        with self._lock:
            self._rules.pop(name, None)
            self._rules[name] = compiled.rule
            self._version += 1

    def remove(self, name: str) -> None:
        """Remove rule ``name`` (no error if it is not there)."""
        with self._lock:
            if self._rules.pop(name, None) is not None:
                self._version += 1

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def matching(self, event: dict[str, Any]) -> list[str]:
        """Names of the rules whose pattern matches ``event``, in the order the rules were added."""
        snapshot = self._snapshot
        if snapshot.version != self._version:
            snapshot = self._build()
        flat, in_array = flatten(event, snapshot.trie)
        candidates = _candidates(snapshot, flat)
        entries = snapshot.entries
        out: list[str] = []
        if not in_array:
            for position in candidates:
                entry = entries[position]
                if entry.check(flat):
                    out.append(entry.name)
            return out
        cache: list[Any] = []

        def positions() -> Any:
            if not cache:
                cache.append(flatten_members(event, snapshot.trie))
            return cache[0]

        for position in candidates:
            entry = entries[position]
            if branches_match(entry.rule, flat, True, positions):
                out.append(entry.name)
        return out

    def _build(self) -> _Snapshot:
        with self._lock:
            if self._snapshot.version != self._version:
                self._snapshot = _build(self._version, list(self._rules.items()))
            return self._snapshot


def _candidates(snapshot: _Snapshot, flat: dict[str, list[Any]]) -> list[int]:
    found: list[int] = []
    sources = 0
    for paths, table in snapshot.index:
        if len(paths) == 1:
            values = flat.get(paths[0])
            if values is None:
                continue
            if len(values) == 1:
                hit = table.get(values[0])
                if hit is not None:
                    found.extend(hit)
                    sources += 1
                continue
            keys: Any = values
        else:
            first, second = flat.get(paths[0]), flat.get(paths[1])
            if first is None or second is None:
                continue
            if len(first) == 1 and len(second) == 1:
                hit = table.get((first[0], second[0]))
                if hit is not None:
                    found.extend(hit)
                    sources += 1
                continue
            keys = product(first, second)
        for key in keys:
            hit = table.get(key)
            if hit is not None:
                found.extend(hit)
                sources += 2  # several keys may file the same rule: dedupe below
    if snapshot.unindexed:
        found.extend(snapshot.unindexed)
        sources += 1
    if sources > 1:
        return sorted(set(found))
    return found


def _build(version: int, named: list[tuple[str, CompiledRule]]) -> _Snapshot:
    options = [_index_options(rule) for _name, rule in named]
    distinct: dict[str, set[str]] = {}
    for option in options:
        for path, values in option.items():
            distinct.setdefault(path, set()).update(values)
    tables: dict[tuple[str, ...], dict[Any, list[int]]] = {}
    entries: list[_Entry] = []
    unindexed: list[int] = []
    for position, ((name, rule), option) in enumerate(zip(named, options, strict=True)):
        if not option:
            unindexed.append(position)
            entries.append(_Entry(name, rule, _whole(rule)))
            continue
        ranked = sorted(option, key=lambda p: (-len(distinct[p]), len(option[p]), p))
        paths = tuple(ranked[:1])
        if len(ranked) > 1 and len(option[ranked[0]]) * len(option[ranked[1]]) <= _MAX_KEYS_PER_RULE:
            paths = (ranked[0], ranked[1])
        table = tables.setdefault(paths, {})
        keys: Any = option[paths[0]] if len(paths) == 1 else product(option[paths[0]], option[paths[1]])
        for key in keys:
            table.setdefault(key, []).append(position)
        check = _whole(rule)
        if len(rule.branches) == 1:
            # The index settled the exact-value fields on its paths; any other condition remains.
            settled = [f for f in rule.branches[0] if f.path in paths and f.exact_strings is not None]
            check = compile_check(f for f in rule.branches[0] if all(f is not s for s in settled))
        entries.append(_Entry(name, rule, check))
    trie = PathTrie.of(f.path for _name, rule in named for b in rule.branches for f in b)
    return _Snapshot(version, entries, trie, list(tables.items()), unindexed)


def _whole(rule: CompiledRule) -> Check:
    """The rule's full check: any alternative."""
    checks = rule.checks
    if len(checks) == 1:
        return checks[0]
    return lambda flat: any(check(flat) for check in checks)


def _index_options(rule: CompiledRule) -> dict[str, frozenset[str]]:
    """Paths where every alternative of ``rule`` requires one of a set of exact strings, with those strings."""
    per_branch: list[dict[str, frozenset[str]]] = []
    for branch in rule.branches:
        required: dict[str, frozenset[str]] = {}
        for f in branch:
            if f.exact_strings is not None:
                previous = required.get(f.path)
                required[f.path] = f.exact_strings if previous is None else previous & f.exact_strings
        per_branch.append(required)
    common = set(per_branch[0])
    for required in per_branch[1:]:
        common &= set(required)
    return {path: frozenset().union(*(r[path] for r in per_branch)) for path in common}
