"""AwsApiKeys on moto: what the DynamoDB table holds, and what the port suite cannot see.

The port's behaviour (admission, throttling, quotas, restarts) runs on this adapter in
``tests/stratus/resources/test_api_keys.py``; here: the item layout (hashes, never values), the
cleanup of old quota periods and deleted keys, id collisions and a missing table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.stratus.aws.adapters.moto_cloud import MotoCloud, moto_cloud
from tests.stratus.resources.test_api_keys import NOON_MONDAY, create_key_table

import stratus.aws.adapters.api_keys as adapter
from stratus import App
from stratus.aws.adapters.api_keys import AwsApiKeys
from stratus.clock import VirtualClock
from stratus.errors import ResourceNotFound
from stratus.resources.api_keys import ApiKeyNotFound, ApiKeys, QuotaExceeded, UsagePlan


@dataclass
class Store:
    keys: ApiKeys
    cloud: MotoCloud
    clock: VirtualClock

    def items(self) -> dict[tuple[str, str], dict[str, Any]]:
        client = self.cloud.client("dynamodb")
        found = client.scan(TableName=self.cloud.physical_id(self.keys), ConsistentRead=True)["Items"]
        return {(i["pk"]["S"], i["sk"]["S"]): i for i in found}


@pytest.fixture
def store() -> Iterator[Store]:
    app = App("partners")
    keys = ApiKeys(app, "keys", plans=[UsagePlan("daily", quota=(2, "DAY")), UsagePlan("open")])
    clock = VirtualClock(NOON_MONDAY)
    with moto_cloud(clock) as cloud:
        create_key_table(cloud, keys)
        cloud.bind(keys, AwsApiKeys)
        yield Store(keys, cloud, clock)


def test_items_hold_the_hash_never_the_value(store: Store) -> None:
    key = store.keys.create_key("acme", "daily")
    assert key.value is not None
    digest = hashlib.sha256(key.value.encode()).hexdigest()
    items = store.items()
    assert set(items) == {(f"VALUE#{digest}", "KEY"), (f"KEY#{key.id}", "KEY")}
    assert items[(f"VALUE#{digest}", "KEY")]["key_id"]["S"] == key.id
    assert items[(f"KEY#{key.id}", "KEY")]["value_hash"]["S"] == digest
    assert key.value not in repr(items)
    store.keys.consume(key.value)
    assert items.keys() < store.items().keys()
    assert store.items()[(f"KEY#{key.id}", "USAGE#001704067200")]["used"]["N"] == "1"  # 2024-01-01 00:00 UTC


def test_a_new_period_forgets_the_old_counts(store: Store) -> None:
    key = store.keys.create_key("acme", "daily")
    value = key.value or ""
    store.keys.consume(value)
    store.keys.consume(value)
    with pytest.raises(QuotaExceeded):
        store.keys.consume(value)
    assert store.items()[(f"KEY#{key.id}", "USAGE#001704067200")]["used"]["N"] == "2"  # refusals are not counted
    store.clock.set(datetime(2024, 1, 2, 8, tzinfo=UTC))
    store.keys.consume(value)
    usage = [sk for pk, sk in store.items() if pk == f"KEY#{key.id}" and sk.startswith("USAGE#")]
    assert usage == ["USAGE#001704153600"]
    assert store.keys.usage(key.id).used == 1


def test_deleting_a_key_removes_its_items_and_counts(store: Store) -> None:
    kept = store.keys.create_key("kept", "open")
    gone = store.keys.create_key("gone", "open")
    for _ in range(3):
        store.keys.consume(gone.value or "")
    assert store.keys.usage(gone.id).used == 3  # without a quota: the total
    store.keys.delete_key(gone.id)
    assert all(gone.id not in pk for pk, _ in store.items())
    assert [k.id for k in store.keys.list_keys()] == [kept.id]
    with pytest.raises(ApiKeyNotFound, match=gone.id):
        store.keys.enable(gone.id)
    with pytest.raises(ApiKeyNotFound):
        store.keys.delete_key(gone.id)


def test_disabling_changes_both_items(store: Store) -> None:
    key = store.keys.create_key("acme", "open")
    store.keys.disable(key.id)
    assert [i["enabled"]["BOOL"] for i in store.items().values()] == [False, False]
    assert not store.keys.get_key(key.id).enabled and not store.keys.list_keys()[0].enabled


def test_a_taken_id_is_replaced_by_a_fresh_one(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    first = store.keys.create_key("first", "open")
    ids = iter([first.id, "zzzzzzzzzz"])

    class Picks:
        """secrets.choice spelling out the taken id, then a free one."""

        def __init__(self) -> None:
            self.pending = ""

        def choice(self, alphabet: str) -> str:
            if not self.pending:
                self.pending = next(ids)
            char, self.pending = self.pending[0], self.pending[1:]
            return char

    monkeypatch.setattr(adapter, "secrets", Picks())
    second = store.keys.create_key("second", "open")
    assert second.id == "zzzzzzzzzz"
    assert store.keys.get_key(first.id).name == "first"  # the taken id was not overwritten
    assert {k.name for k in store.keys.list_keys()} == {"first", "second"}


def test_a_missing_table_is_resource_not_found() -> None:
    app = App("partners")
    keys = ApiKeys(app, "keys", plans=[UsagePlan("open")])
    with moto_cloud() as cloud:
        cloud.set_id(keys, "no-such-table")
        cloud.bind(keys, AwsApiKeys)
        with pytest.raises(ResourceNotFound):
            keys.list_keys()


def test_a_route_function_checks_keys_through_the_environment_contract() -> None:
    """AwsCloud binds the store from ``STRATUS_API_KEYS_<NAME>``; the route's function admits or refuses."""
    from stratus.aws.cloud import AwsCloud
    from stratus.aws.events import authorize
    from stratus.resources.api_keys import ApiKeyAuthorizer

    app = App("keys")
    partners = ApiKeys(app, "partners", plans=[UsagePlan("basic", quota=(1, "DAY"))])
    api = app.http_api("api")

    @api.get("/feed", authorizer=ApiKeyAuthorizer(partners))
    def feed(request: Any, context: Any) -> dict[str, Any]:
        return {}

    def event(value: str) -> dict[str, Any]:
        return {"version": "2.0", "headers": {"x-api-key": value}, "requestContext": {"http": {}}}

    with moto_cloud() as moto:
        table = create_key_table(moto, partners)
        with AwsCloud(environ={"STRATUS_API_KEYS_PARTNERS": table}, region="us-east-1") as cloud:
            cloud.bind(app)
            key = partners.create_key("acme", "basic")
            admitted = event(key.value or "")
            assert authorize(admitted, feed) is None
            assert admitted["requestContext"]["authorizer"]["lambda"]["apiKeyId"] == key.id
            assert authorize(event(key.value or ""), feed)["statusCode"] == 429  # type: ignore[index]
            assert authorize(event("x" * 40), feed)["statusCode"] == 403  # type: ignore[index]
