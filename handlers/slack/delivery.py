"""Slack as the delivery service sees it: who can be reached, and how a screen is drawn.

:class:`SlackOut` implements :class:`surveys.service.delivery.ChannelOut`: a participant is
reached by their Slack user id (from the roster, or looked up once by email and linked), and an
invitation or reminder is one direct message: its text, then the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.errors import SlackApiError

from handlers.slack import presenter
from handlers.slack.identity import SlackIdentities
from handlers.slack.presenter import Where
from surveys.conversation import Screen
from surveys.queues import Lane, LiveScreen, NewMessage
from surveys.records import Participant


class SlackOut:
    channel = presenter.CHANNEL

    def __init__(self, identities: SlackIdentities) -> None:
        self._identities = identities

    async def reach(self, participant: Participant) -> str | None:
        try:
            return await self._identities.user_id_for(participant)
        except SlackApiError:
            return None

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
