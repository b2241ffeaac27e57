"""Who asks for a use case, and what they may do: checked once here, for every channel.

A request from Slack or Telegram comes from a roster participant; one from the CLI comes from
the person ``ITINERA_ACTOR`` names (a full organiser unless the roster says otherwise). Every
use case takes an :class:`Actor` and calls :func:`require_organiser` (or its own check) before
it reads or changes anything.

An organiser may follow only some regions (the roster's ``regions`` column): they see, launch
to, close and export only rounds and delegations of those regions. :meth:`Actor.covers` says
whether a delegation is theirs, :func:`require_within` refuses what reaches outside, naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from surveys.errors import NotAllowedError, OutOfScopeError
from surveys.records import Delegation, Participant, Role

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

    @property
    def regions(self) -> tuple[str, ...]:
        """The regions an organiser follows, as the roster names them; () for every region."""
        if self.participant is None or not self.is_organiser:
            return ()
        return self.participant.regions

    @property
    def scoped(self) -> bool:
        """Whether this organiser follows only some regions."""
        return bool(self.regions)

    def covers(self, delegation: Delegation | None) -> bool:
        """Whether ``delegation`` is one this organiser may see (any, if not scoped)."""
        if not self.regions:
            return True
        if delegation is None:
            return False
        region = delegation.region.casefold()
        return any(region == mine.casefold() for mine in self.regions)


def require_organiser(actor: Actor, action: str) -> None:
    """Refuse ``action`` (e.g. ``"launch a round"``) to anyone but an organiser."""
    if not actor.is_organiser:
        raise NotAllowedError(actor.name, action)


def described(delegation: Delegation | None) -> str:
    """How a refusal names a delegation: ``FRA (France, Western European and other States)``."""
    if delegation is None:
        return "participants of no delegation"
    details = ", ".join(
        part for part in (delegation.name, delegation.region or "no region") if part
    )
    return f"{delegation.code} ({details})"


def require_within(actor: Actor, action: str, delegations: Iterable[Delegation | None]) -> None:
    """Refuse ``action`` if any of ``delegations`` lies outside the actor's regions, naming
    each of those (in code order)."""
    outside = {
        delegation.code if delegation else "": described(delegation)
        for delegation in delegations
        if not actor.covers(delegation)
    }
    if outside:
        raise OutOfScopeError(
            actor.name,
            action,
            outside=[outside[code] for code in sorted(outside)],
            regions=actor.regions,
        )


__all__ = ["CLI", "Actor", "described", "require_organiser", "require_within"]
