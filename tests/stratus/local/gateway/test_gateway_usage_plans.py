"""API keys through the gateway: throttles and quotas answer 429; the user pool's JWKS is served."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from stratus import App
from stratus.local.gateway import build_gateway
from stratus.resources.api_keys import ApiKeyAuthorizer, UsagePlan
from stratus.testing import local


def test_usage_plan_throttle_and_quota_are_429s() -> None:
    app = App("keys")
    keys = app.api_keys("partners", plans=[UsagePlan("tiny", throttle=(1.0, 1), quota=(2, "DAY"))])
    api = app.http_api("partner-api", authorizer=ApiKeyAuthorizer(keys))

    @api.get("/ping")
    def ping(request: Any, context: Any) -> dict[str, str]:
        return {"ok": "yes"}

    with local(app) as env:
        key = keys.create_key("acme", "tiny")
        client = TestClient(build_gateway(env.cloud))
        headers = {"x-api-key": key.value}
        assert client.get("/keys/ping", headers=headers).status_code == 200
        throttled = client.get("/keys/ping", headers=headers)
        assert throttled.status_code == 429
        assert throttled.json() == {"message": "Too Many Requests"}
        assert int(throttled.headers["retry-after"]) >= 1
        env.advance(2)
        assert client.get("/keys/ping", headers=headers).status_code == 200
        env.advance(2)
        over = client.get("/keys/ping", headers=headers)
        assert over.status_code == 429
        assert over.json() == {"message": "Limit Exceeded"}
        assert client.get("/keys/ping", headers={"x-api-key": "wrong"}).status_code == 403


def test_user_pool_jwks_is_served_by_the_gateway() -> None:
    app = App("keys")
    from stratus.resources.userpool import AppClient

    pool = app.user_pool("customers", clients=[AppClient("web")])
    with local(app) as env:
        client = TestClient(build_gateway(env.cloud))
        response = client.get("/keys-customers/.well-known/jwks.json")
        assert response.status_code == 200
        assert response.json() == pool.jwks()
        assert response.json()["keys"][0]["alg"] == "RS256"
