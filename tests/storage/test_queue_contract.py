"""The queue ports' contract: the inbox, the outbox, live screens and named leases.

The same cases run against the in-memory store, SQLite and PostgreSQL (``any_store``); the
races at the end run two SQL stores (two engines, as two processes would) on one database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.database import Store, open_store
from storage.keys import KEY_LENGTH, stored_key
from storage.memory import InMemoryStore
from storage.queues import subject_lock
from surveys.definition import Survey, load_survey
from surveys.errors import ConflictError, NotFoundError
from surveys.queues import (
    INBOX_LEASE,
    OUTBOX_LEASE,
    Delivery,
    EventTarget,
    InboundEvent,
    InboxBacklog,
    Lane,
    Lease,
    LiveScreen,
    NewInboundEvent,
    NewMessage,
    OutboundMessage,
    OutboundStatus,
    OutboxBacklog,
    ScreenRef,
)
from surveys.records import Audience, Delegation, Participant, ParticipantData, Role

AnyStore = Store | InMemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(
    key: str,
    subject: str = "U0ANA",
    *,
    channel: str = "slack",
    payload: str = "{}",
    target: EventTarget | None = None,
    from_screen: bool = False,
) -> NewInboundEvent:
    return NewInboundEvent(
        channel=channel,
        key=key,
        subject=subject,
        payload=payload,
        target=target,
        from_screen=from_screen,
    )


def message(
    key: str,
    address: str = "D0ANA",
    *,
    channel: str = "slack",
    lane: Lane = Lane.BULK,
    round_id: int | None = None,
    screen: ScreenRef | None = None,
    available_at: datetime | None = None,
) -> NewMessage:
    return NewMessage(
        channel=channel,
        key=key,
        address=address,
        method="chat.postMessage",
        body={"channel": address, "text": key},
        lane=lane,
        round_id=round_id,
        screen=screen,
        available_at=available_at,
    )


async def accept(store: AnyStore, new: NewInboundEvent, *, now: datetime = T0) -> int:
    event_id = await store.events.accept(new, now=now)
    assert event_id is not None
    return event_id


async def enqueue(store: AnyStore, *new: NewMessage, now: datetime = T0) -> list[int]:
    ids = await store.messages.enqueue(new, now=now)
    assert None not in ids
    return [i for i in ids if i is not None]


async def stored_event(store: AnyStore, key: str, *, channel: str = "slack") -> InboundEvent:
    found = await store.events.get(channel=channel, key=key)
    assert found is not None
    return found


async def stored_message(store: AnyStore, key: str, *, channel: str = "slack") -> OutboundMessage:
    found = await store.messages.get(channel=channel, key=key)
    assert found is not None
    return found


def ids(records: Sequence[InboundEvent | OutboundMessage]) -> list[int]:
    return [record.id for record in records]


def make_survey() -> Survey:
    return load_survey(
        {
            "id": "pulse",
            "version": "1",
            "title": {"en": "Pulse"},
            "default_language": "en",
            "languages": ["en"],
            "questions": [
                {"id": "q1", "type": "text", "label": {"en": "One"}},
                {"id": "q2", "type": "integer", "label": {"en": "Two"}},
            ],
        }
    )


@dataclass
class People:
    ana: Participant
    ben: Participant
    responses: dict[tuple[int, int], int] = field(default_factory=dict)
    """(round number 1 or 2, participant id) -> response id."""


async def seed(store: AnyStore) -> People:
    """Ana (Slack U0ANA, Telegram 4711) and Ben (Slack U0BEN), each invited to two rounds."""
    await store.roster.import_roster(
        [Delegation("ARG", "Argentina"), Delegation("BEL", "Belgium")],
        [
            ParticipantData("Ana", "ana@arg.example", Role.DELEGATE, "ARG", slack_user_id="U0ANA"),
            ParticipantData("Ben", "ben@bel.example", Role.DELEGATE, "BEL", slack_user_id="U0BEN"),
        ],
    )
    ana, ben = await store.roster.list_participants()
    await store.roster.link_identity(ana.id, "telegram", "4711")
    version = await store.surveys.save_version(make_survey(), now=T0)
    people = People(ana=ana, ben=ben)
    for number in (1, 2):
        round_ = await store.rounds.create_round(
            survey_version_id=version.id,
            audience=Audience("all"),
            opens_at=T0,
            closes_at=T0 + timedelta(days=7),
            participant_ids=[ana.id, ben.id],
            now=T0,
        )
        for person in (ana, ben):
            response = await store.responses.get_response(round_.id, person.id)
            people.responses[(number, person.id)] = response.id
    return people


def screen(
    people: People,
    person: Participant,
    number: int,
    *,
    channel: str = "slack",
    question_id: str | None = "q1",
    version: int = 1,
    shown_at: datetime = T0,
    outbox_id: int | None = None,
) -> LiveScreen:
    return LiveScreen(
        channel=channel,
        response_id=people.responses[(number, person.id)],
        participant_id=person.id,
        round_id=number,
        question_id=question_id,
        version=version,
        shown_at=shown_at,
        outbox_id=outbox_id,
    )


# -- inbox: accepting ------------------------------------------------------------------------


async def test_an_event_is_accepted_once_per_channel_and_key(any_store: AnyStore) -> None:
    first = await any_store.events.accept(event("Ev01", payload='{"a": 1}'), now=T0)
    retry = await any_store.events.accept(event("Ev01", payload='{"a": 2}'), now=at(3))
    elsewhere = await any_store.events.accept(event("Ev01", channel="telegram"), now=T0)

    assert retry is None
    assert isinstance(first, int) and isinstance(elsewhere, int) and first != elsewhere
    stored = await stored_event(any_store, "Ev01")
    assert stored == InboundEvent(
        id=first,
        channel="slack",
        key="Ev01",
        subject="U0ANA",
        payload='{"a": 1}',
        received_at=T0,
    )
    assert await any_store.events.get(channel="slack", key="Ev02") is None


async def test_a_key_too_long_for_the_column_is_kept_unique_by_a_hash(any_store: AnyStore) -> None:
    long_key = "callback:" + "x" * 600
    sibling = long_key[:-1] + "y"  # the same first 600 characters

    first = await accept(any_store, event(long_key))
    second = await accept(any_store, event(sibling))

    assert first != second
    assert await any_store.events.accept(event(long_key), now=at(1)) is None
    found = await stored_event(any_store, long_key)
    assert found.id == first
    assert found.key == stored_key(long_key)
    assert len(found.key) == KEY_LENGTH and found.key.startswith("callback:xxx")
    assert (await stored_event(any_store, sibling)).id == second
    exact = "k" * KEY_LENGTH  # a key that fits is stored as it is
    await accept(any_store, event(exact))
    assert (await stored_event(any_store, exact)).key == exact


async def test_the_target_an_event_carries_is_stored(any_store: AnyStore) -> None:
    target = EventTarget(round_id=3, response_id=17, question_id="q2", version=4)
    await accept(any_store, event("Ev01", target=target))
    await accept(any_store, event("Ev02"))

    assert (await stored_event(any_store, "Ev01")).target == target
    assert (await stored_event(any_store, "Ev02")).target == EventTarget()


async def test_typed_text_takes_its_target_from_the_latest_screen(any_store: AnyStore) -> None:
    people = await seed(any_store)
    ana = people.ana
    await any_store.screens.show(screen(people, ana, 1, channel="telegram", shown_at=at(0)))
    await any_store.screens.show(
        screen(people, ana, 2, channel="telegram", question_id="q2", version=5, shown_at=at(60))
    )
    # Newer, but on another channel: typed text on Telegram does not answer a Slack screen.
    await any_store.screens.show(screen(people, ana, 1, channel="slack", shown_at=at(120)))
    # Ben's screen on Telegram is not Ana's (he has no Telegram identity anyway).
    await any_store.screens.show(
        screen(people, people.ben, 1, channel="telegram", shown_at=at(200))
    )

    await accept(any_store, event("update:1", "4711", channel="telegram", from_screen=True))

    second_round = people.responses[(2, ana.id)]
    expected = EventTarget(round_id=2, response_id=second_round, question_id="q2", version=5)
    assert (await stored_event(any_store, "update:1", channel="telegram")).target == expected

    # The target is read when the event is stored: a later screen changes later events only.
    await any_store.screens.show(
        screen(people, ana, 1, channel="telegram", question_id=None, version=2, shown_at=at(300))
    )
    await accept(any_store, event("update:2", "4711", channel="telegram", from_screen=True))

    first_round = people.responses[(1, ana.id)]
    summary = EventTarget(round_id=1, response_id=first_round, question_id=None, version=2)
    assert (await stored_event(any_store, "update:2", channel="telegram")).target == summary
    assert (await stored_event(any_store, "update:1", channel="telegram")).target == expected


async def test_typed_text_written_before_its_screen_was_shown_is_marked_moved_on(
    any_store: AnyStore,
) -> None:
    """A retry of a message typed for an earlier screen arrives after the delegate moved on:
    it keeps the screen's round but is marked, so that it is not applied to that question."""
    people = await seed(any_store)
    await any_store.screens.show(
        screen(people, people.ana, 2, channel="telegram", question_id="q3", shown_at=at(60))
    )
    late = NewInboundEvent(
        channel="telegram",
        key="update:1",
        subject="4711",
        payload="{}",
        from_screen=True,
        written_before=at(30),
    )
    fresh = dataclasses.replace(late, key="update:2", written_before=at(90))
    await accept(any_store, late)
    await accept(any_store, fresh)

    marked = (await stored_event(any_store, "update:1", channel="telegram")).target
    assert (marked.question_id, marked.moved_on) == ("q3", True)
    applied = (await stored_event(any_store, "update:2", channel="telegram")).target
    assert (applied.question_id, applied.moved_on) == ("q3", False)


