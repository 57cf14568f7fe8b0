// DOM helpers. Every piece of data becomes a text node or an attribute value: never HTML.

const SVG_NS = "http://www.w3.org/2000/svg";
const SAFE_URL = /^(\/(?!\/)|#)/;

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) { child.forEach((c) => append(el, c)); return; }
  el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "href" || key === "src") {
      const url = String(value);
      el.setAttribute(key, SAFE_URL.test(url) ? url : "#");
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** h("tag.class", {attrs}, ...children): an element whose text children are text nodes. */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (attrs instanceof Node || Array.isArray(attrs) || typeof attrs !== "object")) {
    children.unshift(attrs);
    attrs = null;
  }
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** s("rect", {attrs}, ...children): an SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export const base = document.body.dataset.base || "";

function adminToken() {
  return sessionStorage.getItem("stratus-admin-token") || "";
}

export async function get(path, params) {
  const query = params ? "?" + new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")) : "";
  const response = await fetch(`${base}/api/${path}${query}`, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

export async function post(path, body) {
  const headers = { "Content-Type": "application/json", "X-Stratus-Console": "1" };
  const token = adminToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/api/${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({ error: response.statusText }));
  if (response.status === 401) openTokenDialog();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

export function openTokenDialog() {
  const dialog = document.getElementById("token-dialog");
  if (dialog && !dialog.open) dialog.showModal();
}

let toastTimer = null;
export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.className = `toast ${kind}`;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

export function fmtTime(epoch) {
  if (epoch === null || epoch === undefined || epoch === "") return "—";
  const value = typeof epoch === "number" ? new Date(epoch * 1000) : new Date(epoch);
  if (Number.isNaN(value.getTime())) return String(epoch);
  return value.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return "—";
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function fmtNum(n) {
  if (n === null || n === undefined) return "—";
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export function pretty(value) {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

/** A <pre> of a value (JSON shown as text). */
export function code(value, label) {
  return h("pre.code", { tabindex: "0", "aria-label": label || "JSON" }, pretty(value));
}

export function table(headers, rows, caption) {
  return h("div.table-wrap", {},
    h("table", {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.length ? rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))
        : h("tr", {}, h("td", { colspan: headers.length, class: "empty" }, "nothing yet")))));
}

export function link(text, hash) {
  return h("a", { href: hash }, text);
}

export function hashFor(page, params) {
  const query = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== ""));
  const text = query.toString();
  return `#/${page}${text ? "?" + text : ""}`;
}

export function badge(text, kind) {
  return h(`span.badge.${String(kind || text).toLowerCase().replace(/[^a-z0-9_-]/g, "")}`, {}, text);
}

/** A labelled field; returns [wrapper, input]. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div.field", {}, h("label", { for: id }, label), input, hint ? h("small", {}, hint) : null);
}

export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

export function parseJson(text, what) {
  if (!text.trim()) return null;
  try { return JSON.parse(text); } catch (e) { throw new Error(`${what} is not valid JSON: ${e.message}`); }
}

/** Run an action from a button: disable it meanwhile, report the error. */
export async function act(button, fn) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try { return await fn(); } catch (e) { toast(e.message, "error"); return undefined; }
  finally { button.disabled = false; button.removeAttribute("aria-busy"); }
}
