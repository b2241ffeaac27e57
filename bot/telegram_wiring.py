"""Builds the Telegram channel from the settings: the bot, its pacing, its parts.

:func:`telegram_connection` makes what sends (bot, transport, paced sender, the delivery and
digest side); :func:`telegram_receiving` what receives and applies (services, event handler,
runtime) once the inbox worker exists. All Bot API calls go to ``ITINERA_TELEGRAM_API_URL``
(Telegram's by default; tests and the demo point it at :mod:`bot.fakes.telegram_api`).

Pacing follows Telegram's published limits: about 30 messages a second per bot, and about one
a second per chat, both for the methods that post a message; editing a message in place and
answering a press are not paced (a 429 on one still pauses as it says).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.settings import Settings, TelegramMode
from handlers.telegram.delivery import TelegramOut
from handlers.telegram.errors import ConfigurationError
from handlers.telegram.events import TelegramEvents
from handlers.telegram.http import AiohttpRequest
from handlers.telegram.presenter import SEND_METHODS
from handlers.telegram.receiver import Inbox, Receiver
from handlers.telegram.runtime import TelegramRuntime
from handlers.telegram.services import TelegramServices
from handlers.telegram.transport import TelegramTransport
from surveys.pacing import ChannelPacing, Rate, Timer
from surveys.ports import Clock, DigestService, Repositories
from surveys.reminders import OfficeHours
from surveys.service.answering import NoteWriter
from surveys.service.sending import Sender, SendHook

log = logging.getLogger("itinera.telegram")

SECRET_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def api_urls(settings: Settings) -> tuple[str, str]:
    """PTB's ``base_url`` and ``base_file_url`` for the configured Bot API."""
    api = settings.telegram.api_url.rstrip("/")
    return f"{api}/bot", f"{api}/file/bot"


def make_bot(settings: Settings, *, read_timeout: float = 15.0, pool_size: int = 32) -> Bot:
    """A plain Bot on the configured API (for getMe, invites, the poller)."""
    token = _token(settings)
    base_url, base_file_url = api_urls(settings)
    quiet_request_logs()
    request = HTTPXRequest(
        connection_pool_size=pool_size, read_timeout=read_timeout, connect_timeout=10.0
    )
    return Bot(token, base_url=base_url, base_file_url=base_file_url, request=request)


def make_sending_bot(settings: Settings, *, connections: int = 64) -> Bot:
    """The Bot the sender sends with: requests over aiohttp (see
    :mod:`handlers.telegram.http`), up to ``connections`` at once."""
    base_url, base_file_url = api_urls(settings)
    request = AiohttpRequest(connections=connections)
    return Bot(_token(settings), base_url=base_url, base_file_url=base_file_url, request=request)


TELEGRAM_PER_SECOND = 30
"""Messages a second the bot may send, all chats together (Telegram's published limit)."""
PER_CHAT = Rate(1.0, burst=3)
"""About one message a second in one chat (short bursts tolerated)."""


HEADROOM = 0.98
"""The share of the bot's limit the sender uses: requests reach Telegram a little bunched, and
the margin absorbs that, not a 429."""
BURST_SHARE = 0.75
"""How much of a second's worth of messages, which Telegram takes at once, the sender sends at
once (a fan-out's first messages, or after a lull): three quarters. Nine tenths drew 429s for
requests bunched on the way; half cost 3% of the rate of a 5,000-invitation fan-out."""


def pacing(*, scale: float = 1.0, timer: Timer) -> ChannelPacing:
    """Telegram's limits (``scale`` times them: benchmarks try x10)."""
    return ChannelPacing(
        global_rate=Rate(
            TELEGRAM_PER_SECOND * scale * HEADROOM, burst=TELEGRAM_PER_SECOND * scale * BURST_SHARE
        ),
        # One short of the chat's burst: a request that leaves late must not meet the next one
        # at Telegram bunched beyond what the chat allows.
        per_address=Rate(PER_CHAT.per_second * scale, burst=PER_CHAT.burst - 1),
        address_methods=SEND_METHODS,
        # Telegram's limits count the messages a bot posts; editing one in place (the next
        # question after a press) is not among them, and a 429 on it pauses as it says.
        global_methods=SEND_METHODS,
        unpaced=frozenset({"answerCallbackQuery"}),
        timer=timer,
    )