async def test_typed_text_without_a_screen_has_no_target(any_store: AnyStore) -> None:
    people = await seed(any_store)
    await any_store.screens.show(screen(people, people.ana, 1, channel="slack"))

    # Ana has a Slack screen but none on Telegram; nobody is 9999 on Telegram.
    await accept(any_store, event("update:1", "4711", channel="telegram", from_screen=True))
    await accept(any_store, event("update:2", "9999", channel="telegram", from_screen=True))
    # A target given along with from_screen is replaced by the (missing) screen's.
    given = EventTarget(round_id=1, response_id=1, question_id="q1", version=1)
    await accept(
        any_store, event("update:3", "9999", channel="telegram", target=given, from_screen=True)
    )

    for key in ("update:1", "update:2", "update:3"):
        assert (await stored_event(any_store, key, channel="telegram")).target == EventTarget()


# -- inbox: claiming -------------------------------------------------------------------------


async def test_a_claim_gives_the_oldest_event_of_each_subject(any_store: AnyStore) -> None:
    a1 = await accept(any_store, event("1", "U0ANA"))
    b1 = await accept(any_store, event("2", "U0BEN"))
    a2 = await accept(any_store, event("3", "U0ANA"))
    c1 = await accept(any_store, event("4", "U0CEE"))
    await accept(any_store, event("5", "U0BEN"))
    t1 = await accept(any_store, event("update:1", "U0ANA", channel="telegram"))

    claimed = await any_store.events.claim(worker="w1", now=T0, lease=LEASE, limit=10)

    # Heads only, oldest first; the same user id on another channel is another subject.
    assert ids(claimed) == [a1, b1, c1, t1]
    assert [e.attempts for e in claimed] == [1, 1, 1, 1]
    assert [e.key for e in claimed] == ["1", "2", "4", "update:1"]
    # The heads are leased and the rest wait behind them.
    assert await any_store.events.claim(worker="w2", now=at(1), lease=LEASE, limit=10) == []

    await any_store.events.complete(a1, worker="w1", now=at(2))

    assert ids(await any_store.events.claim(worker="w2", now=at(3), lease=LEASE, limit=10)) == [a2]


async def test_a_claim_takes_at_most_limit_events(any_store: AnyStore) -> None:
    first = [await accept(any_store, event(f"{n}", f"U{n}")) for n in range(5)]

    assert ids(await any_store.events.claim(worker="w", now=T0, lease=LEASE, limit=2)) == first[:2]
    assert ids(await any_store.events.claim(worker="w", now=T0, lease=LEASE, limit=2)) == first[2:4]
    assert await any_store.events.claim(worker="w", now=T0, lease=LEASE, limit=0) == []
    assert ids(await any_store.events.claim(worker="w", now=T0, lease=LEASE, limit=9)) == first[4:]


async def test_a_claim_by_id_takes_that_event_only_if_it_qualifies(any_store: AnyStore) -> None:
    a1 = await accept(any_store, event("1", "U0ANA"))
    a2 = await accept(any_store, event("2", "U0ANA"))
    b1 = await accept(any_store, event("3", "U0BEN"))

    # a2 waits behind a1; an unknown id qualifies for nothing.
    assert await any_store.events.claim(worker="w", now=T0, lease=LEASE, limit=5, event_id=a2) == []
    assert (
        await any_store.events.claim(worker="w", now=T0, lease=LEASE, limit=5, event_id=999) == []
    )
    claimed = await any_store.events.claim(worker="w", now=T0, lease=LEASE, limit=5, event_id=b1)
    assert ids(claimed) == [b1]
    # Claimed, it no longer qualifies; the others were left alone.
    assert await any_store.events.claim(worker="v", now=T0, lease=LEASE, limit=5, event_id=b1) == []
    assert ids(await any_store.events.claim(worker="v", now=T0, lease=LEASE, limit=5)) == [a1]


