"""The console's HTTP surface: the page, its JSON endpoints, admin actions and live updates (SSE).

Mounted at ``/_console`` on the gateway (:func:`create_console`). Every endpoint reads the
bound Apps of one :class:`~stratus.local.cloud.LocalCloud` through the ports' public handles.
Reads are GETs; actions are POSTs checked by :mod:`stratus.console.security`.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import AsyncIterator, Callable
from importlib import resources as package_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from stratus.console import views
from stratus.console.jsonify import Json, error, plain
from stratus.console.live import pulse_of, snapshot
from stratus.console.security import admin_problem, csrf_problem, ensure_admin_token
from stratus.errors import ResourceNotFound, StratusError

if TYPE_CHECKING:
    from stratus.local.cloud import LocalCloud

STATIC = Path(str(package_resources.files("stratus.console") / "static"))
#: How long one SSE connection lasts before the browser reconnects (EventSource does so by itself).
SSE_LIFETIME = 300.0
SSE_INTERVAL = 2.0
MAX_BODY = 1024 * 1024

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

Handler = Callable[..., Any]


class _StaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(PAGE_HEADERS)
        return response


def _get(fn: Callable[[LocalCloud, Request], Any], cloud: LocalCloud) -> Handler:
    def endpoint(request: Request) -> Response:
        try:
            return Json(fn(cloud, request))
        except ResourceNotFound as exc:
            return error(str(exc), 404, getattr(exc, "code", None))
        except StratusError as exc:
            return error(str(exc), 400, exc.code)
        except ValueError as exc:
            return error(str(exc), 400)

    return endpoint


def _post(
    fn: Callable[[LocalCloud, Request, dict[str, Any]], Any], cloud: LocalCloud, token: str, admin: bool
) -> Handler:
    async def endpoint(request: Request) -> Response:
        problem = csrf_problem(request)
        if problem is not None:
            return error(problem, 403, "Forbidden")
        if admin:
            problem = admin_problem(request, token)
            if problem is not None:
                return error(problem, 401 if "token" in problem else 403, "AdminTokenRequired")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return error("request body too large", 413)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return error("the body is not JSON", 400)
        if not isinstance(body, dict):
            return error("the body must be a JSON object", 400)

        def run() -> Response:
            try:
                return Json(fn(cloud, request, body))
            except ResourceNotFound as exc:
                return error(str(exc), 404, getattr(exc, "code", None))
            except StratusError as exc:
                return error(str(exc), 400, exc.code)
            except ValueError as exc:
                return error(str(exc), 400)

        return await asyncio.to_thread(run)

    return endpoint


def _sse(cloud: LocalCloud) -> Handler:
    # One snapshot serves every open page for a moment: ten tabs do not read the queues ten times.
    cache: dict[str, Any] = {"at": -1.0, "data": None}

    def shared_snapshot() -> Any:
        now = time.monotonic()
        if cache["data"] is None or now - cache["at"] >= SSE_INTERVAL / 2:
            cache["data"], cache["at"] = snapshot(cloud), now
        return cache["data"]

    async def live(request: Request) -> Response:
        once = request.query_params.get("once") == "1"

        async def events() -> AsyncIterator[bytes]:
            started = time.monotonic()
            yield b"retry: 3000\n\n"
            while True:
                data = await asyncio.to_thread(shared_snapshot)
                yield f"event: counters\ndata: {json.dumps(plain(data))}\n\n".encode()
                if once or time.monotonic() - started > SSE_LIFETIME:
                    return
                await asyncio.sleep(SSE_INTERVAL)
                if await request.is_disconnected():
                    return

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    return live


def _log_stream(cloud: LocalCloud) -> Handler:
    async def tail(request: Request) -> Response:
        once = request.query_params.get("once") == "1"
        filters = views.log_filters(request)
        folder = cloud.state_dir / "logs"

        async def events() -> AsyncIterator[bytes]:
            started = time.monotonic()
            yield b"retry: 3000\n\n"
            offsets = await asyncio.to_thread(views.log_offsets, folder)
            while True:
                records, offsets = await asyncio.to_thread(views.read_new_lines, folder, offsets, filters)
                for record in records:
                    yield f"event: log\ndata: {json.dumps(plain(record))}\n\n".encode()
                if once or time.monotonic() - started > SSE_LIFETIME:
                    yield b"event: end\ndata: {}\n\n"
                    return
                await asyncio.sleep(1.0)
                if await request.is_disconnected():
                    return

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    return tail


def console_routes(cloud: LocalCloud, *, admin_token: str | None = None) -> list[Any]:
    """The console's routes, relative to where they are mounted (``/_console``)."""
    token = admin_token or ensure_admin_token(cloud.state_dir)
    pulse_of(cloud)  # start counting invocations now, not when the page first asks

    template = (STATIC / "index.html").read_text(encoding="utf-8")

    async def page(request: Request) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return HTMLResponse(template.replace("{{base}}", html.escape(root, quote=True)), headers=PAGE_HEADERS)

    async def session(request: Request) -> Response:
        from stratus.console.security import is_local_request

        return Json({"local": is_local_request(request), "needs_token": not is_local_request(request)})

    get = [
        ("/api/overview", views.overview),
        ("/api/map", views.map_view),
        ("/api/functions", views.functions),
        ("/api/function", views.function_detail),
        ("/api/apis", views.apis),
        ("/api/tables", views.tables),
        ("/api/table/items", views.table_items),
        ("/api/table/history", views.table_history),
        ("/api/queues", views.queues),
        ("/api/queue", views.queue_detail),
        ("/api/topics", views.topics),
        ("/api/buses", views.buses),
        ("/api/bus/archive", views.bus_archive),
        ("/api/workflows", views.workflows),
        ("/api/executions", views.executions),
        ("/api/execution", views.execution_detail),
        ("/api/traces", views.traces),
        ("/api/trace", views.trace_detail),
        ("/api/metrics", views.metrics_list),
        ("/api/metric", views.metric_data),
        ("/api/alarms", views.alarms),
        ("/api/logs", views.logs),
    ]
    post: list[tuple[str, Callable[..., Any], bool]] = [
        ("/api/function/invoke", views.invoke_function, True),
        ("/api/auth/token", views.user_pool_token, False),
        ("/api/bus/test", views.test_event, False),
        ("/api/bus/replay", views.replay_archive, True),
        ("/api/queue/redrive", views.redrive_queue, True),
        ("/api/queue/send", views.send_message, True),
        ("/api/topic/publish", views.publish_message, True),
        ("/api/workflow/start", views.start_execution, True),
        ("/api/execution/redrive", views.redrive_execution, True),
        ("/api/execution/task-success", views.task_success, True),
        ("/api/execution/task-failure", views.task_failure, True),
    ]
    routes: list[Any] = [
        Route("/", page, methods=["GET"]),
        Route("/api/session", session, methods=["GET"]),
        Route("/api/live", _sse(cloud), methods=["GET"]),
        Route("/api/logs/stream", _log_stream(cloud), methods=["GET"]),
    ]
    routes += [Route(path, _get(fn, cloud), methods=["GET"]) for path, fn in get]
    routes += [Route(path, _post(fn, cloud, token, admin), methods=["POST"]) for path, fn, admin in post]
    routes.append(Mount("/static", app=_StaticFiles(directory=STATIC), name="static"))
    return routes


def create_console(cloud: LocalCloud, *, admin_token: str | None = None) -> Starlette:
    """The console as an ASGI app, to mount at ``/_console`` on the gateway."""

    async def not_found(request: Request, exc: Exception) -> Response:
        return error("Not Found", 404)

    return Starlette(
        routes=console_routes(cloud, admin_token=admin_token),
        exception_handlers={404: not_found},
    )
