"""AwsHttpApi: the base URL from the physical identity, the OpenAPI document, and local-only calls."""

from __future__ import annotations

from typing import Any

import pytest

from stratus import App, ValidationError
from stratus.aws.adapters.http_api import AwsHttpApi, NotOnAws
from stratus.resources.api import HttpApi

URL = "https://k3x9q2abcd.execute-api.eu-central-1.amazonaws.com"


class Cloud:
    def __init__(self, url: str) -> None:
        self.url = url

    def physical_id(self, resource: Any, suffix: str = "") -> str:
        return self.url


def declare() -> HttpApi:
    app = App("shop")
    api = app.http_api("public")

    @api.get("/products/{id}")
    def product(event: Any, context: Any) -> dict[str, Any]:
        return {"statusCode": 200}

    return api


def test_url_and_api_id_come_from_the_physical_identity() -> None:
    api = declare()
    backend = AwsHttpApi(api, Cloud(URL + "/"))
    api.bind(backend)
    assert api.url == URL  # no local prefix: on AWS each API has its own domain
    assert backend.api_id == "k3x9q2abcd"
    assert AwsHttpApi(api, Cloud("https://api.example.com")).api_id is None  # a custom domain


def test_the_openapi_document_names_the_aws_url_and_the_routes_own_paths() -> None:
    api = declare()
    backend = AwsHttpApi(api, Cloud(URL))
    document = backend.openapi()
    assert document["servers"] == [{"url": URL}]
    assert list(document["paths"]) == ["/products/{id}"]  # type: ignore[call-overload]
    assert backend.openapi() is document  # built once


def test_invalidate_has_nothing_to_drop_on_aws() -> None:
    api = declare()
    api.bind(AwsHttpApi(api, Cloud(URL)))
    assert api.invalidate() == 0
    assert api.invalidate("/products/1") == 0
    with pytest.raises(ValidationError):
        api.invalidate("products")  # the handle still validates


def test_local_gateway_pages_raise_naming_the_alternative() -> None:
    backend = AwsHttpApi(declare(), Cloud(URL))
    with pytest.raises(NotOnAws, match=r"/docs is a page of the local gateway.*call openapi\(\)") as info:
        backend.document("/docs")
    assert info.value.code == "UnsupportedOperation"


@pytest.mark.parametrize("bad", ["k3x9q2abcd", "wss://x.execute-api.us-east-1.amazonaws.com", "https://"])
def test_a_physical_identity_that_is_not_a_base_url_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="must be the API's https:// base URL"):
        AwsHttpApi(declare(), Cloud(bad))


def test_bound_through_aws_cloud_from_the_environment() -> None:
    from stratus.aws.cloud import AwsCloud

    api = declare()
    with AwsCloud(environ={"STRATUS_HTTP_API_PUBLIC": URL}, region="eu-central-1") as cloud:
        cloud.bind(api.app)
        assert api.url == URL
        assert api.invalidate() == 0
