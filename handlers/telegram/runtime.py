"""``TelegramRuntime``: the Telegram channel as ``itinera run`` starts and stops it.

Polling mode deletes any webhook and long-polls (:mod:`.polling`); webhook mode registers
``ITINERA_TELEGRAM_WEBHOOK_URL`` with its secret and serves ``POST /telegram/webhook`` on the
shared web server. Either way each update is stored in the inbox before it is acknowledged and
processed from there by one worker (:mod:`.intake`), through a python-telegram-bot
``Application`` that has no updater of its own.

The webhook answers 403 without the right ``X-Telegram-Bot-Api-Secret-Token``, 400 for a body
that is not a JSON update, and 200 once the update is stored (a repeat is stored once, applied
once). An update of a kind we do not handle is stored, answered 200, and ignored.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application

from handlers.telegram.delivery import Courier, Sleep
from handlers.telegram.intake import Intake
from handlers.telegram.listeners import TelegramListeners, command_menus, register
from handlers.telegram.messenger import TelegramMessenger
from handlers.telegram.polling import ALLOWED_UPDATES, Poller, payload_of, update_key
from handlers.telegram.services import TelegramRepositories, TelegramServices
from surveys.ports import Clock, DigestService
from surveys.service.answering import Conversation

log = logging.getLogger("itinera.telegram")

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024

TelegramApplication = Application[Any, Any, Any, Any, Any, Any]


class TelegramRuntime:
    """Runs the Telegram channel in one mode; start once, stop once."""

    name = "telegram"

    def __init__(
        self,
        *,
        application: TelegramApplication,
        repos: TelegramRepositories,
        conversation: Conversation,
        clock: Clock,
        webhook: bool,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        poll_bot: Bot | None = None,
        poll_timeout: int = 30,
        sleep: Sleep | None = None,
        send_attempts: int = 4,
        digest_chat: int | str | None = None,
        digests: DigestService | None = None,
    ) -> None:
        if webhook and not webhook_secret:
            raise ValueError("webhook mode needs a secret")
        if not webhook and poll_bot is None:
            raise ValueError("polling mode needs a bot to poll with")
        self.application = application
        self._webhook = webhook
        self._webhook_url = webhook_url
        self._secret = webhook_secret
        courier = Courier(application.bot, sleep=sleep or asyncio.sleep, attempts=send_attempts)
        self.services = TelegramServices(
            repos=repos,
            conversation=conversation,
            clock=clock,
            courier=courier,
            digests=digests,
            digest_chat=digest_chat,
        )
        self.listeners: TelegramListeners = register(application, self.services)
        self.messenger = TelegramMessenger(
            repos=repos,
            conversation=conversation,
            courier=courier,
            presenter=self.services.presenter,
            digest_chat=digest_chat,
        )
        """Writes to participants; usable between :meth:`start` and :meth:`stop`."""
        self.intake = Intake(repos.inbox, clock=clock, process=self._process)
        self._poll_bot = poll_bot
        self._poller = (
            None
            if webhook or poll_bot is None
            else Poller(poll_bot, intake=self.intake, timeout=poll_timeout)
        )
        self._started = False

    # --- ChannelRuntime ------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        if not self._webhook:
            return []
        return [Route(WEBHOOK_PATH, self.webhook, methods=["POST"])]

    def describe(self) -> str:
        if self._webhook:
            return f"Telegram: webhook at {self._webhook_url or WEBHOOK_PATH}"
        return "Telegram: long polling"

    async def start(self) -> None:
        """Connect (getMe), register the webhook or remove it, then process and receive."""
        try:
            await self.application.initialize()
        except BaseException:
            await _close(self.application.bot)
            raise
        try:
            bot = self.application.bot
            if self._webhook:
                if self._webhook_url:
                    await bot.set_webhook(
                        self._webhook_url,
                        secret_token=self._secret,
                        allowed_updates=list(ALLOWED_UPDATES),
                    )
            else:
                await bot.delete_webhook()
            await self._set_commands()
            await self.application.start()
            self.intake.start()
            if self._poller is not None and self._poll_bot is not None:
                await self._poll_bot.initialize()
                self._poller.start()
        except BaseException:
            self._started = True
            await self.stop()
            raise
        self._started = True

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        try:
            if self._poller is not None and self._poll_bot is not None:
                await self._poller.stop()
                await _close(self._poll_bot)
            await self.intake.stop()
        finally:
            if self.application.running:
                await self.application.stop()
            await self.application.shutdown()

    # --- webhook -------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """Store the update, then answer 200; the worker processes it from the inbox."""
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
            raw = json.loads(body)
        except ValueError:
            return PlainTextResponse("malformed JSON", status_code=400)
        key = update_key(raw)
        if key is None:
            return PlainTextResponse("not an update", status_code=400)
        await self.intake.receive(key=key, payload=payload_of(raw))
        return PlainTextResponse("ok")

    # --- processing ----------------------------------------------------------------------------

    async def _process(self, payload: str) -> str | None:
        """Parse a stored update and run the listeners on it; what went wrong, or None."""
        try:
            update = Update.de_json(json.loads(payload), self.application.bot)
        except Exception as error:
            log.warning("unreadable Telegram update ignored: %s", error)
            return f"unreadable update: {type(error).__name__}: {error}"
        await self.application.process_update(update)
        return self.listeners.failures.pop(update.update_id, None)

    async def _set_commands(self) -> None:
        for language, commands in command_menus():
            try:
                await self.application.bot.set_my_commands(commands, language_code=language)
            except TelegramError as error:
                log.info("command menu not set (%s): %s", language or "default", error)

    async def until_processed(self, update_id: int) -> None:
        """Wait until this runtime has processed the update (tests and demos use it)."""
        await self.intake.until_processed(str(update_id))


async def _close(bot: Bot) -> None:
    """Shut a bot down, and its connections even if it never finished initialising (PTB leaves
    them open when ``getMe`` fails, and ``Bot.shutdown`` then does nothing)."""
    await bot.shutdown()
    await bot.request.shutdown()
