"""The answering use case: one transaction per action, and presses racing from two processes.

The race runs two stores on one database (two engines, as two ``itinera run`` processes would),
on SQLite and PostgreSQL: every press ends applied exactly once or refused as stale, never lost
and never doubled.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.database import Store, open_store
from surveys import i18n
from surveys.conversation import Answer, Back, Screen, ScreenKind, Show, Skip
from surveys.engine import Pressed, Typed
from surveys.queues import EventTarget
from surveys.records import Delegation, Participant, ParticipantData, Role
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.answering import Asking, Conversation, NothingOpen, answer_typed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


async def seed(store: Store, make_survey: Any, make_question: Any) -> tuple[int, Participant]:
    survey = make_survey(
        make_question("score", "scale", required=True),
        make_question("topic", "single_choice", required=True),
        make_question("why", "text"),
    )
    actor = Actor.command_line("test")
    await organising.import_survey(store, actor, survey, now=T0)
    await store.roster.import_roster(
        [Delegation("SEN", "Senegal", "African States")],
        [ParticipantData("Aminata Diop", "a@example.org", Role.DELEGATE, "SEN")],
    )
    launched = await organising.launch(
        store,
        actor,
        organising.LaunchRequest(survey.id, "all", closes=T0 + timedelta(days=3)),
        now=T0,
    )
    [participant] = await store.roster.list_participants()
    return launched.round.id, participant


async def test_a_press_for_a_question_that_moved_on_is_not_applied(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    round_id, delegate = await seed(any_store, make_survey, make_question)
    conversation = Conversation(any_store, clock=Clock(T0))
    await conversation.act(delegate, round_id, Answer(Pressed(("4",))), expect=Asking("score"))

    late = await conversation.act(
        delegate, round_id, Answer(Pressed(("2",))), expect=Asking("score")
    )

    assert late.stale and not late.accepted
    assert late.prompt is not None and late.prompt.question.id == "topic"
    response = await any_store.responses.get_response(round_id, delegate.id)
    assert response.state.answers == {"score": 4}
    # Back to it, the same press applies: it is the question shown again.
    await conversation.act(delegate, round_id, Back(), expect=Asking("topic"))
    again = await conversation.act(
        delegate, round_id, Answer(Pressed(("2",))), expect=Asking("score")
    )
    assert again.accepted and not again.stale
    assert (await any_store.responses.get_response(round_id, delegate.id)).state.answers[
        "score"
    ] == 2


async def press_everywhere(
    stores: list[Store], delegate: Participant, round_id: int, raws: list[Any], question: str
) -> list[Screen]:
    conversations = [Conversation(store, clock=Clock(T0)) for store in stores]
    return await asyncio.gather(
        *(
            conversations[n % len(conversations)].act(
                delegate, round_id, Answer(raw), expect=Asking(question)
            )
            for n, raw in enumerate(raws)
        )
    )


async def test_presses_racing_from_two_processes_apply_once_or_are_refused(
    database_url: str, make_survey: Any, make_question: Any
) -> None:
    first, second = await open_store(database_url), await open_store(database_url)
    try:
        round_id, delegate = await seed(first, make_survey, make_question)
        await Conversation(first, clock=Clock(T0)).act(delegate, round_id, Show())

        # Twelve presses on the scale of question 1, from both processes at once.
        screens = await press_everywhere(
            [first, second],
            delegate,
            round_id,
            [Pressed((str(1 + n % 5),)) for n in range(12)],
            "score",
        )
        applied = [screen for screen in screens if screen.accepted]
        refused = [screen for screen in screens if screen.stale]
        assert len(applied) == 1 and len(refused) == 11, "one applied, the rest refused"
        response = await second.responses.get_response(round_id, delegate.id)
        history = await second.responses.history(response.id)
        assert [change.question_id for change in history] == ["score"], "never doubled"
        winner = applied[0].response.state.answers["score"]
        assert response.state.answers == {"score": winner}, "never lost"
        assert response.state.current == "topic"

        # Then typed answers to the next question, racing the same way.
        typed = await press_everywhere(
            [second, first], delegate, round_id, [Typed(str(1 + n % 3)) for n in range(8)], "topic"
        )
        assert sum(screen.accepted for screen in typed) == 1
        after = await first.responses.get_response(round_id, delegate.id)
        assert len(await first.responses.history(after.id)) == 2
        assert after.version == response.version + 1, "one write per applied press, nothing lost"
    finally:
        await first.close()
        await second.close()


async def test_typed_text_answers_the_question_shown_or_nothing(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    """One rule for every channel: the question shown, the summary shown, or nothing open."""
    round_id, delegate = await seed(any_store, make_survey, make_question)
    clock = Clock(T0)
    response = await any_store.responses.get_response(round_id, delegate.id)
    at_score = EventTarget(round_id=round_id, response_id=response.id, question_id="score")

    async def answers() -> dict[str, Any]:
        return dict((await any_store.responses.get_response(round_id, delegate.id)).state.answers)

    # Nothing shown on the channel yet: where she is, nothing applied.
    shown = await answer_typed(any_store, delegate, "4", EventTarget(), clock=clock)
    assert isinstance(shown, Screen) and not shown.accepted and not shown.stale
    assert shown.prompt is not None and shown.prompt.question.id == "score"
    # The question shown: applied.
    applied = await answer_typed(any_store, delegate, "4", at_score, clock=clock)
    assert isinstance(applied, Screen) and applied.accepted
    # Typed at question 1 again (a second message), or written before question 2 was shown
    # (a late retry): neither lands on question 2.
    again = await answer_typed(any_store, delegate, "1", at_score, clock=clock)
    late = dataclasses.replace(at_score, question_id="topic", moved_on=True)
    retried = await answer_typed(any_store, delegate, "1", late, clock=clock)
    for screen in (again, retried):
        assert isinstance(screen, Screen) and screen.stale and not screen.accepted
        assert screen.notice == i18n.text("moved_on", "en")
    assert await answers() == {"score": 4}
    # The summary shown: nothing to answer there.
    await answer_typed(
        any_store, delegate, "1", dataclasses.replace(at_score, question_id="topic"), clock=clock
    )
    await Conversation(any_store, clock=clock).act(delegate, round_id, Skip(), expect=Asking("why"))
    summary = dataclasses.replace(at_score, question_id=None)
    refused = await answer_typed(any_store, delegate, "more", summary, clock=clock)
    assert isinstance(refused, Screen) and refused.kind is ScreenKind.REVIEW
    assert not refused.accepted and refused.notice == i18n.text("already_complete", "en")
    # Closed: wherever it was typed, the survey closed, and when.
    clock.at = T0 + timedelta(days=4)
    for target in (summary, at_score):
        closed = await answer_typed(any_store, delegate, "more", target, clock=clock)
        assert isinstance(closed, Screen) and closed.kind is ScreenKind.CLOSED
        assert closed.notice is not None and closed.notice.startswith("The survey “")
    # Nothing shown and nothing open.
    nothing = await answer_typed(any_store, delegate, "hello", EventTarget(), clock=clock)
    assert nothing == NothingOpen(i18n.text("no_open_round", "en"))
