// Live counters from the server (SSE): pages subscribe to the latest snapshot.
const listeners = new Set();
let latest = {};

export function start(url) {
  const status = document.getElementById("live-status");
  const source = new EventSource(url);
  source.addEventListener("counters", (event) => {
    latest = JSON.parse(event.data);
    status.textContent = "live";
    status.className = "live on";
    for (const fn of listeners) fn(latest);
  });
  source.addEventListener("error", () => {
    status.textContent = "reconnecting…";
    status.className = "live off";
  });
}

export function subscribe(fn) {
  listeners.add(fn);
  fn(latest);
  return () => listeners.delete(fn);
}
