"""API keys and usage plans: 403 for bad keys, 429 for throttle and quota, durable hashed keys.

Each test using ``env`` runs on the local store and on the DynamoDB one (``aws``, on moto, with
the same virtual clock: the AWS adapter reads time from its cloud's clock too). ``env.local``
moves time and restarts; on ``aws`` a restart is a new adapter (a cold start) over the same table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

import stratus.testing
from stratus import App, ValidationError
from stratus.clock import VirtualClock
from stratus.resources.api_keys import (
    ApiKeyAuthorizer,
    ApiKeyExists,
    ApiKeyNotFound,
    ApiKeys,
    ApiKeyThrottled,
    QuotaExceeded,
    UsagePlan,
    period_start,
)
from stratus.resources.auth import Forbidden

ADAPTERS = {"api_keys": "stratus.local.api_keys:LocalApiKeys"}
#: Monday 2024-01-01 12:00 UTC.
NOON_MONDAY = datetime(2024, 1, 1, 12, tzinfo=UTC)

#: Tests the DynamoDB store cannot pass on moto, and why.
AWS_SKIPS: dict[str, str] = {
    "test_concurrent_requests_never_overshoot_the_quota": (
        "moto gap: a conditional UpdateItem is not atomic across threads (DynamoDB's is), so concurrent "
        "requests can overshoot a quota on moto"
    ),
}


@dataclass
class Env:
    keys: ApiKeys
    authorizer: ApiKeyAuthorizer
    #: Time and restarts: the LocalEnv, or :class:`AwsKeysRuntime`.
    local: Any

    def call(self, value: str | None, header: str = "x-api-key") -> Any:
        headers = {} if value is None else {header: value}
        return self.authorizer.authorize({"headers": headers, "requestContext": {}}, None)

    def stored(self) -> bytes:
        """Everything the store keeps, as bytes."""
        if isinstance(self.local, AwsKeysRuntime):
            return self.local.stored()
        return b"".join(p.read_bytes() for p in self.local.state_dir.glob("apikeys.db*"))


class AwsKeysRuntime:
    """The ``LocalEnv`` slice the tests use, for the DynamoDB store on moto."""

    def __init__(self, cloud: Any, keys: ApiKeys, clock: VirtualClock) -> None:
        self.cloud = cloud
        self.keys = keys
        self.clock = clock

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def restart(self) -> None:
        from stratus.aws.adapters.api_keys import AwsApiKeys

        self.cloud.bind(self.keys, AwsApiKeys)

    def stored(self) -> bytes:
        client = self.cloud.client("dynamodb")
        items = client.scan(TableName=self.cloud.physical_id(self.keys), ConsistentRead=True)["Items"]
        return json.dumps(items).encode()


def create_key_table(cloud: Any, keys: ApiKeys) -> str:
    """The store's table, as the template makes it (``pk``/``sk`` strings, on demand)."""
    name = keys.qualified_name
    cloud.client("dynamodb").create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    cloud.set_id(keys, name)
    return name


@pytest.fixture(params=["local", "aws"])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    app = App("partners")
    keys = ApiKeys(
        app,
        "keys",
        plans=[
            UsagePlan("basic", throttle=(2, 3), quota=(5, "DAY")),
            UsagePlan("weekly", quota=(3, "WEEK")),
            UsagePlan("monthly", quota=(2, "MONTH")),
            UsagePlan("unlimited"),
        ],
    )
    authorizer = ApiKeyAuthorizer(keys)
    if request.param == "aws":
        reason = AWS_SKIPS.get(request.node.originalname)
        if reason:
            pytest.skip(reason)
        from tests.stratus.aws.adapters.moto_cloud import moto_cloud

        from stratus.aws.adapters.api_keys import AwsApiKeys

        clock = VirtualClock(NOON_MONDAY)
        with moto_cloud(clock) as cloud:
            create_key_table(cloud, keys)
            cloud.bind(keys, AwsApiKeys)
            yield Env(keys, authorizer, AwsKeysRuntime(cloud, keys, clock))
        return
    with stratus.testing.local(app, clock=VirtualClock(NOON_MONDAY), adapters=ADAPTERS) as local:
        yield Env(keys, authorizer, local)


def test_valid_key_is_admitted_with_its_identity(env: Env) -> None:
    key = env.keys.create_key("acme", "unlimited")
    assert key.value and len(key.value) == 40
    result = env.call(key.value)
    assert result.principal_id == key.id
    assert result.context == {"apiKeyId": key.id, "apiKeyName": "acme", "usagePlan": "unlimited"}
    assert env.authorizer.request_context(result) == {"lambda": result.context}


