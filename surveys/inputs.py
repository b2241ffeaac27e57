"""Turning what a delegate pressed or typed into a validated answer for one question.

Delegates type in their own language and habits: ``3,5`` for a decimal in French, ``1 500`` for
an integer, ``25/03/2025`` for a date, an option's number or label for a choice. Everything that
cannot be read is a :class:`~surveys.answers.Rejected` with a message in the delegate's language
that says what is expected; nothing here raises on input.

Example::

    parse_input(survey, question, Typed("2, 3"), language="fr", today=today)
    # ['security', 'health']   (codes, in the order of the options)
    parse_input(survey, question, Typed("2, Xyz"), language="fr", today=today)
    # Rejected('« Xyz » ne fait pas partie des options. Veuillez répondre par des nombres ...')
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from types import MappingProxyType

from surveys import expressions, i18n
from surveys.answers import (
    Answers,
    Pressed,
    RawInput,
    Rejected,
    Typed,
    numbered,
    offered_choices,
    parsed_expression,
    required_message,
)
from surveys.definition import AnswerValue, Choice, Question, QuestionType, Scale, Survey, pick
from surveys.messages import decimal_mark, format_number, joined, quoted, text

TEXT_LIMIT = 4000
"""The longest free-text answer, whatever a question's ``max_length``: what every echo (the
summary, a digest quote) can show on Slack and Telegram, and far more than a comment needs.

A typed text is otherwise kept as written, markup and invisible characters included (every echo
escapes it for its channel, every export defuses it), except U+0000: PostgreSQL text cannot
hold it, so it is removed on both backends alike."""

# Besides its labels in any language and the option numbers, words a yes/no question accepts.
YES_WORDS = frozenset({"yes", "y", "oui", "si", "نعم"})
NO_WORDS = frozenset({"no", "n", "non", "لا"})

MAX_INTEGER_DIGITS = 18
"""Longer numbers are refused: they are typing accidents and would not fit a 64-bit column."""

_SPACE_SEPARATORS = " \u00a0\u2007\u2009\u202f_\u066c"
"""Thousands separators accepted in every language: spaces (plain, no-break, thin), underscore
and the Arabic thousands separator."""

_LIST_SEPARATORS = re.compile(r"[,;،؛，；]")
_OPTION_NUMBER = re.compile(r"([0-9]+)[.)]?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DAY_FIRST_DATE = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")
_MAX_QUOTED = 40
_MAX_LISTED_POINTS = 12
"""A scale with more points is refused with its bounds and step, not the list of its points."""
_NO_ANSWERS: Mapping[str, AnswerValue | None] = MappingProxyType({})


def parse_input(
    survey: Survey,
    question: Question,
    raw: RawInput,
    *,
    language: str,
    today: date,
    answers: Mapping[str, AnswerValue | None] = _NO_ANSWERS,
) -> AnswerValue | Rejected | None:
    """The answer ``raw`` gives to ``question``, ``None`` to skip it, or why it is refused.

    ``None`` is returned for an empty input to an optional question (the same as skipping).
    ``answers`` are the other answers so far, which the question's constraint may refer to.
    Raises ``ValueError`` only for a note, which takes no input (the engine never asks one).
    """
    if not question.asks:
        raise ValueError(f"question {question.id!r} is a note and takes no answer")
    value = (
        None
        if _is_empty(raw)
        else _PARSERS[question.type](survey, question, raw, language, today, answers)
    )
    if value is None:
        if question.required:
            return Rejected(required_message(survey, question, language=language))
        return None
    if isinstance(value, Rejected) or question.constraint is None:
        return value
    context = {**answers, question.id: value}
    ok = expressions.evaluate(
        parsed_expression(question.constraint), context, current=value, today=today
    )
    if ok:
        return value
    if question.constraint_message:
        return Rejected(
            pick(
                question.constraint_message, survey.language_for(language), survey.default_language
            )
        )
    return Rejected(text("constraint_failed", language))


def fold(value: str) -> str:
    """``value`` for loose comparison: no accents, no case, single spaces, no surrounding space."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


# --- one parser per question type -------------------------------------------------------------

_Parser = Callable[[Survey, Question, RawInput, str, date, Answers], AnswerValue | Rejected | None]
"""A parser returns the answer, ``None`` when nothing was given, or why it is refused."""


