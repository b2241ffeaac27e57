"""From core screens and reports to Telegram messages. Pure; no I/O.

A screen becomes one message when it fits (so that a button press can edit it in place), else
several, split between paragraphs under Telegram's 4096 characters; the keyboard goes on the
last. Texts are HTML (``parse_mode=HTML``) with every piece of survey or user text escaped.

Example::

    for message in render_screen(screen):
        await bot.send_message(chat_id, message.text, parse_mode="HTML",
                               reply_markup=message.keyboard)
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from handlers.telegram import keyboards
from handlers.telegram.texts import text
from surveys import i18n
from surveys.conversation import Screen, ScreenKind
from surveys.definition import QuestionType
from surveys.engine import Prompt, Summary, display_value
from surveys.richtext import Reply, Style

MESSAGE_LIMIT = 4096
"""Telegram's limit on a message's text, in UTF-16 code units after entity parsing."""

TYPED_TYPES = frozenset(
    {QuestionType.TEXT, QuestionType.INTEGER, QuestionType.DECIMAL, QuestionType.DATE}
)


@dataclass(frozen=True)
class Outgoing:
    """One message to send: HTML text and, on the last message of a screen, its keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Span:
    """A run of text in one style: ``""`` plain, ``"b"`` bold, ``"i"`` italic, ``"code"``."""

    text: str
    style: str = ""

    def html(self) -> str:
        escaped = html.escape(self.text, quote=False)
        return f"<{self.style}>{escaped}</{self.style}>" if self.style and self.text else escaped


Block = tuple[Span, ...]
"""A paragraph; messages are split between paragraphs, and inside one only if it is too long."""


def plain(value: str) -> Block:
    return (Span(value),)


def bold(value: str) -> Block:
    return (Span(value, "b"),)


def italic(value: str) -> Block:
    return (Span(value, "i"),)


# --- screens ---------------------------------------------------------------------------------


def render_screen(screen: Screen, *, mask: int | None = None) -> list[Outgoing]:
    """The messages that show ``screen``; ``mask`` is a multiple-choice selection to show."""
    blocks: list[Block] = []
    if screen.notice:
        blocks.append(italic(screen.notice))
    if screen.intro:
        title, _, intro = screen.intro.partition("\n\n")
        blocks.append(bold(title))
        if intro:
            blocks.append(plain(intro))
    keyboard: InlineKeyboardMarkup | None = None
    if screen.kind is ScreenKind.ASKING and screen.prompt is not None:
        blocks.extend(_question(screen, screen.prompt))
        keyboard = keyboards.question_keyboard(screen, mask=mask)
    elif screen.kind in (ScreenKind.REVIEW, ScreenKind.SUBMITTED) and screen.summary:
        blocks.extend(_summary(screen, screen.summary))
        keyboard = keyboards.summary_keyboard(screen)
    elif not blocks:
        blocks.append(plain(screen.survey.title_in(screen.language)))
    return messages(blocks, keyboard)


def _question(screen: Screen, prompt: Prompt) -> list[Block]:
    language = screen.language
    question = prompt.question
    re_asked = screen.notice is not None and not screen.accepted
    blocks: list[Block] = (
        []
        if re_asked
        else [bold(text_) if heading else plain(text_) for text_, heading in prompt.lead_in()]
    )
    heading = text("position", language, position=prompt.position, total=prompt.total)
    label: Block = (Span(heading, "i"), Span("\n"), Span(prompt.label, "b"))
    if prompt.hint:
        label += (Span("\n"), Span(prompt.hint, "i"))
    blocks.append(label)
    if prompt.options and keyboards.long_labels(prompt):
        listed = "\n".join(
            f"{option.number}. {option.label}" if prompt.numbered else f"• {option.label}"
            for option in prompt.options
        )
        blocks.append(plain(listed))
    low, high = prompt.scale_labels
    if question.type is QuestionType.SCALE and (low or high) and not _mentions(prompt, low, high):
        scale = question.scale
        first = prompt.options[0].label if prompt.options else str(scale.min if scale else "")
        last = prompt.options[-1].label if prompt.options else str(scale.top if scale else "")
        ends = [f"{first} = {low}" if low else "", f"{last} = {high}" if high else ""]
        blocks.append(italic(" · ".join(end for end in ends if end)))
    if prompt.current is not None:
        shown = display_value(screen.survey, question, prompt.current, language=language)
        blocks.append(plain(text("previous_answer", language, answer=shown)))
    if question.type is QuestionType.MULTIPLE_CHOICE:
        done = text("button_done", language)
        instruction = text("choose_several", language) + " "
        blocks.append(italic(instruction + text("choose_then_done", language, done=done)))
    elif question.type in TYPED_TYPES:
        blocks.append(italic(text("type_answer", language)))
    elif keyboards.scale_typed(prompt):  # too many points for buttons: a typed number
        blocks.append(italic(prompt.number_hint))
    return blocks


def _mentions(prompt: Prompt, *labels: str) -> bool:
    hint = prompt.hint.casefold()
    return all(label.casefold() in hint for label in labels if label)


def _summary(screen: Screen, summary: Summary) -> list[Block]:
    language = screen.language
    blocks: list[Block] = [bold(text("summary_title", language))]
    arrow = "←" if i18n.is_rtl(language) else "→"
    for number, item in enumerate(summary.items, start=1):
        shown = i18n.isolated(item.display, language)
        blocks.append((Span(f"{number}. "), Span(item.label, "b"), Span(f"\n{arrow} {shown}")))
    blocks.extend(plain(note) for note in summary.notes)
    if screen.kind is ScreenKind.REVIEW:
        blocks.append(plain(text("summary_prompt", language)))
    else:
        closes = i18n.moment(screen.round.closes_at, language, screen.participant.timezone)
        blocks.append(plain(text("submitted_review", language, when=closes)))
    blocks.append(italic(text("change_hint", language)))
    return blocks


