"""What Itinera sends on Telegram, as outbox messages: screens, keyboards, texts, digests.

Pure functions from what the core decided to :class:`~surveys.queues.NewMessage` rows, each one
Bot API call (``sendMessage``, ``editMessageText``, ``editMessageReplyMarkup``,
``answerCallbackQuery``, ``sendPhoto``...) with its JSON arguments, addressed to its chat so
that a chat sees its messages in order and at the pace Telegram allows. Nothing here does I/O.

A screen is shown in place when the delegate pressed a button of the message that shows it
(one message, no preface): one ``editMessageText``. Otherwise it is sent anew (an invitation is
one message: its text and the question) and the keyboard comes off the message that showed the
screen before, so that only one live keyboard remains. A press is always answered first
(``answerCallbackQuery``), so the delegate's client stops waiting at once.

Example::

    messages = screen_messages(screen, chat_id=4711, key="reply:41", live=live, pressed=88)
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup

from handlers.telegram import keyboards
from handlers.telegram.render import (
    MESSAGE_LIMIT,
    Outgoing,
    markdown_blocks,
    messages,
    plain,
    render_screen,
    render_text,
    units,
)
from surveys.conversation import Screen
from surveys.queues import Lane, LiveScreen, NewMessage, ScreenRef
from surveys.records import Channel

CHANNEL = Channel.TELEGRAM.value
CALLBACK_TEXT_LIMIT = 200
CAPTION_LIMIT = 1024

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
"""The methods that post a new message (Telegram's one-a-second per chat applies to them)."""


@dataclass(frozen=True)
class Pressed:
    """The button press being answered: the callback query and the message it was on."""

    query_id: str
    message_id: int | None


def screen_ref(screen: Screen) -> ScreenRef:
    prompt = screen.prompt
    return ScreenRef(
        response_id=screen.response.id,
        participant_id=screen.participant.id,
        round_id=screen.round.id,
        question_id=prompt.question.id if prompt is not None else None,
        version=screen.response.version,
    )


def _send(
    chat_id: int | str, outgoing: Outgoing, *, key: str, lane: Lane, screen: Screen | None = None
) -> NewMessage:
    body: dict[str, Any] = {
        "chat_id": chat_id,
        "text": outgoing.text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if outgoing.keyboard is not None:
        body["reply_markup"] = outgoing.keyboard.to_dict()
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=str(chat_id),
        method="sendMessage",
        body=body,
        lane=lane,
        participant_id=screen.participant.id if screen is not None else None,
        round_id=screen.round.id if screen is not None else None,
        screen=screen_ref(screen) if screen is not None else None,
    )


def _edit(
    chat_id: int | str, message_id: int, outgoing: Outgoing, *, key: str, screen: Screen
) -> NewMessage:
    body: dict[str, Any] = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": outgoing.text,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if outgoing.keyboard is not None:
        body["reply_markup"] = outgoing.keyboard.to_dict()
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=str(chat_id),
        method="editMessageText",
        body=body,
        lane=Lane.INTERACTIVE,
        participant_id=screen.participant.id,
        round_id=screen.round.id,
        screen=screen_ref(screen),
    )


def keyboard_message(
    chat_id: int | str,
    message_id: int,
    keyboard: InlineKeyboardMarkup | None,
    *,
    key: str,
    lane: Lane = Lane.INTERACTIVE,
) -> NewMessage:
    """Replace (or, with None, take off) the buttons of one message."""
    body: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id}
    body["reply_markup"] = keyboard.to_dict() if keyboard is not None else {"inline_keyboard": []}
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=str(chat_id),
        method="editMessageReplyMarkup",
        body=body,
        lane=lane,
    )


def answer_press(pressed: Pressed, notice: str | None, *, key: str) -> NewMessage:
    """Answer a callback query (always: the client shows a spinner until then)."""
    body: dict[str, Any] = {"callback_query_id": pressed.query_id}
    if notice:
        body["text"] = (
            notice
            if len(notice) <= CALLBACK_TEXT_LIMIT
            else notice[: CALLBACK_TEXT_LIMIT - 1] + "…"
        )
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=f"query:{pressed.query_id}",
        method="answerCallbackQuery",
        body=body,
        lane=Lane.INTERACTIVE,
    )


def screen_messages(
    screen: Screen,
    *,
    chat_id: int | str,
    key: str,
    live: LiveScreen | None,
    pressed: int | None = None,
    mask: int | None = None,
    preface: str | None = None,
    lane: Lane = Lane.INTERACTIVE,
) -> list[NewMessage]:
    """Show ``screen`` to the chat; ``pressed`` is the message whose button led here, ``live``
    the message showing this response's screen so far."""
    rendered = render_screen(screen, mask=mask)
    previous = _message_id(live)
    in_place = (
        pressed is not None
        and preface is None
        and len(rendered) == 1
        and previous in (None, pressed)
    )
    if in_place and pressed is not None:
        return [_edit(chat_id, pressed, rendered[0], key=key, screen=screen)]
    if preface:
        rendered = _with_preface(preface, rendered)
    out: list[NewMessage] = []
    for index, outgoing in enumerate(rendered):
        last = index == len(rendered) - 1
        out.append(
            _send(
                chat_id,
                outgoing,
                key=key if last else f"{key}:part{index}",
                lane=lane,
                screen=screen if last else None,
            )
        )
    olds = sorted(old for old in {previous, pressed} if old is not None)
    for number, old in enumerate(olds):
        out.append(keyboard_message(chat_id, old, None, key=f"{key}:off{number}", lane=lane))
    return out


