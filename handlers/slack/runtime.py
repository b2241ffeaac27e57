"""The Slack channel as ``bot.run`` sees it: a route to serve, or a Socket Mode connection.

HTTP mode serves ``POST /slack/events`` (events, interactions and slash commands alike) through
Bolt's Starlette adapter, which verifies Slack's signature (a forged or stale one gets 401).
Socket Mode, when an app-level token is configured, needs no public URL. What the inbox holds
from before (received but never applied) is the inbox worker's, whichever process runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from handlers.slack import listeners
from handlers.slack.services import SlackServices

log = logging.getLogger("itinera.slack")

EVENTS_PATH = "/slack/events"
STOP_GRACE_SECONDS = 10.0


def create_app(
    services: SlackServices,
    inbox: listeners.Inbox,
    *,
    signing_secret: str | None,
    socket_mode: bool,
) -> AsyncApp:
    """The Bolt app with our listeners (its token is the client's); acks do not wait for work."""
    app = AsyncApp(
        client=services.client,
        signing_secret=signing_secret,
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("itinera.slack.bolt"),
    )
    listeners.register(app, services, inbox)
    return app


class SlackRuntime:
    """Implements :class:`handlers.runtime.ChannelRuntime` for Slack: receives only. What was
    stored is applied by the inbox worker; what is enqueued is sent by the Slack sender."""

    name = "slack"

    def __init__(
        self, *, app: AsyncApp, services: SlackServices, app_token: str | None = None
    ) -> None:
        self.app = app
        self.services = services
        self._app_token = app_token
        self._http = AsyncSlackRequestHandler(app)
        self._socket: AsyncSocketModeHandler | None = None

    @property
    def socket_mode(self) -> bool:
        return self._app_token is not None

    def routes(self) -> Sequence[BaseRoute]:
        if self.socket_mode:
            return []
        return [Route(EVENTS_PATH, self._events, methods=["POST"])]

    async def _events(self, request: Request) -> Response:
        return await self._http.handle(request)

    def describe(self) -> str:
        if self.socket_mode:
            return "Slack: Socket Mode"
        return f"Slack: HTTP events at {EVENTS_PATH}"

    async def start(self) -> None:
        if self._app_token is not None:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def idle(self) -> None:
        await self.services.work.wait_idle(STOP_GRACE_SECONDS)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        try:
            await self.services.work.wait_idle(STOP_GRACE_SECONDS)
        except TimeoutError:
            log.warning("slack: %d requests still in progress at stop", self.services.work.active)
