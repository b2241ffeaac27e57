"""Drawing a delegate's :class:`~surveys.conversation.Screen` as Slack Block Kit, and the modal.

Pure functions: a screen in, a :class:`Message` (fallback text and blocks) or a modal view out.
Each question type gets its native control:

- single choice and yes/no: buttons up to :data:`MAX_BUTTONS` options, else one static select
  (at most 100 options each, so several selects up to :data:`MAX_SELECTS`), else typed;
- scale: a row of buttons (a select past :data:`MAX_ACTIONS_PER_BLOCK` points, a typed number
  in the modal past :data:`MAX_SELECT_OPTIONS`);
- multiple choice: checkbox groups of at most 10 options (merged when "Done" is pressed), up to
  :data:`MAX_CHECKBOX_GROUPS` groups, else typed;
- text, numbers and dates: an "Answer" button that opens a modal (:func:`answer_modal`).

Ids are short and opaque: the round and question in the ``block_id``, the option code in the
``value``; labels never travel back. Every Slack length limit is enforced here; what cannot be
drawn within them raises :class:`RenderError` rather than being dropped.

Example::

    message = render_screen(screen)
    await client.chat_update(channel=channel, ts=ts, text=message.text, blocks=message.blocks)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from handlers.slack import texts
from handlers.slack.errors import RenderError
from handlers.slack.mrkdwn import escape
from surveys import engine, i18n, messages
from surveys.conversation import Screen, ScreenKind
from surveys.definition import AnswerValue, QuestionType

Block = dict[str, Any]

# --- Slack limits -------------------------------------------------------------------------------
MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_MODAL = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_SELECT_OPTIONS = 100
MAX_CHECKBOX_OPTIONS = 10
MAX_ACTIONS_PER_BLOCK = 25
MAX_ID = 255
MAX_VALUE = 2000
MAX_MODAL_TITLE = 24
MAX_INPUT_LABEL = 2000
MAX_PLACEHOLDER = 150
MAX_CONTEXT_TEXT = 2000
MAX_TEXT_INPUT = 3000
MAX_METADATA = 3000
MAX_FALLBACK_TEXT = 3000

# --- our choices within them ----------------------------------------------------------------
MAX_BUTTONS = 5
"""Up to this many choices are buttons; more become a select."""
MAX_SELECTS = 5
"""Single choices beyond ``MAX_SELECTS * 100`` options are typed in a modal."""
MAX_CHECKBOX_GROUPS = 5
"""Multiple choices beyond ``MAX_CHECKBOX_GROUPS * 10`` options are typed in a modal."""
MAX_SUMMARY_BUTTONS = 40
"""Summaries with more items list them as text with a "Change" select instead of buttons."""

# --- ids ----------------------------------------------------------------------------------------
ACTION_CHOOSE = "choose"
"""A choice or scale button (``choose.N``); value: the option code."""
ACTION_SELECT = "select"
"""A static select of choices (``select.K``); option values: codes."""
ACTION_TICK = "tick"
"""A group of checkboxes (``tick.K``); changes are acknowledged and ignored until Done."""
ACTION_DONE = "done"
"""Confirms the ticked checkboxes of every group in the message."""
ACTION_TYPE = "type"
"""Opens the answer modal."""
ACTION_BACK = "back"
ACTION_SKIP = "skip"
ACTION_EDIT = "edit"
"""Summary "Change": a button per item (``edit.N``, value: question id) or a select."""
ACTION_SUBMIT = "submit"
ACTION_OPEN = "open"
"""App Home: open a round in the direct messages; value: the round id."""

ACTION_PATTERNS: dict[str, re.Pattern[str]] = {
    ACTION_CHOOSE: re.compile(r"^choose\.\d+$"),
    ACTION_SELECT: re.compile(r"^select\.\d+$"),
    ACTION_TICK: re.compile(r"^tick\.\d+$"),
    ACTION_DONE: re.compile(r"^done$"),
    ACTION_TYPE: re.compile(r"^type$"),
    ACTION_BACK: re.compile(r"^back$"),
    ACTION_SKIP: re.compile(r"^skip$"),
    ACTION_EDIT: re.compile(r"^edit\.(\d+|sel\.\d+)$"),
    ACTION_SUBMIT: re.compile(r"^submit$"),
    ACTION_OPEN: re.compile(r"^open$"),
}
"""Every action id we render, by kind; listeners register these same patterns."""

VIEW_ANSWER = "answer"
"""``callback_id`` of the answer modal."""
INPUT_BLOCK = "answer"
INPUT_ACTION = "value"

TYPED_TYPES = frozenset(
    {QuestionType.TEXT, QuestionType.INTEGER, QuestionType.DECIMAL, QuestionType.DATE}
)


@dataclass(frozen=True)
class Message:
    text: str
    """Fallback text for notifications and screen readers."""
    blocks: list[Block]


@dataclass(frozen=True)
class ModalContext:
    """What the answer modal carries in ``private_metadata``: where the answer goes."""

    round_id: int
    question_id: str
    channel: str | None
    ts: str | None

    def dump(self) -> str:
        return json.dumps(
            {"r": self.round_id, "q": self.question_id, "c": self.channel, "t": self.ts},
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, raw: str) -> ModalContext:
        data = json.loads(raw)
        return cls(int(data["r"]), str(data["q"]), data.get("c"), data.get("t"))


# --- block ids ------------------------------------------------------------------------------


def block_id(round_id: int, question_id: str | None, part: str) -> str:
    """``ROUND|QUESTION|PART``: where an action comes from (question empty on a summary)."""
    value = f"{round_id}|{question_id or ''}|{part}"
    if len(value) > MAX_ID:
        raise RenderError(f"block id {value!r} exceeds {MAX_ID} characters")
    return value


# --- small builders -------------------------------------------------------------------------


_PARTIAL_ESCAPE = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?$")


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, with an ellipsis when cut; never inside an
    escape (``&amp;``, ``&lt;``, ``&gt;``), which would leave a bare ``&`` of the text."""
    if len(value) <= limit:
        return value
    return _PARTIAL_ESCAPE.sub("", value[: limit - 1]) + "…"


