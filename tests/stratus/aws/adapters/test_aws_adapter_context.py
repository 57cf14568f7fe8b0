"""The adapters' contract with the cloud: physical identities, clients and the clock."""

from __future__ import annotations

from typing import Any

import pytest

from stratus import App
from stratus.aws.adapters import _context
from stratus.clock import SystemClock, VirtualClock
from stratus.errors import NotBound


def test_env_variable_upper_cases_kind_and_name() -> None:
    app = App("shop")
    assert _context.env_variable(app.queue("orders.fifo", fifo=True)) == "STRATUS_QUEUE_ORDERS_FIFO"
    assert _context.env_variable(app.event_bus("main-bus")) == "STRATUS_EVENT_BUS_MAIN_BUS"
    assert _context.env_variable(app.table("users", partition_key="id"), "INDEX") == "STRATUS_TABLE_USERS_INDEX"


def test_physical_id_prefers_the_cloud_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    table = App("shop").table("users", partition_key="id")

    class Cloud:
        def physical_id(self, resource: Any, suffix: str = "") -> str:
            return f"from-cloud-{resource.name}{suffix}"

    assert _context.physical_id(table, Cloud()) == "from-cloud-users"
    assert _context.physical_id(table, Cloud(), "X") == "from-cloud-usersX"
    monkeypatch.setenv("STRATUS_TABLE_USERS", "shop-users-abc")
    assert _context.physical_id(table, object()) == "shop-users-abc"
    monkeypatch.delenv("STRATUS_TABLE_USERS")
    with pytest.raises(NotBound, match="STRATUS_TABLE_USERS"):
        _context.physical_id(table, object())


def test_client_prefers_the_cloud_then_builds_one_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    sentinel = object()

    class Cloud:
        def client(self, service: str) -> Any:
            return sentinel

    assert _context.client("sqs", Cloud()) is sentinel
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    made = _context.client("sqs", object())
    assert made.meta.region_name == "eu-west-3"
    assert made.meta.endpoint_url == "http://127.0.0.1:4566"
    assert _context.client("sqs", object()) is made  # cached per service, region and endpoint
    assert _context.client("s3", object()).meta.config.signature_version == "s3v4"  # presigned URLs need SigV4


def test_clock_is_the_clouds_or_the_system_clock() -> None:
    clock = VirtualClock()

    class Cloud:
        pass

    cloud = Cloud()
    cloud.clock = clock  # type: ignore[attr-defined]
    assert _context.clock(cloud) is clock
    assert isinstance(_context.clock(object()), SystemClock)


def test_client_passes_an_endpoint_and_region_override(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    class Cloud:
        def client(self, service: str, **overrides: Any) -> Any:
            asked.append((service, overrides))
            return service

    _context.client("sqs", Cloud())
    _context.client("apigatewaymanagementapi", Cloud(), endpoint_url="https://a1.example/live", region="eu-west-1")
    assert asked == [
        ("sqs", {}),  # a cloud whose client takes the service alone still works for every other adapter
        ("apigatewaymanagementapi", {"endpoint_url": "https://a1.example/live", "region": "eu-west-1"}),
    ]
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    made = _context.client(
        "apigatewaymanagementapi", object(), endpoint_url="https://a1.example/live", region="ap-south-1"
    )
    assert (made.meta.endpoint_url, made.meta.region_name) == ("https://a1.example/live", "ap-south-1")
    plain = _context.client("apigatewaymanagementapi", object())
    assert (plain.meta.endpoint_url, plain.meta.region_name) == ("http://127.0.0.1:4566", "eu-west-3")


def test_credentials_are_the_clouds_or_the_default_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    token = object()

    class Cloud:
        def credentials(self) -> Any:
            return token

    assert _context.credentials(Cloud()) is token
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert _context.credentials(object()).access_key == "AKIDFROMENV"
