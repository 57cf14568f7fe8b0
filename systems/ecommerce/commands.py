"""Operator commands, callable from the command line against a state folder.

    python -m systems.ecommerce.commands rebuild-read-models [--state .stratus]
    python -m systems.ecommerce.commands redrive-failed-payments [--state .stratus]
    python -m systems.ecommerce.commands redrive-failed-settlements [--state .stratus]
    python -m systems.ecommerce.commands create-admin EMAIL PASSWORD [--state .stratus]

Each binds the app to the local cloud on the state folder (as ``stratus up`` does) and
invokes the same function the admin routes invoke.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from systems.ecommerce.infra import ADMIN_GROUP, users


def create_admin(email: str, password: str) -> str:
    """An administrator (in the admin group) who can sign in with ``password``; returns the username."""
    user = users.admin_create_user(email, suppress_message=True)
    users.admin_set_user_password(user.username, password, permanent=True)
    users.admin_add_user_to_group(user.username, ADMIN_GROUP)
    return user.username


def main(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser(prog="python -m systems.ecommerce.commands")
    parser.add_argument(
        "command",
        choices=["rebuild-read-models", "redrive-failed-payments", "redrive-failed-settlements", "create-admin"],
    )
    parser.add_argument("args", nargs="*")
    parser.add_argument("--state", default=".stratus")
    options = parser.parse_args(argv)

    from stratus.errors import StateFolderInUse
    from stratus.local.cloud import LocalCloud
    from systems.ecommerce.app import app, rebuild_read_models, redrive_failed_payments, redrive_failed_settlements

    cloud = LocalCloud(options.state)
    try:
        cloud.bind(app)
    except StateFolderInUse as error:
        cloud.close()
        print(error.message, file=sys.stderr)
        raise SystemExit(2) from None
    with cloud:
        if options.command == "rebuild-read-models":
            result = rebuild_read_models.invoke({})
        elif options.command == "redrive-failed-payments":
            result = redrive_failed_payments.invoke({})
        elif options.command == "redrive-failed-settlements":
            result = redrive_failed_settlements.invoke({})
        else:
            if len(options.args) != 2:
                parser.error("create-admin needs EMAIL PASSWORD")
            result = {"username": create_admin(*options.args)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
