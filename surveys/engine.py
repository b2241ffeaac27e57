"""The survey engine: walks one delegate through a survey, one question at a time.

Pure functions over a :class:`~surveys.definition.Survey` and a
:class:`~surveys.records.ResponseState`; no I/O, no clock but the ``today`` passed in.
Channels call :func:`step` to know what to show, then :func:`answer`, :func:`back`,
:func:`skip` or :func:`edit` with what the delegate did, and store the returned state.

Example::

    state = start(survey)
    shown = step(survey, state, language="fr")          # a Prompt
    outcome = answer(survey, state, Typed("2"), language="fr", today=today, now=now)
    if isinstance(outcome, Rejected):
        print(outcome.message)                          # in French
    else:
        state = outcome.state                           # store it, with outcome.changes

The walk is linear. A question is asked when its ``relevant`` condition holds on the answers
given before it; an answer that makes a later, answered question irrelevant clears that answer
(reported as an :class:`~surveys.records.AnswerChange` with reason ``"cleared"``); so does an
earlier answer that takes a later choice out of its ``choice_filter``. Labels are in the survey
language closest to the delegate's, with ``${question}`` replaced by the delegate's answer to it
(as shown to them: a choice's label, a number in their notation); catalogue messages are in the
delegate's language, else English. Escaping for a channel is the renderer's work.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from surveys import expressions
from surveys.answers import (
    Answers,
    Option,
    Pressed,
    RawInput,
    Rejected,
    Typed,
    numbered,
    offered_choices,
    parsed_expression,
    required_message,
)
from surveys.definition import (
    PIPED,
    AnswerValue,
    Choice,
    Question,
    QuestionType,
    Scale,
    Survey,
    pick,
)
from surveys.inputs import parse_input
from surveys.messages import format_number, joined, text
from surveys.records import AnswerChange, ResponseState

__all__ = [
    "MAX_LISTED_POINTS",
    "Accepted",
    "Answers",
    "Option",
    "Outcome",
    "Pressed",
    "Prompt",
    "RawInput",
    "Rejected",
    "Summary",
    "SummaryItem",
    "Typed",
    "answer",
    "back",
    "display_value",
    "edit",
    "is_complete",
    "parsed_expression",
    "relevant_questions",
    "required_message",
    "skip",
    "start",
    "step",
]

MAX_LISTED_POINTS = 100
"""A scale with more points than this gets no options: channels ask for a typed number."""


@dataclass(frozen=True)
class Prompt:
    """A question to ask now, in the delegate's language, with what the channel needs to draw it."""

    question: Question
    language: str
    """The language of the texts: the delegate's if the survey has it, else its default."""
    label: str
    hint: str
    notes: tuple[str, ...]
    """Texts of note questions shown just before this one (already in the language)."""
    options: tuple[Option, ...]
    """Choices (single/multiple/yes-no) or scale points; empty for typed answers."""
    current: AnswerValue | None
    """The answer already given, if the delegate came back to this question."""
    can_back: bool
    can_skip: bool
    position: int
    """1-based number of this question among those that take an answer and are relevant now."""
    total: int
    """How many questions take an answer and are relevant with the answers given so far."""
    scale_labels: tuple[str, str] = ("", "")
    """For a scale, what its lowest and highest points mean (either may be empty)."""
    numbered: bool = True
    """Whether the channel may show the options' numbers (not when labels are numbers)."""
    headings: tuple[tuple[int, str], ...] = ()
    """Labels of the groups that start here, each with the number of ``notes`` shown before it."""
    number_hint: str = ""
    """For a scale, how to type an answer (bounds and step), for channels that ask it typed."""

    def lead_in(self) -> tuple[tuple[str, bool], ...]:
        """Group headings (True) and notes (False) to show before the label, in order."""
        shown: list[tuple[str, bool]] = []
        headings = list(self.headings)
        for index, note in enumerate(self.notes):
            while headings and headings[0][0] <= index:
                shown.append((headings.pop(0)[1], True))
            shown.append((note, False))
        shown.extend((heading, True) for _, heading in headings)
        return tuple(shown)


