"""Every error Itinera raises on purpose: one tree, rooted here.

Hierarchy (the branches outside the core live beside their code)::

    ItineraError
    ├── DefinitionError                a survey definition cannot be used
    │   └── ExpressionError            a condition or constraint is malformed
    │       ├── ExpressionSyntaxError  it does not parse
    │       └── ExpressionTypeError    it parses but names unknown questions or mixes types
    ├── RosterError                    a roster file has bad rows (nothing was imported)
    ├── NotFoundError                  a survey, round, participant or response does not exist
    ├── RoundError                     a round cannot be created or used as asked
    │   └── OverlappingRoundError      the same survey is already running for some of them
    ├── ConflictError                  what was read changed before the write (try again)
    ├── NotAllowedError                the person asking may not do this (not an organiser...)
    │   └── OutOfScopeError            ...because it reaches delegations outside their regions
    ├── RequestError                   a request's arguments cannot be used (a date, a zone...)
    │   └── TooFewBallotsError         an anonymous round has fewer ballots than ITINERA_MIN_GROUP
    ├── ConfigurationError             a setting cannot be used (names the ITINERA_ variable)
    ├── DeliveryError                  a channel refused a message (blocked, rate limited...)
    ├── bot.settings.SettingsError     the environment holds values that cannot be used
    ├── bot.bootstrap.NothingToRun     ``itinera run`` without a configured channel
    ├── bot.bootstrap.ChannelStartError  a channel could not start (a refused token...)
    ├── handlers.slack.errors.SlackError  (InboxUnavailable, InboundError, RenderError)
    └── handlers.telegram.errors.TelegramChannelError  (UnrenderableError, ConfigurationError)

Every error formats its own message from the ids it carries, so the CLI and the channels can
show ``str(error)`` as is; each channel has one place that turns them into a message for the
person (the event handlers' refusals and ``give_up``), the CLI one (``bot.terminal.run``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ItineraError(Exception):
    """Base of every error the core raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One located problem in a definition file: where, and what is wrong."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class DefinitionError(ItineraError):
    """A survey definition has one or more problems; ``problems`` lists each with its place."""

    def __init__(self, problems: Sequence[Problem], *, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        lines = [f"{prefix}{problem}" for problem in self.problems]
        return "\n".join(lines) if lines else f"{prefix}invalid survey definition"


class ExpressionError(DefinitionError):
    """A condition or constraint expression is malformed."""

    def __init__(self, expression: str, message: str, *, position: int | None = None) -> None:
        self.expression = expression
        self.detail = message
        self.position = position
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__([Problem("", f"{message}{where} in {expression!r}")])


class ExpressionSyntaxError(ExpressionError):
    """The expression does not parse."""


class ExpressionTypeError(ExpressionError):
    """The expression parses but refers to unknown questions or compares incompatible types."""


class RosterError(ItineraError):
    """A roster file has problems; nothing was imported. ``problems`` are located by line."""

    def __init__(
        self,
        problems: Sequence[Problem],
        *,
        source: str | None = None,
        notes: Sequence[str] = (),
    ) -> None:
        self.problems = list(problems)
        self.source = source
        self.notes = list(notes)
        prefix = f"{source}: " if source else ""
        lines = [f"{prefix}{p}" for p in self.problems] or ["invalid roster"]
        lines += [f"{prefix}note: {note}" for note in self.notes]
        super().__init__("\n".join(lines))


class NotFoundError(ItineraError):
    """Something named by id does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key!r}")


class RoundError(ItineraError):
    """A round cannot be created or used as asked."""


class OverlappingRoundError(RoundError):
    """A survey is launched again while a round of it, not yet closed, asks some of the same
    delegates: refused unless the organiser says ``--again``. Names that round and the overlap
    (how many delegates, in which delegations)."""

    def __init__(
        self,
        *,
        survey_id: str,
        round_id: int,
        closes_at: str,
        delegates: int,
        delegations: Sequence[str],
    ) -> None:
        self.survey_id = survey_id
        self.round_id = round_id
        self.delegates = delegates
        self.delegations = list(delegations)
        shown = ", ".join(self.delegations[:8])
        if len(self.delegations) > 8:
            shown += f" and {len(self.delegations) - 8} more"
        where = f" in {shown}" if shown else ""
        super().__init__(
            f"round {round_id} of survey {survey_id!r} is not closed yet (it closes "
            f"{closes_at}) and already asks {delegates} of these delegates{where}; "
            "add --again to launch another round anyway"
        )


class ConflictError(ItineraError):
    """Something changed between reading it and writing it back (another process, a double
    press): the write was refused and nothing was stored. Try again from a fresh read."""

    def __init__(self, kind: str, key: object, *, expected: object = None) -> None:
        self.kind = kind
        self.key = key
        self.expected = expected
        read = f" (read at version {expected})" if expected is not None else ""
        super().__init__(f"{kind} {key!r} was changed meanwhile{read}")


class NotAllowedError(ItineraError):
    """The person asking may not do what they asked; nothing was read or changed."""

    def __init__(self, actor: str, action: str) -> None:
        self.actor = actor
        self.action = action
        super().__init__(f"{actor} may not {action}: organisers only")


class OutOfScopeError(NotAllowedError):
    """An organiser scoped to some regions asked for something that reaches outside them;
    ``outside`` names what is outside (delegations, organisers); ``round_id`` is set when a
    round asks none of their delegations."""

    def __init__(
        self,
        actor: str,
        action: str,
        *,
        outside: Sequence[str],
        regions: Sequence[str],
        round_id: int | None = None,
    ) -> None:
        self.actor = actor
        self.action = action
        self.outside = tuple(outside)
        self.regions = tuple(regions)
        self.round_id = round_id
        ItineraError.__init__(
            self,
            f"{actor} may not {action}: outside their regions ({'; '.join(self.regions)}): "
            f"{', '.join(self.outside)}",
        )


class ConfigurationError(ItineraError):
    """A setting cannot be used; names the ``ITINERA_`` variable to fix and why."""

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable}: {problem}")


class RequestError(ItineraError):
    """A request's arguments cannot be used: the message says which and why."""


class TooFewBallotsError(RequestError):
    """An anonymous round has fewer ballots than the minimum group: its answers stay in."""

    def __init__(self, round_id: int, *, ballots: int, min_group: int) -> None:
        self.round_id = round_id
        self.ballots = ballots
        self.min_group = min_group
        super().__init__(
            f"round {round_id} is anonymous and has {ballots} submitted "
            f"{'response' if ballots == 1 else 'responses'}, fewer than ITINERA_MIN_GROUP "
            f"({min_group}): its answers are not exported until it has {min_group}"
        )


class DeliveryError(ItineraError):
    """A channel did not deliver a message; ``permanent`` if retrying cannot help."""

    def __init__(
        self, channel: str, recipient: object, reason: str, *, permanent: bool = False
    ) -> None:
        self.channel = channel
        self.recipient = recipient
        self.reason = reason
        self.permanent = permanent
        super().__init__(f"{channel}: message to {recipient} not delivered: {reason}")
