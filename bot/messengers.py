"""The digest side of the configured channels, for one-off posts from the CLI.

``itinera digest --post`` enqueues the digest for the organisers' Slack channel and Telegram
chat, as ``itinera run`` does; the running bot's senders deliver it. Nothing connects to the
platforms here (enqueuing needs only the database).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from surveys.pacing import MonotonicTimer
from surveys.ports import Messenger

if TYPE_CHECKING:  # storage loads when a digest is posted, not when the CLI starts
    from bot.settings import Settings
    from storage.database import Store


@asynccontextmanager
async def organiser_messengers(
    settings: Settings, store: Store
) -> AsyncIterator[Sequence[Messenger]]:
    """The Slack and Telegram digest posters that are configured (maybe none)."""
    from storage.database import SystemClock

    clock, timer, worker = SystemClock(), MonotonicTimer(), "cli"
    found: list[Messenger] = []
    closers = []
    if settings.slack.enabled:
        from bot.slack_wiring import slack_connection

        slack = slack_connection(settings, store, clock=clock, worker=worker, timer=timer)
        found.append(slack.out)
        closers.append(slack.close)
    if settings.telegram.enabled:
        from bot.telegram_wiring import telegram_connection

        telegram = telegram_connection(settings, store, clock=clock, worker=worker, timer=timer)
        found.append(telegram.out)
        closers.append(telegram.close)
    try:
        yield found
    finally:
        for close in closers:
            await close()