async def test_a_released_event_waits_until_it_is_available_again(any_store: AnyStore) -> None:
    a1 = await accept(any_store, event("1", "U0ANA"))
    a2 = await accept(any_store, event("2", "U0ANA"))
    await any_store.events.claim(worker="w1", now=T0, lease=LEASE, limit=1)

    # Only the holder can give it back.
    await any_store.events.release(a1, worker="w2", available_at=T0)
    assert await any_store.events.claim(worker="w2", now=at(1), lease=LEASE, limit=5) == []

    await any_store.events.release(a1, worker="w1", available_at=at(30), error="TimeoutError")

    # Until then nothing of the subject is claimable: a2 must not overtake a1.
    assert await any_store.events.claim(worker="w2", now=at(29), lease=LEASE, limit=5) == []
    again = await any_store.events.claim(worker="w2", now=at(30), lease=LEASE, limit=5)
    assert ids(again) == [a1]
    assert (again[0].attempts, again[0].error) == (2, "TimeoutError")
    await any_store.events.complete(a1, worker="w2", now=at(31))
    assert ids(await any_store.events.claim(worker="w2", now=at(31), lease=LEASE, limit=5)) == [a2]


async def test_an_expired_lease_is_taken_over(any_store: AnyStore) -> None:
    a1 = await accept(any_store, event("1", "U0ANA"))
    await any_store.events.claim(worker="w1", now=T0, lease=LEASE, limit=1)

    assert await any_store.events.claim(worker="w2", now=at(59), lease=LEASE, limit=1) == []
    [taken] = await any_store.events.claim(worker="w2", now=at(60), lease=LEASE, limit=1)

    assert (taken.id, taken.attempts) == (a1, 2)
    # The first worker lost it: its completion is refused, the new holder's is not.
    with pytest.raises(ConflictError) as lost:
        await any_store.events.complete(a1, worker="w1", now=at(61))
    assert (lost.value.kind, lost.value.key) == ("inbound event", a1)
    await any_store.events.release(a1, worker="w1", available_at=at(61))  # no-op: not theirs
    await any_store.events.complete(a1, worker="w2", now=at(62))
    assert (await stored_event(any_store, "1")).processed_at == at(62)


async def test_only_the_holder_completes_an_event_and_only_once(any_store: AnyStore) -> None:
    a1 = await accept(any_store, event("1", "U0ANA"))
    unclaimed = await accept(any_store, event("2", "U0BEN"))
    await any_store.events.claim(worker="w1", now=T0, lease=LEASE, limit=1)

    with pytest.raises(ConflictError):
        await any_store.events.complete(a1, worker="w2", now=at(1))
    with pytest.raises(ConflictError):
        await any_store.events.complete(unclaimed, worker="w1", now=at(1))
    with pytest.raises(NotFoundError) as missing:
        await any_store.events.complete(404, worker="w1", now=at(1))
    assert (missing.value.kind, missing.value.key) == ("inbound event", 404)

    await any_store.events.complete(a1, worker="w1", now=at(2), error="stale: question moved on")

    done = await stored_event(any_store, "1")
    assert (done.processed_at, done.error, done.attempts) == (at(2), "stale: question moved on", 1)
    with pytest.raises(ConflictError):
        await any_store.events.complete(a1, worker="w1", now=at(3))
    # A completed event is never claimed again, even long after.
    late = await any_store.events.claim(worker="w1", now=at(3600), lease=LEASE, limit=5)
    assert ids(late) == [unclaimed]


async def test_a_lease_that_ran_out_still_lets_its_holder_finish_if_nobody_took_over(
    any_store: AnyStore,
) -> None:
    a1 = await accept(any_store, event("1"))
    await any_store.events.claim(worker="w1", now=T0, lease=LEASE, limit=1)

    await any_store.events.complete(a1, worker="w1", now=at(90))

    assert (await stored_event(any_store, "1")).processed_at == at(90)


async def test_a_completion_rolled_back_leaves_the_event_to_be_claimed_after_its_lease(
    any_store: AnyStore,
) -> None:
    a1 = await accept(any_store, event("1"))
    await any_store.events.claim(worker="w1", now=T0, lease=LEASE, limit=1)

    class Crashed(Exception):
        pass

    with pytest.raises(Crashed):
        async with any_store.transaction() as tx:
            await tx.events.complete(a1, worker="w1", now=at(1))
            raise Crashed

    assert (await stored_event(any_store, "1")).processed_at is None
    assert await any_store.events.claim(worker="w2", now=at(30), lease=LEASE, limit=1) == []
    [again] = await any_store.events.claim(worker="w2", now=at(60), lease=LEASE, limit=1)
    assert (again.id, again.attempts) == (a1, 2)


async def test_a_completion_commits_with_the_work_of_its_transaction(any_store: AnyStore) -> None:
    a1 = await accept(any_store, event("1"))
    await any_store.events.claim(worker="w1", now=T0, lease=LEASE, limit=1)

    async with any_store.transaction() as tx:
        await tx.events.complete(a1, worker="w1", now=at(1))
        await tx.messages.enqueue([message(f"reply:{a1}:0")], now=at(1))

    assert (await stored_event(any_store, "1")).processed_at == at(1)
    assert (await stored_message(any_store, f"reply:{a1}:0")).status is OutboundStatus.PENDING


async def test_the_inbox_backlog_counts_what_waits(any_store: AnyStore) -> None:
    assert await any_store.events.backlog() == InboxBacklog(pending=0, oldest=None)
    a1 = await accept(any_store, event("1", "U0ANA"), now=at(5))
    await accept(any_store, event("2", "U0BEN"), now=at(7))
    await accept(any_store, event("3", "U0ANA"), now=at(9))
    await any_store.events.claim(worker="w", now=at(10), lease=LEASE, limit=5)

    assert await any_store.events.backlog() == InboxBacklog(pending=3, oldest=at(5))
    await any_store.events.complete(a1, worker="w", now=at(11))
    assert await any_store.events.backlog() == InboxBacklog(pending=2, oldest=at(7))


# -- outbox ----------------------------------------------------------------------------------


