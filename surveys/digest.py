"""The digest of a round: what senior staff read instead of opening the tool.

Three steps, so that every figure is computed once and shown the same everywhere:

1. storage aggregates a round in SQL into a :class:`DigestData` (counts only: statuses per
   delegation, scale points, choices, new comments, "other" answers, submissions per hour),
   following a :class:`DigestPlan` that says which questions are scales, choices and free text;
2. :func:`build_digest` turns those counts, the survey and the previous digest's stored
   :class:`DigestFigures` into a :class:`Digest`: rates, distributions, means, changes, quotes,
   with every label already in the digest's language;
3. renderers write it out: :func:`render_markdown` here (files, Slack, Telegram), HTML and the
   PNG chart in ``bot.digest_render``.

Who is named follows the round's attribution: *named* quotes the delegate and lists who has
not answered by name; *delegation* quotes the delegation and lists, per delegation, how many
delegates are where, never a name; *anonymous* quotes nobody, and any figure that would cover
fewer responses than the minimum group size (``ITINERA_MIN_GROUP``, default 3) is left out
with a note saying so: a theme's distribution and mean, a choice question's counts, and the
comments when the whole round has fewer. Completion (who has answered, by delegation and
region) is shown in every mode: organisers chase delegations, not answers.

Which answers count: those of **submitted and partial** responses (partial: the round closed
before the delegate submitted). Answers of responses still in progress are left out, since the
delegate may still change them; the digest says so. A delegation has answered when at least
one of its delegates submitted.

Texts are the ``digest.*`` messages of the gettext catalogues (:mod:`surveys.i18n`, the six UN
languages); dates, numbers, percentages, lists and plural forms are Babel's, for the reader's
locale. In a right-to-left language every
value put into a text (names, numbers, survey labels in another script) is isolated with
Unicode FSI/PDI marks, so that it keeps its own direction.

Example::

    plan = DigestPlan.of(survey)
    data = await queries.digest_data(round_.id, plan=plan, since=None)
    digest = build_digest(survey=survey, round_=round_, data=data, previous=None,
                          now=now, language="fr", classification="UNHCR internal")
    print(render_markdown(digest))
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache, lru_cache
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_interval, format_skeleton, format_time
from babel.lists import format_list as babel_format_list
from babel.numbers import format_decimal as babel_format_decimal
from babel.numbers import format_percent
from pydantic import BaseModel, ConfigDict, Field

from surveys import expressions, i18n
from surveys.definition import CHOICE_TYPES, Question, QuestionType, Scale, Survey, pick
from surveys.errors import ExpressionError
from surveys.records import Attribution, ResponseStatus, Round, RoundStatus

COUNTED_STATUSES: tuple[ResponseStatus, ...] = (ResponseStatus.SUBMITTED, ResponseStatus.PARTIAL)
"""Responses whose answers a digest counts: submitted, and partial (kept when a round closed)."""

DEFAULT_MIN_GROUP = 3
"""Fewest responses an anonymous round's figure may cover (``ITINERA_MIN_GROUP``)."""

