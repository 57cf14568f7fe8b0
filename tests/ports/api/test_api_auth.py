"""Authorizers: the contract (a test-only JWT-style authorizer), scopes/groups, the Lambda authorizer."""

from __future__ import annotations

from typing import Any

from stratus import App
from stratus.resources.api import Request
from stratus.resources.auth import Authorizer, AuthResult, Forbidden, FunctionAuthorizer, Unauthorized


class TokenTable(Authorizer):
    """Test double: bearer tokens mapped to claims and scopes."""

    kind = "jwt"
    name = "tokens"

    def __init__(self, tokens: dict[str, AuthResult]) -> None:
        self.tokens = tokens

    def authorize(self, event: dict[str, Any], route: Any) -> AuthResult:
        header = (event.get("headers") or {}).get("authorization", "")
        if not header.startswith("Bearer "):
            raise Unauthorized("missing bearer token")
        result = self.tokens.get(header[7:])
        if result is None:
            raise Unauthorized('the token has "expired"\r\n')
        if result.claims.get("banned"):
            raise Forbidden("banned")
        return result


ALICE = AuthResult("alice", {"sub": "alice", "cognito:groups": ["admins"]}, ["orders/write"], {})
BOB = AuthResult("bob", {"sub": "bob"}, ["orders/read"], {})
EVE = AuthResult("eve", {"sub": "eve", "banned": True}, [], {})


def jwt_app() -> App:
    app = App("auth")
    api = app.http_api("public", authorizer=TokenTable({"a": ALICE, "b": BOB, "e": EVE}))

    @api.get("/me")
    def me(request: Request, context: Any) -> dict[str, Any]:
        return {"claims": request.claims, "scopes": request.scopes, "authorizer": request.authorizer}

    @api.post("/orders", scopes=["orders/write", "orders/admin"])
    def write(request: Request, context: Any) -> str:
        return "written"

    @api.delete("/orders", groups=["admins"])
    def purge(request: Request, context: Any) -> str:
        return "purged"

    @api.get("/public", authorizer=None)
    def public(request: Request, context: Any) -> dict[str, Any]:
        return {"authorizer": request.authorizer}

    return app


def test_jwt_style_result_lands_in_request_context(serve: Any) -> None:
    with serve(jwt_app()) as (_, client):
        body = client.get("/auth/me", headers={"Authorization": "Bearer a"}).json()
        assert body["claims"] == {"sub": "alice", "cognito:groups": ["admins"]}
        assert body["scopes"] == ["orders/write"]
        assert body["authorizer"] == {"jwt": {"claims": body["claims"], "scopes": ["orders/write"]}}
        assert client.get("/auth/public").json() == {"authorizer": {}}


def test_unauthorized_is_401_with_bearer_challenge(serve: Any) -> None:
    with serve(jwt_app()) as (env, client):
        r = client.get("/auth/me")
        assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}
        assert r.headers["www-authenticate"] == 'Bearer error="invalid_token", error_description="missing bearer token"'
        r = client.get("/auth/me", headers={"Authorization": "Bearer nope"})
        assert r.headers["www-authenticate"].endswith('error_description="the token has expired"')
        assert client.get("/auth/me", headers={"Authorization": "Bearer e"}).status_code == 403
        logged = env.cloud.shared("functions", lambda: None).logs.read("access")
        assert all("Bearer" not in str(record) for record in logged)


def test_route_scopes_and_groups_are_checked(serve: Any) -> None:
    with serve(jwt_app()) as (_, client):
        assert client.post("/auth/orders", headers={"Authorization": "Bearer a"}).text == "written"
        r = client.post("/auth/orders", headers={"Authorization": "Bearer b"})
        assert r.status_code == 403 and r.json() == {"message": "Forbidden"}
        assert client.delete("/auth/orders", headers={"Authorization": "Bearer a"}).text == "purged"
        assert client.delete("/auth/orders", headers={"Authorization": "Bearer b"}).status_code == 403


def lambda_app(calls: list[dict[str, Any]]) -> App:
    app = App("lam")

    @app.function
    def check_key(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        token = event["identitySource"][0]
        if token == "explode":
            raise RuntimeError("authorizer bug")
        return {"isAuthorized": token.startswith("good"), "context": {"tenant": token[5:] or "none"}}

    api = app.http_api("public", authorizer=FunctionAuthorizer(check_key, cache_ttl=60))

    @api.get("/data")
    def data(request: Request, context: Any) -> dict[str, Any]:
        return request.authorizer

    return app


def test_function_authorizer_allows_denies_and_passes_context(serve: Any) -> None:
    calls: list[dict[str, Any]] = []
    with serve(lambda_app(calls)) as (_, client):
        r = client.get("/lam/data", headers={"Authorization": "good-acme"})
        assert r.status_code == 200
        assert r.json() == {"lambda": {"tenant": "acme"}}
        event = calls[0]
        assert event["version"] == "2.0" and event["type"] == "REQUEST"
        assert event["identitySource"] == ["good-acme"]
        assert event["routeKey"] == "GET /data"
        assert event["routeArn"].endswith("/$default/GET/data")
        r = client.get("/lam/data", headers={"Authorization": "bad"})
        assert r.status_code == 403 and r.json() == {"message": "Forbidden"}
        r = client.get("/lam/data", headers={"Authorization": "explode"})
        assert r.status_code == 500 and "bug" not in r.text


def test_function_authorizer_missing_identity_is_401_without_invoking(serve: Any) -> None:
    calls: list[dict[str, Any]] = []
    with serve(lambda_app(calls)) as (_, client):
        assert client.get("/lam/data").status_code == 401
        assert calls == []


def test_function_authorizer_caches_per_identity_on_the_clock(serve: Any) -> None:
    calls: list[dict[str, Any]] = []
    with serve(lambda_app(calls)) as (env, client):
        for _ in range(3):
            assert client.get("/lam/data", headers={"Authorization": "good-a"}).status_code == 200
        for _ in range(2):
            assert client.get("/lam/data", headers={"Authorization": "bad"}).status_code == 403
        assert len(calls) == 2  # one per identity, denials cached too
        client.get("/lam/data", headers={"Authorization": "good-b"})
        assert len(calls) == 3
        env.clock.advance(61)
        client.get("/lam/data", headers={"Authorization": "good-a"})
        assert len(calls) == 4


def test_function_authorizer_with_policy_responses_and_query_identity(serve: Any) -> None:
    app = App("pol")

    @app.function
    def policy(event: dict[str, Any], context: Any) -> dict[str, Any]:
        effect = "Allow" if event["identitySource"] == ["k1"] else "Deny"
        return {
            "principalId": "user-1",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["routeArn"]}],
            },
            "context": {"plan": "gold"},
        }

    authorizer = FunctionAuthorizer(
        policy, identity_sources=["$request.querystring.key"], cache_ttl=0, simple_responses=False
    )
    api = app.http_api("public", authorizer=authorizer)

    @api.get("/x")
    def x(request: Request, context: Any) -> dict[str, Any]:
        return request.authorizer

    with serve(app) as (_, client):
        assert client.get("/pol/x?key=k1").json() == {"lambda": {"plan": "gold"}}
        assert client.get("/pol/x?key=k2").status_code == 403
        assert client.get("/pol/x").status_code == 401
