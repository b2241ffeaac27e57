"""Organisers' use cases as every channel calls them: an audience that names nobody is
refused with a "did you mean", an export or digest is recorded before it is taken, and the
audit log reads back filtered. On the in-memory store and each SQL backend."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from surveys.definition import Survey, load_survey
from surveys.errors import (
    NotAllowedError,
    NotFoundError,
    OverlappingRoundError,
    RequestError,
    RoundError,
    TooFewBallotsError,
)
from surveys.membership import audience_problems
from surveys.records import Attribution, Audience, Delegation, Participant, ParticipantData, Role
from surveys.roster import Roster
from surveys.service import organising
from surveys.service.actors import Actor

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CLOSES = NOW + timedelta(days=10)
OLGA = Actor.command_line("olga")

DELEGATIONS = [
    Delegation("FRA", "France", "Western European and other States"),
    Delegation("DEU", "Germany", "Western European and other States"),
    Delegation("SEN", "Senegal", "African States"),
    Delegation("CIV", "Côte d'Ivoire", "African States"),
    Delegation("NER", "Niger", "African States"),
    Delegation("ATA", "Antarctica", "Nowhere"),  # a delegation without delegates
]
PEOPLE = [
    ParticipantData("Claire", "claire@fra.example", Role.DELEGATE, "FRA", tags=("rabat-process",)),
    ParticipantData("Jonas", "jonas@deu.example", Role.DELEGATE, "DEU", tags=("budapest-process",)),
    ParticipantData("Aminata", "aminata@sen.example", Role.DELEGATE, "SEN"),
    ParticipantData("Awa", "awa@civ.example", Role.DELEGATE, "CIV"),
    ParticipantData("Ibrahim", "ibrahim@ner.example", Role.DELEGATE, "NER"),
    ParticipantData("Olga", "olga@org.example", Role.ORGANISER, None, tags=("staff",)),
]
SURVEY: Survey = load_survey(
    {
        "id": "check",
        "version": "1",
        "title": {"en": "Check"},
        "default_language": "en",
        "languages": ["en"],
        "questions": [{"id": "q1", "type": "text", "label": {"en": "Q1?"}}],
    }
)


async def seeded(store: Any) -> Any:
    await organising.import_survey(store, OLGA, SURVEY, now=NOW)
    await organising.import_roster(store, OLGA, Roster(DELEGATIONS, PEOPLE), now=NOW)
    return store


def launch_request(audience: str, **fields: Any) -> organising.LaunchRequest:
    return organising.LaunchRequest("check", audience, closes=CLOSES, **fields)


@pytest.mark.parametrize(
    ("audience", "message"),
    [
        ("FRA,XXX", "audience FRA,XXX: no delegation XXX in the roster"),
        ("FRA,FRN", "no delegation FRN in the roster (did you mean FRA (France)?)"),
        ("GER", "no delegation GER in the roster (did you mean DEU (Germany)"),
        ("COT", "no delegation COT in the roster (did you mean CIV (Côte d'Ivoire)?)"),
        ("SEN,ATA", "delegation ATA has no delegate in the roster"),
        ("region:African", "no delegation is in region 'African' (did you mean 'African States'?)"),
        ("region:Afrcan States", "(did you mean 'African States'?)"),
        ("tag:rabat", "no participant carries tag 'rabat' (did you mean 'rabat-process'?)"),
        ("tag:nothing-like-it", "no participant carries tag 'nothing-like-it'"),
    ],
)
async def test_an_audience_naming_nobody_is_refused_with_what_it_may_mean(
    any_store: Any, audience: str, message: str
) -> None:
    store = await seeded(any_store)
    with pytest.raises(RoundError) as refused:
        await organising.launch(store, OLGA, launch_request(audience), now=NOW)
    assert message in str(refused.value)
    assert await store.rounds.list_rounds() == []  # nothing launched, not even to France
    assert [e.action for e in await store.audit.entries()] == ["roster.import", "survey.import"]


@pytest.mark.parametrize(
    ("audience", "delegates"),
    [
        ("fra, sen", 2),
        ("region:african states", 3),
        ("tag:RABAT-PROCESS", 1),
        ("all", 5),
    ],
)
async def test_an_audience_in_any_case_launches(
    any_store: Any, audience: str, delegates: int
) -> None:
    store = await seeded(any_store)
    launched = await organising.launch(store, OLGA, launch_request(audience), now=NOW)
    assert launched.participants == delegates


def test_every_unknown_part_is_named_once() -> None:
    people = [Participant(**vars(p), id=n) for n, p in enumerate(PEOPLE, start=1)]
    problems = audience_problems(Audience.parse("XXX,FRA,YYY"), DELEGATIONS, people)
    assert problems == ["no delegation XXX in the roster", "no delegation YYY in the roster"]
    assert audience_problems(Audience.parse("all"), DELEGATIONS, people) == []
    assert audience_problems(Audience.parse("tag:staff"), DELEGATIONS, people) == []


async def test_an_export_is_recorded_before_it_is_taken(any_store: Any) -> None:
    store = await seeded(any_store)
    launched = await organising.launch(
        store, OLGA, launch_request("FRA", attribution=Attribution.ANONYMOUS), now=NOW
    )
    round_id = launched.round.id
    # No ballot yet: fewer than the minimum group, so nothing leaves and nothing is recorded.
    with pytest.raises(TooFewBallotsError, match=r"ITINERA_MIN_GROUP \(1\)"):
        await organising.record_export(store, OLGA, round_id, format="csv", now=NOW, min_group=1)
    assert await store.audit.entries(limit=5) == [
        entry for entry in await store.audit.entries(limit=5) if entry.action != "export"
    ]
    taken = await organising.record_export(
        store, OLGA, round_id, format="csv", now=NOW, min_group=0
    )
    assert taken.attribution is Attribution.ANONYMOUS and taken.survey.id == "check"
    await organising.record_export(
        store, OLGA, round_id, format="md,html,png", now=NOW, taken_as="digest"
    )
    entries = await store.audit.entries(limit=2)
    assert [(e.action, e.actor, e.target, e.details) for e in entries] == [
        (
            "digest",
            "olga",
            f"round {round_id}",
            {"format": "md,html,png", "attribution": "anonymous", "via": "cli"},
        ),
        (
            "export",
            "olga",
            f"round {round_id}",
            {"format": "csv", "attribution": "anonymous", "via": "cli"},
        ),
    ]
    with pytest.raises(NotFoundError):
        await organising.record_export(store, OLGA, 999, format="csv", now=NOW)


async def test_a_delegate_may_neither_export_nor_read_the_audit_log(any_store: Any) -> None:
    store = await seeded(any_store)
    launched = await organising.launch(store, OLGA, launch_request("FRA"), now=NOW)
    claire = next(p for p in await store.roster.list_participants() if p.name == "Claire")
    delegate = Actor.of(claire, "slack")
    before = await store.audit.entries()
    with pytest.raises(NotAllowedError):
        await organising.record_export(store, delegate, launched.round.id, format="csv", now=NOW)
    with pytest.raises(NotAllowedError):
        await organising.audit_trail(store, delegate, organising.AuditQuery())
    assert await store.audit.entries() == before


async def test_the_audit_trail_filters_by_round_time_and_actor(any_store: Any) -> None:
    store = await seeded(any_store)
    first = await organising.launch(store, OLGA, launch_request("FRA"), now=NOW)
    later = NOW + timedelta(hours=2)
    sofia = Actor.command_line("sofia@org.example (slack)")
    second = await organising.launch(store, sofia, launch_request("SEN"), now=later)
    await organising.record_export(store, sofia, first.round.id, format="json", now=later)

    def shown(entries: list[Any]) -> list[tuple[str, str]]:
        return [(e.action, e.target) for e in entries]

    everything = await organising.audit_trail(store, OLGA, organising.AuditQuery())
    assert shown(everything)[:3] == [
        ("export", f"round {first.round.id}"),
        ("round.launch", f"round {second.round.id}"),
        ("round.launch", f"round {first.round.id}"),
    ]
    by_round = await organising.audit_trail(
        store, OLGA, organising.AuditQuery(round_id=first.round.id)
    )
    assert shown(by_round) == [
        ("export", f"round {first.round.id}"),
        ("round.launch", f"round {first.round.id}"),
    ]
    recent = await organising.audit_trail(
        store, OLGA, organising.AuditQuery(since=NOW + timedelta(hours=1))
    )
    assert len(recent) == 2 and all(e.actor.startswith("sofia") for e in recent)
    by_actor = await organising.audit_trail(store, OLGA, organising.AuditQuery(actor="SOFIA"))
    assert len(by_actor) == 2
    assert await organising.audit_trail(store, OLGA, organising.AuditQuery(actor="100%_x")) == []
    one = await organising.audit_trail(store, OLGA, organising.AuditQuery(limit=1))
    assert shown(one) == [("export", f"round {first.round.id}")]
    with pytest.raises(NotFoundError):
        await organising.audit_trail(store, OLGA, organising.AuditQuery(round_id=999))
    with pytest.raises(RequestError):
        await organising.audit_trail(store, OLGA, organising.AuditQuery(limit=0))


@pytest.mark.parametrize(
    "request_",
    [
        organising.LaunchRequest("check\udcff", "all", closes=CLOSES),
        organising.LaunchRequest("check", "tag:\udcff", closes=CLOSES),
        organising.LaunchRequest("check", "all", closes=CLOSES, tz="Europe/\ud800"),
        organising.LaunchRequest("check", "all", closes=CLOSES, remind="3d,\udc801d"),
    ],
)
async def test_text_that_is_not_utf8_is_refused_before_the_store_sees_it(
    any_store: Any, request_: organising.LaunchRequest
) -> None:
    store = await seeded(any_store)
    with pytest.raises(RequestError, match="is not valid text"):
        await organising.launch(store, OLGA, request_, now=NOW)
    with pytest.raises(RequestError, match="the actor is not valid text"):
        await organising.audit_trail(store, OLGA, organising.AuditQuery(actor="\udcff"))


async def test_a_round_id_no_store_can_hold_is_not_found(any_store: Any) -> None:
    store = await seeded(any_store)
    for round_id in (0, -1, 2**31, 10**20):
        with pytest.raises(NotFoundError):
            await organising.record_export(store, OLGA, round_id, format="csv", now=NOW)
        with pytest.raises(NotFoundError):
            await organising.close(store, OLGA, round_id, now=NOW)
        with pytest.raises(NotFoundError):
            await organising.status(store, OLGA, round_id)
        with pytest.raises(NotFoundError):
            await organising.audit_trail(store, OLGA, organising.AuditQuery(round_id=round_id))


# --- a second launch of the same survey ---------------------------------------------------------


async def test_a_second_launch_to_an_overlapping_audience_is_refused_naming_the_round(
    any_store: Any,
) -> None:
    store = await seeded(any_store)
    first = await organising.launch(store, OLGA, launch_request("region:African States"), now=NOW)
    with pytest.raises(OverlappingRoundError) as refused:
        await organising.launch(store, OLGA, launch_request("FRA,SEN,NER"), now=NOW)
    assert str(refused.value) == (
        f"round {first.round.id} of survey 'check' is not closed yet (it closes "
        f"{CLOSES:%Y-%m-%d %H:%M} UTC) and already asks 2 of these delegates in NER, SEN; "
        "add --again to launch another round anyway"
    )
    assert (refused.value.round_id, refused.value.delegations) == (first.round.id, ["NER", "SEN"])
    assert len(await store.rounds.list_rounds()) == 1

    again = await organising.launch(store, OLGA, launch_request("FRA,SEN,NER", again=True), now=NOW)
    assert again.participants == 3
    # An audience that shares nobody with the open round needs no --again.
    disjoint = await organising.launch(store, OLGA, launch_request("DEU"), now=NOW)
    assert disjoint.participants == 1


async def test_a_scheduled_round_counts_and_a_closed_one_does_not(any_store: Any) -> None:
    store = await seeded(any_store)
    later = NOW + timedelta(days=2)
    scheduled = await organising.launch(store, OLGA, launch_request("FRA", opens=later), now=NOW)
    with pytest.raises(RoundError, match=f"round {scheduled.round.id} of survey 'check'"):
        await organising.launch(store, OLGA, launch_request("all"), now=NOW)
    await organising.close(store, OLGA, scheduled.round.id, now=NOW + timedelta(hours=1))
    relaunched = await organising.launch(
        store, OLGA, launch_request("all"), now=NOW + timedelta(hours=2)
    )
    assert relaunched.participants == 5


async def test_stored_surveys_list_every_version_with_title_and_questions(any_store: Any) -> None:
    assert await organising.stored_surveys(any_store, OLGA) == []
    await organising.import_survey(any_store, OLGA, SURVEY, now=NOW)
    second = load_survey(
        {
            "id": "check",
            "version": "2",
            "title": {"en": "Check again", "fr": "Vérification"},
            "default_language": "en",
            "languages": ["en", "fr"],
            "questions": [
                {"id": "intro", "type": "note", "label": {"en": "Hello", "fr": "Bonjour"}},
                {"id": "q1", "type": "text", "label": {"en": "Q1?", "fr": "Q1 ?"}},
                {"id": "q2", "type": "yes_no", "label": {"en": "Q2?", "fr": "Q2 ?"}},
            ],
        }
    )
    later = NOW + timedelta(days=1)
    await organising.import_survey(any_store, OLGA, second, now=later)
    listed = await organising.stored_surveys(any_store, OLGA)
    assert [(s.version.survey_id, s.version.version, s.title, s.questions) for s in listed] == [
        ("check", "1", "Check", 1),
        ("check", "2", "Check again", 2),  # the note asks nothing
    ]
    assert [s.version.created_at for s in listed] == [NOW, later]
    in_french = await organising.stored_surveys(any_store, replace(OLGA, language="fr"))
    assert [s.title for s in in_french] == ["Check", "Vérification"]  # else the default


async def test_a_delegate_may_not_list_the_stored_surveys(any_store: Any) -> None:
    store = await seeded(any_store)
    claire = next(p for p in await store.roster.list_participants() if p.name == "Claire")
    with pytest.raises(NotAllowedError):
        await organising.stored_surveys(store, Actor.command_line("claire", claire))
