"""A messenger that records what it would send: for tests of delivery, and dry runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from surveys.errors import DeliveryError
from surveys.records import Participant


@dataclass(frozen=True)
class Sent:
    participant_id: int
    round_id: int
    preface: str | None
    channel: str


@dataclass
class RecordingMessenger:
    """A ``Messenger`` that records what it sends instead of sending it.

    ``refuse`` maps participant ids to ``permanent``: sending to them raises
    :class:`DeliveryError`; ``reach`` says whom the channel reaches (everyone by default);
    ``gate``, when set, holds every send until it is set (to test shutdowns mid-send), and
    ``sending`` is set as soon as a send starts. Without a gate a send still yields to the
    loop once, so concurrent ticks interleave as they would over a network.
    """

    channel: str = "slack"
    reach: Callable[[Participant], bool] = lambda participant: True
    refuse: dict[int, bool] = field(default_factory=dict)
    gate: asyncio.Event | None = None
    sending: asyncio.Event = field(default_factory=asyncio.Event)
    sent: list[Sent] = field(default_factory=list)
    digests: list[tuple[str, bytes | None, str]] = field(default_factory=list)

    async def reachable(self, participant: Participant) -> bool:
        return self.reach(participant)

    async def send_screen(
        self, participant: Participant, round_id: int, *, preface: str | None = None
    ) -> str | None:
        self.sending.set()
        if self.gate is not None:
            await self.gate.wait()
        else:
            await asyncio.sleep(0)
        if participant.id in self.refuse:
            permanent = self.refuse[participant.id]
            reason = "bot blocked" if permanent else "rate limited"
            raise DeliveryError(self.channel, participant.id, reason, permanent=permanent)
        self.sent.append(Sent(participant.id, round_id, preface, self.channel))
        return f"{self.channel}-{len(self.sent)}"

    async def post_digest(self, *, text: str, image: bytes | None, image_name: str) -> None:
        self.digests.append((text, image, image_name))

    def to(self, participant_id: int) -> list[str]:
        """The prefaces sent to one participant, in order."""
        return [s.preface or "" for s in self.sent if s.participant_id == participant_id]