def plain(value: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(value, limit) or " ", "emoji": True}


def sections(markdown: str) -> list[Block]:
    """One or more section blocks for ``markdown``, split at line ends within 3000 characters."""
    blocks: list[Block] = []
    for chunk in _chunks(markdown, MAX_SECTION_TEXT):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    return blocks


def context(markdown: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": clip(markdown, MAX_CONTEXT_TEXT)}],
    }


def button(
    caption: str,
    action_id: str,
    *,
    value: str | None = None,
    style: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(caption, MAX_BUTTON_TEXT),
        "action_id": action_id,
    }
    if value is not None:
        if len(value) > MAX_VALUE:
            raise RenderError(f"button value exceeds {MAX_VALUE} characters")
        element["value"] = value
    if style is not None:
        element["style"] = style
    return element


def option(label: str, value: str) -> dict[str, Any]:
    if len(value) > MAX_OPTION_VALUE:
        raise RenderError(f"option value {value[:20]!r}... exceeds {MAX_OPTION_VALUE} characters")
    return {"text": plain(label, MAX_OPTION_TEXT), "value": value}


def _chunks(value: str, limit: int) -> Iterable[str]:
    rest = value.strip() or " "
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        yield rest[:cut].rstrip()
        rest = rest[cut:].lstrip()
    yield rest


# --- screens ----------------------------------------------------------------------------------


def render_screen(screen: Screen) -> Message:
    """The message for ``screen``: a question with its controls, the summary, or a notice."""
    blocks: list[Block] = []
    lang = screen.language
    if screen.intro:
        title, _, intro = screen.intro.partition("\n\n")
        blocks.append({"type": "header", "text": plain(title, MAX_HEADER_TEXT)})
        if intro:
            blocks.extend(sections(escape(intro)))
    if screen.notice:
        blocks.extend(sections(f"*{escape(screen.notice)}*"))
    if screen.kind is ScreenKind.ASKING:
        assert screen.prompt is not None
        blocks.extend(_question_blocks(screen, screen.prompt))
        fallback = screen.notice or screen.prompt.label
    elif screen.kind in (ScreenKind.REVIEW, ScreenKind.SUBMITTED):
        assert screen.summary is not None
        blocks.extend(_summary_blocks(screen, screen.summary))
        fallback = screen.notice or messages.text("summary_title", lang)
    else:
        if not screen.notice:
            raise RenderError(f"screen {screen.kind} has nothing to show")
        fallback = screen.notice
    return _message(fallback, blocks)


