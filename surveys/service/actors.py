"""Who asks for a use case, and what they may do: checked once here, for every channel.

A request from Slack or Telegram comes from a roster participant; one from the CLI comes from
the person ``ITINERA_ACTOR`` names (a full organiser unless the roster says otherwise). Every
use case takes an :class:`Actor` and calls :func:`require_organiser` (or its own check) before
it reads or changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveys.errors import NotAllowedError
from surveys.records import Participant, Role

CLI = "cli"


@dataclass(frozen=True)
class Actor:
    """The person behind a request, and the channel it came from."""

    name: str
    """How the audit log names them: ``email (channel)`` or the CLI user."""
    channel: str
    role: Role
    language: str = "en"
    timezone: str = "UTC"
    participant: Participant | None = None

    @classmethod
    def of(cls, participant: Participant, channel: str) -> Actor:
        """A roster participant writing from ``channel``."""
        return cls(
            name=f"{participant.email} ({channel})",
            channel=channel,
            role=participant.role,
            language=participant.language,
            timezone=participant.timezone,
            participant=participant,
        )

    @classmethod
    def command_line(cls, name: str, participant: Participant | None = None) -> Actor:
        """The CLI's user: an organiser, unless the roster knows them as something else."""
        if participant is None:
            return cls(name=name, channel=CLI, role=Role.ORGANISER)
        return cls(
            name=name,
            channel=CLI,
            role=participant.role,
            language=participant.language,
            timezone=participant.timezone,
            participant=participant,
        )

    @property
    def is_organiser(self) -> bool:
        return self.role is Role.ORGANISER


def require_organiser(actor: Actor, action: str) -> None:
    """Refuse ``action`` (e.g. ``"launch a round"``) to anyone but an organiser."""
    if not actor.is_organiser:
        raise NotAllowedError(actor.name, action)


__all__ = ["CLI", "Actor", "require_organiser"]
