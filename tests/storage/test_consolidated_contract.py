"""The response ports' contract for consolidated rounds: holder rows, shared state, sharers.

The same cases run against the in-memory store, SQLite and PostgreSQL (``any_store``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.database import Store
from storage.memory import InMemoryStore
from surveys.definition import load_survey
from surveys.queues import NewMessage
from surveys.records import (
    AnswerChange,
    Audience,
    Delegation,
    ParticipantData,
    ResponseMode,
    ResponseState,
    ResponseStatus,
    Role,
)

AnyStore = Store | InMemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def consolidated(store: AnyStore) -> tuple[int, dict[str, int]]:
    """A consolidated round for Ana and Ben (ARG) and Chloé (CAN); their participant ids."""
    survey = load_survey(
        {
            "id": "pulse",
            "version": "1",
            "title": {"en": "Pulse"},
            "default_language": "en",
            "languages": ["en"],
            "questions": [{"id": "q1", "type": "text", "label": {"en": "One"}}],
        }
    )
    version = await store.surveys.save_version(survey, now=T0)
    await store.roster.import_roster(
        [Delegation("ARG", "Argentina"), Delegation("CAN", "Canada")],
        [
            ParticipantData(name, f"{name.lower()}@example.org", Role.DELEGATE, code)
            for name, code in (("Ana", "ARG"), ("Ben", "ARG"), ("Chloe", "CAN"))
        ],
    )
    people = {p.name: p.id for p in await store.roster.list_participants()}
    round_ = await store.rounds.create_round(
        survey_version_id=version.id,
        audience=Audience("all"),
        opens_at=T0,
        closes_at=T0 + timedelta(days=3),
        participant_ids=list(people.values()),
        now=T0,
        responses=ResponseMode.CONSOLIDATED,
    )
    return round_.id, people


async def test_delegates_of_a_delegation_share_one_response(any_store: AnyStore) -> None:
    round_id, people = await consolidated(any_store)
    ana = await any_store.responses.get_response(round_id, people["Ana"])
    ben = await any_store.responses.get_response(round_id, people["Ben"])
    chloe = await any_store.responses.get_response(round_id, people["Chloe"])
    assert ana.holder_id is None and ben.holder_id == ana.id and chloe.holder_id is None
    assert ben.shared_id == ana.id and ben.participant_id == people["Ben"]

    saved = await any_store.responses.save_state(
        ben.shared_id,
        version=ben.version,
        state=ResponseState(answers={}, current=None, started=True),
        changes=[AnswerChange("q1", "from Ben", T0, by=people["Ben"])],
        status=ResponseStatus.SUBMITTED,
        now=T0,
        shared=True,
        by=people["Ben"],
    )

    assert saved.id == ana.id and saved.version == ana.version + 1
    again = await any_store.responses.get_response(round_id, people["Ana"])
    assert again.state.answers == {"q1": "from Ben"} and again.status is ResponseStatus.SUBMITTED
    [change] = await any_store.responses.history(ana.id)
    assert change.by == people["Ben"]
    # Ben's own row takes the status: he is not reminded, closing treats him alike.
    [(_, ben_response)] = [
        pair
        for pair in await any_store.identities.participations(people["Ben"])
        if pair[0].id == round_id
    ]
    assert ben_response.status is ResponseStatus.SUBMITTED
    # Counts and status lines count delegations.
    counts = await any_store.rounds.counts(round_id)
    assert (counts[ResponseStatus.SUBMITTED], sum(counts.values())) == (1, 2)
    assert len(await any_store.rounds.status(round_id)) == 2
    [row] = [
        row
        async for row in any_store.responses.export_rows(round_id)
        if row.participant.delegation == "ARG"
    ]
    assert row.participant.id == people["Ben"], "named after who submitted"


async def test_sharers_are_every_delegate_of_the_response(any_store: AnyStore) -> None:
    round_id, people = await consolidated(any_store)
    ana = await any_store.responses.get_response(round_id, people["Ana"])
    ben = await any_store.responses.get_response(round_id, people["Ben"])
    await any_store.rounds.invited(ben.id, channel="telegram", at=T0, remind_at=None)

    sharers = await any_store.responses.sharers(ana.id)

    assert [(s.response_id, s.participant.id, s.invited_on) for s in sharers] == [
        (ana.id, people["Ana"], None),
        (ben.id, people["Ben"], "telegram"),
    ]
    chloe = await any_store.responses.get_response(round_id, people["Chloe"])
    assert [s.participant.id for s in await any_store.responses.sharers(chloe.id)] == [
        people["Chloe"]
    ]


async def test_a_ballot_blanks_what_every_delegate_of_the_delegation_was_sent(
    any_store: AnyStore,
) -> None:
    round_id, people = await consolidated(any_store)
    ana = await any_store.responses.get_response(round_id, people["Ana"])
    ben = await any_store.responses.get_response(round_id, people["Ben"])
    await any_store.messages.enqueue(
        [
            NewMessage(
                channel="slack",
                key="screen:ben",
                address="D1",
                method="chat.postMessage",
                body={"text": "q1: from Ben"},
                participant_id=people["Ben"],
                round_id=round_id,
            )
        ],
        now=T0,
    )
    [held] = await any_store.messages.find(keys=["screen:ben"])
    await any_store.messages.claim(
        channel="slack", worker="w", now=T0, lease=timedelta(minutes=1), limit=10
    )
    await any_store.messages.delivered(held.id, worker="w", now=T0, platform_id="1")

    await any_store.responses.cast_ballot(ben.shared_id)

    [sent] = await any_store.messages.find(keys=["screen:ben"])
    assert sent.body == {}, "Ben's screen showed the delegation's answers"
    assert ana.id == ben.shared_id
