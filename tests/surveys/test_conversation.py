"""The conversation service both channels call: what is stored, and what the delegate sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.memory import InMemoryStore
from surveys.conversation import Answer, Back, Edit, ScreenKind, Show, Skip, Submit
from surveys.engine import Pressed, Typed
from surveys.records import Audience, Delegation, Participant, ParticipantData, ResponseStatus, Role
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.answering import Conversation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture
async def setup(
    make_survey: Any, make_question: Any
) -> tuple[InMemoryStore, Clock, int, Participant]:
    store = InMemoryStore()
    survey = make_survey(
        make_question("score", "scale", required=True),
        make_question("topic", "single_choice"),
        make_question("why", "text", relevant="${topic} = 'other'"),
        intro={"en": "Thank you for your time.", "fr": "Merci de votre temps."},
    )
    await organising.import_survey(store, Actor.command_line("test"), survey, now=T0)
    await store.roster.import_roster(
        [Delegation("SEN", "Senegal", "African States")],
        [
            ParticipantData(
                name="Aminata Diop",
                email="a@example.org",
                role=Role.DELEGATE,
                delegation="SEN",
                language="fr",
                timezone="Africa/Dakar",
            )
        ],
    )
    launched = await organising.launch(
        store,
        Actor.command_line("test"),
        organising.LaunchRequest(
            survey_id=survey.id,
            audience=Audience("all"),
            closes=T0 + timedelta(days=3),
        ),
        now=T0,
    )
    [participant] = await store.roster.list_participants()
    return store, Clock(T0), launched.round.id, participant


async def test_showing_the_first_question_does_not_start_the_response(setup: Any) -> None:
    store, clock, round_id, delegate = setup
    conversation = Conversation(store, clock=clock)

    shown = await conversation.act(delegate, round_id, Show())

    assert shown.kind is ScreenKind.ASKING and shown.prompt is not None
    assert shown.intro is not None and "Merci de votre temps." in shown.intro
    assert shown.prompt.question.id == "score"
    response = await store.responses.get_response(round_id, delegate.id)
    assert response.status is ResponseStatus.NOT_STARTED

    answered = await conversation.act(delegate, round_id, Answer(Pressed(("4",))))
    assert answered.accepted and answered.intro is None
    assert answered.prompt is not None and answered.prompt.question.id == "topic"
    response = await store.responses.get_response(round_id, delegate.id)
    assert response.status is ResponseStatus.IN_PROGRESS
    assert response.state.answers == {"score": 4}


async def test_a_refused_input_is_explained_in_french_and_nothing_is_stored(setup: Any) -> None:
    store, clock, round_id, delegate = setup
    conversation = Conversation(store, clock=clock)

    refused = await conversation.act(delegate, round_id, Answer(Typed("9")))

    assert not refused.accepted
    assert refused.notice is not None and refused.notice.startswith("Veuillez")
    assert refused.prompt is not None and refused.prompt.question.id == "score"
    assert (await store.responses.get_response(round_id, delegate.id)).state.answers == {}


async def test_walk_change_and_submit_then_late_answers_are_refused(setup: Any) -> None:
    store, clock, round_id, delegate = setup
    conversation = Conversation(store, clock=clock)
    for action in (Answer(Typed("3")), Answer(Typed("autre")), Answer(Typed("Pour la paix"))):
        screen = await conversation.act(delegate, round_id, action)
    assert screen.kind is ScreenKind.REVIEW and screen.summary is not None

    premature = await conversation.act(delegate, round_id, Back())
    assert premature.prompt is not None and premature.prompt.question.id == "why"
    await conversation.act(delegate, round_id, Skip())
    changed = await conversation.act(delegate, round_id, Edit("topic"))
    assert changed.prompt is not None and changed.prompt.current == "other"
    review = await conversation.act(delegate, round_id, Answer(Typed("1")))
    assert review.kind is ScreenKind.REVIEW
    assert "why" not in (await store.responses.get_response(round_id, delegate.id)).state.answers

    submitted = await conversation.act(delegate, round_id, Submit())
    assert submitted.kind is ScreenKind.SUBMITTED
    assert submitted.notice == "Merci. Vos réponses ont bien été envoyées."

    clock.at = T0 + timedelta(days=4)
    late = await conversation.act(delegate, round_id, Edit("score"))
    assert late.kind is ScreenKind.CLOSED
    assert late.notice is not None and "a été clôturée" in late.notice
    response = await store.responses.get_response(round_id, delegate.id)
    assert response.status is ResponseStatus.SUBMITTED
    assert response.state.answers == {"score": 3, "topic": "trade"}
