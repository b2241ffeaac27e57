"""Digest figures, counted by each store, checked against the export of the same round.

The round is played through the core use cases (the example survey, delegates answering with
``apply_input`` on an injected clock, a round closed with partial answers); each figure of the
digest is then recomputed with plain Python from the round's CSV export, which must agree.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.exporting import write_csv
from bot.survey_files import read_survey_file
from storage.database import Store
from storage.digests import SqlAlchemyDigestQueries
from storage.memory import InMemoryStore
from storage.memory_digests import InMemoryDigestQueries
from surveys.definition import QuestionType, Survey
from surveys.digest import (
    Digest,
    DigestFigures,
    DigestPlan,
    Tally,
    build_digest,
    render_markdown,
    theme_of,
)
from surveys.engine import Typed
from surveys.errors import NotFoundError
from surveys.export import ValueStyle
from surveys.ports import DigestQueries
from surveys.records import (
    AnswerChange,
    Attribution,
    Audience,
    Delegation,
    ParticipantData,
    ResponseState,
    ResponseStatus,
    Role,
)
from surveys.service import organising
from surveys.service.actors import Actor
from tests.support import act_as, refused

AnyStore = Store | InMemoryStore
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
THEMES = ("return", "transfer", "durable_solutions", "alternatives", "asylum_systems")

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)
FIRST_DIGEST = T0 + 4 * DAY
CLOSED = T0 + 6 * DAY
SECOND_DIGEST = T0 + 7 * DAY

WEOG = "Western European and other States"
AFRICA = "African States"
GRULAC = "Latin American and Caribbean States"
ASIA = "Asia-Pacific States"

DELEGATIONS = [
    Delegation("FRA", "France", WEOG),
    Delegation("DEU", "Germany", WEOG),
    Delegation("SEN", "Senegal", AFRICA),
    Delegation("MAR", "Morocco", AFRICA),
    Delegation("NER", "Niger", AFRICA),
    Delegation("MEX", "Mexico", GRULAC),
    Delegation("COL", "Colombia", GRULAC),
    Delegation("IDN", "Indonesia", ASIA),
    Delegation("PAK", "Pakistan", ASIA),
]
PEOPLE = [
    ("Claire Dubois", "claire@example.org", "FRA", "fr"),
    ("Hugo Martin", "hugo@example.org", "FRA", "fr"),
    ("Jonas Weber", "jonas@example.org", "DEU", "en"),
    ("Aminata Diop", "aminata@example.org", "SEN", "fr"),
    ("Youssef El Amrani", "youssef@example.org", "MAR", "fr"),
    ("Ibrahim Moussa", "ibrahim@example.org", "NER", "fr"),
    ("Lucía Hernández", "lucia@example.org", "MEX", "es"),
    ("Andrés Gómez", "andres@example.org", "COL", "es"),
    ("Putri Lestari", "putri@example.org", "IDN", "en"),
    ("Ayesha Khan", "ayesha@example.org", "PAK", "en"),
]
SCRIPT = "<script>alert('x')</script> Safe pathways & more"
FORMULA = "=SUM(A1:A9) is how we count"


Action = Typed | str


def theme(
    score: int,
    engagement: int | None = None,
    frameworks: str | None = None,
    *,
    other: str | None = None,
    comment: str | None = None,
) -> list[Action]:
    """One theme's answers: scale, engagement, frameworks (+ which other), comment."""
    actions: list[Action] = [Typed(str(score))]
    actions.append(Typed(str(engagement)) if engagement else "skip")
    actions.append(Typed(frameworks) if frameworks else "skip")
    if frameworks and "10" in [part.strip() for part in frameworks.split(",")]:
        actions.append(Typed(other or "Another framework"))
    actions.append(Typed(comment) if comment else "skip")
    return actions


def closing(priorities: str, follow_up: str) -> list[Action]:
    actions: list[Action] = [Typed(priorities), Typed(follow_up)]
    if follow_up == "yes":
        actions.append("skip")  # the date is optional
    return [*actions, "submit"]