QUOTES_PER_QUESTION = 5
"""Most comments (or "other" answers) a digest quotes per question, newest first; the rest are
counted ("and 12 more comments: see the export"), so a digest stays readable and its cost does
not grow with the number of comments."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- "other, please specify" ------------------------------------------------------------------


class OtherLink(_Frozen):
    """A text question that specifies one option of a choice question (``relevant`` is
    ``selected(${question}, 'code')``, or ``${question} = 'code'``)."""

    text_id: str
    question_id: str
    code: str


def other_links(survey: Survey) -> dict[str, OtherLink]:
    """Every "please specify" text question of ``survey``, by its id, in survey order."""
    found: dict[str, OtherLink] = {}
    for question in survey.questions:
        if question.type is not QuestionType.TEXT or not question.relevant:
            continue
        try:
            condition = expressions.parse(question.relevant)
        except ExpressionError:  # pragma: no cover - a loaded survey's conditions parse
            continue
        match condition:
            case expressions.Call(
                name="selected",
                args=(expressions.Ref(question=target), expressions.String(value=code)),
            ):
                pass
            case (
                expressions.Binary(
                    op="=",
                    left=expressions.Ref(question=target),
                    right=expressions.String(value=code),
                )
                | expressions.Binary(
                    op="=",
                    left=expressions.String(value=code),
                    right=expressions.Ref(question=target),
                )
            ):
                pass
            case _:
                continue
        try:
            chosen = survey.question(target)
        except KeyError:  # pragma: no cover - a loaded survey's references exist
            continue
        if chosen.type not in CHOICE_TYPES:
            continue
        if code not in {option.value for option in survey.choices_of(chosen)}:
            continue
        found[question.id] = OtherLink(text_id=question.id, question_id=target, code=code)
    return found


# -- 1. what storage aggregates ---------------------------------------------------------------


class DigestPlan(_Frozen):
    """Which questions a digest aggregates, by kind (ids in survey order)."""

    scale: tuple[str, ...] = ()
    single: tuple[str, ...] = ()
    """Single choice and yes/no questions: one code per answer."""
    multiple: tuple[str, ...] = ()
    """Multiple choice questions: a list of codes per answer."""
    text: tuple[str, ...] = ()
    """Free-text questions, quoted as comments when new since the last digest."""
    other: tuple[str, ...] = ()
    """Text questions that specify an option ("other, please specify"): all of them, always,
    listed under the choice question they specify."""
    quotes: int = Field(default=QUOTES_PER_QUESTION, ge=1)
    """Most answers quoted per text question (newest first); the others are only counted."""

    @classmethod
    def of(cls, survey: Survey) -> DigestPlan:
        def ids(*types: QuestionType) -> tuple[str, ...]:
            return tuple(q.id for q in survey.questions if q.type in types)

        others = other_links(survey)
        return cls(
            scale=ids(QuestionType.SCALE),
            single=ids(QuestionType.SINGLE_CHOICE, QuestionType.YES_NO),
            multiple=ids(QuestionType.MULTIPLE_CHOICE),
            text=tuple(q for q in ids(QuestionType.TEXT) if q not in others),
            other=tuple(others),
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


class HourCount(_Frozen):
    """How many in one UTC hour (``hour`` is the start of the hour, aware UTC)."""

    hour: datetime
    count: int


class DigestData(_Frozen):
    """A round's counts as storage aggregates them; sorted by :meth:`canonical`.

    ``comments`` are the answers to the plan's ``text`` questions, of counted responses, that
    are new since ``since`` (the previous digest): answered or changed after it, or whose
    response was submitted (or became partial when the round closed) after it; all of them when
    ``since`` is None. ``others`` are every counted answer to the plan's ``other`` questions.
    Both hold at most the plan's ``quotes`` per question, the newest (latest ``answered_at``,
    then highest response id; an anonymous round's ballots, which have no time, by text);
    ``quoted_of`` counts how many there are in all, per question.
    """

    statuses: tuple[StatusCount, ...] = ()
    pending: tuple[PendingPerson, ...] = ()
    scale: tuple[ScaleCount, ...] = ()
    choices: tuple[ChoiceCount, ...] = ()
    answered: tuple[QuestionCount, ...] = ()
    comments: tuple[CommentRow, ...] = ()
    others: tuple[CommentRow, ...] = ()
    quoted_of: tuple[QuestionCount, ...] = ()
    """How many comments (or "other" answers) each text question has, quoted or not."""
    submissions_by_hour: tuple[HourCount, ...] = ()
    """Participants who submitted, by UTC hour of ``submitted_at``."""
    first_answers_by_hour: tuple[HourCount, ...] = ()
    """Delegations whose first delegate submitted, by UTC hour of that submission."""

    def canonical(self) -> DigestData:
        """The same data in one fixed order, whichever store produced it."""

        def code(value: str | None) -> tuple[bool, str]:
            return (value is None, value or "")

        def comments(rows: Iterable[CommentRow]) -> tuple[CommentRow, ...]:
            return tuple(sorted(rows, key=lambda c: (c.question_id, c.response_id, c.text)))

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
            comments=comments(self.comments),
            others=comments(self.others),
            quoted_of=tuple(sorted(self.quoted_of, key=lambda q: q.question_id)),
            submissions_by_hour=tuple(sorted(self.submissions_by_hour, key=lambda h: h.hour)),
            first_answers_by_hour=tuple(sorted(self.first_answers_by_hour, key=lambda h: h.hour)),
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
    """A delegation none of whose delegates has submitted, and where its delegates stand: by
    name in a named round (``people``), else only how many are in each status (``counts``)."""

    code: str | None
    name: str
    people: tuple[tuple[str, ResponseStatus], ...] = ()
    counts: tuple[tuple[ResponseStatus, int], ...] = ()


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
    suppressed: bool = False
    """Left out (anonymous round, fewer responses than the minimum group): no counts, no mean."""

    def share(self, point: Point) -> float | None:
        return point.count / self.n if self.n else None


class Quote(_Frozen):
    question_id: str
    heading: str
    """The theme's name, or the question's label when it has no theme."""
    text: str
    attribution: str | None


class OptionCount(_Frozen):
    code: str
    label: str
    count: int
    share: float | None = None
    """``count`` over the question's respondents (``n``); None when nobody answered."""


class OtherAnswers(_Frozen):
    """What respondents wrote to specify one option ("Other: ..."), quoted as the round says."""

    code: str
    label: str
    quotes: tuple[Quote, ...]
    more: int = 0
    """Answers not quoted (beyond :data:`QUOTES_PER_QUESTION`): see the export."""


class ChoiceSummary(_Frozen):
    question_id: str
    label: str
    multiple: bool
    n: int
    """Counted responses that answered (for multiple choice, counts may add up to more)."""
    options: tuple[OptionCount, ...]
    others: tuple[OtherAnswers, ...] = ()
    suppressed: bool = False
    """Left out (anonymous round, fewer respondents than the minimum group): no counts."""

    @property
    def chosen(self) -> tuple[OptionCount, ...]:
        """The options someone chose, in the survey's order."""
        return tuple(option for option in self.options if option.count)

    @property
    def not_chosen(self) -> tuple[OptionCount, ...]:
        """The options nobody chose: shown on one line, not as rows of zeros."""
        return tuple(option for option in self.options if not option.count)

    def others_for(self, code: str) -> OtherAnswers | None:
        return next((other for other in self.others if other.code == code), None)