async def test_a_message_is_enqueued_once_per_channel_and_key(any_store: AnyStore) -> None:
    ref = ScreenRef(response_id=17, participant_id=3, round_id=2, question_id="q1", version=4)
    new = NewMessage(
        channel="slack",
        key="invite:2:3",
        address="U0ANA",
        method="chat.postMessage",
        body={"channel": "U0ANA", "blocks": [{"type": "section", "text": "Hello 1.5"}]},
        lane=Lane.INTERACTIVE,
        participant_id=3,
        round_id=2,
        screen=ref,
    )
    first = await any_store.messages.enqueue(
        [new, message("invite:2:4", "U0BEN"), message("invite:2:3")], now=T0
    )
    again = await any_store.messages.enqueue(
        [new, message("invite:2:3", channel="telegram")], now=at(5)
    )

    assert first[0] is not None and first[1] is not None and first[0] != first[1]
    assert first[2] is None  # the same key twice in one call is stored once
    assert again[0] is None and again[1] is not None
    stored = await stored_message(any_store, "invite:2:3")
    assert stored == OutboundMessage(
        id=first[0],
        channel="slack",
        key="invite:2:3",
        address="U0ANA",
        method="chat.postMessage",
        body={"channel": "U0ANA", "blocks": [{"type": "section", "text": "Hello 1.5"}]},
        lane=Lane.INTERACTIVE,
        status=OutboundStatus.PENDING,
        created_at=T0,
        updated_at=T0,
        participant_id=3,
        round_id=2,
        screen=ref,
    )
    assert await any_store.messages.get(channel="slack", key="invite:9:9") is None
    assert await any_store.messages.enqueue([], now=T0) == []


async def test_a_large_batch_maps_each_message_to_its_own_id(any_store: AnyStore) -> None:
    await enqueue(any_store, message("invite:1:700", "D700"))
    batch = [message(f"invite:1:{n}", f"D{n}") for n in range(1500)]
    batch.append(message("invite:1:3", "D3"))  # given twice, far apart

    found = await any_store.messages.enqueue(batch, now=at(1))

    assert len(found) == 1501
    assert found[700] is None and found[1500] is None
    fresh = [i for i in found if i is not None]
    assert len(set(fresh)) == len(fresh) == 1499
    for n in (0, 3, 699, 701, 1000, 1499):
        assert (await stored_message(any_store, f"invite:1:{n}")).id == found[n]


async def test_a_stored_body_does_not_change_with_the_callers_copy(any_store: AnyStore) -> None:
    body: dict[str, object] = {"text": "one", "ratio": 1.0, "blocks": [1, 2]}
    new = NewMessage(channel="slack", key="k", address="D1", method="chat.postMessage", body=body)
    await enqueue(any_store, new)
    body["text"] = "changed"
    stored = await stored_message(any_store, "k")
    stored.body["blocks"].append(3)

    again = await stored_message(any_store, "k")
    assert again.body == {"text": "one", "ratio": 1.0, "blocks": [1, 2]}
    assert isinstance(again.body["ratio"], float)


async def test_a_long_message_key_is_kept_unique_by_a_hash(any_store: AnyStore) -> None:
    long_key = "digest:" + "r" * 300
    [first] = await enqueue(any_store, message(long_key))

    assert await any_store.messages.enqueue([message(long_key)], now=at(1)) == [None]
    found = await stored_message(any_store, long_key)
    assert (found.id, found.key) == (first, stored_key(long_key))
    assert ids(await any_store.messages.find(keys=[long_key])) == [first]


async def test_each_address_gets_its_messages_one_at_a_time_in_order(any_store: AnyStore) -> None:
    x1, y1, x2, x3 = await enqueue(
        any_store,
        message("x1", "DX"),
        message("y1", "DY"),
        message("x2", "DX"),
        message("x3", "DX"),
    )
    messages = any_store.messages

    first = await messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=10)
    assert ids(first) == [x1, y1]
    assert [(m.status, m.attempts) for m in first] == [(OutboundStatus.CLAIMED, 1)] * 2
    # While x1 is being sent, nothing else goes to DX.
    assert await messages.claim(channel="slack", worker="v", now=at(1), lease=LEASE, limit=10) == []

    assert await messages.delivered(x1, worker="w", now=at(2), platform_id="1741.0001")

    assert ids(
        await messages.claim(channel="slack", worker="v", now=at(3), lease=LEASE, limit=10)
    ) == [x2]
    assert await messages.delivered(x2, worker="v", now=at(4), platform_id="1741.0002")
    assert ids(
        await messages.claim(channel="slack", worker="v", now=at(5), lease=LEASE, limit=10)
    ) == [x3]


async def test_claims_are_per_channel(any_store: AnyStore) -> None:
    [slack] = await enqueue(any_store, message("k", "D1"))
    [telegram] = await enqueue(any_store, message("k", "D1", channel="telegram"))

    claimed = await any_store.messages.claim(
        channel="telegram", worker="w", now=T0, lease=LEASE, limit=10
    )
    assert ids(claimed) == [telegram]
    # The same address on another channel is another chat.
    claimed = await any_store.messages.claim(
        channel="slack", worker="w", now=T0, lease=LEASE, limit=10
    )
    assert ids(claimed) == [slack]


async def test_the_interactive_lane_goes_first(any_store: AnyStore) -> None:
    a, b, c = await enqueue(any_store, message("a", "DA"), message("b", "DB"), message("c", "DC"))
    [reply] = await enqueue(any_store, message("reply", "DD", lane=Lane.INTERACTIVE))

    claimed = await any_store.messages.claim(
        channel="slack", worker="w", now=T0, lease=LEASE, limit=2
    )

    assert ids(claimed) == [reply, a]
    assert [m.lane for m in claimed] == [Lane.INTERACTIVE, Lane.BULK]
    rest = await any_store.messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=5)
    assert ids(rest) == [b, c]


async def test_a_reply_is_not_held_up_by_the_bulk_message_ahead_of_it(any_store: AnyStore) -> None:
    a, b, sent, reminder, _ = await enqueue(
        any_store,
        message("a", "DA"),
        message("b", "DB"),
        message("earlier", "DE"),
        message("remind", "DE"),
        message("remind", "DE", channel="telegram"),
    )
    messages = any_store.messages
    await messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=3)
    await messages.delivered(sent, worker="w", now=T0, platform_id="0")
    for bulk in (a, b):
        await messages.postpone(bulk, worker="w", available_at=T0)

    [reply] = await enqueue(any_store, message("reply", "DE", lane=Lane.INTERACTIVE))
    [after] = await enqueue(any_store, message("after", "DE"))

    # DE's reminder must go before its reply (one address, in order), so it moves into the
    # interactive lane with it; what is sent, what comes after, and other chats stay bulk.
    keys = ["remind", "earlier", "after"]
    lanes = {m.key: m.lane for m in await messages.find(channel="slack", keys=keys)}
    assert lanes == {"remind": Lane.INTERACTIVE, "earlier": Lane.BULK, "after": Lane.BULK}
    assert (await stored_message(any_store, "remind", channel="telegram")).lane is Lane.BULK
    claim = messages.claim
    assert ids(await claim(channel="slack", worker="w", now=at(1), lease=LEASE, limit=1)) == [
        reminder
    ]
    await messages.delivered(reminder, worker="w", now=at(1), platform_id="1")
    assert ids(await claim(channel="slack", worker="w", now=at(1), lease=LEASE, limit=1)) == [reply]
    await messages.delivered(reply, worker="w", now=at(1), platform_id="2")
    assert ids(await claim(channel="slack", worker="w", now=at(1), lease=LEASE, limit=5)) == [
        a,
        b,
        after,
    ]


