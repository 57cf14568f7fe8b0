"""RuleSet: many patterns matched together must agree with matching each pattern alone."""

from __future__ import annotations

import random
from typing import Any

import pytest

from stratus.matching import InvalidEventPattern, RuleSet, compile_pattern

SOURCES = ["orders", "payments", "shipping"]
TYPES = ["Placed", "Paid", "Shipped", "Cancelled"]


def event(source: str = "orders", detail_type: str = "Placed", **detail: Any) -> dict[str, Any]:
    return {
        "id": "1",
        "account": "123456789012",
        "source": source,
        "time": "2026-11-22T12:00:00Z",
        "region": "eu-west-1",
        "detail-type": detail_type,
        "resources": [],
        "detail": detail,
    }


def test_matching_returns_names_in_the_order_rules_were_added() -> None:
    rules = RuleSet()
    rules.add("b", {"source": ["orders"]})
    rules.add("a", {"detail-type": ["Placed"]})
    rules.add("c", {"detail": {"amount": [{"numeric": [">", 5]}]}})
    rules.add("d", {"source": ["payments"]})
    assert rules.matching(event(amount=10)) == ["b", "a", "c"]
    assert rules.matching(event(amount=1)) == ["b", "a"]
    assert len(rules) == 4 and "c" in rules and list(rules) == ["b", "a", "c", "d"]


def test_replace_and_remove() -> None:
    rules = RuleSet()
    rules.add("r", {"source": ["orders"]})
    rules.add("r", {"source": ["payments"]})
    assert rules.matching(event()) == []
    assert rules.matching(event("payments")) == ["r"]
    rules.remove("r")
    rules.remove("absent")
    assert rules.matching(event("payments")) == []
    assert len(rules) == 0


def test_an_invalid_pattern_is_rejected_and_not_added() -> None:
    rules = RuleSet()
    with pytest.raises(InvalidEventPattern):
        rules.add("bad", {"source": []})
    assert "bad" not in rules


def test_rules_without_required_exact_values_are_still_tested() -> None:
    rules = RuleSet()
    rules.add("absent", {"source": [{"exists": False}]})
    rules.add("prefix", {"source": [{"prefix": "ord"}]})
    rules.add("or", {"$or": [{"source": ["orders"]}, {"detail-type": ["Paid"]}]})
    assert rules.matching(event()) == ["prefix", "or"]
    assert rules.matching(event("shipping", "Paid")) == ["or"]
    without_source = event()
    del without_source["source"]
    assert rules.matching(without_source) == ["absent"]


def test_other_conditions_on_an_indexed_path_are_still_checked() -> None:
    rules = RuleSet()
    rules.add(
        "both", {"source": ["orders", "ordnance"], "$or": [{"detail-type": ["Placed"]}, {"detail-type": ["Paid"]}]}
    )
    rules.add("twice", '{"detail": {"k": ["ab", "xy"]}, "detail.k": [{"prefix": "a"}]}')
    assert rules.matching(event("ordnance", "Paid")) == ["both"]
    assert rules.matching(event("other", k="ab")) == ["twice"]
    assert rules.matching(event("other", k="xy")) == []


def test_an_event_array_on_an_indexed_field_finds_each_rule_once() -> None:
    rules = RuleSet()
    rules.add("a", {"resources": ["arn:1"]})
    rules.add("b", {"resources": ["arn:2", "arn:1"]})
    rules.add("c", {"resources": ["arn:3"]})
    e = event()
    e["resources"] = ["arn:1", "arn:2"]
    assert rules.matching(e) == ["a", "b"]


def test_arrays_of_objects_keep_element_consistency_through_the_index() -> None:
    rules = RuleSet()
    rules.add("same", {"source": ["orders"], "detail": {"items": {"sku": ["a"], "qty": [1]}}})
    rules.add("crossed", {"source": ["orders"], "detail": {"items": {"sku": ["a"], "qty": [2]}}})
    items = [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]
    assert rules.matching(event(items=items)) == ["same"]


def _random_pattern(rng: random.Random) -> dict[str, Any]:
    pattern: dict[str, Any] = {}
    if rng.random() < 0.8:
        pattern["source"] = rng.sample(SOURCES, rng.randint(1, 2))
    if rng.random() < 0.7:
        pattern["detail-type"] = rng.sample(TYPES, rng.randint(1, 2))
    detail_options: list[dict[str, Any]] = [
        {"amount": [{"numeric": [">", rng.randint(0, 50)]}]},
        {"status": [{"anything-but": ["draft"]}]},
        {"region": [{"prefix": rng.choice(["eu-", "us-"])}]},
        {"status": ["live", "test"]},
        {"tag": [{"exists": rng.random() < 0.5}]},
    ]
    if rng.random() < 0.7:
        pattern["detail"] = rng.choice(detail_options)
    if rng.random() < 0.15:
        pattern["$or"] = [{"source": [rng.choice(SOURCES)]}, {"detail-type": [rng.choice(TYPES)]}]
    return pattern or {"source": [{"exists": True}]}


def _random_event(rng: random.Random) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "amount": rng.randint(0, 60),
        "status": rng.choice(["live", "draft", "test"]),
        "region": rng.choice(["eu-west-1", "us-east-1"]),
    }
    if rng.random() < 0.5:
        detail["tag"] = "x"
    return event(rng.choice(SOURCES), rng.choice(TYPES), **detail)


def test_agrees_with_each_pattern_alone() -> None:
    rng = random.Random(7)
    patterns = {f"r{i}": _random_pattern(rng) for i in range(120)}
    rules = RuleSet()
    for name, pattern in patterns.items():
        rules.add(name, pattern)
    compiled = {name: compile_pattern(p) for name, p in patterns.items()}
    total = 0
    for _ in range(300):
        e = _random_event(rng)
        expected = [name for name, p in compiled.items() if p.matches(e)]
        assert rules.matching(e) == expected
        total += len(expected)
    assert total > 300  # the comparison exercised real matches, not only empty lists
