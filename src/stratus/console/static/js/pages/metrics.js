// Metrics and alarms: time-series charts (SVG) of built-in and custom metrics; alarm states.
import { badge, field, fmtNum, fmtTime, get, h, hashFor, s, section, table } from "../dom.js";

function chart(points, start, end, label) {
  const W = 760, H = 220, L = 56, B = 28, T = 10, R = 12;
  const values = points.map((p) => p.v).filter((v) => v !== null);
  const max = Math.max(1e-9, ...values);
  const x = (t) => L + ((t - start) / Math.max(end - start, 1)) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  svg.append(s("title", {}, label));
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    svg.append(s("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }), s("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, fmtNum(v)));
  }
  for (let i = 0; i <= 4; i++) {
    const t = start + ((end - start) * i) / 4;
    svg.append(s("text", { x: x(t), y: H - 8, "text-anchor": "middle", class: "axis" }, fmtTime(t).slice(11, 16)));
  }
  if (points.length) {
    const d = points.filter((p) => p.v !== null).map((p, i) => `${i ? "L" : "M"} ${x(p.t).toFixed(1)} ${y(p.v).toFixed(1)}`).join(" ");
    svg.append(s("path", { d, class: "series" }));
    for (const p of points) if (p.v !== null) svg.append(s("circle", { cx: x(p.t), cy: y(p.v), r: 3, class: "point" }, s("title", {}, `${fmtTime(p.t)}: ${fmtNum(p.v)}`)));
  } else {
    svg.append(s("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" }, "no data in this window"));
  }
  return svg;
}

export async function render(main, params) {
  const [list, alarmData] = await Promise.all([get("metrics"), get("alarms")]);
  main.append(h("h1", {}, "Metrics and alarms"));
  const series = list.metrics;
  const keyOf = (m) => `${m.namespace}|${m.name}|${JSON.stringify(m.dimensions)}`;
  const select = h("select", {}, series.map((m) => h("option", { value: keyOf(m) },
    `${m.namespace} · ${m.name} · ${Object.entries(m.dimensions).map(([k, v]) => `${k}=${v}`).join(", ") || "(no dimensions)"}`)));
  const preferred = params.metric || (series.find((m) => m.namespace === "AWS/Lambda" && m.name === "Invocations") ? keyOf(series.find((m) => m.namespace === "AWS/Lambda" && m.name === "Invocations")) : "");
  if (preferred) select.value = preferred;
  const stat = h("select", {}, ["Sum", "Average", "Maximum", "Minimum", "SampleCount", "p50", "p90", "p99"].map((x) => h("option", { selected: x === (params.stat || "Sum") }, x)));
  const minutes = h("select", {}, [["15", "15 minutes"], ["60", "1 hour"], ["360", "6 hours"], ["1440", "1 day"]].map(([v, t]) => h("option", { value: v, selected: v === (params.minutes || "60") }, t)));
  const holder = h("div.chart-wrap", { "aria-live": "polite" });
  const draw = async () => {
    const m = series.find((x) => keyOf(x) === select.value);
    if (!m) { holder.replaceChildren(h("p", {}, "No metrics yet: use the system and come back.")); return; }
    const data = await get("metric", { namespace: m.namespace, name: m.name, dimensions: JSON.stringify(m.dimensions), stat: stat.value, minutes: minutes.value });
    holder.replaceChildren(h("h3", {}, `${m.name} (${stat.value}${data.unit ? `, ${data.unit}` : ""}) per ${data.period / 60} min`),
      chart(data.points, data.start, data.end, `${m.namespace} ${m.name} ${stat.value}`));
  };
  for (const el of [select, stat, minutes]) el.addEventListener("change", draw);
  main.append(section("Metrics", h("div.row", {}, field("Series", select), field("Statistic", stat), field("Window", minutes)), holder));
  await draw();
  const rows = alarmData.alarms.map((a) => [`${a.system} / ${a.name}`, badge(a.state, a.state),
    `${a.metric.namespace} ${a.metric.name} ${a.statistic} ${a.comparison} ${a.threshold} (${a.period} s)`, a.reason, fmtTime(a.since),
    h("a", { href: hashFor("metrics", { metric: `${a.metric.namespace}|${a.metric.name}|${JSON.stringify(a.metric.dimensions)}`, stat: a.statistic }) }, "chart")]);
  main.append(section("Alarms", table(["Alarm", "State", "Condition", "Reason", "Since", ""], rows)));
}
