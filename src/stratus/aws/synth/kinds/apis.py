"""HTTP APIs (AWS::Serverless::HttpApi) and WebSocket APIs (API Gateway v2, WEBSOCKET).

Routes of an HTTP API are the ``HttpApi`` events of their functions (see ``functions``);
this module writes the API itself: CORS, default-route throttling, and the authorizers
its routes name (JWT from a declared user pool, or a Lambda authorizer). Response caching
(``RouteCache``) has no HTTP API equivalent; it is served locally only. Authorizers API
Gateway cannot run (an API-key store: HTTP APIs have no usage plans) run in the route's
function instead, before its handler.
"""

from __future__ import annotations

from typing import Any

from stratus.aws.events import is_native
from stratus.aws.synth.errors import SynthError
from stratus.aws.synth.names import check_name, describe, logical_id, physical_name, resource_id, sub_arn
from stratus.aws.synth.synthesizer import Synthesizer, generator


def authorizer_name(authorizer: Any) -> str:
    """SAM authorizer names are alphanumeric."""
    return logical_id(str(authorizer.name))


def _authorizer(authorizer: Any, synth: Synthesizer, where: str) -> dict[str, Any]:
    if authorizer.kind == "jwt":
        pool = getattr(authorizer, "pool", None)
        if pool is None:
            issuer = getattr(authorizer, "issuer", None) or getattr(authorizer, "_issuer", None)
            if not isinstance(issuer, str):
                raise SynthError(f"{where}: JWT authorizer {authorizer.name!r} has neither a user pool nor an issuer")
            audience: list[Any] = list(authorizer.audience)
        else:
            pid = resource_id(pool)
            issuer = {"Fn::Sub": f"https://cognito-idp.${{AWS::Region}}.amazonaws.com/${{{pid}}}"}
            audience = [{"Ref": logical_id(pid, "Client", c)} for c in authorizer.audience]
        return {
            "IdentitySource": authorizer.identity_sources[0],
            "JwtConfiguration": {"issuer": issuer, "audience": audience},
        }
    if authorizer.kind == "lambda":
        function = authorizer.function
        spec: dict[str, Any] = {
            "FunctionArn": synth.function_arn(function),
            "AuthorizerPayloadFormatVersion": "2.0",
            "EnableSimpleResponses": authorizer.simple_responses,
            "EnableFunctionDefaultPermissions": True,
        }
        headers = [s.split(".", 2)[2] for s in authorizer.identity_sources if s.startswith("$request.header.")]
        queries = [s.split(".", 2)[2] for s in authorizer.identity_sources if s.startswith("$request.querystring.")]
        identity: dict[str, Any] = {"ReauthorizeEvery": authorizer.cache_ttl}
        if headers:
            identity["Headers"] = headers
        if queries:
            identity["QueryStrings"] = queries
        spec["Identity"] = identity
        return spec
    raise SynthError(f"{where}: authorizer {authorizer.name!r} of kind {authorizer.kind!r} has no AWS equivalent")


@generator("http_api")
def http_api(resource: Any, synth: Synthesizer) -> None:
    where = describe(resource)
    aid = resource_id(resource)
    authorizers: dict[str, Any] = {}
    for auth in [resource.authorizer, *(r.authorizer for r in resource.routes)]:
        if auth is not None and is_native(auth):
            authorizers[authorizer_name(auth)] = _authorizer(auth, synth, where)
    properties: dict[str, Any] = {
        "Name": check_name("http_api", physical_name(resource), where),
        "Description": resource.description or None,
        "Auth": {"Authorizers": authorizers} if authorizers else None,
    }
    if resource.authorizer is not None and is_native(resource.authorizer):
        properties["Auth"]["DefaultAuthorizer"] = authorizer_name(resource.authorizer)
    cors = resource.cors
    if cors is not None:
        properties["CorsConfiguration"] = {
            "AllowOrigins": list(cors.origins),
            "AllowMethods": list(cors.methods),
            "AllowHeaders": list(cors.headers) or None,
            "ExposeHeaders": list(cors.expose_headers) or None,
            "MaxAge": cors.max_age or None,
            "AllowCredentials": True if cors.credentials else None,
        }
        properties["CorsConfiguration"] = {k: v for k, v in properties["CorsConfiguration"].items() if v is not None}
    if resource.throttle is not None:
        properties["DefaultRouteSettings"] = {
            "ThrottlingBurstLimit": resource.throttle.burst,
            "ThrottlingRateLimit": float(resource.throttle.rate),
        }
    synth.template.add(aid, "AWS::Serverless::HttpApi", properties)
    synth.template.output(
        f"{aid}Url",
        {"Fn::Sub": f"https://${{{aid}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}"},
        f"Base URL of {where}",
    )


@generator("websocket_api")
def websocket_api(resource: Any, synth: Synthesizer) -> None:
    where = describe(resource)
    aid = resource_id(resource)
    synth.template.add(
        aid,
        "AWS::ApiGatewayV2::Api",
        {
            "Name": check_name("websocket_api", physical_name(resource), where),
            "ProtocolType": "WEBSOCKET",
            "RouteSelectionExpression": resource.route_selection,
            "Description": resource.description or None,
        },
    )
    route_ids = []
    for key, function in resource.routes.items():
        rid = logical_id(aid, "Route", key)
        integration = synth.template.add(
            f"{rid}Integration",
            "AWS::ApiGatewayV2::Integration",
            {
                "ApiId": {"Ref": aid},
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
                        "${Fn}/invocations",
                        {"Fn": synth.function_arn(function)},
                    ]
                },
            },
        )
        route_ids.append(
            synth.template.add(
                rid,
                "AWS::ApiGatewayV2::Route",
                {"ApiId": {"Ref": aid}, "RouteKey": key, "Target": {"Fn::Sub": f"integrations/${{{integration}}}"}},
            )
        )
        synth.allow_invoke(function, "apigateway.amazonaws.com", sub_arn("execute-api", f"${{{aid}}}/*"), rid)
    synth.template.add(
        f"{aid}Stage",
        "AWS::ApiGatewayV2::Stage",
        {"ApiId": {"Ref": aid}, "StageName": "live", "AutoDeploy": True},
        DependsOn=route_ids or None,
    )
    synth.template.output(
        f"{aid}Url",
        {"Fn::Sub": f"wss://${{{aid}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/live"},
        f"URL of {where}",
    )
