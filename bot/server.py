"""The one web server: Slack and Telegram webhooks and a health check, on ITINERA_HTTP_*."""

from __future__ import annotations

from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def build_app(routes: Sequence[BaseRoute]) -> Starlette:
    """The ASGI application: the channels' routes plus ``GET /healthz``."""
    return Starlette(routes=[Route("/healthz", health, methods=["GET"]), *routes])


def make_server(app: Starlette, *, host: str, port: int, log_level: str) -> uvicorn.Server:
    """A uvicorn server that the caller runs and stops (no signal handling of its own)."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level.lower(), lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    return server
