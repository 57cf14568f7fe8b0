"""The web console: the local cloud as it works, for every system at once (``/_console``).

    from stratus.console import create_console, ensure_admin_token
    Mount("/_console", app=create_console(cloud))

Pages: map, functions, API, tables, queues and topics, event buses, workflows, traces,
metrics and alarms, logs. The page is plain HTML, CSS and JavaScript modules served from
``stratus/console/static`` (no build step); data comes from JSON endpoints under
``/_console/api`` and live updates from server-sent events.
"""

from __future__ import annotations

from stratus.console.security import ensure_admin_token
from stratus.console.server import console_routes, create_console

__all__ = ["console_routes", "create_console", "ensure_admin_token"]
