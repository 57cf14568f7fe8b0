"""Content matching: EventBridge PutEvents fan-out against a bus's 100 rules, and SNS filter policies.

Stratus matches with :class:`stratus.matching.RuleSet` (one flatten per event, rules indexed by the exact
values they require). The comparison is moto's events backend doing what its PutEvents does in process:
``EventPattern.matches_event`` for every rule. Both see the same events and rules and agree on the result
(checked before timing). The SNS row is one subscription's filter policy against one message's attributes,
against moto's ``FilterPolicyMatcher``.
"""

from __future__ import annotations

import json
from typing import Any

from bench.common import Figures, Row, measure
from stratus.matching import RuleSet, compile_filter_policy

#: Each figure is the best of this many runs: the machine is shared, and the best run is the one least
#: disturbed by other processes (p50/p99 come from that same run).
RUNS = 3


def best(op: Any, count: int) -> Figures:
    return max((measure(op, count) for _ in range(RUNS)), key=lambda f: f.ops_per_s)


RULES = 100
EVENTS = 20_000
SOURCES = [f"com.example.service{i}" for i in range(10)]
KINDS = ["Placed", "Paid", "Shipped", "Delivered", "Cancelled", "Refunded", "Returned", "Held", "Split", "Merged"]
TYPES = [f"Order{kind}" for kind in KINDS]


def mixed_rules() -> dict[str, dict[str, Any]]:
    """A realistic bus: most rules name source and detail-type, most add a detail condition; a tenth match
    the source by prefix, and a twentieth only look at the detail (no exact value to index them by)."""
    rules: dict[str, dict[str, Any]] = {}
    for i in range(RULES):
        source, detail_type = SOURCES[i % 10], TYPES[(i // 10) % 10]
        pattern: dict[str, Any] = {"source": [source], "detail-type": [detail_type]}
        if i % 10 == 5:
            pattern["source"] = [{"prefix": source[:-1]}]
        if i % 20 == 19:
            del pattern["source"], pattern["detail-type"]
        kind = i % 4
        if kind == 1:
            pattern["detail"] = {"region": [{"prefix": "eu-"}]}
        elif kind == 2:
            pattern["detail"] = {"amount": [{"numeric": [">", 100, "<=", 5000]}]}
        elif kind == 3:
            pattern["detail"] = {"status": [{"anything-but": ["test", "draft"]}]}
        rules[f"rule-{i}"] = pattern
    return rules


def exact_rules() -> dict[str, dict[str, Any]]:
    """Exact matches only: source, detail-type and one detail value."""
    return {
        f"rule-{i}": {
            "source": [SOURCES[i % 10]],
            "detail-type": [TYPES[(i // 10) % 10]],
            "detail": {"status": ["live"]},
        }
        for i in range(RULES)
    }


def events(count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        out.append(
            {
                "version": "0",
                "id": f"00000000-0000-0000-0000-{i:012d}",
                "detail-type": TYPES[(i * 7) % 10],
                "source": SOURCES[(i * 3) % 10],
                "account": "123456789012",
                "time": "2026-11-22T12:00:00Z",
                "region": "eu-west-1",
                "resources": [],
                "detail": {
                    "order-id": f"o-{i}",
                    "region": ("eu-west-1", "us-east-1")[i % 2],
                    "amount": (i * 37) % 9000,
                    "status": ("live", "draft", "test", "live")[i % 4],
                    "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}],
                },
            }
        )
    return out


def _stratus(rules: dict[str, dict[str, Any]], batch: list[dict[str, Any]]) -> Figures:
    rule_set = RuleSet()
    for name, pattern in rules.items():
        rule_set.add(name, pattern)
    matching = rule_set.matching
    return best(lambda i: matching(batch[i]), len(batch))


def _moto_matcher(rules: dict[str, dict[str, Any]]) -> Any:
    try:
        from moto.events.models import EventPattern
    except ImportError:  # moto is a dev dependency
        return None
    compiled = [(name, EventPattern(json.dumps(p), p)) for name, p in rules.items()]
    return lambda event: [name for name, p in compiled if p.matches_event(event)]


def _moto_figures(moto: Any, batch: list[dict[str, Any]]) -> Figures | None:
    if moto is None:
        return None
    return best(lambda i: moto(batch[i]), 300)


def _check_agreement(rules: dict[str, dict[str, Any]], batch: list[dict[str, Any]], moto: Any) -> None:
    rule_set = RuleSet()
    for name, pattern in rules.items():
        rule_set.add(name, pattern)
    for event in batch[:200]:
        ours = rule_set.matching(event)
        if moto is not None and sorted(ours) != sorted(moto(event)):
            raise AssertionError(f"stratus and moto disagree on {event['id']}: {ours} vs {moto(event)}")


def run() -> list[Row]:
    batch = events(EVENTS)
    rows = []
    for label, rules in (("100 rules, mixed operators", mixed_rules()), ("100 rules, exact only", exact_rules())):
        moto = _moto_matcher(rules)
        _check_agreement(rules, batch, moto)
        ours = _stratus(rules, batch)
        other = _moto_figures(moto, batch)
        rows.append(Row("patterns", f"PutEvents match, {label}", ours, other, target=">= 100,000 events/s"))
    rows.append(_sns_row())
    return rows


SNS_POLICY: dict[str, Any] = {
    "store": ["example_corp"],
    "event": [{"anything-but": "order_cancelled"}],
    "price_usd": [{"numeric": [">=", 100]}],
    "customer_interests": ["rugby", "football", "baseball"],
}


def _sns_messages(count: int) -> list[dict[str, Any]]:
    return [
        {
            "store": {"DataType": "String", "StringValue": ("example_corp", "other_corp")[i % 2]},
            "event": {"DataType": "String", "StringValue": ("order_placed", "order_cancelled")[i % 3 == 0]},
            "price_usd": {"DataType": "Number", "StringValue": str((i * 13) % 400)},
            "customer_interests": {"DataType": "String.Array", "StringValue": '["soccer", "rugby", "hockey"]'},
        }
        for i in range(count)
    ]


def _sns_row() -> Row:
    messages = _sns_messages(EVENTS)
    policy = compile_filter_policy(SNS_POLICY)
    ours = best(lambda i: policy.matches(messages[i]), len(messages))
    other = None
    try:
        from moto.sns.utils import FilterPolicyMatcher
    except ImportError:  # moto is a dev dependency
        pass
    else:
        matcher = FilterPolicyMatcher(SNS_POLICY, "MessageAttributes")
        as_moto = [{k: {"Type": v["DataType"], "Value": v["StringValue"]} for k, v in m.items()} for m in messages]
        for i in range(200):
            assert matcher.matches(as_moto[i], "") == policy.matches(messages[i]), i
        other = best(lambda i: matcher.matches(as_moto[i], ""), len(as_moto))
    return Row("patterns", "SNS filter policy (4 keys) vs message attributes", ours, other)
