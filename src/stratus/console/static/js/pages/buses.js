// Event buses: rules and targets; which rules an event matches; archives and replay.
import { act, badge, code, field, get, h, parseJson, post, section, table, toast } from "../dom.js";

export async function render(main, params) {
  const data = await get("buses");
  main.append(h("h1", {}, "Event buses"));
  const shown = params.name ? data.buses.filter((b) => b.system === params.system && b.name === params.name) : data.buses;
  for (const bus of shown) {
    const rows = bus.rules.map((r) => [r.name, code(r.pattern, "event pattern"), r.targets.map((t) => t.label).join(", "), r.enabled ? "enabled" : "disabled"]);
    const event = h("textarea", { rows: 8, spellcheck: "false" }, JSON.stringify({ source: "", "detail-type": "", detail: {} }, null, 2));
    const result = h("div", { "aria-live": "polite" });
    const form = h("form.panel", {}, field("Event (JSON; id, time, account and region are filled in)", event), h("div.actions", {}, h("button", { type: "submit" }, "Test against the rules")), result);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      act(form.querySelector("button"), async () => {
        const answer = await post("bus/test", { system: bus.system, name: bus.name, event: parseJson(event.value, "the event") });
        const matched = answer.rules.filter((r) => r.matched).length;
        result.replaceChildren(h("p", {}, `${matched} of ${answer.rules.length} rules match.`),
          table(["Rule", "Result", "Targets"], answer.rules.map((r) => [r.rule, r.matched ? badge("matches", "succeeded") : badge("no match", "none"), r.targets.join(", ")])));
      });
    });
    const parts = [table(["Rule", "Pattern", "Targets", "State"], rows, "Rules"), h("h3", {}, "Which rules match this event?"), form];
    for (const archive of bus.archives) {
      const start = h("input", { type: "text", value: "1h" });
      const replay = h("form.panel", {}, h("p", {}, `Archive ${archive.name} (retention ${archive.retention_days || "∞"} days)`),
        field("Replay events since (a duration like 1h, or ISO time)", start), h("div.actions", {}, h("button", { type: "submit" }, "Replay")));
      replay.addEventListener("submit", (ev) => {
        ev.preventDefault();
        act(replay.querySelector("button"), async () => {
          const answer = await post("bus/replay", { system: bus.system, name: bus.name, archive: archive.name, start: start.value });
          toast(`replay ${answer.replay} started`);
        });
      });
      parts.push(replay);
    }
    main.append(section(`${bus.system} / ${bus.name}`, ...parts));
  }
  if (!shown.length) main.append(h("p", {}, "No event buses."));
}
