"""Messengers for one-off posts from the CLI (e.g. ``itinera digest --post``), without serving.

Builds the configured channels' messengers as ``itinera run`` does, connects what must be
connected (Telegram's bot), and disconnects at the end; nothing listens for updates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from bot.settings import Settings
from storage.database import Store, SystemClock
from surveys.ports import Messenger
from surveys.service.answering import Conversation


@asynccontextmanager
async def organiser_messengers(
    settings: Settings, store: Store
) -> AsyncIterator[Sequence[Messenger]]:
    """The Slack and Telegram messengers that are configured (maybe none)."""
    clock = SystemClock()
    conversation = Conversation(store, clock=clock)
    found: list[Messenger] = []
    async with AsyncExitStack() as stack:
        if settings.slack_enabled:
            from bot.slack_wiring import build_slack

            found.append(build_slack(settings, store, conversation, clock).messenger)
        if settings.telegram_enabled:
            from bot.telegram_wiring import build_telegram

            telegram = build_telegram(settings, store, conversation, clock)
            await telegram.application.initialize()
            stack.push_async_callback(telegram.application.shutdown)
            found.append(telegram.messenger)
        yield found