# Whole answer scripts, one action per step.
CLAIRE = [
    *theme(4, 1, "1,2", comment="Nous soutenons l'approche, avec réserves."),
    *theme(3, 2, "1"),
    *theme(5, 1, "1,9"),
    *theme(4, 3),
    *theme(2, 4, "2"),
    *closing("1,3", "yes"),
]
AMINATA = [
    *theme(5, 1, "1,3"),
    *theme(4, 1, "3", comment="Le Processus de Rabat est essentiel."),
    *theme(4, 2, "1,3"),
    *theme(3),
    *theme(3, 5, "3,9"),
    *closing("2", "no"),
]
LUCIA = [
    *theme(3, 2, "2,8,10", other="Declaración de Cartagena"),
    *theme(5, 1, "8"),
    *theme(2, 4),
    *theme(4, 1, "2,8", comment=SCRIPT),
    *theme(4, 2, "2"),
    *closing("4,5", "yes"),
]
PUTRI = [
    *theme(2, 3, "6"),
    *theme(2, 3),
    *theme(3, 2, "6,1"),
    *theme(5, 1, "6"),
    *theme(4, 1, "6", comment=FORMULA),
    *closing("5,4,1", "no"),
]
AYESHA = [
    *theme(3, 2, "6", comment="Returns need partner capacity."),
    *theme(4, 2),
    *theme(4, 2),
    *theme(3, 3),
    *theme(5, 1, "1"),
    *closing("1", "no"),
]
YOUSSEF = [*theme(2, 4, "3,4"), *theme(3, 2, "3", comment="Khartoum aussi.")]
HUGO = theme(5, 1, "1", comment="Point de vue de Hugo.")


@dataclass
class Played:
    round_id: int
    survey: Survey
    ids: dict[str, int]


async def act(store: AnyStore, played: Played, email: str, actions: list[Action], at: datetime):
    for step, action in enumerate(actions):
        now = at + timedelta(minutes=step)
        screen = await act_as(
            store,
            round_id=played.round_id,
            participant_id=played.ids[email],
            action=action,
            now=now,
        )
        assert not refused(screen), (email, step, action, screen.notice)


async def launch(store: AnyStore) -> Played:
    survey = read_survey_file(EXAMPLE)
    await organising.import_survey(store, Actor.command_line("test"), survey, now=T0)
    await store.roster.import_roster(
        DELEGATIONS,
        [
            ParticipantData(
                name=name, email=email, role=Role.DELEGATE, delegation=code, language=lang
            )
            for name, email, code, lang in PEOPLE
        ],
    )
    launched = await organising.launch(
        store,
        Actor.command_line("test"),
        organising.LaunchRequest(
            survey_id=survey.id,
            audience=Audience("all"),
            closes=T0 + 14 * DAY,
        ),
        now=T0,
    )
    ids = {p.email: p.id for p in await store.roster.list_participants()}
    return Played(launched.round.id, survey, ids)


async def play_until_first_digest(store: AnyStore) -> Played:
    played = await launch(store)
    await act(store, played, "claire@example.org", CLAIRE, T0 + DAY + timedelta(hours=1))
    await act(store, played, "aminata@example.org", AMINATA, T0 + 2 * DAY)
    await act(store, played, "lucia@example.org", LUCIA, T0 + 2 * DAY + timedelta(hours=5))
    await act(store, played, "putri@example.org", PUTRI, T0 + 3 * DAY)
    await act(store, played, "youssef@example.org", YOUSSEF, T0 + 3 * DAY + timedelta(hours=2))
    await act(store, played, "hugo@example.org", HUGO, T0 + 3 * DAY + timedelta(hours=4))
    return played


async def play_until_second_digest(store: AnyStore, played: Played) -> None:
    await act(store, played, "ayesha@example.org", AYESHA, T0 + 5 * DAY)
    # Claire changes her first comment while her response stays submitted.
    claire = played.ids["claire@example.org"]
    response = await store.responses.get_response(played.round_id, claire)
    changed = ResponseState(
        answers={**response.state.answers, "comment_return": "Nous soutenons l'approche."},
        current=None,
        started=True,
    )
    await store.responses.save_state(
        response.id,
        version=response.version,
        state=changed,
        changes=[AnswerChange("comment_return", "Nous soutenons l'approche.", T0 + 5 * DAY)],
        status=ResponseStatus.SUBMITTED,
        now=T0 + 5 * DAY,
    )
    await close(store, played.round_id, CLOSED)


async def close(store: AnyStore, round_id: int, now: datetime) -> None:
    """Close the round: in-progress responses become partial."""
    closer = getattr(store.rounds, "close_round", None)
    if closer is not None:
        await closer(round_id, now=now)
        return
    # The in-memory store without close_round: the same effect on the responses.
    for line in await store.rounds.status(round_id):
        if line.status is ResponseStatus.IN_PROGRESS:
            response = await store.responses.get_response(round_id, line.participant.id)
            await store.responses.save_state(
                response.id,
                version=response.version,
                state=response.state,
                changes=(),
                status=ResponseStatus.PARTIAL,
                now=now,
            )


