"""The digest of a round: what senior staff read instead of opening the tool.

Three steps, so that every figure is computed once and shown the same everywhere:

1. storage aggregates a round in SQL into a :class:`DigestData` (counts only: statuses per
   delegation, scale points, choices, new comments, submissions per day), following a
   :class:`DigestPlan` that says which questions are scales, choices and free text;
2. :func:`build_digest` turns those counts, the survey and the previous digest's stored
   :class:`DigestFigures` into a :class:`Digest`: rates, distributions, means, changes, quotes,
   with every label already in the digest's language;
3. renderers write it out: :func:`render_markdown` here (files, Slack, Telegram), HTML and the
   PNG chart in ``bot.digest_render``.

Which answers count: those of **submitted and partial** responses (partial: the round closed
before the delegate submitted). Answers of responses still in progress are left out, since the
delegate may still change them; the digest says so. A delegation has answered when at least
one of its delegates submitted.

Example::

    plan = DigestPlan.of(survey)
    data = await queries.digest_data(round_.id, plan=plan, since=None)
    digest = build_digest(survey=survey, round_=round_, data=data, previous=None,
                          now=now, language="fr")
    print(render_markdown(digest))
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from surveys.definition import Question, QuestionType, Scale, Survey, pick
from surveys.messages import decimal_mark
from surveys.records import Attribution, ResponseStatus, Round, RoundStatus

COUNTED_STATUSES: tuple[ResponseStatus, ...] = (ResponseStatus.SUBMITTED, ResponseStatus.PARTIAL)
"""Responses whose answers a digest counts: submitted, and partial (kept when a round closed)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- 1. what storage aggregates ---------------------------------------------------------------


class DigestPlan(_Frozen):
    """Which questions a digest aggregates, by kind (ids in survey order)."""

    scale: tuple[str, ...] = ()
    single: tuple[str, ...] = ()
    """Single choice and yes/no questions: one code per answer."""
    multiple: tuple[str, ...] = ()
    """Multiple choice questions: a list of codes per answer."""
    text: tuple[str, ...] = ()
    """Free-text questions, quoted as comments."""

    @classmethod
    def of(cls, survey: Survey) -> DigestPlan:
        def ids(*types: QuestionType) -> tuple[str, ...]:
            return tuple(q.id for q in survey.questions if q.type in types)

        return cls(
            scale=ids(QuestionType.SCALE),
            single=ids(QuestionType.SINGLE_CHOICE, QuestionType.YES_NO),
            multiple=ids(QuestionType.MULTIPLE_CHOICE),
            text=ids(QuestionType.TEXT),
        )

    @property
    def counted(self) -> tuple[str, ...]:
        """Every question whose respondents are counted (scales and choices)."""
        return self.scale + self.single + self.multiple


class StatusCount(_Frozen):
    """How many of one delegation's invited participants are in one status."""

    delegation: str | None
    delegation_name: str | None
    region: str | None
    status: ResponseStatus
    count: int


class PendingPerson(_Frozen):
    """An invited participant who has not submitted."""

    participant_id: int
    name: str
    delegation: str | None
    status: ResponseStatus


class ScaleCount(_Frozen):
    question_id: str
    value: float
    count: int


class ChoiceCount(_Frozen):
    question_id: str
    code: str
    count: int


class QuestionCount(_Frozen):
    """How many counted responses answered a question (skips excluded)."""

    question_id: str
    count: int


class CommentRow(_Frozen):
    response_id: int
    question_id: str
    text: str
    participant_name: str
    delegation: str | None
    delegation_name: str | None
    answered_at: datetime


class DayCount(_Frozen):
    day: date
    count: int


class DigestData(_Frozen):
    """A round's counts as storage aggregates them; sorted by :meth:`canonical`.

    ``comments`` are the text answers of counted responses that are new since ``since`` (the
    previous digest): answered or changed after it, or whose response was submitted (or
    became partial when the round closed) after it; all of them when ``since`` is None.
    """

    statuses: tuple[StatusCount, ...] = ()
    pending: tuple[PendingPerson, ...] = ()
    scale: tuple[ScaleCount, ...] = ()
    choices: tuple[ChoiceCount, ...] = ()
    answered: tuple[QuestionCount, ...] = ()
    comments: tuple[CommentRow, ...] = ()
    submissions_by_day: tuple[DayCount, ...] = ()
    """Participants who submitted, by UTC day of ``submitted_at``."""
    first_answers_by_day: tuple[DayCount, ...] = ()
    """Delegations whose first delegate submitted, by UTC day of that submission."""

    def canonical(self) -> DigestData:
        """The same data in one fixed order, whichever store produced it."""

        def code(value: str | None) -> tuple[bool, str]:
            return (value is None, value or "")

        return DigestData(
            statuses=tuple(
                sorted(self.statuses, key=lambda s: (*code(s.delegation), s.status.value))
            ),
            pending=tuple(
                sorted(self.pending, key=lambda p: (*code(p.delegation), p.name, p.participant_id))
            ),
            scale=tuple(sorted(self.scale, key=lambda s: (s.question_id, s.value))),
            choices=tuple(sorted(self.choices, key=lambda c: (c.question_id, c.code))),
            answered=tuple(sorted(self.answered, key=lambda a: a.question_id)),
            comments=tuple(sorted(self.comments, key=lambda c: (c.question_id, c.response_id))),
            submissions_by_day=tuple(sorted(self.submissions_by_day, key=lambda d: d.day)),
            first_answers_by_day=tuple(sorted(self.first_answers_by_day, key=lambda d: d.day)),
        )


# -- what a digest run keeps for the next one ---------------------------------------------------


class Tally(_Frozen):
    """Participants by status; ``rate`` is the share that submitted."""

    invited: int = 0
    submitted: int = 0
    partial: int = 0
    in_progress: int = 0
    not_started: int = 0

    @property
    def rate(self) -> float | None:
        return self.submitted / self.invited if self.invited else None

    def plus(self, status: ResponseStatus, count: int) -> Tally:
        field = status.value
        return self.model_copy(
            update={"invited": self.invited + count, field: getattr(self, field) + count}
        )


class ThemeFigure(_Frozen):
    mean: float | None
    n: int


