"""AwsWebSocketApi: the management handle on the API Gateway Management API.

moto implements the three calls (it keeps posted data per connection) but treats every
connection id as live, so GoneException and the other errors are checked with botocore's
Stubber, on the same client the adapter uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from tests.stratus.aws.adapters.moto_cloud import ACCOUNT, REGION, MotoCloud, moto_cloud

from stratus import App, ValidationError
from stratus.aws.adapters.websocket_api import AwsWebSocketApi, region_of
from stratus.errors import AccessDenied, Throttled
from stratus.resources.websocket import GoneException, PayloadTooLarge, WebSocketApi

ENDPOINT = f"https://a1b2c3d4e5.execute-api.{REGION}.amazonaws.com/live"


@pytest.fixture
def cloud() -> Iterator[MotoCloud]:
    with moto_cloud() as c:
        yield c


def bind(cloud: MotoCloud, endpoint: str = ENDPOINT) -> tuple[WebSocketApi, AwsWebSocketApi]:
    ws = App("chat").websocket_api("live")
    cloud.set_id(ws, endpoint)
    return ws, cloud.bind(ws, AwsWebSocketApi)


def test_post_connection_and_disconnect_reach_the_management_api(cloud: MotoCloud) -> None:
    ws, backend = bind(cloud)
    assert ws.url == "wss://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/live"
    assert backend.client.meta.endpoint_url == ENDPOINT
    ws.post("conn-1", {"echo": "hi"})
    ws.post("conn-1", b"\x00raw")
    connections = apigatewaymanagementapi_backends[ACCOUNT][REGION].connections
    assert connections["conn-1"].data == b'{"echo":"hi"}\x00raw'
    info = ws.connection("conn-1")
    assert (info.connection_id, info.source_ip, info.user_agent) == ("conn-1", "192.168.0.1", "Moto Mocks")
    assert info.connected_at.tzinfo is not None and info.last_active_at >= info.connected_at
    ws.disconnect("conn-1")
    assert "conn-1" not in connections


def test_the_client_signs_for_the_apis_region() -> None:
    assert region_of("https://x1.execute-api.eu-west-3.amazonaws.com/live") == "eu-west-3"
    assert region_of("https://ws.example.com/live") is None
    ws = App("chat").websocket_api("live")

    class Cloud:
        region = "ap-south-1"

        def physical_id(self, resource: Any, suffix: str = "") -> str:
            return self.endpoint

        endpoint = "https://x1.execute-api.eu-west-3.amazonaws.com/live/"

    backend = AwsWebSocketApi(ws, Cloud())
    assert backend.client.meta.region_name == "eu-west-3"
    assert backend.client.meta.endpoint_url == "https://x1.execute-api.eu-west-3.amazonaws.com/live"
    Cloud.endpoint = "https://ws.example.com/prod"
    assert AwsWebSocketApi(ws, Cloud()).client.meta.region_name == "ap-south-1"  # a custom domain: the cloud's
    Cloud.endpoint = "wss://ws.example.com/prod"
    with pytest.raises(ValidationError, match="https:// @connections endpoint URL"):
        AwsWebSocketApi(ws, Cloud())


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("GoneException", 410, GoneException),
        ("PayloadTooLargeException", 413, PayloadTooLarge),
        ("ForbiddenException", 403, AccessDenied),
        ("LimitExceededException", 429, Throttled),
    ],
)
def test_management_api_errors_are_the_ports(
    cloud: MotoCloud, code: str, status: int, expected: type[Exception]
) -> None:
    ws, backend = bind(cloud)
    with Stubber(backend.client) as stub:
        stub.add_client_error(
            "post_to_connection",
            service_error_code=code,
            service_message="nope",
            http_status_code=status,
            expected_params={"ConnectionId": "c-9", "Data": b"hello"},
        )
        with pytest.raises(expected, match=r"nope|connection c-9 is gone"):
            ws.post("c-9", "hello")  # str data goes as UTF-8 bytes
        stub.assert_no_pending_responses()


def test_a_gone_connection_is_gone_for_every_call(cloud: MotoCloud) -> None:
    ws, backend = bind(cloud)
    with Stubber(backend.client) as stub:
        for operation in ("delete_connection", "get_connection"):
            stub.add_client_error(operation, service_error_code="GoneException", http_status_code=410)
        with pytest.raises(GoneException, match="connection gone-1 is gone") as info:
            ws.disconnect("gone-1")
        assert info.value.status == 410
        with pytest.raises(GoneException):
            ws.connection("gone-1")


def test_connection_info_reads_get_connection(cloud: MotoCloud) -> None:
    ws, backend = bind(cloud)
    connected = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    active = datetime(2025, 1, 2, 3, 9, 0, tzinfo=UTC)
    with Stubber(backend.client) as stub:
        stub.add_response(
            "get_connection",
            {
                "ConnectedAt": connected,
                "LastActiveAt": active,
                "Identity": {"SourceIp": "203.0.113.7", "UserAgent": "curl/8"},
            },
            {"ConnectionId": "c-1"},
        )
        info = ws.connection("c-1")
    assert info.connected_at == connected and info.last_active_at == active
    assert (info.source_ip, info.user_agent) == ("203.0.113.7", "curl/8")


def test_bound_through_aws_cloud_from_the_environment(cloud: MotoCloud) -> None:
    from stratus.aws.cloud import AwsCloud

    app = App("chat")
    ws = app.websocket_api("live")
    with AwsCloud(environ={"STRATUS_WEBSOCKET_API_LIVE": ENDPOINT}, region=REGION) as aws:
        aws.bind(app)
        ws.post("conn-7", "hello")
        assert ws.url.startswith("wss://a1b2c3d4e5.execute-api.")
    assert apigatewaymanagementapi_backends[ACCOUNT][REGION].connections["conn-7"].data == b"hello"


def test_the_management_client_is_the_clouds_at_the_apis_endpoint() -> None:
    """The client comes from the cloud (its session and credentials), asked for at the API's address."""
    ws = App("chat").websocket_api("live")
    asked: list[tuple[str, dict[str, Any]]] = []

    class Cloud:
        region = "ap-south-1"

        def physical_id(self, resource: Any, suffix: str = "") -> str:
            return "https://x1.execute-api.eu-west-3.amazonaws.com/live/"

        def client(self, service: str, **overrides: Any) -> Any:
            asked.append((service, overrides))
            return "the cloud's client"

    assert AwsWebSocketApi(ws, Cloud()).client == "the cloud's client"
    endpoint = "https://x1.execute-api.eu-west-3.amazonaws.com/live"
    assert asked == [("apigatewaymanagementapi", {"endpoint_url": endpoint, "region": "eu-west-3"})]


def test_through_aws_cloud_the_client_is_made_with_the_clouds_session() -> None:
    import boto3

    from stratus.aws.cloud import AwsCloud

    ws = App("chat").websocket_api("live")
    session = boto3.session.Session(aws_access_key_id="AKIDCLOUD", aws_secret_access_key="x", region_name=REGION)
    cloud = AwsCloud(environ={"STRATUS_WEBSOCKET_API_LIVE": ENDPOINT}, region="eu-west-1", session=session)
    backend = AwsWebSocketApi(ws, cloud)
    assert backend.client is cloud.client("apigatewaymanagementapi", endpoint_url=ENDPOINT, region=REGION)
    assert (backend.client.meta.endpoint_url, backend.client.meta.region_name) == (ENDPOINT, REGION)
    assert cloud.client("sqs").meta.region_name == "eu-west-1"  # other clients keep the cloud's region