class Section(_Frozen):
    """A theme (or the questions under no theme): its scale summary and its choice counts."""

    key: str
    title: str
    scale: ScaleSummary | None
    scales: tuple[ScaleSummary, ...] = ()
    """Untagged scale questions (only in the section of questions under no theme)."""
    choices: tuple[ChoiceSummary, ...] = ()


class Progress(_Frozen):
    """Cumulative counts at the end of one UTC hour in which someone submitted."""

    at: datetime
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
    """One of :data:`DIGEST_LANGUAGES`."""
    classification: str
    """The confidentiality marking every rendering carries (``ITINERA_DIGEST_CLASSIFICATION``)."""
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
    """At most the plan's ``quotes`` per question, newest first."""
    comments_since: datetime | None
    change: Change | None
    progress: tuple[Progress, ...]
    figures: DigestFigures
    min_group: int = DEFAULT_MIN_GROUP
    """The minimum group size small figures of an anonymous round are held back under."""
    comments_suppressed: bool = False
    """Comments and "other" answers were held back: anonymous round, too few responses."""
    comments_more: tuple[QuestionCount, ...] = ()
    """Per question, the new comments not quoted (see the export)."""

    @property
    def comments_total(self) -> int:
        """Every new comment, quoted or not."""
        return len(self.comments) + sum(more.count for more in self.comments_more)

    @property
    def delegation_rate(self) -> float | None:
        return self.figures.delegation_rate

    @property
    def themes(self) -> tuple[ScaleSummary, ...]:
        """The scale summary of each theme that has scale questions, in the survey's order."""
        return tuple(section.scale for section in self.sections if section.scale and section.key)

    @property
    def rtl(self) -> bool:
        return is_rtl(self.language)


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
    classification: str | None = None,
    min_group: int = DEFAULT_MIN_GROUP,
) -> Digest:
    """The digest of ``round_`` from its aggregated ``data`` and the ``previous`` run.

    ``language`` is the reader's (one of the six UN languages; another falls back to the
    survey's default language, then English); survey texts it lacks are shown in the survey's
    default language. ``classification`` is the marking it carries (default "Confidential").
    ``min_group`` is the fewest responses a figure of an anonymous round may cover.
    """
    lang = digest_language(language, fallback=survey.default_language)
    data = data.canonical()
    closed = round_.status_at(now) is RoundStatus.CLOSED
    attribution = round_.attribution
    hide_small = attribution is Attribution.ANONYMOUS and min_group > 1

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

    # Who has not answered: delegations without a submission, grouped by region; their
    # delegates by name only when the round names people.
    people: dict[str | None, list[tuple[str, ResponseStatus]]] = defaultdict(list)
    for person in data.pending:
        people[person.delegation].append((person.name, person.status))
    pending_by_region: dict[str, list[PendingDelegation]] = defaultdict(list)
    for line in delegations:
        if not line.answered:
            pending_by_region[line.region].append(
                PendingDelegation(
                    code=line.code,
                    name=line.name,
                    people=(
                        tuple(people.get(line.code, ())) if attribution is Attribution.NAMED else ()
                    ),
                    counts=_status_counts(line.tally),
                )
            )
    pending = tuple(
        PendingRegion(region=region, delegations=tuple(members))
        for region, members in sorted(
            pending_by_region.items(), key=lambda item: _region_key(item[0])
        )
    )

    # Themes: pooled scale answers and the choice counts of each theme's questions, with
    # what respondents wrote to specify an option listed under its question.
    previous_themes = previous.figures.themes if previous else {}
    counted = overall.submitted + overall.partial
    quotes_held = hide_small and counted < min_group
    quoted_of = {count.question_id: count.count for count in data.quoted_of}
    others = (
        {} if quotes_held else _other_answers(survey, data.others, attribution, lang, quoted_of)
    )
    sections = _sections(survey, data, lang, previous_themes, others)
    if hide_small:
        sections = _hold_small(sections, data, min_group)

    # Comments, attributed as the round says ("other" answers are not comments); beyond the
    # quoted ones, how many more each question has.
    links = other_links(survey)
    quoted = [row for row in data.comments if row.question_id not in links]
    comments = () if quotes_held else _quotes(survey, quoted, attribution, lang)
    shown = Counter(quote.question_id for quote in comments)
    comments_more = tuple(
        QuestionCount(question_id=question_id, count=more)
        for question_id in dict.fromkeys(row.question_id for row in quoted)
        if (more := quoted_of.get(question_id, 0) - shown[question_id]) > 0 and not quotes_held
    )

    # Submissions over time, cumulative.
    progress = _progress(data.submissions_by_hour, data.first_answers_by_hour)

    figures = DigestFigures(
        participants=overall,
        delegations_invited=len(real),
        delegations_answered=answered,
        themes={
            section.key: ThemeFigure(mean=section.scale.mean, n=section.scale.n)
            for section in sections
            if section.key and section.scale is not None
        },
        comments=len(comments) + sum(more.count for more in comments_more),
    )
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
    marking = " ".join((classification or "").split()) or text("classification_default", lang)
    return Digest(
        round_id=round_.id,
        survey_id=survey.id,
        title=survey.title_in(lang),
        language=lang,
        classification=marking,
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
        # An anonymous round's ballots have no time: its digests quote every comment.
        comments_since=(
            previous.created_at if previous and attribution is not Attribution.ANONYMOUS else None
        ),
        change=change,
        progress=progress,
        figures=figures,
        min_group=min_group,
        comments_suppressed=quotes_held and bool(data.comments or data.others),
        comments_more=comments_more,
    )


