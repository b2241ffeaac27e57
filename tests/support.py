"""Helpers several test modules share (importable as ``tests.support``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from surveys.conversation import Action, Answer, Back, Screen, Skip, Submit
from surveys.engine import RawInput
from surveys.ports import Repositories
from surveys.service.answering import Conversation


@dataclass
class FixedClock:
    """A clock that says what it is told."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


WORDS: dict[str, Action] = {"back": Back(), "skip": Skip(), "submit": Submit()}


async def act_as(
    store: Repositories,
    *,
    round_id: int,
    participant_id: int,
    action: RawInput | str,
    now: datetime,
    language: str = "en",
) -> Screen:
    """One delegate action through the answering use case, as if typed in ``language``:
    an input, or ``"back"``, ``"skip"``, ``"submit"``."""
    participant = await store.roster.get_participant(participant_id)
    participant = dataclasses.replace(participant, language=language)
    done = WORDS[action] if isinstance(action, str) else Answer(action)
    return await Conversation(store, clock=FixedClock(now)).act(participant, round_id, done)


def refused(screen: Screen) -> bool:
    """Whether the action was refused (an input the engine did not accept)."""
    return not screen.accepted and screen.notice is not None and not screen.stale