def queries_of(store: AnyStore) -> DigestQueries:
    if isinstance(store, InMemoryStore):
        return InMemoryDigestQueries(store)
    assert store.database is not None
    return SqlAlchemyDigestQueries(store.database.sessions)


async def digest_of(
    store: AnyStore, queries: DigestQueries, played: Played, now: datetime, language: str = "en"
) -> Digest:
    round_ = await store.rounds.get_round(played.round_id)
    previous = await queries.last_run(played.round_id)
    data = await queries.digest_data(
        played.round_id,
        plan=DigestPlan.of(played.survey),
        since=previous.created_at if previous else None,
    )
    return build_digest(
        survey=played.survey,
        round_=round_,
        data=data,
        previous=previous,
        now=now,
        language=language,
    )


async def export_rows(store: AnyStore, played: Played) -> list[dict[str, str]]:
    buffer = io.StringIO()
    await write_csv(
        store.responses.export_rows(played.round_id),
        buffer,
        survey=played.survey,
        style=ValueStyle.CODES,
        language="en",
    )
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


# -- the digest, recomputed from the export with plain Python -----------------------------------

COUNTED = {"submitted", "partial"}


def tally(rows: list[dict[str, str]]) -> Tally:
    statuses = Counter(row["status"] for row in rows)
    return Tally(
        invited=len(rows),
        submitted=statuses["submitted"],
        partial=statuses["partial"],
        in_progress=statuses["in_progress"],
        not_started=statuses["not_started"],
    )


def check_against_export(digest: Digest, survey: Survey, rows: list[dict[str, str]]) -> None:
    """Every figure of ``digest`` equals the same figure computed from the CSV export."""
    by_delegation: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_delegation[row["delegation"]].append(row)
    answered = {
        code
        for code, members in by_delegation.items()
        if any(member["status"] == "submitted" for member in members)
    }

    # Response rates: overall, by delegation, by region.
    assert digest.participants == tally(rows)
    assert digest.delegations_invited == len(by_delegation)
    assert digest.delegations_answered == len(answered)
    assert {line.code: (line.tally, line.answered) for line in digest.delegations} == {
        code: (tally(members), code in answered) for code, members in by_delegation.items()
    }
    regions: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        regions[row["region"]].append(row)
    assert {
        region.region: (region.delegations, region.answered, region.tally)
        for region in digest.regions
    } == {
        region: (
            len({row["delegation"] for row in members}),
            len({row["delegation"] for row in members} & answered),
            tally(members),
        )
        for region, members in regions.items()
    }

    # Who has not answered: delegations without a submission, and where each delegate stands
    # (by name only in a named round; else how many in each status).
    if digest.attribution is Attribution.NAMED:
        assert {
            (pending.region, delegation.code, person, status.value)
            for pending in digest.pending
            for delegation in pending.delegations
            for person, status in delegation.people
        } == {
            (row["region"], row["delegation"], row["participant"], row["status"])
            for row in rows
            if row["delegation"] not in answered
        }
    else:
        assert not any(d.people for pending in digest.pending for d in pending.delegations)
        assert {
            (pending.region, delegation.code, status.value, count)
            for pending in digest.pending
            for delegation in pending.delegations
            for status, count in delegation.counts
        } == {
            (*key, count)
            for key, count in Counter(
                (row["region"], row["delegation"], row["status"])
                for row in rows
                if row["delegation"] not in answered
            ).items()
        }

    counted = [row for row in rows if row["status"] in COUNTED]

    # Scales, pooled by theme: distribution, n and mean.
    for theme_summary in digest.themes:
        values = [
            int(row[question_id])
            for question_id in theme_summary.question_ids
            for row in counted
            if row[question_id] != ""
        ]
        questions = [
            q.id
            for q in survey.questions
            if q.type is QuestionType.SCALE and theme_of(survey, q) == theme_summary.key
        ]
        assert list(theme_summary.question_ids) == questions
        distribution = Counter(values)
        assert {p.value: p.count for p in theme_summary.points} == {
            float(v): distribution[v] for v in range(1, 6)
        }
        assert theme_summary.n == len(values)
        assert theme_summary.mean == (sum(values) / len(values) if values else None)
    assert [t.key for t in digest.themes] == list(THEMES)

    # Choices: counts per option (multiple choices split), and respondents.
    choices = {c.question_id: c for section in digest.sections for c in section.choices}
    for question in survey.questions:
        if question.type not in (
            QuestionType.SINGLE_CHOICE,
            QuestionType.MULTIPLE_CHOICE,
            QuestionType.YES_NO,
        ):
            continue
        cells = [row[question.id] for row in counted if row[question.id] != ""]
        if question.type is QuestionType.MULTIPLE_CHOICE:
            codes = Counter(code for cell in cells for code in cell.split("; "))
        else:
            codes = Counter(cells)
        summary = choices[question.id]
        assert summary.n == len(cells), question.id
        assert {o.code: o.count for o in summary.options if o.count} == dict(codes), question.id
        assert [o.code for o in summary.options][: len(survey.choices_of(question))] == [
            option.value for option in survey.choices_of(question)
        ]

    # Submissions over time: cumulative by UTC hour of submitted_at.
    submitted = [
        (
            datetime.fromisoformat(row["submitted_at"])
            .astimezone(UTC)
            .replace(minute=0, second=0, microsecond=0),
            row["delegation"],
        )
        for row in rows
        if row["status"] == "submitted"
    ]
    assert [p.at for p in digest.progress] == sorted({hour for hour, _ in submitted})
    for point in digest.progress:
        assert point.participants == sum(hour <= point.at for hour, _ in submitted)
        assert point.delegations == len({code for hour, code in submitted if hour <= point.at})