def _message(fallback: str, blocks: list[Block]) -> Message:
    if len(blocks) > MAX_BLOCKS_MESSAGE:
        raise RenderError(f"{len(blocks)} blocks exceed Slack's {MAX_BLOCKS_MESSAGE} per message")
    # Slack reads the fallback as mrkdwn too: a label (or an answer piped into one) must not
    # turn into a mention such as <!channel> in the notification.
    return Message(text=clip(escape(fallback), MAX_FALLBACK_TEXT), blocks=blocks)


def _question_blocks(screen: Screen, prompt: engine.Prompt) -> list[Block]:
    lang = screen.language
    rid = screen.round.id
    qid = prompt.question.id
    blocks: list[Block] = []
    for text, heading in prompt.lead_in():  # group headings in bold, among the notes
        blocks.extend(sections(f"*{escape(text)}*" if heading else escape(text)))
    blocks.append(
        context(messages.text("position", lang, position=prompt.position, total=prompt.total))
    )
    blocks.extend(sections(f"*{escape(prompt.label)}*"))
    hints = [escape(prompt.hint)] if prompt.hint else []
    question = prompt.question
    if question.type is QuestionType.SCALE and any(prompt.scale_labels):
        low, high = prompt.scale_labels
        ends = []
        scale = question.scale
        lowest = prompt.options[0].label if prompt.options else str(scale.min if scale else "")
        highest = prompt.options[-1].label if prompt.options else str(scale.top if scale else "")
        if low:
            ends.append(f"{lowest} = {escape(low)}")
        if high:
            ends.append(f"{highest} = {escape(high)}")
        if not prompt.hint:
            hints.append(" · ".join(ends))
    if question.type is QuestionType.MULTIPLE_CHOICE and not prompt.hint:
        hints.append(messages.text("choose_several", lang))
    if hints:
        blocks.append(context("\n".join(hints)))
    if prompt.current is not None:
        shown = engine.display_value(screen.survey, question, prompt.current, language=lang)
        previous = messages.text("previous_answer", lang, answer=shown)
        blocks.append(context(escape(previous)))

    controls = _controls(screen, prompt)
    blocks.extend(controls)
    nav = []
    if prompt.can_back:
        nav.append(button(messages.text("button_back", lang), ACTION_BACK))
    if prompt.can_skip:
        nav.append(button(messages.text("button_skip", lang), ACTION_SKIP))
    if nav:
        blocks.append({"type": "actions", "block_id": block_id(rid, qid, "nav"), "elements": nav})
    return blocks


def control_kind(prompt: engine.Prompt) -> str:
    """How a prompt is answered: ``buttons``, ``selects``, ``checkboxes`` or ``typed``."""
    question = prompt.question
    count = len(prompt.options)
    if question.type in TYPED_TYPES:
        return "typed"
    if question.type is QuestionType.MULTIPLE_CHOICE:
        return "checkboxes" if count <= MAX_CHECKBOX_GROUPS * MAX_CHECKBOX_OPTIONS else "typed"
    if question.type is QuestionType.SCALE:  # no options: too many points to list
        if not count or count > MAX_SELECT_OPTIONS:
            return "typed"
        return "buttons" if count <= MAX_ACTIONS_PER_BLOCK else "selects"
    return "buttons" if count <= MAX_BUTTONS else _select_or_typed(count)


def _select_or_typed(count: int) -> str:
    return "selects" if count <= MAX_SELECTS * MAX_SELECT_OPTIONS else "typed"


