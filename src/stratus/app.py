"""The App: a system's declarations.

A system's ``app.py`` creates one ``App`` and declares its resources on it, top to
bottom, so the file reads as the system's architecture. Declaring never touches
storage; binding (to the local cloud or to AWS) happens later and elsewhere.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, overload

from stratus.errors import ValidationError

if TYPE_CHECKING:
    from stratus.resources.alarm import Alarm
    from stratus.resources.api import HttpApi
    from stratus.resources.api_keys import ApiKeys
    from stratus.resources.base import Resource
    from stratus.resources.bucket import Bucket
    from stratus.resources.cache import Cache
    from stratus.resources.event_bus import EventBus, InputTransformer
    from stratus.resources.function import Function, Handler
    from stratus.resources.keys import Key
    from stratus.resources.queue import Queue
    from stratus.resources.schedule import Schedule, Scheduler
    from stratus.resources.search import SearchIndex
    from stratus.resources.secrets import Secret
    from stratus.resources.sql import SqlDatabase
    from stratus.resources.stream import Stream
    from stratus.resources.table import Table
    from stratus.resources.topic import Topic
    from stratus.resources.userpool import UserPool
    from stratus.resources.websocket import WebSocketApi
    from stratus.resources.workflow import Workflow

P = ParamSpec("P")
R = TypeVar("R")

_APP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def _declares(factory: Callable[[], Callable[Concatenate[App, P], R]]) -> Callable[Concatenate[App, P], R]:
    """Make an App method that declares a resource of the class ``factory()`` returns.

    The class is imported lazily so that declaring one kind does not import every port.
    """

    def method(self: App, *args: P.args, **kwargs: P.kwargs) -> R:
        return factory()(self, *args, **kwargs)

    return method


def _lazy(module: str, attr: str) -> Callable[[], Any]:
    def load() -> Any:
        return getattr(importlib.import_module(module), attr)

    return load


def _is_function(obj: Any) -> bool:
    from stratus.resources.function import Function

    return isinstance(obj, Function)


class App:
    """One system: a name and the resources and functions declared on it."""

    def __init__(self, name: str, *, description: str = "") -> None:
        if not isinstance(name, str) or not _APP_NAME.match(name):
            raise ValidationError(
                f"app name {name!r} must be 1-40 characters of lower-case letters, digits and '-', "
                "starting with a letter"
            )
        self.name = name
        self.description = description
        self._resources: dict[tuple[str, str], Resource[Any]] = {}
        self.startup_hooks: list[Callable[[Any], None]] = []
        self.shutdown_hooks: list[Callable[[Any], None]] = []

    def _register(self, resource: Resource[Any]) -> None:
        key = (resource.kind, resource.name)
        if key in self._resources:
            raise ValidationError(f"app {self.name!r} already declares a {resource.kind} named {resource.name!r}")
        self._resources[key] = resource

    @property
    def resources(self) -> list[Resource[Any]]:
        """Every declared resource, in declaration order."""
        return list(self._resources.values())

    def resources_of(self, kind: str) -> Iterator[Resource[Any]]:
        return (r for r in self._resources.values() if r.kind == kind)

    def resource(self, kind: str, name: str) -> Resource[Any]:
        try:
            return self._resources[(kind, name)]
        except KeyError:
            from stratus.errors import ResourceNotFound

            raise ResourceNotFound(f"app {self.name!r} declares no {kind} named {name!r}") from None

    # Declarations. Each returns the typed handle; see the port module for its settings.
    if TYPE_CHECKING:
        table = _declares(lambda: Table)
        bucket = _declares(lambda: Bucket)
        sql = _declares(lambda: SqlDatabase)
        cache = _declares(lambda: Cache)
        search_index = _declares(lambda: SearchIndex)
        secret = _declares(lambda: Secret)
        key = _declares(lambda: Key)
        queue = _declares(lambda: Queue)
        stream = _declares(lambda: Stream)
        topic = _declares(lambda: Topic)
        event_bus = _declares(lambda: EventBus)
        schedule = _declares(lambda: Schedule)
        scheduler = _declares(lambda: Scheduler)
        http_api = _declares(lambda: HttpApi)
        websocket_api = _declares(lambda: WebSocketApi)
        user_pool = _declares(lambda: UserPool)
        alarm = _declares(lambda: Alarm)
        workflow = _declares(lambda: Workflow)
        api_keys = _declares(lambda: ApiKeys)
    else:
        table = _declares(_lazy("stratus.resources.table", "Table"))
        bucket = _declares(_lazy("stratus.resources.bucket", "Bucket"))
        sql = _declares(_lazy("stratus.resources.sql", "SqlDatabase"))
        cache = _declares(_lazy("stratus.resources.cache", "Cache"))
        search_index = _declares(_lazy("stratus.resources.search", "SearchIndex"))
        secret = _declares(_lazy("stratus.resources.secrets", "Secret"))
        key = _declares(_lazy("stratus.resources.keys", "Key"))
        queue = _declares(_lazy("stratus.resources.queue", "Queue"))
        stream = _declares(_lazy("stratus.resources.stream", "Stream"))
        topic = _declares(_lazy("stratus.resources.topic", "Topic"))
        event_bus = _declares(_lazy("stratus.resources.event_bus", "EventBus"))
        schedule = _declares(_lazy("stratus.resources.schedule", "Schedule"))
        scheduler = _declares(_lazy("stratus.resources.schedule", "Scheduler"))
        http_api = _declares(_lazy("stratus.resources.api", "HttpApi"))
        websocket_api = _declares(_lazy("stratus.resources.websocket", "WebSocketApi"))
        user_pool = _declares(_lazy("stratus.resources.userpool", "UserPool"))
        alarm = _declares(_lazy("stratus.resources.alarm", "Alarm"))
        workflow = _declares(_lazy("stratus.resources.workflow", "Workflow"))
        api_keys = _declares(_lazy("stratus.resources.api_keys", "ApiKeys"))

    @overload
    def function(self, handler: Handler, /) -> Function: ...

    @overload
    def function(
        self,
        *,
        name: str | None = None,
        timeout: float = 3,
        memory: int = 128,
        reserved_concurrency: int | None = None,
        init: Callable[[], Any] | None = None,
        retries: int = 2,
        max_event_age: int = 21600,
        on_success: Resource[Any] | None = None,
        on_failure: Resource[Any] | None = None,
        environment: dict[str, str] | None = None,
        description: str = "",
        deployment: str | None = None,
        uses: Sequence[Resource[Any]] = (),
    ) -> Callable[[Handler], Function]: ...

    def function(self, handler: Handler | None = None, /, **settings: Any) -> Any:  # type: ignore[misc]
        """Declare a function (Lambda); use as ``@app.function`` or ``@app.function(timeout=10, ...)``.

        The name defaults to the handler's ``__name__``. See
        :class:`~stratus.resources.function.Function` for the settings.
        """
        from stratus.resources.function import Function

        name = settings.pop("name", None)

        def declare(fn: Handler) -> Function:
            if isinstance(fn, Function):
                raise ValidationError(f"{fn.name!r} is already a declared function")
            return Function(self, name or fn.__name__, fn, **settings)

        return declare(handler) if handler is not None else declare

    def on_schedule(
        self, expression: str, *, name: str | None = None, timezone: str = "UTC", **settings: Any
    ) -> Callable[[Any], Function]:
        """Run a function on a schedule: ``@app.on_schedule("rate(5 minutes)")``.

        Declares the function (with defaults) if the decorated object is a plain callable, and a
        schedule named ``<function>-schedule`` (or ``name``) that targets it.
        """

        def bind(fn: Any) -> Function:
            function = fn if _is_function(fn) else self.function(fn)
            self.schedule(
                name or f"{function.name}-schedule", expression, target=function, timezone=timezone, **settings
            )
            return function

        return bind

    def on_topic(
        self,
        topic: Topic,
        *,
        filter_policy: dict[str, Any] | str | None = None,
        filter_scope: str = "MessageAttributes",
    ) -> Callable[[Any], Function]:
        """Subscribe a function to a topic: ``@app.on_topic(alerts, filter_policy={...})``."""

        from aws_lambda_powertools.utilities.data_classes import SNSEvent

        def bind(fn: Any) -> Function:
            function = fn if _is_function(fn) else self.function(fn)
            topic.subscribe(function, filter_policy=filter_policy, filter_scope=filter_scope)
            function.use_event_class(SNSEvent)
            return function

        return bind

    def on_event(
        self,
        bus: EventBus,
        *,
        pattern: dict[str, Any] | str,
        name: str | None = None,
        input_path: str | None = None,
        input_transformer: InputTransformer | None = None,
        dead_letter: Resource[Any] | None = None,
    ) -> Callable[[Any], Function]:
        """Run a function for events matching ``pattern``: ``@app.on_event(bus, pattern={...})``.

        Declares a rule named ``<function>-rule`` (or ``name``) with the function as its target.
        """
        from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

        from stratus.resources.event_bus import Target

        def bind(fn: Any) -> Function:
            function = fn if _is_function(fn) else self.function(fn)
            target = Target(
                function, input_path=input_path, input_transformer=input_transformer, dead_letter=dead_letter
            )
            bus.rule(name or f"{function.name}-rule", pattern=pattern, targets=[target])
            if input_path is None and input_transformer is None:
                function.use_event_class(EventBridgeEvent)
            return function

        return bind

    def on_queue(
        self,
        queue: Resource[Any],
        *,
        batch_size: int = 10,
        batching_window: int = 0,
        report_failures: bool = False,
        max_concurrency: int | None = None,
        filters: list[dict[str, Any]] | None = None,
    ) -> Callable[[Any], Function]:
        """Deliver a queue's messages to a function in batches (Lambda's SQS event-source mapping)."""
        from aws_lambda_powertools.utilities.data_classes import SQSEvent

        from stratus.resources.triggers import QueueSource, _filters

        source = QueueSource(
            queue, batch_size, batching_window, report_failures, max_concurrency, _filters("on_queue", filters)
        )
        return self._trigger(source, "queue", SQSEvent)

    def on_stream(
        self,
        source: Resource[Any],
        *,
        batch_size: int = 100,
        batching_window: int = 0,
        starting_position: str = "LATEST",
        bisect_on_error: bool = False,
        retry_attempts: int = -1,
        max_record_age: int = -1,
        on_failure: Resource[Any] | None = None,
        parallelization: int = 1,
        tumbling_window: int = 0,
        report_failures: bool = False,
        filters: list[dict[str, Any]] | None = None,
    ) -> Callable[[Any], Function]:
        """Deliver a Kinesis stream's or a table stream's records to a function, in order per shard."""
        from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, KinesisStreamEvent

        from stratus.resources.triggers import StreamSource, _filters

        spec = StreamSource(
            source,
            batch_size,
            batching_window,
            starting_position,
            bisect_on_error,
            retry_attempts,
            max_record_age,
            on_failure,
            parallelization,
            tumbling_window,
            report_failures,
            _filters("on_stream", filters),
        )
        event_class = DynamoDBStreamEvent if spec.is_table else KinesisStreamEvent
        return self._trigger(spec, "table_stream" if spec.is_table else "stream", event_class)

    def on_bucket(
        self,
        bucket: Resource[Any],
        *,
        events: tuple[str, ...] | list[str] = ("s3:ObjectCreated:*",),
        prefix: str = "",
        suffix: str = "",
    ) -> Callable[[Any], Function]:
        """Invoke a function for a bucket's object events (S3 event notifications)."""
        from aws_lambda_powertools.utilities.data_classes import S3Event

        from stratus.resources.bucket import BucketNotification
        from stratus.resources.bucket.notifications import validate_notifications
        from stratus.resources.triggers import BucketSource

        rule = BucketNotification(events=tuple(events), prefix=prefix, suffix=suffix)
        bind = self._trigger(BucketSource(bucket, rule), "bucket", S3Event)

        def declare(fn: Any) -> Function:
            # The bucket carries the rule too: S3's overlap rules are checked, the local log records
            # the events, and synthesis writes the notification configuration.
            named = BucketNotification(
                events=rule.events, prefix=prefix, suffix=suffix, id=f"{getattr(fn, 'name', fn.__name__)}"
            )
            rules = validate_notifications(bucket.name, [*bucket.notifications, named])  # type: ignore[attr-defined]
            function = bind(fn)
            bucket.notifications = rules  # type: ignore[attr-defined]
            return function

        return declare

    def _trigger(self, spec: Any, kind: str, event_class: type) -> Callable[[Any], Function]:
        from stratus.resources.function import Trigger

        source = getattr(spec, "queue", None) or getattr(spec, "source", None) or getattr(spec, "bucket", None)
        if source is not None and source.app is not self:
            raise ValidationError(f"{kind} trigger: {source!r} belongs to another app")

        def bind(fn: Any) -> Function:
            function = fn if _is_function(fn) else self.function(fn)
            function.add_trigger(Trigger(source, kind, {"spec": spec}))
            function.use_event_class(event_class)
            return function

        return bind

    def on_startup(self, hook: Callable[[Any], None]) -> Callable[[Any], None]:
        """Run ``hook(cloud)`` when the local cloud starts (e.g. a stand-in for a third-party service).

        Not run on AWS, where such services are real.
        """
        self.startup_hooks.append(hook)
        return hook

    def on_shutdown(self, hook: Callable[[Any], None]) -> Callable[[Any], None]:
        """Run ``hook(cloud)`` when the local cloud stops, in reverse order of declaration."""
        self.shutdown_hooks.append(hook)
        return hook

    def functions(self) -> list[Function]:
        """Every declared function, in declaration order."""
        return list(self.resources_of("function"))  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<App {self.name}: {len(self._resources)} resources>"
