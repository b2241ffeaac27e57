"""Long polling that stores each update before Telegram forgets it.

``getUpdates`` confirms a batch when it is next called with a higher ``offset``; we ask for the
next batch only after every update of this one is in the inbox, so a crash loses nothing.
PTB's ``Updater`` is not used: it parses updates before handing them over, so a malformed update
would make it fetch the same batch forever, and it gives no hook to store the raw update before
confirming it. This loop takes raw JSON, stores it, and leaves parsing to the inbox worker.

Telegram's method names are case-insensitive; the poller calls ``getupdates`` through
``Bot.do_api_request`` so as to receive the raw JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from handlers.telegram.delivery import retry_seconds
from handlers.telegram.receiver import Receiver

log = logging.getLogger("itinera.telegram")

ALLOWED_UPDATES = ("message", "callback_query")
MAX_BACKOFF = 30.0


class Poller:
    """Fetches updates with ``getUpdates`` and stores each before confirming it."""

    def __init__(
        self,
        bot: Bot,
        *,
        receiver: Receiver,
        timeout: int = 30,
        allowed_updates: Sequence[str] = ALLOWED_UPDATES,
    ) -> None:
        self._bot = bot
        self._receiver = receiver
        self._timeout = timeout
        self._allowed = list(allowed_updates)
        self._offset: int | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="telegram-polling")

    async def stop(self) -> None:
        """Stop polling and confirm what was stored, so it is not fetched again."""
        self._stop.set()
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._offset is not None:
            try:
                await self._fetch(wait=0)
            except TelegramError as error:
                log.info("could not confirm the last Telegram updates: %s", error)

    async def _fetch(self, *, wait: int) -> list[Any]:
        result = await self._bot.do_api_request(
            "getupdates",
            api_kwargs={
                "offset": self._offset,
                "timeout": wait,
                "allowed_updates": self._allowed,
            },
            read_timeout=wait + 10,
        )
        return list(result) if isinstance(result, list) else []

    async def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                batch = await self._fetch(wait=self._timeout)
                await self._store(batch)
                failures = 0
            except RetryAfter as error:
                await self._pause(retry_seconds(error))
            except InvalidToken:
                log.critical("Telegram refused the bot token; polling stops")
                return
            except Conflict as error:
                failures += 1
                log.error("Telegram polling conflict: %s", error.message)
                await self._pause(min(2.0**failures, MAX_BACKOFF))
            except TelegramError as error:
                failures += 1
                log.warning("Telegram polling failed: %s", error)
                await self._pause(min(2.0**failures, MAX_BACKOFF))
            except Exception:  # the inbox (database) failed: keep the batch unconfirmed
                failures += 1
                log.exception("Telegram updates could not be stored; retrying")
                await self._pause(min(2.0**failures, MAX_BACKOFF))

    async def _store(self, batch: list[Any]) -> None:
        for raw in batch:
            if not isinstance(raw, dict):
                log.warning("Telegram sent an update that is not an object; ignored: %.200r", raw)
                continue
            await self._receiver.receive(raw)
            update_id = raw.get("update_id")
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                self._offset = update_id + 1

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
