"""Who may do what in the console: the admin token, the loopback rule, and CSRF checks.

- Reading is open to whoever can reach the address (``stratus up`` binds 127.0.0.1 by default).
- Admin actions (invoke, redrive, send, publish, replay, start/redrive executions, task
  success/failure) are POSTs. Each POST must carry ``X-Stratus-Console: 1`` and a JSON body:
  a custom header cannot be sent cross-origin without a CORS preflight, which the console
  never grants, so another web site cannot forge the request; an ``Origin`` header, when
  present, must name this host.
- From a loopback client whose ``Host`` is a loopback name, an admin action needs nothing
  more. From anywhere else (or through DNS rebinding, where ``Host`` is another name) it needs
  the admin token, in ``Authorization: Bearer <token>``. The token lives in the state folder
  (``console-token``, mode 0600) and `stratus up` prints it.

Why by hand: the rule is a few comparisons; no library expresses "loopback or token".
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request

TOKEN_FILE = "console-token"
CSRF_HEADER = "x-stratus-console"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def ensure_admin_token(state_dir: Path | str) -> str:
    """The console's admin token for a state folder: read it, or create it (mode 0600) the first time."""
    folder = Path(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text(encoding="utf-8").strip()
        if token:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return token
        path.unlink()
        return ensure_admin_token(folder)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


def is_loopback_address(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_local_request(request: Request) -> bool:
    """From a loopback peer, addressed to a loopback name (not a rebinding DNS name)."""
    peer = request.client.host if request.client else None
    return is_loopback_address(peer) and _host_name(request.headers.get("host", "")) in _LOOPBACK_NAMES


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc.lower() == request.headers.get("host", "").lower()


def csrf_problem(request: Request) -> str | None:
    """Why a POST is refused as a possible cross-site request, or None."""
    if request.headers.get(CSRF_HEADER) != "1":
        return f"missing the {CSRF_HEADER.title()} header"
    if not same_origin(request):
        return "cross-origin request refused"
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return "the body must be application/json"
    return None


def admin_problem(request: Request, token: str) -> str | None:
    """Why an admin action is refused, or None (loopback, or the right bearer token)."""
    given = request.headers.get("authorization", "")
    if given.lower().startswith("bearer "):
        if hmac.compare_digest(given[7:].strip().encode(), token.encode()):
            return None
        return "wrong admin token"
    if is_local_request(request):
        return None
    return "admin actions from another machine need the admin token (printed by `stratus up`)"