def _single_choice(
    survey: Survey, question: Question, raw: RawInput, language: str, today: date, answers: Answers
) -> AnswerValue | Rejected:
    options = offered_choices(survey, question, answers, today=today)
    if isinstance(raw, Pressed):
        codes = _distinct(raw.values)
        if len(codes) > 1:
            return Rejected(text("choose_one_only", language))
        if codes[0] not in {option.value for option in options}:
            return Rejected(text("option_unavailable", language))
        return codes[0]
    typed = raw.text.strip()
    option = _match_option(survey, question, options, typed, language)
    if option is not None:
        return option.value
    if question.type is QuestionType.YES_NO:
        return Rejected(text("yes_or_no", language))
    how = (
        text("reply_with_number", language, count=len(options))
        if _numbered(survey, options, language)
        else text("reply_with_label", language)
    )
    return Rejected(text("not_an_option", language, item=_quote(typed, language)) + " " + how)


def _multiple_choice(
    survey: Survey, question: Question, raw: RawInput, language: str, today: date, answers: Answers
) -> AnswerValue | Rejected | None:
    options = offered_choices(survey, question, answers, today=today)
    chosen: set[str] = set()
    if isinstance(raw, Pressed):
        known = {option.value for option in options}
        if any(code not in known for code in raw.values):
            return Rejected(text("option_unavailable", language))
        chosen.update(raw.values)
    else:
        # A label may itself contain a comma: try the whole text as one option first.
        whole = _match_option(survey, question, options, raw.text, language)
        items = [] if whole is not None else _split_items(raw.text)
        if whole is not None:
            chosen.add(whole.value)
        unknown: list[str] = []
        for item in items:
            option = _match_option(survey, question, options, item, language)
            if option is None:
                unknown.append(item)
            else:
                chosen.add(option.value)
        if unknown:
            quoted_items = [_quote(item, language) for item in _distinct(unknown)]
            if len(quoted_items) == 1:
                message = text("not_an_option", language, item=quoted_items[0])
            else:
                message = text("not_options", language, items=joined(quoted_items, language))
            how = (
                text("reply_with_numbers", language, count=len(options))
                if _numbered(survey, options, language)
                else text("reply_with_labels", language)
            )
            return Rejected(message + " " + how)
    codes = [option.value for option in options if option.value in chosen]
    if not codes:  # only separators were typed
        return None
    low = question.min_selected or (1 if question.required else None)
    high = question.max_selected
    if (low is not None and len(codes) < low) or (high is not None and len(codes) > high):
        return Rejected(_selection_message(low, high, language))
    return codes


def _scale(
    survey: Survey, question: Question, raw: RawInput, language: str, today: date, answers: Answers
) -> AnswerValue | Rejected:
    scale = question.scale or Scale()
    if isinstance(raw, Pressed):
        codes = _distinct(raw.values)
        if len(codes) > 1:
            return Rejected(text("choose_one_only", language))
        number = _read_integer(codes[0], language)
        if number is None or not scale.contains(number):
            return Rejected(text("option_unavailable", language))
        return number
    number = _read_integer(raw.text, language)
    if number is None or not scale.min <= number <= scale.max:
        label_language = survey.language_for(language)
        low, high = str(scale.min), str(scale.max)
        if scale.min_label:
            low += f" ({pick(scale.min_label, label_language, survey.default_language)})"
        if scale.max_label:
            high += f" ({pick(scale.max_label, label_language, survey.default_language)})"
        return Rejected(text("scale_range", language, low=low, high=high))
    if not scale.contains(number):
        if scale.count() > _MAX_LISTED_POINTS:
            return Rejected(
                text(
                    "type_number_steps",
                    language,
                    low=format_number(scale.min, language),
                    high=format_number(scale.top, language),
                    step=format_number(scale.step, language),
                )
            )
        points = [str(point) for point in scale.points()]
        return Rejected(text("scale_points", language, points=joined(points, language)))
    return number


def _integer(
    survey: Survey, question: Question, raw: RawInput, language: str, today: date, answers: Answers
) -> AnswerValue | Rejected:
    if isinstance(raw, Pressed):
        return Rejected(text("type_answer", language))
    number = _read_integer(raw.text, language)
    if number is None:
        return Rejected(text("not_a_whole_number", language, example="12"))
    return _within_bounds(number, question, language)


