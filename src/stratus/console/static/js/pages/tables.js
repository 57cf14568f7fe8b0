// Tables: browse items (scan with pages, query by partition key, an index), an item's change history.
import { act, code, field, fmtTime, get, h, hashFor, link, section, table } from "../dom.js";

export async function render(main, params) {
  const data = await get("tables");
  main.append(h("h1", {}, "Tables"));
  if (!params.name) {
    const rows = data.tables.map((t) => [link(`${t.system} / ${t.name}`, hashFor("tables", { system: t.system, name: t.name })),
      `${t.partition_key[0]} (${t.partition_key[1]})${t.sort_key ? `, ${t.sort_key[0]} (${t.sort_key[1]})` : ""}`,
      t.indexes.map((i) => i.name).join(", ") || "—", t.stream || "—"]);
    main.append(table(["Table", "Key", "Indexes", "Stream"], rows, "Tables of every system"));
    return;
  }
  const t = data.tables.find((x) => x.system === params.system && x.name === params.name);
  if (!t) throw new Error(`no table ${params.system}/${params.name}`);
  main.querySelector("h1").textContent = `Table ${t.name}`;
  main.prepend(h("p.crumbs", {}, link("Tables", "#/tables"), " / ", t.system));
  const index = h("select", {}, h("option", { value: "" }, "the table"), t.indexes.map((i) => h("option", { value: i.name }, `index ${i.name}`)));
  const pk = h("input", { type: "text", spellcheck: "false" });
  const results = h("div", { "aria-live": "polite" });
  const history = h("div", { "aria-live": "polite" });
  const cursors = [];
  const load = async (cursor) => {
    const page = await get("table/items", { system: t.system, name: t.name, index: index.value, pk: pk.value, cursor, limit: 25 });
    const keys = page.key_names;
    const rows = page.items.map((item) => {
      const key = Object.fromEntries(keys.filter((k) => k in item).map((k) => [k, item[k]]));
      const show = h("button.linkish", { type: "button", "aria-label": `history of ${JSON.stringify(key)}` }, "history");
      show.addEventListener("click", () => act(show, () => showHistory(key)));
      return [h("code", {}, JSON.stringify(key)), code(item, "item"), t.stream ? show : "—"];
    });
    const next = h("button.secondary", { type: "button", disabled: !page.cursor }, "Next page");
    next.addEventListener("click", () => { cursors.push(cursor); act(next, () => load(page.cursor)); });
    const prev = h("button.secondary", { type: "button", disabled: !cursors.length }, "Previous page");
    prev.addEventListener("click", () => act(prev, () => load(cursors.pop())));
    results.replaceChildren(table(["Key", "Item", "Changes"], rows, `${page.items.length} items`), h("div.actions", {}, prev, next));
  };
  const showHistory = async (key) => {
    const data2 = await get("table/history", { system: t.system, name: t.name, key: JSON.stringify(key) });
    history.replaceChildren(h("h3", {}, `Change history of ${JSON.stringify(key)}`),
      table(["Time", "Event", "Old image", "New image"], data2.records.map((r) => [fmtTime(r.time), r.event, r.old ? code(r.old) : "—", r.new ? code(r.new) : "—"])));
    history.scrollIntoView({ block: "nearest" });
  };
  const form = h("form.panel", {}, h("div.row", {}, field("Read from", index), field("Partition key value (empty: scan)", pk)),
    h("div.actions", {}, h("button", { type: "submit" }, "Show items")));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); cursors.length = 0; act(form.querySelector("button"), () => load()); });
  main.append(h("p", {}, `Key: ${t.partition_key[0]}${t.sort_key ? ` + ${t.sort_key[0]}` : ""} · stream: ${t.stream || "none"}`),
    section("Items", form, results), section("Item history", h("p.muted", {}, t.stream ? "Choose an item's “history” to see its changes from the table's stream." : "This table has no stream, so no change history."), history));
  await load();
}
