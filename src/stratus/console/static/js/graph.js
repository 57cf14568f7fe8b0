// A layered drawing of a directed graph in inline SVG (sources left, sinks right).
// Why by hand: a longest-path layering with a barycentre sweep is ~100 lines; a graph library
// would need a build step or a large download.
import { s } from "./dom.js";

/** Rank nodes by longest path from a source, ignoring edges that close a cycle. */
function layers(nodes, edges) {
  const out = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) if (out.has(e.from) && out.has(e.to)) out.get(e.from).push(e);
  const state = new Map();
  const back = new Set();
  const visit = (id) => {
    state.set(id, 1);
    for (const e of out.get(id)) {
      const st = state.get(e.to);
      if (st === 1) back.add(e);
      else if (!st) visit(e.to);
    }
    state.set(id, 2);
  };
  const incoming = new Set(edges.map((e) => e.to));
  for (const n of nodes) if (!incoming.has(n.id) && !state.get(n.id)) visit(n.id);
  for (const n of nodes) if (!state.get(n.id)) visit(n.id);
  const rank = new Map(nodes.map((n) => [n.id, 0]));
  const order = [];
  const seen = new Set();
  const topo = (id) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const e of out.get(id)) if (!back.has(e)) topo(e.to);
    order.push(id);
  };
  for (const n of nodes) topo(n.id);
  order.reverse();
  for (const id of order) {
    for (const e of out.get(id)) if (!back.has(e)) rank.set(e.to, Math.max(rank.get(e.to), rank.get(id) + 1));
  }
  return { rank, back };
}

/**
 * Draw ``nodes`` ({id, title, sub, className, onactivate, ariaLabel}) and ``edges`` ({from, to, kind, className}).
 * Returns {svg, positions}.
 */
export function drawGraph(nodes, edges, opts = {}) {
  const W = opts.nodeWidth || 190, H = opts.nodeHeight || 50, GX = opts.gapX || 80, GY = opts.gapY || 18;
  const { rank, back } = layers(nodes, edges);
  const columns = [];
  for (const n of nodes) {
    const r = rank.get(n.id);
    (columns[r] = columns[r] || []).push(n);
  }
  const vertical = Boolean(opts.vertical);
  const VX = vertical ? 40 : GX, VY = vertical ? 60 : GY;
  const place = (r, i) => (vertical ? { x: i * (W + VX) + 10, y: r * (H + VY) + 10 } : { x: r * (W + GX) + 10, y: i * (H + GY) + 10 });
  const pos = new Map();
  columns.forEach((col, r) => col.forEach((n, i) => pos.set(n.id, place(r, i))));
  // Two barycentre sweeps to reduce crossings.
  const across = (p) => (vertical ? p.x : p.y);
  const preds = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) if (preds.has(e.to) && pos.has(e.from) && !back.has(e)) preds.get(e.to).push(e.from);
  for (let sweep = 0; sweep < 2; sweep++) {
    columns.forEach((col, r) => {
      if (r === 0) return;
      const key = (n) => {
        const ps = preds.get(n.id).map((p) => across(pos.get(p)));
        return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : across(pos.get(n.id));
      };
      col.sort((a, b) => key(a) - key(b));
      col.forEach((n, i) => pos.set(n.id, place(r, i)));
    });
  }
  const deepest = Math.max(1, columns.length);
  const widest = Math.max(...columns.map((c) => c.length), 1);
  const width = (vertical ? widest * (W + VX) : deepest * (W + GX)) + 60;
  const height = (vertical ? deepest * (H + VY) : widest * (H + GY)) + 40;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "graph", role: "group",
    "aria-label": opts.label || "graph" });
  svg.appendChild(s("defs", {}, s("marker", { id: `arrow-${opts.id || "g"}`, viewBox: "0 0 10 10", refX: 10, refY: 5,
    markerUnits: "userSpaceOnUse", markerWidth: 9, markerHeight: 9, orient: "auto-start-reverse" }, s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }))));
  const edgeLayer = s("g", { class: "edges" });
  const nodeLayer = s("g", { class: "nodes" });
  svg.append(edgeLayer, nodeLayer);
  const edgeEls = [];
  for (const e of edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    let d;
    if (vertical && b.y > a.y) {
      const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y, my = (y1 + y2) / 2;
      d = `M ${x1} ${y1} C ${x1} ${my}, ${x2} ${my}, ${x2} ${y2}`;
    } else if (vertical) {
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x + W, y2 = b.y + H / 2, dx = Math.max(x1, x2) + 40;
      d = `M ${x1} ${y1} C ${dx} ${y1}, ${dx} ${y2}, ${x2} ${y2}`;
    } else if (b.x > a.x) {
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
      d = `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}`;
    } else {
      const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y + H, dy = Math.max(y1, y2) + 30;
      d = `M ${x1} ${y1} C ${x1} ${dy}, ${x2} ${dy}, ${x2} ${y2}`;
    }
    const path = s("path", { d, class: `edge ${e.kind === "uses" ? "uses" : ""} ${e.className || ""}`,
      "marker-end": `url(#arrow-${opts.id || "g"})` }, s("title", {}, `${e.from} → ${e.to} (${e.kind})`));
    path.dataset.from = e.from;
    path.dataset.to = e.to;
    edgeLayer.appendChild(path);
    edgeEls.push(path);
  }
  const highlight = (id, on) => {
    for (const p of edgeEls) if (p.dataset.from === id || p.dataset.to === id) p.classList.toggle("hot", on);
  };
  for (const n of nodes) {
    const p = pos.get(n.id);
    const g = s("g", { class: `node ${n.className || ""}`, transform: `translate(${p.x},${p.y})`, tabindex: 0,
      role: n.onactivate ? "link" : "img", "aria-label": n.ariaLabel || `${n.sub || ""} ${n.title}` });
    g.dataset.id = n.id;
    g.appendChild(s("rect", { width: W, height: H, rx: 6 }));
    g.appendChild(s("text", { x: 10, y: 18, class: "sub" }, n.sub || ""));
    g.appendChild(s("text", { x: 10, y: 36, class: "title" }, n.title.length > 24 ? n.title.slice(0, 23) + "…" : n.title));
    const counter = s("text", { x: W - 8, y: 18, class: "counter", "text-anchor": "end" }, "");
    g.appendChild(counter);
    g.appendChild(s("title", {}, `${n.sub || ""} ${n.title}`));
    n.counterEl = counter;
    n.el = g;
    g.addEventListener("mouseenter", () => highlight(n.id, true));
    g.addEventListener("mouseleave", () => highlight(n.id, false));
    g.addEventListener("focus", () => highlight(n.id, true));
    g.addEventListener("blur", () => highlight(n.id, false));
    if (n.onactivate) {
      g.addEventListener("click", n.onactivate);
      g.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); n.onactivate(); } });
    }
    nodeLayer.appendChild(g);
  }
  return { svg, positions: pos };
}
