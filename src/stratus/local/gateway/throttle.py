"""Token buckets on the cloud's clock: per route, and per client within a route.

Buckets are touched only from the event loop.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from stratus.clock import Clock
from stratus.resources.api_settings import Throttle
from stratus.resources.token_bucket import TokenBucket


class Throttler:
    """The buckets of one API."""

    MAX_CLIENTS = 10_000

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.routes: dict[str, TokenBucket] = {}
        self.clients: OrderedDict[tuple[str, str], TokenBucket] = OrderedDict()

    def check(self, route_key: str, throttle: Throttle, client: str) -> int:
        """0 to proceed, else the Retry-After seconds."""
        now = self.clock.now()
        if throttle.client_rate is not None and throttle.client_burst is not None:
            key = (route_key, client)
            bucket = self.clients.get(key)
            if bucket is None:
                bucket = self.clients[key] = TokenBucket(throttle.client_rate, throttle.client_burst, now)
                if len(self.clients) > self.MAX_CLIENTS:
                    self.clients.popitem(last=False)
            else:
                self.clients.move_to_end(key)
            wait = bucket.take(now)
            if wait:
                return max(1, math.ceil(wait))
        route_bucket = self.routes.get(route_key)
        if route_bucket is None:
            route_bucket = self.routes[route_key] = TokenBucket(throttle.rate, throttle.burst, now)
        wait = route_bucket.take(now)
        return max(1, math.ceil(wait)) if wait else 0
