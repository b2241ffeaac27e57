"""The Slack channel as ``bot.run`` sees it: a route to serve, or a Socket Mode connection.

HTTP mode serves ``POST /slack/events`` (events, interactions and slash commands alike) through
Bolt's Starlette adapter, which verifies Slack's signature (a forged or stale one gets 401).
Socket Mode, when an app-level token is configured, needs no public URL. Either way, start
first processes what the inbox holds from before (received but never processed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from handlers.slack import listeners
from handlers.slack.messenger import SlackMessenger
from handlers.slack.services import SlackServices

log = logging.getLogger("itinera.slack")

EVENTS_PATH = "/slack/events"
STOP_GRACE_SECONDS = 10.0


def create_app(
    services: SlackServices, *, signing_secret: str | None, socket_mode: bool
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
    listeners.register(app, services)
    return app


class SlackRuntime:
    """Implements :class:`handlers.runtime.ChannelRuntime` for Slack."""

    name = "slack"

    def __init__(
        self, *, app: AsyncApp, services: SlackServices, app_token: str | None = None
    ) -> None:
        self.app = app
        self.services = services
        self._app_token = app_token
        self.messenger = SlackMessenger(services)
        """What invitations, reminders and digests send through (``bot.run`` looks for it)."""
        self._http = AsyncSlackRequestHandler(app)
        self._socket: AsyncSocketModeHandler | None = None
        self._recovery: asyncio.Task[int] | None = None

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
        started = self.services.clock.now()
        self._recovery = asyncio.create_task(
            listeners.process_pending(self.services, received_before=started)
        )
        self._recovery.add_done_callback(_log_recovery)
        if self._app_token is not None:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def recovered(self) -> int:
        """Wait for the start-up processing of stored requests; how many were processed."""
        return await self._recovery if self._recovery is not None else 0

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        if self._recovery is not None and not self._recovery.done():
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        try:
            await self.services.work.wait_idle(STOP_GRACE_SECONDS)
        except TimeoutError:
            log.warning("slack: %d requests still in progress at stop", self.services.work.active)


def _log_recovery(task: asyncio.Task[int]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("slack: processing stored requests failed", exc_info=error)
    elif task.result():
        log.info("slack: processed %d requests stored before start", task.result())
