"""Building the Slack channel from the settings: the Web API client, its pacing, its parts.

:func:`slack_connection` makes what sends (client, transport, paced sender, the delivery and
digest side); :func:`slack_receiving` what receives and applies (services, event handler, Bolt
app, runtime) once the inbox worker exists. ``bot.bootstrap`` calls both, in that order.

Pacing follows Slack's published limits: ``chat.postMessage`` about one message a second per
conversation with a workspace cap of several hundred a minute (:data:`SLACK_PER_MINUTE`), and
per-method tiers for the others (``chat.update`` Tier 3, ``views.*`` Tier 4). Replies to a
press go through its ``response_url``, which has no tier.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers.slack import listeners
from handlers.slack.delivery import SlackOut
from handlers.slack.events import SlackEvents
from handlers.slack.identity import SlackIdentities
from handlers.slack.runtime import SlackRuntime, create_app
from handlers.slack.services import DEFAULT_INBOX_TIMEOUT, SlackServices
from handlers.slack.transport import SlackTransport
from surveys.errors import ConfigurationError
from surveys.pacing import ChannelPacing, Rate, Timer
from surveys.ports import Clock, DigestService, Repositories
from surveys.reminders import OfficeHours
from surveys.service.answering import NoteWriter
from surveys.service.sending import Sender, SendHook

log = logging.getLogger("itinera")

SLACK_PER_MINUTE = 600
"""Messages a minute the workspace takes from the app, all conversations together."""
PER_CONVERSATION = Rate(1.0, burst=3)
"""About one message a second in one conversation (short bursts tolerated)."""
TIERS: dict[str, Rate] = {
    "chat.update": Rate(50 / 60, burst=10),
    "chat.postEphemeral": Rate(100 / 60, burst=20),
    "views.open": Rate(100 / 60, burst=20),
    "views.publish": Rate(100 / 60, burst=20),
    "files.upload_v2": Rate(20 / 60, burst=5),
}
"""Slack's per-method tiers (per workspace) for the methods the outbox uses."""


HEADROOM = 0.98
"""The share of the workspace cap the sender uses: requests reach Slack a little bunched
(network, event loop), and the margin absorbs that instead of a 429."""
WORKSPACE_BURST = 10
"""Messages the workspace cap takes at once beyond its rate (a short burst, ten in all)."""
BURST_SHARE = 0.75
"""How much of that burst the sender uses at once (a fan-out's first messages, or after a
lull): three quarters. All of it left the cap too little room for requests bunched on the way
(429s in a 5,000-invitation fan-out at ten times the limits); half of it cost 3% of the rate."""


def pacing(*, scale: float = 1.0, timer: Timer) -> ChannelPacing:
    """Slack's limits (``scale`` times them: benchmarks try x10)."""
    return ChannelPacing(
        global_rate=Rate(
            SLACK_PER_MINUTE * scale * HEADROOM / 60, burst=WORKSPACE_BURST * scale * BURST_SHARE
        ),
        per_address=Rate(PER_CONVERSATION.per_second * scale, burst=PER_CONVERSATION.burst),
        per_method={
            method: Rate(rate.per_second * scale, burst=rate.burst)
            for method, rate in TIERS.items()
        },
        address_methods=frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"}),
        unpaced=frozenset({"response_url"}),
        timer=timer,
    )


def build_client(settings: Settings) -> AsyncWebClient:
    """The Web API client; a dropped connection is tried once more, rate limits are left to
    whoever calls (the sender paces and reschedules; lookups are retried with their event)."""
    token = settings.slack.bot_token
    if token is None or not token.get_secret_value():
        raise ConfigurationError("ITINERA_SLACK_BOT_TOKEN", "is not set")
    return AsyncWebClient(
        token=token.get_secret_value(),
        base_url=settings.slack.api_url,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)],
    )


@dataclass
class SlackConnection:
    """What sends on Slack: the client, the sender, and the delivery and digest side."""

    client: AsyncWebClient
    transport: SlackTransport
    sender: Sender
    identities: SlackIdentities
    out: SlackOut

    async def close(self) -> None:
        await self.transport.close()


def slack_connection(
    settings: Settings,
    store: Repositories,
    *,
    clock: Clock,
    worker: str,
    timer: Timer,
    rate_scale: float = 1.0,
    on_send: SendHook | None = None,
) -> SlackConnection:
    client = build_client(settings)
    transport = SlackTransport(client)
    sender = Sender(
        store,
        transport=transport,
        pacing=pacing(scale=rate_scale, timer=timer),
        clock=clock,
        worker=worker,
        lease=timedelta(seconds=settings.claim_lease_seconds),
        on_event=on_send,
    )
    identities = SlackIdentities(roster=store.roster, identities=store.identities, client=client)
    out = SlackOut(
        identities,
        store=store,
        clock=clock,
        digest_channel=settings.slack.digest_channel,
        wake_sender=sender.wake,
    )
    return SlackConnection(client, transport, sender, identities, out)


@dataclass
class SlackReceiving:
    services: SlackServices
    events: SlackEvents
    make_runtime: Callable[[listeners.Inbox], SlackRuntime]


def slack_receiving(
    settings: Settings,
    store: Repositories,
    connection: SlackConnection,
    *,
    clock: Clock,
    office_hours: OfficeHours,
    digests: DigestService | None,
    inbox_timeout: float = DEFAULT_INBOX_TIMEOUT,
    notes: Mapping[str, NoteWriter] | None = None,
) -> SlackReceiving:
    """The services and event handler now, the runtime once the inbox worker exists."""
    app_token = settings.slack.app_token.get_secret_value() if settings.slack.app_token else None
    signing = settings.slack.signing_secret
    signing_secret = signing.get_secret_value() if signing else None
    if app_token is None and not signing_secret:
        raise ConfigurationError(
            "ITINERA_SLACK_SIGNING_SECRET",
            "Slack over HTTP needs it (or set ITINERA_SLACK_APP_TOKEN for Socket Mode)",
        )
    services = SlackServices(
        store=store,
        client=connection.client,
        clock=clock,
        identities=connection.identities,
        inbox_timeout=inbox_timeout,
        digest_channel=settings.slack.digest_channel,
        digests=digests,
        office_hours=office_hours,
        wake_sender=connection.sender.wake,
        notes=dict(notes or {}),
    )

    def make_runtime(inbox: listeners.Inbox) -> SlackRuntime:
        app = create_app(
            services, inbox, signing_secret=signing_secret, socket_mode=app_token is not None
        )
        return SlackRuntime(
            app=app, services=services, app_token=app_token, signing_secret=signing_secret
        )

    return SlackReceiving(services, SlackEvents(services), make_runtime)


__all__ = [
    "SLACK_PER_MINUTE",
    "SlackConnection",
    "SlackReceiving",
    "build_client",
    "pacing",
    "slack_connection",
    "slack_receiving",
]
