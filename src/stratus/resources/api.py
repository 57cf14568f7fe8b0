"""HTTP APIs (API Gateway HTTP APIs, payload format 2.0): routes declared as functions.

    api = app.http_api("public", cors=Cors(origins=["https://shop.example"]), throttle=Throttle(1000, 2000))

    @api.get("/products/{id}", cache=RouteCache(ttl=60, key=["path.id"]), response=Product)
    def get_product(request: Request, context) -> Product: ...

    @api.post("/orders", authorizer=jwt, scopes=["orders/write"], request=NewOrder, status=201)
    def create_order(request, context): order = request.model

Each route declares one function (a Lambda per route, as AWS architects draw it) whose
handler receives a typed :class:`Request` and returns a :class:`Response` or a plain value.
The declared handler is wrapped so that model validation and response conversion happen
inside the function: the Lambda returns the 2.0 response dict on AWS exactly as it does
locally. Paths are validated when declared; serving, throttling, caching, CORS and
authorizers are the gateway's (``stratus.local.gateway`` locally, API Gateway on AWS).
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from stratus.errors import ValidationError
from stratus.resources.api_paths import ANY, DEFAULT_ROUTE, PathTemplate, parse_route_key
from stratus.resources.api_request import Request, RequestRejected
from stratus.resources.api_response import Response, ResponseValidationFailed, to_lambda_result
from stratus.resources.api_settings import Cors, RouteCache, Throttle
from stratus.resources.auth import Authorizer
from stratus.resources.base import Resource
from stratus.resources.function import Function, Trigger

if TYPE_CHECKING:
    from stratus.app import App

__all__ = [
    "Cors",
    "HttpApi",
    "HttpApiBackend",
    "Request",
    "Response",
    "ResponseValidationFailed",
    "Route",
    "RouteCache",
    "Throttle",
]

#: API Gateway's longest integration timeout for HTTP APIs.
MAX_INTEGRATION_TIMEOUT = 30.0
_INHERIT: Any = object()


@dataclass(eq=False)
class Route:
    """One declared route: its key, its function and what the gateway enforces for it."""

    api: HttpApi
    method: str  # GET, POST..., or ANY
    path: str  # the template, or "$default"
    template: PathTemplate | None  # None for $default
    function: Function
    authorizer: Authorizer | None = None
    scopes: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    request_model: type[BaseModel] | None = None
    query_model: type[BaseModel] | None = None
    response_model: Any = None
    status: int = 200
    throttle: Throttle | None = None
    cache: RouteCache | None = None
    timeout: float = MAX_INTEGRATION_TIMEOUT
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """The route key as API Gateway writes it: ``GET /products/{id}``, ``ANY /x``, ``$default``."""
        return DEFAULT_ROUTE if self.template is None else f"{self.method} {self.path}"

    @property
    def is_default(self) -> bool:
        return self.template is None

    def settings(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "function": self.function.name,
            "authorizer": self.authorizer.name if self.authorizer else None,
            "scopes": list(self.scopes),
            "groups": list(self.groups),
            "status": self.status,
            "timeout": self.timeout,
            "throttle": self.throttle.settings() if self.throttle else None,
            "cache": self.cache.settings() if self.cache else None,
        }

    def __repr__(self) -> str:
        return f"<Route {self.key} -> {self.function.name}>"


class HttpApiBackend(ABC):
    """What a runtime provides for a declared HTTP API (serving is the gateway's job)."""

    @abstractmethod
    def invalidate(self, path: str | None = None) -> int:
        """Drop cached responses (all, or those of one request path); returns how many."""

    @property
    @abstractmethod
    def url(self) -> str:
        """Where the API is served (``http://127.0.0.1:8000/shop`` locally)."""


class HttpApi(Resource[HttpApiBackend]):
    """A declared HTTP API: a prefix, defaults, and routes (each a function)."""

    kind = "http_api"
    max_name_length = 128

    def __init__(
        self,
        app: App,
        name: str,
        *,
        prefix: str | None = None,
        cors: Cors | None = None,
        throttle: Throttle | None = None,
        authorizer: Authorizer | None = None,
        description: str = "",
        version: str = "1.0.0",
    ) -> None:
        super().__init__(app, name)
        prefix = f"/{app.name}" if prefix is None else prefix
        if not isinstance(prefix, str) or not (prefix == "" or (prefix.startswith("/") and not prefix.endswith("/"))):
            raise ValidationError(f"http_api {name!r}: prefix must be '' or start with '/' without a trailing '/'")
        if prefix in ("/_s3", "/_health", "/_console") or prefix.startswith(("/_s3/", "/_health/", "/_console/")):
            raise ValidationError(f"http_api {name!r}: prefix {prefix!r} is reserved by the gateway")
        for other in app.resources_of("http_api"):
            if getattr(other, "prefix", None) == prefix:
                raise ValidationError(f"http_api {name!r}: prefix {prefix!r} is already used by {other.name!r}")
        for label, value, kind in (("cors", cors, Cors), ("throttle", throttle, Throttle)):
            if value is not None and not isinstance(value, kind):
                raise ValidationError(f"http_api {name!r}: {label} must be a {kind.__name__}, got {value!r}")
        if authorizer is not None and not isinstance(authorizer, Authorizer):
            raise ValidationError(f"http_api {name!r}: authorizer must be an Authorizer, got {authorizer!r}")
        self.prefix = prefix
        self.cors = cors
        self.throttle = throttle
        self.authorizer = authorizer
        self.description = description
        self.version = version
        self.routes: list[Route] = []

    # -- declaring routes ---------------------------------------------------------------
    def route(
        self,
        method: str,
        path: str,
        *,
        name: str | None = None,
        authorizer: Authorizer | None = _INHERIT,
        scopes: list[str] | tuple[str, ...] = (),
        groups: list[str] | tuple[str, ...] = (),
        request: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        throttle: Throttle | None = None,
        cache: RouteCache | None = None,
        timeout: float = MAX_INTEGRATION_TIMEOUT,
        summary: str = "",
        description: str = "",
        tags: list[str] | tuple[str, ...] = (),
        **function_settings: Any,
    ) -> Callable[[Callable[..., Any]], Function]:
        """Declare ``METHOD path`` served by the decorated handler (declared as a function).

        ``timeout`` is both the function's timeout and the integration timeout (at most
        30 s); other keyword arguments (``memory``, ``reserved_concurrency``,
        ``environment``...) are the function's settings.
        """
        method, template = parse_route_key(method, path)
        key = DEFAULT_ROUTE if template is None else f"{method} {path}"
        label = f"route {key!r} of http_api {self.name!r}"
        for existing in self.routes:
            if existing.key == key or (
                template is not None
                and existing.template is not None
                and existing.method == method
                and _same_shape(existing.template, template)
            ):
                raise ValidationError(f"{label} conflicts with the declared route {existing.key!r}")
        if authorizer is not _INHERIT and authorizer is not None and not isinstance(authorizer, Authorizer):
            raise ValidationError(f"{label}: authorizer must be an Authorizer or None")
        effective_auth = self.authorizer if authorizer is _INHERIT else authorizer
        scopes_t, groups_t = _strings(label, "scopes", scopes), _strings(label, "groups", groups)
        if (scopes_t or groups_t) and effective_auth is None:
            raise ValidationError(f"{label}: scopes/groups need an authorizer")
        for model_label, model in (("request", request), ("query", query)):
            if model is not None and not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise ValidationError(f"{label}: {model_label} must be a pydantic model class")
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ValidationError(f"{label}: status must be an HTTP status code")
        if throttle is not None and not isinstance(throttle, Throttle):
            raise ValidationError(f"{label}: throttle must be a Throttle")
        if cache is not None:
            if not isinstance(cache, RouteCache):
                raise ValidationError(f"{label}: cache must be a RouteCache")
            if method not in ("GET", "HEAD", ANY):
                raise ValidationError(f"{label}: only GET and HEAD responses are cached")
            params = set(template.params) if template is not None else set()
            for k in cache.key:
                if k.startswith("path.") and k[5:] not in params:
                    raise ValidationError(f"{label}: cache key {k!r} names no path parameter of the route")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0.05 <= timeout <= 30:
            raise ValidationError(f"{label}: timeout must be from 0.05 to {MAX_INTEGRATION_TIMEOUT:g} seconds")

        def declare(handler: Callable[..., Any]) -> Function:
            if isinstance(handler, Function):
                raise ValidationError(f"{label}: decorate the plain handler, not an already declared function")
            if not callable(handler):
                raise ValidationError(f"{label}: handler must be callable")
            route = Route(
                api=self,
                method=method,
                path=path,
                template=template,
                function=None,  # type: ignore[arg-type]
                authorizer=effective_auth,
                scopes=scopes_t,
                groups=groups_t,
                request_model=request,
                query_model=query,
                response_model=response,
                status=status,
                throttle=throttle,
                cache=cache,
                timeout=float(timeout),
                summary=summary,
                description=description,
                tags=_strings(label, "tags", tags),
            )
            function_timeout = max(1.0, float(timeout))
            function = self.app.function(name=name or handler.__name__, timeout=function_timeout, **function_settings)(
                _route_handler(route, handler)
            )
            route.function = function
            function.add_trigger(Trigger(self, "http", {"api": self.name, "route": route}))
            function.use_event_class(Request)
            self.routes.append(route)
            return function

        return declare

    def get(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        return self.route("DELETE", path, **options)

    def head(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        return self.route("HEAD", path, **options)

    def options(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        return self.route("OPTIONS", path, **options)

    def any(self, path: str, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        return self.route(ANY, path, **options)

    def default(self, **options: Any) -> Callable[[Callable[..., Any]], Function]:
        """The ``$default`` route: requests no other route matches."""
        return self.route(ANY, DEFAULT_ROUTE, **options)

    # -- at run time ----------------------------------------------------------------------
    def invalidate(self, path: str | None = None) -> int:
        """Drop cached responses: all of them, or those cached for request path ``path``."""
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            raise ValidationError(f"invalidate: path must start with '/', got {path!r}")
        return self.backend.invalidate(path)

    @property
    def url(self) -> str:
        return self.backend.url

    def settings(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "cors": self.cors.settings() if self.cors else None,
            "throttle": self.throttle.settings() if self.throttle else None,
            "authorizer": self.authorizer.settings() if self.authorizer else None,
            "routes": [r.settings() for r in self.routes],
        }


def _same_shape(a: PathTemplate, b: PathTemplate) -> bool:
    """Two templates that differ only in parameter names match the same requests."""
    return [(s.kind, s.value if s.kind == 2 else "") for s in a.segments] == [
        (s.kind, s.value if s.kind == 2 else "") for s in b.segments
    ]


def _strings(label: str, setting: str, values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ValidationError(f"{label}: {setting} must be a list of strings")
    return tuple(values)


def _route_handler(route: Route, handler: Callable[..., Any]) -> Callable[..., Any]:
    """The function's real handler: models in, handler, 2.0 response dict out."""

    def prepare(event: Any) -> Request:
        request = event if isinstance(event, Request) else Request(event)
        request.validate_models(route.request_model, route.query_model)
        return request

    if inspect.iscoroutinefunction(handler):

        @functools.wraps(handler)
        async def handle_async(event: Any, context: Any) -> dict[str, Any]:
            try:
                request = prepare(event)
            except RequestRejected as rejected:
                return rejected.response.to_lambda_result()
            result = await handler(request, context)
            return to_lambda_result(result, status=route.status, model=route.response_model)

        return handle_async

    @functools.wraps(handler)
    def handle(event: Any, context: Any) -> dict[str, Any]:
        try:
            request = prepare(event)
        except RequestRejected as rejected:
            return rejected.response.to_lambda_result()
        result = handler(request, context)
        return to_lambda_result(result, status=route.status, model=route.response_model)

    return handle