def _controls(screen: Screen, prompt: engine.Prompt) -> list[Block]:
    lang = screen.language
    rid = screen.round.id
    qid = prompt.question.id
    current = _as_codes(prompt.current)
    kind = control_kind(prompt)
    if kind == "buttons":
        long_labels = any(len(o.label) > MAX_BUTTON_TEXT for o in prompt.options)
        blocks: list[Block] = []
        if long_labels:  # show the full labels, since the buttons cut them
            blocks.extend(sections(_listing(prompt)))
        elements = [
            button(
                o.label,
                f"{ACTION_CHOOSE}.{o.number}",
                value=o.value,
                style="primary" if o.value in current else None,
            )
            for o in prompt.options
        ]
        blocks.append(
            {"type": "actions", "block_id": block_id(rid, qid, "c"), "elements": elements}
        )
        return blocks
    if kind == "selects":
        groups = list(_groups(prompt.options, MAX_SELECT_OPTIONS))
        elements = []
        for index, group in enumerate(groups):
            placeholder = (
                texts.text("choose_placeholder", lang)
                if len(groups) == 1
                else texts.text("options_range", lang, low=group[0].number, high=group[-1].number)
            )
            select: dict[str, Any] = {
                "type": "static_select",
                "action_id": f"{ACTION_SELECT}.{index}",
                "placeholder": plain(placeholder, MAX_PLACEHOLDER),
                "options": [option(o.label, o.value) for o in group],
            }
            chosen = [o for o in group if o.value in current]
            if chosen:
                select["initial_option"] = option(chosen[0].label, chosen[0].value)
            elements.append(select)
        return [{"type": "actions", "block_id": block_id(rid, qid, "c"), "elements": elements}]
    if kind == "checkboxes":
        elements = []
        for index, group in enumerate(_groups(prompt.options, MAX_CHECKBOX_OPTIONS)):
            box: dict[str, Any] = {
                "type": "checkboxes",
                "action_id": f"{ACTION_TICK}.{index}",
                "options": [option(o.label, o.value) for o in group],
            }
            ticked = [option(o.label, o.value) for o in group if o.value in current]
            if ticked:
                box["initial_options"] = ticked
            elements.append(box)
        done = button(messages.text("button_done", lang), ACTION_DONE, style="primary")
        return [
            {"type": "actions", "block_id": block_id(rid, qid, "c"), "elements": elements},
            {"type": "actions", "block_id": block_id(rid, qid, "d"), "elements": [done]},
        ]
    answer = button(texts.text("button_answer", lang), ACTION_TYPE, style="primary")
    return [{"type": "actions", "block_id": block_id(rid, qid, "c"), "elements": [answer]}]


T = TypeVar("T")


def _groups(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _as_codes(value: AnswerValue | None) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list):
        return {str(item) for item in value}
    return {str(value)}


def _summary_blocks(screen: Screen, summary: engine.Summary) -> list[Block]:
    lang = screen.language
    rid = screen.round.id
    blocks: list[Block] = [
        {"type": "header", "text": plain(messages.text("summary_title", lang), MAX_HEADER_TEXT)}
    ]
    if screen.kind is ScreenKind.SUBMITTED:
        when = i18n.moment(screen.round.closes_at, lang, screen.participant.timezone)
        blocks.append(context(escape(texts.text("submitted_review", lang, when=when))))
    else:
        blocks.append(context(escape(messages.text("summary_prompt", lang))))
    change = messages.text("button_change", lang)
    items = summary.items
    if len(items) <= MAX_SUMMARY_BUTTONS:
        for index, item in enumerate(items):
            shown = escape(i18n.isolated(item.display, lang))
            body = clip(f"*{escape(item.label)}*\n{shown}", MAX_SECTION_TEXT)
            blocks.append(
                {
                    "type": "section",
                    "block_id": block_id(rid, None, f"i{index}"),
                    "text": {"type": "mrkdwn", "text": body},
                    "accessory": button(change, f"{ACTION_EDIT}.{index}", value=item.question.id),
                }
            )
    else:
        listing = "\n".join(
            f"{n}. *{escape(item.label)}*\n    {escape(i18n.isolated(item.display, lang))}"
            for n, item in enumerate(items, start=1)
        )
        blocks.extend(sections(listing))
        selects = []
        for index, group in enumerate(_groups(list(enumerate(items, start=1)), 100)):
            selects.append(
                {
                    "type": "static_select",
                    "action_id": f"{ACTION_EDIT}.sel.{index}",
                    "placeholder": plain(texts.text("change_placeholder", lang), MAX_PLACEHOLDER),
                    "options": [
                        option(f"{n}. {item.label}", item.question.id) for n, item in group
                    ],
                }
            )
        for start in range(0, len(selects), MAX_ACTIONS_PER_BLOCK):
            blocks.append(
                {
                    "type": "actions",
                    "block_id": block_id(rid, None, f"e{start}"),
                    "elements": selects[start : start + MAX_ACTIONS_PER_BLOCK],
                }
            )
    for note in summary.notes:
        blocks.extend(sections(escape(note)))
    if screen.kind is ScreenKind.REVIEW:
        submit = button(messages.text("button_submit", lang), ACTION_SUBMIT, style="primary")
        blocks.append(
            {"type": "actions", "block_id": block_id(rid, None, "s"), "elements": [submit]}
        )
    return blocks