@dataclass(frozen=True)
class SummaryItem:
    question: Question
    label: str
    value: AnswerValue | None
    display: str
    """The answer as the delegate reads it: option labels, formatted numbers, "(skipped)"."""


@dataclass(frozen=True)
class Summary:
    """Everything relevant is answered: the delegate reviews, changes or submits."""

    language: str
    """As in :class:`Prompt`: the language of the labels."""
    items: tuple[SummaryItem, ...]
    notes: tuple[str, ...]
    """Texts of trailing notes (after the last question)."""


@dataclass(frozen=True)
class Accepted:
    state: ResponseState
    changes: tuple[AnswerChange, ...]
    """What changed in the answers (the answer itself, and anything cleared as irrelevant)."""


Outcome = Accepted | Rejected


# --- walking the survey -----------------------------------------------------------------------


def start(survey: Survey, *, today: date | None = None) -> ResponseState:
    """A fresh response, at the first question that applies."""
    asking = relevant_questions(survey, {}, today=today)
    return ResponseState(answers={}, current=asking[0].id if asking else None, started=True)


def step(
    survey: Survey, state: ResponseState, *, language: str, today: date | None = None
) -> Prompt | Summary:
    """What to show now: the current question, or the summary once everything is answered."""
    shown = _relevant(survey, state.answers, today)  # settling changes no answer
    asking = [question for question in shown if question.asks]
    state = _settled_among(state, asking)
    label_language = survey.language_for(language)
    earlier = {q.id: state.answers[q.id] for q in shown if q.id in state.answers}
    pipe = _Piping(survey, earlier, language=language)
    if state.current is None:
        after_last = shown.index(asking[-1]) + 1 if asking else 0
        return Summary(
            language=label_language,
            items=tuple(
                SummaryItem(
                    question=question,
                    label=pipe(question.label_in(label_language, survey.default_language)),
                    value=state.answers.get(question.id),
                    display=display_value(
                        survey, question, state.answers.get(question.id), language=language
                    ),
                )
                for question in asking
            ),
            notes=tuple(
                pipe(_note_text(survey, note, label_language)) for note in shown[after_last:]
            ),
        )
    question = survey.question(state.current)
    index = shown.index(question)
    first_note = index
    while first_note > 0 and not shown[first_note - 1].asks:
        first_note -= 1
    position = asking.index(question) + 1
    scale = question.scale or Scale()
    offered = offered_choices(survey, question, earlier, today=today)
    return Prompt(
        question=question,
        language=label_language,
        label=pipe(question.label_in(label_language, survey.default_language)),
        hint=pipe(question.hint_in(label_language, survey.default_language)),
        notes=tuple(
            pipe(_note_text(survey, note, label_language)) for note in shown[first_note:index]
        ),
        options=_options(survey, question, offered, label_language),
        current=state.answers.get(question.id),
        can_back=position > 1,
        can_skip=not question.required,
        position=position,
        total=len(asking),
        scale_labels=(
            (
                pick(scale.min_label, label_language, survey.default_language),
                pick(scale.max_label, label_language, survey.default_language),
            )
            if question.type is QuestionType.SCALE
            else ("", "")
        ),
        numbered=question.type is not QuestionType.SCALE
        and numbered(offered, survey=survey, language=label_language),
        headings=tuple(
            (at - first_note, pipe(heading))
            for at, heading in _group_starts(survey, shown, first_note, index, label_language)
        ),
        number_hint=_number_hint(scale, language) if question.type is QuestionType.SCALE else "",
    )


