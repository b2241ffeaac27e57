"""What the Slack channel's parts share: the store, the Web API client, the clock, and hooks.

:class:`SlackServices` is built once by the composition root and passed to the listeners (which
store what Slack sends, then acknowledge), the event handler (which applies what was stored)
and the presenters. ``wake_sender`` tells the local Slack sender that messages were enqueued;
``modal_waiters`` lets a modal submission, checked while Slack waits for the answer, learn
whether the answer was refused (to show the reason in the modal).

The channel's errors are in :mod:`handlers.slack.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.identity import SlackIdentities
from surveys.ports import Clock, DigestService, Repositories
from surveys.records import Channel
from surveys.reminders import OfficeHours
from surveys.service.answering import NoteWriter

CHANNEL = Channel.SLACK.value
DEFAULT_INBOX_TIMEOUT = 2.0
"""Seconds the inbox may take to store an event before we answer Slack 503 (it then retries)."""
DEFAULT_VIEW_BUDGET = 2.5
"""Seconds a modal submission may take to be checked before the modal is closed regardless."""


class WorkTracker:
    """Counts work in flight; :meth:`wait_idle` returns once none is left."""

    def __init__(self) -> None:
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def track(self) -> AsyncIterator[None]:
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    @property
    def active(self) -> int:
        return self._active

    async def wait_idle(self, within: float) -> None:
        """Wait until no work is in flight; ``TimeoutError`` after ``within`` seconds."""
        async with asyncio.timeout(within):
            await self._idle.wait()


def _nothing() -> None:
    return None


@dataclass
class SlackServices:
    store: Repositories
    client: AsyncWebClient
    clock: Clock
    identities: SlackIdentities
    inbox_timeout: float = DEFAULT_INBOX_TIMEOUT
    view_budget: float = DEFAULT_VIEW_BUDGET
    digest_channel: str | None = None
    digests: DigestService | None = None
    """Makes a digest on demand (``/itinera digest``); None where none is wired."""
    office_hours: OfficeHours = field(default_factory=OfficeHours.parse)
    """When reminders may reach delegates (an extended round plans them again)."""
    wake_sender: Callable[[], None] = _nothing
    """Tells the Slack sender of this process that messages were enqueued."""
    notes: Mapping[str, NoteWriter] = field(default_factory=dict)
    """By channel: how to tell a delegation's other delegates that its response was sent."""
    work: WorkTracker = field(default_factory=WorkTracker)
    modal_waiters: dict[str, asyncio.Future[str | None]] = field(default_factory=dict, repr=False)
    """Modal submissions being checked while Slack waits, by inbox key: the refusal to show in
    the modal, or None (accepted: close it). Not state: only what to answer a request with."""


__all__ = [
    "CHANNEL",
    "DEFAULT_INBOX_TIMEOUT",
    "DEFAULT_VIEW_BUDGET",
    "SlackServices",
    "WorkTracker",
]
