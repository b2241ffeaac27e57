"""What Itinera sends on Slack, as outbox messages: screens, modals, notes, replies, Home, digests.

Pure functions from what the core decided (a :class:`~surveys.conversation.Screen`, a reply
text, a Home view) and where the person acted (:class:`Where`) to
:class:`~surveys.queues.NewMessage` rows: the Web API method and its arguments, keyed by what
the message is for and addressed for pacing. A sender delivers them later (usually within
milliseconds); nothing here does I/O.

A screen shown after a press replaces the pressed message (``chat.update``); otherwise it is a
new direct message, posted to the person's user id (Slack opens the DM itself, with no
``conversations.open``). Either way the message records the screen it shows, so that once it is
sent the response's live screen knows its ``ts``.

Example::

    message = screen_message(screen, where=Where(user_id="U1", channel="D1", ts="1.2"),
                             key="reply:41:0")
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from handlers.slack import blocks
from handlers.slack.errors import RenderError
from handlers.slack.mrkdwn import escape, to_mrkdwn
from surveys.conversation import Screen
from surveys.queues import Lane, LiveScreen, NewMessage, ScreenRef
from surveys.records import Channel

CHANNEL = Channel.SLACK.value
RESPONSE_URL = "response_url"
"""A pseudo-method: POST the body's ``payload`` to its ``url`` (a command's reply)."""
FILE_UPLOAD = "files.upload_v2"
"""A pseudo-method: upload the body's base64 ``content`` as a file in ``channel``."""


@dataclass(frozen=True)
class Where:
    """Where a person acted on Slack, and what can be answered there."""

    user_id: str
    channel: str | None = None
    """The conversation of the message acted on (the DM), or of the command."""
    ts: str | None = None
    """The message acted on, to replace it in place."""
    trigger_id: str | None = None
    response_url: str | None = None

    @property
    def address(self) -> str:
        """Where messages to this person are paced and ordered: the DM, else the user."""
        return self.channel or self.user_id


def screen_ref(screen: Screen) -> ScreenRef:
    prompt = screen.prompt
    return ScreenRef(
        response_id=screen.response.id,
        participant_id=screen.participant.id,
        round_id=screen.round.id,
        question_id=prompt.question.id if prompt is not None else None,
        version=screen.response.version,
    )


def live_screen(message: NewMessage, *, outbox_id: int | None, now: Any) -> LiveScreen | None:
    """The live screen a screen message will show once sent (None for other messages)."""
    ref = message.screen
    if ref is None:
        return None
    ts = message.body.get("ts") if message.method in ("chat.update", RESPONSE_URL) else None
    return LiveScreen(
        channel=CHANNEL,
        response_id=ref.response_id,
        participant_id=ref.participant_id,
        round_id=ref.round_id,
        question_id=ref.question_id,
        version=ref.version,
        shown_at=now,
        outbox_id=outbox_id,
        message_id=ts,
        address=message.body.get("channel") if ts else None,
    )


def screen_message(
    screen: Screen,
    *,
    where: Where,
    key: str,
    preface: str | None = None,
    lane: Lane = Lane.INTERACTIVE,
) -> NewMessage:
    """Show ``screen``: in place of the pressed message, else as a new direct message."""
    rendered = blocks.render_screen(screen)
    body = rendered.blocks
    if preface:
        body = [*blocks.sections(escape(preface)), *body]
        if len(body) > blocks.MAX_BLOCKS_MESSAGE:
            raise RenderError("the preface does not fit in the message")
    fallback = blocks.clip(preface or rendered.text, blocks.MAX_FALLBACK_TEXT)
    args: dict[str, Any]
    if where.channel and where.ts and where.response_url and not preface:
        # Replacing the pressed message through the action's response_url: no Web API tier.
        method = RESPONSE_URL
        args = {
            "url": where.response_url,
            "payload": {"replace_original": True, "text": fallback, "blocks": body},
            "channel": where.channel,
            "ts": where.ts,
        }
    elif where.channel and where.ts and not preface:
        method = "chat.update"
        args = {
            "channel": where.channel,
            "ts": where.ts,
            "text": fallback,
            "blocks": body,
        }
    else:
        method = "chat.postMessage"
        args = {"channel": where.channel or where.user_id, "text": fallback, "blocks": body}
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=where.address,
        method=method,
        body=args,
        lane=lane,
        participant_id=screen.participant.id,
        round_id=screen.round.id,
        screen=screen_ref(screen),
    )


