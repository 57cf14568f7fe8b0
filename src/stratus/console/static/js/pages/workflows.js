// Workflows: executions by status; one execution's state graph with the path taken, each state's
// input/output, retries and errors; start, redrive, and task success/failure for waiting executions.
import { act, badge, code, field, fmtTime, get, h, hashFor, link, parseJson, post, section, table, toast } from "../dom.js";
import { drawGraph } from "../graph.js";

const STATUSES = ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"];

export async function render(main, params) {
  if (params.arn) return watch(main, params);
  if (params.name) return executions(main, params);
  const data = await get("workflows");
  main.append(h("h1", {}, "Workflows"));
  const rows = data.workflows.map((w) => [
    link(`${w.system} / ${w.name}`, hashFor("workflows", { system: w.system, name: w.name })), w.type,
    h("span", {}, Object.entries(w.counts).map(([k, v]) => [badge(`${k.toLowerCase()} ${v}`, k), " "])),
  ]);
  main.append(table(["Workflow", "Type", "Executions"], rows, "State machines of every system"));
}

async function executions(main, params) {
  const data = await get("executions", { system: params.system, name: params.name, status: params.status, limit: 200 });
  main.append(h("p.crumbs", {}, link("Workflows", "#/workflows"), " / ", params.system), h("h1", {}, `Workflow ${params.name}`));
  const status = h("select", {}, STATUSES.map((st) => h("option", { value: st, selected: st === (params.status || "") }, st ? st.toLowerCase() : "any status")));
  status.addEventListener("change", () => { location.hash = hashFor("workflows", { system: params.system, name: params.name, status: status.value }); });
  const rows = data.executions.map((e) => [link(e.name, hashFor("workflows", { arn: e.arn })), badge(e.status.toLowerCase(), e.status),
    fmtTime(e.start), fmtTime(e.stop), e.error || "—"]);
  const input = h("textarea", { rows: 5, spellcheck: "false" }, "{}");
  const name = h("input", { type: "text", spellcheck: "false" });
  const form = h("form.panel", {}, field("Input (JSON)", input), field("Execution name (optional)", name), h("div.actions", {}, h("button", { type: "submit" }, "Start execution")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(form.querySelector("button"), async () => {
      const started = await post("workflow/start", { system: params.system, name: params.name, input: parseJson(input.value, "the input"), execution_name: name.value });
      toast(`started ${started.name}`);
      location.hash = hashFor("workflows", { arn: started.arn });
    });
  });
  main.append(field("Show", status), table(["Execution", "Status", "Started", "Stopped", "Error"], rows, `${data.total} executions`),
    section("Start an execution", form));
}

/** Show an execution; while it runs, look again every 2 s and redraw when it has moved on. */
async function watch(main, params) {
  let timer = null;
  let stopped = false;
  let shown = await execution(main, await get("execution", { arn: params.arn }));
  const tick = async () => {
    if (stopped) return;
    try {
      const d = await get("execution", { arn: params.arn });
      if (!stopped && (d.events.length !== shown.events.length || d.execution.status !== shown.execution.status)) {
        const focused = document.activeElement && main.contains(document.activeElement);
        main.replaceChildren();
        shown = await execution(main, d);
        if (focused) main.focus({ preventScroll: true });
      }
    } catch (e) { /* try again at the next tick */ }
    if (!stopped && shown.execution.status === "RUNNING") timer = setTimeout(tick, 2000);
  };
  if (shown.execution.status === "RUNNING") timer = setTimeout(tick, 2000);
  return () => { stopped = true; clearTimeout(timer); };
}