def test_value_is_shown_once_and_hidden_in_repr(env: Env) -> None:
    key = env.keys.create_key("acme", "unlimited")
    assert key.value is not None
    assert key.value not in repr(key) and key.value not in str(key)
    assert env.keys.get_key(key.id).value is None
    assert all(k.value is None for k in env.keys.list_keys())


def test_values_are_stored_hashed(env: Env) -> None:
    key = env.keys.create_key("acme", "unlimited")
    env.local.restart()
    raw = env.stored()
    assert key.value is not None and key.value.encode() not in raw
    assert hashlib.sha256(key.value.encode()).hexdigest().encode() in raw  # what is kept instead
    assert env.call(key.value).principal_id == key.id  # and still works after the restart


@pytest.mark.parametrize("value", [None, "", "not-a-key-of-this-store-at-all-1234567890"])
def test_missing_or_unknown_key_is_forbidden(env: Env, value: str | None) -> None:
    env.keys.create_key("acme", "unlimited")
    with pytest.raises(Forbidden) as caught:
        env.call(value)
    assert caught.value.status == 403


def test_key_in_another_header_is_not_read(env: Env) -> None:
    key = env.keys.create_key("acme", "unlimited")
    with pytest.raises(Forbidden):
        env.call(key.value, header="authorization")


def test_disabled_key_is_forbidden_until_enabled(env: Env) -> None:
    key = env.keys.create_key("acme", "unlimited")
    env.keys.disable(key.id)
    assert not env.keys.get_key(key.id).enabled
    with pytest.raises(Forbidden):
        env.call(key.value)
    env.keys.enable(key.id)
    assert env.call(key.value).principal_id == key.id


def test_deleted_key_is_forbidden(env: Env) -> None:
    key = env.keys.create_key("acme", "unlimited")
    env.keys.delete_key(key.id)
    with pytest.raises(Forbidden):
        env.call(key.value)
    with pytest.raises(ApiKeyNotFound):
        env.keys.usage(key.id)


def test_throttle_is_a_token_bucket_on_the_clock(env: Env) -> None:
    key = env.keys.create_key("acme", "basic")  # 2 per second, burst 3
    for _ in range(3):
        env.call(key.value)
    with pytest.raises(ApiKeyThrottled) as caught:
        env.call(key.value)
    assert caught.value.status == 429 and caught.value.reason == "Too Many Requests"
    assert caught.value.retry_after == pytest.approx(0.5)
    env.local.advance(0.5)
    env.call(key.value)
    with pytest.raises(ApiKeyThrottled):
        env.call(key.value)
    assert env.keys.usage(key.id).used == 4  # throttled requests are not counted


def test_throttle_is_per_key(env: Env) -> None:
    first = env.keys.create_key("acme", "basic")
    second = env.keys.create_key("globex", "basic")
    for _ in range(3):
        env.call(first.value)
    with pytest.raises(ApiKeyThrottled):
        env.call(first.value)
    env.call(second.value)


def test_daily_quota_then_a_new_day(env: Env) -> None:
    key = env.keys.create_key("acme", "basic")  # 5 a day
    for _ in range(5):
        env.call(key.value)
        env.local.advance(1)
    with pytest.raises(QuotaExceeded) as caught:
        env.call(key.value)
    assert caught.value.status == 429 and caught.value.reason == "Limit Exceeded"
    usage = env.keys.usage(key.id)
    assert (usage.used, usage.limit, usage.remaining, usage.period) == (5, 5, 0, "DAY")
    assert usage.period_start == datetime(2024, 1, 1, tzinfo=UTC)
    env.local.clock.set(datetime(2024, 1, 2, 0, 0, 1, tzinfo=UTC))
    env.call(key.value)
    assert env.keys.usage(key.id).used == 1


def test_weekly_quota_starts_on_monday(env: Env) -> None:
    key = env.keys.create_key("acme", "weekly")  # 3 a week
    for _ in range(3):
        env.call(key.value)
    env.local.clock.set(datetime(2024, 1, 7, 23, 59, tzinfo=UTC))  # Sunday: same week
    with pytest.raises(QuotaExceeded):
        env.call(key.value)
    env.local.clock.set(datetime(2024, 1, 8, 0, 1, tzinfo=UTC))  # Monday
    env.call(key.value)
    assert env.keys.usage(key.id).period_start == datetime(2024, 1, 8, tzinfo=UTC)


