"""``TelegramRuntime``: the Telegram channel as ``itinera run`` starts and stops it.

Polling mode deletes any webhook and long-polls (:mod:`.polling`); webhook mode registers
``ITINERA_TELEGRAM_WEBHOOK_URL`` with its secret and serves ``POST /telegram/webhook`` on the
shared web server. Either way each update is stored in the one inbox before it is
acknowledged (:mod:`.receiver`) and applied from there by the inbox worker (:mod:`.events`).
With several processes, only one polls (``poll=False`` for the others): Telegram answers one
``getUpdates`` per bot at a time.

The webhook answers 403 without the right ``X-Telegram-Bot-Api-Secret-Token``, 400 for a body
that is not a JSON update, 503 when the inbox cannot store it within ``inbox_timeout`` seconds
(Telegram sends it again later; logged once per outage),
and 200 once the update is stored (a repeat is stored once, applied once). An update of a kind
we do not handle is stored, answered 200, and ignored.

Stopping stops receiving only: the bot stays open for the sender, which delivers what the inbox
applies while Itinera stops; the channel's connection closes it last.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Bot, BotCommand
from telegram.error import TelegramError

from handlers.runtime import InboxOutage
from handlers.telegram.inbound import TooDeep, cleaned
from handlers.telegram.polling import ALLOWED_UPDATES, Poller
from handlers.telegram.receiver import Receiver
from handlers.telegram.texts import LANGUAGES, text

log = logging.getLogger("itinera.telegram")

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024

MENU = ("survey", "language", "timezone", "help")
"""The command menu Telegram shows, per language, to everyone: organiser commands (/rounds,
/status, /launch, /close, /extend, /digest) stay out of it and are listed by /help to
organisers only (the core's :func:`surveys.organiser_replies.help_text`)."""


class TelegramRuntime:
    """Receives from Telegram in one mode; start once, stop once. What is stored is applied by
    the inbox worker, what is enqueued sent by the Telegram sender."""

    name = "telegram"

    def __init__(
        self,
        *,
        bot: Bot,
        receiver: Receiver,
        webhook: bool,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        poll_bot: Bot | None = None,
        poll_timeout: int = 30,
        poll: bool = True,
        inbox_timeout: float = 2.0,
    ) -> None:
        if webhook and not webhook_secret:
            raise ValueError("webhook mode needs a secret")
        if not webhook and poll and poll_bot is None:
            raise ValueError("polling mode needs a bot to poll with")
        self.bot = bot
        self.receiver = receiver
        self._webhook = webhook
        self._webhook_url = webhook_url
        self._secret = webhook_secret
        self._poll_bot = poll_bot
        self._poller = (
            Poller(poll_bot, receiver=receiver, timeout=poll_timeout)
            if not webhook and poll and poll_bot is not None
            else None
        )
        self._started = False
        self._inbox_timeout = inbox_timeout
        self._outage = InboxOutage(log, "telegram")

    # --- ChannelRuntime ------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        if not self._webhook:
            return []
        return [Route(WEBHOOK_PATH, self.webhook, methods=["POST"])]

    def describe(self) -> str:
        if self._webhook:
            return f"Telegram: webhook at {self._webhook_url or WEBHOOK_PATH}"
        if self._poller is None:
            return "Telegram: sending only (another process polls)"
        return "Telegram: long polling"

    async def start(self) -> None:
        """Connect (getMe), register the webhook or remove it, set the menus, then receive."""
        try:
            await self.bot.initialize()
        except BaseException:
            await _close(self.bot)
            raise
        try:
            if self._webhook:
                if self._webhook_url:
                    await self.bot.set_webhook(
                        self._webhook_url,
                        secret_token=self._secret,
                        allowed_updates=list(ALLOWED_UPDATES),
                    )
            elif self._poller is not None:
                await self.bot.delete_webhook()
            await self._set_commands()
            if self._poller is not None and self._poll_bot is not None:
                await self._poll_bot.initialize()
                self._poller.start()
        except BaseException:
            self._started = True
            await self.stop()
            raise
        self._started = True

    async def idle(self) -> None:
        await self.receiver.idle()

    async def stop(self) -> None:
        """Stop receiving. The bot stays open: the sender still delivers what the inbox
        applies meanwhile, and the channel's connection closes it last."""
        if not self._started:
            return
        self._started = False
        if self._poller is not None and self._poll_bot is not None:
            await self._poller.stop()
            await _close(self._poll_bot)

    # --- webhook -------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """Store the update and answer 200; the inbox worker applies it."""
        given = request.headers.get(SECRET_HEADER, "")
        expected = self._secret or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        declared = request.headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        try:
            raw = cleaned(json.loads(body))
        except TooDeep:
            log.warning("Telegram: refused an update nested too deep")
            return PlainTextResponse("nested too deep", status_code=400)
        except (ValueError, RecursionError):
            return PlainTextResponse("malformed JSON", status_code=400)
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if isinstance(update_id, bool) or not isinstance(update_id, int):
            return PlainTextResponse("not an update", status_code=400)
        try:
            async with asyncio.timeout(self._inbox_timeout):
                await self.receiver.receive(raw)
        except Exception as error:  # the inbox cannot store it now: Telegram will send it again
            self._outage.failed(error)
            return PlainTextResponse("try again", status_code=503)
        self._outage.stored()
        return PlainTextResponse("ok")  # stored: the inbox worker, woken, applies it

    async def _set_commands(self) -> None:
        for language, commands in command_menus():
            try:
                await self.bot.set_my_commands(commands, language_code=language)
            except TelegramError as error:
                log.info("command menu not set (%s): %s", language or "default", error)


def command_menus() -> Sequence[tuple[str | None, list[BotCommand]]]:
    """The command menu per language code (None: the default, English)."""
    return [(None, menu("en")), *((language, menu(language)) for language in LANGUAGES)]


def menu(language: str) -> list[BotCommand]:
    return [BotCommand(name, text(f"menu_{name}", language)) for name in MENU]


async def _close(bot: Bot) -> None:
    """Shut a bot down, and its connections even if it never finished initialising (PTB leaves
    them open when ``getMe`` fails, and ``Bot.shutdown`` then does nothing)."""
    await bot.shutdown()
    await bot.request.shutdown()