class DigestFigures(BaseModel):
    """The figures a digest run stores (``digest_runs.figures``), to compare the next one with.

    Counts only, no text: comments and names are not copied into the run.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: Literal[1] = 1
    participants: Tally
    delegations_invited: int
    delegations_answered: int
    themes: dict[str, ThemeFigure] = Field(default_factory=dict)
    comments: int = 0

    @property
    def delegation_rate(self) -> float | None:
        if not self.delegations_invited:
            return None
        return self.delegations_answered / self.delegations_invited


class DigestRun(_Frozen):
    """One digest sent for a round: when, and its figures."""

    id: int
    round_id: int
    created_at: datetime
    figures: DigestFigures


# -- 2. the digest ------------------------------------------------------------------------------


class DelegationLine(_Frozen):
    code: str | None
    name: str
    region: str
    tally: Tally
    answered: bool
    """At least one delegate submitted."""

    @property
    def started(self) -> bool:
        return self.tally.partial + self.tally.in_progress > 0


class RegionLine(_Frozen):
    region: str
    delegations: int
    answered: int
    tally: Tally

    @property
    def rate(self) -> float | None:
        return self.answered / self.delegations if self.delegations else None


class PendingDelegation(_Frozen):
    """A delegation none of whose delegates has submitted, and where each of them stands."""

    code: str | None
    name: str
    people: tuple[tuple[str, ResponseStatus], ...]


class PendingRegion(_Frozen):
    region: str
    delegations: tuple[PendingDelegation, ...]


class Point(_Frozen):
    value: float
    label: str
    """The scale's end label for its two ends, else empty."""
    count: int


class ScaleSummary(_Frozen):
    """Scale answers pooled over the questions of one theme (or one untagged question)."""

    key: str
    title: str
    question_ids: tuple[str, ...]
    points: tuple[Point, ...]
    low: float
    high: float
    n: int
    mean: float | None
    delta: float | None = None
    """Change of the mean since the previous digest, when both have one."""


class OptionCount(_Frozen):
    code: str
    label: str
    count: int


class ChoiceSummary(_Frozen):
    question_id: str
    label: str
    multiple: bool
    n: int
    """Counted responses that answered (for multiple choice, counts may add up to more)."""
    options: tuple[OptionCount, ...]


class Section(_Frozen):
    """A theme (or the questions under no theme): its scale summary and its choice counts."""

    key: str
    title: str
    scale: ScaleSummary | None
    scales: tuple[ScaleSummary, ...] = ()
    """Untagged scale questions (only in the section of questions under no theme)."""
    choices: tuple[ChoiceSummary, ...] = ()


class Quote(_Frozen):
    question_id: str
    heading: str
    """The theme's name, or the question's label when it has no theme."""
    text: str
    attribution: str | None


class Progress(_Frozen):
    """Cumulative count at the end of one UTC day."""

    day: date
    participants: int
    delegations: int


class Change(_Frozen):
    """What moved since the previous digest."""

    previous_at: datetime
    delegations_answered: int
    rate_points: float | None
    """Change of the delegation response rate, in percentage points."""
    participants_submitted: int


class Digest(_Frozen):
    """A round's digest, every label in ``language``; render it with :func:`render_markdown`."""

    round_id: int
    survey_id: str
    title: str
    language: str
    generated_at: datetime
    opens_at: datetime
    closes_at: datetime
    """When the round closes, or closed (by hand or at its closing time)."""
    closed: bool
    attribution: Attribution
    participants: Tally
    delegations_invited: int
    delegations_answered: int
    delegations_started: int
    """Delegations not answered where someone started (in progress or partial)."""
    regions: tuple[RegionLine, ...]
    delegations: tuple[DelegationLine, ...]
    pending: tuple[PendingRegion, ...]
    sections: tuple[Section, ...]
    comments: tuple[Quote, ...]
    comments_since: datetime | None
    change: Change | None
    progress: tuple[Progress, ...]
    figures: DigestFigures

    @property
    def delegation_rate(self) -> float | None:
        return self.figures.delegation_rate

    @property
    def themes(self) -> tuple[ScaleSummary, ...]:
        """The scale summary of each theme that has scale questions, in the survey's order."""
        return tuple(section.scale for section in self.sections if section.scale and section.key)


OTHER_SECTION = ""
"""Key of the section holding questions under no theme."""


def theme_of(survey: Survey, question: Question) -> str | None:
    """The first of the question's tags that names a theme of the survey."""
    return next((tag for tag in question.tags if tag in survey.themes), None)


def build_digest(
    *,
    survey: Survey,
    round_: Round,
    data: DigestData,
    previous: DigestRun | None,
    now: datetime,
    language: str | None = None,
) -> Digest:
    """The digest of ``round_`` from its aggregated ``data`` and the ``previous`` run."""
    lang = survey.language_for(language)
    data = data.canonical()

    # Response rates: participants by status, per delegation, per region, overall.
    lines: dict[str | None, DelegationLine] = {}
    overall = Tally()
    for row in data.statuses:
        overall = overall.plus(row.status, row.count)
        line = lines.get(row.delegation) or DelegationLine(
            code=row.delegation,
            name=row.delegation_name or row.delegation or text("no_delegation", lang),
            region=row.region or "",
            tally=Tally(),
            answered=False,
        )
        tally = line.tally.plus(row.status, row.count)
        lines[row.delegation] = line.model_copy(
            update={"tally": tally, "answered": tally.submitted > 0}
        )
    delegations = tuple(lines[key] for key in sorted(lines, key=lambda c: (c is None, c or "")))
    real = [line for line in delegations if line.code is not None]
    answered = sum(line.answered for line in real)
    started = sum(line.started and not line.answered for line in real)

    by_region: dict[str, list[DelegationLine]] = defaultdict(list)
    for line in delegations:
        by_region[line.region].append(line)
    regions = tuple(
        RegionLine(
            region=region,
            delegations=sum(line.code is not None for line in members),
            answered=sum(line.answered for line in members if line.code is not None),
            tally=_sum_tallies(line.tally for line in members),
        )
        for region, members in sorted(by_region.items(), key=lambda item: _region_key(item[0]))
    )

    # Who has not answered: delegations without a submission, grouped by region.
    people: dict[str | None, list[tuple[str, ResponseStatus]]] = defaultdict(list)
    for person in data.pending:
        people[person.delegation].append((person.name, person.status))
    pending_by_region: dict[str, list[PendingDelegation]] = defaultdict(list)
    for line in delegations:
        if not line.answered:
            pending_by_region[line.region].append(
                PendingDelegation(
                    code=line.code, name=line.name, people=tuple(people.get(line.code, ()))
                )
            )
    pending = tuple(
        PendingRegion(region=region, delegations=tuple(members))
        for region, members in sorted(
            pending_by_region.items(), key=lambda item: _region_key(item[0])
        )
    )

    # Themes: pooled scale answers and the choice counts of each theme's questions.
    previous_themes = previous.figures.themes if previous else {}
    sections = _sections(survey, data, lang, previous_themes)

    # Comments, attributed as the round says.
    comments = _quotes(survey, data.comments, round_.attribution, lang)

    # Submissions over time, cumulative.
    progress = _progress(data.submissions_by_day, data.first_answers_by_day)

    figures = DigestFigures(
        participants=overall,
        delegations_invited=len(real),
        delegations_answered=answered,
        themes={
            section.key: ThemeFigure(mean=section.scale.mean, n=section.scale.n)
            for section in sections
            if section.key and section.scale is not None
        },
        comments=len(comments),
    )
    closed = round_.status_at(now) is RoundStatus.CLOSED
    change = None
    if previous is not None:
        before = previous.figures
        rate_now, rate_then = figures.delegation_rate, before.delegation_rate
        change = Change(
            previous_at=previous.created_at,
            delegations_answered=answered - before.delegations_answered,
            rate_points=(
                100 * (rate_now - rate_then)
                if rate_now is not None and rate_then is not None
                else None
            ),
            participants_submitted=overall.submitted - before.participants.submitted,
        )
    return Digest(
        round_id=round_.id,
        survey_id=survey.id,
        title=survey.title_in(lang),
        language=lang,
        generated_at=now,
        opens_at=round_.opens_at,
        closes_at=(round_.closed_at or round_.closes_at) if closed else round_.closes_at,
        closed=closed,
        attribution=round_.attribution,
        participants=overall,
        delegations_invited=len(real),
        delegations_answered=answered,
        delegations_started=started,
        regions=regions,
        delegations=delegations,
        pending=pending,
        sections=sections,
        comments=comments,
        comments_since=previous.created_at if previous else None,
        change=change,
        progress=progress,
        figures=figures,
    )