@dataclass
class TelegramConnection:
    """What sends on Telegram: the bot, the sender, and the delivery and digest side."""

    bot: Bot
    transport: TelegramTransport
    sender: Sender
    out: TelegramOut

    async def close(self) -> None:
        await self.bot.shutdown()
        await self.bot.request.shutdown()


def telegram_connection(
    settings: Settings,
    store: Repositories,
    *,
    clock: Clock,
    worker: str,
    timer: Timer,
    rate_scale: float = 1.0,
    on_send: SendHook | None = None,
) -> TelegramConnection:
    bot = make_sending_bot(settings)
    transport = TelegramTransport(bot)
    sender = Sender(
        store,
        transport=transport,
        pacing=pacing(scale=rate_scale, timer=timer),
        clock=clock,
        worker=worker,
        lease=timedelta(seconds=settings.claim_lease_seconds),
        on_event=on_send,
    )
    out = TelegramOut(
        store,
        clock=clock,
        digest_chat=digest_chat(settings.telegram.digest_chat),
        wake_sender=sender.wake,
    )
    return TelegramConnection(bot, transport, sender, out)


@dataclass
class TelegramReceiving:
    services: TelegramServices
    events: TelegramEvents
    make_runtime: Callable[[Inbox], TelegramRuntime]


def telegram_receiving(
    settings: Settings,
    store: Repositories,
    connection: TelegramConnection,
    *,
    clock: Clock,
    office_hours: OfficeHours,
    digests: DigestService | None,
    poll: bool = True,
    poll_timeout: int = 30,
    inbox_timeout: float = 2.0,
    notes: Mapping[str, NoteWriter] | None = None,
) -> TelegramReceiving:
    """The services and event handler now, the runtime once the inbox worker exists."""
    webhook = settings.telegram.mode is TelegramMode.WEBHOOK
    secret = _secret(settings) if webhook else None
    services = TelegramServices(
        store=store,
        clock=clock,
        digests=digests,
        office_hours=office_hours,
        wake_sender=connection.sender.wake,
        notes=dict(notes or {}),
    )

    def make_runtime(inbox: Inbox) -> TelegramRuntime:
        poll_bot = (
            None
            if webhook or not poll
            else make_bot(settings, read_timeout=poll_timeout + 10, pool_size=1)
        )
        return TelegramRuntime(
            bot=connection.bot,
            receiver=Receiver(store.events, clock=clock, inbox=inbox),
            webhook=webhook,
            webhook_url=settings.telegram.webhook_url,
            webhook_secret=secret,
            poll_bot=poll_bot,
            poll_timeout=poll_timeout,
            inbox_timeout=inbox_timeout,
            poll=poll,
        )

    return TelegramReceiving(services, TelegramEvents(services), make_runtime)


def quiet_request_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs carry the bot token: keep it
    out of the logs unless someone asked for httpx's logs on purpose."""
    httpx_log = logging.getLogger("httpx")
    if httpx_log.level == logging.NOTSET:
        httpx_log.setLevel(logging.WARNING)


def _token(settings: Settings) -> str:
    if settings.telegram.token is None or not settings.telegram.token.get_secret_value():
        raise ConfigurationError("ITINERA_TELEGRAM_TOKEN", "is not set")
    return settings.telegram.token.get_secret_value()


def _secret(settings: Settings) -> str:
    secret = (
        settings.telegram.webhook_secret.get_secret_value()
        if settings.telegram.webhook_secret is not None
        else ""
    )
    if not secret:
        raise ConfigurationError(
            "ITINERA_TELEGRAM_WEBHOOK_SECRET", "webhook mode needs a secret (1-256 of A-Za-z0-9_-)"
        )
    if len(secret) > 256 or not set(secret) <= SECRET_ALPHABET:
        raise ConfigurationError(
            "ITINERA_TELEGRAM_WEBHOOK_SECRET", "must be 1-256 characters of A-Za-z0-9_-"
        )
    return secret


def digest_chat(value: str | None) -> int | str | None:
    """``ITINERA_TELEGRAM_DIGEST_CHAT``: a chat id (``-100...``) or a ``@channel`` name."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    return int(value) if value.lstrip("-").isdigit() else value
