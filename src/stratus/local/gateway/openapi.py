"""The OpenAPI 3.1 document of an HTTP API, generated from its routes and pydantic models.

Request bodies, query parameters and responses take their JSON Schemas from pydantic
(into ``components.schemas``); path parameters come from the templates; authorizers
become security schemes. ``ANY`` routes use API Gateway's own extension
(``x-amazon-apigateway-any-method``), so the document also imports into API Gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, TypeAdapter

if TYPE_CHECKING:
    from stratus.resources.api import HttpApi, Route

REF = "#/components/schemas/{model}"
_ERROR = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "errors": {"type": "array", "items": {"type": "object"}}},
    "required": ["message"],
}


class _Schemas:
    def __init__(self) -> None:
        self.components: dict[str, Any] = {"Error": _ERROR}

    def ref(self, model: Any, mode: str) -> dict[str, Any]:
        if isinstance(model, type) and issubclass(model, BaseModel):
            schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
            self.components.update(schema.pop("$defs", {}))
            self.components[model.__name__] = schema
            return {"$ref": REF.format(model=model.__name__)}
        schema = TypeAdapter(model).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        self.components.update(schema.pop("$defs", {}))
        return schema


def _error(description: str) -> dict[str, Any]:
    schema = {"$ref": REF.format(model="Error")}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(route: Route, schemas: _Schemas, security: dict[str, Any]) -> dict[str, Any]:
    handler = getattr(route.function.handler, "__wrapped__", route.function.handler)
    doc = (handler.__doc__ or "").strip()
    op: dict[str, Any] = {"operationId": route.function.name}
    summary = route.summary or (doc.splitlines()[0] if doc else "")
    if summary:
        op["summary"] = summary
    if route.description or doc:
        op["description"] = route.description or doc
    if route.tags:
        op["tags"] = list(route.tags)
    params: list[dict[str, Any]] = []
    if route.template is not None:
        for seg in route.template.segments:
            if seg.kind != 2:
                name = seg.value + "+" if seg.kind == 0 else seg.value
                params.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    if route.query_model is not None:
        qschema = route.query_model.model_json_schema(ref_template=REF)
        schemas.components.update(qschema.pop("$defs", {}))
        required = set(qschema.get("required", []))
        for name, prop in qschema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    if params:
        op["parameters"] = params
    if route.request_model is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schemas.ref(route.request_model, "validation")}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if route.response_model is not None:
        ok["content"] = {"application/json": {"schema": schemas.ref(route.response_model, "serialization")}}
    responses: dict[str, Any] = {str(route.status): ok}
    if route.request_model is not None or route.query_model is not None:
        responses["400"] = _error("Invalid request")
    if route.request_model is not None:
        responses["415"] = _error("Unsupported media type")
    if route.authorizer is not None:
        responses["401"] = _error("Unauthorized")
        responses["403"] = _error("Forbidden")
        name = route.authorizer.name
        security.setdefault(name, {k: v for k, v in route.authorizer.security_scheme().items() if v is not None})
        op["security"] = [{name: list(route.scopes)}]
    if route.throttle is not None or route.api.throttle is not None:
        responses["429"] = _error("Too many requests")
    op["responses"] = responses
    return op


def openapi_document(api: HttpApi, *, server_url: str = "/") -> dict[str, Any]:
    schemas = _Schemas()
    security: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    default: dict[str, Any] | None = None
    for route in api.routes:
        op = _operation(route, schemas, security)
        if route.template is None:
            default = op
            continue
        item = paths.setdefault(route.path, {})
        method = "x-amazon-apigateway-any-method" if route.method == "ANY" else route.method.lower()
        item[method] = op
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": f"{api.app.name} {api.name}", "version": api.version},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": schemas.components},
    }
    if api.description:
        doc["info"]["description"] = api.description
    if security:
        doc["components"]["securitySchemes"] = security
    if default is not None:
        doc["x-amazon-apigateway-default-route"] = default
    return doc