async def test_a_message_waits_for_its_time_and_holds_its_address(any_store: AnyStore) -> None:
    later, after = await enqueue(
        any_store, message("later", "DX", available_at=at(30)), message("after", "DX")
    )
    messages = any_store.messages

    assert await messages.claim(channel="slack", worker="w", now=at(29), lease=LEASE, limit=5) == []
    assert ids(
        await messages.claim(channel="slack", worker="w", now=at(30), lease=LEASE, limit=5)
    ) == [later]
    await messages.delivered(later, worker="w", now=at(31), platform_id="1")
    assert ids(
        await messages.claim(channel="slack", worker="w", now=at(31), lease=LEASE, limit=5)
    ) == [after]


async def test_a_message_under_an_expired_lease_is_taken_over(any_store: AnyStore) -> None:
    x1, x2 = await enqueue(any_store, message("x1", "DX"), message("x2", "DX"))
    messages = any_store.messages
    await messages.claim(channel="slack", worker="w1", now=T0, lease=LEASE, limit=5)

    assert (
        await messages.claim(channel="slack", worker="w2", now=at(59), lease=LEASE, limit=5) == []
    )
    [taken] = await messages.claim(channel="slack", worker="w2", now=at(60), lease=LEASE, limit=5)
    assert (taken.id, taken.attempts, taken.updated_at) == (x1, 2, at(60))

    # The first sender's late report still records the send, but says it was not theirs.
    assert not await messages.delivered(x1, worker="w1", now=at(61), platform_id="1.1")
    sent = await stored_message(any_store, "x1")
    assert (sent.status, sent.message_id, sent.updated_at) == (OutboundStatus.SENT, "1.1", at(61))
    # Sent is sent: the new holder can neither postpone nor fail it now.
    await messages.postpone(x1, worker="w2", available_at=at(62))
    await messages.fail(x1, worker="w2", now=at(62), error="late")
    assert (await stored_message(any_store, "x1")).status is OutboundStatus.SENT
    assert ids(
        await messages.claim(channel="slack", worker="w2", now=at(62), lease=LEASE, limit=5)
    ) == [x2]


async def test_a_resent_message_does_not_go_while_its_address_is_busy(any_store: AnyStore) -> None:
    first, second = await enqueue(
        any_store, message("x1", "DX", round_id=1), message("x2", "DX", round_id=1)
    )
    messages = any_store.messages
    await messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=5)
    await messages.fail(first, worker="w", now=at(1), error="chat not found")
    [busy] = await messages.claim(channel="slack", worker="w", now=at(2), lease=LEASE, limit=5)
    assert busy.id == second

    # x1 is DX's oldest unsent message again, but x2 is being sent: DX waits.
    assert await messages.resend(round_id=1, now=at(3)) == 1
    assert await messages.claim(channel="slack", worker="v", now=at(4), lease=LEASE, limit=5) == []
    await messages.delivered(second, worker="w", now=at(5), platform_id="2")
    assert ids(
        await messages.claim(channel="slack", worker="v", now=at(6), lease=LEASE, limit=5)
    ) == [first]


async def test_postponing_gives_a_message_back_with_or_without_its_attempt(
    any_store: AnyStore,
) -> None:
    [x1] = await enqueue(any_store, message("x1", "DX"))
    messages = any_store.messages
    await messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=5)

    await messages.postpone(x1, worker="other", available_at=at(1))  # not theirs: no-op
    assert (await stored_message(any_store, "x1")).status is OutboundStatus.CLAIMED

    # A rate limit is not the message's fault: its attempt is given back.
    await messages.postpone(x1, worker="w", available_at=at(10), error="429", count_attempt=False)
    postponed = await stored_message(any_store, "x1")
    assert (postponed.status, postponed.attempts, postponed.error) == (
        OutboundStatus.PENDING,
        0,
        "429",
    )
    assert await messages.claim(channel="slack", worker="w", now=at(9), lease=LEASE, limit=5) == []
    [again] = await messages.claim(channel="slack", worker="w", now=at(10), lease=LEASE, limit=5)
    assert again.attempts == 1

    # A server error counts.
    await messages.postpone(x1, worker="w", available_at=at(20), error="500")
    [third] = await messages.claim(channel="slack", worker="w", now=at(20), lease=LEASE, limit=5)
    assert (third.attempts, third.error) == (2, "500")


async def test_a_permanent_refusal_fails_the_message_and_frees_its_address(
    any_store: AnyStore,
) -> None:
    x1, x2 = await enqueue(any_store, message("x1", "DX"), message("x2", "DX"))
    messages = any_store.messages
    await messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=5)

    await messages.fail(x1, worker="other", now=at(1), error="blocked")  # not theirs: no-op
    assert (await stored_message(any_store, "x1")).status is OutboundStatus.CLAIMED
    await messages.fail(x1, worker="w", now=at(2), error="bot was blocked by the user")

    failed = await stored_message(any_store, "x1")
    assert (failed.status, failed.error, failed.updated_at) == (
        OutboundStatus.FAILED,
        "bot was blocked by the user",
        at(2),
    )
    # A failed message is not tried again, and does not hold its address.
    assert ids(
        await messages.claim(channel="slack", worker="w", now=at(3), lease=LEASE, limit=5)
    ) == [x2]
    await messages.delivered(x2, worker="w", now=at(4), platform_id="2")
    assert (
        await messages.claim(channel="slack", worker="w", now=at(3600), lease=LEASE, limit=5) == []
    )


async def test_delivery_records_the_platform_id_on_the_live_screen(any_store: AnyStore) -> None:
    people = await seed(any_store)
    ana = people.ana
    response_id = people.responses[(1, ana.id)]
    ref = ScreenRef(response_id, ana.id, 1, "q1", 1)
    [shown] = await enqueue(any_store, message("screen:1", "U0ANA", screen=ref))
    await any_store.screens.show(screen(people, ana, 1, outbox_id=shown))
    await any_store.messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=5)

    held = await any_store.messages.delivered(
        shown, worker="w", now=at(1), platform_id="1741.0001", address="D0ANA"
    )

    assert held
    live = await any_store.screens.get(channel="slack", response_id=response_id)
    assert live is not None
    assert (live.outbox_id, live.message_id, live.address) == (shown, "1741.0001", "D0ANA")
    sent = await stored_message(any_store, "screen:1")
    assert (sent.status, sent.message_id, sent.sent_address) == (
        OutboundStatus.SENT,
        "1741.0001",
        "D0ANA",
    )
    assert sent.screen == ref