def _region_key(region: str) -> tuple[bool, str]:
    return (region == "", region)


def _sum_tallies(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total = Tally(
            invited=total.invited + tally.invited,
            submitted=total.submitted + tally.submitted,
            partial=total.partial + tally.partial,
            in_progress=total.in_progress + tally.in_progress,
            not_started=total.not_started + tally.not_started,
        )
    return total


def _sections(
    survey: Survey,
    data: DigestData,
    language: str,
    previous_themes: Mapping[str, ThemeFigure],
) -> tuple[Section, ...]:
    scale_counts: dict[str, dict[float, int]] = defaultdict(dict)
    for point in data.scale:
        scale_counts[point.question_id][point.value] = point.count
    choice_counts: dict[str, dict[str, int]] = defaultdict(dict)
    for chosen in data.choices:
        choice_counts[chosen.question_id][chosen.code] = chosen.count
    answered = {row.question_id: row.count for row in data.answered}

    scales: dict[str | None, list[Question]] = defaultdict(list)
    choices: dict[str | None, list[ChoiceSummary]] = defaultdict(list)
    for question in survey.questions:
        theme = theme_of(survey, question)
        if question.type is QuestionType.SCALE:
            scales[theme].append(question)
        elif question.type in (
            QuestionType.SINGLE_CHOICE,
            QuestionType.MULTIPLE_CHOICE,
            QuestionType.YES_NO,
        ):
            choices[theme].append(
                _choice_summary(
                    survey, question, choice_counts.get(question.id, {}), answered, language
                )
            )

    sections: list[Section] = []
    for tag, names in survey.themes.items():
        if not scales.get(tag) and not choices.get(tag):
            continue
        title = pick(names, language, survey.default_language)
        scale = None
        if scales.get(tag):
            scale = _scale_summary(survey, tag, title, scales[tag], scale_counts, language)
            before = previous_themes.get(tag)
            if before is not None and before.mean is not None and scale.mean is not None:
                scale = scale.model_copy(update={"delta": scale.mean - before.mean})
        sections.append(Section(key=tag, title=title, scale=scale, choices=tuple(choices[tag])))
    if scales.get(None) or choices.get(None):
        sections.append(
            Section(
                key=OTHER_SECTION,
                title=text("h_other", language),
                scale=None,
                scales=tuple(
                    _scale_summary(
                        survey,
                        question.id,
                        question.label_in(language, survey.default_language),
                        [question],
                        scale_counts,
                        language,
                    )
                    for question in scales.get(None, [])
                ),
                choices=tuple(choices.get(None, [])),
            )
        )
    return tuple(sections)


def _scale_summary(
    survey: Survey,
    key: str,
    title: str,
    questions: Sequence[Question],
    counts: Mapping[str, Mapping[float, int]],
    language: str,
) -> ScaleSummary:
    pooled: dict[float, int] = defaultdict(int)
    labels: dict[float, str] = {}
    low: float | None = None
    high: float | None = None
    for question in questions:
        scale = question.scale or Scale()  # a scale without a range is 1-5
        for point in scale.points():
            pooled[float(point)] += 0
        low = scale.min if low is None else min(low, scale.min)
        high = scale.max if high is None else max(high, scale.max)
        if scale.min_label:
            labels.setdefault(
                float(scale.min), pick(scale.min_label, language, survey.default_language)
            )
        if scale.max_label:
            labels.setdefault(
                float(scale.max), pick(scale.max_label, language, survey.default_language)
            )
        for value, count in counts.get(question.id, {}).items():
            pooled[value] += count
    n = sum(pooled.values())
    total = sum(value * count for value, count in pooled.items())
    return ScaleSummary(
        key=key,
        title=title,
        question_ids=tuple(question.id for question in questions),
        points=tuple(
            Point(value=value, label=labels.get(value, ""), count=pooled[value])
            for value in sorted(pooled)
        ),
        low=float(low if low is not None else 1),
        high=float(high if high is not None else 5),
        n=n,
        mean=total / n if n else None,
    )


def _choice_summary(
    survey: Survey,
    question: Question,
    counts: Mapping[str, int],
    answered: Mapping[str, int],
    language: str,
) -> ChoiceSummary:
    options = [
        OptionCount(
            code=option.value,
            label=pick(option.label, language, survey.default_language),
            count=counts.get(option.value, 0),
        )
        for option in survey.choices_of(question)
    ]
    known = {option.code for option in options}
    # Codes the survey does not list (an edited choice list): shown as they are, never dropped.
    options += [
        OptionCount(code=code, label=code, count=count)
        for code, count in sorted(counts.items())
        if code not in known
    ]
    return ChoiceSummary(
        question_id=question.id,
        label=question.label_in(language, survey.default_language),
        multiple=question.type is QuestionType.MULTIPLE_CHOICE,
        n=answered.get(question.id, 0),
        options=tuple(options),
    )


def _quotes(
    survey: Survey, rows: Sequence[CommentRow], attribution: Attribution, language: str
) -> tuple[Quote, ...]:
    order = {question.id: index for index, question in enumerate(survey.questions)}

    def heading(question_id: str) -> str:
        try:
            question = survey.question(question_id)
        except KeyError:
            return question_id
        theme = theme_of(survey, question)
        if theme is not None:
            return pick(survey.themes[theme], language, survey.default_language)
        return question.label_in(language, survey.default_language)

    def who(row: CommentRow) -> str | None:
        delegation = row.delegation_name or row.delegation
        if attribution is Attribution.NAMED:
            return f"{row.participant_name} ({delegation})" if delegation else row.participant_name
        if attribution is Attribution.DELEGATION:
            return delegation or text("no_delegation", language)
        return None

    if attribution is Attribution.ANONYMOUS:
        # No order that would let a reader match quotes to the list of who answered.
        ordered = sorted(rows, key=lambda r: (order.get(r.question_id, len(order)), r.text))
    else:
        ordered = sorted(
            rows,
            key=lambda r: (
                order.get(r.question_id, len(order)),
                r.delegation is None,
                r.delegation or "",
                r.participant_name,
                r.response_id,
            ),
        )
    return tuple(
        Quote(
            question_id=row.question_id,
            heading=heading(row.question_id),
            text=row.text,
            attribution=who(row),
        )
        for row in ordered
    )


def _progress(
    participants: Sequence[DayCount], delegations: Sequence[DayCount]
) -> tuple[Progress, ...]:
    by_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for row in participants:
        by_day[row.day][0] += row.count
    for row in delegations:
        by_day[row.day][1] += row.count
    result: list[Progress] = []
    people = teams = 0
    for day in sorted(by_day):
        people += by_day[day][0]
        teams += by_day[day][1]
        result.append(Progress(day=day, participants=people, delegations=teams))
    return tuple(result)


# -- texts --------------------------------------------------------------------------------------

_NBSP = "\u00a0"

DIGEST_TEXTS: dict[str, dict[str, str]] = {
    # --- Title and headings ----------------------------------------------------------------
    "title": {
        "en": "Digest: {survey}",
        "fr": "Synthèse{nbsp}: {survey}",
        "es": "Resumen: {survey}",
    },
    "round_line": {
        "en": "Round {round} · {closing} · generated {generated} UTC",
        "fr": "Cycle {round} · {closing} · établie le {generated} UTC",
        "es": "Ronda {round} · {closing} · generado el {generated} UTC",
    },
    "closes_on": {"en": "closes {date}", "fr": "clôture le {date}", "es": "cierra el {date}"},
    "closed_on": {"en": "closed {date}", "fr": "clos le {date}", "es": "cerrada el {date}"},
    "h_summary": {"en": "In brief", "fr": "En bref", "es": "En resumen"},
    "h_change": {
        "en": "Since the last digest ({date})",
        "fr": "Depuis la dernière synthèse ({date})",
        "es": "Desde el último resumen ({date})",
    },
    "h_rates": {"en": "Response rate", "fr": "Taux de réponse", "es": "Tasa de respuesta"},
    "h_by_region": {"en": "By region", "fr": "Par région", "es": "Por región"},
    "h_by_delegation": {
        "en": "By delegation",
        "fr": "Par délégation",
        "es": "Por delegación",
    },
    "h_pending": {
        "en": "Not answered yet",
        "fr": "Pas encore de réponse",
        "es": "Sin respuesta todavía",
    },
    "h_themes": {
        "en": "Alignment with national priorities, by theme",
        "fr": "Alignement sur les priorités nationales, par thème",
        "es": "Alineación con las prioridades nacionales, por tema",
    },
    "h_other": {"en": "Other questions", "fr": "Autres questions", "es": "Otras preguntas"},
    "h_comments": {
        "en": "New comments",
        "fr": "Nouvelles observations",
        "es": "Nuevas observaciones",
    },
    # --- The summary paragraph -------------------------------------------------------------
    "summary_rate": {
        "en": "{answered} of {invited} delegations have answered ({rate}).",
        "fr": "{answered} délégations sur {invited} ont répondu ({rate}).",
        "es": "{answered} de {invited} delegaciones han respondido ({rate}).",
    },
    "summary_rate_one": {
        "en": "{answered} of {invited} delegations has answered ({rate}).",
        "fr": "{answered} délégation sur {invited} a répondu ({rate}).",
        "es": "{answered} de {invited} delegaciones ha respondido ({rate}).",
    },
    "summary_started": {
        "en": "{count} more have started but not submitted yet.",
        "fr": "{count} autres ont commencé sans avoir encore soumis leurs réponses.",
        "es": "Otras {count} han empezado pero aún no han enviado sus respuestas.",
    },
    "summary_started_one": {
        "en": "{count} more has started but not submitted yet.",
        "fr": "{count} autre a commencé sans avoir encore soumis ses réponses.",
        "es": "Otra {count} ha empezado pero aún no ha enviado sus respuestas.",
    },
    "summary_untouched": {
        "en": "{count} have not started.",
        "fr": "{count} n'ont pas commencé.",
        "es": "{count} no han empezado.",
    },
    "summary_untouched_one": {
        "en": "{count} has not started.",
        "fr": "{count} n'a pas commencé.",
        "es": "{count} no ha empezado.",
    },
    "summary_high_low": {
        "en": "Alignment with national priorities is highest for {high} ({high_mean}) and "
        "lowest for {low} ({low_mean}).",
        "fr": "L'alignement sur les priorités nationales est le plus fort pour «{nbsp}{high}"
        "{nbsp}» ({high_mean}) et le plus faible pour «{nbsp}{low}{nbsp}» ({low_mean}).",
        "es": "La alineación con las prioridades nacionales es mayor en «{high}» ({high_mean}) "
        "y menor en «{low}» ({low_mean}).",
    },
    "summary_one_theme": {
        "en": "Average alignment with national priorities for {theme}: {mean}.",
        "fr": "Alignement moyen sur les priorités nationales pour «{nbsp}{theme}{nbsp}»{nbsp}: "
        "{mean}.",
        "es": "Alineación media con las prioridades nacionales en «{theme}»: {mean}.",
    },
    "summary_no_scores": {
        "en": "No alignment scores have been given yet.",
        "fr": "Aucune note d'alignement n'a encore été donnée.",
        "es": "Todavía no se ha dado ninguna puntuación de alineación.",
    },
    "summary_comments": {
        "en": "There are {count} new comments.",
        "fr": "{count} nouvelles observations ont été formulées.",
        "es": "Hay {count} observaciones nuevas.",
    },
    "summary_comments_one": {
        "en": "There is {count} new comment.",
        "fr": "{count} nouvelle observation a été formulée.",
        "es": "Hay {count} observación nueva.",
    },
    "summary_change": {
        "en": "Since the last digest ({date}), {count} more delegations have answered.",
        "fr": "Depuis la dernière synthèse ({date}), {count} délégations de plus ont répondu.",
        "es": "Desde el último resumen ({date}), han respondido {count} delegaciones más.",
    },
    "summary_change_one": {
        "en": "Since the last digest ({date}), {count} more delegation has answered.",
        "fr": "Depuis la dernière synthèse ({date}), {count} délégation de plus a répondu.",
        "es": "Desde el último resumen ({date}), ha respondido {count} delegación más.",
    },
    "summary_no_change": {
        "en": "No delegation has answered since the last digest ({date}).",
        "fr": "Aucune délégation n'a répondu depuis la dernière synthèse ({date}).",
        "es": "Ninguna delegación ha respondido desde el último resumen ({date}).",
    },
    "summary_first": {
        "en": "This is the first digest of this round.",
        "fr": "Il s'agit de la première synthèse de ce cycle.",
        "es": "Este es el primer resumen de esta ronda.",
    },
    "summary_closes": {
        "en": "The round closes on {date}.",
        "fr": "Le cycle sera clos le {date}.",
        "es": "La ronda se cierra el {date}.",
    },
    "summary_closed": {
        "en": "The round closed on {date}; answers not submitted by then are kept as partial.",
        "fr": "Le cycle a été clos le {date}{nbsp}; les réponses non soumises à cette date sont "
        "conservées comme partielles.",
        "es": "La ronda se cerró el {date}; las respuestas no enviadas para entonces se "
        "conservan como parciales.",
    },
    # --- Notes -----------------------------------------------------------------------------
    "note_answered": {
        "en": "A delegation counts as answered when at least one of its delegates has submitted.",
        "fr": "Une délégation est comptée comme ayant répondu dès que l'un de ses délégués a "
        "soumis ses réponses.",
        "es": "Una delegación cuenta como que ha respondido cuando al menos uno de sus "
        "delegados ha enviado sus respuestas.",
    },
    "note_counted": {
        "en": "Scores and counts use the answers of submitted and partial responses (partial: "
        "the round closed before the delegate submitted). Answers still in progress are not "
        "counted, as they may change.",
        "fr": "Les notes et décomptes portent sur les réponses soumises et partielles "
        "(partielles{nbsp}: le cycle a été clos avant leur soumission). Les réponses en cours "
        "ne sont pas comptées, car elles peuvent encore changer.",
        "es": "Las puntuaciones y los recuentos usan las respuestas enviadas y parciales "
        "(parciales: la ronda se cerró antes del envío). Las respuestas en curso no se "
        "cuentan, porque aún pueden cambiar.",
    },
    "comments_since": {
        "en": "Comments given or changed since the last digest ({date}).",
        "fr": "Observations formulées ou modifiées depuis la dernière synthèse ({date}).",
        "es": "Observaciones formuladas o modificadas desde el último resumen ({date}).",
    },
    "comments_all": {
        "en": "All comments so far: this is the round's first digest.",
        "fr": "Toutes les observations à ce jour{nbsp}: il s'agit de la première synthèse du "
        "cycle.",
        "es": "Todas las observaciones hasta la fecha: es el primer resumen de la ronda.",
    },
    "no_comments": {
        "en": "No new comments.",
        "fr": "Aucune nouvelle observation.",
        "es": "Ninguna observación nueva.",
    },
    "more_comments": {
        "en": "…and {count} more in the full digest.",
        "fr": "…et {count} de plus dans la synthèse complète.",
        "es": "…y {count} más en el resumen completo.",
    },
    "everyone_answered": {
        "en": "Every delegation has answered.",
        "fr": "Toutes les délégations ont répondu.",
        "es": "Todas las delegaciones han respondido.",
    },
    "first_digest": {
        "en": "First digest of this round: nothing to compare with yet.",
        "fr": "Première synthèse de ce cycle{nbsp}: rien à comparer pour l'instant.",
        "es": "Primer resumen de esta ronda: todavía no hay nada con qué comparar.",
    },
    "full_digest": {
        "en": "Full digest: {files}",
        "fr": "Synthèse complète{nbsp}: {files}",
        "es": "Resumen completo: {files}",
    },
    # --- Lines -----------------------------------------------------------------------------
    "line_delegations": {
        "en": "Delegations: {answered} of {invited} answered ({rate})",
        "fr": "Délégations{nbsp}: {answered} sur {invited} ont répondu ({rate})",
        "es": "Delegaciones: {answered} de {invited} han respondido ({rate})",
    },
    "line_participants": {
        "en": "Delegates: {submitted} submitted, {partial} partial, {in_progress} in progress, "
        "{not_started} not started, of {invited} invited",
        "fr": "Délégués{nbsp}: {submitted} ont soumis, {partial} partiels, {in_progress} en "
        "cours, {not_started} n'ont pas commencé, sur {invited} invités",
        "es": "Delegados: {submitted} enviados, {partial} parciales, {in_progress} en curso, "
        "{not_started} sin empezar, de {invited} invitados",
    },
    "line_region": {
        "en": "{region}: {answered} of {delegations} delegations ({rate})",
        "fr": "{region}{nbsp}: {answered} sur {delegations} délégations ({rate})",
        "es": "{region}: {answered} de {delegations} delegaciones ({rate})",
    },
    "change_delegations": {
        "en": "Delegations answered: {answered} ({delta}; response rate {points} points)",
        "fr": "Délégations ayant répondu{nbsp}: {answered} ({delta}{nbsp}; taux de réponse "
        "{points} points)",
        "es": "Delegaciones que han respondido: {answered} ({delta}; tasa de respuesta "
        "{points} puntos)",
    },
    "change_participants": {
        "en": "Delegates who submitted: {submitted} ({delta})",
        "fr": "Délégués ayant soumis{nbsp}: {submitted} ({delta})",
        "es": "Delegados que han enviado: {submitted} ({delta})",
    },
    "change_theme": {
        "en": "{theme}: {mean} ({delta})",
        "fr": "{theme}{nbsp}: {mean} ({delta})",
        "es": "{theme}: {mean} ({delta})",
    },
    "mean_line": {
        "en": "Mean alignment {mean} (n = {n})",
        "fr": "Alignement moyen {mean} (n = {n})",
        "es": "Alineación media {mean} (n = {n})",
    },
    "mean_delta": {
        "en": "{mean}, {delta} since the last digest",
        "fr": "{mean}, {delta} depuis la dernière synthèse",
        "es": "{mean}, {delta} desde el último resumen",
    },
    "mean_of": {"en": "{mean} out of {high}", "fr": "{mean} sur {high}", "es": "{mean} de {high}"},
    "no_answers": {
        "en": "No answers yet.",
        "fr": "Pas encore de réponse.",
        "es": "Todavía no hay respuestas.",
    },
    "choice_n": {"en": "n = {n}", "fr": "n = {n}", "es": "n = {n}"},
    "choice_n_multiple": {
        "en": "n = {n}, several answers possible",
        "fr": "n = {n}, plusieurs réponses possibles",
        "es": "n = {n}, varias respuestas posibles",
    },
    "no_delegation": {"en": "No delegation", "fr": "Sans délégation", "es": "Sin delegación"},
    "no_region": {"en": "No region", "fr": "Sans région", "es": "Sin región"},
    "anonymous": {"en": "anonymous", "fr": "anonyme", "es": "anónimo"},
    # --- Table columns ---------------------------------------------------------------------
    "col_region": {"en": "Region", "fr": "Région", "es": "Región"},
    "col_delegation": {"en": "Delegation", "fr": "Délégation", "es": "Delegación"},
    "col_delegations": {
        "en": "Delegations answered",
        "fr": "Délégations ayant répondu",
        "es": "Delegaciones que han respondido",
    },
    "col_answered": {"en": "Answered", "fr": "A répondu", "es": "Ha respondido"},
    "col_rate": {"en": "Rate", "fr": "Taux", "es": "Tasa"},
    "col_invited": {"en": "Invited", "fr": "Invités", "es": "Invitados"},
    "col_submitted": {"en": "Submitted", "fr": "Soumis", "es": "Enviados"},
    "col_partial": {"en": "Partial", "fr": "Partiels", "es": "Parciales"},
    "col_in_progress": {"en": "In progress", "fr": "En cours", "es": "En curso"},
    "col_not_started": {"en": "Not started", "fr": "Pas commencé", "es": "Sin empezar"},
    "col_score": {"en": "Score", "fr": "Note", "es": "Puntuación"},
    "col_answers": {"en": "Answers", "fr": "Réponses", "es": "Respuestas"},
    "yes": {"en": "yes", "fr": "oui", "es": "sí"},
    "no": {"en": "no", "fr": "non", "es": "no"},
    # --- Statuses --------------------------------------------------------------------------
    "status_not_started": {"en": "not started", "fr": "pas commencé", "es": "sin empezar"},
    "status_in_progress": {"en": "in progress", "fr": "en cours", "es": "en curso"},
    "status_submitted": {"en": "submitted", "fr": "soumis", "es": "enviado"},
    "status_partial": {
        "en": "partial (round closed)",
        "fr": "partiel (cycle clos)",
        "es": "parcial (ronda cerrada)",
    },
    # --- Chart -----------------------------------------------------------------------------
    "chart_alignment": {
        "en": "Mean alignment by theme",
        "fr": "Alignement moyen par thème",
        "es": "Alineación media por tema",
    },
    "chart_progress": {
        "en": "Response rate over time",
        "fr": "Évolution du taux de réponse",
        "es": "Evolución de la tasa de respuesta",
    },
    "chart_rate_axis": {
        "en": "% of those invited",
        "fr": "% des invités",
        "es": "% de los invitados",
    },
    "chart_day_axis": {"en": "Day (UTC)", "fr": "Jour (UTC)", "es": "Día (UTC)"},
    "chart_delegations": {
        "en": "Delegations answered",
        "fr": "Délégations ayant répondu",
        "es": "Delegaciones que han respondido",
    },
    "chart_participants": {
        "en": "Delegates who submitted",
        "fr": "Délégués ayant soumis",
        "es": "Delegados que han enviado",
    },
    "chart_no_scores": {
        "en": "No scores yet",
        "fr": "Pas encore de notes",
        "es": "Todavía no hay puntuaciones",
    },
    "chart_alt": {
        "en": "Chart: mean alignment by theme, and response rate over time",
        "fr": "Graphique{nbsp}: alignement moyen par thème et évolution du taux de réponse",
        "es": "Gráfico: alineación media por tema y evolución de la tasa de respuesta",
    },
    # --- Dates and numbers -----------------------------------------------------------------
    "months": {
        "en": "January|February|March|April|May|June|July|August|September|October|November|"
        "December",
        "fr": "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
        "décembre",
        "es": "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|"
        "diciembre",
    },
    "months_short": {
        "en": "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec",
        "fr": "janv.|févr.|mars|avr.|mai|juin|juil.|août|sept.|oct.|nov.|déc.",
        "es": "ene.|feb.|mar.|abr.|may.|jun.|jul.|ago.|sept.|oct.|nov.|dic.",
    },
    "date": {
        "en": "{day} {month} {year}",
        "fr": "{day} {month} {year}",
        "es": "{day} de {month} de {year}",
    },
    "percent": {"en": "{value}%", "fr": "{value}{nbsp}%", "es": "{value}{nbsp}%"},
}
"""Digest text key -> language -> ``str.format`` template (``{nbsp}`` is a no-break space)."""

REQUIRED_LANGUAGES = ("en", "fr", "es")
FALLBACK_LANGUAGE = "en"


def text(key: str, language: str, **params: object) -> str:
    """The digest text ``key`` in ``language`` (or its base), else in English."""
    by_language = DIGEST_TEXTS[key]
    base = language.split("-")[0].lower()
    template = by_language.get(language) or by_language.get(base) or by_language["en"]
    return template.format_map({"nbsp": _NBSP, **params})


def format_date(moment: date | datetime, language: str) -> str:
    """``2 March 2026``, ``2 mars 2026``, ``2 de marzo de 2026``."""
    months = text("months", language).split("|")
    return text("date", language, day=moment.day, month=months[moment.month - 1], year=moment.year)


def format_moment(moment: datetime, language: str) -> str:
    return f"{format_date(moment, language)}, {moment:%H:%M}"


def format_decimal(value: float, language: str, digits: int = 1) -> str:
    return f"{value:.{digits}f}".replace(".", decimal_mark(language))


def format_signed(value: float, language: str, digits: int = 1) -> str:
    """``+0.3``, ``−1.0``, ``±0``: a change, with its sign always shown."""
    rounded = round(value, digits)
    if rounded == 0:
        return "±0"
    written = format_decimal(abs(rounded), language, digits) if digits else str(abs(int(rounded)))
    return ("+" if rounded > 0 else "−") + written


def format_rate(rate: float | None, language: str) -> str:
    if rate is None:
        return "–"
    return text("percent", language, value=round(100 * rate))


def format_score(value: float) -> str:
    """A scale point: ``4`` rather than ``4.0``."""
    return str(int(value)) if value.is_integer() else str(value)


def format_mean(summary: ScaleSummary, language: str) -> str:
    if summary.mean is None:
        return "–"
    return text(
        "mean_of",
        language,
        mean=format_decimal(summary.mean, language),
        high=format_score(summary.high),
    )


def mean_line(scale: ScaleSummary, language: str) -> str:
    """``Mean alignment 3.4 out of 5 (n = 7), +0.2 since the last digest``."""
    line = text("mean_line", language, mean=format_mean(scale, language), n=scale.n)
    if scale.delta is None:
        return line
    return text("mean_delta", language, mean=line, delta=format_signed(scale.delta, language))


def status_word(status: ResponseStatus, language: str) -> str:
    return text(f"status_{status.value}", language)


def region_name(region: str, language: str) -> str:
    return region or text("no_region", language)


def _plural(key: str, count: int, language: str, **params: object) -> str:
    return text(f"{key}_one" if count == 1 else key, language, count=count, **params)


def summary(digest: Digest) -> str:
    """One paragraph in plain words: where the round stands, for readers who read nothing else."""
    lang = digest.language
    answered, invited = digest.delegations_answered, digest.delegations_invited
    sentences = [
        _plural(
            "summary_rate",
            answered,
            lang,
            answered=answered,
            invited=invited,
            rate=format_rate(digest.delegation_rate, lang),
        )
    ]
    started = digest.delegations_started
    untouched = invited - answered - started
    if started:
        sentences.append(_plural("summary_started", started, lang))
    if untouched:
        sentences.append(_plural("summary_untouched", untouched, lang))
    scored = [theme for theme in digest.themes if theme.mean is not None]
    if len(scored) >= 2:
        high = max(scored, key=lambda theme: theme.mean or 0.0)
        low = min(scored, key=lambda theme: theme.mean or 0.0)
        sentences.append(
            text(
                "summary_high_low",
                lang,
                high=high.title,
                high_mean=format_mean(high, lang),
                low=low.title,
                low_mean=format_mean(low, lang),
            )
        )
    elif scored:
        sentences.append(
            text(
                "summary_one_theme",
                lang,
                theme=scored[0].title,
                mean=format_mean(scored[0], lang),
            )
        )
    else:
        sentences.append(text("summary_no_scores", lang))
    if digest.change is None:
        sentences.append(text("summary_first", lang))
    else:
        when = format_date(digest.change.previous_at, lang)
        moved = digest.change.delegations_answered
        if moved > 0:
            sentences.append(_plural("summary_change", moved, lang, date=when))
        elif moved == 0:
            sentences.append(text("summary_no_change", lang, date=when))
    if digest.comments:
        sentences.append(_plural("summary_comments", len(digest.comments), lang))
    closing = format_date(digest.closes_at, lang)
    sentences.append(
        text("summary_closed" if digest.closed else "summary_closes", lang, date=closing)
    )
    return " ".join(sentences)


def round_line(digest: Digest) -> str:
    lang = digest.language
    closing = text(
        "closed_on" if digest.closed else "closes_on",
        lang,
        date=format_date(digest.closes_at, lang),
    )
    return text(
        "round_line",
        lang,
        round=digest.round_id,
        closing=closing,
        generated=format_moment(digest.generated_at, lang),
    )


def change_lines(digest: Digest) -> list[str]:
    """The changes since the previous digest, one line each (empty for a first digest)."""
    change = digest.change
    if change is None:
        return []
    lang = digest.language
    lines = [
        text(
            "change_delegations",
            lang,
            answered=digest.delegations_answered,
            delta=format_signed(change.delegations_answered, lang, 0),
            points=(
                format_signed(change.rate_points, lang, 0)
                if change.rate_points is not None
                else "–"
            ),
        ),
        text(
            "change_participants",
            lang,
            submitted=digest.participants.submitted,
            delta=format_signed(change.participants_submitted, lang, 0),
        ),
    ]
    for theme in digest.themes:
        if theme.delta is not None and theme.mean is not None:
            lines.append(
                text(
                    "change_theme",
                    lang,
                    theme=theme.title,
                    mean=format_decimal(theme.mean, lang),
                    delta=format_signed(theme.delta, lang),
                )
            )
    return lines


# -- 3. Markdown ---------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MARKDOWN_LINE_START = re.compile(r"^([#+=>-]|\d+[.)])")


def escape_markdown(value: str) -> str:
    """Text from people, made inert in CommonMark, on one line.

    Emphasis, code, link, HTML and table characters are backslash-escaped, and so is a start
    that would make a heading, list or quote: ``<script>`` becomes ``\\<script\\>``, which
    renders as the text itself, never as HTML.
    """
    flat = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(value.split()))
    return _MARKDOWN_LINE_START.sub(r"\\\1", flat)