def _status_counts(tally: Tally) -> tuple[tuple[ResponseStatus, int], ...]:
    """How many of a delegation's invited delegates are in each status, furthest first."""
    return tuple(
        (status, count)
        for status, count in (
            (ResponseStatus.PARTIAL, tally.partial),
            (ResponseStatus.IN_PROGRESS, tally.in_progress),
            (ResponseStatus.NOT_STARTED, tally.not_started),
        )
        if count
    )


def _hold_small(
    sections: Sequence[Section], data: DigestData, min_group: int
) -> tuple[Section, ...]:
    """Sections with every scale and choice summary that covers fewer than ``min_group``
    responses emptied and marked suppressed (an anonymous round's small groups)."""
    answered = {row.question_id: row.count for row in data.answered}

    def respondents(question_ids: Sequence[str]) -> int:
        # Pooled questions: at least as many responses as the most answered one.
        return max((answered.get(question_id, 0) for question_id in question_ids), default=0)

    def scale(summary: ScaleSummary) -> ScaleSummary:
        if summary.n == 0 or respondents(summary.question_ids) >= min_group:
            return summary
        return summary.model_copy(
            update={
                "points": tuple(point.model_copy(update={"count": 0}) for point in summary.points),
                "mean": None,
                "delta": None,
                "suppressed": True,
            }
        )

    def choice(summary: ChoiceSummary) -> ChoiceSummary:
        if summary.n == 0 or summary.n >= min_group:
            return summary
        return summary.model_copy(
            update={
                "options": tuple(
                    option.model_copy(update={"count": 0, "share": None})
                    for option in summary.options
                ),
                "others": (),
                "suppressed": True,
            }
        )

    return tuple(
        section.model_copy(
            update={
                "scale": scale(section.scale) if section.scale else None,
                "scales": tuple(scale(item) for item in section.scales),
                "choices": tuple(choice(item) for item in section.choices),
            }
        )
        for section in sections
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
    others: Mapping[str, tuple[OtherAnswers, ...]],
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
            counted = _choice_summary(
                survey, question, choice_counts.get(question.id, {}), answered, language
            )
            found = others.get(question.id, ())
            choices[theme].append(counted.model_copy(update={"others": found}))

    # Themes in the order the survey asks about them (a stored survey's themes may be sorted).
    first_asked: dict[str, int] = {}
    for index, question in enumerate(survey.questions):
        theme = theme_of(survey, question)
        if theme is not None:
            first_asked.setdefault(theme, index)
    sections: list[Section] = []
    for tag in sorted(first_asked, key=first_asked.__getitem__):
        if not scales.get(tag) and not choices.get(tag):
            continue
        title = pick(survey.themes[tag], language, survey.default_language)
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
    n = answered.get(question.id, 0)
    options = [
        (option.value, pick(option.label, language, survey.default_language))
        for option in survey.choices_of(question)
    ]
    known = {code for code, _ in options}
    # Codes the survey does not list (an edited choice list): shown as they are, never dropped.
    options += [(code, code) for code in sorted(counts) if code not in known]
    return ChoiceSummary(
        question_id=question.id,
        label=question.label_in(language, survey.default_language),
        multiple=question.type is QuestionType.MULTIPLE_CHOICE,
        n=n,
        options=tuple(
            OptionCount(
                code=code,
                label=label,
                count=counts.get(code, 0),
                share=counts.get(code, 0) / n if n else None,
            )
            for code, label in options
        ),
    )


def _other_answers(
    survey: Survey,
    rows: Sequence[CommentRow],
    attribution: Attribution,
    language: str,
    quoted_of: Mapping[str, int],
) -> dict[str, tuple[OtherAnswers, ...]]:
    """What respondents wrote to specify an option, by the choice question it belongs to."""
    links = other_links(survey)
    by_text: dict[str, list[CommentRow]] = defaultdict(list)
    for row in rows:
        if row.question_id in links:
            by_text[row.question_id].append(row)
    found: dict[str, list[OtherAnswers]] = defaultdict(list)
    for text_id, link in links.items():
        if not by_text.get(text_id):
            continue
        chosen = survey.question(link.question_id)
        label = next(
            pick(option.label, language, survey.default_language)
            for option in survey.choices_of(chosen)
            if option.value == link.code
        )
        quotes = _quotes(survey, by_text[text_id], attribution, language)
        more = max(0, quoted_of.get(text_id, 0) - len(quotes))
        found[link.question_id].append(
            OtherAnswers(code=link.code, label=label, quotes=quotes, more=more)
        )
    return {question_id: tuple(answers) for question_id, answers in found.items()}


def _quotes(
    survey: Survey, rows: Sequence[CommentRow], attribution: Attribution, language: str
) -> tuple[Quote, ...]:
    order = {question.id: index for index, question in enumerate(survey.questions)}

    @cache
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
        # Newest first within each question; at the same time, by delegation and name.
        ordered = sorted(
            rows,
            key=lambda r: (
                r.delegation is None,
                r.delegation or "",
                r.participant_name,
                r.response_id,
            ),
        )
        ordered.sort(key=lambda r: r.answered_at, reverse=True)
        ordered.sort(key=lambda r: order.get(r.question_id, len(order)))
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
    participants: Sequence[HourCount], delegations: Sequence[HourCount]
) -> tuple[Progress, ...]:
    by_hour: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for row in participants:
        by_hour[row.hour.astimezone(UTC)][0] += row.count
    for row in delegations:
        by_hour[row.hour.astimezone(UTC)][1] += row.count
    result: list[Progress] = []
    people = teams = 0
    for hour in sorted(by_hour):
        people += by_hour[hour][0]
        teams += by_hour[hour][1]
        result.append(Progress(at=hour, participants=people, delegations=teams))
    return tuple(result)


