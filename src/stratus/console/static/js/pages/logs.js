// Logs: recent lines with filters, and a live tail (SSE).
import { base, field, fmtTime, get, h, hashFor } from "../dom.js";

const HIDDEN = new Set(["time", "level", "message", "function", "stream"]);

function line(record) {
  const rest = Object.fromEntries(Object.entries(record).filter(([k]) => !HIDDEN.has(k)));
  const level = String(record.level || (record.outcome === "error" || record.outcome === "timeout" ? "ERROR" : "")).toUpperCase();
  return h(`li.logline${level === "ERROR" ? ".error" : ""}`, {},
    h("span.t", {}, fmtTime(record.time)), " ", h("span.s", {}, record.stream || ""), " ",
    level ? h("span.l", {}, level) : null, " ", record.function ? h("span.f", {}, record.function) : null, " ",
    h("span.m", {}, record.message || ""), " ", h("span.muted", {}, JSON.stringify(rest)),
    record.trace_id ? [" ", h("a", { href: hashFor("traces", { id: record.trace_id }) }, "trace")] : null);
}

export async function render(main, params) {
  main.append(h("h1", {}, "Logs"));
  const first = await get("logs", { limit: 1 });
  const stream = h("select", {}, h("option", { value: "" }, "every stream"), first.streams.map((x) => h("option", { selected: x === params.stream }, x)));
  const fn = h("input", { type: "text", value: params.function || "", spellcheck: "false", placeholder: "e.g. ecommerce-place_order or place_order" });
  const level = h("select", {}, ["", "DEBUG", "INFO", "WARNING", "ERROR"].map((x) => h("option", { value: x, selected: x === (params.level || "") }, x || "any level")));
  const text = h("input", { type: "search", value: params.text || "" });
  const follow = h("input", { type: "checkbox", checked: true });
  const list = h("ol.logs", { "aria-label": "log lines, newest last", tabindex: "0" });
  const state = h("p.muted", { role: "status" }, "");
  let source = null;
  const filters = () => ({ stream: stream.value, function: fn.value.trim(), level: level.value, text: text.value.trim() });
  const stop = () => { if (source) { source.close(); source = null; } };
  const load = async () => {
    stop();
    const data = await get("logs", { ...filters(), limit: 300 });
    list.replaceChildren(...data.records.map(line));
    list.scrollTop = list.scrollHeight;
    state.textContent = `${data.records.length} lines`;
    if (follow.checked) {
      const query = new URLSearchParams(Object.entries(filters()).filter(([, v]) => v));
      source = new EventSource(`${base}/api/logs/stream?${query}`);
      source.addEventListener("log", (event) => {
        const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
        list.append(line(JSON.parse(event.data)));
        while (list.childNodes.length > 2000) list.removeChild(list.firstChild);
        if (atBottom) list.scrollTop = list.scrollHeight;
        state.textContent = `${list.childNodes.length} lines · following`;
      });
      state.textContent += " · following";
    }
  };
  const form = h("form.panel", {}, h("div.row", {}, field("Stream", stream), field("Function", fn), field("Level", level), field("Text", text)),
    h("label.inline", {}, follow, " follow new lines (live tail)"), h("div.actions", {}, h("button", { type: "submit" }, "Apply")));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  follow.addEventListener("change", load);
  main.append(form, state, list);
  await load();
  return stop;
}