def _cell(value: str) -> str:
    return escape_markdown(value)


def _bar(count: int, largest: int, width: int = 20) -> str:
    if not count or not largest:
        return ""
    return "█" * max(1, round(width * count / largest))


def render_markdown(
    digest: Digest, *, compact: bool = False, max_comments: int | None = None, files: str = ""
) -> str:
    """The digest as CommonMark: the ``.md`` file, or (``compact``) the text posted to channels.

    ``compact`` drops the tables (Slack and Telegram show none), the per-delegation lines and
    the choice counts, keeps ``max_comments`` quotes (default 5), and ends with ``files``.
    Every text that comes from people or the survey is escaped.
    """
    lang = digest.language
    t = text
    out: list[str] = [f"# {_cell(t('title', lang, survey=digest.title))}", ""]
    out += [_cell(round_line(digest)), ""]
    out += [f"## {t('h_summary', lang)}", "", _cell(summary(digest)), ""]

    if digest.change is not None:
        out += [f"## {t('h_change', lang, date=format_date(digest.change.previous_at, lang))}", ""]
        out += [f"- {_cell(line)}" for line in change_lines(digest)] + [""]
    elif not compact:
        out += [f"_{t('first_digest', lang)}_", ""]

    # Response rate.
    out += [f"## {t('h_rates', lang)}", "", f"_{t('note_answered', lang)}_", ""]
    tally = digest.participants
    out += [
        "- "
        + t(
            "line_delegations",
            lang,
            answered=digest.delegations_answered,
            invited=digest.delegations_invited,
            rate=format_rate(digest.delegation_rate, lang),
        ),
        "- "
        + t(
            "line_participants",
            lang,
            submitted=tally.submitted,
            partial=tally.partial,
            in_progress=tally.in_progress,
            not_started=tally.not_started,
            invited=tally.invited,
        ),
        "",
    ]
    if compact:
        out += [f"### {t('h_by_region', lang)}", ""]
        out += [
            "- "
            + _cell(
                t(
                    "line_region",
                    lang,
                    region=region_name(region.region, lang),
                    answered=region.answered,
                    delegations=region.delegations,
                    rate=format_rate(region.rate, lang),
                )
            )
            for region in digest.regions
        ] + [""]
    else:
        out += [f"### {t('h_by_region', lang)}", ""]
        out += _table(
            [
                t("col_region", lang),
                t("col_delegations", lang),
                t("col_rate", lang),
                t("col_invited", lang),
                t("col_submitted", lang),
                t("col_partial", lang),
                t("col_in_progress", lang),
                t("col_not_started", lang),
            ],
            [
                [
                    _cell(region_name(region.region, lang)),
                    f"{region.answered} / {region.delegations}",
                    format_rate(region.rate, lang),
                    *_tally_cells(region.tally),
                ]
                for region in digest.regions
            ],
        )
        out += [f"### {t('h_by_delegation', lang)}", ""]
        out += _table(
            [
                t("col_delegation", lang),
                t("col_region", lang),
                t("col_answered", lang),
                t("col_invited", lang),
                t("col_submitted", lang),
                t("col_partial", lang),
                t("col_in_progress", lang),
                t("col_not_started", lang),
            ],
            [
                [
                    _cell(_delegation_name(line.name, line.code)),
                    _cell(region_name(line.region, lang)),
                    t("yes" if line.answered else "no", lang),
                    *_tally_cells(line.tally),
                ]
                for line in digest.delegations
            ],
        )

    # Who has not answered.
    out += [f"## {t('h_pending', lang)}", ""]
    if not digest.pending:
        out += [t("everyone_answered", lang), ""]
    for region in digest.pending:
        out += [f"### {_cell(region_name(region.region, lang))}", ""]
        for delegation in region.delegations:
            name = _cell(_delegation_name(delegation.name, delegation.code))
            if compact:
                out.append(f"- {name}")
                continue
            people = "; ".join(
                f"{_cell(person)} ({status_word(status, lang)})"
                for person, status in delegation.people
            )
            out.append(f"- **{name}**: {people}" if people else f"- **{name}**")
        out.append("")

    # Themes.
    out += [f"## {t('h_themes', lang)}", "", f"_{t('note_counted', lang)}_", ""]
    for section in digest.sections:
        summaries = ([section.scale] if section.scale else []) + list(section.scales)
        if compact and not summaries:
            continue
        if section.key or not compact:
            out += [f"### {_cell(section.title)}", ""]
        for scale in summaries:
            if not section.key:
                out += [f"**{_cell(scale.title)}**", ""]
            out += _scale_markdown(scale, lang, compact=compact)
        if not compact:
            for choice in section.choices:
                out += _choice_markdown(choice, lang)

    # Comments.
    out += [f"## {t('h_comments', lang)}", ""]
    if digest.comments_since is not None:
        out += [f"_{t('comments_since', lang, date=format_date(digest.comments_since, lang))}_"]
    else:
        out += [f"_{t('comments_all', lang)}_"]
    out.append("")
    if not digest.comments:
        out += [t("no_comments", lang), ""]
    limit = (5 if max_comments is None else max_comments) if compact else max_comments
    shown = digest.comments if limit is None else digest.comments[:limit]
    heading = None
    for quote in shown:
        if quote.heading != heading:
            heading = quote.heading
            out += [f"**{_cell(heading)}**", ""]
        out.append(f"> {_cell(quote.text)}")
        if quote.attribution:
            out.append(f"> — {_cell(quote.attribution)}")
        out.append("")
    hidden = len(digest.comments) - len(shown)
    if hidden > 0:
        out += [t("more_comments", lang, count=hidden), ""]
    if files:
        out += ["", t("full_digest", lang, files=files)]
    return "\n".join(out).rstrip() + "\n"


