"""The admin-token rule, CSRF checks, headers and escaping."""

from __future__ import annotations

import stat
from pathlib import Path

from console_support import POST_HEADERS
from starlette.testclient import TestClient

from stratus.console import ensure_admin_token
from stratus.console.security import TOKEN_FILE

INVOKE = {"system": "sample", "name": "ship", "event": {"id": "x"}}
STATIC = Path(__file__).resolve().parents[3] / "src" / "stratus" / "console" / "static"


def token_of(env) -> str:
    return (env.state_dir / TOKEN_FILE).read_text().strip()


def test_admin_token_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = ensure_admin_token(tmp_path)
    assert len(first) >= 32
    mode = stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode)
    assert mode == 0o600
    assert ensure_admin_token(tmp_path) == first  # reused: `stratus up` prints the same token after a restart


def test_an_empty_token_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / TOKEN_FILE).write_text("")
    assert len(ensure_admin_token(tmp_path)) >= 32


def test_loopback_admin_action_needs_no_token(client: TestClient) -> None:
    answer = client.post("/_console/api/function/invoke", json=INVOKE, headers=POST_HEADERS)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == {"id": "x", "shipped": True}


def test_remote_admin_action_needs_the_token(remote: TestClient, env) -> None:
    refused = remote.post("/_console/api/function/invoke", json=INVOKE, headers=POST_HEADERS)
    assert refused.status_code == 401
    assert "admin token" in refused.json()["error"]
    wrong = remote.post(
        "/_console/api/function/invoke", json=INVOKE, headers={**POST_HEADERS, "Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    right = remote.post(
        "/_console/api/function/invoke",
        json=INVOKE,
        headers={**POST_HEADERS, "Authorization": f"Bearer {token_of(env)}"},
    )
    assert right.status_code == 200, right.text


def test_remote_reads_and_non_admin_posts_need_no_token(remote: TestClient) -> None:
    assert remote.get("/_console/api/overview").status_code == 200
    event = {"system": "sample", "name": "events", "event": {"source": "x"}}
    assert remote.post("/_console/api/bus/test", json=event, headers=POST_HEADERS).status_code == 200


def test_dns_rebinding_host_is_not_local(env) -> None:
    from console_support import LOCAL, mounted

    rebound = TestClient(mounted(env), base_url="http://attacker.example:8000", client=LOCAL)
    answer = rebound.post("/_console/api/function/invoke", json=INVOKE, headers=POST_HEADERS)
    assert answer.status_code == 401


def test_posts_without_the_console_header_are_refused(client: TestClient) -> None:
    answer = client.post("/_console/api/function/invoke", json=INVOKE)
    assert answer.status_code == 403
    assert "X-Stratus-Console" in answer.json()["error"]


def test_cross_origin_posts_are_refused(client: TestClient) -> None:
    headers = {**POST_HEADERS, "Origin": "http://evil.example"}
    answer = client.post("/_console/api/function/invoke", json=INVOKE, headers=headers)
    assert answer.status_code == 403
    same = {**POST_HEADERS, "Origin": "http://127.0.0.1:8000"}
    assert client.post("/_console/api/function/invoke", json=INVOKE, headers=same).status_code == 200


def test_form_posts_are_refused(client: TestClient) -> None:
    answer = client.post(
        "/_console/api/function/invoke",
        content=b"system=sample",
        headers={**POST_HEADERS, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 403


def test_bad_bodies_get_clear_errors(client: TestClient) -> None:
    headers = {**POST_HEADERS, "Content-Type": "application/json"}
    assert client.post("/_console/api/function/invoke", content=b"{", headers=headers).json()["error"] == (
        "the body is not JSON"
    )
    assert client.post("/_console/api/function/invoke", content=b"[]", headers=headers).status_code == 400
    missing = client.post("/_console/api/function/invoke", json={"system": "sample", "name": "nope"}, headers=headers)
    assert missing.status_code == 404
    assert "nope" in missing.json()["error"]


def test_page_headers_forbid_inline_script_and_framing(client: TestClient) -> None:
    page = client.get("/_console/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert 'src="/_console/static/js/main.js"' in page.text
    script = client.get("/_console/static/js/main.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


def test_json_answers_keep_markup_as_data(client: TestClient, env) -> None:
    client.post("/sample/orders", json={"id": "o-x", "note": "<script>alert(1)</script>"})
    env.settle(max_seconds=60)
    answer = client.get("/_console/api/table/items", params={"system": "sample", "name": "orders"})
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.json()["items"][0]["note"] == "<script>alert(1)</script>"


def test_the_page_never_renders_data_as_html() -> None:
    """Escaping by construction: the scripts build text nodes only (dom.js's h()), never HTML strings."""
    for path in STATIC.rglob("*.js"):
        text = path.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, f"{path.name} uses {sink}"


def test_secret_values_and_environment_values_are_never_shown(client: TestClient, env) -> None:
    import console_sample

    console_sample.signing_key.put("the-secret-value")
    client.post(
        "/_console/api/function/invoke",
        json={"system": "sample", "name": "flaky", "event": {"ok": True}},
        headers=POST_HEADERS,
    )
    env.settle(max_seconds=60)
    seen = ""
    for path in ("overview", "map", "functions", "logs"):
        seen += client.get(f"/_console/api/{path}").text
    seen += client.get("/_console/api/function", params={"system": "sample", "name": "flaky"}).text
    assert "PARTNER_TOKEN" in seen  # the name is shown...
    assert "tok-very-secret" not in seen  # ...never the value
    assert "the-secret-value" not in seen
    assert "secret:signing-key" in client.get("/_console/api/map").text