def comments_in_export(survey: Survey, rows: list[dict[str, str]]) -> set[str]:
    """The text answers of counted responses, as exported (a formula-like text gets a quote)."""
    texts = [q.id for q in survey.questions if q.type is QuestionType.TEXT]
    return {
        row[question_id]
        for row in rows
        if row["status"] in COUNTED
        for question_id in texts
        if row[question_id] != ""
    }


def exported(text: str) -> str:
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text


# -- tests -------------------------------------------------------------------------------------


async def test_digest_figures_match_the_export_of_the_same_round(any_store: AnyStore) -> None:
    queries = queries_of(any_store)
    played = await play_until_first_digest(any_store)

    first = await digest_of(any_store, queries, played, FIRST_DIGEST)
    rows = await export_rows(any_store, played)
    check_against_export(first, played.survey, rows)

    assert (first.delegations_answered, first.delegations_invited) == (4, 9)
    assert first.delegations_started == 1  # Morocco: in progress, not submitted
    assert first.participants == Tally(invited=10, submitted=4, in_progress=2, not_started=4)
    assert first.change is None and first.comments_since is None
    # In-progress answers (Youssef, Hugo) are not counted: 4 scores per theme.
    assert [t.n for t in first.themes] == [4, 4, 4, 4, 4]
    others = {
        (choice.question_id, other.code, quote.text, quote.attribution)
        for section in first.sections
        for choice in section.choices
        for other in choice.others
        for quote in other.quotes
    }
    assert {exported(q.text) for q in first.comments} | {o[2] for o in others} == (
        comments_in_export(played.survey, rows)
    )
    assert len(first.comments) == 4  # Lucía's "other" framework is not a comment...
    assert others == {("frameworks_return", "other", "Declaración de Cartagena", "Mexico")}
    assert {q.attribution for q in first.comments} == {"France", "Senegal", "Mexico", "Indonesia"}

    run = await queries.record_run(played.round_id, figures=first.figures, now=FIRST_DIGEST)
    assert run.figures == first.figures
    assert await queries.last_run(played.round_id) == run

    await play_until_second_digest(any_store, played)
    second = await digest_of(any_store, queries, played, SECOND_DIGEST)
    rows = await export_rows(any_store, played)
    check_against_export(second, played.survey, rows)

    assert second.participants == Tally(invited=10, submitted=5, partial=2, not_started=3)
    assert (second.delegations_answered, second.delegations_started) == (5, 1)
    assert [t.n for t in second.themes] == [7, 6, 5, 5, 5]  # partial answers count now
    change = second.change
    assert change is not None and change.previous_at == FIRST_DIGEST
    assert change.delegations_answered == 1 and change.participants_submitted == 1
    assert change.rate_points == pytest.approx(100 * (5 / 9 - 4 / 9))
    for now_theme in second.themes:
        before = first.figures.themes[now_theme.key].mean
        assert now_theme.delta == pytest.approx(now_theme.mean - before)  # type: ignore[operator]

    new = {(q.attribution, q.text) for q in second.comments}
    assert ("France", "Nous soutenons l'approche.") in new  # changed after the last digest
    assert ("Pakistan", "Returns need partner capacity.") in new  # submitted since
    assert ("Senegal", "Le Processus de Rabat est essentiel.") not in new  # already shown
    round_ = await any_store.rounds.get_round(played.round_id)
    if round_.closed_at is not None:
        # Partial since the round closed after the last digest: their comments are new.
        assert ("Morocco", "Khartoum aussi.") in new
        assert ("France", "Point de vue de Hugo.") in new
        assert len(new) == 4
        assert second.closed


