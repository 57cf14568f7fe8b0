"""A token bucket on the caller's clock: API Gateway's rate + burst throttling, for routes and API keys.

Hand-written because it is a dozen lines and must read the injectable clock (tests refill
a bucket by advancing a VirtualClock). Not thread-safe: callers that share buckets across
threads hold their own lock.
"""

from __future__ import annotations


class TokenBucket:
    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self.last = now

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise the seconds until one is available."""
        if now > self.last:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate
