"""What the Telegram listeners need from the rest of Itinera, as one object.

``bot`` builds it once per running application: the repositories (``storage.Store`` provides
them all), the conversation service, the clock, and the :class:`~.delivery.Courier` bound to
the application's bot; ``digests`` makes digests on demand for ``/digest`` (None: not
offered here), ``digest_chat`` is where the Telegram side posts them (None: to each organiser).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from handlers.telegram.delivery import Courier, ScreenPresenter
from surveys.ports import (
    Clock,
    DigestService,
    Repositories,
)
from surveys.reminders import OfficeHours
from surveys.service.answering import Conversation

TelegramRepositories = Repositories


@dataclass
class TelegramServices:
    repos: TelegramRepositories
    conversation: Conversation
    clock: Clock
    courier: Courier
    digests: DigestService | None = None
    digest_chat: int | str | None = None
    office_hours: OfficeHours = field(default_factory=OfficeHours.parse)
    presenter: ScreenPresenter = field(init=False)

    def __post_init__(self) -> None:
        self.presenter = ScreenPresenter(self.courier, self.repos.outbox, clock=self.clock)