# -- languages, texts and formats -----------------------------------------------------------

DIGEST_LANGUAGES: tuple[str, ...] = i18n.LANGUAGES
"""The languages a digest is written in: the six official UN languages."""
FALLBACK_LANGUAGE = i18n.SOURCE_LANGUAGE
FSI, PDI = "\u2068", "\u2069"
"""First-strong isolate and pop directional isolate: a value keeps its own direction."""
BIDI_MARKS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}
"""English as the UN writes it (day month year); Chinese in simplified characters."""


def _base(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].lower()


def is_digest_language(tag: str) -> bool:
    """Whether a digest can be written in ``tag`` (``fr``, ``fr-CA``, ``zh-Hans``...)."""
    return _base(tag) in DIGEST_LANGUAGES


def digest_language(wanted: str | None, *, fallback: str = FALLBACK_LANGUAGE) -> str:
    """The digest language for ``wanted``: its base language if a UN language, else the base
    of ``fallback`` (the survey's default language) if one, else English."""
    for tag in (wanted, fallback):
        if tag and is_digest_language(tag):
            return _base(tag)
    return FALLBACK_LANGUAGE


@lru_cache(maxsize=32)
def locale_of(language: str) -> Locale:
    """The Babel locale that formats dates and numbers for a digest in ``language``."""
    base = _base(language)
    if base not in DIGEST_LANGUAGES:
        base = FALLBACK_LANGUAGE
    try:
        return Locale.parse(_LOCALES.get(base, language.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return Locale.parse(_LOCALES.get(base, base))


def is_rtl(language: str) -> bool:
    return locale_of(language).character_order == "right-to-left"


def isolate(value: str, language: str) -> str:
    """``value`` between FSI and PDI in a right-to-left language, else as it is."""
    return f"{FSI}{value}{PDI}" if is_rtl(language) and value else value


def plain(value: str) -> str:
    """``value`` without bidi marks, for renderers that lay out text themselves (the chart)."""
    return BIDI_MARKS.sub("", value)


class Localized(str):
    """A text already written in the digest's language: put into another as it is, since
    isolating it would hide its direction (an isolate takes the direction of its first letter,
    and «...» around an isolated name has none)."""

    __slots__ = ()


def _param(value: object, language: str) -> str:
    if isinstance(value, Localized):
        return value
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        return isolate(format_count(value, language), language)
    return isolate(str(value), language)


def text(key: str, language: str, **params: object) -> str:
    """The digest text ``key`` (the catalogue message ``digest.KEY``) in ``language`` (else
    English), with ``params`` put in.

    Whole numbers are written for the locale; in a right-to-left language each value is
    isolated (FSI ... PDI)."""
    values = {name: _param(value, language) for name, value in params.items()}
    return Localized(i18n.translation(f"digest.{key}", language).format_map(values))


def plural(key: str, count: int, language: str, **params: object) -> str:
    """The plural text ``key`` in the form CLDR gives ``count`` (passed as ``{count}`` too)."""
    template = i18n.translation(f"digest.{key}", language, count=count)
    values = {name: _param(value, language) for name, value in {"count": count, **params}.items()}
    return Localized(template.format_map(values))


def _utc(moment: date | datetime) -> date:
    return moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment


def format_date(moment: date | datetime, language: str) -> str:
    """``2 March 2026``, ``1er mars 2026``, ``2 de marzo de 2026``, ``2026年3月2日`` (UTC day)."""
    day = _utc(moment)
    locale = locale_of(language)
    pattern = locale.date_formats["long"].pattern
    if locale.language == "fr" and day.day == 1:
        pattern = re.sub(r"(?<![d'])d(?!d)", "d'er'", pattern, count=1)  # le 1er mars
    return babel_format_date(day, pattern, locale=locale)


def format_day(moment: date | datetime, language: str) -> str:
    """A short day for axes: ``2 Mar``, ``2 mars``, ``3月2日``."""
    return format_skeleton("MMMd", _utc(moment), locale=locale_of(language))


def format_moment(moment: datetime, language: str) -> str:
    """``6 March 2026, 17:00 UTC``: a digest's time, always in UTC."""
    utc = moment.astimezone(UTC)
    return text(
        "moment_utc",
        language,
        date=format_date(utc, language),
        time=format_time(utc, "short", tzinfo=UTC, locale=locale_of(language)),
    )


def format_period(start: datetime, end: datetime, language: str) -> str:
    """``2 – 6 Mar 2026``: a round's days, from opening to closing (UTC)."""
    first, last = _utc(start), _utc(end)
    if last < first:
        last = first
    return format_interval(first, last, "yMMMd", locale=locale_of(language))


def _quantize(value: float, digits: int) -> Decimal:
    """``value`` rounded as Python rounds floats (half-even on the exact binary value)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def format_count(value: int, language: str) -> str:
    return babel_format_decimal(value, locale=locale_of(language))


def format_decimal(value: float, language: str, digits: int = 1) -> str:
    """``3.4``, ``3,4``: a mean, with ``digits`` decimals in the locale's notation."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_format_decimal(_quantize(value, digits), pattern, locale=locale_of(language))


def format_signed(value: float, language: str, digits: int = 1) -> str:
    """``+0.3``, ``−1.0``, ``±0``: a change, with its sign always shown."""
    rounded = _quantize(value, digits)
    if rounded == 0:
        return "±0"
    written = format_decimal(float(abs(rounded)), language, digits)
    return ("+" if rounded > 0 else "−") + written


def format_rate(rate: float | None, language: str) -> str:
    """``75%``, ``75 %``: a share, in whole percent, for the locale."""
    if rate is None:
        return "–"
    return format_percent(_quantize(100 * rate, 0) / 100, locale=locale_of(language))


def format_list(items: Sequence[str], language: str) -> str:
    """``A, B and C``, ``A, B et C``, ``A وB وC`` (each item isolated in Arabic, so that the
    items of a list in another script keep their order)."""
    return Localized(
        babel_format_list(
            [item if isinstance(item, Localized) else isolate(item, language) for item in items],
            locale=locale_of(language),
        )
    )


def format_score(value: float) -> str:
    """A scale point: ``4`` rather than ``4.0``."""
    return str(int(value)) if value.is_integer() else str(value)


def quoted(value: str, language: str) -> str:
    """A name quoted in running text as the language quotes it (French «...»)."""
    return text("quoted", language, text=value)


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


def pending_heading(digest: Digest) -> str:
    """ "Not answered yet" while the round is open, "Did not answer" once it closed."""
    return text("h_pending_closed" if digest.closed else "h_pending_open", digest.language)


def no_answers(digest: Digest) -> str:
    return text("no_answers_closed" if digest.closed else "no_answers_open", digest.language)


def suppressed_note(digest: Digest) -> str:
    """Why a figure is not shown: the round is anonymous and the group is too small."""
    return text("suppressed", digest.language, min=digest.min_group)


def pending_people(delegation: PendingDelegation, language: str) -> list[str]:
    """Where a pending delegation's delegates stand: ``Name — in progress`` each when the
    round names them, else ``not started: 2`` per status."""
    if delegation.people:
        return [
            f"{person} — {status_word(status, language)}" for person, status in delegation.people
        ]
    return [
        text("status_count", language, status=status_word(status, language), count=n)
        for status, n in delegation.counts
    ]


def counted_note(digest: Digest) -> str:
    return text("note_counted_closed" if digest.closed else "note_counted_open", digest.language)


def _theme_sentences(digest: Digest) -> list[str]:
    """Where alignment is highest and lowest; themes whose means show the same are a tie."""
    lang = digest.language
    scored = [theme for theme in digest.themes if theme.mean is not None]
    if not scored and any(theme.suppressed for theme in digest.themes):
        return [text("summary_suppressed", lang, min=digest.min_group)]
    if not scored:
        return [text("summary_no_scores_closed" if digest.closed else "summary_no_scores", lang)]
    if len(scored) == 1:
        theme = scored[0]
        return [
            text(
                "summary_one_theme",
                lang,
                theme=quoted(theme.title, lang),
                mean=format_mean(theme, lang),
            )
        ]
    shown = {theme.key: _quantize(theme.mean or 0.0, 1) for theme in scored}
    top, bottom = max(shown.values()), min(shown.values())
    if top == bottom:
        return [text("summary_all_tied", lang, mean=format_mean(scored[0], lang))]
    sentences = []
    for key, value in (("summary_highest", top), ("summary_lowest", bottom)):
        group = [theme for theme in scored if shown[theme.key] == value]
        mean = format_mean(group[0], lang)
        if len(group) == 1:
            sentences.append(text(key, lang, theme=quoted(group[0].title, lang), mean=mean))
        else:
            themes = format_list([quoted(theme.title, lang) for theme in group], lang)
            sentences.append(text(f"{key}_tie", lang, themes=themes, mean=mean))
    return sentences


def summary(digest: Digest) -> str:
    """One paragraph in plain words: where the round stands, for readers who read nothing else."""
    lang = digest.language
    answered, invited = digest.delegations_answered, digest.delegations_invited
    state = "closed" if digest.closed else "open"
    sentences = [
        plural(
            "summary_rate",
            answered,
            lang,
            invited=invited,
            rate=format_rate(digest.delegation_rate, lang),
        )
    ]
    started = digest.delegations_started
    untouched = invited - answered - started
    if started:
        sentences.append(plural(f"summary_started_{state}", started, lang))
    if untouched:
        sentences.append(plural(f"summary_untouched_{state}", untouched, lang))
    sentences += _theme_sentences(digest)
    if digest.change is None:
        sentences.append(text("summary_first", lang))
    else:
        when = format_date(digest.change.previous_at, lang)
        moved = digest.change.delegations_answered
        if moved > 0:
            sentences.append(plural("summary_change", moved, lang, date=when))
        elif moved == 0:
            sentences.append(text("summary_no_change", lang, date=when))
    if digest.comments_total:
        sentences.append(plural("summary_comments", digest.comments_total, lang))
    closing = format_date(digest.closes_at, lang)
    sentences.append(
        text("summary_closed" if digest.closed else "summary_closes", lang, date=closing)
    )
    return " ".join(sentences)


def round_line(digest: Digest) -> str:
    """``Round 3 · 2 – 6 Mar 2026 · closed on 6 March 2026 · digest of 6 March 2026, 17:00 UTC``."""
    lang = digest.language
    return text(
        "round_line_closed" if digest.closed else "round_line_open",
        lang,
        round=str(digest.round_id),
        period=format_period(digest.opens_at, digest.closes_at, lang),
        closes=format_date(digest.closes_at, lang),
        generated=format_moment(digest.generated_at, lang),
    )


def status_line(digest: Digest) -> str:
    """``closed on 6 March 2026`` or ``open, closes on 16 March 2026``."""
    lang = digest.language
    return text(
        "status_closed" if digest.closed else "status_open",
        lang,
        date=format_date(digest.closes_at, lang),
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


def choice_n(choice: ChoiceSummary, language: str) -> str:
    return text("choice_n_multiple" if choice.multiple else "choice_n", language, n=choice.n)


def option_line(option: OptionCount, language: str) -> str:
    """``Already engaged: 5 (50%)``."""
    return text(
        "option_count",
        language,
        option=option.label,
        count=option.count,
        share=format_rate(option.share, language),
    )


def not_chosen_line(choice: ChoiceSummary, language: str) -> str:
    """``Not chosen: Khartoum Process, Bali Process and Other``: zeros on one line."""
    return text(
        "not_chosen",
        language,
        options=format_list([option.label for option in choice.not_chosen], language),
    )


def point_label(point: Point) -> str:
    """``1 (Not aligned at all)``, ``2``: a scale point with its end label."""
    return format_score(point.value) + (f" ({point.label})" if point.label else "")


# -- 3. Markdown ---------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_MARKDOWN_LINE_START = re.compile(r"^([#+=>-]|\d+[.)])")
_SPACES = re.compile(r"[^\S\u00a0\u202f]+")
"""Runs of white space but the no-break spaces that French punctuation and numbers keep."""


def escape_markdown(value: str) -> str:
    """Text from people, made inert in CommonMark, on one line.

    Emphasis, code, link, HTML and table characters are backslash-escaped, and so is a start
    that would make a heading, list or quote: ``<script>`` becomes ``\\<script\\>``, which
    renders as the text itself, never as HTML.
    """
    flat = _MARKDOWN_SPECIAL.sub(r"\\\1", _SPACES.sub(" ", value).strip(" "))
    return _MARKDOWN_LINE_START.sub(r"\\\1", flat)


def _cell(value: str) -> str:
    return escape_markdown(value)


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
    out += [f"**{_cell(digest.classification)}**", ""]
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
    out += [f"### {t('h_by_region', lang)}", ""]
    if compact:
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
                    f"{format_count(region.answered, lang)} / "
                    f"{format_count(region.delegations, lang)}",
                    format_rate(region.rate, lang),
                    *_tally_cells(region.tally, lang),
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
                    _cell(delegation_name(line.name, line.code)),
                    _cell(region_name(line.region, lang)),
                    t("yes" if line.answered else "no", lang),
                    *_tally_cells(line.tally, lang),
                ]
                for line in digest.delegations
            ],
        )

    # Who has not answered.
    out += [f"## {pending_heading(digest)}", ""]
    if not digest.pending:
        out += [t("everyone_answered", lang), ""]
    for region in digest.pending:
        out += [f"### {_cell(region_name(region.region, lang))}", ""]
        for delegation in region.delegations:
            name = _cell(delegation_name(delegation.name, delegation.code))
            if compact:
                out.append(f"- {name}")
                continue
            people = "; ".join(_cell(item) for item in pending_people(delegation, lang))
            out.append(f"- **{name}**: {people}" if people else f"- **{name}**")
        out.append("")

    # Themes.
    out += [f"## {t('h_themes', lang)}", "", f"_{counted_note(digest)}_", ""]
    for section in digest.sections:
        summaries = ([section.scale] if section.scale else []) + list(section.scales)
        if compact and not summaries:
            continue
        if section.key or not compact:
            out += [f"### {_cell(section.title)}", ""]
        for scale in summaries:
            if not section.key:
                out += [f"**{_cell(scale.title)}**", ""]
            out += _scale_markdown(digest, scale, compact=compact)
        if not compact:
            for choice in section.choices:
                out += _choice_markdown(digest, choice)

    # Comments.
    out += [f"## {t('h_comments', lang)}", ""]
    if digest.comments_since is not None:
        out += [f"_{t('comments_since', lang, date=format_date(digest.comments_since, lang))}_"]
    else:
        out += [f"_{t('comments_all', lang)}_"]
    out.append("")
    if digest.comments_suppressed:
        out += [_cell(suppressed_note(digest)), ""]
    elif not digest.comments:
        out += [t("no_comments", lang), ""]
    limit = (5 if max_comments is None else max_comments) if compact else max_comments
    shown = digest.comments if limit is None else digest.comments[:limit]
    heading = None
    more = {count.question_id: count.count for count in digest.comments_more}
    for index, quote in enumerate(shown):
        if quote.heading != heading:
            heading = quote.heading
            out += [f"**{_cell(heading)}**", ""]
        out.append(f"> {_cell(quote.text)}")
        if quote.attribution:
            out.append(f"> — {_cell(quote.attribution)}")
        out.append("")
        last = index + 1 == len(shown) or shown[index + 1].question_id != quote.question_id
        if not compact and last and more.get(quote.question_id):
            out += [plural("more_in_export", more[quote.question_id], lang), ""]
    hidden = len(digest.comments) - len(shown)
    if hidden > 0:
        out += [plural("more_comments", hidden, lang), ""]
    if compact and digest.comments_more:
        out += [plural("more_in_export", sum(more.values()), lang), ""]
    if not compact:
        out += [f"_{_cell(digest.classification)}: {t('confidential_note', lang)}_", ""]
    if files:
        out += ["", t("full_digest", lang, files=files)]
    return "\n".join(out).rstrip() + "\n"