def answer(
    survey: Survey,
    state: ResponseState,
    raw: RawInput,
    *,
    language: str,
    today: date,
    now: datetime,
) -> Outcome:
    """Record ``raw`` as the answer to the current question and move on, or say why not.

    An empty input to an optional question skips it.
    """
    state = _settled(survey, state, today)
    if state.current is None:
        return Rejected(text("already_complete", language))
    question = survey.question(state.current)
    value = parse_input(
        survey,
        question,
        raw,
        language=language,
        today=today,
        answers=_earlier_answers(survey, state.answers, today),
    )
    if isinstance(value, Rejected):
        return value
    return _record(survey, state, question, value, now=now, today=today)


def skip(
    survey: Survey,
    state: ResponseState,
    *,
    language: str,
    now: datetime,
    today: date | None = None,
) -> Outcome:
    """Leave the current question unanswered (``None``) and move on; refused if it is required.

    ``today`` (for conditions using ``today()``) defaults to the date of ``now``.
    """
    today = today or now.date()
    state = _settled(survey, state, today)
    if state.current is None:
        return Rejected(text("already_complete", language))
    question = survey.question(state.current)
    if question.required:
        if question.required_message:
            return Rejected(required_message(survey, question, language=language))
        return Rejected(text("cannot_skip", language))
    return _record(survey, state, question, None, now=now, today=today)


def back(survey: Survey, state: ResponseState, *, today: date | None = None) -> ResponseState:
    """Go to the previous question that applies (from the summary: the last one).

    At the first question, the state is returned unchanged. Answers are kept.
    """
    state = _settled(survey, state, today)
    asking = relevant_questions(survey, state.answers, today=today)
    if not asking:
        return state
    if state.current is None:
        return replace(state, current=asking[-1].id)
    index = [question.id for question in asking].index(state.current)
    if index == 0:
        return state
    return replace(state, current=asking[index - 1].id)


def edit(
    survey: Survey,
    state: ResponseState,
    question_id: str,
    *,
    language: str,
    today: date | None = None,
) -> Outcome:
    """Go to a question that applies now to change its answer; then on to what is missing.

    While ``editing``, an accepted answer leads to the first question that applies and has no
    answer yet (one the change made relevant), else back to the summary.
    """
    state = _settled(survey, state, today)
    applying = relevant_questions(survey, state.answers, today=today)
    if question_id not in {question.id for question in applying}:
        return Rejected(text("cannot_edit", language))
    return Accepted(replace(state, current=question_id, editing=True), ())


def relevant_questions(
    survey: Survey, answers: Answers, *, today: date | None = None
) -> list[Question]:
    """The questions that take an answer and apply given ``answers``, in survey order.

    A condition that uses ``today()`` counts as true when ``today`` is not given: better to ask
    a question that may not apply than to hide one that does. Pass ``today`` wherever known.
    """
    return [question for question in _relevant(survey, answers, today) if question.asks]


def is_complete(survey: Survey, state: ResponseState, *, today: date | None = None) -> bool:
    """Whether the response can be submitted: every question that applies has been answered
    (or skipped, if optional), and the delegate has reached the summary."""
    state = _settled(survey, state, today)
    if state.current is not None:
        return False
    for question in relevant_questions(survey, state.answers, today=today):
        if question.id not in state.answers:
            return False
        if question.required and state.answers[question.id] is None:
            return False
    return True


def display_value(
    survey: Survey, question: Question, value: AnswerValue | None, *, language: str
) -> str:
    """An answer as the delegate reads it: option labels, plain numbers, "(skipped)"."""
    if value is None:
        return text("skipped", language)
    label_language = survey.language_for(language)
    labels = {
        option.value: pick(option.label, label_language, survey.default_language)
        for option in survey.choices_of(question)
    }
    if isinstance(value, list):
        return joined([labels.get(code, code) for code in value], language)
    if isinstance(value, str):
        return labels.get(value, value)
    if isinstance(value, bool):  # not an answer type; shown as given rather than as 1/0
        return str(value)
    return format_number(value, language)


# --- internals --------------------------------------------------------------------------------


def _applies(question: Question, earlier: Answers, today: date | None) -> bool:
    if question.relevant is None:
        return True
    try:
        return expressions.evaluate(parsed_expression(question.relevant), earlier, today=today)
    except ValueError:  # today() without a today: ask rather than hide
        return True


