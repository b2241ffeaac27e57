"""Roles and region scope, checked once in the service layer: an organiser scoped to regions
launches, follows, closes, exports and reads the log only of their regions' delegations; a
delegate does none of it. On the in-memory store and each SQL backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.digest_cmd import digest_queries_for
from storage.memory import InMemoryStore
from storage.memory_digests import InMemoryDigestQueries
from surveys.definition import Survey, load_survey
from surveys.digest import DigestPlan
from surveys.errors import NotAllowedError, NotFoundError, OutOfScopeError, RosterError
from surveys.i18n import LANGUAGES
from surveys.organiser_replies import outside_scope_text
from surveys.records import Delegation, ParticipantData, Role
from surveys.reminders import OfficeHours
from surveys.roster import Roster, read_roster_csv
from surveys.service import organising, rights
from surveys.service.actors import Actor

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CLOSES = NOW + timedelta(days=10)
OLGA = Actor.command_line("olga")  # not on the roster: a full organiser
AFRICA = "African States"
WEOG = "Western European and other States"

DELEGATIONS = [
    Delegation("FRA", "France", WEOG),
    Delegation("DEU", "Germany", WEOG),
    Delegation("SEN", "Senegal", AFRICA),
    Delegation("NER", "Niger", AFRICA),
]
PEOPLE = [
    ParticipantData("Claire", "claire@fra.example", Role.DELEGATE, "FRA"),
    ParticipantData("Jonas", "jonas@deu.example", Role.DELEGATE, "DEU"),
    ParticipantData("Aminata", "aminata@sen.example", Role.DELEGATE, "SEN"),
    ParticipantData("Ibrahim", "ibrahim@ner.example", Role.DELEGATE, "NER"),
    ParticipantData("Kofi", "kofi@org.example", Role.ORGANISER, None, regions=(AFRICA,)),
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
HOURS = OfficeHours.parse()


async def seeded(store: Any) -> dict[str, int]:
    """The roster, a round to all (``all``), one to France alone (``fra``), one to Africa."""
    await organising.import_survey(store, OLGA, SURVEY, now=NOW)
    await organising.import_roster(store, OLGA, Roster(DELEGATIONS, PEOPLE), now=NOW)
    rounds = {}
    for name, audience in (("all", "all"), ("fra", "FRA"), ("africa", f"region:{AFRICA}")):
        request = organising.LaunchRequest("check", audience, closes=CLOSES, again=True)
        rounds[name] = (await organising.launch(store, OLGA, request, now=NOW)).round.id
    return rounds


async def kofi(store: Any, channel: str = "slack") -> Actor:
    found = [p for p in await store.roster.list_participants() if p.email.startswith("kofi")]
    return Actor.of(found[0], channel)


async def delegate(store: Any, email: str) -> Actor:
    found = [p for p in await store.roster.list_participants() if p.email == email]
    return Actor.of(found[0], "telegram")


def test_the_roster_reads_an_organisers_regions_and_refuses_them_on_a_delegate() -> None:
    roster = read_roster_csv(
        "delegation,region,name,email,role,regions\n"
        "SEN,African States,Aminata,aminata@sen.example,delegate,\n"
        ",,Kofi,kofi@org.example,organiser,African States; Asia-Pacific States\n"
    )
    assert roster.participants[1].regions == (AFRICA, "Asia-Pacific States")
    assert roster.participants[0].regions == ()
    with pytest.raises(RosterError) as refused:
        read_roster_csv(
            "delegation,region,name,email,role,regions\n"
            "SEN,African States,Aminata,aminata@sen.example,delegate,African States\n"
        )
    assert "line 2: regions are for organisers" in str(refused.value)


async def test_a_region_no_delegation_is_in_is_refused_with_a_guess(any_store: Any) -> None:
    typo = ParticipantData("Kofi", "kofi@org.example", Role.ORGANISER, None, regions=("Afrcan",))
    with pytest.raises(RosterError) as refused:
        await organising.import_roster(any_store, OLGA, Roster(DELEGATIONS, [typo]), now=NOW)
    assert "kofi@org.example: no delegation is in region 'Afrcan'" in str(refused.value)
    assert "(did you mean 'African States'?)" in str(refused.value)
    assert await any_store.roster.list_participants() == []


async def test_the_regions_are_stored_and_make_the_actor_scoped(any_store: Any) -> None:
    await seeded(any_store)
    actor = await kofi(any_store)
    assert actor.regions == (AFRICA,) and actor.scoped
    # The CLI acting as Kofi's email is scoped the same way.
    cli = Actor.command_line("kofi@org.example", actor.participant)
    assert cli.regions == (AFRICA,)
    assert not OLGA.scoped


async def test_a_scoped_launch_outside_the_regions_is_refused_naming_what_is_outside(
    any_store: Any,
) -> None:
    rounds = await seeded(any_store)
    actor = await kofi(any_store)
    for audience in ("FRA,SEN", "all"):
        with pytest.raises(OutOfScopeError) as refused:
            request = organising.LaunchRequest("check", audience, closes=CLOSES, again=True)
            await organising.launch(any_store, actor, request, now=NOW)
        assert f"FRA (France, {WEOG})" in str(refused.value)
        assert "SEN" not in ",".join(refused.value.outside)
    assert len(await any_store.rounds.list_rounds()) == len(rounds)  # nothing launched
    request = organising.LaunchRequest("check", "SEN,NER", closes=CLOSES, again=True)
    launched = await organising.launch(any_store, actor, request, now=NOW)
    assert launched.delegations == 2


async def test_status_shows_only_the_regions_delegations(any_store: Any) -> None:
    rounds = await seeded(any_store)
    actor = await kofi(any_store)
    report = await organising.status(any_store, actor, rounds["all"])
    assert [line.delegation.code for line in report.lines if line.delegation] == ["NER", "SEN"]
    assert report.total == 2
    full = await organising.status(any_store, OLGA, rounds["all"])
    assert full.total == 4
    with pytest.raises(OutOfScopeError) as refused:
        await organising.status(any_store, actor, rounds["fra"])
    assert refused.value.round_id == rounds["fra"]
    with pytest.raises(OutOfScopeError):
        await organising.reminder_plan(any_store, actor, rounds["fra"], now=NOW, office_hours=HOURS)
    plan = await organising.reminder_plan(
        any_store, actor, rounds["all"], now=NOW, office_hours=HOURS
    )
    assert {row.participant.delegation for row in plan.rows} == {"SEN", "NER"}


async def test_the_overview_lists_only_rounds_of_the_regions(any_store: Any) -> None:
    rounds = await seeded(any_store)
    actor = await kofi(any_store)
    listed = await organising.overview(any_store, actor, now=NOW)
    assert [(s.round.id, s.total) for s in listed] == [(rounds["all"], 2), (rounds["africa"], 2)]
    assert len(await organising.overview(any_store, OLGA, now=NOW)) == 3


async def test_closing_or_extending_a_round_reaching_outside_is_refused(any_store: Any) -> None:
    rounds = await seeded(any_store)
    actor = await kofi(any_store)
    # A round the organiser follows names what lies outside; one of other regions only
    # itself (as an unknown round would be said).
    for round_id, outside in ((rounds["all"], f"FRA (France, {WEOG})"), (rounds["fra"], "round")):
        with pytest.raises(OutOfScopeError) as refused:
            await organising.close(any_store, actor, round_id, now=NOW)
        assert refused.value.outside[-1].startswith(outside)
        with pytest.raises(OutOfScopeError):
            request = organising.ExtendRequest(round_id, closes=CLOSES + timedelta(days=1))
            await organising.extend(any_store, actor, request, now=NOW, office_hours=HOURS)
    assert (await any_store.rounds.get_round(rounds["all"])).closed_at is None
    assert (await any_store.rounds.get_round(rounds["all"])).closes_at == CLOSES
    closed = await organising.close(any_store, actor, rounds["africa"], now=NOW)
    assert closed.round.closed_at == NOW


async def test_an_export_takes_only_the_regions_rows(any_store: Any) -> None:
    rounds = await seeded(any_store)
    actor = await kofi(any_store)
    taken = await organising.record_export(any_store, actor, rounds["all"], format="csv", now=NOW)
    assert taken.delegations == {"SEN", "NER"}
    rows = [
        row
        async for row in any_store.responses.export_rows(
            rounds["all"], delegations=taken.delegations
        )
    ]
    assert sorted(row.participant.delegation for row in rows) == ["NER", "SEN"]
    assert (await any_store.audit.entries(limit=1))[0].details["delegations"] == ["NER", "SEN"]
    full = await organising.record_export(any_store, OLGA, rounds["all"], format="csv", now=NOW)
    assert full.delegations is None
    with pytest.raises(OutOfScopeError):
        await organising.record_export(any_store, actor, rounds["fra"], format="csv", now=NOW)
    with pytest.raises(OutOfScopeError):
        await organising.record_export(
            any_store, actor, rounds["fra"], format="md", now=NOW, taken_as="digest"
        )


async def test_a_scoped_digest_counts_only_the_regions(any_store: Any) -> None:
    rounds = await seeded(any_store)
    actor = await kofi(any_store)
    taken = await organising.record_export(
        any_store, actor, rounds["all"], format="md", now=NOW, taken_as="digest"
    )
    queries = (
        InMemoryDigestQueries(any_store)
        if isinstance(any_store, InMemoryStore)
        else digest_queries_for(any_store)
    )
    plan = DigestPlan.of(SURVEY)
    data = await queries.digest_data(
        rounds["all"], plan=plan, since=None, delegations=taken.delegations
    )
    assert {count.delegation for count in data.statuses} == {"SEN", "NER"}
    assert {person.delegation for person in data.pending} == {"SEN", "NER"}
    whole = await queries.digest_data(rounds["all"], plan=plan, since=None)
    assert {count.delegation for count in whole.statuses} == {"FRA", "DEU", "SEN", "NER"}


async def test_a_scoped_roster_import_stays_in_the_regions(any_store: Any) -> None:
    await seeded(any_store)
    actor = await kofi(any_store)
    moved = ParticipantData("Claire", "claire@fra.example", Role.DELEGATE, "FRA", language="fr")
    with pytest.raises(OutOfScopeError) as refused:
        await organising.import_roster(any_store, actor, Roster([], [moved]), now=NOW)
    assert f"FRA (France, {WEOG})" in str(refused.value)
    boss = ParticipantData("Kofi", "kofi@org.example", Role.ORGANISER, None)
    with pytest.raises(OutOfScopeError) as refused:
        await organising.import_roster(any_store, actor, Roster([], [boss]), now=NOW)
    assert "organiser kofi@org.example" in str(refused.value)
    ours = ParticipantData("Aminata", "aminata@sen.example", Role.DELEGATE, "SEN", language="fr")
    result = await organising.import_roster(any_store, actor, Roster([], [ours]), now=NOW)
    assert result.participants_updated == 1


async def test_the_audit_log_of_a_scoped_organiser_is_of_their_rounds(any_store: Any) -> None:
    rounds = await seeded(any_store)
    actor = await kofi(any_store)
    entries = await organising.audit_trail(any_store, actor, organising.AuditQuery())
    targets = {entry.target for entry in entries}
    assert targets == {f"round {rounds['all']}", f"round {rounds['africa']}"}
    everything = await organising.audit_trail(any_store, OLGA, organising.AuditQuery())
    assert f"round {rounds['fra']}" in {entry.target for entry in everything}
    with pytest.raises(OutOfScopeError):
        await organising.audit_trail(
            any_store, actor, organising.AuditQuery(round_id=rounds["fra"])
        )


async def test_a_delegate_may_do_no_organisers_use_case(any_store: Any) -> None:
    rounds = await seeded(any_store)
    claire = await delegate(any_store, "claire@fra.example")
    round_id = rounds["fra"]
    calls = [
        organising.status(any_store, claire, round_id),
        organising.overview(any_store, claire, now=NOW),
        organising.close(any_store, claire, round_id, now=NOW),
        organising.extend(
            any_store,
            claire,
            organising.ExtendRequest(round_id, closes=CLOSES),
            now=NOW,
            office_hours=HOURS,
        ),
        organising.launch(
            any_store,
            claire,
            organising.LaunchRequest("check", "FRA", closes=CLOSES, again=True),
            now=NOW,
        ),
        organising.record_export(any_store, claire, round_id, format="csv", now=NOW),
        organising.import_roster(any_store, claire, Roster([], []), now=NOW),
        organising.audit_trail(any_store, claire, organising.AuditQuery()),
        organising.reminder_plan(any_store, claire, round_id, now=NOW, office_hours=HOURS),
    ]
    for call in calls:
        with pytest.raises(NotAllowedError) as refused:
            await call
        assert not isinstance(refused.value, OutOfScopeError)
    # What a delegate sees of rounds is their own delegation's: their own response only.
    seen = await any_store.identities.participations(claire.participant.id)
    assert {response.participant_id for _, response in seen} == {claire.participant.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_refusal_is_said_in_every_language(language: str) -> None:
    error = OutOfScopeError(
        "kofi", "close round 3", outside=["FRA (France, WEOG)"], regions=[AFRICA, "Asia"]
    )
    said = outside_scope_text(error, language=language)
    assert "FRA (France, WEOG)" in said and AFRICA in said and "Asia" in said
    whole = OutOfScopeError("kofi", "x", outside=["round 3"], regions=[AFRICA], round_id=3)
    assert "3" in outside_scope_text(whole, language=language)


async def test_enrolment_links_go_only_to_the_regions_delegates(any_store: Any) -> None:
    await seeded(any_store)
    actor = await kofi(any_store)
    invited = await organising.invitees(any_store, actor, channel="telegram")
    assert [p.delegation for p in invited] == ["NER", "SEN"]
    everyone = await organising.invitees(any_store, OLGA, channel="telegram")
    assert len(everyone) == len(PEOPLE)
    claire = await delegate(any_store, "claire@fra.example")
    with pytest.raises(NotAllowedError):
        await organising.invitees(any_store, claire, channel="telegram")


async def test_a_scoped_organiser_reaches_only_people_of_the_regions_delegations(
    any_store: Any,
) -> None:
    await seeded(any_store)
    actor = await kofi(any_store)
    people = {p.email: p.id for p in await any_store.roster.list_participants()}
    claire, aminata = people["claire@fra.example"], people["aminata@sen.example"]
    kofi_id = people["kofi@org.example"]
    entries_before = len(await any_store.audit.entries(limit=1000))
    for attempt in (
        rights.show_participant(any_store, actor, claire, now=NOW),
        rights.erase_participant(any_store, actor, claire, now=NOW),
        rights.relink_participant(any_store, actor, claire, channel="telegram", now=NOW),
    ):
        with pytest.raises(OutOfScopeError) as refused:
            await attempt
        assert refused.value.outside == (f"participant {claire}",)
    # An organiser belongs to no delegation: only a full organiser reaches them.
    with pytest.raises(OutOfScopeError) as refused:
        await rights.show_participant(any_store, actor, kofi_id, now=NOW)
    assert refused.value.outside == (f"participant {kofi_id}",)
    # Nothing was read, changed or recorded by the refusals.
    assert len(await any_store.audit.entries(limit=1000)) == entries_before
    assert (await any_store.roster.get_participant(claire)).email == "claire@fra.example"
    shown = await rights.show_participant(any_store, actor, aminata, now=NOW)
    assert shown.participant.email == "aminata@sen.example"
    assert (await rights.show_participant(any_store, OLGA, kofi_id, now=NOW)).participant.id == (
        kofi_id
    )
    erased = await rights.erase_participant(any_store, actor, aminata, now=NOW)
    assert erased.participant_id == aminata
    with pytest.raises(NotAllowedError):
        await rights.show_participant(
            any_store, await delegate(any_store, "jonas@deu.example"), claire, now=NOW
        )


async def test_someone_beyond_the_regions_and_nobody_get_the_same_refusal(any_store: Any) -> None:
    await seeded(any_store)
    actor = await kofi(any_store)
    people = {p.email: p.id for p in await any_store.roster.list_participants()}
    claire = people["claire@fra.example"]
    nobody = max(people.values()) + 1
    calls = {
        "show": lambda pid: rights.show_participant(any_store, actor, pid, now=NOW),
        "erase": lambda pid: rights.erase_participant(any_store, actor, pid, now=NOW),
        "relink": lambda pid: rights.relink_participant(
            any_store, actor, pid, channel="telegram", now=NOW
        ),
        "subject": lambda pid: rights.erasure_subject(any_store, actor, pid),
    }
    for name, call in calls.items():
        answers = []
        for pid in (claire, nobody):
            with pytest.raises(OutOfScopeError) as refused:
                await call(pid)
            answers.append((type(refused.value), str(refused.value).replace(str(pid), "N")))
        assert answers[0] == answers[1], name
        assert "France" not in answers[0][1] and "FRA" not in answers[0][1]
    # A full organiser is still told that there is nobody by that id.
    with pytest.raises(NotFoundError):
        await rights.show_participant(any_store, OLGA, nobody, now=NOW)
    assert (await rights.erasure_subject(any_store, OLGA, claire)).email == "claire@fra.example"


async def test_a_round_beyond_the_regions_and_no_round_get_the_same_refusal(
    any_store: Any,
) -> None:
    rounds = await seeded(any_store)
    actor = await kofi(any_store)
    unknown = max(rounds.values()) + 1
    later = CLOSES + timedelta(days=1)
    calls = {
        "status": lambda rid: organising.status(any_store, actor, rid),
        "plan": lambda rid: organising.reminder_plan(
            any_store, actor, rid, now=NOW, office_hours=HOURS
        ),
        "close": lambda rid: organising.close(any_store, actor, rid, now=NOW),
        "extend": lambda rid: organising.extend(
            any_store,
            actor,
            organising.ExtendRequest(rid, closes=later),
            now=NOW,
            office_hours=HOURS,
        ),
        "resend": lambda rid: organising.resend(any_store, actor, rid, now=NOW),
        "export": lambda rid: organising.record_export(
            any_store, actor, rid, format="csv", now=NOW
        ),
    }
    for name, call in calls.items():
        answers = []
        for rid in (rounds["fra"], unknown):
            with pytest.raises(OutOfScopeError) as refused:
                await call(rid)
            text = str(refused.value).replace(str(rid), "N")
            reply = outside_scope_text(refused.value, language="fr").replace(str(rid), "N")
            answers.append((type(refused.value), text, reply))
        assert answers[0] == answers[1], name
        assert "France" not in answers[0][1] and "FRA" not in answers[0][1]
    assert (await any_store.rounds.get_round(rounds["fra"])).closes_at == CLOSES
    with pytest.raises(NotFoundError):
        await organising.status(any_store, OLGA, unknown)
