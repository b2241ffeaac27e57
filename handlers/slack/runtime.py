"""The Slack channel as ``bot.run`` sees it: a route to serve, or a Socket Mode connection.

HTTP mode serves ``POST /slack/events`` (events, interactions and slash commands alike) through
Bolt's Starlette adapter, which verifies Slack's signature (a forged or stale one gets 401).
Socket Mode, when an app-level token is configured, needs no public URL. What the inbox holds
from before (received but never applied) is the inbox worker's, whichever process runs it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Mapping, Sequence

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from handlers.slack import inbound, listeners
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


SIGNATURE_MAX_AGE_SECONDS = 300
"""How old a signed request may be (Slack's own rule: five minutes)."""
_TIMESTAMP = re.compile(r"^\d{1,12}$")


def signed(secret: str, body: bytes, headers: Mapping[str, str], *, now: float) -> bool:
    """Whether the request carries Slack's v0 signature of these exact bytes, made within
    five minutes of ``now`` (POSIX seconds: the real time, as Slack and Bolt use). Computed
    over the raw bytes, so a body that is not UTF-8, or a timestamp that is not a number, is
    simply not signed (the SDK's verifier would raise on them)."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    given = headers.get("x-slack-signature", "")
    if not _TIMESTAMP.match(timestamp) or not given.isascii():
        return False
    if abs(now - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    wanted = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(wanted.encode(), given.encode())


class SlackRuntime:
    """Implements :class:`handlers.runtime.ChannelRuntime` for Slack: receives only. What was
    stored is applied by the inbox worker; what is enqueued is sent by the Slack sender."""

    name = "slack"

    def __init__(
        self,
        *,
        app: AsyncApp,
        services: SlackServices,
        app_token: str | None = None,
        signing_secret: str | None = None,
    ) -> None:
        self.app = app
        self._signing_secret = signing_secret or None
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
        """Bolt handles what is signed and well-formed; anything else is answered here (401
        unsigned, 400 malformed, logged), so that no request reaches code that would fail on
        it and answer 500 (which Slack retries)."""
        body = await request.body()  # Starlette keeps it: Bolt reads the same bytes
        if self._signing_secret is not None and not signed(
            self._signing_secret, body, request.headers, now=time.time()
        ):
            return PlainTextResponse("invalid signature", status_code=401)
        problem = inbound.request_problem(body, request.headers.get("content-type", ""))
        if problem is not None:
            log.warning("slack: refused a malformed request (%s)", problem)
            return PlainTextResponse(f"malformed request: {problem}", status_code=400)
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
