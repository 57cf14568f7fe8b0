// Queues and topics: depth, in flight, oldest age; messages (peek), DLQ redrive, test messages; subscriptions.
import { act, badge, code, field, get, h, hashFor, link, post, section, table, toast } from "../dom.js";
import { subscribe } from "../live.js";

export async function render(main, params) {
  if (params.name && !params.topic) return queueDetail(main, params);
  const [queues, topics] = await Promise.all([get("queues"), get("topics")]);
  main.append(h("h1", {}, "Queues and topics"));
  const cells = new Map();
  const rows = queues.queues.map((q) => {
    const depth = h("span", {}, String(q.visible));
    const flight = h("span", {}, String(q.in_flight));
    cells.set(`${q.system}/queue:${q.name}`, { depth, flight });
    return [link(`${q.system} / ${q.name}`, hashFor("queues", { system: q.system, name: q.name })), depth, flight,
      `${q.oldest_age} s`, q.dead_letter ? `→ ${q.dead_letter.queue} after ${q.dead_letter.max_receive_count}` : "—",
      q.dead_letter_of.length ? badge(`DLQ of ${q.dead_letter_of.join(", ")}`, "dlq") : "—", q.consumers.join(", ") || "—"];
  });
  main.append(section("Queues", table(["Queue", "Visible", "In flight", "Oldest", "Dead letters to", "Role", "Consumers"], rows)));
  for (const t of topics.topics) {
    const subs = t.subscriptions.map((sub) => [sub.protocol, sub.endpoint, sub.filter_policy ? code(sub.filter_policy) : "—", sub.raw ? "raw" : "envelope"]);
    const message = h("textarea", { rows: 3, spellcheck: "false" }, '{"test": true}');
    const subject = h("input", { type: "text" });
    const form = h("form.panel", {}, field("Message", message), field("Subject (optional)", subject), h("div.actions", {}, h("button", { type: "submit" }, "Publish test message")));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      act(form.querySelector("button"), async () => {
        let body = message.value;
        try { body = JSON.parse(body); } catch (e) { /* text */ }
        const answer = await post("topic/publish", { system: t.system, name: t.name, message: body, subject: subject.value });
        toast(`published ${answer.message_id}`);
      });
    });
    main.append(section(`Topic ${t.system} / ${t.name}`, table(["Protocol", "Endpoint", "Filter policy", "Delivery"], subs, "Subscriptions"), form));
  }
  return subscribe((counters) => {
    for (const [key, cell] of cells) {
      const value = counters[key];
      if (value) { cell.depth.textContent = String(value.depth); cell.flight.textContent = String(value.in_flight); }
    }
  });
}

async function queueDetail(main, params) {
  const q = await get("queue", { system: params.system, name: params.name, limit: 50 });
  main.append(h("p.crumbs", {}, link("Queues and topics", "#/queues"), " / ", q.system), h("h1", {}, `Queue ${q.name}`));
  const counts = h("dl.facts", {},
    h("dt", {}, "Visible"), h("dd", { "data-testid": "visible" }, String(q.visible)),
    h("dt", {}, "In flight"), h("dd", { "data-testid": "in-flight" }, String(q.in_flight)),
    h("dt", {}, "Delayed"), h("dd", {}, String(q.delayed)),
    h("dt", {}, "Age of oldest"), h("dd", {}, `${q.oldest_age} s`),
    h("dt", {}, "Dead letters to"), h("dd", {}, q.dead_letter ? `${q.dead_letter.queue} (after ${q.dead_letter.max_receive_count} receives)` : "—"),
    h("dt", {}, "Consumers"), h("dd", {}, q.consumers.join(", ") || "—"));
  main.append(counts);
  if (q.dead_letter_of.length) {
    const button = h("button", { type: "button" }, `Redrive to ${q.dead_letter_of.join(", ")}`);
    button.addEventListener("click", () => act(button, async () => {
      const task = await post("queue/redrive", { system: q.system, name: q.name });
      toast(`redrive ${task.status.toLowerCase()}: ${task.moved} of ${task.to_move} moved`);
      location.hash = hashFor("queues", { system: q.system, name: q.name, t: Date.now() });
    }));
    main.append(section("Dead-letter queue", h("p", {}, `This queue holds the messages ${q.dead_letter_of.join(", ")} could not process.`), button));
  }
  const rows = q.messages.map((m) => [h("code", {}, m.message_id), code(m.body, "message body"), m.attributes.ApproximateReceiveCount || "0",
    Object.keys(m.message_attributes).length ? code(m.message_attributes) : "—"]);
  main.append(section("Messages (peek: nothing is received)", table(["Id", "Body", "Receives", "Attributes"], rows, `${q.messages.length} shown`)));
  const body = h("textarea", { rows: 3, spellcheck: "false" }, '{"test": true}');
  const form = h("form.panel", {}, field("Message body", body), h("div.actions", {}, h("button", { type: "submit" }, "Send test message")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(form.querySelector("button"), async () => {
      const answer = await post("queue/send", { system: q.system, name: q.name, body: body.value });
      toast(`sent ${answer.message_id}`);
    });
  });
  main.append(section("Send a test message", form));
  return subscribe((counters) => {
    const value = counters[`${q.system}/queue:${q.name}`];
    if (value) {
      main.querySelector("[data-testid=visible]").textContent = String(value.depth);
      main.querySelector("[data-testid=in-flight]").textContent = String(value.in_flight);
    }
  });
}
