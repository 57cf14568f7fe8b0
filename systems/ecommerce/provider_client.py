"""Talking to the payment provider over HTTP, and starting the local stand-in for it.

The provider's address and webhook secret live in the ``payment-provider`` secret
(Secrets Manager), as a real integration keeps its credentials. Locally a startup hook
(:func:`start_local_provider`) serves :mod:`systems.ecommerce.provider` with uvicorn on a
free 127.0.0.1 port and writes that secret; its latency and failure rate come from
``ECOMMERCE_PROVIDER_LATENCY`` (seconds) and ``ECOMMERCE_PROVIDER_FAILURE_RATE`` (0-1).
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from typing import Any

import httpx

from stratus.errors import ResourceNotFound
from systems.ecommerce import shop_time
from systems.ecommerce.infra import api, provider_secret

TIMEOUT = 10.0
_CACHE_SECONDS = 1.0


class ProviderUnavailable(Exception):
    """The provider did not answer usefully (5xx, timeout, refused): try again later."""


class PaymentDeclined(Exception):
    """The provider declined the card or the payment."""


def no_delay_transport() -> httpx.HTTPTransport:
    """A pooled transport with TCP_NODELAY: without it a small POST's body waits for the ACK of its
    headers (Nagle) while the server delays that ACK, ~40 ms per request on loopback."""
    return httpx.HTTPTransport(
        limits=httpx.Limits(max_connections=64), socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    )


class _Settings:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: dict[str, Any] | None = None
        self.read_at = 0.0
        self.client = httpx.Client(timeout=TIMEOUT, transport=no_delay_transport())


_settings = _Settings()


def settings() -> dict[str, Any]:
    """``{"url", "webhook_secret"}`` from the secret, cached for a second."""
    with _settings.lock:
        if _settings.value is None or time.monotonic() - _settings.read_at > _CACHE_SECONDS:
            _settings.value = provider_secret.get().json()
            _settings.read_at = time.monotonic()
        return _settings.value


def webhook_secret() -> bytes:
    return bytes.fromhex(settings()["webhook_secret"])


def call(method: str, path: str, body: dict[str, Any] | None = None, *, key: str | None = None) -> httpx.Response:
    """One provider call; ProviderUnavailable for 5xx answers and transport errors."""
    try:
        url = settings()["url"]
    except ResourceNotFound:
        raise ProviderUnavailable("the payment provider is not configured") from None
    headers = {"Idempotency-Key": key} if key else {}
    try:
        response = _settings.client.request(method, f"{url}{path}", json=body, headers=headers)
    except httpx.HTTPError as error:
        with _settings.lock:
            _settings.value = None  # the provider may have moved (restart): read the secret again
        raise ProviderUnavailable(f"payment provider unreachable: {type(error).__name__}") from None
    if response.status_code >= 500:
        raise ProviderUnavailable(f"payment provider answered {response.status_code}")
    return response


# -- the local stand-in ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalProvider:
    """The provider app served by uvicorn on a thread."""

    def __init__(self, webhook_secret: bytes, webhook_url: str, state_file: str | None = None) -> None:
        import uvicorn

        from systems.ecommerce.provider import ProviderSettings, create_provider_app

        latency = float(os.environ.get("ECOMMERCE_PROVIDER_LATENCY", "0") or 0)
        failure_rate = float(os.environ.get("ECOMMERCE_PROVIDER_FAILURE_RATE", "0") or 0)
        self.app = create_provider_app(
            ProviderSettings(
                webhook_secret=webhook_secret,
                webhook_url=webhook_url,
                latency=latency,
                failure_rate=failure_rate,
                state_file=state_file,
            )
        )
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="payment-provider", daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not self.server.started:
            raise RuntimeError("the local payment provider did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        self.app.state.provider.close()


_running: dict[int, LocalProvider] = {}


def start_local_provider(cloud: Any) -> None:
    """Startup hook: serve the stand-in provider and record where it is in the secret."""
    shop_time.use(cloud.clock)
    try:
        current = provider_secret.get().json()
        secret_hex = str(current["webhook_secret"])
    except ResourceNotFound:
        secret_hex = secrets.token_hex(32)
    webhook_url = f"{cloud.base_url}{api.prefix}/webhooks/payments"
    folder = cloud.state_dir / "third-party"
    folder.mkdir(parents=True, exist_ok=True)
    provider = LocalProvider(bytes.fromhex(secret_hex), webhook_url, str(folder / "payment-provider.db"))
    provider.start()
    _running[id(cloud)] = provider
    provider_secret.put({"url": provider.url, "webhook_secret": secret_hex})
    with _settings.lock:
        _settings.value = None


def stop_local_provider(cloud: Any) -> None:
    """Shutdown hook: stop the stand-in provider this cloud started."""
    provider = _running.pop(id(cloud), None)
    if provider is not None:
        provider.stop()
