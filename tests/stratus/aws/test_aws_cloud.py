"""AwsCloud: the environment-variable contract and lazily created adapters."""

from __future__ import annotations

from typing import Any

import pytest

from stratus import App
from stratus.aws.cloud import AWS_ADAPTERS, AdapterMissing, AwsCloud, env_name, env_names
from stratus.errors import NotBound


def test_env_names_follow_the_documented_scheme() -> None:
    assert env_name("table", "orders") == "STRATUS_TABLE_ORDERS"
    assert env_name("queue", "orders.fifo") == "STRATUS_QUEUE_ORDERS_FIFO"
    assert env_name("event_bus", "domain-events") == "STRATUS_EVENT_BUS_DOMAIN_EVENTS"
    assert env_name("user_pool", "users", "CLIENTS") == "STRATUS_USER_POOL_USERS_CLIENTS"
    app = App("envs")
    assert env_names(app.sql("ledger")) == ["STRATUS_SQL_LEDGER", "STRATUS_SQL_LEDGER_CLUSTER"]


def test_adapter_paths_name_one_class_per_kind() -> None:
    assert AWS_ADAPTERS["table"] == "stratus.aws.adapters.table:AwsTable"
    assert AWS_ADAPTERS["event_bus"] == "stratus.aws.adapters.event_bus:AwsEventBus"
    assert AWS_ADAPTERS["websocket_api"] == "stratus.aws.adapters.websocket_api:AwsWebSocketApi"


def test_every_existing_adapter_module_defines_the_named_class() -> None:
    import importlib
    import importlib.util

    for kind, path in AWS_ADAPTERS.items():
        module, _, cls = path.partition(":")
        if importlib.util.find_spec(module) is None:
            continue  # not written yet: AwsCloud fails when such a resource is used
        assert hasattr(importlib.import_module(module), cls), f"{kind}: {path}"


class Recorder:
    """A stand-in adapter that records how it was built."""

    made: list[Any] = []

    def __init__(self, resource: Any, cloud: AwsCloud) -> None:
        self.url = cloud.physical_id(resource)
        Recorder.made.append(resource.name)

    def send(self, message: Any) -> Any:
        return ("sent", self.url, message.body)


def test_adapters_are_built_on_first_use_from_the_environment() -> None:
    app = App("lazy")
    jobs = app.queue("jobs")
    Recorder.made = []
    cloud = AwsCloud(
        environ={"STRATUS_QUEUE_JOBS": "https://sqs.example/1/lazy-jobs"},
        adapters={"queue": f"{__name__}:Recorder"},
    )
    cloud.bind(app)
    assert Recorder.made == []  # binding builds nothing
    assert jobs.backend.send(type("M", (), {"body": "hi"})()) == ("sent", "https://sqs.example/1/lazy-jobs", "hi")
    jobs.backend.send(type("M", (), {"body": "again"})())
    assert Recorder.made == ["jobs"]
    cloud.close()
    assert not jobs.is_bound


def test_missing_adapter_module_fails_only_when_used() -> None:
    app = App("missing")
    jobs = app.queue("jobs")
    cloud = AwsCloud(environ={}, adapters={"queue": "stratus.aws.adapters.no_such_kind:AwsNothing"})
    cloud.bind(app)  # no error yet
    with pytest.raises(AdapterMissing, match=r"queue 'jobs' of app 'missing'.*no_such_kind does not exist"):
        jobs.send("hello")
    cloud.close()


def test_unset_identity_names_the_variable() -> None:
    app = App("unset")
    table = app.table("orders", partition_key="id")
    cloud = AwsCloud(environ={})
    with pytest.raises(NotBound, match="STRATUS_TABLE_ORDERS is not set"):
        cloud.physical_id(table)


def test_region_and_endpoint_come_from_the_environment() -> None:
    cloud = AwsCloud(environ={"AWS_REGION": "eu-west-3", "STRATUS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert cloud.region == "eu-west-3"
    assert cloud.endpoint_url == "http://127.0.0.1:5000"


class FakeSession:
    """A boto3 session stand-in: records the clients asked of it and holds the credentials."""

    def __init__(self) -> None:
        self.made: list[tuple[str, str | None, str | None]] = []
        self.credentials = object()

    def client(self, service: str, *, region_name: str | None = None, endpoint_url: str | None = None, **_: Any) -> Any:
        self.made.append((service, region_name, endpoint_url))
        return ("client", service, region_name, endpoint_url)

    def get_credentials(self) -> Any:
        return self.credentials


def test_a_client_may_be_asked_at_a_resources_own_endpoint_and_region() -> None:
    session = FakeSession()
    cloud = AwsCloud(
        environ={"AWS_REGION": "eu-west-3", "STRATUS_ENDPOINT_URL": "http://emulator:4566"}, session=session
    )
    plain = cloud.client("apigatewaymanagementapi")
    api = "https://a1.execute-api.eu-west-1.amazonaws.com/live"
    own = cloud.client("apigatewaymanagementapi", endpoint_url=api, region="eu-west-1")
    assert plain == ("client", "apigatewaymanagementapi", "eu-west-3", "http://emulator:4566")
    assert own == ("client", "apigatewaymanagementapi", "eu-west-1", api)  # the cloud's session, its address
    assert cloud.client("apigatewaymanagementapi", endpoint_url=api, region="eu-west-1") is own  # kept per address
    assert cloud.client("apigatewaymanagementapi") is plain
    assert cloud.client("sqs", endpoint_url=api) == ("client", "sqs", "eu-west-3", api)  # region stays the cloud's
    assert len(session.made) == 3
    assert cloud.credentials() is session.credentials
