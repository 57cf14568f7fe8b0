"""Map (inline): runs its ItemProcessor once per item; the output is the list of results.

Items come from ItemsPath (JSONPath, default ``$``) or Items (JSONata, default the
input); each iteration's input is the item, or ItemSelector/Parameters evaluated with
``$$.Map.Item.Index`` / ``.Value``. An iteration failure fails the state unless
ToleratedFailureCount/Percentage allow it. Iterations run in order, one at a time, or
(``Runtime.concurrent_children``) overlapping while some wait, up to MaxConcurrency. A distributed Map
(ItemReader, ItemBatcher, ResultWriter) is compiled and run by :mod:`.distributed` when the
runner allows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stratus.workflows.errors import EXCEED_TOLERATED, QUERY_EVALUATION, RUNTIME, StatesError
from stratus.workflows.jsonata_expr import Expression, is_expression
from stratus.workflows.jsonpath import PathNotFound
from stratus.workflows.states.base import JSONATA_IO, JSONPATH_IO, Failed, Outcome, Problems, Spawn, State
from stratus.workflows.states.distributed import (
    ALLOWED,
    Distributed,
    batches,
    compile_distributed,
    read_items,
    write_results,
)
from stratus.workflows.templates import (
    Env,
    Template,
    compact,
    compile_jsonata_template,
    compile_jsonpath_template,
    type_name,
)

if TYPE_CHECKING:
    from stratus.workflows.engine import Frame, Runtime

_SHARED = {
    "ItemProcessor",
    "Iterator",
    "ItemSelector",
    "MaxConcurrency",
    "ToleratedFailureCount",
    "ToleratedFailurePercentage",
    "Retry",
    "Catch",
    "Assign",
    "Label",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
}


class MapState(State):
    type = "Map"
    JSONPATH_FIELDS = (
        JSONPATH_IO
        | _SHARED
        | {
            "ItemsPath",
            "Parameters",
            "ResultPath",
            "ResultSelector",
            "MaxConcurrencyPath",
            "ToleratedFailureCountPath",
            "ToleratedFailurePercentagePath",
        }
    )
    JSONATA_FIELDS = JSONATA_IO | _SHARED | {"Items"}

    def compile(self, problems: Problems) -> None:
        raw = self.raw
        self.processor = raw.get("ItemProcessor", raw.get("Iterator"))
        if "ItemProcessor" in raw and "Iterator" in raw:
            problems.add(self.where, "'ItemProcessor' and 'Iterator' cannot both be set")
        if not isinstance(self.processor, dict):
            problems.add(self.where, "a Map state needs 'ItemProcessor' (or 'Iterator')")
            self.processor = None
        config = self.processor.get("ProcessorConfig", {}) if isinstance(self.processor, dict) else {}
        if not isinstance(config, dict):
            problems.add(f"{self.where}/ItemProcessor/ProcessorConfig", "must be an object")
        self.distributed: Distributed | None = None
        mode = config.get("Mode", "INLINE") if isinstance(config, dict) else "INLINE"
        if mode == "DISTRIBUTED" and ALLOWED.get():
            self.distributed = compile_distributed(raw, self.where, problems)
        elif mode != "INLINE":
            problems.add(
                f"{self.where}/ItemProcessor/ProcessorConfig/Mode",
                f"only INLINE Map is supported by this engine (got {config.get('Mode')!r})",
            )
        for key in ("ItemReader", "ItemBatcher", "ResultWriter"):
            if key in raw and self.distributed is None:
                problems.add(f"{self.where}/{key}", "distributed Map is not supported by this engine")
        self.items_path = self.path_field("ItemsPath", problems)
        if self.items_path is not None and not self.items_path.is_reference:
            problems.add(f"{self.where}/ItemsPath", "must be a reference path (no wildcards or filters)")
        self.items_expr: Expression | None = None
        self.items_literal: Any = None
        if self.jsonata and "Items" in raw:
            if is_expression(raw["Items"]):
                self.items_expr = self.expression_field("Items", problems)
            elif isinstance(raw["Items"], list):
                self.items_literal = compile_jsonata_template(raw["Items"], f"{self.where}/Items", "Items", problems)
            else:
                problems.add(f"{self.where}/Items", "must be an array or a JSONata expression")
        self.selector: Template | None = None
        if "ItemSelector" in raw and "Parameters" in raw:
            problems.add(self.where, "'ItemSelector' and 'Parameters' cannot both be set")
        selector = raw.get("ItemSelector", raw.get("Parameters"))
        if selector is not None:
            if self.jsonata:
                self.selector = compile_jsonata_template(
                    selector, f"{self.where}/ItemSelector", "ItemSelector", problems
                )
            else:
                self.selector = compile_jsonpath_template(selector, f"{self.where}/ItemSelector", problems)
        self.parameters = None  # Parameters means ItemSelector in a Map state
        self.limits: dict[str, Any] = {}
        for key, low, high in (
            ("MaxConcurrency", 0, None),
            ("ToleratedFailureCount", 0, None),
            ("ToleratedFailurePercentage", 0, 100),
        ):
            if key in raw and f"{key}Path" in raw:
                problems.add(self.where, f"'{key}' and '{key}Path' cannot both be set")
            if key in raw:
                value = raw[key]
                if self.jsonata and is_expression(value):
                    self.limits[key] = self.expression_field(key, problems)
                elif (
                    not isinstance(value, int | float)
                    or isinstance(value, bool)
                    or value < low
                    or (high is not None and value > high)
                ):
                    problems.add(
                        f"{self.where}/{key}", f"must be a number >= {low}" + (f" and <= {high}" if high else "")
                    )
                else:
                    self.limits[key] = value
            elif f"{key}Path" in raw:
                self.limits[key] = self.path_field(f"{key}Path", problems)
        self.program = ""

    def sub_programs(self) -> list[tuple[str, Any, str]]:
        if self.processor is None:
            return []
        key = "ItemProcessor" if "ItemProcessor" in self.raw else "Iterator"
        return [("#map", self.processor, f"{self.where}/{key}")]

    def attach_program(self, suffix: str, key: str) -> None:
        self.program = key

    # -- running -----------------------------------------------------------------------------

    def _limit(self, key: str, rt: Runtime, frame: Frame, value: Any) -> Any:
        spec = self.limits.get(key)
        if spec is None or isinstance(spec, int | float):
            return spec
        if isinstance(spec, Expression):
            result = spec.evaluate(self.env(rt, frame, frame.input), key)
            if not isinstance(result, int | float) or isinstance(result, bool):
                raise StatesError(
                    QUERY_EVALUATION,
                    f"The JSONata expression '{spec.source}' specified for the field '{key}' returned an unexpected "
                    f"result type. Expected 'number', but was '{type_name(result)}' for value: {compact(result)}",
                )
            return result
        try:
            result = self.env(rt, frame, value).scope().read(spec)
        except PathNotFound as exc:
            raise StatesError(RUNTIME, f"The {key}Path field could not be found: {spec.text}") from exc
        number = result
        if isinstance(result, str):
            try:
                number = int(result)
            except ValueError:
                number = None
        if (
            not isinstance(number, int | float)
            or isinstance(number, bool)
            or (key != "ToleratedFailurePercentage" and not float(number).is_integer())
        ):
            shown = result if isinstance(result, str) else compact(result)
            raise StatesError(
                RUNTIME, f'The {key}Path field refers to value "{shown}" which is not a valid integer: {spec.text}'
            )
        return number

    def _items(self, rt: Runtime, frame: Frame, value: Any) -> list[Any]:
        if self.jsonata:
            if self.items_expr is not None:
                items = self.items_expr.evaluate(self.env(rt, frame, frame.input), "Items")
                if not isinstance(items, list):
                    raise StatesError(
                        QUERY_EVALUATION,
                        f"The JSONata expression '{self.items_expr.source}' specified for the field 'Items' returned "
                        f"an unexpected result type. Expected 'array', but was '{type_name(items)}' for value: "
                        f"{compact(items)}",
                    )
                return items
            if self.items_literal is not None:
                items = self.items_literal.evaluate(self.env(rt, frame, frame.input))
            else:
                items = frame.input
        elif self.items_path is not None:
            try:
                items = self.env(rt, frame, value).scope().read(self.items_path)
            except PathNotFound as exc:
                raise StatesError(RUNTIME, f"Invalid path '{self.items_path.text}' : {exc.message}") from exc
        else:
            items = value
        if not isinstance(items, list):
            error = QUERY_EVALUATION if self.jsonata else RUNTIME
            raise StatesError(error, f"Map state input must be an array but was: {compact(items)}")
        return items

    def enter(self, rt: Runtime, frame: Frame) -> Outcome:
        value = (
            frame.input if self.jsonata else self.apply_path(self.input_path, self.input_null, frame.input, rt, frame)
        )
        frame.data["value"] = value
        return self.act(rt, frame)

    def act(self, rt: Runtime, frame: Frame) -> Outcome:
        value = frame.data["value"]
        distributed = self.distributed
        if distributed is not None and distributed.reader is not None:
            items = read_items(distributed, rt, frame, self.name, value)
        else:
            items = self._items(rt, frame, value)
        if distributed is not None and distributed.batch_size is not None:
            items = batches(distributed, rt, frame, items, value)
        for key in ("MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage"):
            frame.data[key] = self._limit(key, rt, frame, value)
        frame.data["failures"] = 0
        rt.emit(frame, "MapStateStarted", {"length": len(items)})
        children = []
        for index, item in enumerate(items):
            map_item = {"Index": index, "Value": item}
            child_input = item
            if self.selector is not None:
                ctx = rt.context(frame)
                ctx["Map"] = {"Item": map_item}
                env = Env(value, ctx, frame.variables, now=rt.clock.now())
                child_input = self.selector.evaluate(env)
            child = rt.child_frame(self.program, child_input, frame, map_item=map_item)
            children.append(child)
        return Spawn(children)

    def concurrency(self, frame: Frame) -> int | None:
        limit = frame.data.get("MaxConcurrency")
        return int(limit) if limit else None  # 0 or absent: no limit

    def child_started(self, rt: Runtime, frame: Frame, child: Frame) -> None:
        index = child.map_item["Index"] if child.map_item else 0
        rt.emit(frame, "MapIterationStarted", {"name": self.name, "index": index})
        child.last_event = frame.last_event

    def child_finished(self, rt: Runtime, frame: Frame, child: Frame) -> Outcome | None:
        index = child.map_item["Index"] if child.map_item else 0
        frame.last_event = max(frame.last_event, child.last_event)
        details = {"name": self.name, "index": index}
        if child.status != "FAILED":
            rt.emit(frame, "MapIterationSucceeded", details)
            return None
        rt.emit(frame, "MapIterationFailed", details)
        frame.data["failures"] += 1
        count = frame.data.get("ToleratedFailureCount")
        percentage = frame.data.get("ToleratedFailurePercentage")
        if count is None and percentage is None:
            rt.emit(frame, "MapStateFailed")
            return Failed(child.error, child.cause)
        total = len(frame.children)
        failures = frame.data["failures"]
        within = (count is not None and failures <= count) or (
            percentage is not None and total and failures * 100.0 / total <= percentage
        )
        if not within:
            rt.emit(frame, "MapStateFailed")
            return Failed(EXCEED_TOLERATED, "The specified tolerated failure threshold was exceeded")
        return None

    def children_done(self, rt: Runtime, frame: Frame) -> Outcome:
        rt.emit(frame, "MapStateSucceeded")
        results = []
        for child in frame.children:
            if child.status == "FAILED":
                error: dict[str, Any] = {}
                if child.error is not None:
                    error["Error"] = child.error
                if child.cause is not None:
                    error["Cause"] = child.cause
                results.append(error)
            else:
                results.append(child.output)
        if self.distributed is not None and self.distributed.writer_parameters is not None:
            label = self.raw.get("Label") or self.name
            written = write_results(self.distributed, rt, frame, self.name, label, frame.children, frame.data["value"])
            return self.finish(rt, frame, written)
        return self.finish(rt, frame, results)