# --- the answer modal -------------------------------------------------------------------------


def answer_modal(screen: Screen, *, channel: str | None, ts: str | None) -> dict[str, Any]:
    """A modal asking the current (typed) question; ``channel``/``ts``: the message to update."""
    prompt = screen.prompt
    if prompt is None:
        raise RenderError("the answer modal needs a question")
    lang = screen.language
    question = prompt.question
    blocks: list[Block] = []
    blocks.extend(sections(f"*{escape(prompt.label)}*"))
    if prompt.hint:
        blocks.append(context(escape(prompt.hint)))
    element: dict[str, Any]
    current = prompt.current
    if question.type is QuestionType.DATE:
        element = {"type": "datepicker", "action_id": INPUT_ACTION}
        if isinstance(current, str):
            element["initial_date"] = current
    elif question.type in (QuestionType.INTEGER, QuestionType.DECIMAL, QuestionType.SCALE):
        element = {
            "type": "number_input",
            "action_id": INPUT_ACTION,
            "is_decimal_allowed": question.type is QuestionType.DECIMAL,
        }
        if question.type is QuestionType.SCALE and question.scale is not None:
            element["min_value"] = str(question.scale.min)
            element["max_value"] = str(question.scale.top)
            if not prompt.hint:
                blocks.append(context(escape(prompt.number_hint)))
        if isinstance(current, int | float):
            element["initial_value"] = str(current)
    else:
        element = {"type": "plain_text_input", "action_id": INPUT_ACTION}
        if question.type is QuestionType.TEXT:
            limit = question.max_length
            element["multiline"] = limit is None or limit > 150
            if limit is not None and limit <= MAX_TEXT_INPUT:
                element["max_length"] = limit
            if isinstance(current, str):
                element["initial_value"] = clip(current, MAX_TEXT_INPUT)
        else:  # a choice with too many options for Slack's controls: typed numbers or names
            blocks.extend(sections(texts.text("type_choices", lang) + "\n" + _listing(prompt)))
            if current is not None:
                shown = engine.display_value(screen.survey, question, current, language=lang)
                element["initial_value"] = clip(shown, MAX_TEXT_INPUT)
    blocks.append(
        {
            "type": "input",
            "block_id": INPUT_BLOCK,
            "optional": not question.required,
            "label": plain(texts.text("your_answer", lang), MAX_INPUT_LABEL),
            "element": element,
        }
    )
    if len(blocks) > MAX_BLOCKS_MODAL:
        raise RenderError(f"{len(blocks)} blocks exceed Slack's {MAX_BLOCKS_MODAL} per modal")
    title = messages.text("position", lang, position=prompt.position, total=prompt.total)
    metadata = ModalContext(screen.round.id, question.id, channel, ts).dump()
    if len(metadata) > MAX_METADATA:
        raise RenderError("modal metadata exceeds Slack's limit")
    return {
        "type": "modal",
        "callback_id": VIEW_ANSWER,
        "title": plain(title, MAX_MODAL_TITLE),
        "submit": plain(messages.text("button_done", lang), MAX_MODAL_TITLE),
        "close": plain(texts.text("button_cancel", lang), MAX_MODAL_TITLE),
        "private_metadata": metadata,
        "blocks": blocks,
    }


def _listing(prompt: engine.Prompt) -> str:
    """The options one a line: numbered, unless their labels are numbers themselves."""
    return "\n".join(
        f"{o.number}. {escape(o.label)}" if prompt.numbered else f"• {escape(o.label)}"
        for o in prompt.options
    )


def notice_message(notice: str) -> Message:
    """A message with one notice and no controls."""
    return _message(notice, sections(escape(notice)))


def action_ids(blocks: Sequence[Block]) -> list[str]:
    """Every action id in ``blocks`` (for tests and the manifest check)."""
    found: list[str] = []
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and "action_id" in element:
                found.append(element["action_id"])
        if block.get("type") == "input":
            found.append(block["element"]["action_id"])
    return found