def modal_message(screen: Screen, *, where: Where, key: str) -> NewMessage:
    """Open the answer modal for the screen's (typed) question."""
    view = blocks.answer_modal(screen, channel=where.channel, ts=where.ts)
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=where.user_id,
        method="views.open",
        body={"trigger_id": where.trigger_id, "view": view},
        lane=Lane.INTERACTIVE,
        participant_id=screen.participant.id,
        round_id=screen.round.id,
    )


def note_message(text: str, *, where: Where, key: str, lane: Lane = Lane.INTERACTIVE) -> NewMessage:
    """A short note to one person: ephemeral in a channel they are in, else in their DM."""
    markdown = escape(text)
    if where.channel and not where.channel.startswith("D"):
        return NewMessage(
            channel=CHANNEL,
            key=key,
            address=where.channel,
            method="chat.postEphemeral",
            body={"channel": where.channel, "user": where.user_id, "text": markdown},
            lane=lane,
        )
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=where.address,
        method="chat.postMessage",
        body={"channel": where.channel or where.user_id, "text": markdown},
        lane=lane,
    )


def reply_message(markdown: str, *, where: Where, key: str) -> NewMessage:
    """A command's reply, visible to the person only: to its ``response_url`` (valid 30 min),
    else with ``chat.postEphemeral``."""
    found = blocks.sections(markdown)[: blocks.MAX_BLOCKS_MESSAGE]
    fallback = blocks.clip(markdown, blocks.MAX_FALLBACK_TEXT)
    if where.response_url:
        return NewMessage(
            channel=CHANNEL,
            key=key,
            address=where.user_id,
            method=RESPONSE_URL,
            body={
                "url": where.response_url,
                "payload": {"response_type": "ephemeral", "text": fallback, "blocks": found},
            },
            lane=Lane.INTERACTIVE,
        )
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=where.channel or where.user_id,
        method="chat.postEphemeral",
        body={
            "channel": where.channel or where.user_id,
            "user": where.user_id,
            "text": fallback,
            "blocks": found,
        },
        lane=Lane.INTERACTIVE,
    )


def home_message(view: dict[str, Any], *, user_id: str, key: str) -> NewMessage:
    return NewMessage(
        channel=CHANNEL,
        key=key,
        address=user_id,
        method="views.publish",
        body={"user_id": user_id, "view": view},
        lane=Lane.INTERACTIVE,
    )


def digest_messages(
    *, channel: str, text: str, image: bytes | None, image_name: str, key: str, round_id: int
) -> list[NewMessage]:
    """A digest in the organisers' channel: the chart with the text as its comment, or the
    text alone."""
    markdown = to_mrkdwn(text)
    if image is None:
        return [
            NewMessage(
                channel=CHANNEL,
                key=key,
                address=channel,
                method="chat.postMessage",
                body={"channel": channel, "text": markdown, "mrkdwn": True},
                round_id=round_id,
            )
        ]
    return [
        NewMessage(
            channel=CHANNEL,
            key=key,
            address=channel,
            method=FILE_UPLOAD,
            body={
                "channel": channel,
                "filename": image_name,
                "title": image_name,
                "initial_comment": markdown,
                "content": base64.b64encode(image).decode("ascii"),
            },
            round_id=round_id,
        )
    ]


__all__ = [
    "CHANNEL",
    "FILE_UPLOAD",
    "RESPONSE_URL",
    "Where",
    "digest_messages",
    "home_message",
    "live_screen",
    "modal_message",
    "note_message",
    "reply_message",
    "screen_message",
    "screen_ref",
]