async def test_every_store_counts_the_same(any_store: AnyStore) -> None:
    """The in-memory twin and both SQL stores count the same round the same way."""
    played = await play_until_first_digest(any_store)
    data = await queries_of(any_store).digest_data(
        played.round_id, plan=DigestPlan.of(played.survey), since=T0 + 3 * DAY + timedelta(hours=3)
    )
    assert data == data.canonical()
    choices = {(c.question_id, c.code): c.count for c in data.choices}
    assert choices[("frameworks_return", "gcr")] == 2
    assert choices[("follow_up", "yes")] == 2
    assert {(s.question_id, s.value): s.count for s in data.scale}[("alignment_return", 4.0)] == 1
    assert {a.question_id: a.count for a in data.answered}["priorities"] == 4
    # By the UTC hour of each submission (the last of a script's steps), not by day.
    assert [(h.hour, h.count) for h in data.submissions_by_hour] == [
        (datetime(2026, 3, 3, 9, tzinfo=UTC), 1),
        (datetime(2026, 3, 4, 8, tzinfo=UTC), 1),
        (datetime(2026, 3, 4, 13, tzinfo=UTC), 1),
        (datetime(2026, 3, 5, 8, tzinfo=UTC), 1),
    ]
    assert sum(h.count for h in data.first_answers_by_hour) == 4
    # Since day 3, 03:00: nothing new counted (Youssef and Hugo are still in progress)...
    assert data.comments == ()
    # ...but "other" answers are always all there, as they belong with their choice counts.
    assert [(o.question_id, o.text) for o in data.others] == [
        ("frameworks_other_return", "Declaración de Cartagena")
    ]
    assert [(p.name, p.status) for p in data.pending if p.delegation == "FRA"] == [
        ("Hugo Martin", ResponseStatus.IN_PROGRESS)
    ]


async def test_labels_and_texts_follow_the_digest_language(any_store: AnyStore) -> None:
    played = await play_until_first_digest(any_store)
    digest = await digest_of(any_store, queries_of(any_store), played, FIRST_DIGEST, "fr")
    assert digest.language == "fr"
    assert (
        digest.themes[0].title
        == "Retour des personnes ne nécessitant pas de protection internationale"
    )
    engagement = next(
        c for s in digest.sections for c in s.choices if c.question_id == "engagement_return"
    )
    assert engagement.options[0].label == "Déjà engagé"
    assert (
        await digest_of(any_store, queries_of(any_store), played, FIRST_DIGEST, "de")
    ).language == "en"


async def test_unknown_rounds_are_reported(any_store: AnyStore) -> None:
    queries = queries_of(any_store)
    with pytest.raises(NotFoundError):
        await queries.digest_data(999, plan=DigestPlan(), since=None)
    figures = DigestFigures(participants=Tally(), delegations_invited=0, delegations_answered=0)
    with pytest.raises(NotFoundError):
        await queries.record_run(999, figures=figures, now=T0)
    assert await queries.last_run(999) is None


# -- SQL: a fixed number of queries --------------------------------------------------------------


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    assert store.database is not None
    engine = store.database.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def full_answers(survey: Survey, n: int) -> dict[str, Any]:
    """A complete set of answers, varied by ``n``, written straight into the state."""
    answers: dict[str, Any] = {}
    for question in survey.questions:
        if question.type is QuestionType.SCALE:
            answers[question.id] = 1 + n % 5
        elif question.type is QuestionType.SINGLE_CHOICE:
            options = survey.choices_of(question)
            answers[question.id] = options[n % len(options)].value
        elif question.type is QuestionType.MULTIPLE_CHOICE:
            options = survey.choices_of(question)
            answers[question.id] = [options[n % 3].value, options[3 + n % 2].value]
        elif question.type is QuestionType.YES_NO:
            answers[question.id] = "yes" if n % 2 else "no"
        elif question.type is QuestionType.TEXT and question.id.startswith("comment"):
            answers[question.id] = f"Comment {n} on {question.id}"
    return answers


