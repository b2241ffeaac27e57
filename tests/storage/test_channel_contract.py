"""The channel ports' contract (identities, enrolment), round lifecycle and delivery plan.

The same cases run against the in-memory store, SQLite and PostgreSQL (``any_store``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from storage.database import Store
from storage.memory import InMemoryStore
from surveys.definition import Survey, load_survey
from surveys.errors import NotFoundError, RoundError
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    AnswerChange,
    Attribution,
    Audience,
    Delegation,
    Enrolment,
    EnrolmentOutcome,
    Identity,
    Invited,
    Participant,
    ParticipantData,
    ResponseMode,
    ResponseState,
    ResponseStatus,
    Role,
    Round,
)

AnyStore = Store | InMemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPENS = T0 + timedelta(days=1)
CLOSES = T0 + timedelta(days=8)
HASH = "3f" * 32


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


def make_person(name: str, code: str) -> ParticipantData:
    return ParticipantData(
        name=name,
        email=f"{name.lower()}@{code.lower()}.example",
        role=Role.DELEGATE,
        delegation=code,
    )


async def seed(store: AnyStore) -> list[Participant]:
    """Ana (ARG), Ben (BEL), Chloé (CAN), in that order."""
    await store.roster.import_roster(
        [Delegation("ARG", "Argentina"), Delegation("BEL", "Belgium"), Delegation("CAN", "Canada")],
        [make_person("Ana", "ARG"), make_person("Ben", "BEL"), make_person("Chloé", "CAN")],
    )
    return list(await store.roster.list_participants())


async def make_round(
    store: AnyStore,
    people: Sequence[Participant],
    *,
    opens_at: datetime = OPENS,
    closes_at: datetime = CLOSES,
    reminder_policy: Sequence[int] | None = None,
    attribution: Attribution | None = None,
) -> Round:
    version = await store.surveys.save_version(make_survey(), now=T0)
    extra: dict[str, object] = {}
    if reminder_policy is not None:
        extra["reminder_policy"] = reminder_policy
    if attribution is not None:
        extra["attribution"] = attribution
    return await store.rounds.create_round(
        survey_version_id=version.id,
        audience=Audience("all"),
        opens_at=opens_at,
        closes_at=closes_at,
        participant_ids=[p.id for p in people],
        now=T0,
        **extra,  # type: ignore[arg-type]
    )


async def progress(
    store: AnyStore,
    round_id: int,
    participant_id: int,
    status: ResponseStatus,
    *,
    answers: dict[str, str | int] | None = None,
    now: datetime = OPENS,
) -> None:
    response = await store.responses.get_response(round_id, participant_id)
    answers = answers or {"q1": "hello"}
    await store.responses.save_state(
        response.id,
        version=response.version,
        state=ResponseState(answers=dict(answers), current=None, started=True),
        changes=[AnswerChange(qid, value, now) for qid, value in answers.items()],
        status=status,
        now=now,
    )


# -- enrolment -------------------------------------------------------------------------------


async def issue(
    store: AnyStore,
    participant: Participant,
    code_hash: str = HASH,
    *,
    channel: str = "telegram",
    now: datetime = T0,
    valid_for: timedelta = timedelta(hours=1),
) -> None:
    await store.enrolments.issue(
        participant_id=participant.id,
        channel=channel,
        code_hash=code_hash,
        expires_at=now + valid_for,
        now=now,
    )


async def redeem(
    store: AnyStore,
    code_hash: str = HASH,
    external_id: str = "555001",
    *,
    channel: str = "telegram",
    now: datetime = T0 + timedelta(minutes=5),
) -> Enrolment:
    return await store.enrolments.redeem(
        channel=channel, code_hash=code_hash, external_id=external_id, now=now
    )


async def test_redeeming_a_code_links_the_account(any_store: AnyStore) -> None:
    ana, *_ = await seed(any_store)
    await issue(any_store, ana)

    enrolled = await redeem(any_store)

    assert enrolled == Enrolment(EnrolmentOutcome.ENROLLED, ana.id)
    found = await any_store.roster.find_by_identity("telegram", "555001")
    assert found is not None
    assert (found.id, found.telegram_user_id) == (ana.id, "555001")
    assert await any_store.identities.identity(ana.id, "telegram") == Identity(
        participant_id=ana.id, channel="telegram", external_id="555001"
    )


async def test_identities_in_bulk_are_those_on_the_channel(any_store: AnyStore) -> None:
    ana, ben, cleo = await seed(any_store)
    await any_store.roster.link_identity(ana.id, "telegram", "555001")
    await any_store.roster.link_identity(ben.id, "slack", "U0BEN")
    await any_store.identities.set_address(ben.id, "slack", "D0BEN")

    telegram = await any_store.identities.identities([ana.id, ben.id, cleo.id], "telegram")
    assert dict(telegram) == {
        ana.id: Identity(participant_id=ana.id, channel="telegram", external_id="555001")
    }
    slack = await any_store.identities.identities([ben.id, ben.id, 999_999], "slack")
    assert dict(slack) == {ben.id: Identity(ben.id, "slack", external_id="U0BEN", address="D0BEN")}
    assert await any_store.identities.identities([], "slack") == {}


async def test_a_code_works_once(any_store: AnyStore) -> None:
    ana, *_ = await seed(any_store)
    await issue(any_store, ana)
    await redeem(any_store, external_id="555001")

    assert await redeem(any_store, external_id="555002") == Enrolment(EnrolmentOutcome.USED)
    assert await redeem(any_store, external_id="555001") == Enrolment(EnrolmentOutcome.USED)
    assert await any_store.roster.find_by_identity("telegram", "555002") is None
    assert (await any_store.roster.get_participant(ana.id)).telegram_user_id == "555001"


async def test_unknown_and_expired_codes_link_nothing(any_store: AnyStore) -> None:
    ana, *_ = await seed(any_store)
    await issue(any_store, ana, valid_for=timedelta(hours=1))

    assert await redeem(any_store, "00" * 32) == Enrolment(EnrolmentOutcome.UNKNOWN)
    # A code is for one channel: elsewhere it is unknown.
    assert await redeem(any_store, channel="slack") == Enrolment(EnrolmentOutcome.UNKNOWN)
    expired = await redeem(any_store, now=T0 + timedelta(hours=1))
    assert expired == Enrolment(EnrolmentOutcome.EXPIRED)
    assert await any_store.identities.identity(ana.id, "telegram") is None
    # Just before expiry it still works (the failed attempts did not use it up).
    just_in_time = await redeem(any_store, now=T0 + timedelta(minutes=59))
    assert just_in_time.outcome is EnrolmentOutcome.ENROLLED


async def test_a_new_code_replaces_the_unused_one_on_that_channel(any_store: AnyStore) -> None:
    ana, ben, _ = await seed(any_store)
    await issue(any_store, ana, "aa" * 32)
    await issue(any_store, ana, "ab" * 32, channel="slack")
    await issue(any_store, ben, "bb" * 32)

    await issue(any_store, ana, "ac" * 32, now=T0 + timedelta(minutes=1))

    assert await redeem(any_store, "aa" * 32) == Enrolment(EnrolmentOutcome.EXPIRED)
    assert await redeem(any_store, "ac" * 32) == Enrolment(EnrolmentOutcome.ENROLLED, ana.id)
    # Other channels and other people keep their codes.
    slack = await redeem(any_store, "ab" * 32, "U0ANA", channel="slack")
    assert slack == Enrolment(EnrolmentOutcome.ENROLLED, ana.id)
    assert await redeem(any_store, "bb" * 32, "555002") == Enrolment(
        EnrolmentOutcome.ENROLLED, ben.id
    )


async def test_a_used_code_stays_used_when_a_new_one_is_issued(any_store: AnyStore) -> None:
    ana, *_ = await seed(any_store)
    await issue(any_store, ana, "aa" * 32)
    await redeem(any_store, "aa" * 32)
    await issue(any_store, ana, "ac" * 32, now=T0 + timedelta(minutes=10))

    assert await redeem(any_store, "aa" * 32, "555009") == Enrolment(EnrolmentOutcome.USED)


async def test_enrolling_an_account_another_person_had_moves_it(any_store: AnyStore) -> None:
    ana, ben, _ = await seed(any_store)
    await any_store.roster.link_identity(ben.id, "telegram", "555001")
    await issue(any_store, ana)

    assert (await redeem(any_store, external_id="555001")).participant_id == ana.id

    assert (await any_store.roster.get_participant(ben.id)).telegram_user_id is None
    assert await any_store.identities.identity(ben.id, "telegram") is None


async def test_concurrent_redemptions_let_one_account_win(any_store: AnyStore) -> None:
    ana, *_ = await seed(any_store)
    await issue(any_store, ana)

    results = await asyncio.gather(*(redeem(any_store, external_id=f"55500{n}") for n in range(4)))

    outcomes = sorted(result.outcome for result in results)
    assert outcomes == [EnrolmentOutcome.ENROLLED] + [EnrolmentOutcome.USED] * 3
    identity = await any_store.identities.identity(ana.id, "telegram")
    assert identity is not None
    winner = next(
        f"55500{n}" for n, r in enumerate(results) if r.outcome is EnrolmentOutcome.ENROLLED
    )
    assert identity.external_id == winner


async def test_issuing_for_a_missing_participant_is_not_found(any_store: AnyStore) -> None:
    with pytest.raises(NotFoundError) as missing:
        await any_store.enrolments.issue(
            participant_id=404, channel="telegram", code_hash=HASH, expires_at=CLOSES, now=T0
        )
    assert (missing.value.kind, missing.value.key) == ("participant", 404)


# -- identities ------------------------------------------------------------------------------


async def test_an_address_is_cached_per_identity(any_store: AnyStore) -> None:
    ana, ben, _ = await seed(any_store)
    identities = any_store.identities
    with pytest.raises(NotFoundError) as missing:
        await identities.set_address(ana.id, "telegram", "555001")
    assert (missing.value.kind, missing.value.key) == ("identity", (ana.id, "telegram"))

    await any_store.roster.link_identity(ana.id, "telegram", "555001")
    await identities.set_address(ana.id, "telegram", "555001")
    # Linking the same account again keeps it...
    await any_store.roster.link_identity(ana.id, "telegram", "555001")
    assert await identities.identity(ana.id, "telegram") == Identity(
        ana.id, "telegram", "555001", "555001"
    )
    assert await identities.identity(ana.id, "slack") is None

    # ...another account forgets it, and so does the account moving to someone else.
    await any_store.roster.link_identity(ana.id, "telegram", "555002")
    assert await identities.identity(ana.id, "telegram") == Identity(ana.id, "telegram", "555002")
    await identities.set_address(ana.id, "telegram", "chat-2")
    await any_store.roster.link_identity(ben.id, "telegram", "555002")
    assert await identities.identity(ben.id, "telegram") == Identity(ben.id, "telegram", "555002")


async def test_a_new_slack_id_from_the_roster_forgets_the_address(any_store: AnyStore) -> None:
    ana, *_ = await seed(any_store)
    await any_store.roster.import_roster([], [make_person("Ana", "ARG")])
    await any_store.roster.link_identity(ana.id, "slack", "U0ANA")
    await any_store.identities.set_address(ana.id, "slack", "D0ANA")
    same = ParticipantData(**{**make_person("Ana", "ARG").__dict__, "slack_user_id": "U0ANA"})
    await any_store.roster.import_roster([], [same])
    assert (await any_store.identities.identity(ana.id, "slack")) == Identity(
        ana.id, "slack", "U0ANA", "D0ANA"
    )

    moved = ParticipantData(**{**same.__dict__, "slack_user_id": "U0ANA2"})
    await any_store.roster.import_roster([], [moved])

    assert (await any_store.identities.identity(ana.id, "slack")) == Identity(
        ana.id, "slack", "U0ANA2"
    )


async def test_language_and_timezone_are_set_from_a_channel(any_store: AnyStore) -> None:
    ana, ben, _ = await seed(any_store)

    await any_store.identities.set_language(ana.id, "fr")
    await any_store.identities.set_timezone(ana.id, "America/Argentina/Buenos_Aires")

    stored = await any_store.roster.get_participant(ana.id)
    assert (stored.language, stored.timezone) == ("fr", "America/Argentina/Buenos_Aires")
    assert await any_store.roster.get_participant(ben.id) == ben
    with pytest.raises(NotFoundError):
        await any_store.identities.set_language(404, "fr")
    with pytest.raises(NotFoundError):
        await any_store.identities.set_timezone(404, "UTC")


async def test_participations_list_the_rounds_newest_first(any_store: AnyStore) -> None:
    ana, ben, chloe = await seed(any_store)
    first = await make_round(any_store, [ana, ben])
    second = await make_round(any_store, [ben, chloe])
    third = await make_round(any_store, [ana, ben, chloe])
    await progress(any_store, first.id, ben.id, ResponseStatus.SUBMITTED, answers={"q2": 7})
    await progress(any_store, third.id, ben.id, ResponseStatus.IN_PROGRESS)

    found = await any_store.identities.participations(ben.id)

    assert [round_ for round_, _ in found] == [third, second, first]
    assert [response.round_id for _, response in found] == [third.id, second.id, first.id]
    assert [response.status for _, response in found] == [
        ResponseStatus.IN_PROGRESS,
        ResponseStatus.NOT_STARTED,
        ResponseStatus.SUBMITTED,
    ]
    for round_, response in found:
        assert response == await any_store.responses.get_response(round_.id, ben.id)
    assert found[2][1].state.answers == {"q2": 7}
    assert [r.id for r, _ in await any_store.identities.participations(ana.id)] == [
        third.id,
        first.id,
    ]
    assert await any_store.identities.participations(404) == []


# -- rounds ----------------------------------------------------------------------------------


async def test_rounds_keep_their_reminder_policy_and_attribution(any_store: AnyStore) -> None:
    people = await seed(any_store)
    default = await make_round(any_store, people)
    custom = await make_round(
        any_store, people, reminder_policy=[60, 1440, 60, 4320], attribution=Attribution.NAMED
    )

    assert (default.reminder_policy, default.attribution) == (
        DEFAULT_REMINDER_POLICY,
        Attribution.DELEGATION,
    )
    assert (custom.reminder_policy, custom.attribution) == ((4320, 1440, 60), Attribution.NAMED)
    assert await any_store.rounds.get_round(custom.id) == custom
    assert await any_store.rounds.list_rounds() == [default, custom]
    empty = await make_round(any_store, [], reminder_policy=(), attribution=Attribution.ANONYMOUS)
    assert await any_store.rounds.get_round(empty.id) == empty
    assert (empty.reminder_policy, empty.attribution) == ((), Attribution.ANONYMOUS)


async def test_rounds_keep_their_response_mode(any_store: AnyStore) -> None:
    people = await seed(any_store)
    default = await make_round(any_store, people)
    version = await any_store.surveys.save_version(make_survey(), now=T0)
    shared = await any_store.rounds.create_round(
        survey_version_id=version.id,
        audience=Audience("all"),
        opens_at=OPENS,
        closes_at=CLOSES,
        participant_ids=[p.id for p in people],
        now=T0,
        responses=ResponseMode.CONSOLIDATED,
    )

    assert default.responses is ResponseMode.INDIVIDUAL
    assert shared.responses is ResponseMode.CONSOLIDATED
    assert (await any_store.rounds.get_round(shared.id)).responses is ResponseMode.CONSOLIDATED
    assert [r.responses for r in await any_store.rounds.list_rounds()] == [
        ResponseMode.INDIVIDUAL,
        ResponseMode.CONSOLIDATED,
    ]


@pytest.mark.parametrize("policy", [[0], [60, -5], [1.5], [True], ["60"]], ids=str)
async def test_a_bad_reminder_policy_creates_nothing(
    any_store: AnyStore, policy: list[object]
) -> None:
    people = await seed(any_store)
    with pytest.raises(RoundError, match="reminder policy"):
        await make_round(any_store, people, reminder_policy=policy)  # type: ignore[arg-type]
    assert await any_store.rounds.list_rounds() == []


async def test_closing_marks_started_responses_partial(any_store: AnyStore) -> None:
    ana, ben, chloe = await seed(any_store)
    round_ = await make_round(any_store, [ana, ben, chloe])
    other = await make_round(any_store, [ana])
    await progress(any_store, round_.id, ana.id, ResponseStatus.IN_PROGRESS)
    await progress(any_store, round_.id, ben.id, ResponseStatus.SUBMITTED)
    await progress(any_store, other.id, ana.id, ResponseStatus.IN_PROGRESS)
    before = await any_store.responses.get_response(round_.id, ana.id)
    at = OPENS + timedelta(days=2)

    closed = await any_store.rounds.close_round(round_.id, now=at)

    assert closed == await any_store.rounds.get_round(round_.id)
    assert closed.closed_at == at
    assert (closed.closes_at, closed.reminder_policy) == (CLOSES, round_.reminder_policy)
    assert [line.status for line in await any_store.rounds.status(round_.id)] == [
        ResponseStatus.PARTIAL,
        ResponseStatus.SUBMITTED,
        ResponseStatus.NOT_STARTED,
    ]
    partial = await any_store.responses.get_response(round_.id, ana.id)
    assert partial.state == before.state  # what they answered is kept
    assert (partial.started_at, partial.updated_at) == (before.started_at, before.updated_at)
    assert (await any_store.responses.get_response(other.id, ana.id)).status is (
        ResponseStatus.IN_PROGRESS
    )

    # Closing again changes nothing, and keeps the first closing time.
    again = await any_store.rounds.close_round(round_.id, now=at + timedelta(hours=1))
    assert again == closed
    assert (await any_store.rounds.counts(round_.id))[ResponseStatus.PARTIAL] == 1


async def test_closing_or_extending_a_missing_round_is_not_found(any_store: AnyStore) -> None:
    with pytest.raises(NotFoundError) as closing:
        await any_store.rounds.close_round(404, now=T0)
    assert (closing.value.kind, closing.value.key) == ("round", 404)
    with pytest.raises(NotFoundError):
        await any_store.rounds.extend_round(404, closes_at=CLOSES, now=T0)


async def test_a_round_closed_by_hand_cannot_be_extended(any_store: AnyStore) -> None:
    people = await seed(any_store)
    round_ = await make_round(any_store, people)
    await any_store.rounds.close_round(round_.id, now=OPENS + timedelta(days=1))

    with pytest.raises(RoundError, match=rf"round {round_.id} was closed"):
        await any_store.rounds.extend_round(
            round_.id, closes_at=CLOSES + timedelta(days=7), now=OPENS + timedelta(days=2)
        )
    assert (await any_store.rounds.get_round(round_.id)).closes_at == CLOSES


async def test_extending_moves_the_closing_time_even_after_it_passed(any_store: AnyStore) -> None:
    people = await seed(any_store)
    round_ = await make_round(any_store, people)
    late = CLOSES + timedelta(hours=3)
    assert await any_store.rounds.rounds_to_close(late) == [round_]

    extended = await any_store.rounds.extend_round(
        round_.id, closes_at=CLOSES + timedelta(days=2), now=late
    )

    assert extended.closes_at == CLOSES + timedelta(days=2)
    assert extended.closed_at is None
    assert await any_store.rounds.get_round(round_.id) == extended
    assert await any_store.rounds.rounds_to_close(late) == []
    assert await any_store.rounds.open_rounds(late) == [extended]


async def test_a_round_closed_at_its_deadline_reopens_when_extended(any_store: AnyStore) -> None:
    ana, ben, _ = await seed(any_store)
    round_ = await make_round(any_store, [ana, ben])
    await progress(any_store, round_.id, ana.id, ResponseStatus.IN_PROGRESS)
    await progress(any_store, round_.id, ben.id, ResponseStatus.SUBMITTED)
    await any_store.rounds.close_round(round_.id, now=CLOSES)  # the scheduler closes on time
    assert (await any_store.responses.get_response(round_.id, ana.id)).status is (
        ResponseStatus.PARTIAL
    )
    later = CLOSES + timedelta(hours=5)

    extended = await any_store.rounds.extend_round(
        round_.id, closes_at=CLOSES + timedelta(days=3), now=later
    )

    assert extended.closed_at is None and extended.closes_at == CLOSES + timedelta(days=3)
    assert await any_store.rounds.open_rounds(later) == [extended]
    statuses = [line.status for line in await any_store.rounds.status(round_.id)]
    assert statuses == [ResponseStatus.IN_PROGRESS, ResponseStatus.SUBMITTED]


@pytest.mark.parametrize(
    ("closes_at", "now"),
    [
        (OPENS + timedelta(days=2), OPENS + timedelta(days=3)),
        (OPENS + timedelta(days=3), OPENS + timedelta(days=3)),
        (OPENS - timedelta(hours=1), OPENS - timedelta(hours=2)),
    ],
    ids=["past", "now", "before-opening"],
)
async def test_a_round_cannot_be_extended_into_the_past(
    any_store: AnyStore, closes_at: datetime, now: datetime
) -> None:
    people = await seed(any_store)
    round_ = await make_round(any_store, people)

    with pytest.raises(RoundError, match=rf"round {round_.id}: the new closing time"):
        await any_store.rounds.extend_round(round_.id, closes_at=closes_at, now=now)
    assert await any_store.rounds.get_round(round_.id) == round_


async def test_open_rounds_and_rounds_to_close_follow_the_clock(any_store: AnyStore) -> None:
    people = await seed(any_store)
    early = await make_round(any_store, people, opens_at=T0, closes_at=T0 + timedelta(days=2))
    late = await make_round(any_store, people, opens_at=T0 + timedelta(days=1), closes_at=CLOSES)
    by_hand = await make_round(any_store, people, opens_at=T0, closes_at=CLOSES)
    await any_store.rounds.close_round(by_hand.id, now=T0 + timedelta(hours=1))

    def ids(rounds: Sequence[Round]) -> list[int]:
        return [r.id for r in rounds]

    async def at(moment: datetime) -> tuple[list[int], list[int]]:
        return (
            ids(await any_store.rounds.open_rounds(moment)),
            ids(await any_store.rounds.rounds_to_close(moment)),
        )

    assert await at(T0 - timedelta(seconds=1)) == ([], [])
    assert await at(T0) == ([early.id], [])  # opening is inclusive
    assert await at(T0 + timedelta(days=1)) == ([early.id, late.id], [])
    assert await at(T0 + timedelta(days=2)) == ([late.id], [early.id])  # closing is exclusive
    assert await at(CLOSES) == ([], [early.id, late.id])

    await any_store.rounds.close_round(early.id, now=CLOSES)
    assert await at(CLOSES) == ([], [late.id])


# -- the delivery plan -----------------------------------------------------------------------


async def test_invitations_are_due_from_the_opening_while_the_round_is_open(
    any_store: AnyStore,
) -> None:
    people = await seed(any_store)
    round_ = await make_round(any_store, people)

    assert await any_store.rounds.due_invitations(now=OPENS - timedelta(minutes=1), limit=10) == []
    due = await any_store.rounds.due_invitations(now=OPENS, limit=10)
    assert [item.participant.name for item in due] == ["Ana", "Ben", "Chloé"]
    assert {item.round.id for item in due} == {round_.id}
    assert all(
        item.invited_at is None and item.status is ResponseStatus.NOT_STARTED for item in due
    )
    assert len(await any_store.rounds.due_invitations(now=OPENS, limit=2)) == 2
    assert await any_store.rounds.due_invitations(now=CLOSES, limit=10) == []


async def test_an_invitation_recorded_is_no_longer_due_and_plans_the_reminder(
    any_store: AnyStore,
) -> None:
    ana, ben, chloe = await seed(any_store)
    round_ = await make_round(any_store, [ana, ben, chloe])
    due = {
        item.participant.id: item
        for item in await any_store.rounds.due_invitations(now=OPENS, limit=10)
    }
    remind_at = OPENS + timedelta(days=2)
    await any_store.rounds.invited(
        due[ana.id].response_id, channel="slack", at=OPENS, remind_at=remind_at
    )
    await any_store.rounds.defer_invitation(
        due[ben.id].response_id, until=OPENS + timedelta(hours=1)
    )
    await progress(any_store, round_.id, chloe.id, ResponseStatus.SUBMITTED)

    assert await any_store.rounds.due_invitations(now=OPENS, limit=10) == []
    later = await any_store.rounds.due_invitations(now=OPENS + timedelta(hours=1), limit=10)
    assert [item.participant.id for item in later] == [ben.id]
    assert (
        await any_store.rounds.due_reminders(now=remind_at - timedelta(seconds=1), limit=10) == []
    )
    [reminder] = await any_store.rounds.due_reminders(now=remind_at, limit=10)
    assert (reminder.participant.id, reminder.invited_on) == (ana.id, "slack")
    assert (reminder.invited_at, reminder.remind_at) == (OPENS, remind_at)

    await any_store.rounds.plan_reminder(reminder.response_id, at=None)
    assert await any_store.rounds.due_reminders(now=CLOSES - timedelta(minutes=1), limit=10) == []
    plans = await any_store.rounds.reminder_plans(round_.id)
    assert [item.participant.id for item in plans] == [ana.id]  # invited and not submitted


async def test_invitations_recorded_together_plan_each_its_reminder(
    any_store: AnyStore,
) -> None:
    ana, ben, chloe = await seed(any_store)
    await make_round(any_store, [ana, ben, chloe])
    due = {
        item.participant.id: item
        for item in await any_store.rounds.due_invitations(now=OPENS, limit=10)
    }
    soon, later = OPENS + timedelta(days=1), OPENS + timedelta(days=2)
    await any_store.rounds.invited_many(
        [
            Invited(due[ana.id].response_id, "slack", soon),
            Invited(due[ben.id].response_id, "telegram", later),
            Invited(due[chloe.id].response_id, "telegram", None),
        ],
        at=OPENS,
    )
    await any_store.rounds.invited_many([], at=OPENS)

    assert await any_store.rounds.due_invitations(now=CLOSES, limit=10) == []
    reminders = await any_store.rounds.due_reminders(now=later, limit=10)
    assert [(r.participant.id, r.invited_on, r.invited_at, r.remind_at) for r in reminders] == [
        (ana.id, "slack", OPENS, soon),
        (ben.id, "telegram", OPENS, later),
    ]


async def test_invitations_recorded_together_all_exist_or_none_is_recorded(
    any_store: AnyStore,
) -> None:
    ana, ben, _ = await seed(any_store)
    await make_round(any_store, [ana, ben])
    [first, second] = await any_store.rounds.due_invitations(now=OPENS, limit=10)
    missing = max(first.response_id, second.response_id) + 1000

    with pytest.raises(NotFoundError) as raised:
        async with any_store.transaction() as tx:
            await tx.rounds.invited_many(
                [Invited(first.response_id, "slack", None), Invited(missing, "slack", None)],
                at=OPENS,
            )
    assert (raised.value.kind, raised.value.key) == ("response", missing)
    assert len(await any_store.rounds.due_invitations(now=OPENS, limit=10)) == 2


async def test_enrolling_makes_a_deferred_invitation_due_at_once(any_store: AnyStore) -> None:
    ana, *_ = await seed(any_store)
    await make_round(any_store, [ana])
    [due] = await any_store.rounds.due_invitations(now=OPENS, limit=10)
    await any_store.rounds.defer_invitation(due.response_id, until=OPENS + timedelta(hours=1))
    now = OPENS + timedelta(minutes=5)
    assert await any_store.rounds.due_invitations(now=now, limit=10) == []

    await any_store.rounds.invite_again(ana.id, now=now)

    assert [
        item.participant.id for item in await any_store.rounds.due_invitations(now=now, limit=10)
    ] == [ana.id]


async def test_a_submitted_or_closed_response_is_never_due(any_store: AnyStore) -> None:
    ana, ben, _ = await seed(any_store)
    round_ = await make_round(any_store, [ana, ben])
    await progress(any_store, round_.id, ana.id, ResponseStatus.SUBMITTED)
    assert [
        item.participant.id for item in await any_store.rounds.due_invitations(now=OPENS, limit=10)
    ] == [ben.id]
    await any_store.rounds.close_round(round_.id, now=OPENS)
    assert await any_store.rounds.due_invitations(now=OPENS, limit=10) == []


async def test_closing_takes_a_round_out_of_the_plan_and_reopening_invites_who_was_not(
    any_store: AnyStore,
) -> None:
    ana, ben, chloe = await seed(any_store)
    round_ = await make_round(any_store, [ana, ben, chloe], closes_at=OPENS + timedelta(days=2))
    due = {
        item.participant.id: item
        for item in await any_store.rounds.due_invitations(now=OPENS, limit=10)
    }
    for person in (ana, chloe):
        await any_store.rounds.invited(
            due[person.id].response_id,
            channel="slack",
            at=OPENS,
            remind_at=OPENS + timedelta(days=1),
        )
    await progress(any_store, round_.id, chloe.id, ResponseStatus.SUBMITTED)
    # Who submitted is never reminded, even if the plan said so.
    assert [
        item.participant.id
        for item in await any_store.rounds.due_reminders(now=OPENS + timedelta(days=1), limit=9)
    ] == [ana.id]

    closing = OPENS + timedelta(days=2)
    await any_store.rounds.close_round(round_.id, now=closing)
    [plan] = await any_store.rounds.reminder_plans(round_.id)
    assert (plan.participant.id, plan.remind_at) == (ana.id, None)

    later = closing + timedelta(hours=1)
    await any_store.rounds.extend_round(round_.id, closes_at=CLOSES, now=later)
    again = await any_store.rounds.due_invitations(now=later, limit=10)
    assert [item.participant.id for item in again] == [ben.id]  # Ana and Chloé were invited
    assert await any_store.rounds.due_reminders(now=CLOSES - timedelta(hours=1), limit=9) == []
