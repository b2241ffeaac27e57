"""Inline keyboards for survey screens and preferences. Pure; no I/O.

Choices are one button per row (labels can be long: a long one is shortened on its button and
listed in full in the message, numbered unless the labels are numbers themselves), a scale is a
row of its points (typed, with no buttons, past :data:`MAX_SCALE_BUTTONS`), a multiple choice is
a column of toggles with Done under it, and Back / Skip close the keyboard where they apply.
Every button's data is made by :mod:`handlers.telegram.callbacks`.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.telegram import callbacks
from handlers.telegram.errors import UnrenderableError
from handlers.telegram.inbound import question_index
from handlers.telegram.texts import LANGUAGE_NAMES, LANGUAGES, text
from surveys.conversation import Screen, ScreenKind
from surveys.definition import QuestionType
from surveys.engine import Option, Prompt

BUTTON_LABEL_MAX = 40
"""Longer option labels are shortened on buttons (Telegram cuts them anyway) and listed in the
message text in full."""

MAX_BUTTONS = 100
"""Telegram's limit on the buttons of one keyboard."""

SCALE_ROW = 6
MAX_SCALE_BUTTONS = 24
"""A scale with more points is answered by typing a number (four rows of six at most)."""
CHANGE_ROW = 5
SELECTED, UNSELECTED, CURRENT = "☑ ", "☐ ", "✓ "

COMMON_ZONES = (
    "Europe/Zurich",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Mexico_City",
    "America/Bogota",
    "America/Sao_Paulo",
    "Africa/Dakar",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Nairobi",
    "Asia/Riyadh",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)
"""Zones offered as buttons by /timezone; any other is typed (``/timezone America/Lima``)."""


def scale_typed(prompt: Prompt) -> bool:
    """Whether a scale has too many points for buttons, and is answered by typing a number."""
    return prompt.question.type is QuestionType.SCALE and not (
        0 < len(prompt.options) <= MAX_SCALE_BUTTONS
    )


def long_labels(prompt: Prompt) -> bool:
    """Whether the options are listed in the message because a label is too long for a button."""
    return any(len(option.label) > BUTTON_LABEL_MAX for option in prompt.options)


def initial_mask(prompt: Prompt) -> int:
    """The selection a multiple choice starts from: the answer given before, if any."""
    chosen = prompt.current if isinstance(prompt.current, list) else []
    return callbacks.mask_of(option.number for option in prompt.options if option.value in chosen)


def question_keyboard(screen: Screen, *, mask: int | None = None) -> InlineKeyboardMarkup | None:
    """The buttons of an ASKING screen; ``mask`` is the multiple-choice selection to show."""
    prompt = screen.prompt
    if prompt is None:
        raise ValueError("question_keyboard needs a screen with a prompt")
    rid = screen.response.id
    q = question_index(screen.survey, prompt.question)
    rows: list[list[InlineKeyboardButton]] = []
    kind = prompt.question.type
    if kind is QuestionType.MULTIPLE_CHOICE:
        selection = initial_mask(prompt) if mask is None else mask
        rows.extend(_toggles(prompt, rid, q, selection))
        caption = text("button_done", screen.language)
        rows.append([_button(caption, callbacks.Confirm(rid, q, selection))])
    elif kind is QuestionType.SCALE and not scale_typed(prompt):
        points = [
            _button(
                _marked(option.label, option.value == str(prompt.current)),
                _choose(rid, q, option.number),
            )
            for option in prompt.options
        ]
        rows.extend(_rows(points, SCALE_ROW if len(points) > SCALE_ROW + 1 else len(points)))
    elif prompt.options and kind is not QuestionType.SCALE:
        numbered = long_labels(prompt) and prompt.numbered
        buttons = [
            _button(
                _marked(_caption(option, numbered), option.value == prompt.current),
                _choose(rid, q, option.number),
            )
            for option in prompt.options
        ]
        width = 2 if kind is QuestionType.YES_NO else 1
        rows.extend(_rows(buttons, width))
    navigation = []
    if prompt.can_back:
        navigation.append(_button(text("button_back", screen.language), callbacks.GoBack(rid, q)))
    if prompt.can_skip:
        caption = text("button_skip", screen.language)
        navigation.append(_button(caption, callbacks.SkipQuestion(rid, q)))
    if navigation:
        rows.append(navigation)
    return _markup(rows, what=f"question {prompt.question.id!r}")


def summary_keyboard(screen: Screen) -> InlineKeyboardMarkup | None:
    """Change buttons (one per answer, by number) and, before submission, Submit."""
    summary = screen.summary
    if summary is None:
        raise ValueError("summary_keyboard needs a screen with a summary")
    rid = screen.response.id
    changes = [
        _button(f"✎ {number}", callbacks.Change(rid, question_index(screen.survey, item.question)))
        for number, item in enumerate(summary.items, start=1)
    ]
    rows = _rows(changes, CHANGE_ROW)
    if screen.kind is ScreenKind.REVIEW:
        submit = text("button_submit", screen.language)
        rows.append([_button(f"✔ {submit}", callbacks.SubmitAnswers(rid))])
    return _markup(rows, what="the summary")


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    buttons = [
        _button(_marked(LANGUAGE_NAMES[code], code == current), callbacks.SetLanguage(code))
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup(_rows(buttons, 2))


def timezone_keyboard(current: str) -> InlineKeyboardMarkup:
    buttons = [
        _button(_marked(zone, zone == current), callbacks.SetTimezone(zone))
        for zone in COMMON_ZONES
    ]
    return InlineKeyboardMarkup(_rows(buttons, 2))


def shorten(label: str, limit: int = BUTTON_LABEL_MAX) -> str:
    """``label`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    if len(label) <= limit:
        return label
    cut = label[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:–-") + "…"


def _toggles(prompt: Prompt, rid: int, q: int, selection: int) -> list[list[InlineKeyboardButton]]:
    numbered = long_labels(prompt) and prompt.numbered
    rows = []
    for option in prompt.options:
        bit = 1 << (option.number - 1)
        mark = SELECTED if selection & bit else UNSELECTED
        caption = mark + _caption(option, numbered)
        rows.append([_button(caption, callbacks.Toggle(rid, q, selection ^ bit))])
    return rows


def _caption(option: Option, numbered: bool) -> str:
    return f"{option.number}. {shorten(option.label)}" if numbered else option.label


def _marked(caption: str, current: bool) -> str:
    return CURRENT + caption if current else caption


def _choose(rid: int, q: int, number: int) -> callbacks.Choose:
    return callbacks.Choose(rid, q, number)


def _button(caption: str, button: callbacks.Button) -> InlineKeyboardButton:
    try:
        data = callbacks.encode(button)
    except ValueError as error:
        raise UnrenderableError(f"the button {caption!r}", str(error)) from None
    return InlineKeyboardButton(caption, callback_data=data)


def _rows(buttons: Sequence[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    width = max(width, 1)
    return [list(buttons[start : start + width]) for start in range(0, len(buttons), width)]


def _markup(rows: list[list[InlineKeyboardButton]], *, what: str) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    count = sum(len(row) for row in rows)
    if count > MAX_BUTTONS:
        raise UnrenderableError(what, f"{count} buttons, more than Telegram's {MAX_BUTTONS}")
    return InlineKeyboardMarkup(rows)
