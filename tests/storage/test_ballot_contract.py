"""Ballots (anonymous rounds): the same cases against the in-memory store, SQLite and PostgreSQL.

A submitted response's answers move into a ballot that nothing links back to it; what the
channels kept of the response (handled requests, sent screens) loses its content.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from surveys.errors import NotFoundError
from surveys.queues import EventTarget, NewInboundEvent, NewMessage, ScreenRef
from surveys.records import AnswerChange, ResponseStatus
from tests.storage.test_contract import T0, AnyStore, answer, seed, start_round

T1 = T0 + timedelta(minutes=5)


async def submitted(store: AnyStore, round_id: int, participant_id: int, score: int) -> int:
    """A response answered (with a change in its history) and submitted; its id."""
    await answer(
        store,
        round_id,
        participant_id,
        [AnswerChange("aligned", "no", T0), AnswerChange("frameworks", ["gcm"], T0)],
        current="score",
        now=T0,
    )
    await answer(
        store,
        round_id,
        participant_id,
        [
            AnswerChange("aligned", "yes", T1, reason="changed"),
            AnswerChange("score", score, T1),
            AnswerChange("why", f"Because {score}", T1),
        ],
        current=None,
        status=ResponseStatus.SUBMITTED,
        now=T1,
    )
    return (await store.responses.get_response(round_id, participant_id)).id


async def test_a_ballot_takes_the_answers_and_the_response_keeps_only_its_status(
    any_store: AnyStore,
) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    response_id = await submitted(any_store, round_.id, awa.id, 4)

    async with any_store.transaction() as tx:
        ballot = await tx.responses.cast_ballot(response_id)

    expected = {"aligned": "yes", "frameworks": ["gcm"], "score": 4, "why": "Because 4"}
    assert ballot.answers == expected and ballot.round_id == round_.id
    assert len(ballot.ballot_id) == 32 and int(ballot.ballot_id, 16) >= 0
    assert [b async for b in any_store.responses.ballots(round_.id)] == [ballot]
    assert await any_store.responses.ballot_count(round_.id) == 1

    left = await any_store.responses.get_response(round_.id, awa.id)
    assert left.status is ResponseStatus.SUBMITTED  # completion and reminders still see it
    assert left.submitted_at == T1
    assert left.state.answers == {} and left.state.current is None
    assert await any_store.responses.history(response_id) == []
    exported = [row async for row in any_store.responses.export_rows(round_.id)]
    assert [(row.status, row.answers) for row in exported] == [(ResponseStatus.SUBMITTED, {})]


async def test_ballots_are_listed_by_their_random_ids_and_by_round(any_store: AnyStore) -> None:
    people = await seed(any_store)
    delegates = [p for p in people.values() if p.delegation is not None]
    round_ = await start_round(any_store, delegates)
    other = await start_round(any_store, delegates[:1])
    cast = []
    for score, person in enumerate(delegates, start=1):
        response_id = await submitted(any_store, round_.id, person.id, score)
        cast.append(await any_store.responses.cast_ballot(response_id))
    await any_store.responses.cast_ballot(await submitted(any_store, other.id, delegates[0].id, 9))

    listed = [b async for b in any_store.responses.ballots(round_.id)]
    assert [b.ballot_id for b in listed] == sorted(b.ballot_id for b in cast)
    assert sorted(b.answers["score"] for b in listed) == [1, 2, 3, 4]  # type: ignore[type-var]
    assert len({b.ballot_id for b in listed}) == 4
    assert await any_store.responses.ballot_count(other.id) == 1
    with pytest.raises(NotFoundError):
        [b async for b in any_store.responses.ballots(9999)]
    with pytest.raises(NotFoundError):
        await any_store.responses.cast_ballot(9999)


async def test_a_ballot_cast_in_a_transaction_that_fails_leaves_the_answers(
    any_store: AnyStore,
) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    response_id = await submitted(any_store, round_.id, awa.id, 2)

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with any_store.transaction() as tx:
            await tx.responses.cast_ballot(response_id)
            raise Abandoned

    assert await any_store.responses.ballot_count(round_.id) == 0
    kept = await any_store.responses.get_response(round_.id, awa.id)
    assert kept.state.answers["score"] == 2
    assert len(await any_store.responses.history(response_id)) == 5


async def test_what_the_channels_kept_of_the_response_loses_its_content(
    any_store: AnyStore,
) -> None:
    people = await seed(any_store)
    awa, zoe = people["awa.diop@senegal.example"], people["zoe.martin@diplomatie.gouv.fr"]
    round_ = await start_round(any_store, [awa, zoe])
    mine = (await any_store.responses.get_response(round_.id, awa.id)).id
    theirs = (await any_store.responses.get_response(round_.id, zoe.id)).id

    def event(key: str, response_id: int) -> NewInboundEvent:
        target = EventTarget(round_id=round_.id, response_id=response_id, question_id="why")
        return NewInboundEvent("telegram", key, "u1", '{"text": "Because 4"}', target=target)

    def message(key: str, response_id: int, participant_id: int) -> NewMessage:
        screen = ScreenRef(response_id, participant_id, round_.id, None, 3)
        body = {"chat_id": "c1", "text": "Why? Because 4"}
        return NewMessage(
            "telegram", key, "c1", "sendMessage", body, round_id=round_.id, screen=screen
        )

    handled = await any_store.events.accept(event("update:1", mine), now=T0)
    waiting = await any_store.events.accept(event("update:2", mine), now=T0)
    other = await any_store.events.accept(event("update:3", theirs), now=T0)
    assert handled is not None and waiting is not None and other is not None
    lease = timedelta(minutes=1)
    async with any_store.transaction() as tx:
        claimed = await tx.events.claim(worker="w", now=T0, lease=lease, limit=1, event_id=handled)
        assert [e.id for e in claimed] == [handled]
        await tx.events.complete(handled, worker="w", now=T0)
    sent, _, _ = await any_store.messages.enqueue(
        [
            message("m:1", mine, awa.id),
            message("m:2", mine, awa.id),
            message("m:3", theirs, zoe.id),
        ],
        now=T0,
    )
    assert sent is not None
    [first] = await any_store.messages.claim(
        channel="telegram", worker="w", now=T0, lease=lease, limit=1
    )
    assert first.id == sent
    await any_store.messages.delivered(sent, worker="w", now=T0, platform_id="41")

    await submitted(any_store, round_.id, awa.id, 4)
    await any_store.responses.cast_ballot(mine)

    events = {
        key: await any_store.events.get(channel="telegram", key=key)
        for key in ("update:1", "update:2", "update:3")
    }
    assert events["update:1"] is not None and events["update:1"].payload == ""
    # Not handled yet: it still has to be read (and will find the response submitted).
    assert events["update:2"] is not None and "Because 4" in events["update:2"].payload
    assert events["update:3"] is not None and "Because 4" in events["update:3"].payload
    found = {m.key: m for m in await any_store.messages.find(keys=["m:1", "m:2", "m:3"])}
    assert found["m:1"].body == {}
    assert found["m:2"].body["text"] == "Why? Because 4"  # not sent yet: it must still go
    assert found["m:3"].body["text"] == "Why? Because 4"