def _decimal(
    survey: Survey, question: Question, raw: RawInput, language: str, today: date, answers: Answers
) -> AnswerValue | Rejected:
    if isinstance(raw, Pressed):
        return Rejected(text("type_answer", language))
    number = _read_decimal(raw.text, language)
    if number is None:
        return Rejected(text("not_a_number", language, example=format_number(3.5, language)))
    return _within_bounds(number, question, language)


def _text(
    survey: Survey, question: Question, raw: RawInput, language: str, today: date, answers: Answers
) -> AnswerValue | Rejected:
    if isinstance(raw, Pressed):
        return Rejected(text("type_answer", language))
    written = raw.text.replace("\x00", "").strip()
    limit = min(question.max_length or TEXT_LIMIT, TEXT_LIMIT)
    if len(written) > limit:
        length = i18n.number(len(written), language)
        return Rejected(text("text_too_long", language, count=limit, length=length))
    return written


def _date(
    survey: Survey, question: Question, raw: RawInput, language: str, today: date, answers: Answers
) -> AnswerValue | Rejected:
    example = today.strftime("%d/%m/%Y")
    if isinstance(raw, Pressed):
        return Rejected(text("not_a_date", language, example=example))
    written = _ascii_digits(unicodedata.normalize("NFKC", raw.text)).strip()
    if match := _ISO_DATE.fullmatch(written):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DAY_FIRST_DATE.fullmatch(written):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    else:
        return Rejected(text("not_a_date", language, example=example))
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return Rejected(
            text("no_such_date", language, date=_quote(written, language))
            + " "
            + text("not_a_date", language, example=example)
        )


def _note(
    survey: Survey, question: Question, raw: RawInput, language: str, today: date, answers: Answers
) -> AnswerValue | Rejected:
    raise AssertionError("unreachable: parse_input refuses notes")  # pragma: no cover


_PARSERS: Mapping[QuestionType, _Parser] = {
    QuestionType.SINGLE_CHOICE: _single_choice,
    QuestionType.YES_NO: _single_choice,
    QuestionType.MULTIPLE_CHOICE: _multiple_choice,
    QuestionType.SCALE: _scale,
    QuestionType.INTEGER: _integer,
    QuestionType.DECIMAL: _decimal,
    QuestionType.TEXT: _text,
    QuestionType.DATE: _date,
    QuestionType.NOTE: _note,
}


# --- helpers ----------------------------------------------------------------------------------


def _is_empty(raw: RawInput) -> bool:
    if isinstance(raw, Typed):
        return not raw.text.strip()
    return not any(value for value in raw.values)