_RELEVANT_KEPT = 1024
"""How many (survey, answers, day) the questions that apply are kept for (:func:`_relevant`)."""
_relevant_kept: OrderedDict[Hashable, tuple[Survey, tuple[Question, ...]]] = OrderedDict()


def _relevant(survey: Survey, answers: Answers, today: date | None) -> list[Question]:
    """Questions and notes that apply, in order.

    A condition sees only the answers of questions that themselves apply, so clearing one
    question cascades to those that depended on it. A choice question whose ``choice_filter``
    leaves nothing to choose is not asked either (there would be no way to answer it).

    A pure function of immutable inputs (a survey is frozen), worked out again only for what
    was not asked lately: every invitation of a round asks it of the same empty answers, and
    one screen asks it several times.
    """
    key = (id(survey), today, _frozen(answers))
    kept = _relevant_kept.get(key)
    if kept is not None and kept[0] is survey:
        _relevant_kept.move_to_end(key)
        return list(kept[1])
    shown = _work_out_relevant(survey, answers, today)
    # The survey is kept with its result, so its id cannot be reused while the entry lives.
    _relevant_kept[key] = (survey, tuple(shown))
    if len(_relevant_kept) > _RELEVANT_KEPT:
        _relevant_kept.popitem(last=False)
    return shown


def _frozen(answers: Answers) -> Hashable:
    """``answers`` as a key: by question, each value with its type (1, 1.0 and "1" differ)."""
    return tuple(
        sorted(
            (qid, type(value).__name__, tuple(value) if isinstance(value, list) else value)
            for qid, value in answers.items()
        )
    )


def _work_out_relevant(survey: Survey, answers: Answers, today: date | None) -> list[Question]:
    shown: list[Question] = []
    earlier: dict[str, AnswerValue | None] = {}
    for question in survey.questions:
        if _applies(question, earlier, today) and (
            question.choice_filter is None
            or offered_choices(survey, question, earlier, today=today)
        ):
            shown.append(question)
            if question.id in answers:
                earlier[question.id] = answers[question.id]
    return shown


def _settled(survey: Survey, state: ResponseState, today: date | None) -> ResponseState:
    """``state`` with ``current`` pointing at a question that applies (or None).

    A stored state may name a question that no longer applies or exists (e.g. resumed against
    a changed definition); the delegate then goes to the first question still unanswered.
    """
    return _settled_among(state, relevant_questions(survey, state.answers, today=today))


def _settled_among(state: ResponseState, asking: Sequence[Question]) -> ResponseState:
    """:func:`_settled`, given the questions that apply to ``state``'s answers."""
    if state.current is not None and any(q.id == state.current for q in asking):
        return state
    missing = next((q for q in asking if q.id not in state.answers), None)
    if missing is None:
        if state.current is None and not state.editing:
            return state
        return replace(state, current=None, editing=False)
    return replace(state, current=missing.id)