async function execution(main, d) {
  const ex = d.execution;
  main.append(h("p.crumbs", {}, link("Workflows", "#/workflows"), " / ", link(d.workflow, hashFor("workflows", { system: d.system, name: d.workflow }))),
    h("h1", {}, `Execution ${ex.name}`),
    h("p.status", { "data-testid": "execution-status" }, badge(ex.status.toLowerCase(), ex.status), ` started ${fmtTime(ex.start)}`, ex.stop ? `, stopped ${fmtTime(ex.stop)}` : "",
      ex.redrive_count ? `, redriven ${ex.redrive_count}×` : ""));
  if (ex.error) main.append(h("p.error", {}, `${ex.error}: ${ex.cause || ""}`));
  const status = d.state_status;
  const nodes = d.graph.nodes.map((n) => {
    const st = n.id === "__start" ? "SUCCEEDED" : n.id === "__end" ? (ex.status === "SUCCEEDED" ? "SUCCEEDED" : "") : status[n.id] || "";
    return { id: n.id, title: n.label, sub: n.type + (st ? ` · ${st.toLowerCase()}` : n.type === "Start" || n.type === "End" ? "" : " · not run"),
      className: `state st-${(st || "notrun").toLowerCase()}`, ariaLabel: `${n.type} state ${n.label}: ${st ? st.toLowerCase() : "not run"}` };
  });
  const taken = new Set();
  const path = ["__start", ...d.path];
  if (ex.status === "SUCCEEDED") path.push("__end");
  for (let i = 0; i + 1 < path.length; i++) taken.add(`${path[i]}→${path[i + 1]}`);
  const edges = d.graph.edges.map((e) => ({ ...e, className: taken.has(`${e.from}→${e.to}`) ? "taken" : e.kind === "catch" ? "catch" : "" }));
  const { svg } = drawGraph(nodes, edges, { id: "exec", label: `state graph of ${ex.name}`, nodeWidth: 200, vertical: true });
  main.append(section("State graph", h("p.legend", {}, badge("succeeded", "SUCCEEDED"), " ", badge("failed", "FAILED"), " ", badge("running", "RUNNING"), " ", badge("caught", "CAUGHT"), " ", badge("not run", "none"), " · thick arrows: the path taken"),
    h("div.graph-wrap", { tabindex: "0", "aria-label": "state graph, scrollable" }, svg)));

  if (d.waiting.length) {
    const parts = d.waiting.map((w) => {
      const output = h("textarea", { rows: 3, spellcheck: "false" }, "{}");
      const error = h("input", { type: "text", value: "Rejected" });
      const cause = h("input", { type: "text" });
      const ok = h("button", { type: "button" }, "Send task success");
      const fail = h("button.danger", { type: "button" }, "Send task failure");
      ok.addEventListener("click", () => act(ok, async () => {
        await post("execution/task-success", { arn: ex.arn, token: w.token, output: parseJson(output.value, "the output") || {} });
        toast("task success sent");
        location.hash = hashFor("workflows", { arn: ex.arn, t: Date.now() });
      }));
      fail.addEventListener("click", () => act(fail, async () => {
        await post("execution/task-failure", { arn: ex.arn, token: w.token, error: error.value, cause: cause.value });
        toast("task failure sent");
        location.hash = hashFor("workflows", { arn: ex.arn, t: Date.now() });
      }));
      return h("div.panel", {}, h("p", {}, `State “${w.state}” waits for its task token.`), field("Output (JSON)", output), h("div.actions", {}, ok),
        h("div.row", {}, field("Error", error), field("Cause", cause)), h("div.actions", {}, fail));
    });
    main.append(section("Waiting for a task token", ...parts));
  }
  if (["FAILED", "TIMED_OUT", "ABORTED"].includes(ex.status)) {
    const button = h("button", { type: "button" }, "Redrive this execution");
    button.addEventListener("click", () => act(button, async () => {
      await post("execution/redrive", { arn: ex.arn });
      toast("redriven");
      location.hash = hashFor("workflows", { arn: ex.arn, t: Date.now() });
    }));
    main.append(section("Redrive", h("p", {}, "Continue from the state that failed."), button));
  }
  const rows = d.states.map((st) => [st.name, badge(st.status.toLowerCase(), st.status), String(st.retries),
    st.errors.length ? h("ul", {}, st.errors.map((e) => h("li", {}, `${e.error || e.event}: ${e.cause || ""}`))) : "—",
    h("details", {}, h("summary", {}, "input"), code(st.input)), st.output === null ? "—" : h("details", {}, h("summary", {}, "output"), code(st.output))]);
  main.append(section("States", table(["State", "Status", "Retries", "Errors", "Input", "Output"], rows)));
  main.append(section("Input and output", h("div.row", {}, h("div", {}, h("h3", {}, "Input"), code(ex.input)), h("div", {}, h("h3", {}, "Output"), code(ex.output)))));
  main.append(h("details", {}, h("summary", {}, `History (${d.events.length} events)`),
    table(["#", "Time", "Event", "Details"], d.events.map((e) => [String(e.id), fmtTime(e.time), e.type, Object.keys(e.details).length ? code(e.details) : "—"]))));
  return d;
}
