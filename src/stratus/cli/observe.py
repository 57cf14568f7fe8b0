"""`stratus logs`, `stratus metrics`, `stratus traces`: read a state folder's logs, metrics and traces.

They read the files of the state folder directly, so they work while `stratus up` runs (SQLite
WAL lets them read beside the writer) and after it stopped. Mount on the root app with
``app.command(name="logs")(observe.logs)`` and the same for ``metrics`` and ``traces``, or mount
:data:`app` (which holds the three) as a group.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from stratus.errors import ValidationError

app = typer.Typer(help="Logs, metrics and traces of a state folder (CloudWatch and X-Ray).", no_args_is_help=True)


def _console() -> Console:
    """The console; when output is not a terminal (a pipe, a file, a test) wide enough not to cut ids."""
    console = Console()
    return console if console.is_terminal else Console(width=240)


_SKIP = {"time", "stream", "function", "request_id", "trace_id", "message", "level", "outcome"}


def _time(value: str | None, label: str) -> float | None:
    from stratus.observability.logs import to_epoch

    try:
        return to_epoch(value)
    except ValidationError as exc:
        raise typer.BadParameter(exc.message, param_hint=label) from None


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _line(record: dict[str, Any]) -> str:
    from stratus.observability.logs import record_time

    parts = [_stamp(record_time(record)), f"[{record.get('stream', '?')}]"]
    for key in ("function", "request_id", "level", "outcome", "message"):
        if record.get(key) is not None:
            parts.append(str(record[key]))
    parts.extend(f"{k}={v}" for k, v in record.items() if k not in _SKIP)
    if record.get("trace_id"):
        parts.append(f"trace={record['trace_id']}")
    return " ".join(parts)


@app.command("logs")
def logs(
    function: str | None = typer.Option(None, "--function", "-f", help="Only this function (declared or full name)."),
    request_id: str | None = typer.Option(None, "--request-id", help="Only this request id."),
    trace_id: str | None = typer.Option(None, "--trace-id", help="Only this X-Ray trace id."),
    since: str | None = typer.Option(None, "--since", help="From this long ago (10m, 1h, 2d) or time (ISO/epoch)."),
    until: str | None = typer.Option(None, "--until", help="Up to this time (ISO/epoch) or this long ago."),
    text: str | None = typer.Option(None, "--text", help="Lines containing this text (case-insensitive)."),
    stream: str | None = typer.Option(None, "--stream", help="Only this stream (functions, access, app...)."),
    limit: int = typer.Option(100, "--limit", "-n", min=1, help="At most this many (the newest)."),
    follow: bool = typer.Option(False, "--follow", help="Keep printing new lines (Ctrl-C stops)."),
    as_json: bool = typer.Option(False, "--json", help="Print the records as JSON lines."),
    state_dir: Path = typer.Option(Path(".stratus"), "--state-dir", help="The state folder."),
) -> None:
    """Print log lines (invocations, HTTP access, handler logs), oldest first."""
    from stratus.observability.logs import query_logs, tail

    start, end = _time(since, "--since"), _time(until, "--until")
    console = _console()

    def show(record: dict[str, Any]) -> None:
        if as_json:
            typer.echo(json.dumps(record, default=str))
        else:
            console.print(_line(record), markup=False, highlight=False, soft_wrap=True)

    filters: dict[str, Any] = {
        "stream": stream,
        "function": function,
        "request_id": request_id,
        "trace_id": trace_id,
        "since": start,
        "text": text,
        "limit": limit,
    }
    try:
        if follow:
            try:
                for record in tail(state_dir, **filters):
                    show(record)
            except KeyboardInterrupt:
                return
        else:
            for record in query_logs(state_dir, until=end, **filters):
                show(record)
    except ValidationError as exc:
        raise typer.BadParameter(exc.message) from None


def _value(value: float | None) -> str:
    if value is None:
        return "-"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.2f}" if abs(value) >= 0.01 else f"{value:.3g}"


@app.command("metrics")
def metrics(
    namespace: str | None = typer.Option(None, "--namespace", help="Only this namespace (AWS/Lambda, AWS/SQS...)."),
    name: str | None = typer.Option(None, "--name", help="Only this metric name."),
    function: str | None = typer.Option(None, "--function", "-f", help="Only this function's series (full name)."),
    since: str = typer.Option("1h", "--since", help="Over this long ago (10m, 1h, 2d) or since a time."),
    state_dir: Path = typer.Option(Path(".stratus"), "--state-dir", help="The state folder."),
) -> None:
    """A table of the metric series with data, with their statistics over the window."""
    from stratus.observability.metric_store import Aggregate, MetricStore

    start = _time(since, "--since") or 0.0
    end = time.time() + 1
    console = _console()
    if not (state_dir / "metrics.db").exists():
        console.print(f"no metrics in {state_dir}")
        return
    store = MetricStore.open(state_dir)
    try:
        dimensions = {"FunctionName": function} if function else None
        table = Table(title=f"Metrics since {_stamp(start)} UTC")
        for column in (
            "Namespace",
            "Metric",
            "Dimensions",
            "Unit",
            "Samples",
            "Sum",
            "Avg",
            "Min",
            "Max",
            "p50",
            "p99",
        ):
            table.add_column(
                column, justify="left" if column in ("Namespace", "Metric", "Dimensions", "Unit") else "right"
            )
        rows = 0
        for series in store.list_metrics(namespace, name, dimensions):
            total = Aggregate()
            for _, agg in store.aggregates(series.namespace, series.name, series.dimensions, start, end):
                total.merge(agg)
            if total.count <= 0:
                continue
            dims = ", ".join(f"{k}={v}" for k, v in sorted(series.dimensions.items()))
            stats = [total.statistic(s) for s in ("SampleCount", "Sum", "Average", "Minimum", "Maximum", "p50", "p99")]
            table.add_row(series.namespace, series.name, dims, series.unit or "", *(_value(v) for v in stats))
            rows += 1
        if rows == 0:
            console.print("no datapoints in that window")
            return
        console.print(table)
    finally:
        store.db.close()


def _tree(node: dict[str, Any], into: Tree | None = None) -> Tree:
    label = f"{node['name']} [dim]({node['kind']})[/dim] {node['duration_ms']:.1f} ms"
    if node["status"] == "ERROR":
        label += f" [red]ERROR {node['attributes'].get('error.type', '')}[/red]"
    branch = Tree(label) if into is None else into.add(label)
    for child in node["children"]:
        _tree(child, branch)
    return branch


@app.command("traces")
def traces(
    trace_id: str | None = typer.Argument(None, help="Show this trace as a tree (X-Ray or OpenTelemetry id)."),
    since: str = typer.Option("1h", "--since", help="Recent traces from this long ago (10m, 1h, 2d) or a time."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="At most this many traces."),
    state_dir: Path = typer.Option(Path(".stratus"), "--state-dir", help="The state folder."),
) -> None:
    """Recent traces, or one trace as a tree of spans with their durations."""
    from stratus.observability.tracing import TraceStore

    console = _console()
    if not (state_dir / "traces.db").exists():
        console.print(f"no traces in {state_dir}")
        return
    store = TraceStore.open(state_dir)
    try:
        if trace_id is not None:
            roots = store.get_trace(trace_id)
            if not roots:
                console.print(f"no trace {trace_id}")
                raise typer.Exit(1)
            first = min(r["start"] for r in roots)
            console.print(f"trace {roots[0]['trace_id']} started {_stamp(first)} UTC")
            for root in roots:
                console.print(_tree(root))
            return
        summaries = store.recent_traces(limit, _time(since, "--since"))
        if not summaries:
            console.print("no traces in that window")
            return
        table = Table(title="Recent traces")
        for column in ("Trace ID", "Root", "Start (UTC)", "Duration ms", "Spans", "Errors"):
            table.add_column(column, justify="right" if column in ("Duration ms", "Spans", "Errors") else "left")
        for s in summaries:
            table.add_row(s.trace_id, s.root, _stamp(s.start), f"{s.duration_ms:.1f}", str(s.spans), str(s.errors or 0))
        console.print(table)
    finally:
        store.close()
