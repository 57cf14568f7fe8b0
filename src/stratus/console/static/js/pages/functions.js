// Functions: invocations, errors, throttles, p50/p99, cold starts; one function's invocations and log lines.
import { act, badge, code, field, fmtMs, fmtNum, fmtTime, get, h, hashFor, link, parseJson, post, section, table, toast } from "../dom.js";

export async function render(main, params) {
  if (params.name) return detail(main, params);
  const data = await get("functions", { minutes: params.minutes || 60 });
  main.append(h("h1", {}, "Functions"),
    h("p.lede", {}, `Over the last ${data.minutes} minutes (metrics store); in flight and environments now.`));
  const rows = data.functions.map((f) => [
    link(`${f.system} / ${f.name}`, hashFor("functions", { system: f.system, name: f.name })),
    f.triggers.join(", ") || "—",
    fmtNum(f.invocations), f.errors ? badge(String(f.errors), "error") : "0", fmtNum(f.throttles),
    fmtMs(f.p50_ms), fmtMs(f.p99_ms), fmtNum(f.cold_starts), fmtNum(f.in_flight),
  ]);
  main.append(table(["Function", "Triggered by", "Invocations", "Errors", "Throttles", "p50", "p99", "Cold starts", "In flight"], rows, "Functions of every system"));
}

async function detail(main, params) {
  const f = await get("function", { system: params.system, name: params.name });
  main.append(
    h("p.crumbs", {}, link("Functions", "#/functions"), " / ", f.system),
    h("h1", {}, f.name),
    f.description ? h("p", {}, f.description) : null,
    h("dl.facts", {},
      h("dt", {}, "Triggered by"), h("dd", {}, f.triggers.join(", ") || "direct invocation only"),
      h("dt", {}, "Uses"), h("dd", {}, f.uses.join(", ") || "—"),
      h("dt", {}, "Handler"), h("dd", {}, f.settings.handler),
      h("dt", {}, "Timeout / memory"), h("dd", {}, `${f.settings.timeout} s / ${f.settings.memory} MB`),
      h("dt", {}, "Environment"), h("dd", {}, f.settings.environment.length ? `${f.settings.environment.join(", ")} (values hidden)` : "—"),
      h("dt", {}, "Last hour"), h("dd", {}, `${f.stats.invocations} invocations, ${f.stats.errors} errors, ${f.stats.throttles} throttles, p50 ${fmtMs(f.stats.p50_ms)}, p99 ${fmtMs(f.stats.p99_ms)}, ${f.stats.cold_starts} cold starts`)));

  const input = h("textarea", { rows: 6, spellcheck: "false" }, "{}");
  const result = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Invoke");
  const form = h("form.panel", {}, field("Event (JSON)", input), h("div.actions", {}, button), result);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(button, async () => {
      const event = parseJson(input.value, "the event");
      const answer = await post("function/invoke", { system: f.system, name: f.name, event });
      result.replaceChildren(answer.ok ? h("h3", {}, "Result") : h("h3.error", {}, "Error"), code(answer.ok ? answer.result : answer.error));
      toast(answer.ok ? "invoked" : "the function raised an error", answer.ok ? "info" : "error");
    });
  });
  main.append(section("Invoke with this JSON", form));

  const rows = f.invocations.map((inv) => [
    fmtTime(inv.time), badge(inv.outcome, inv.outcome), fmtMs(inv.duration_ms), inv.source || "",
    inv.init_ms !== undefined ? "cold" : "warm",
    inv.trace_id ? link("trace", hashFor("traces", { id: inv.trace_id })) : "—",
    inv.lines.length ? h("ul.loglines", {}, inv.lines.map((l) => h("li", {}, `${l.level || ""} ${l.message || ""} `,
      h("span.muted", {}, JSON.stringify(Object.fromEntries(Object.entries(l).filter(([k]) => !["time", "level", "message", "function", "request_id", "trace_id", "stream"].includes(k)))))))) : (inv.error_type || "—"),
  ]);
  main.append(section("Recent invocations", table(["Time", "Outcome", "Duration", "Source", "Start", "Trace", "Log lines"], rows)));
}