def delegation_name(name: str, code: str | None) -> str:
    """``France (FRA)``; the name alone when it is the code."""
    return f"{name} ({code})" if code and code != name else name


def _tally_cells(tally: Tally, language: str) -> list[str]:
    return [
        format_count(value, language)
        for value in (
            tally.invited,
            tally.submitted,
            tally.partial,
            tally.in_progress,
            tally.not_started,
        )
    ]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _scale_markdown(digest: Digest, scale: ScaleSummary, *, compact: bool) -> list[str]:
    lang = digest.language
    if scale.suppressed:
        return [_cell(suppressed_note(digest)), ""]
    if scale.n == 0:
        return [no_answers(digest), ""]
    mean = mean_line(scale, lang)
    if compact:
        points = " · ".join(
            f"{format_score(p.value)}: {format_count(p.count, lang)}" for p in scale.points
        )
        return [f"{mean} — {points}", ""]
    header = [_cell(point_label(point)) for point in scale.points]
    row = [
        f"{format_count(point.count, lang)} ({format_rate(scale.share(point), lang)})"
        for point in scale.points
    ]
    return [mean, "", *_table(header, [row])]


def _choice_markdown(digest: Digest, choice: ChoiceSummary) -> list[str]:
    lang = digest.language
    if choice.suppressed:
        return [f"**{_cell(choice.label)}**", "", _cell(suppressed_note(digest)), ""]
    lines = [f"**{_cell(choice.label)}** ({choice_n(choice, lang)})", ""]
    if choice.n == 0:
        return [*lines, no_answers(digest), ""]
    lines += [f"- {_cell(option_line(option, lang))}" for option in choice.chosen]
    if choice.not_chosen:
        lines += ["", f"_{_cell(not_chosen_line(choice, lang))}_"]
    for other in choice.others:
        lines += ["", _cell(text("others_heading", lang, option=other.label)), ""]
        for quote in other.quotes:
            who = f" — {_cell(quote.attribution)}" if quote.attribution else ""
            lines.append(f"- {_cell(quote.text)}{who}")
        if other.more:
            lines += ["", plural("more_in_export", other.more, lang)]
    return [*lines, ""]


__all__ = [
    "COUNTED_STATUSES",
    "DEFAULT_MIN_GROUP",
    "DIGEST_LANGUAGES",
    "QUOTES_PER_QUESTION",
    "ChoiceCount",
    "ChoiceSummary",
    "CommentRow",
    "Digest",
    "DigestData",
    "DigestFigures",
    "DigestPlan",
    "DigestRun",
    "HourCount",
    "OtherAnswers",
    "OtherLink",
    "PendingPerson",
    "QuestionCount",
    "ScaleCount",
    "ScaleSummary",
    "StatusCount",
    "Tally",
    "build_digest",
    "digest_language",
    "escape_markdown",
    "is_digest_language",
    "other_links",
    "pending_people",
    "plural",
    "render_markdown",
    "summary",
    "suppressed_note",
    "text",
]