def _delegation_name(name: str, code: str | None) -> str:
    return f"{name} ({code})" if code and code != name else name


def _tally_cells(tally: Tally) -> list[str]:
    return [
        str(tally.invited),
        str(tally.submitted),
        str(tally.partial),
        str(tally.in_progress),
        str(tally.not_started),
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _scale_markdown(scale: ScaleSummary, lang: str, *, compact: bool) -> list[str]:
    if scale.n == 0:
        return [text("no_answers", lang), ""]
    mean = mean_line(scale, lang)
    if compact:
        points = " · ".join(f"{format_score(p.value)}: {p.count}" for p in scale.points)
        return [f"{mean} — {points}", ""]
    largest = max(point.count for point in scale.points)
    rows = [
        [
            format_score(point.value) + (f" ({_cell(point.label)})" if point.label else ""),
            str(point.count),
            _bar(point.count, largest),
        ]
        for point in scale.points
    ]
    return [mean, "", *_table([text("col_score", lang), text("col_answers", lang), ""], rows)]


def _choice_markdown(choice: ChoiceSummary, lang: str) -> list[str]:
    n = text("choice_n_multiple" if choice.multiple else "choice_n", lang, n=choice.n)
    lines = [f"**{_cell(choice.label)}** ({n})", ""]
    lines += [f"- {_cell(option.label)}: {option.count}" for option in choice.options]
    return [*lines, ""]


__all__ = [
    "COUNTED_STATUSES",
    "DIGEST_TEXTS",
    "ChoiceCount",
    "ChoiceSummary",
    "CommentRow",
    "DayCount",
    "Digest",
    "DigestData",
    "DigestFigures",
    "DigestPlan",
    "DigestRun",
    "PendingPerson",
    "QuestionCount",
    "ScaleCount",
    "ScaleSummary",
    "StatusCount",
    "Tally",
    "build_digest",
    "escape_markdown",
    "render_markdown",
    "summary",
    "text",
]
