"""A channel for tests of delivery: draws screens as plain outbox messages and reads them back.

:class:`RecordingOut` is a :class:`surveys.service.delivery.ChannelOut` (and a digest
:class:`surveys.ports.Messenger`) with no platform behind it. It reaches whom the test says,
draws each invitation or reminder as one message holding its text and the question shown, and
lets the test read what the outbox really holds (:meth:`RecordingOut.stored`), so that what was
drawn in a transaction that rolled back is never mistaken for what was enqueued.
:meth:`RecordingOut.deliver` plays the sender: every pending message of the channel is marked
sent (or failed, for whom ``refuse`` names).

Example::

    slack = RecordingOut("slack", reaches=lambda p: p.delegation != "MEX")
    await tick(store, channels=[slack], now=now, office_hours=hours)
    assert await slack.texts(store, participant_id) == ["Dear ...", "Reminder: ..."]
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from surveys.conversation import Screen
from surveys.queues import Lane, LiveScreen, NewMessage, OutboundMessage, ScreenRef
from surveys.records import Participant
from surveys.service.sending import OutboxStore

SCREEN = "fake.screen"
NOTE = "fake.note"


@dataclass(frozen=True)
class Digest:
    round_id: int
    key: str
    text: str
    image_name: str


@dataclass
class RecordingOut:
    """A channel that draws screens as plain outbox messages; see the module docstring.

    ``reaches`` says whom it reaches (everyone by default; if it raises, the platform did not
    answer the lookup); ``faults`` maps a message key prefix (``"invite:2:"``) to an error
    raised once such a message is enqueued, before its transaction commits (a crash between
    the outbox write and what records it). ``gate``, when set, holds every :meth:`reach` until
    it is set (a tick stopped halfway), and ``reaching`` is set as soon as one starts; without
    a gate a reach still yields to the loop once, so concurrent ticks interleave as they would
    over a network.
    """

    channel: str = "slack"
    reaches: Callable[[Participant], bool] = lambda participant: True
    faults: dict[str, BaseException] = field(default_factory=dict)
    refuse: set[int] = field(default_factory=set)
    """Participants whose messages :meth:`deliver` fails (they blocked the bot)."""
    gate: asyncio.Event | None = None
    reaching: asyncio.Event = field(default_factory=asyncio.Event)
    asked: list[int] = field(default_factory=list)
    """Whom :meth:`reach` was asked about, in order."""
    drawn: list[NewMessage] = field(default_factory=list)
    """Every message drawn, enqueued or not."""
    digests: list[Digest] = field(default_factory=list)

    # --- ChannelOut -----------------------------------------------------------------------

    async def known(self, participants: Sequence[Participant]) -> Mapping[int, str]:
        """Nobody: this channel always asks (:meth:`reach`)."""
        return {}

    async def reach(self, participant: Participant, *, look_up: bool = True) -> str | None:
        """Reaches whom ``reaches`` says, always by asking (``look_up=False``: nobody)."""
        if not look_up:
            return None
        self.asked.append(participant.id)
        self.reaching.set()
        if self.gate is not None:
            await self.gate.wait()
        else:
            await asyncio.sleep(0)
        return f"{self.channel}:{participant.id}" if self.reaches(participant) else None

    def screen_messages(
        self, screen: Screen, *, address: str, key: str, preface: str, lane: Lane
    ) -> Sequence[NewMessage]:
        prompt = screen.prompt
        question = prompt.question.id if prompt is not None else None
        message = NewMessage(
            channel=self.channel,
            key=key,
            address=address,
            method=SCREEN,
            body={"text": preface, "screen": screen.kind.value, "question": question},
            lane=lane,
            participant_id=screen.participant.id,
            round_id=screen.round.id,
            screen=ScreenRef(
                response_id=screen.response.id,
                participant_id=screen.participant.id,
                round_id=screen.round.id,
                question_id=question,
                version=screen.response.version,
            ),
        )
        self.drawn.append(message)
        return [message]

    def live_screen(
        self, message: NewMessage, *, outbox_id: int | None, now: datetime
    ) -> LiveScreen | None:
        for prefix, error in self.faults.items():
            if message.key.startswith(prefix):
                raise error
        ref = message.screen
        if ref is None:
            return None
        return LiveScreen(
            channel=self.channel,
            response_id=ref.response_id,
            participant_id=ref.participant_id,
            round_id=ref.round_id,
            question_id=ref.question_id,
            version=ref.version,
            shown_at=now,
            outbox_id=outbox_id,
        )

    def note_message(self, text: str, *, address: str, key: str, lane: Lane) -> NewMessage:
        message = NewMessage(
            channel=self.channel,
            key=key,
            address=address,
            method=NOTE,
            body={"text": text},
            lane=lane,
            participant_id=int(address.rpartition(":")[2]),
        )
        self.drawn.append(message)
        return message

    # --- Messenger (digests) --------------------------------------------------------------

    async def post_digest(
        self, *, round_id: int, key: str, text: str, image: bytes | None, image_name: str
    ) -> None:
        self.digests.append(Digest(round_id, key, text, image_name))

    # --- what the outbox holds --------------------------------------------------------------

    async def stored(self, store: OutboxStore) -> list[OutboundMessage]:
        """The messages drawn here that the outbox holds, oldest first."""
        keys = list(dict.fromkeys(message.key for message in self.drawn))
        found = await store.messages.find(keys=keys, channel=self.channel) if keys else []
        return sorted(found, key=lambda message: message.id)

    async def texts(self, store: OutboxStore, participant_id: int) -> list[str]:
        """The texts the outbox holds for one participant, in order."""
        return [
            str(message.body["text"])
            for message in await self.stored(store)
            if message.participant_id == participant_id
        ]

    async def deliver(
        self, store: OutboxStore, *, now: datetime, worker: str = "fake-sender"
    ) -> int:
        """Send every pending message of this channel (as the sender would, one at a time per
        address), failing those to ``refuse``; how many were handled."""
        handled = 0
        while True:
            async with store.transaction() as tx:
                claimed = await tx.messages.claim(
                    channel=self.channel,
                    worker=worker,
                    now=now,
                    lease=timedelta(minutes=1),
                    limit=100,
                )
                for message in claimed:
                    if message.participant_id in self.refuse:
                        await tx.messages.fail(
                            message.id, worker=worker, now=now, error="bot blocked"
                        )
                    else:
                        await tx.messages.delivered(
                            message.id, worker=worker, now=now, platform_id=f"m{message.id}"
                        )
            if not claimed:
                return handled
            handled += len(claimed)


__all__ = ["NOTE", "SCREEN", "Digest", "RecordingOut"]