async def test_delivery_leaves_a_screen_that_moved_on_to_another_message(
    any_store: AnyStore,
) -> None:
    people = await seed(any_store)
    ana = people.ana
    response_id = people.responses[(1, ana.id)]
    old_ref = ScreenRef(response_id, ana.id, 1, "q1", 1)
    new_ref = ScreenRef(response_id, ana.id, 1, "q2", 2)
    old, new = await enqueue(
        any_store,
        message("screen:1", "4711", channel="telegram", screen=old_ref),
        message("screen:2", "4711", channel="telegram", screen=new_ref),
    )
    newer = screen(people, ana, 1, channel="telegram", question_id="q2", version=2, outbox_id=new)
    await any_store.screens.show(newer)
    messages = any_store.messages
    await messages.claim(channel="telegram", worker="w", now=T0, lease=LEASE, limit=5)

    await messages.delivered(old, worker="w", now=at(1), platform_id="101")

    assert await any_store.screens.get(channel="telegram", response_id=response_id) == newer
    await messages.claim(channel="telegram", worker="w", now=at(2), lease=LEASE, limit=5)
    # No address reported: the screen is where the message was addressed.
    await messages.delivered(new, worker="w", now=at(3), platform_id="102")
    live = await any_store.screens.get(channel="telegram", response_id=response_id)
    assert live is not None
    assert (live.message_id, live.address) == ("102", "4711")
    assert (await stored_message(any_store, "screen:2", channel="telegram")).sent_address is None


async def test_many_deliveries_are_recorded_at_once(any_store: AnyStore) -> None:
    people = await seed(any_store)
    ana, ben = people.ana, people.ben
    ana_ref = ScreenRef(people.responses[(1, ana.id)], ana.id, 1, "q1", 1)
    ben_ref = ScreenRef(people.responses[(1, ben.id)], ben.id, 1, "q1", 1)
    a, b, plain, other = await enqueue(
        any_store,
        message("screen:a", "U0ANA", screen=ana_ref),
        message("screen:b", "U0BEN", screen=ben_ref),
        message("note:1", "C0ROOM"),
        message("note:2", "C0HALL"),
    )
    await any_store.screens.show(screen(people, ana, 1, outbox_id=a))
    # Ben's screen has moved on to a later message: his delivery leaves it alone.
    ben_later = dataclasses.replace(screen(people, ben, 1, outbox_id=None), question_id="q2")
    await any_store.screens.show(ben_later)
    messages = any_store.messages
    await messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=2)
    await messages.claim(channel="slack", worker="v", now=T0, lease=LEASE, limit=2)

    held = await messages.delivered_many(
        [
            Delivery(a, "1741.0001", "D0ANA"),
            Delivery(b, "1741.0002"),
            Delivery(plain, "1741.0003", "C0ROOM"),
            Delivery(other, "1741.0004"),
            Delivery(404, "1741.0005"),
        ],
        worker="w",
        now=at(2),
    )

    assert held == {a: True, b: True, plain: False, other: False}
    for key, platform_id, address in (
        ("screen:a", "1741.0001", "D0ANA"),
        ("screen:b", "1741.0002", None),
        ("note:1", "1741.0003", "C0ROOM"),
        ("note:2", "1741.0004", None),
    ):
        sent = await stored_message(any_store, key)
        assert (sent.status, sent.message_id, sent.sent_address, sent.updated_at) == (
            OutboundStatus.SENT,
            platform_id,
            address,
            at(2),
        )
    live = await any_store.screens.get(channel="slack", response_id=ana_ref.response_id)
    assert live is not None
    assert (live.outbox_id, live.message_id, live.address) == (a, "1741.0001", "D0ANA")
    assert await any_store.screens.get(channel="slack", response_id=ben_ref.response_id) == (
        ben_later
    )
    assert await messages.claim(channel="slack", worker="w", now=at(90), lease=LEASE, limit=9) == []
    assert await messages.delivered_many([], worker="w", now=at(3)) == {}


async def test_delivering_a_missing_message_is_not_found(any_store: AnyStore) -> None:
    with pytest.raises(NotFoundError) as missing:
        await any_store.messages.delivered(404, worker="w", now=T0, platform_id="1")
    assert (missing.value.kind, missing.value.key) == ("outbound message", 404)


async def test_find_returns_the_stored_messages_with_those_keys(any_store: AnyStore) -> None:
    a, b = await enqueue(any_store, message("invite:1:1"), message("invite:1:2", "D2"))
    [t] = await enqueue(any_store, message("invite:1:1", channel="telegram"))
    messages = any_store.messages

    found = await messages.find(keys=["invite:1:1", "invite:1:2", "invite:1:3"])
    assert ids(found) == [a, b, t]
    assert ids(await messages.find(channel="telegram", keys=["invite:1:1", "invite:1:2"])) == [t]
    assert await messages.find(keys=[]) == []


async def test_resend_makes_a_rounds_failed_messages_pending_again(any_store: AnyStore) -> None:
    r1a, r1b, r1c, r2 = await enqueue(
        any_store,
        message("a", "DA", round_id=1),
        message("b", "DB", round_id=1),
        message("c", "DC", round_id=1),
        message("d", "DD", round_id=2),
    )
    messages = any_store.messages
    await messages.claim(channel="slack", worker="w", now=T0, lease=LEASE, limit=10)
    for failed in (r1a, r1b, r2):
        await messages.fail(failed, worker="w", now=at(1), error="blocked")
    await messages.delivered(r1c, worker="w", now=at(1), platform_id="3")

    assert await messages.resend(round_id=1, now=at(10)) == 2

    a = await stored_message(any_store, "a")
    assert (a.status, a.attempts, a.error, a.updated_at) == (
        OutboundStatus.PENDING,
        0,
        None,
        at(10),
    )
    assert (await stored_message(any_store, "c")).status is OutboundStatus.SENT
    assert (await stored_message(any_store, "d")).status is OutboundStatus.FAILED
    assert ids(
        await messages.claim(channel="slack", worker="w", now=at(10), lease=LEASE, limit=10)
    ) == [
        r1a,
        r1b,
    ]
    assert await messages.resend(round_id=1, now=at(11)) == 0


