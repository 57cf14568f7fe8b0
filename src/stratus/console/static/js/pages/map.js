// Map: each system drawn from its declarations, with live counters on functions and queues.
import { get, h, hashFor, section } from "../dom.js";
import { drawGraph } from "../graph.js";
import { subscribe } from "../live.js";

const PAGE_OF = {
  function: "functions", queue: "queues", topic: "queues", table: "tables", workflow: "workflows",
  event_bus: "buses", rule: "buses", http_api: "api", alarm: "metrics",
};

export async function render(main, params) {
  const data = await get("map", { system: params.system });
  main.append(h("h1", {}, "Map"),
    h("p.lede", {}, "Every system as its declarations draw it. Arrows: triggers, targets, subscriptions and dead letters; ",
      "dashed: resources a function's code uses. Counters are per minute, live."));
  const overview = await get("overview");
  if (overview.systems.length > 1 || params.system) {
    main.append(h("nav.systems", { "aria-label": "Systems" }, h("ul", {},
      h("li", {}, h("a", { href: "#/map", "aria-current": params.system ? null : "page" }, "all systems")),
      overview.systems.map((x) => h("li", {}, h("a", { href: hashFor("map", { system: x.name }), "aria-current": params.system === x.name ? "page" : null }, x.name))))));
  }
  const nodesByKey = new Map();
  for (const system of data.systems) {
    const busy = system.edges.filter((e) => e.kind === "uses").length > 30;
    const toggle = h("input", { type: "checkbox", checked: !busy });
    const nodes = system.nodes.map((n) => ({
      id: n.id, title: n.name, sub: n.label, className: `kind-${n.kind}`,
      ariaLabel: `${n.label} ${n.name}`,
      onactivate: PAGE_OF[n.kind] ? () => {
        const name = n.kind === "rule" ? n.bus : n.name;
        location.hash = hashFor(PAGE_OF[n.kind], { system: system.system, name });
      } : null,
    }));
    const { svg } = drawGraph(nodes, system.edges, { id: system.system, label: `architecture of ${system.system}` });
    for (const n of nodes) nodesByKey.set(`${system.system}/${n.id}`, n);
    svg.classList.toggle("hide-uses", busy);
    toggle.addEventListener("change", () => svg.classList.toggle("hide-uses", !toggle.checked));
    main.append(section(`System ${system.system}`,
      h("p.counts", {}, `${system.nodes.length} resources, ${system.edges.length} connections`),
      h("label.inline", {}, toggle, " show what functions use (always shown for the node under the pointer or focus)"),
      h("div.graph-wrap", { tabindex: "0", "aria-label": `map of ${system.system}, scrollable` }, svg)));
  }
  return subscribe((counters) => {
    for (const [key, value] of Object.entries(counters)) {
      const node = nodesByKey.get(key);
      if (!node || !node.counterEl) continue;
      let text, label;
      if ("depth" in value) {
        text = `${value.depth} msg${value.in_flight ? ` · ${value.in_flight} in flight` : ""}`;
        label = `${value.depth} messages waiting, ${value.in_flight} in flight`;
      } else {
        text = `${value.invocations}/min${value.errors ? ` · ${value.errors} err` : ""}`;
        label = `${value.invocations} invocations and ${value.errors} errors in the last minute`;
      }
      node.counterEl.textContent = text;
      node.el.classList.toggle("erring", Boolean(value.errors));
      node.el.setAttribute("aria-label", `${node.ariaLabel}: ${label}`);
    }
  });
}
