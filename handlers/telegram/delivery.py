"""Telegram as the delivery service sees it: who can be reached, and how a screen is drawn.

:class:`TelegramOut` implements :class:`surveys.service.delivery.ChannelOut`: a participant is
reached in the private chat their enrolment opened (their Telegram user id), and an invitation
or reminder is one message where it fits: its text, then the question with its buttons.
Digests go to ``ITINERA_TELEGRAM_DIGEST_CHAT`` if set, else to every organiser enrolled on
Telegram, through the outbox.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from handlers.telegram import presenter
from surveys.conversation import Screen
from surveys.errors import DeliveryError
from surveys.ports import Clock, Repositories
from surveys.queues import Lane, LiveScreen, NewMessage
from surveys.records import Participant, Role


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramOut:
    """Reaches delegates, draws their screens, and posts digests to the organisers."""

    channel = presenter.CHANNEL

    def __init__(
        self,
        store: Repositories,
        *,
        clock: Clock,
        digest_chat: int | str | None = None,
        wake_sender: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._identities = store.identities
        self._clock = clock
        self._digest_chat = digest_chat
        self._wake_sender = wake_sender

    async def post_digest(
        self, *, round_id: int, key: str, text: str, image: bytes | None, image_name: str
    ) -> None:
        """To ``ITINERA_TELEGRAM_DIGEST_CHAT`` if set, else to every organiser enrolled."""
        chats: list[int | str] = []
        if self._digest_chat is not None:
            chats.append(self._digest_chat)
        else:
            for participant in await self._store.roster.list_participants():
                if participant.role is Role.ORGANISER:
                    address = await self.reach(participant)
                    if address is not None:
                        chats.append(int(address))
        if not chats:
            raise DeliveryError(
                self.channel, "organisers", "no organiser has enrolled on Telegram", permanent=True
            )
        messages = [
            message
            for chat in chats
            for message in presenter.digest_messages(
                chat,
                text=text,
                image=image,
                image_name=image_name,
                key=f"{key}:{chat}",
                round_id=round_id,
            )
        ]
        async with self._store.transaction() as tx:
            await tx.messages.enqueue(messages, now=self._clock.now())
        self._wake_sender()

    async def reach(self, participant: Participant, *, look_up: bool = True) -> str | None:
        """The private chat their enrolment opened (never asks Telegram)."""
        identity = await self._identities.identity(participant.id, self.channel)
        if identity is None:
            return None
        address = identity.address or identity.external_id
        return address if address.lstrip("-").isdigit() else None

    async def known(self, participants: Sequence[Participant]) -> Mapping[int, str]:
        """The private chats of those enrolled, in one query."""
        linked = await self._identities.identities(
            [participant.id for participant in participants], self.channel
        )
        found: dict[int, str] = {}
        for participant_id, identity in linked.items():
            address = identity.address or identity.external_id
            if address.lstrip("-").isdigit():
                found[participant_id] = address
        return found

    def screen_messages(
        self, screen: Screen, *, address: str, key: str, preface: str, lane: Lane
    ) -> Sequence[NewMessage]:
        return presenter.screen_messages(
            screen, chat_id=int(address), key=key, live=None, preface=preface, lane=lane
        )

    def live_screen(
        self, message: NewMessage, *, outbox_id: int | None, now: datetime
    ) -> LiveScreen | None:
        return presenter.live_screen(message, outbox_id=outbox_id, now=now)

    def note_message(self, text: str, *, address: str, key: str, lane: Lane) -> NewMessage:
        return presenter.text_messages(int(address), text, key=key, lane=lane)[0]


__all__ = ["TelegramOut", "retry_seconds"]
