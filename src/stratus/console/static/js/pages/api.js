// API: routes per system, the OpenAPI docs, and a request tester (with a token from a user pool).
import { act, code, field, get, h, post, section, table, toast } from "../dom.js";

export async function render(main, params) {
  const data = await get("apis");
  main.append(h("h1", {}, "API"));
  let bearer = "";
  const method = h("select", {}, ["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => h("option", {}, m)));
  const path = h("input", { type: "text", spellcheck: "false", placeholder: "/ecommerce/products" });
  const body = h("textarea", { rows: 6, spellcheck: "false" }, "");
  const extra = h("textarea", { rows: 2, spellcheck: "false", placeholder: '{"Idempotency-Key": "k-1"}' }, "");
  const useToken = h("input", { type: "checkbox" });
  const tokenState = h("span.muted", {}, "no token yet");
  const answer = h("div", { "aria-live": "polite" });

  for (const api of data.apis) {
    const rows = api.routes.map((r) => {
      const pick = h("button.linkish", { type: "button", "aria-label": `try ${r.key}` }, "try");
      pick.addEventListener("click", () => {
        method.value = r.method === "ANY" ? "GET" : r.method;
        path.value = api.prefix + r.path;
        path.focus();
      });
      return [h("code", {}, r.key), r.function, r.authorizer ? `${r.authorizer}${r.groups.length ? ` (groups: ${r.groups.join(", ")})` : ""}` : "none", r.summary || "", pick];
    });
    main.append(section(`${api.system} · ${api.name}`,
      h("p", {}, "Base path ", h("code", {}, api.prefix || "/"), " · ",
        h("a", { href: api.docs, target: "_blank", rel: "noopener" }, "OpenAPI docs"), " · ",
        h("a", { href: api.openapi, target: "_blank", rel: "noopener" }, "openapi.json")),
      table(["Route", "Function", "Authorizer", "Summary", ""], rows)));
  }

  const tester = h("form.panel", {},
    h("div.row", {}, field("Method", method), field("Path", path)),
    field("Body (JSON or text)", body), field("Extra headers (JSON object)", extra),
    h("label.inline", {}, useToken, " send the user pool token as Authorization: Bearer"), " ", tokenState,
    h("div.actions", {}, h("button", { type: "submit" }, "Send request")), answer);
  tester.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = tester.querySelector("button[type=submit]");
    act(button, async () => {
      if (!path.value.startsWith("/") || path.value.startsWith("//")) throw new Error("the path must start with /");
      const headers = extra.value.trim() ? JSON.parse(extra.value) : {};
      if (body.value.trim()) headers["Content-Type"] = headers["Content-Type"] || "application/json";
      if (useToken.checked && bearer) headers.Authorization = `Bearer ${bearer}`;
      const started = performance.now();
      const response = await fetch(path.value, { method: method.value, headers, body: ["GET", "HEAD"].includes(method.value) ? undefined : body.value || undefined });
      const text = await response.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON */ }
      answer.replaceChildren(
        h("p", {}, h("strong", {}, `${response.status} ${response.statusText}`), ` in ${(performance.now() - started).toFixed(0)} ms`),
        h("details", {}, h("summary", {}, "Response headers"), code(Object.fromEntries(response.headers.entries()))),
        code(shown, "response body"));
    });
  });
  main.append(section("Request tester", tester));

  if (data.user_pools.length) {
    const pool = h("select", {}, data.user_pools.map((p, i) => h("option", { value: String(i) }, `${p.system} / ${p.name}`)));
    const client = h("select", {});
    const fillClients = () => client.replaceChildren(...data.user_pools[Number(pool.value)].clients.map((c) => h("option", {}, c)));
    pool.addEventListener("change", fillClients);
    fillClients();
    const username = h("input", { type: "text", autocomplete: "username" });
    const password = h("input", { type: "password", autocomplete: "current-password" });
    const which = h("select", {}, h("option", { value: "id_token" }, "ID token"), h("option", { value: "access_token" }, "access token"));
    const signIn = h("form.panel", {},
      h("div.row", {}, field("User pool", pool), field("App client", client), field("Token", which)),
      h("div.row", {}, field("Username", username), field("Password", password)),
      h("div.actions", {}, h("button", { type: "submit" }, "Get token")));
    signIn.addEventListener("submit", (ev) => {
      ev.preventDefault();
      act(signIn.querySelector("button"), async () => {
        const p = data.user_pools[Number(pool.value)];
        const tokens = await post("auth/token", { system: p.system, name: p.name, client: client.value, username: username.value, password: password.value });
        bearer = tokens[which.value];
        password.value = "";
        useToken.checked = true;
        tokenState.textContent = `token ready (expires in ${tokens.expires_in} s)`;
        toast("signed in: the token will be sent with requests");
      });
    });
    main.append(section("Token from a user pool", signIn));
  }
}
