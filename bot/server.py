"""The one web server: Slack and Telegram webhooks, ``/healthz`` and ``/metrics``.

``GET /healthz`` answers 200 with what it checked (the database answers; each channel's sender
is not paused by a refused token) or 503 when something is wrong, for load balancers and
monitoring. ``GET /metrics`` is Prometheus' text format; with ``ITINERA_METRICS_TOKEN`` set it
asks for ``Authorization: Bearer <token>``, else it answers only on loopback.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence

import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.metrics import CONTENT_TYPE, Metrics
from bot.settings import Settings
from storage.database import Store
from surveys.service.sending import Sender


def build_app(
    routes: Sequence[BaseRoute],
    *,
    store: Store | None = None,
    metrics: Metrics | None = None,
    senders: Sequence[Sender] = (),
    settings: Settings | None = None,
) -> Starlette:
    """The ASGI application: the channels' routes plus ``GET /healthz`` and ``GET /metrics``."""

    async def health(request: Request) -> JSONResponse:
        checks: dict[str, object] = {}
        healthy = True
        if store is not None and store.database is not None:
            try:
                async with store.database.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                checks["database"] = "ok"
            except Exception as error:
                checks["database"] = f"unreachable: {type(error).__name__}"
                healthy = False
        for sender in senders:
            if sender.paused_because is None:
                checks[sender.channel] = "ok"
            else:
                checks[sender.channel] = f"paused: {sender.paused_because}"
                healthy = False
        return JSONResponse({"ok": healthy, **checks}, status_code=200 if healthy else 503)

    async def show_metrics(request: Request) -> Response:
        if metrics is None:
            return PlainTextResponse("no metrics", status_code=404)
        token = settings.metrics_token if settings is not None else None
        if token is not None:
            given = request.headers.get("authorization", "")
            wanted = f"Bearer {token.get_secret_value()}"
            if not hmac.compare_digest(given.encode(), wanted.encode()):
                return PlainTextResponse("unauthorized", status_code=401)
        elif not _loopback(request):
            return PlainTextResponse(
                "forbidden: set ITINERA_METRICS_TOKEN to read /metrics from elsewhere",
                status_code=403,
            )
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/healthz", health, methods=["GET"]),
            Route("/metrics", show_metrics, methods=["GET"]),
            *routes,
        ]
    )


def _loopback(request: Request) -> bool:
    client = request.client
    if client is None:
        return False
    try:
        return ipaddress.ip_address(client.host).is_loopback
    except ValueError:
        return client.host == "localhost"


def make_server(app: Starlette, *, host: str, port: int, log_level: str) -> uvicorn.Server:
    """A uvicorn server that the caller runs and stops (no signal handling of its own)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level.lower(), lifespan="off", access_log=False
    )
    return uvicorn.Server(config)
