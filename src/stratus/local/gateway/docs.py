# ruff: noqa: E501  (the page is one HTML/JS string)
"""The interactive docs page of an HTTP API, self-contained so it works offline.

No Swagger UI or Redoc: their assets come from a CDN or a large bundle, and this machine
may have no network. This page fetches the API's ``openapi.json``, lists the operations and
lets you send one (path and query parameters, headers, a JSON body) from the browser.
Everything is built with DOM APIs and ``textContent`` so nothing from the document is
interpreted as HTML.
"""

from __future__ import annotations

import html
import json

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__ - API docs</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1c2330}
header{background:#1c2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
main{max-width:980px;margin:0 auto;padding:16px}
.op{background:#fff;border:1px solid #d9dde3;border-radius:6px;margin:10px 0}
.op>summary{cursor:pointer;padding:10px 12px;display:flex;gap:10px;align-items:center}
.m{font-weight:700;min-width:64px;text-align:center;border-radius:4px;padding:2px 6px;color:#fff;background:#555}
.GET{background:#2f7de1}.POST{background:#2e9d5b}.PUT{background:#c98a12}.PATCH{background:#8a5cc9}
.DELETE{background:#d0443b}.ANY{background:#555}
.body{padding:0 14px 14px}label{display:block;margin:6px 0 2px;font-weight:600}
input,textarea{width:100%;box-sizing:border-box;font:13px monospace;padding:5px;border:1px solid #c4cad3;border-radius:4px}
textarea{min-height:90px}button{margin-top:10px;padding:6px 16px;border:0;border-radius:4px;background:#1c2330;color:#fff;cursor:pointer}
pre{background:#0f1420;color:#d6e2f5;padding:10px;border-radius:4px;overflow:auto;max-height:360px}
.schema{background:#f0f2f5;color:#1c2330}
</style></head><body>
<header><h1>__TITLE__</h1><div id="info"></div></header>
<main id="ops">Loading __SPEC__ ...</main>
<script>
const SPEC = __SPEC_JSON__;
function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function field(parent, name, value, multiline) {
  parent.appendChild(el("label", {}, name));
  const input = el(multiline ? "textarea" : "input");
  input.value = value || "";
  parent.appendChild(input);
  return input;
}
function render(doc) {
  const ops = document.getElementById("ops");
  ops.textContent = "";
  document.getElementById("info").textContent = (doc.info.description || "") + " (OpenAPI " + doc.openapi + ")";
  const base = (doc.servers && doc.servers[0] && doc.servers[0].url) || "";
  const prefix = new URL(base, location.href).pathname.replace(/\\/$/, "");
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [verb, op] of Object.entries(item)) {
      const method = verb === "x-amazon-apigateway-any-method" ? "ANY" : verb.toUpperCase();
      const box = el("details", {class: "op"});
      const sum = el("summary");
      sum.appendChild(el("span", {class: "m " + method}, method));
      sum.appendChild(el("code", {}, path));
      sum.appendChild(el("span", {}, op.summary || op.operationId || ""));
      box.appendChild(sum);
      const body = el("div", {class: "body"});
      if (op.description) body.appendChild(el("p", {}, op.description));
      const inputs = {};
      for (const p of op.parameters || []) inputs[p.in + ":" + p.name] = field(body, p.name + " (" + p.in + (p.required ? ", required" : "") + ")");
      const verbInput = method === "ANY" ? field(body, "method", "GET") : null;
      const auth = op.security ? field(body, "Authorization header") : null;
      let payload = null;
      if (op.requestBody) {
        const schema = op.requestBody.content["application/json"].schema;
        body.appendChild(el("label", {}, "request schema"));
        body.appendChild(el("pre", {class: "schema"}, JSON.stringify(resolve(doc, schema), null, 2)));
        payload = field(body, "JSON body", "{}", true);
      }
      const send = el("button", {}, "Send");
      const out = el("pre", {}, "");
      send.addEventListener("click", async () => {
        let url = path;
        const query = new URLSearchParams();
        for (const [key, input] of Object.entries(inputs)) {
          const [where, name] = key.split(/:(.*)/s);
          if (where === "path") url = url.replace("{" + name + "}", encodeURIComponent(input.value));
          else if (where === "query" && input.value !== "") query.append(name, input.value);
        }
        const headers = {};
        if (auth && auth.value) headers["authorization"] = auth.value;
        if (payload) headers["content-type"] = "application/json";
        const qs = query.toString();
        out.textContent = "...";
        try {
          const r = await fetch(prefix + url + (qs ? "?" + qs : ""), {method: verbInput ? verbInput.value : method, headers, body: payload ? payload.value : undefined});
          const text = await r.text();
          let shown = text;
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
          out.textContent = r.status + " " + r.statusText + "\\n\\n" + shown;
        } catch (e) { out.textContent = String(e); }
      });
      body.appendChild(send);
      body.appendChild(out);
      box.appendChild(body);
      ops.appendChild(box);
    }
  }
}
function resolve(doc, schema) {
  if (schema && schema["$ref"]) return doc.components.schemas[schema["$ref"].split("/").pop()];
  return schema;
}
fetch(SPEC).then(r => r.json()).then(render).catch(e => { document.getElementById("ops").textContent = "Could not load " + SPEC + ": " + e; });
</script></body></html>
"""


def docs_page(title: str, spec_url: str) -> str:
    """The HTML page for an API whose document is at ``spec_url``."""
    return (
        _PAGE.replace("__TITLE__", html.escape(title))
        .replace("__SPEC_JSON__", json.dumps(spec_url).replace("<", "\\u003c"))
        .replace("__SPEC__", html.escape(spec_url))
    )
