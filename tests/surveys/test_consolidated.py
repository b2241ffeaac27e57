"""Consolidated rounds: one response per delegation, shared by its delegates.

Each test runs on the in-memory store, SQLite and PostgreSQL (``any_store``); the race runs two
stores on one PostgreSQL (or SQLite) database, as two ``itinera run`` processes would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.fakes.messenger import NOTE, RecordingOut
from storage.database import Store, open_store
from storage.digests import SqlAlchemyDigestQueries
from storage.memory import InMemoryStore
from storage.memory_digests import InMemoryDigestQueries
from storage.tables import ResponseRow
from surveys.conversation import Answer, Back, Edit, ScreenKind, Show, Submit
from surveys.digest import DigestPlan
from surveys.engine import Pressed
from surveys.errors import RoundError
from surveys.records import (
    Attribution,
    Delegation,
    Participant,
    ParticipantData,
    ResponseMode,
    ResponseStatus,
    Role,
)
from surveys.reminders import OfficeHours
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.answering import Asking, Conversation, Reviewing, submitted_key
from surveys.service.delivery import close_due_rounds, tick

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class World:
    round_id: int
    ana: Participant
    """Senegal."""
    bea: Participant
    """Senegal."""
    carl: Participant
    """Mexico, alone in his delegation."""


async def seed(
    store: Any,
    make_survey: Any,
    make_question: Any,
    *,
    attribution: Attribution = Attribution.NAMED,
    responses: str = "consolidated",
) -> World:
    survey = make_survey(
        make_question("score", "scale", required=True),
        make_question("topic", "single_choice", required=True),
    )
    actor = Actor.command_line("test")
    await organising.import_survey(store, actor, survey, now=T0)
    await store.roster.import_roster(
        [Delegation("SEN", "Senegal", "African States"), Delegation("MEX", "Mexico", "GRULAC")],
        [
            ParticipantData("Ana Diop", "ana@example.org", Role.DELEGATE, "SEN", language="fr"),
            ParticipantData("Bea Sarr", "bea@example.org", Role.DELEGATE, "SEN"),
            ParticipantData("Carl Ruiz", "carl@example.org", Role.DELEGATE, "MEX"),
        ],
    )
    launched = await organising.launch(
        store,
        actor,
        organising.LaunchRequest(
            survey.id,
            "all",
            closes=T0 + timedelta(days=3),
            attribution=attribution,
            responses=responses,
        ),
        now=T0,
    )
    people = {p.name.split()[0]: p for p in await store.roster.list_participants()}
    for person in people.values():
        await store.roster.link_identity(person.id, "slack", f"slack:{person.id}")
    people = {p.name.split()[0]: p for p in await store.roster.list_participants()}
    return World(launched.round.id, people["Ana"], people["Bea"], people["Carl"])


async def test_delegates_of_a_delegation_continue_the_same_draft(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question)
    talk = Conversation(any_store, clock=Clock(T0))

    await talk.act(world.ana, world.round_id, Answer(Pressed(("4",))), expect=Asking("score"))
    seen = await talk.act(world.bea, world.round_id, Show())
    assert seen.prompt is not None and seen.prompt.question.id == "topic", "Ana's answer is hers"
    assert seen.response.state.answers == {"score": 4}
    # Bea goes back and changes Ana's answer; Ana sees Bea's.
    await talk.act(world.bea, world.round_id, Back(), expect=Asking("topic"))
    await talk.act(world.bea, world.round_id, Answer(Pressed(("2",))), expect=Asking("score"))
    ana = await any_store.responses.get_response(world.round_id, world.ana.id)
    bea = await any_store.responses.get_response(world.round_id, world.bea.id)
    assert ana.state.answers == bea.state.answers == {"score": 2}
    assert ana.shared_id == bea.shared_id and ana.id != bea.id
    # Carl (another delegation) has a response of his own.
    carl = await any_store.responses.get_response(world.round_id, world.carl.id)
    assert carl.state.answers == {} and carl.shared_id not in (ana.shared_id,)

    history = await any_store.responses.history(ana.shared_id)
    assert [(c.question_id, c.value, c.by) for c in history] == [
        ("score", 4, world.ana.id),
        ("score", 2, world.bea.id),
    ]
    # Status and counts count delegations, not delegates.
    counts = await any_store.rounds.counts(world.round_id)
    assert sum(counts.values()) == 2
    assert counts[ResponseStatus.IN_PROGRESS] == 1
    lines = await any_store.rounds.status(world.round_id)
    assert sorted(line.participant.delegation or "" for line in lines) == ["MEX", "SEN"]


async def test_a_submission_tells_the_other_delegates_by_whom_in_the_same_transaction(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question)
    slack, telegram = RecordingOut("slack"), RecordingOut("telegram")
    notes = {"telegram": telegram, "slack": slack}
    talk = Conversation(any_store, clock=Clock(T0), notes=notes)
    ana = await any_store.responses.get_response(world.round_id, world.ana.id)
    await any_store.rounds.invited(ana.id, channel="slack", at=T0, remind_at=None)
    await any_store.roster.link_identity(world.ana.id, "telegram", f"telegram:{world.ana.id}")
    await talk.act(world.ana, world.round_id, Answer(Pressed(("4",))), expect=Asking("score"))
    await talk.act(world.bea, world.round_id, Answer(Pressed(("trade",))), expect=Asking("topic"))

    done = await talk.act(world.bea, world.round_id, Submit(), expect=Reviewing())

    assert done.kind is ScreenKind.SUBMITTED and done.accepted
    lines = await any_store.rounds.status(world.round_id)
    [senegal] = [line for line in lines if line.participant.delegation == "SEN"]
    assert senegal.participant.id == world.bea.id, "status names who submitted"
    [note] = await any_store.messages.find(keys=[submitted_key(world.round_id, world.ana.id)])
    assert note.method == NOTE and note.participant_id == world.ana.id
    assert note.channel == "slack", "on the channel Ana was invited on"
    assert note.body["text"].startswith("Bea Sarr a envoyé la réponse de Senegal"), "in French"
    assert not await any_store.messages.find(keys=[submitted_key(world.round_id, world.bea.id)]), (
        "the one who submitted is not told"
    )
    assert not await any_store.messages.find(keys=[submitted_key(world.round_id, world.carl.id)])
    # Ana opening the round sees the submitted summary, and may still change an answer.
    shown = await talk.act(world.ana, world.round_id, Show())
    assert shown.kind is ScreenKind.SUBMITTED
    editing = await talk.act(world.ana, world.round_id, Edit("score"), expect=Reviewing())
    assert editing.prompt is not None and editing.prompt.question.id == "score"
    counts = await any_store.rounds.counts(world.round_id)
    assert (counts[ResponseStatus.SUBMITTED], sum(counts.values())) == (1, 2)
    # A second submission (after an edit) tells nobody again.
    await talk.act(world.ana, world.round_id, Answer(Pressed(("5",))), expect=Asking("score"))
    await talk.act(world.ana, world.round_id, Submit(), expect=Reviewing())
    assert not await any_store.messages.find(keys=[submitted_key(world.round_id, world.bea.id)])


async def test_no_delegate_is_reminded_once_the_delegation_submitted(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question)
    due_at = T0 + timedelta(hours=1)
    for person in (world.ana, world.bea, world.carl):
        response = await any_store.responses.get_response(world.round_id, person.id)
        await any_store.rounds.invited(response.id, channel="slack", at=T0, remind_at=due_at)
    later = due_at + timedelta(minutes=1)
    before = await any_store.rounds.due_reminders(now=later, limit=10)
    assert {due.participant.id for due in before} == {world.ana.id, world.bea.id, world.carl.id}

    talk = Conversation(any_store, clock=Clock(T0))
    await talk.act(world.ana, world.round_id, Answer(Pressed(("4",))), expect=Asking("score"))
    await talk.act(world.ana, world.round_id, Answer(Pressed(("trade",))), expect=Asking("topic"))
    await talk.act(world.ana, world.round_id, Submit(), expect=Reviewing())

    after = await any_store.rounds.due_reminders(now=later, limit=10)
    assert [due.participant.id for due in after] == [world.carl.id], "nobody of Senegal"
    plans = await any_store.rounds.reminder_plans(world.round_id)
    assert [due.participant.id for due in plans] == [world.carl.id]


async def test_the_export_has_one_row_per_delegation(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question)
    talk = Conversation(any_store, clock=Clock(T0))
    await talk.act(world.bea, world.round_id, Answer(Pressed(("3",))), expect=Asking("score"))

    rows = [row async for row in any_store.responses.export_rows(world.round_id)]

    assert sorted((row.participant.delegation, row.answers.get("score")) for row in rows) == [
        ("MEX", None),
        ("SEN", 3),
    ]
    [senegal] = [row for row in rows if row.participant.delegation == "SEN"]
    assert senegal.participant.id == world.bea.id, "who changed it last"

    # Ana submits; Bea changes an answer afterwards: Ana stays who submitted it.
    await talk.act(world.ana, world.round_id, Answer(Pressed(("trade",))), expect=Asking("topic"))
    await talk.act(world.ana, world.round_id, Submit(), expect=Reviewing())
    await talk.act(world.bea, world.round_id, Edit("score"), expect=Reviewing())
    await talk.act(world.bea, world.round_id, Answer(Pressed(("5",))), expect=Asking("score"))
    rows = [row async for row in any_store.responses.export_rows(world.round_id)]
    [senegal] = [row for row in rows if row.participant.delegation == "SEN"]
    assert (senegal.participant.id, senegal.status) == (world.ana.id, ResponseStatus.SUBMITTED)
    assert senegal.answers == {"score": 5, "topic": "trade"}


async def test_an_anonymous_consolidated_round_seals_the_delegation_and_names_nobody(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question, attribution=Attribution.ANONYMOUS)
    slack = RecordingOut("slack")
    talk = Conversation(any_store, clock=Clock(T0), notes={"slack": slack})
    await talk.act(world.ana, world.round_id, Answer(Pressed(("4",))), expect=Asking("score"))
    shared = (await any_store.responses.get_response(world.round_id, world.ana.id)).shared_id
    assert [c.by for c in await any_store.responses.history(shared)] == [None]
    await talk.act(world.bea, world.round_id, Answer(Pressed(("trade",))), expect=Asking("topic"))

    done = await talk.act(world.bea, world.round_id, Submit(), expect=Reviewing())

    assert done.kind is ScreenKind.SEALED
    assert (await talk.act(world.ana, world.round_id, Show())).kind is ScreenKind.SEALED
    assert await any_store.responses.ballot_count(world.round_id) == 1
    assert await any_store.responses.history(shared) == []
    [note] = await any_store.messages.find(keys=[submitted_key(world.round_id, world.ana.id)])
    assert "Bea Sarr" in note.body["text"]
    if isinstance(any_store, Store):
        # Nothing stored says who submitted an anonymous response, nor who changed it.
        async with any_store.database.sessions() as session:  # type: ignore[union-attr]
            kept = (
                await session.execute(
                    select(ResponseRow.submitted_by).where(ResponseRow.round_id == world.round_id)
                )
            ).scalars()
            assert set(kept) == {None}


async def test_an_individual_round_keeps_a_response_per_delegate(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question, responses="individual")
    talk = Conversation(any_store, clock=Clock(T0))
    await talk.act(world.ana, world.round_id, Answer(Pressed(("4",))), expect=Asking("score"))

    bea = await any_store.responses.get_response(world.round_id, world.bea.id)

    assert bea.state.answers == {} and bea.holder_id is None
    assert (await any_store.rounds.get_round(world.round_id)).responses is ResponseMode.INDIVIDUAL
    assert sum((await any_store.rounds.counts(world.round_id)).values()) == 3


async def test_two_delegates_pressing_at_once_from_two_processes_lose_nothing(
    database_url: str, make_survey: Any, make_question: Any
) -> None:
    first, second = await open_store(database_url), await open_store(database_url)
    try:
        world = await seed(first, make_survey, make_question)
        on_first = Conversation(first, clock=Clock(T0))
        on_second = Conversation(second, clock=Clock(T0))
        await on_first.act(world.ana, world.round_id, Show())
        await on_second.act(world.bea, world.round_id, Show())

        # Ana (process 1) and Bea (process 2) both answer "score", on the same screen, at once.
        presses = [
            (on_first if n % 2 == 0 else on_second).act(
                world.ana if n % 2 == 0 else world.bea,
                world.round_id,
                Answer(Pressed((str(1 + n % 5),))),
                expect=Asking("score"),
            )
            for n in range(10)
        ]
        screens = await asyncio.gather(*presses)

        applied = [screen for screen in screens if screen.accepted]
        stale = [screen for screen in screens if screen.stale]
        assert len(applied) == 1 and len(stale) == 9, "one applied, the others shown the draft"
        assert all(s.prompt is not None and s.prompt.question.id == "topic" for s in stale)
        winner = applied[0].response.state.answers["score"]
        shared = await second.responses.get_response(world.round_id, world.ana.id)
        assert shared.state.answers == {"score": winner}
        assert [c.question_id for c in await second.responses.history(shared.shared_id)] == [
            "score"
        ]

        # Then each answers the next question once, at once: one wins, the other is stale,
        # and neither answer already stored is lost.
        both = await asyncio.gather(
            on_first.act(
                world.ana, world.round_id, Answer(Pressed(("trade",))), expect=Asking("topic")
            ),
            on_second.act(
                world.bea, world.round_id, Answer(Pressed(("peace",))), expect=Asking("topic")
            ),
        )
        assert sorted((s.accepted, s.stale) for s in both) == [(False, True), (True, False)]
        final = await first.responses.get_response(world.round_id, world.bea.id)
        assert final.state.answers["score"] == winner
        assert final.state.answers["topic"] in ("trade", "peace")
        assert final.version == shared.version + 1
    finally:
        await first.close()
        await second.close()


async def test_a_response_mode_that_does_not_exist_is_refused_by_name(
    memory_store: Any, make_survey: Any, make_question: Any
) -> None:
    with pytest.raises(RoundError, match="responses 'pooled': use one of individual"):
        await seed(memory_store, make_survey, make_question, responses="pooled")


async def test_the_scheduler_reminds_a_delegation_until_it_submitted(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question)
    slack = RecordingOut("slack")
    hours = OfficeHours.parse("00:00-23:59")
    await tick(any_store, channels=[slack], now=T0, office_hours=hours)
    invited = {
        m.participant_id for m in await slack.stored(any_store) if m.key.startswith("invite")
    }
    assert invited == {world.ana.id, world.bea.id, world.carl.id}, "every delegate is invited"
    talk = Conversation(any_store, clock=Clock(T0), notes={"slack": slack})
    await talk.act(world.bea, world.round_id, Answer(Pressed(("4",))), expect=Asking("score"))
    await talk.act(world.bea, world.round_id, Answer(Pressed(("trade",))), expect=Asking("topic"))
    await talk.act(world.bea, world.round_id, Submit(), expect=Reviewing())

    # The round closes in three days: the "1 day before" reminder falls due.
    report = await tick(
        any_store, channels=[slack], now=T0 + timedelta(days=2, hours=1), office_hours=hours
    )

    assert {enqueued.participant_id for enqueued in report.reminded} == {world.carl.id}


async def test_a_digest_counts_delegations(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question)
    talk = Conversation(any_store, clock=Clock(T0))
    await talk.act(world.bea, world.round_id, Answer(Pressed(("4",))), expect=Asking("score"))
    await talk.act(world.ana, world.round_id, Answer(Pressed(("trade",))), expect=Asking("topic"))
    await talk.act(world.ana, world.round_id, Submit(), expect=Reviewing())
    if isinstance(any_store, InMemoryStore):
        queries: Any = InMemoryDigestQueries(any_store)
    else:
        queries = SqlAlchemyDigestQueries(any_store.database.sessions)

    data = await queries.digest_data(
        world.round_id, plan=DigestPlan(scale=("score",), single=("topic",)), since=None
    )

    assert sorted((s.delegation, s.status, s.count) for s in data.statuses) == [
        ("MEX", ResponseStatus.NOT_STARTED, 1),
        ("SEN", ResponseStatus.SUBMITTED, 1),
    ]
    assert sum(count.count for count in data.scale) == 1, "one answer per delegation"


async def test_every_delegate_is_told_their_delegation_s_response_was_kept_as_partial(
    any_store: Any, make_survey: Any, make_question: Any
) -> None:
    world = await seed(any_store, make_survey, make_question)
    slack = RecordingOut("slack")
    talk = Conversation(any_store, clock=Clock(T0))
    await talk.act(world.bea, world.round_id, Answer(Pressed(("4",))), expect=Asking("score"))

    report = await close_due_rounds(
        any_store, channels=[slack], now=T0 + timedelta(days=3), notify_partial=True
    )

    assert report.closed == [world.round_id]
    assert sorted(report.notified) == sorted([world.ana.id, world.bea.id])
    lines = await any_store.rounds.status(world.round_id)
    assert sorted((line.participant.delegation, line.status) for line in lines) == [
        ("MEX", ResponseStatus.NOT_STARTED),
        ("SEN", ResponseStatus.PARTIAL),
    ]
