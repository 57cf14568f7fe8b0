// The console's router: #/<page>?<params> -> a page module's render(main, params).
import { base, clear, h } from "./dom.js";
import * as live from "./live.js";

const pages = {
  map: () => import("./pages/map.js"),
  functions: () => import("./pages/functions.js"),
  api: () => import("./pages/api.js"),
  tables: () => import("./pages/tables.js"),
  queues: () => import("./pages/queues.js"),
  buses: () => import("./pages/buses.js"),
  workflows: () => import("./pages/workflows.js"),
  traces: () => import("./pages/traces.js"),
  metrics: () => import("./pages/metrics.js"),
  logs: () => import("./pages/logs.js"),
};

let cleanup = null;
let renderId = 0;

async function route() {
  const hash = location.hash || "#/map";
  const [path, query] = hash.slice(2).split("?");
  const name = pages[path] ? path : "map";
  const params = Object.fromEntries(new URLSearchParams(query || ""));
  const main = document.getElementById("main");
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.getAttribute("href") === `#/${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (cleanup) { try { cleanup(); } catch (e) { /* ignore */ } cleanup = null; }
  const id = ++renderId;
  clear(main);
  main.appendChild(h("p.loading", {}, "Loading…"));
  try {
    const module = await pages[name]();
    if (id !== renderId) return;
    clear(main);
    cleanup = (await module.render(main, params)) || null;
    const title = main.querySelector("h1");
    document.title = `${title ? title.textContent : name} · Stratus console`;
  } catch (error) {
    if (id !== renderId) return;
    clear(main);
    main.appendChild(h("h1", {}, "Something went wrong"));
    main.appendChild(h("p.error", { role: "alert" }, error.message));
  }
}

function setupToken() {
  const dialog = document.getElementById("token-dialog");
  const input = document.getElementById("token-input");
  document.getElementById("token-button").addEventListener("click", () => {
    input.value = sessionStorage.getItem("stratus-admin-token") || "";
    dialog.showModal();
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "save" && input.value.trim()) sessionStorage.setItem("stratus-admin-token", input.value.trim());
    if (dialog.returnValue === "clear") sessionStorage.removeItem("stratus-admin-token");
    input.value = "";
  });
}

window.addEventListener("hashchange", () => {
  route().then(() => {
    const main = document.getElementById("main");
    if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
  });
});
setupToken();
live.start(`${base}/api/live`);
route();
