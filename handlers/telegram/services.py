"""What the Telegram listeners need from the rest of Itinera, as one object.

``bot`` builds it once per running application: the repositories (``storage.Store`` provides
them all), the conversation service, the clock, and the :class:`~.delivery.Courier` bound to
the application's bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from handlers.telegram.delivery import Courier, ScreenPresenter
from surveys.conversation import Conversation
from surveys.ports import (
    Clock,
    EnrolmentRepository,
    IdentityRepository,
    InboxRepository,
    OutboxRepository,
    ResponseRepository,
    RosterRepository,
    RoundRepository,
    SurveyRepository,
)


class TelegramRepositories(Protocol):
    """The repositories the Telegram channel reads and writes."""

    @property
    def surveys(self) -> SurveyRepository: ...

    @property
    def roster(self) -> RosterRepository: ...

    @property
    def rounds(self) -> RoundRepository: ...

    @property
    def responses(self) -> ResponseRepository: ...

    @property
    def identities(self) -> IdentityRepository: ...

    @property
    def enrolments(self) -> EnrolmentRepository: ...

    @property
    def inbox(self) -> InboxRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...


@dataclass
class TelegramServices:
    repos: TelegramRepositories
    conversation: Conversation
    clock: Clock
    courier: Courier
    presenter: ScreenPresenter = field(init=False)

    def __post_init__(self) -> None:
        self.presenter = ScreenPresenter(self.courier, self.repos.outbox, clock=self.clock)