def test_monthly_quota(env: Env) -> None:
    key = env.keys.create_key("acme", "monthly")
    env.call(key.value)
    env.call(key.value)
    env.local.clock.set(datetime(2024, 1, 31, 23, tzinfo=UTC))
    with pytest.raises(QuotaExceeded):
        env.call(key.value)
    env.local.clock.set(datetime(2024, 2, 1, 0, 1, tzinfo=UTC))
    env.call(key.value)


def test_quota_counts_survive_restart(env: Env) -> None:
    key = env.keys.create_key("acme", "weekly")
    for _ in range(3):
        env.call(key.value)
    env.local.restart()
    with pytest.raises(QuotaExceeded):
        env.call(key.value)


def test_imported_values_and_conflicts(env: Env) -> None:
    value = "my-own-api-key-value-123"
    key = env.keys.create_key("acme", "unlimited", value=value)
    assert env.call(value).principal_id == key.id
    with pytest.raises(ApiKeyExists):
        env.keys.create_key("other", "unlimited", value=value)
    with pytest.raises(ValidationError):
        env.keys.create_key("short", "unlimited", value="too-short")
    with pytest.raises(ApiKeyNotFound):
        env.keys.create_key("acme", "gold")


def test_plan_removed_from_the_declaration_forbids_its_keys(env: Env) -> None:
    key = env.keys.create_key("acme", "unlimited")
    del env.keys.plans["unlimited"]
    with pytest.raises(Forbidden):
        env.call(key.value)


@pytest.mark.parametrize(
    "plan",
    [
        {"throttle": (0, 1)},
        {"throttle": (1, 0)},
        {"throttle": (1,)},
        {"quota": (0, "DAY")},
        {"quota": (10, "YEAR")},
        {"name": "bad name"},
    ],
)
def test_bad_plans_fail_at_declaration(plan: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        UsagePlan(**{"name": "p", **plan})


@pytest.mark.parametrize(
    ("moment", "period", "start"),
    [
        (datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC), "DAY", datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2024, 3, 1, tzinfo=UTC), "DAY", datetime(2024, 3, 1, tzinfo=UTC)),
        (datetime(2024, 1, 7, 23, 0, tzinfo=UTC), "WEEK", datetime(2024, 1, 1, tzinfo=UTC)),  # Sunday -> Monday
        (datetime(2024, 1, 1, 0, 0, tzinfo=UTC), "WEEK", datetime(2024, 1, 1, tzinfo=UTC)),
        (datetime(2024, 12, 31, 12, tzinfo=UTC), "MONTH", datetime(2024, 12, 1, tzinfo=UTC)),
    ],
)
def test_quota_periods_are_calendar_periods_in_utc(moment: datetime, period: str, start: datetime) -> None:
    assert period_start(moment.timestamp(), period) == start.timestamp()


def test_every_adapter_counts_quota_periods_with_the_ports_definition() -> None:
    import stratus.aws.adapters.api_keys as aws_adapter
    import stratus.local.api_keys as local_adapter

    assert local_adapter.period_start is period_start
    assert aws_adapter.period_start is period_start
    with pytest.raises(ValidationError, match="quota period must be one of DAY, WEEK, MONTH, got 'YEAR'"):
        period_start(NOON_MONDAY.timestamp(), "YEAR")


def test_bad_declarations() -> None:
    app = App("bad")
    with pytest.raises(ValidationError):
        ApiKeys(app, "keys", plans=[])
    with pytest.raises(ValidationError):
        ApiKeys(app, "keys", plans=[UsagePlan("a"), UsagePlan("a")])
    assert app.resources == []
    keys = ApiKeys(app, "keys", plans=[UsagePlan("a")])
    with pytest.raises(ValidationError):
        ApiKeyAuthorizer(keys, header="bad header")
    assert ApiKeyAuthorizer(keys).security_scheme() == {"type": "apiKey", "in": "header", "name": "x-api-key"}


def test_concurrent_requests_never_overshoot_the_quota(env: Env) -> None:
    from concurrent.futures import ThreadPoolExecutor

    key = env.keys.create_key("acme", "weekly")  # 3 a week, no throttle
    value = key.value or ""

    def attempt(_: int) -> bool:
        try:
            env.call(value)
            return True
        except QuotaExceeded:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        admitted = sum(pool.map(attempt, range(24)))
    assert admitted == 3
    assert env.keys.usage(key.id).used == 3