def _record(
    survey: Survey,
    state: ResponseState,
    question: Question,
    value: AnswerValue | None,
    *,
    now: datetime,
    today: date | None,
) -> Accepted:
    """Store ``value`` (None: skipped), clear what no longer applies, and move on."""
    changes: list[AnswerChange] = []
    previous = state.answers.get(question.id)
    if value is None:
        if question.id not in state.answers or previous is not None:
            changes.append(AnswerChange(question.id, None, now, reason="skipped"))
    elif previous is None:
        changes.append(AnswerChange(question.id, value, now, reason="answered"))
    elif previous != value:
        changes.append(AnswerChange(question.id, value, now, reason="changed"))

    answers = dict(state.answers)
    answers[question.id] = value
    asking = relevant_questions(survey, answers, today=today)
    applying = {q.id for q in asking}
    for other in survey.questions:
        if other.id in answers and other.id not in applying:
            del answers[other.id]
            changes.append(AnswerChange(other.id, None, now, reason="cleared"))
    # A changed answer may take a later choice out of its choice_filter: clear that answer
    # too (as ODK does), so that no answer stands that the form would not have offered.
    for other in asking:
        chosen = answers.get(other.id)
        if other.choice_filter is None or chosen is None:
            continue
        earlier = _earlier_answers(survey, answers, today, before=other.id)
        allowed = {c.value for c in offered_choices(survey, other, earlier, today=today)}
        codes = chosen if isinstance(chosen, list) else [str(chosen)]
        if any(code not in allowed for code in codes):
            del answers[other.id]
            changes.append(AnswerChange(other.id, None, now, reason="cleared"))

    missing = next((q for q in asking if q.id not in answers), None)
    ids = [q.id for q in asking]
    if state.editing or question.id not in ids:
        following = missing
    else:
        index = ids.index(question.id)
        following = asking[index + 1] if index + 1 < len(asking) else missing
    new_state = replace(
        state,
        answers=answers,
        current=following.id if following else None,
        editing=state.editing and following is not None,
        started=True,
    )
    return Accepted(new_state, tuple(changes))


def _options(
    survey: Survey, question: Question, offered: tuple[Choice, ...], language: str
) -> tuple[Option, ...]:
    if question.type is QuestionType.SCALE:
        scale = question.scale or Scale()
        if scale.count() > MAX_LISTED_POINTS:
            return ()
        return tuple(Option(n, str(p), str(p)) for n, p in enumerate(scale.points(), start=1))
    return tuple(
        Option(n, option.value, pick(option.label, language, survey.default_language))
        for n, option in enumerate(offered, start=1)
    )


def _number_hint(scale: Scale, language: str) -> str:
    low, high = format_number(scale.min, language), format_number(scale.top, language)
    if scale.step == 1:
        return text("type_number_between", language, low=low, high=high)
    step = format_number(scale.step, language)
    return text("type_number_steps", language, low=low, high=high, step=step)


def _note_text(survey: Survey, note: Question, language: str) -> str:
    label = note.label_in(language, survey.default_language)
    hint = note.hint_in(language, survey.default_language)
    return f"{label}\n{hint}" if hint else label


def _earlier_answers(
    survey: Survey, answers: Answers, today: date | None, *, before: str | None = None
) -> dict[str, AnswerValue | None]:
    """The answers of questions that apply (what conditions, filters and piping may see),
    optionally only those before question ``before``."""
    seen: dict[str, AnswerValue | None] = {}
    for question in _relevant(survey, answers, today):
        if question.id == before:
            break
        if question.id in answers:
            seen[question.id] = answers[question.id]
    return seen


class _Piping:
    """Replaces ``${q}`` in a text with the answer to ``q`` as the delegate reads it."""

    def __init__(self, survey: Survey, answers: Answers, *, language: str) -> None:
        self.survey = survey
        self.answers = answers
        self.language = language

    def __call__(self, value: str) -> str:
        if "${" not in value:
            return value
        return PIPED.sub(self._answer, value)

    def _answer(self, match: re.Match[str]) -> str:
        qid = match.group(1)
        answer = self.answers.get(qid)
        if answer is None:
            return ""
        try:
            question = self.survey.question(qid)
        except KeyError:  # checked at load; a stored definition could still be older
            return ""
        return display_value(self.survey, question, answer, language=self.language)


def _group_starts(
    survey: Survey, shown: list[Question], first: int, last: int, language: str
) -> list[tuple[int, str]]:
    """(index in ``shown``, label) of each labelled group whose first item shown now is in
    ``shown[first : last + 1]``: a heading goes before the group's first question or note."""
    starts: list[tuple[int, str]] = []
    for index in range(first, last + 1):
        before = set(shown[index - 1].groups) if index > 0 else set()
        for path in shown[index].groups:
            if path in before:
                continue
            label = survey.groups.get(path)
            if label:
                starts.append((index, pick(label, language, survey.default_language)))
    return starts