def redraw_message(
    screen: Screen, *, chat_id: int | str, pressed: int, mask: int, key: str
) -> NewMessage:
    """Show a multiple-choice selection on the pressed message's buttons (nothing stored)."""
    return keyboard_message(
        chat_id, pressed, keyboards.question_keyboard(screen, mask=mask), key=key
    )


def text_messages(
    chat_id: int | str,
    value: str,
    *,
    key: str,
    keyboard: InlineKeyboardMarkup | None = None,
    lane: Lane = Lane.INTERACTIVE,
) -> list[NewMessage]:
    """A plain text (split if long), its keyboard on the last part."""
    return _all(chat_id, render_text(value, keyboard), key=key, lane=lane)


def replace_messages(
    chat_id: int | str, pressed: int | None, value: str, *, key: str
) -> list[NewMessage]:
    """Put ``value`` in place of the pressed message (its buttons go), or send it."""
    rendered = render_text(value)
    if pressed is None or len(rendered) > 1:
        return _all(chat_id, rendered, key=key, lane=Lane.INTERACTIVE)
    body: dict[str, Any] = {
        "chat_id": chat_id,
        "message_id": pressed,
        "text": rendered[0].text,
        "parse_mode": "HTML",
        "reply_markup": {"inline_keyboard": []},
    }
    return [
        NewMessage(
            channel=CHANNEL,
            key=key,
            address=str(chat_id),
            method="editMessageText",
            body=body,
            lane=Lane.INTERACTIVE,
        )
    ]


def rendered_messages(
    chat_id: int | str, rendered: Sequence[Outgoing], *, key: str, lane: Lane = Lane.INTERACTIVE
) -> list[NewMessage]:
    """Messages already rendered (a rounds list, a status report)."""
    return _all(chat_id, rendered, key=key, lane=lane)


def _all(
    chat_id: int | str, rendered: Sequence[Outgoing], *, key: str, lane: Lane
) -> list[NewMessage]:
    return [
        _send(chat_id, outgoing, key=key if index == 0 else f"{key}:{index}", lane=lane)
        for index, outgoing in enumerate(rendered)
    ]


def _with_preface(preface: str, rendered: list[Outgoing]) -> list[Outgoing]:
    """The preface in the first message when it fits (an invitation is one message)."""
    lead = "".join(span.html() for span in plain(preface))
    first = rendered[0]
    joined = f"{lead}\n\n{first.text}"
    if units(_visible(joined)) <= MESSAGE_LIMIT:
        return [Outgoing(joined, first.keyboard), *rendered[1:]]
    return [*render_text(preface), *rendered]


def _visible(markup: str) -> str:
    """The text of our own HTML (tags we make carry no ``<`` of their own)."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", markup))


def _message_id(live: LiveScreen | None) -> int | None:
    if live is None or not live.message_id or not live.message_id.lstrip("-").isdigit():
        return None
    return int(live.message_id)


def live_screen(message: NewMessage, *, outbox_id: int | None, now: datetime) -> LiveScreen | None:
    """The live screen a screen message will show once sent (None for other messages)."""
    ref = message.screen
    if ref is None:
        return None
    edited = message.body.get("message_id") if message.method == "editMessageText" else None
    return LiveScreen(
        channel=CHANNEL,
        response_id=ref.response_id,
        participant_id=ref.participant_id,
        round_id=ref.round_id,
        question_id=ref.question_id,
        version=ref.version,
        shown_at=now,
        outbox_id=outbox_id,
        message_id=str(edited) if edited is not None else None,
        address=str(message.body.get("chat_id")) if edited is not None else None,
    )


def digest_messages(
    chat_id: int | str, *, text: str, image: bytes | None, image_name: str, key: str, round_id: int
) -> list[NewMessage]:
    """A digest: the chart with the text as its caption when short enough, else the chart
    then the text (its Markdown shown as Telegram formatting)."""
    rendered = messages(markdown_blocks(text), None)
    if image is None:
        return _all(chat_id, rendered, key=key, lane=Lane.BULK)
    caption = None
    if len(rendered) == 1 and units(_visible(rendered[0].text)) <= CAPTION_LIMIT:
        caption, rendered = rendered[0].text, []
    photo = NewMessage(
        channel=CHANNEL,
        key=key,
        address=str(chat_id),
        method="sendPhoto",
        body={
            "chat_id": chat_id,
            "photo": base64.b64encode(image).decode("ascii"),
            "filename": image_name,
            "caption": caption,
            "parse_mode": "HTML",
        },
        lane=Lane.BULK,
        round_id=round_id,
    )
    return [photo, *_all(chat_id, rendered, key=f"{key}:text", lane=Lane.BULK)]


__all__ = [
    "CHANNEL",
    "SEND_METHODS",
    "Pressed",
    "answer_press",
    "digest_messages",
    "keyboard_message",
    "live_screen",
    "redraw_message",
    "rendered_messages",
    "replace_messages",
    "screen_messages",
    "screen_ref",
    "text_messages",
]
