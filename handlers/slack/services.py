"""What the Slack listeners share: the repositories, the Web API client, the inbox, the clock.

:class:`SlackServices` is built once by ``bot.slack_wiring`` and passed to every
``register(app, services)``. It also holds the channel's single error hook
(:meth:`SlackServices.report_failure`) and a :class:`WorkTracker` that knows when background
work has finished (for a clean stop, and for tests that wait on it rather than sleep).

Errors::

    SlackError
    ├── InboxUnavailable      the inbox did not store an event in time (Slack will retry)
    └── ConfigurationError    the settings cannot run Slack (e.g. HTTP mode without a secret)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack.identity import SlackIdentities
from surveys.errors import ItineraError
from surveys.ports import (
    Clock,
    DigestService,
    Repositories,
)
from surveys.records import Channel, InboundEvent
from surveys.reminders import OfficeHours
from surveys.service.answering import Conversation

log = logging.getLogger("itinera.slack")

CHANNEL = Channel.SLACK.value
DEFAULT_INBOX_TIMEOUT = 2.0
"""Seconds the inbox may take to store an event before we answer Slack 503 (it then retries)."""
DEFAULT_VIEW_BUDGET = 2.5
"""Seconds a modal submission may take to be checked before the modal is closed regardless."""


class SlackError(ItineraError):
    """Base of the Slack channel's own errors."""


class InboxUnavailable(SlackError):
    def __init__(self, key: str, timeout: float) -> None:
        self.key = key
        self.timeout = timeout
        super().__init__(f"slack: inbox did not store {key} within {timeout:.1f}s")


class ConfigurationError(SlackError):
    """The settings cannot run the Slack channel."""


SlackRepositories = Repositories


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


@dataclass
class SlackServices:
    repos: SlackRepositories
    conversation: Conversation
    client: AsyncWebClient
    clock: Clock
    inbox_timeout: float = DEFAULT_INBOX_TIMEOUT
    view_budget: float = DEFAULT_VIEW_BUDGET
    digest_channel: str | None = None
    digests: DigestService | None = None
    """Makes a digest on demand (``/itinera digest``); None where none is wired."""
    office_hours: OfficeHours = field(default_factory=OfficeHours.parse)
    """When reminders may reach delegates (an extended round plans them again)."""
    identities: SlackIdentities = field(init=False)
    work: WorkTracker = field(default_factory=WorkTracker)
    _stored: dict[str, int] = field(default_factory=dict, repr=False)
    """Inbox ids of requests stored by this process and not yet marked processed, by key."""

    def __post_init__(self) -> None:
        self.identities = SlackIdentities(
            roster=self.repos.roster, identities=self.repos.identities, client=self.client
        )

    # --- inbox ------------------------------------------------------------------------------

    async def store_inbound(self, key: str, body: Mapping[str, Any]) -> bool:
        """Store an inbound request before it is acknowledged; False if it is a retry.

        Raises :class:`InboxUnavailable` if the database does not answer within
        ``inbox_timeout``: better a non-2xx (Slack retries) than an ack for nothing stored.
        """
        kept = {name: value for name, value in body.items() if name != "token"}
        payload = json.dumps(kept, separators=(",", ":"), ensure_ascii=False)
        accepting = self.repos.inbox.accept(
            channel=CHANNEL, key=key, payload=payload, now=self.clock.now()
        )
        try:
            event_id = await asyncio.wait_for(accepting, self.inbox_timeout)
        except TimeoutError:
            raise InboxUnavailable(key, self.inbox_timeout) from None
        if event_id is None:
            return False
        self._stored[key] = event_id
        return True

    def remember_stored(self, event: InboundEvent) -> None:
        """Note a request stored by an earlier run, before replaying it."""
        self._stored[event.key] = event.id

    async def mark_processed(self, key: str | None, *, error: str | None = None) -> None:
        """Record that the stored request ``key`` was handled (with the error, if it failed)."""
        if key is None:
            return
        event_id = self._stored.pop(key, None)
        if event_id is not None:
            await self.repos.inbox.mark_processed(event_id, now=self.clock.now(), error=error)

    # --- the error hook ---------------------------------------------------------------------

    async def report_failure(
        self, error: BaseException, *, key: str | None, user_id: str | None
    ) -> None:
        """The channel's one error hook: log, mark the stored event, and tell the person."""
        from handlers.slack import texts

        if isinstance(error, ItineraError):
            log.warning("slack: %s (%s)", error, key)
        else:
            log.error("slack: failed on %s", key, exc_info=error)
        with contextlib.suppress(Exception):
            await self.mark_processed(key, error=f"{type(error).__name__}: {error}"[:500])
        if user_id is None:
            return
        language = "en"
        with contextlib.suppress(Exception):
            participant = await self.identities.participant_for(user_id)
            language = participant.language if participant is not None else language
        with contextlib.suppress(Exception):
            channel = (await self.client.conversations_open(users=[user_id]))["channel"]["id"]
            await self.client.chat_postMessage(
                channel=channel, text=texts.text("something_went_wrong", language)
            )