async def test_the_outbox_backlog_counts_per_channel(any_store: AnyStore) -> None:
    assert await any_store.messages.backlog() == []
    s1, s2, _ = await enqueue(
        any_store, message("s1", "D1"), message("s2", "D2"), message("s3", "D3"), now=at(5)
    )
    await enqueue(any_store, message("s4", "D1"), now=at(6))
    [t1] = await enqueue(any_store, message("t1", "D1", channel="telegram"), now=at(7))
    [w1] = await enqueue(any_store, message("w1", "D1", channel="whatsapp"), now=at(8))
    messages = any_store.messages
    await messages.claim(channel="slack", worker="w", now=at(9), lease=LEASE, limit=10)
    await messages.delivered(s1, worker="w", now=at(10), platform_id="1")
    await messages.fail(s2, worker="w", now=at(10), error="blocked")
    await messages.claim(channel="telegram", worker="w", now=at(9), lease=LEASE, limit=10)
    await messages.fail(t1, worker="w", now=at(10), error="chat not found")
    await messages.claim(channel="whatsapp", worker="w", now=at(9), lease=LEASE, limit=10)
    await messages.delivered(w1, worker="w", now=at(10), platform_id="1")

    # slack: s3 (claimed) and s4 wait, s2 failed; a channel with nothing waiting or failed
    # is left out.
    assert await messages.backlog() == [
        OutboxBacklog(channel="slack", pending=2, oldest=at(5), failed=1),
        OutboxBacklog(channel="telegram", pending=0, oldest=None, failed=1),
    ]


# -- screens ---------------------------------------------------------------------------------


async def test_a_screen_is_shown_per_channel_and_response(any_store: AnyStore) -> None:
    people = await seed(any_store)
    ana = people.ana
    response_id = people.responses[(1, ana.id)]
    assert await any_store.screens.get(channel="slack", response_id=response_id) is None

    first = screen(people, ana, 1, shown_at=at(0), outbox_id=7)
    await any_store.screens.show(first)
    assert await any_store.screens.get(channel="slack", response_id=response_id) == first
    assert await any_store.screens.get(channel="telegram", response_id=response_id) is None

    replaced = LiveScreen(
        channel="slack",
        response_id=response_id,
        participant_id=ana.id,
        round_id=1,
        question_id=None,
        version=3,
        shown_at=at(10),
        outbox_id=None,
        message_id="1741.0009",
        address="D0ANA",
    )
    await any_store.screens.show(replaced)
    assert await any_store.screens.get(channel="slack", response_id=response_id) == replaced


async def test_many_screens_are_shown_at_once(any_store: AnyStore) -> None:
    people = await seed(any_store)
    ana, ben = people.ana, people.ben
    old = screen(people, ana, 1, shown_at=at(0), outbox_id=7)
    await any_store.screens.show(old)
    ana_slack = dataclasses.replace(old, question_id="q2", version=2, shown_at=at(5), outbox_id=8)
    ana_telegram = screen(people, ana, 1, channel="telegram", shown_at=at(5), outbox_id=9)
    ben_first = screen(people, ben, 1, shown_at=at(5), outbox_id=10)
    ben_then = dataclasses.replace(ben_first, outbox_id=11, message_id="1741.0011")

    await any_store.screens.show_many([ana_slack, ana_telegram, ben_first, ben_then])
    await any_store.screens.show_many([])

    screens = any_store.screens
    assert await screens.get(channel="slack", response_id=old.response_id) == ana_slack
    assert await screens.get(channel="telegram", response_id=old.response_id) == ana_telegram
    assert await screens.get(channel="slack", response_id=ben_first.response_id) == ben_then


async def test_the_latest_screen_is_found_per_channel_or_on_any(any_store: AnyStore) -> None:
    people = await seed(any_store)
    ana, ben = people.ana, people.ben
    assert await any_store.screens.latest(channel="slack", participant_id=ana.id) is None
    assert await any_store.screens.latest_any(ana.id) is None

    slack_old = screen(people, ana, 1, channel="slack", shown_at=at(0))
    slack_new = screen(people, ana, 2, channel="slack", shown_at=at(20))
    telegram = screen(people, ana, 1, channel="telegram", shown_at=at(30))
    bens = screen(people, ben, 1, channel="slack", shown_at=at(40))
    for shown in (slack_new, telegram, slack_old, bens):
        await any_store.screens.show(shown)

    assert await any_store.screens.latest(channel="slack", participant_id=ana.id) == slack_new
    assert await any_store.screens.latest(channel="telegram", participant_id=ana.id) == telegram
    assert await any_store.screens.latest_any(ana.id) == telegram
    assert await any_store.screens.latest_any(ben.id) == bens

    # Showing the first round again makes it the latest.
    again = screen(people, ana, 1, channel="slack", question_id="q2", shown_at=at(50))
    await any_store.screens.show(again)
    assert await any_store.screens.latest(channel="slack", participant_id=ana.id) == again
    assert await any_store.screens.latest_any(ana.id) == again


# -- leases ----------------------------------------------------------------------------------


async def test_a_lease_is_held_by_one_holder_until_it_expires(any_store: AnyStore) -> None:
    leases = any_store.leases
    ttl = timedelta(seconds=30)

    assert await leases.acquire("scheduler", holder="host-a:1", now=T0, ttl=ttl)
    assert not await leases.acquire("scheduler", holder="host-b:2", now=at(29), ttl=ttl)
    # Its holder renews it.
    assert await leases.acquire("scheduler", holder="host-a:1", now=at(20), ttl=ttl)
    assert not await leases.acquire("scheduler", holder="host-b:2", now=at(49), ttl=ttl)
    assert await leases.holders("scheduler", now=at(49)) == [
        Lease(name="scheduler", holder="host-a:1", expires_at=at(50))
    ]
    # Expired, it is anyone's.
    assert await leases.acquire("scheduler", holder="host-b:2", now=at(50), ttl=ttl)
    assert not await leases.acquire("scheduler", holder="host-a:1", now=at(51), ttl=ttl)


async def test_a_lease_is_released_only_by_its_holder(any_store: AnyStore) -> None:
    leases = any_store.leases
    ttl = timedelta(seconds=30)
    await leases.acquire("telegram-polling", holder="a", now=T0, ttl=ttl)

    await leases.release("telegram-polling", holder="b")
    assert not await leases.acquire("telegram-polling", holder="b", now=at(1), ttl=ttl)

    await leases.release("telegram-polling", holder="a")
    assert await leases.holders("telegram-polling", now=at(1)) == []
    assert await leases.acquire("telegram-polling", holder="b", now=at(1), ttl=ttl)
    await leases.release("never-taken", holder="b")


async def test_holders_are_the_live_leases_with_a_prefix(any_store: AnyStore) -> None:
    leases = any_store.leases
    ttl = timedelta(seconds=30)
    await leases.acquire("sender:slack:b", holder="b", now=T0, ttl=ttl)
    await leases.acquire("sender:slack:a", holder="a", now=at(10), ttl=ttl)
    await leases.acquire("sender:slack:gone", holder="gone", now=at(-60), ttl=ttl)
    await leases.acquire("sender:telegram:a", holder="a", now=T0, ttl=ttl)
    await leases.acquire("Sender:slack:upper", holder="u", now=T0, ttl=ttl)
    await leases.acquire("sender_slack_x", holder="x", now=T0, ttl=ttl)

    assert await leases.holders("sender:slack:", now=at(5)) == [
        Lease("sender:slack:a", "a", at(40)),
        Lease("sender:slack:b", "b", at(30)),
    ]
    # Prefixes are literal and case-sensitive: no wildcards, no case folding.
    assert [lease.name for lease in await leases.holders("sender_", now=at(5))] == [
        "sender_slack_x"
    ]
    assert [lease.name for lease in await leases.holders("sender%", now=at(5))] == []
    assert [lease.name for lease in await leases.holders("", now=at(30))] == ["sender:slack:a"]


