"""The personal-data port's contract (show, erase, purge) and the enrolment guards, on the
in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from storage.database import Store
from storage.memory import InMemoryStore
from surveys.queues import Lane, LiveScreen, NewInboundEvent, NewMessage, OutboundStatus
from surveys.records import AnswerChange, Enrolment, EnrolmentOutcome, ResponseStatus
from surveys.rights import ERASED, ErasureRequest, erased_email, erased_name
from tests.storage.test_contract import T0, answer, seed, start_round

AnyStore = Store | InMemoryStore

AWA = "awa.diop@senegal.example"
ZOE = "zoe.martin@diplomatie.gouv.fr"
HASH = "ab" * 32


async def world(store: AnyStore) -> dict[str, int]:
    """Awa (Slack U0SEN1, Telegram 777) answered with a comment, wrote, was written to;
    Zoé did the same and must be left alone."""
    people = await seed(store)
    awa, zoe = people[AWA], people[ZOE]
    round_ = await start_round(store, [awa, zoe])
    await store.enrolments.issue(
        participant_id=awa.id,
        channel="telegram",
        code_hash=HASH,
        expires_at=T0 + timedelta(days=1),
        now=T0,
    )
    await store.enrolments.redeem(channel="telegram", code_hash=HASH, external_id="777", now=T0)
    await store.identities.set_address(awa.id, "telegram", "777")
    for who in (awa, zoe):
        await answer(
            store,
            round_.id,
            who.id,
            [
                AnswerChange("score", 4, T0),
                AnswerChange("why", f"secret plan of {who.name}", T0),
            ],
            current=None,
            status=ResponseStatus.SUBMITTED,
            now=T0,
        )
    response = await store.responses.get_response(round_.id, awa.id)
    other = await store.responses.get_response(round_.id, zoe.id)
    await store.events.accept(
        NewInboundEvent("slack", "event:1", "U0SEN1", '{"text": "secret plan"}'), now=T0
    )
    await store.events.accept(
        NewInboundEvent("telegram", "update:2", "777", '{"text": "secret"}'), now=T0
    )
    await store.events.accept(
        NewInboundEvent("slack", "event:3", "U0FRA2", '{"text": "zoe"}'), now=T0
    )
    for claimed in await store.events.claim(
        worker="w", now=T0, lease=timedelta(seconds=60), limit=10
    ):
        if claimed.key != "update:2":
            await store.events.complete(claimed.id, worker="w", now=T0)
    sent_to_awa, waiting_for_awa, to_zoe = await store.messages.enqueue(
        [
            NewMessage(
                "slack", "invite:1:a", "D0AWA", "chat.postMessage", {"text": "Dear Awa"},
                participant_id=awa.id, round_id=round_.id,
            ),
            NewMessage(
                "telegram", "reply:9", "777", "sendMessage", {"text": "Merci Awa"},
                lane=Lane.INTERACTIVE, round_id=round_.id,
            ),
            NewMessage(
                "slack", "invite:1:z", "D0ZOE", "chat.postMessage", {"text": "Dear Zoé"},
                participant_id=zoe.id, round_id=round_.id,
            ),
        ],
        now=T0,
    )  # fmt: skip
    assert sent_to_awa and waiting_for_awa and to_zoe
    for claimed in await store.messages.claim(
        channel="slack", worker="s", now=T0, lease=timedelta(seconds=60), limit=10
    ):
        await store.messages.delivered(claimed.id, worker="s", now=T0, platform_id="1.1")
    await store.screens.show(
        LiveScreen("slack", response.id, awa.id, round_.id, None, 1, T0, message_id="1.1")
    )
    await store.audit.record(
        actor=f"{AWA} (slack)", action="digest", target="round 1", details={}, now=T0
    )
    await store.audit.record(
        actor="cli-user",
        action="enrolment.issue",
        target="telegram",
        details={"participants": [awa.id, zoe.id]},
        now=T0,
    )
    await store.audit.record(
        actor=f"{ZOE} (slack)", action="digest", target="round 1", details={}, now=T0
    )
    return {
        "awa": awa.id,
        "zoe": zoe.id,
        "round": round_.id,
        "response": response.id,
        "other": other.id,
        "waiting": waiting_for_awa,
    }


async def test_about_gathers_everything_stored_about_one_person(any_store: AnyStore) -> None:
    ids = await world(any_store)

    data = await any_store.personal.about(ids["awa"])

    assert data.participant.email == AWA
    assert data.delegation is not None and data.delegation.code == "SEN"
    assert sorted((i.channel, i.external_id) for i in data.identities) == [
        ("slack", "U0SEN1"),
        ("telegram", "777"),
    ]
    assert [(c.channel, c.used_by) for c in data.enrolment_codes] == [("telegram", "777")]
    [mine] = data.responses
    assert mine.response.state.answers == {"score": 4, "why": "secret plan of Awa Diop"}
    assert [c.question_id for c in mine.history] == ["score", "why"]
    assert sorted(e.key for e in data.inbound) == ["event:1", "update:2"]
    assert sorted(m.key for m in data.outbound) == ["invite:1:a", "reply:9"]
    assert [s.response_id for s in data.screens] == [ids["response"]]
    assert [(e.actor, e.action) for e in data.audit] == [
        (f"{AWA} (slack)", "digest"),
        ("cli-user", "enrolment.issue"),
    ]


async def test_erasure_removes_what_names_or_reaches_the_person(any_store: AnyStore) -> None:
    ids = await world(any_store)
    counts_before = await any_store.rounds.counts(ids["round"])
    await any_store.enrolments.record_failure(channel="telegram", external_id="777", now=T0)

    erased = await any_store.personal.erase(
        ErasureRequest(ids["awa"], {ids["response"]: frozenset({"why"})}), now=T0
    )

    assert (erased.identities, erased.enrolment_codes, erased.screens) == (2, 1, 1)
    assert erased.answers == 2  # the current comment and its history entry
    assert (erased.inbound, erased.outbound, erased.audit) == (2, 2, 1)
    data = await any_store.personal.about(ids["awa"])
    person = data.participant
    assert (person.name, person.email, person.tags) == (
        erased_name(ids["awa"]),
        erased_email(ids["awa"]),
        (),
    )
    assert person.delegation == "SEN" and person.slack_user_id is None
    assert person.telegram_user_id is None
    assert not data.identities and not data.enrolment_codes and not data.screens
    assert data.enrolment_failures == []
    [mine] = data.responses
    assert mine.response.state.answers == {"score": 4, "why": None}
    assert [c.value for c in mine.history] == [4, None]
    assert mine.response.status is ResponseStatus.SUBMITTED
    assert await any_store.rounds.counts(ids["round"]) == counts_before
    assert await any_store.roster.find_by_identity("slack", "U0SEN1") is None
    assert await any_store.roster.find_by_identity("telegram", "777") is None
    # Raw bodies are gone; the unprocessed event and the unsent message are stopped.
    for key in ("event:1", "update:2"):
        channel = "slack" if key.startswith("event") else "telegram"
        stored = await any_store.events.get(channel=channel, key=key)
        assert stored is not None and stored.payload == "" and stored.subject == ""
        assert stored.processed_at is not None
    waiting = await any_store.events.get(channel="telegram", key="update:2")
    assert waiting is not None and waiting.error == ERASED
    for channel, key in (("slack", "invite:1:a"), ("telegram", "reply:9")):
        message = await any_store.messages.get(channel=channel, key=key)
        assert message is not None and message.body == {} and message.address == ""
    stopped = await any_store.messages.get(channel="telegram", key="reply:9")
    assert stopped is not None and stopped.status is OutboundStatus.FAILED
    assert await any_store.messages.resend(round_id=ids["round"], now=T0) == 0
    entries = await any_store.audit.entries()
    assert AWA not in str(entries)
    assert "participant" in entries[-1].actor  # the oldest: Awa's digest, by her id
    # Zoé is untouched.
    zoe = await any_store.personal.about(ids["zoe"])
    assert zoe.participant.email == ZOE
    assert zoe.responses[0].response.state.answers["why"] == "secret plan of Zoé Martin"
    zoe_event = await any_store.events.get(channel="slack", key="event:3")
    assert zoe_event is not None and zoe_event.payload == '{"text": "zoe"}'
    zoe_message = await any_store.messages.get(channel="slack", key="invite:1:z")
    assert zoe_message is not None and zoe_message.body == {"text": "Dear Zoé"}


async def test_purge_removes_old_raw_bodies_only(any_store: AnyStore) -> None:
    ids = await world(any_store)
    await any_store.enrolments.record_failure(channel="telegram", external_id="9", now=T0)
    later = T0 + timedelta(days=30)
    await any_store.events.accept(
        NewInboundEvent("slack", "event:new", "U0SEN1", '{"text": "new"}'), now=later
    )

    purged = await any_store.personal.purge(before=T0 + timedelta(days=1))

    assert (purged.inbound, purged.outbound, purged.enrolment_failures) == (2, 2, 1)
    assert await any_store.events.get(channel="slack", key="event:1") is None
    waiting = await any_store.events.get(channel="telegram", key="update:2")
    assert waiting is not None and waiting.payload == '{"text": "secret"}'  # not processed
    fresh = await any_store.events.get(channel="slack", key="event:new")
    assert fresh is not None and fresh.payload == '{"text": "new"}'
    sent = await any_store.messages.get(channel="slack", key="invite:1:a")
    assert sent is not None and sent.body == {} and sent.status is OutboundStatus.SENT
    unsent = await any_store.messages.get(channel="telegram", key="reply:9")
    assert unsent is not None and unsent.body == {"text": "Merci Awa"}
    again = await any_store.personal.purge(before=T0 + timedelta(days=1))
    assert (again.inbound, again.outbound, again.enrolment_failures) == (0, 0, 0)
    assert ids["waiting"]


async def test_a_linked_participant_is_not_linked_to_a_second_account(
    any_store: AnyStore,
) -> None:
    ids = await world(any_store)  # Awa is linked to Telegram 777
    await any_store.enrolments.issue(
        participant_id=ids["awa"],
        channel="telegram",
        code_hash="cd" * 32,
        expires_at=T0 + timedelta(days=1),
        now=T0,
    )

    refused = await any_store.enrolments.redeem(
        channel="telegram", code_hash="cd" * 32, external_id="888", now=T0
    )

    assert refused == Enrolment(EnrolmentOutcome.LINKED_ELSEWHERE, ids["awa"])
    assert await any_store.roster.find_by_identity("telegram", "888") is None
    unlinked = await any_store.identities.unlink(ids["awa"], "telegram")
    assert unlinked is not None and unlinked.external_id == "777"
    assert await any_store.identities.unlink(ids["awa"], "telegram") is None
    enrolled = await any_store.enrolments.redeem(
        channel="telegram", code_hash="cd" * 32, external_id="888", now=T0
    )
    assert enrolled == Enrolment(EnrolmentOutcome.ENROLLED, ids["awa"])
    linked = await any_store.identities.identity(ids["awa"], "telegram")
    assert linked is not None and linked.external_id == "888" and linked.address is None


async def test_failures_are_counted_per_account_and_since(any_store: AnyStore) -> None:
    for minutes in (0, 10, 20):
        await any_store.enrolments.record_failure(
            channel="telegram", external_id="42", now=T0 + timedelta(minutes=minutes)
        )
    await any_store.enrolments.record_failure(channel="telegram", external_id="43", now=T0)

    recent = await any_store.enrolments.recent_failures(
        channel="telegram", external_id="42", since=T0 + timedelta(minutes=5)
    )

    assert recent == [T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)]
    assert (
        await any_store.enrolments.recent_failures(channel="slack", external_id="42", since=T0)
        == []
    )