def _distinct(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def _quote(item: str, language: str) -> str:
    shown = " ".join(item.split())
    if len(shown) > _MAX_QUOTED:
        shown = shown[: _MAX_QUOTED - 1] + "…"
    return quoted(shown, language)


def _numbered(survey: Survey, options: Sequence[Choice], language: str) -> bool:
    return numbered(options, survey=survey, language=survey.language_for(language))


def _match_option(
    survey: Survey, question: Question, options: Sequence[Choice], item: str, language: str
) -> Choice | None:
    """The option ``item`` names: its label (the delegate's language first), its code, else
    its position when the prompt shows positions.

    A label or code wins over a position: on a list labelled 0 to 10, ``7`` is the choice
    labelled 7 (and such a list shows no positions at all).
    """
    wanted = fold(_ascii_digits(item))
    if not wanted:
        return None
    label_language = survey.language_for(language)
    for option in options:
        if _as_typed(pick(option.label, label_language, survey.default_language)) == wanted:
            return option
    for option in options:
        if any(_as_typed(label) == wanted for label in option.label.values()):
            return option
    for option in options:
        if _as_typed(option.value) == wanted:
            return option
    if (match := _OPTION_NUMBER.fullmatch(wanted)) and _numbered(survey, options, language):
        number = int(match[1][:6])
        if 1 <= number <= len(options):
            return options[number - 1]
    if question.type is QuestionType.YES_NO:
        if wanted in YES_WORDS:
            return options[0]
        if wanted in NO_WORDS:
            return options[1]
    return None


@functools.lru_cache(maxsize=8192)
def _as_typed(label: str) -> str:
    """An option's label or value as a typed answer is compared with it (folded, digits 0-9):
    kept for the labels of the surveys in use, which never change, instead of being worked
    out again for every option of every typed answer."""
    return fold(_ascii_digits(label))


def _split_items(typed: str) -> list[str]:
    items = [item.strip() for item in _LIST_SEPARATORS.split(typed)]
    items = [item for item in items if item]
    if len(items) == 1:
        words = _ascii_digits(items[0]).split()
        if len(words) > 1 and all(_OPTION_NUMBER.fullmatch(word) for word in words):
            return words
    return items


def _selection_message(low: int | None, high: int | None, language: str) -> str:
    if low and high:
        if low == high:
            if low == 1:
                return text("choose_one_only", language)
            return text("choose_exactly", language, count=low)
        return text("choose_between", language, low=low, count=high)
    if low:
        if low == 1:
            return text("choose_at_least_one", language)
        return text("choose_at_least", language, count=low)
    if high == 1:
        return text("choose_one_only", language)
    return text("choose_at_most", language, count=high)


def _ascii_digits(value: str) -> str:
    """``value`` with every decimal digit (Arabic-Indic, full-width...) written 0-9."""
    return "".join(
        str(digit) if (digit := unicodedata.decimal(char, None)) is not None else char
        for char in value
    )


def _number_text(value: str) -> str:
    written = _ascii_digits(unicodedata.normalize("NFKC", value)).strip()
    return written.replace("\u2212", "-").replace("\u066b", ".")  # minus sign, Arabic decimal mark


def _number_pattern(*, groups: str, mark: str | None) -> re.Pattern[str]:
    group_class = "[" + re.escape(groups) + "]"
    whole = rf"[0-9]{{1,3}}(?:{group_class}[0-9]{{3}})+|[0-9]+"
    if mark is None:
        return re.compile(rf"(?P<sign>[+-]?)(?P<int>{whole})")
    return re.compile(
        rf"(?P<sign>[+-]?)(?:(?P<int>{whole})(?:{re.escape(mark)}(?P<frac>[0-9]+))?"
        rf"|{re.escape(mark)}(?P<frac_only>[0-9]+))"
    )


_INTEGER_PATTERNS = {
    ",": _number_pattern(groups=_SPACE_SEPARATORS + ".", mark=None),
    ".": _number_pattern(groups=_SPACE_SEPARATORS + ",", mark=None),
}
_DECIMAL_PATTERNS = {
    # Tried in order. With a comma mark a dot is still a decimal mark ("3.5" is accepted);
    # in English "1,500" is fifteen hundred and "3,5" three and a half.
    ",": (
        _number_pattern(groups=_SPACE_SEPARATORS, mark=","),
        _number_pattern(groups=_SPACE_SEPARATORS, mark="."),
    ),
    ".": (
        _number_pattern(groups=_SPACE_SEPARATORS + ",", mark="."),
        _number_pattern(groups=_SPACE_SEPARATORS, mark=","),
    ),
}


def _digits_only(value: str) -> str:
    return "".join(char for char in value if "0" <= char <= "9")


def _read_integer(typed: str, language: str) -> int | None:
    match = _INTEGER_PATTERNS[decimal_mark(language)].fullmatch(_number_text(typed))
    if match is None:
        return None
    digits = _digits_only(match["int"]).lstrip("0") or "0"
    if len(digits) > MAX_INTEGER_DIGITS:
        return None
    return -int(digits) if match["sign"] == "-" else int(digits)


def _read_decimal(typed: str, language: str) -> float | None:
    written = _number_text(typed)
    for pattern in _DECIMAL_PATTERNS[decimal_mark(language)]:
        match = pattern.fullmatch(written)
        if match is None:
            continue
        whole = _digits_only(match["int"] or "") or "0"
        fraction = match["frac"] or match["frac_only"] or "0"
        number = float(f"{match['sign']}{whole}.{fraction}")
        return number if math.isfinite(number) else None
    return None


def _within_bounds(
    number: int | float, question: Question, language: str
) -> AnswerValue | Rejected:
    low, high = question.min, question.max
    if (low is None or number >= low) and (high is None or number <= high):
        return number
    if low is not None and high is not None:
        message = text(
            "number_between",
            language,
            low=format_number(low, language),
            high=format_number(high, language),
        )
    elif low is not None:
        message = text("number_at_least", language, low=format_number(low, language))
    else:
        assert high is not None
        message = text("number_at_most", language, high=format_number(high, language))
    return Rejected(message)
