// Traces: recent traces, and one trace as a waterfall of its spans (request, functions, messages, states).
import { badge, code, fmtMs, fmtTime, get, h, hashFor, link, section, table } from "../dom.js";

export async function render(main, params) {
  if (params.id) return waterfall(main, params.id);
  const data = await get("traces", { limit: 100 });
  main.append(h("h1", {}, "Traces"));
  const rows = data.traces.map((t) => [link(t.root, hashFor("traces", { id: t.trace_id })), fmtTime(t.start), fmtMs(t.duration_ms), String(t.spans),
    t.errors ? badge(`${t.errors} errors`, "error") : "—", h("code", {}, t.trace_id)]);
  main.append(table(["Root", "Started", "Duration", "Spans", "Errors", "Trace id"], rows, "Latest traces"));
}

async function waterfall(main, id) {
  const d = await get("trace", { id });
  const total = Math.max(d.end - d.start, 1e-6);
  main.append(h("p.crumbs", {}, link("Traces", "#/traces")), h("h1", {}, `Trace ${d.trace_id}`),
    h("p", {}, `${d.spans.length} spans over ${fmtMs(total * 1000)}, from ${fmtTime(d.start)}`));
  const list = h("ol.waterfall", { "aria-label": "spans in time order" });
  for (const span of d.spans) {
    const left = ((span.start - d.start) / total) * 100;
    const width = Math.max(((span.end - span.start) / total) * 100, 0.4);
    const bar = h("span.bar");
    bar.style.marginLeft = `${left.toFixed(3)}%`;
    bar.style.width = `${width.toFixed(3)}%`;
    bar.classList.add(`k-${span.kind}`);
    if (span.status === "ERROR") bar.classList.add("error");
    const name = h("span.name", {}, span.name);
    name.style.paddingLeft = `${span.depth * 1.1}rem`;
    const details = h("details", {}, h("summary", {}, name,
      h("span.kind", {}, span.kind), h("span.dur", {}, fmtMs(span.duration_ms)), span.status === "ERROR" ? badge("error", "error") : null),
      code(span.attributes, "span attributes"));
    list.append(h("li", {}, h("div.track", { "aria-hidden": "true" }, bar), details));
  }
  main.append(section("Waterfall", list));
  main.append(section("Log lines of this trace", table(["Time", "Stream", "Function", "Line"], d.logs.map((l) => [fmtTime(l.time), l.stream, l.function || "—",
    l.message || l.outcome || `${l.method || ""} ${l.path || ""} ${l.status || ""}`])) ));
}