async def sized_round(store: Store, survey: Survey, size: int, tag: str) -> int:
    """A round of ``size`` delegates in ``size // 2 + 1`` delegations, most of them answered."""
    codes = [f"{tag}{n:02d}" for n in range(size // 2 + 1)]
    await store.roster.import_roster(
        [Delegation(code, f"Country {code}", f"Region {n % 3}") for n, code in enumerate(codes)],
        [
            ParticipantData(
                name=f"Delegate {tag}{n}",
                email=f"{tag.lower()}{n}@example.org",
                role=Role.DELEGATE,
                delegation=codes[n // 2],
                tags=(tag,),
            )
            for n in range(size)
        ],
    )
    launched = await organising.launch(
        store,
        Actor.command_line("test"),
        organising.LaunchRequest(
            survey_id=survey.id,
            audience=Audience("tag", (tag,)),
            closes=T0 + 14 * DAY,
        ),
        now=T0,
    )
    for line in (await store.rounds.status(launched.round.id))[: size - 1]:
        n = line.participant.id
        response = await store.responses.get_response(launched.round.id, n)
        answers = full_answers(survey, n)
        at = T0 + (1 + n % 4) * DAY
        await store.responses.save_state(
            response.id,
            version=response.version,
            state=ResponseState(answers=answers, started=True),
            changes=[AnswerChange(qid, value, at) for qid, value in answers.items()],
            status=ResponseStatus.SUBMITTED if n % 3 else ResponseStatus.IN_PROGRESS,
            now=at,
        )
    return launched.round.id


async def test_a_digest_takes_the_same_queries_for_any_round_size(store: Store) -> None:
    survey = read_survey_file(EXAMPLE)
    await organising.import_survey(store, Actor.command_line("test"), survey, now=T0)
    small = await sized_round(store, survey, 3, "S")
    large = await sized_round(store, survey, 40, "L")
    queries = queries_of(store)
    plan = DigestPlan.of(survey)

    counts = []
    for round_id in (small, large):
        for since in (None, T0 + 2 * DAY):
            with statements(store) as seen:
                data = await queries.digest_data(round_id, plan=plan, since=since)
            assert data.statuses
            counts.append(len(seen))
    assert counts == [counts[0]] * 4
    assert counts[0] <= 10
    large_data = await queries.digest_data(large, plan=plan, since=None)
    assert sum(s.count for s in large_data.statuses) == 40
    # No query returned one row per answer: the scale counts have one row per (question, point).
    assert len(large_data.scale) <= len(plan.scale) * 5


async def test_a_digest_quotes_the_newest_comments_of_each_question_and_counts_the_rest(
    any_store: AnyStore,
) -> None:
    survey = read_survey_file(EXAMPLE)
    await organising.import_survey(any_store, Actor.command_line("test"), survey, now=T0)
    round_id = await sized_round(any_store, survey, 40, "Q")  # type: ignore[arg-type]
    plan = DigestPlan.of(survey).model_copy(update={"quotes": 3})
    # What each comment question holds: counted (submitted) responses, and when each answered.
    given: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
    for line in await any_store.rounds.status(round_id):
        response = await any_store.responses.get_response(round_id, line.participant.id)
        if response.status is not ResponseStatus.SUBMITTED:
            continue
        for question_id, value in response.state.answers.items():
            if question_id in plan.text:
                at = T0 + (1 + line.participant.id % 4) * DAY
                given[question_id].append((at, response.id, str(value)))
    assert given and all(len(rows) > 3 for rows in given.values())

    data = await queries_of(any_store).digest_data(round_id, plan=plan, since=None)

    assert {q.question_id: q.count for q in data.quoted_of} == {
        question_id: len(rows) for question_id, rows in given.items()
    }
    for question_id, rows in given.items():
        newest = sorted(rows, reverse=True)[:3]
        assert sorted(
            (c.answered_at, c.response_id, c.text)
            for c in data.comments
            if c.question_id == question_id
        ) == sorted(newest)
    # The digest quotes those and says how many more there are, per question.
    round_ = await any_store.rounds.get_round(round_id)
    digest = build_digest(survey=survey, round_=round_, data=data, previous=None, now=T0 + 5 * DAY)
    assert digest.comments_total == sum(len(rows) for rows in given.values())
    assert {m.question_id: m.count for m in digest.comments_more} == {
        question_id: len(rows) - 3 for question_id, rows in given.items()
    }
    assert digest.figures.comments == digest.comments_total
    markdown = render_markdown(digest)
    for rows in given.values():
        assert f"…and {len(rows) - 3} more comments: see the export." in markdown
