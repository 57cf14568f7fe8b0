"""Run by test_crash.py in its own process: place an order and die mid-checkout (SIGKILL from the parent).

The provider call that authorizes the payment is wrapped so that, once the provider has
authorized, this process announces it and waits to be killed: the worst moment, after the
external effect and before its result is committed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from systems.ecommerce.app import app
from tests.systems.ecommerce.conftest import FAST_HASHING, open_shop

from stratus.local import userpool as local_userpool
from stratus.testing import local
from systems.ecommerce import provider_client


def main(state_dir: str) -> None:
    local_userpool.HASHING = FAST_HASHING
    with local(app, state_dir=state_dir) as env:
        shop = open_shop(env)
        product = shop.product(stock=4)
        token = shop.sign_up()
        order = shop.order(token, [{"product_id": product["id"], "quantity": 1}], shop.card(token), key="crash-key-01")
        print(json.dumps({"order_id": order.json()["order_id"], "product_id": product["id"]}), flush=True)
        real_call = provider_client.call

        def authorize_then_hang(method: str, path: str, body: Any = None, *, key: str | None = None) -> Any:
            response = real_call(method, path, body, key=key)
            if path == "/v1/payments":
                print("AUTHORIZED", flush=True)
                time.sleep(120)
            return response

        provider_client.call = authorize_then_hang
        env.settle()


if __name__ == "__main__":
    main(sys.argv[1])
