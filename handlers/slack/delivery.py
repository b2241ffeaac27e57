"""Slack as the delivery service sees it: who can be reached, and how a screen is drawn.

:class:`SlackOut` implements :class:`surveys.service.delivery.ChannelOut`: a participant is
reached by their Slack user id (from the roster, or looked up once by email and linked), and an
invitation or reminder is one direct message: its text, then the screen. Digests go to the
organisers' channel (``ITINERA_SLACK_DIGEST_CHANNEL``), through the outbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from slack_sdk.errors import SlackApiError

from handlers.slack import presenter
from handlers.slack.identity import SlackIdentities
from handlers.slack.presenter import Where
from surveys.conversation import Screen
from surveys.errors import DeliveryError
from surveys.ports import Clock, Repositories
from surveys.queues import Lane, LiveScreen, NewMessage
from surveys.records import Participant


class SlackOut:
    """Reaches delegates, draws their screens, and posts digests to the organisers' channel."""

    channel = presenter.CHANNEL

    def __init__(
        self,
        identities: SlackIdentities,
        *,
        store: Repositories,
        clock: Clock,
        digest_channel: str | None = None,
        wake_sender: Callable[[], None] = lambda: None,
    ) -> None:
        self._identities = identities
        self._store = store
        self._clock = clock
        self._digest_channel = digest_channel
        self._wake_sender = wake_sender

    async def post_digest(
        self, *, round_id: int, key: str, text: str, image: bytes | None, image_name: str
    ) -> None:
        channel = self._digest_channel
        if not channel:
            raise DeliveryError(
                self.channel,
                "digest",
                "no digest channel (ITINERA_SLACK_DIGEST_CHANNEL)",
                permanent=True,
            )
        messages = presenter.digest_messages(
            channel=channel,
            text=text,
            image=image,
            image_name=image_name,
            key=key,
            round_id=round_id,
        )
        async with self._store.transaction() as tx:
            await tx.messages.enqueue(messages, now=self._clock.now())
        self._wake_sender()

    async def reach(self, participant: Participant, *, look_up: bool = True) -> str | None:
        """Their Slack user id: linked, from the roster, or (``look_up``) found by email."""
        try:
            return await self._identities.user_id_for(participant, look_up=look_up)
        except SlackApiError:
            return None

    async def known(self, participants: Sequence[Participant]) -> Mapping[int, str]:
        """Linked Slack ids, else the roster's, in one query."""
        linked = await self._store.identities.identities(
            [participant.id for participant in participants], self.channel
        )
        found = {pid: identity.external_id for pid, identity in linked.items()}
        for participant in participants:
            if participant.id not in found and participant.slack_user_id:
                found[participant.id] = participant.slack_user_id
        return found

    def screen_messages(
        self, screen: Screen, *, address: str, key: str, preface: str, lane: Lane
    ) -> Sequence[NewMessage]:
        where = Where(user_id=address)
        return [presenter.screen_message(screen, where=where, key=key, preface=preface, lane=lane)]

    def live_screen(
        self, message: NewMessage, *, outbox_id: int | None, now: datetime
    ) -> LiveScreen | None:
        return presenter.live_screen(message, outbox_id=outbox_id, now=now)

    def note_message(self, text: str, *, address: str, key: str, lane: Lane) -> NewMessage:
        return presenter.note_message(text, where=Where(user_id=address), key=key, lane=lane)


__all__ = ["SlackOut"]