# -- races between processes -----------------------------------------------------------------


@dataclass
class Race:
    """What racing workers saw: each claimed id, and any group claimed while already held."""

    total: int
    done: int = 0
    claimed: list[int] = field(default_factory=list)
    held: set[str] = field(default_factory=set)
    clashes: list[str] = field(default_factory=list)
    order: dict[str, list[int]] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def take(self, group: str, item_id: int) -> None:
        if group in self.held:
            self.clashes.append(group)
        self.held.add(group)
        self.claimed.append(item_id)
        self.order.setdefault(group, []).append(item_id)

    async def finished(self) -> None:
        async with self.changed:
            self.done += 1
            self.changed.notify_all()

    async def wait_for_progress(self, since: int) -> None:
        """Until someone finishes something after ``since`` (or everything is done)."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.done > since or self.done >= self.total)


async def race(stores: Sequence[Store], work: object, *, per_store: int) -> None:
    assert callable(work)
    async with asyncio.timeout(120):  # a guard against a hang, not a measurement
        await asyncio.gather(
            *(
                work(store, f"worker-{n}-{k}")
                for n, store in enumerate(stores)
                for k in range(per_store)
            )
        )


async def test_racing_inbox_workers_in_two_processes_never_share_a_subject(
    database_url: str,
) -> None:
    subjects = [f"U{n:03d}" for n in range(8)]
    first, second = await open_store(database_url), await open_store(database_url)
    try:
        for round_ in range(6):
            for subject in subjects:
                await accept(first, event(f"Ev{round_}-{subject}", subject))
        state = Race(total=6 * len(subjects))

        async def work(store: Store, worker: str) -> None:
            while state.done < state.total:
                before = state.done
                claimed = await store.events.claim(
                    worker=worker, now=T0, lease=INBOX_LEASE, limit=2
                )
                if not claimed:
                    await state.wait_for_progress(before)
                    continue
                for taken in claimed:
                    state.take(taken.subject, taken.id)
                for taken in claimed:
                    async with store.transaction() as tx:
                        await tx.events.complete(taken.id, worker=worker, now=T0)
                        # Let go before the commit: the next event becomes claimable only then.
                        state.held.discard(taken.subject)
                    await state.finished()

        await race([first, second], work, per_store=3)

        assert state.clashes == []
        assert sorted(state.claimed) == sorted(set(state.claimed))
        assert len(state.claimed) == state.total
        assert all(order == sorted(order) for order in state.order.values())
        assert await first.events.backlog() == InboxBacklog(pending=0, oldest=None)
    finally:
        await first.close()
        await second.close()


async def test_racing_senders_in_two_processes_never_share_an_address(database_url: str) -> None:
    addresses = [f"D{n:03d}" for n in range(6)]
    first, second = await open_store(database_url), await open_store(database_url)
    try:
        for n in range(6):
            lane = Lane.INTERACTIVE if n % 3 == 0 else Lane.BULK
            await enqueue(
                first, *(message(f"m{n}-{address}", address, lane=lane) for address in addresses)
            )
        state = Race(total=6 * len(addresses))

        async def work(store: Store, worker: str) -> None:
            while state.done < state.total:
                before = state.done
                claimed = await store.messages.claim(
                    channel="slack", worker=worker, now=T0, lease=OUTBOX_LEASE, limit=2
                )
                if not claimed:
                    await state.wait_for_progress(before)
                    continue
                for taken in claimed:
                    state.take(taken.address, taken.id)
                for taken in claimed:
                    async with store.transaction() as tx:
                        held = await tx.messages.delivered(
                            taken.id, worker=worker, now=T0, platform_id=str(taken.id)
                        )
                        assert held
                        state.held.discard(taken.address)
                    await state.finished()

        await race([first, second], work, per_store=3)

        assert state.clashes == []
        assert sorted(state.claimed) == sorted(set(state.claimed))
        assert len(state.claimed) == state.total
        # Each address got its messages in the order they were enqueued.
        assert all(order == sorted(order) for order in state.order.values())
        assert await first.messages.backlog() == []
    finally:
        await first.close()
        await second.close()


async def advisory_lock_waited_for(store: Store, key: int) -> bool:
    """Whether some session waits for the advisory lock ``key`` (PostgreSQL's pg_locks shows
    a bigint key as its high and low 32 bits)."""
    assert store.database is not None
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    async with store.database.engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND classid::bigint = :high AND objid::bigint = :low AND objsubid = 1"
            ),
            {"high": high, "low": low},
        )
    return bool(waiting)


async def test_an_event_stored_while_an_older_one_of_its_subject_commits_comes_after_it(
    database_url: str,
) -> None:
    subject = f"U{uuid.uuid4().hex[:10]}"  # pg_locks is shared by every schema and test run
    first, second = await open_store(database_url), await open_store(database_url)
    try:
        if make_url(database_url).get_backend_name() == "sqlite":
            # Writers are serialised by the database lock: while one event's transaction is
            # open nobody else can write, so ids of a subject are committed in order.
            path = make_url(database_url).database
            assert path is not None
            async with first.transaction() as tx:
                await tx.events.accept(event("1", subject), now=T0)
                other = sqlite3.connect(path, timeout=0, isolation_level=None)
                try:
                    with pytest.raises(sqlite3.OperationalError, match="locked"):
                        other.execute("BEGIN IMMEDIATE")
                finally:
                    other.close()
            return
        async with asyncio.timeout(60):  # a guard against a hang, not a measurement
            async with first.transaction() as tx:
                older = await accept(tx, event("1", subject))
                newer = asyncio.create_task(second.events.accept(event("2", subject), now=at(1)))
                # Another subject is not held up.
                unrelated = await accept(second, event("3", subject + "x"), now=at(1))
                lock = subject_lock("slack", subject)
                while not newer.done() and not await advisory_lock_waited_for(second, lock):
                    pass
                # The newer event waits for the older one to commit, so it cannot be stored
                # (and claimed) ahead of it with a larger id that becomes visible first.
                assert not newer.done()
                claimed = await second.events.claim(worker="w", now=at(2), lease=LEASE, limit=5)
                assert ids(claimed) == [unrelated]
            newer_id = await newer
        assert older < newer_id
        claimed = await second.events.claim(worker="w", now=at(3), lease=LEASE, limit=5)
        assert ids(claimed) == [older]
    finally:
        await first.close()
        await second.close()