# --- plain texts and reports -----------------------------------------------------------------


def render_text(value: str, keyboard: InlineKeyboardMarkup | None = None) -> list[Outgoing]:
    """A plain text (escaped, split if long), with ``keyboard`` on its last message."""
    return messages([plain(paragraph) for paragraph in value.split("\n\n")], keyboard)


_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_STRONG = re.compile(r"(\\.)|(\*\*)")
_HEADING = re.compile(r"#{1,6} +(.*)")


def markdown_blocks(markdown: str) -> list[Block]:
    """The CommonMark that digests are written in, as Telegram paragraphs.

    Headings and ``**strong**`` become bold, a line in ``_underscores_`` italic, ``- `` items
    bullets, ``> `` lines quotes; backslash escapes are undone (the result is escaped as HTML).
    Tables are not expected (digests posted to channels have none) and pass through as text.
    """
    blocks: list[Block] = []
    current: list[Span] = []

    def close() -> None:
        if current:
            blocks.append(tuple(current))
            current.clear()

    for raw in markdown.splitlines():
        line = raw.rstrip()
        if not line.strip():
            close()
            continue
        if current:
            current.append(Span("\n"))
        heading = _HEADING.fullmatch(line)
        if heading:
            close()
            blocks.append(bold(_unescape(heading.group(1))))
        elif line.startswith("> "):
            current.extend(_inline(line[2:], base="i"))
        elif line.startswith("- "):
            current.append(Span("• "))
            current.extend(_inline(line[2:]))
        elif len(line) > 2 and line[0] == "_" and line[-1] == "_" and line[-2] != "\\":
            current.extend(_inline(line[1:-1], base="i"))
        else:
            current.extend(_inline(line))
    close()
    return blocks


def _inline(line: str, *, base: str = "") -> list[Span]:
    """Spans of one line: ``**strong**`` runs bold, the rest in ``base``; escapes undone."""
    spans: list[Span] = []
    strong = False
    start = 0
    for match in _STRONG.finditer(line):
        if match.group(2) is None:  # an escape: leave it for _unescape
            continue
        if match.start() > start:
            spans.append(Span(_unescape(line[start : match.start()]), "b" if strong else base))
        strong = not strong
        start = match.end()
    if start < len(line):
        spans.append(Span(_unescape(line[start:]), "b" if strong else base))
    return spans


def _unescape(value: str) -> str:
    return _ESCAPED.sub(r"\1", value)


_TAGS = {Style.PLAIN: "", Style.STRONG: "b", Style.CODE: "code"}


def reply_blocks(reply: Reply) -> list[Block]:
    """A core :class:`~surveys.richtext.Reply` as paragraphs: one per line, bold as ``<b>``,
    commands as ``<code>``; the empty line stays a blank line."""
    return [tuple(Span(part.text, _TAGS[part.style]) for part in line) for line in reply.lines]


def html_reply(reply: Reply) -> str:
    """``reply`` as one Telegram HTML text, every span escaped."""
    return "\n".join("".join(span.html() for span in block) for block in reply_blocks(reply))


def render_reply(reply: Reply) -> list[Outgoing]:
    """``reply`` as messages, split between its lines when it is longer than one message."""
    return messages(reply_blocks(reply), None, separator="\n")


# --- splitting ---------------------------------------------------------------------------------


def messages(
    blocks: Iterable[Block],
    keyboard: InlineKeyboardMarkup | None,
    *,
    separator: str = "\n\n",
    limit: int = MESSAGE_LIMIT,
) -> list[Outgoing]:
    """``blocks`` packed into as few messages as fit ``limit``; the keyboard on the last."""
    texts = pack(blocks, separator=separator, limit=limit)
    return [
        Outgoing(value, keyboard if index == len(texts) - 1 else None)
        for index, value in enumerate(texts)
    ]


def pack(
    blocks: Iterable[Block], *, separator: str = "\n\n", limit: int = MESSAGE_LIMIT
) -> list[str]:
    """HTML texts of at most ``limit`` visible characters each, split between blocks.

    A block longer than ``limit`` on its own is split as plain text at line, then word
    boundaries (its styles are dropped: better readable than cut mid-tag).
    """
    pieces: list[Block] = []
    for block in blocks:
        if block_length(block) <= limit:
            pieces.append(block)
        else:
            whole = "".join(span.text for span in block)
            pieces.extend(plain(part) for part in split_text(whole, limit))
    out: list[str] = []
    current: list[str] = []
    size = 0
    gap = units(separator)
    for block in pieces:
        length = block_length(block)
        if current and size + gap + length > limit:
            out.append(separator.join(current))
            current, size = [], 0
        size += (gap if current else 0) + length
        current.append("".join(span.html() for span in block))
    if current:
        out.append(separator.join(current))
    return out or [""]


def split_text(value: str, limit: int) -> list[str]:
    """``value`` in parts of at most ``limit`` UTF-16 units, cut at newlines, else spaces."""
    parts: list[str] = []
    rest = value
    while units(rest) > limit:
        cut = _prefix_within(rest, limit)
        head = rest[:cut]
        for mark in ("\n", " "):
            at = head.rfind(mark)
            if at > cut // 2:
                cut = at
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _prefix_within(value: str, limit: int) -> int:
    """The number of characters of ``value`` that fit in ``limit`` UTF-16 units."""
    total = 0
    for index, char in enumerate(value):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > limit:
            return index
    return len(value)


def units(value: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (encoded in C: a loop over the
    characters in Python was a fifth of drawing a screen)."""
    return len(value.encode("utf-16-le")) // 2


def block_length(block: Block) -> int:
    return sum(units(span.text) for span in block)
