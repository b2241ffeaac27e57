"""The storage contract: the same cases against the in-memory store, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from storage.database import Store
from storage.memory import InMemoryStore
from surveys.definition import Survey, load_survey
from surveys.errors import ConflictError, NotFoundError, RosterError
from surveys.records import (
    AnswerChange,
    Audience,
    Delegation,
    Participant,
    ParticipantData,
    ResponseState,
    ResponseStatus,
    Role,
    Round,
)

AnyStore = Store | InMemoryStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPENS = T0
CLOSES = T0 + timedelta(days=14)


def make_survey(version: str = "1", *, title: str = "Route alignment") -> Survey:
    return load_survey(
        {
            "id": "route_alignment",
            "version": version,
            "title": {"en": title, "fr": "Alignement"},
            "default_language": "en",
            "languages": ["en", "fr"],
            "choice_lists": {
                "frameworks": [
                    {"value": "gcr", "label": {"en": "GCR", "fr": "PMR"}},
                    {"value": "gcm", "label": {"en": "GCM", "fr": "PMM"}},
                ]
            },
            "questions": [
                {"id": "aligned", "type": "yes_no", "label": {"en": "Aligned?", "fr": "Aligné ?"}},
                {
                    "id": "frameworks",
                    "type": "multiple_choice",
                    "choices": "frameworks",
                    "label": {"en": "Which?", "fr": "Lesquels ?"},
                },
                {"id": "score", "type": "scale", "label": {"en": "Score", "fr": "Note"}},
                {"id": "share", "type": "decimal", "label": {"en": "Share", "fr": "Part"}},
                {"id": "why", "type": "text", "label": {"en": "Why?", "fr": "Pourquoi ?"}},
            ],
        }
    )


DELEGATIONS = [
    Delegation("SEN", "Senegal", "African States"),
    Delegation("FRA", "France", "Western European and other States"),
    Delegation("MEX", "Mexico", "Latin American and Caribbean States"),
]


def person(
    name: str,
    email: str,
    delegation: str | None,
    *,
    role: Role = Role.DELEGATE,
    slack: str | None = None,
    tags: tuple[str, ...] = (),
    language: str = "en",
) -> ParticipantData:
    return ParticipantData(
        name=name,
        email=email,
        role=role,
        delegation=delegation,
        language=language,
        timezone="Europe/Paris",
        slack_user_id=slack,
        tags=tags,
    )


PEOPLE = [
    person("Zoé Martin", "zoe.martin@diplomatie.gouv.fr", "FRA", slack="U0FRA2", tags=("focal",)),
    person("Awa Diop", "Awa.Diop@senegal.example", "SEN", slack="U0SEN1", language="fr"),
    person("Luis Pérez", "luis@sre.example", "MEX", tags=("Sahel", "focal")),
    person("Anne Leroy", "anne.leroy@diplomatie.gouv.fr", "FRA"),
    person("Olga Org", "olga@unhcr.example", None, role=Role.ORGANISER, slack="U0ORG"),
]


async def seed(store: AnyStore) -> dict[str, Participant]:
    await store.roster.import_roster(DELEGATIONS, PEOPLE)
    return {p.email: p for p in await store.roster.list_participants()}


async def start_round(
    store: AnyStore, people: Sequence[Participant], *, audience: Audience | None = None
) -> Round:
    version = await store.surveys.save_version(make_survey(), now=T0)
    return await store.rounds.create_round(
        survey_version_id=version.id,
        audience=audience or Audience("all"),
        opens_at=OPENS,
        closes_at=CLOSES,
        participant_ids=[p.id for p in people],
        now=T0,
    )


def names(participants: Sequence[Participant]) -> list[str]:
    return [p.name for p in participants]


# -- surveys ---------------------------------------------------------------------------------


async def test_save_version_stores_the_definition(any_store: AnyStore) -> None:
    survey = make_survey()
    saved = await any_store.surveys.save_version(survey, now=T0)

    assert saved.created
    assert (saved.survey_id, saved.version) == ("route_alignment", "1")
    assert saved.content_hash == survey.content_hash()
    assert saved.definition == survey
    assert saved.created_at == T0
    assert saved.created_at.tzinfo is not None
    assert await any_store.surveys.get_version(saved.id) == saved


async def test_saving_the_same_definition_again_returns_the_stored_version(
    any_store: AnyStore,
) -> None:
    first = await any_store.surveys.save_version(make_survey(), now=T0)
    again = await any_store.surveys.save_version(make_survey(), now=T0 + timedelta(hours=1))

    assert not again.created
    assert again.id == first.id
    assert again.created_at == T0
    assert len(await any_store.surveys.list_versions()) == 1


async def test_latest_version_is_the_newest_stored(any_store: AnyStore) -> None:
    first = await any_store.surveys.save_version(make_survey("1"), now=T0)
    second = await any_store.surveys.save_version(make_survey("2", title="Route v2"), now=T0)
    # Re-importing the first definition does not make it the latest.
    await any_store.surveys.save_version(make_survey("1"), now=T0)

    latest = await any_store.surveys.latest_version("route_alignment")
    assert latest.id == second.id != first.id
    assert latest.definition.title_in("en") == "Route v2"
    assert [v.id for v in await any_store.surveys.list_versions("route_alignment")] == [
        first.id,
        second.id,
    ]
    assert await any_store.surveys.list_versions("other") == []


async def test_missing_surveys_and_versions_are_not_found(any_store: AnyStore) -> None:
    with pytest.raises(NotFoundError) as missing_survey:
        await any_store.surveys.latest_version("nope")
    assert (missing_survey.value.kind, missing_survey.value.key) == ("survey", "nope")
    with pytest.raises(NotFoundError) as missing_version:
        await any_store.surveys.get_version(404)
    assert (missing_version.value.kind, missing_version.value.key) == ("survey version", 404)


# -- roster ----------------------------------------------------------------------------------


async def test_import_roster_creates_then_reimport_changes_nothing(any_store: AnyStore) -> None:
    first = await any_store.roster.import_roster(DELEGATIONS, PEOPLE)
    assert (first.delegations_created, first.delegations_updated) == (3, 0)
    assert (
        first.participants_created,
        first.participants_updated,
        first.participants_unchanged,
    ) == (5, 0, 0)
    before = await any_store.roster.list_participants()

    again = await any_store.roster.import_roster(DELEGATIONS, PEOPLE)

    assert (again.delegations_created, again.delegations_updated) == (0, 0)
    assert (
        again.participants_created,
        again.participants_updated,
        again.participants_unchanged,
    ) == (0, 0, 5)
    assert await any_store.roster.list_participants() == before


async def test_import_roster_stores_every_field(any_store: AnyStore) -> None:
    people = await seed(any_store)

    awa = people["awa.diop@senegal.example"]
    assert awa == Participant(
        id=awa.id,
        name="Awa Diop",
        email="awa.diop@senegal.example",
        role=Role.DELEGATE,
        delegation="SEN",
        language="fr",
        timezone="Europe/Paris",
        slack_user_id="U0SEN1",
        tags=(),
    )
    assert people["luis@sre.example"].tags == ("Sahel", "focal")
    assert people["olga@unhcr.example"].delegation is None
    assert await any_store.roster.get_participant(awa.id) == awa
    assert await any_store.roster.list_delegations() == sorted(DELEGATIONS, key=lambda d: d.code)


async def test_import_roster_updates_by_code_and_by_email_ignoring_case(
    any_store: AnyStore,
) -> None:
    people = await seed(any_store)
    renamed = [Delegation("SEN", "République du Sénégal", "African States"), *DELEGATIONS[1:]]
    changed = [
        person("Awa Diop-Sall", "AWA.DIOP@SENEGAL.EXAMPLE", "SEN", slack="U0SEN1", language="fr"),
        *PEOPLE[:1],
        *PEOPLE[2:],
        person("Kofi New", "kofi@ghana.example", "SEN"),
    ]

    result = await any_store.roster.import_roster(renamed, changed)

    assert (result.delegations_created, result.delegations_updated) == (0, 1)
    assert (
        result.participants_created,
        result.participants_updated,
        result.participants_unchanged,
    ) == (1, 1, 4)
    after = {p.email: p for p in await any_store.roster.list_participants()}
    assert len(after) == 6
    assert after["awa.diop@senegal.example"].name == "Awa Diop-Sall"
    assert after["awa.diop@senegal.example"].id == people["awa.diop@senegal.example"].id
    delegations = {d.code: d for d in await any_store.roster.list_delegations()}
    assert delegations["SEN"].name == "République du Sénégal"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Zoé Martin-Roux"),
        ("role", Role.ORGANISER),
        ("delegation", "SEN"),
        ("language", "es"),
        ("timezone", "America/New_York"),
        ("tags", ("focal", "asylum")),
        ("slack_user_id", "U0FRA9"),
    ],
)
async def test_any_changed_field_counts_as_updated(
    any_store: AnyStore, field: str, value: object
) -> None:
    await seed(any_store)
    zoe = PEOPLE[0]
    changed = ParticipantData(**{**zoe.__dict__, field: value})  # type: ignore[arg-type]

    result = await any_store.roster.import_roster([], [changed, *PEOPLE[1:]])

    assert (result.participants_updated, result.participants_unchanged) == (1, 4)
    stored = {p.email: p for p in await any_store.roster.list_participants()}[zoe.email]
    assert getattr(stored, field) == value


async def test_slack_ids_become_identities_and_follow_changes(any_store: AnyStore) -> None:
    people = await seed(any_store)
    zoe = people["zoe.martin@diplomatie.gouv.fr"]
    assert await any_store.roster.find_by_identity("slack", "U0FRA2") == zoe
    assert await any_store.roster.find_by_identity("telegram", "U0FRA2") is None

    moved = person("Zoé Martin", zoe.email, "FRA", slack="U0FRA7", tags=("focal",))
    await any_store.roster.import_roster([], [moved])

    assert await any_store.roster.find_by_identity("slack", "U0FRA2") is None
    found = await any_store.roster.find_by_identity("slack", "U0FRA7")
    assert found is not None
    assert (found.id, found.slack_user_id) == (zoe.id, "U0FRA7")


async def test_a_roster_row_without_slack_id_keeps_the_linked_one(any_store: AnyStore) -> None:
    people = await seed(any_store)
    zoe = people["zoe.martin@diplomatie.gouv.fr"]
    without = person("Zoé Martin", zoe.email, "FRA", tags=("focal",))

    result = await any_store.roster.import_roster([], [without])

    assert result.participants_unchanged == 1
    assert (await any_store.roster.get_participant(zoe.id)).slack_user_id == "U0FRA2"


async def test_two_people_can_swap_slack_ids_in_one_import(any_store: AnyStore) -> None:
    people = await seed(any_store)
    zoe, awa = PEOPLE[0], PEOPLE[1]
    swapped = [
        ParticipantData(**{**zoe.__dict__, "slack_user_id": "U0SEN1"}),
        ParticipantData(**{**awa.__dict__, "slack_user_id": "U0FRA2"}),
    ]

    result = await any_store.roster.import_roster([], swapped)

    assert result.participants_updated == 2
    by_slack = await any_store.roster.find_by_identity("slack", "U0SEN1")
    assert by_slack is not None
    assert by_slack.id == people["zoe.martin@diplomatie.gouv.fr"].id


async def test_a_slack_id_held_by_someone_else_rejects_the_whole_import(
    any_store: AnyStore,
) -> None:
    await seed(any_store)
    before = await any_store.roster.list_participants()
    thief = person("New Person", "new@france.example", "FRA", slack="U0SEN1")
    renamed = Delegation("FRA", "French Republic", "Western European and other States")

    with pytest.raises(RosterError, match="U0SEN1"):
        await any_store.roster.import_roster([renamed], [thief])

    assert await any_store.roster.list_participants() == before
    assert {d.name for d in await any_store.roster.list_delegations()} == {
        d.name for d in DELEGATIONS
    }


@pytest.mark.parametrize(
    ("delegations", "people", "message"),
    [
        (DELEGATIONS, [*PEOPLE, person("Lost", "lost@x.example", "XXX")], "unknown delegation"),
        (DELEGATIONS, [*PEOPLE, person("Twin", "ZOE.martin@diplomatie.gouv.fr", "FRA")], "twice"),
        ([*DELEGATIONS, Delegation("FRA", "France bis")], PEOPLE, "appears twice"),
        (DELEGATIONS, [*PEOPLE, person("Dup", "d@x.example", "FRA", slack="U0ORG")], "U0ORG"),
    ],
    ids=["unknown-delegation", "duplicate-email", "duplicate-code", "duplicate-slack"],
)
async def test_a_bad_roster_imports_nothing(
    any_store: AnyStore,
    delegations: list[Delegation],
    people: list[ParticipantData],
    message: str,
) -> None:
    with pytest.raises(RosterError, match=message):
        await any_store.roster.import_roster(delegations, people)

    assert await any_store.roster.list_delegations() == []
    assert await any_store.roster.list_participants() == []


async def test_link_identity_and_find_by_it(any_store: AnyStore) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    luis = people["luis@sre.example"]

    await any_store.roster.link_identity(awa.id, "telegram", "777001")

    found = await any_store.roster.find_by_identity("telegram", "777001")
    assert found is not None
    assert (found.id, found.telegram_user_id, found.slack_user_id) == (awa.id, "777001", "U0SEN1")

    # A new Telegram account replaces the old one...
    await any_store.roster.link_identity(awa.id, "telegram", "777002")
    assert await any_store.roster.find_by_identity("telegram", "777001") is None
    # ...and the latest link of an account wins.
    await any_store.roster.link_identity(luis.id, "telegram", "777002")
    assert (await any_store.roster.get_participant(awa.id)).telegram_user_id is None
    assert (await any_store.roster.get_participant(luis.id)).telegram_user_id == "777002"

    # Re-importing the roster keeps Telegram links.
    await any_store.roster.import_roster(DELEGATIONS, PEOPLE)
    assert (await any_store.roster.get_participant(luis.id)).telegram_user_id == "777002"


async def test_missing_participants_are_not_found(any_store: AnyStore) -> None:
    with pytest.raises(NotFoundError) as missing:
        await any_store.roster.get_participant(404)
    assert (missing.value.kind, missing.value.key) == ("participant", 404)
    with pytest.raises(NotFoundError):
        await any_store.roster.link_identity(404, "telegram", "1")


async def test_participants_are_listed_by_delegation_then_name(any_store: AnyStore) -> None:
    await seed(any_store)
    assert names(await any_store.roster.list_participants()) == [
        "Anne Leroy",
        "Zoé Martin",
        "Luis Pérez",
        "Awa Diop",
        "Olga Org",  # no delegation: last
    ]


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience("all"), ["Anne Leroy", "Zoé Martin", "Luis Pérez", "Awa Diop"]),
        (Audience("region", ("african states",)), ["Awa Diop"]),
        (Audience("region", ("Western European and other States",)), ["Anne Leroy", "Zoé Martin"]),
        (Audience("region", ("Asia-Pacific States",)), []),
        (Audience("tag", ("focal",)), ["Zoé Martin", "Luis Pérez"]),
        (Audience("tag", ("sahel",)), ["Luis Pérez"]),
        (Audience("delegations", ("SEN", "FRA")), ["Anne Leroy", "Zoé Martin", "Awa Diop"]),
        (Audience("delegations", ("mex",)), ["Luis Pérez"]),
        (Audience("delegations", ()), []),
    ],
    ids=str,
)
async def test_audience_members_are_delegates_only(
    any_store: AnyStore, audience: Audience, expected: list[str]
) -> None:
    await seed(any_store)
    assert names(await any_store.roster.audience_members(audience)) == expected


# -- rounds ----------------------------------------------------------------------------------


async def test_create_round_expects_a_response_from_each_participant(
    any_store: AnyStore,
) -> None:
    people = await seed(any_store)
    invited = [people["awa.diop@senegal.example"], people["zoe.martin@diplomatie.gouv.fr"]]
    version = await any_store.surveys.save_version(make_survey(), now=T0)

    round_ = await any_store.rounds.create_round(
        survey_version_id=version.id,
        audience=Audience("delegations", ("SEN", "FRA")),
        opens_at=OPENS,
        closes_at=CLOSES,
        participant_ids=[p.id for p in invited],
        now=T0,
    )

    assert round_.survey_id == "route_alignment"
    assert round_.survey_version_id == version.id
    assert round_.audience == Audience("delegations", ("SEN", "FRA"))
    assert (round_.opens_at, round_.closes_at, round_.created_at) == (OPENS, CLOSES, T0)
    assert round_.closed_at is None
    assert await any_store.rounds.get_round(round_.id) == round_
    assert await any_store.rounds.list_rounds() == [round_]
    counts = await any_store.rounds.counts(round_.id)
    assert counts == {
        ResponseStatus.NOT_STARTED: 2,
        ResponseStatus.IN_PROGRESS: 0,
        ResponseStatus.SUBMITTED: 0,
        ResponseStatus.PARTIAL: 0,
    }
    for participant in invited:
        response = await any_store.responses.get_response(round_.id, participant.id)
        assert response.status is ResponseStatus.NOT_STARTED
        assert response.state == ResponseState()
        assert (response.started_at, response.submitted_at, response.updated_at) == (
            None,
            None,
            T0,
        )


@pytest.mark.parametrize(
    "audience",
    [
        Audience("all"),
        Audience("region", ("Latin American and Caribbean States",)),
        Audience("tag", ("focal",)),
        Audience("delegations", ("SEN",)),
    ],
    ids=str,
)
async def test_round_audience_round_trips(any_store: AnyStore, audience: Audience) -> None:
    people = await seed(any_store)
    round_ = await start_round(any_store, list(people.values())[:1], audience=audience)
    assert (await any_store.rounds.get_round(round_.id)).audience == audience


async def test_round_times_come_back_as_utc(any_store: AnyStore) -> None:
    paris = timezone(timedelta(hours=1))
    people = await seed(any_store)
    version = await any_store.surveys.save_version(make_survey(), now=T0)
    round_ = await any_store.rounds.create_round(
        survey_version_id=version.id,
        audience=Audience("all"),
        opens_at=datetime(2026, 3, 2, 10, 0, tzinfo=paris),
        closes_at=datetime(2026, 3, 16, 18, 30, tzinfo=paris),
        participant_ids=[p.id for p in people.values()],
        now=T0,
    )
    stored = await any_store.rounds.get_round(round_.id)
    assert stored.opens_at == T0
    assert stored.opens_at.utcoffset() == timedelta(0)
    assert stored.closes_at == datetime(2026, 3, 16, 17, 30, tzinfo=UTC)


async def test_create_round_is_all_or_nothing(any_store: AnyStore) -> None:
    people = await seed(any_store)
    version = await any_store.surveys.save_version(make_survey(), now=T0)
    known = [p.id for p in people.values()]

    with pytest.raises(NotFoundError) as missing:
        await any_store.rounds.create_round(
            survey_version_id=version.id,
            audience=Audience("all"),
            opens_at=OPENS,
            closes_at=CLOSES,
            participant_ids=[*known, 404],
            now=T0,
        )
    assert (missing.value.kind, missing.value.key) == ("participant", 404)
    with pytest.raises(NotFoundError) as no_version:
        await any_store.rounds.create_round(
            survey_version_id=404,
            audience=Audience("all"),
            opens_at=OPENS,
            closes_at=CLOSES,
            participant_ids=known,
            now=T0,
        )
    assert no_version.value.kind == "survey version"
    assert await any_store.rounds.list_rounds() == []


async def test_missing_rounds_are_not_found(any_store: AnyStore) -> None:
    with pytest.raises(NotFoundError) as missing:
        await any_store.rounds.get_round(404)
    assert (missing.value.kind, missing.value.key) == ("round", 404)
    with pytest.raises(NotFoundError):
        await any_store.rounds.status(404)
    with pytest.raises(NotFoundError):
        await any_store.rounds.counts(404)
    with pytest.raises(NotFoundError):
        await anext(aiter(any_store.responses.export_rows(404)))


async def test_a_round_without_participants_has_empty_status(any_store: AnyStore) -> None:
    round_ = await start_round(any_store, [])
    assert await any_store.rounds.status(round_.id) == []
    assert set((await any_store.rounds.counts(round_.id)).values()) == {0}


# -- responses -------------------------------------------------------------------------------


async def answer(
    store: AnyStore,
    round_id: int,
    participant_id: int,
    changes: Sequence[AnswerChange],
    *,
    current: str | None,
    status: ResponseStatus = ResponseStatus.IN_PROGRESS,
    editing: bool = False,
    now: datetime,
) -> None:
    response = await store.responses.get_response(round_id, participant_id)
    answers = dict(response.state.answers)
    for change in changes:
        if change.reason == "cleared":
            answers.pop(change.question_id, None)
        else:
            answers[change.question_id] = change.value
    state = ResponseState(answers=answers, current=current, editing=editing, started=True)
    await store.responses.save_state(
        response.id, version=response.version, state=state, changes=changes, status=status, now=now
    )


async def test_save_state_stores_answers_and_history(any_store: AnyStore) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    response = await any_store.responses.get_response(round_.id, awa.id)
    t1, t2 = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    changes = [
        AnswerChange("aligned", "yes", t1),
        AnswerChange("frameworks", ["gcr", "gcm"], t1),
        AnswerChange("score", None, t1, reason="skipped"),
        AnswerChange("share", 0.25, t1),
    ]
    state = ResponseState(
        answers={c.question_id: c.value for c in changes}, current="why", started=True
    )

    saved = await any_store.responses.save_state(
        response.id,
        version=response.version,
        state=state,
        changes=changes,
        status=ResponseStatus.IN_PROGRESS,
        now=t1,
    )

    assert saved.id == response.id
    assert saved.status is ResponseStatus.IN_PROGRESS
    assert saved.state == state
    assert (saved.started_at, saved.submitted_at, saved.updated_at) == (t1, None, t1)
    assert await any_store.responses.get_response(round_.id, awa.id) == saved

    # Change one answer, clear another, edit from the summary.
    later = [
        AnswerChange("score", 4, t2, reason="changed"),
        AnswerChange("share", None, t2, "cleared"),
    ]
    await answer(any_store, round_.id, awa.id, later, current=None, editing=True, now=t2)

    again = await any_store.responses.get_response(round_.id, awa.id)
    assert again.state == ResponseState(
        answers={"aligned": "yes", "frameworks": ["gcr", "gcm"], "score": 4},
        current=None,
        editing=True,
        started=True,
    )
    assert (again.started_at, again.updated_at) == (t1, t2)
    assert await any_store.responses.history(response.id) == [*changes, *later]


async def test_answer_values_keep_their_types(any_store: AnyStore) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    values: dict[str, object] = {
        "aligned": "oui, « évidemment »",
        "frameworks": [],
        "score": 5,
        "share": 1.0,
        "why": "0",
    }
    changes = [AnswerChange(qid, value, T0) for qid, value in values.items()]  # type: ignore[arg-type]
    await answer(any_store, round_.id, awa.id, changes, current=None, now=T0)

    stored = (await any_store.responses.get_response(round_.id, awa.id)).state.answers
    assert stored == values
    assert [type(stored[qid]) for qid in values] == [str, list, int, float, str]


async def test_a_question_answered_then_cleared_in_one_save_is_gone(any_store: AnyStore) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    changes = [AnswerChange("why", "because", T0), AnswerChange("why", None, T0, "cleared")]

    await answer(any_store, round_.id, awa.id, changes, current="why", now=T0)

    response = await any_store.responses.get_response(round_.id, awa.id)
    assert response.state.answers == {}
    assert len(await any_store.responses.history(response.id)) == 2


async def test_submitted_at_is_when_the_response_became_submitted(any_store: AnyStore) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    t1, t2, t3, t4, t5 = (T0 + timedelta(minutes=n) for n in (1, 2, 3, 4, 5))
    submitted = ResponseStatus.SUBMITTED
    await answer(
        any_store, round_.id, awa.id, [AnswerChange("aligned", "no", t1)], current="why", now=t1
    )
    await answer(any_store, round_.id, awa.id, [], current=None, status=submitted, now=t2)

    first = await any_store.responses.get_response(round_.id, awa.id)
    assert first.status is submitted
    assert (first.started_at, first.submitted_at, first.updated_at) == (t1, t2, t2)

    # An edit after submitting keeps the response submitted, and its submission time.
    edit = [AnswerChange("aligned", "yes", t3, "changed")]
    await answer(any_store, round_.id, awa.id, edit, current=None, status=submitted, now=t3)
    edited = await any_store.responses.get_response(round_.id, awa.id)
    assert (edited.started_at, edited.submitted_at, edited.updated_at) == (t1, t2, t3)
    assert edited.state.answers == {"aligned": "yes"}

    # Reopened and submitted again: the new submission counts.
    reopened = ResponseStatus.IN_PROGRESS
    await answer(any_store, round_.id, awa.id, [], current="why", status=reopened, now=t4)
    assert (await any_store.responses.get_response(round_.id, awa.id)).submitted_at == t2
    await answer(any_store, round_.id, awa.id, [], current=None, status=submitted, now=t5)
    again = await any_store.responses.get_response(round_.id, awa.id)
    assert (again.started_at, again.submitted_at, again.updated_at) == (t1, t5, t5)


async def test_status_and_counts_follow_the_responses(any_store: AnyStore) -> None:
    people = await seed(any_store)
    delegates = await any_store.roster.audience_members(Audience("all"))
    round_ = await start_round(any_store, delegates)
    awa, luis = people["awa.diop@senegal.example"], people["luis@sre.example"]
    t1 = T0 + timedelta(hours=1)
    await answer(
        any_store,
        round_.id,
        awa.id,
        [AnswerChange("aligned", "yes", t1), AnswerChange("frameworks", None, t1, "skipped")],
        current="score",
        now=t1,
    )
    await answer(
        any_store,
        round_.id,
        luis.id,
        [AnswerChange(q, v, t1) for q, v in (("aligned", "no"), ("score", 2), ("why", "x"))],
        current=None,
        status=ResponseStatus.SUBMITTED,
        now=t1,
    )

    lines = await any_store.rounds.status(round_.id)

    assert [(line.participant.name, line.status, line.answered) for line in lines] == [
        ("Anne Leroy", ResponseStatus.NOT_STARTED, 0),
        ("Zoé Martin", ResponseStatus.NOT_STARTED, 0),
        ("Luis Pérez", ResponseStatus.SUBMITTED, 3),
        ("Awa Diop", ResponseStatus.IN_PROGRESS, 1),  # a skipped question is not answered
    ]
    assert lines[2].participant == luis
    assert lines[2].delegation == DELEGATIONS[2]
    assert (lines[3].started_at, lines[3].submitted_at, lines[3].updated_at) == (t1, None, t1)
    assert (lines[2].submitted_at, lines[0].started_at, lines[0].updated_at) == (t1, None, T0)
    assert await any_store.rounds.counts(round_.id) == {
        ResponseStatus.NOT_STARTED: 2,
        ResponseStatus.IN_PROGRESS: 1,
        ResponseStatus.SUBMITTED: 1,
        ResponseStatus.PARTIAL: 0,
    }


async def test_missing_responses_are_not_found(any_store: AnyStore) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    luis = people["luis@sre.example"]

    with pytest.raises(NotFoundError) as missing:
        await any_store.responses.get_response(round_.id, luis.id)
    assert (missing.value.kind, missing.value.key) == ("response", (round_.id, luis.id))
    with pytest.raises(NotFoundError):
        await any_store.responses.save_state(
            404,
            version=0,
            state=ResponseState(),
            changes=(),
            status=ResponseStatus.IN_PROGRESS,
            now=T0,
        )
    with pytest.raises(NotFoundError):
        await any_store.responses.history(404)
    assert (
        await any_store.responses.history(
            (await any_store.responses.get_response(round_.id, awa.id)).id
        )
        == []
    )


async def test_export_streams_every_response_in_participant_order(any_store: AnyStore) -> None:
    people = await seed(any_store)
    delegates = await any_store.roster.audience_members(Audience("all"))
    round_ = await start_round(any_store, delegates)
    other = await start_round(any_store, delegates)
    awa, zoe = people["awa.diop@senegal.example"], people["zoe.martin@diplomatie.gouv.fr"]
    await answer(
        any_store,
        round_.id,
        awa.id,
        [AnswerChange("aligned", "yes", T0), AnswerChange("frameworks", None, T0, "skipped")],
        current="score",
        now=T0,
    )
    await answer(
        any_store,
        round_.id,
        zoe.id,
        [AnswerChange("frameworks", ["gcm"], T0)],
        current=None,
        status=ResponseStatus.SUBMITTED,
        now=T0,
    )
    await answer(
        any_store, other.id, zoe.id, [AnswerChange("why", "other round", T0)], current=None, now=T0
    )

    rows = [row async for row in any_store.responses.export_rows(round_.id)]

    assert [row.participant.name for row in rows] == [
        "Anne Leroy",
        "Zoé Martin",
        "Luis Pérez",
        "Awa Diop",
    ]
    assert [row.answers for row in rows] == [
        {},
        {"frameworks": ["gcm"]},
        {},
        {"aligned": "yes", "frameworks": None},
    ]
    assert [row.status for row in rows] == [
        ResponseStatus.NOT_STARTED,
        ResponseStatus.SUBMITTED,
        ResponseStatus.NOT_STARTED,
        ResponseStatus.IN_PROGRESS,
    ]
    zoe_row = rows[1]
    assert zoe_row.participant == zoe
    assert zoe_row.delegation == DELEGATIONS[1]
    assert (zoe_row.started_at, zoe_row.submitted_at) == (T0, T0)
    assert zoe_row.response_id == (await any_store.responses.get_response(round_.id, zoe.id)).id


# -- audit -----------------------------------------------------------------------------------


async def test_audit_entries_are_listed_newest_first(any_store: AnyStore) -> None:
    for n in range(3):
        await any_store.audit.record(
            actor="olga@unhcr.example",
            action="round.create",
            target=f"round:{n}",
            details={"n": n, "audience": ["SEN", "FRA"], "note": "ça va"},
            now=T0 + timedelta(minutes=n),
        )

    entries = await any_store.audit.entries()
    assert [e.target for e in entries] == ["round:2", "round:1", "round:0"]
    assert entries[0].at == T0 + timedelta(minutes=2)
    assert entries[0].details == {"n": 2, "audience": ["SEN", "FRA"], "note": "ça va"}
    assert entries[0].actor == "olga@unhcr.example"
    assert entries[0].action == "round.create"
    assert [e.target for e in await any_store.audit.entries(limit=2)] == ["round:2", "round:1"]


async def test_audit_entries_are_filtered_by_round_time_and_actor(any_store: AnyStore) -> None:
    written = [
        ("olga@unhcr.example (slack)", "round 1", 0),
        ("Sofia_M", "round 12", 1),
        ("olga@unhcr.example (telegram)", "round 1", 2),
        ("100%sure", "roster", 3),
    ]
    for actor, target, minutes in written:
        await any_store.audit.record(
            actor=actor, action="x", target=target, details={}, now=T0 + timedelta(minutes=minutes)
        )

    async def found(**query: Any) -> list[tuple[str, str]]:
        return [(e.actor, e.target) for e in await any_store.audit.entries(**query)]

    assert await found(round_id=1) == [
        ("olga@unhcr.example (telegram)", "round 1"),
        ("olga@unhcr.example (slack)", "round 1"),
    ]  # "round 12" is another round
    assert await found(since=T0 + timedelta(minutes=2)) == [
        ("100%sure", "roster"),
        ("olga@unhcr.example (telegram)", "round 1"),
    ]
    assert await found(actor="OLGA@UNHCR") == await found(round_id=1)
    assert await found(actor="a_m") == [("Sofia_M", "round 12")]  # _ and % are not wildcards
    assert await found(actor="a%m") == []
    assert await found(actor="0%s") == [("100%sure", "roster")]
    assert await found(round_id=1, since=T0 + timedelta(minutes=1), actor="olga", limit=5) == [
        ("olga@unhcr.example (telegram)", "round 1")
    ]
    assert await found(round_id=1, limit=1) == [("olga@unhcr.example (telegram)", "round 1")]


# -- transactions and versions ---------------------------------------------------------------


async def test_a_transaction_commits_everything_or_nothing(any_store: AnyStore) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    response = await any_store.responses.get_response(round_.id, awa.id)
    state = ResponseState(answers={"aligned": "yes"}, current="frameworks", started=True)
    changes = [AnswerChange("aligned", "yes", T0)]

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with any_store.transaction() as tx:
            await tx.responses.save_state(
                response.id,
                version=response.version,
                state=state,
                changes=changes,
                status=ResponseStatus.IN_PROGRESS,
                now=T0,
            )
            await tx.audit.record(actor="a", action="x", target="t", details={}, now=T0)
            raise Abandoned

    assert await any_store.responses.get_response(round_.id, awa.id) == response
    assert await any_store.responses.history(response.id) == []
    assert await any_store.audit.entries() == []

    async with any_store.transaction() as tx:
        saved = await tx.responses.save_state(
            response.id,
            version=response.version,
            state=state,
            changes=changes,
            status=ResponseStatus.IN_PROGRESS,
            now=T0,
        )
        async with tx.transaction() as inner:  # joins the outer transaction
            await inner.audit.record(actor="a", action="x", target="t", details={}, now=T0)

    assert await any_store.responses.get_response(round_.id, awa.id) == saved
    assert saved.version == response.version + 1
    assert [entry.action for entry in await any_store.audit.entries()] == ["x"]


async def test_a_write_from_a_stale_version_is_refused(any_store: AnyStore) -> None:
    people = await seed(any_store)
    awa = people["awa.diop@senegal.example"]
    round_ = await start_round(any_store, [awa])
    read = await any_store.responses.get_response(round_.id, awa.id)
    first = ResponseState(answers={"aligned": "yes"}, current="frameworks", started=True)
    second = ResponseState(answers={"aligned": "no"}, current="frameworks", started=True)

    saved = await any_store.responses.save_state(
        read.id,
        version=read.version,
        state=first,
        changes=[AnswerChange("aligned", "yes", T0)],
        status=ResponseStatus.IN_PROGRESS,
        now=T0,
    )
    with pytest.raises(ConflictError) as conflict:
        await any_store.responses.save_state(
            read.id,
            version=read.version,  # what was read before the first write
            state=second,
            changes=[AnswerChange("aligned", "no", T0)],
            status=ResponseStatus.IN_PROGRESS,
            now=T0,
        )

    assert (conflict.value.kind, conflict.value.key) == ("response", read.id)
    assert await any_store.responses.get_response(round_.id, awa.id) == saved
    assert [c.value for c in await any_store.responses.history(read.id)] == ["yes"]
