"""Translating what Slack sends (events, block actions, modal submissions, commands) into intents.

Pure functions over the parsed payloads Bolt hands us (``body``); no I/O. A block action becomes
a core :data:`~surveys.conversation.Action` for a round (with the question it was about, so a
press on an old message is not applied to another question), or a channel-only intent such as
opening the answer modal. :func:`inbox_key` names each inbound request by Slack's own ids, so a
retried delivery finds the stored one.

Example::

    intent = from_block_action(body)
    match intent:
        case DelegateAction(round_id=rid, question_id=qid, action=action): ...
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from handlers.slack import blocks
from handlers.slack.errors import InboundError
from handlers.slack.presenter import Where
from surveys.conversation import Action, Answer, Back, Edit, Show, Skip, Submit
from surveys.engine import Pressed, Typed
from surveys.queues import EventTarget, NewInboundEvent
from surveys.records import Channel

CHANNEL = Channel.SLACK.value


# --- intents ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DelegateAction:
    """Apply ``action`` in ``round_id``; if ``question_id`` is set, only while it is current."""

    round_id: int
    question_id: str | None
    action: Action

    @property
    def expects_summary(self) -> bool:
        """Submitting and changing an answer are done from the summary."""
        return isinstance(self.action, Submit | Edit)


@dataclass(frozen=True)
class OpenModal:
    """Open the answer modal for ``question_id`` (a typed answer)."""

    round_id: int
    question_id: str


@dataclass(frozen=True)
class Ignore:
    """Nothing to do (a checkbox ticked: it counts when "Done" is pressed)."""


Intent = DelegateAction | OpenModal | Ignore


def _context(block_id: str) -> tuple[int, str | None]:
    parts = block_id.split("|")
    if len(parts) != 3 or not parts[0].isdigit():
        raise InboundError(f"unexpected block id {block_id!r}")
    return int(parts[0]), parts[1] or None


def from_block_action(body: Mapping[str, Any]) -> Intent:
    """The intent of the first action of a ``block_actions`` payload."""
    actions = body.get("actions") or []
    if not actions:
        raise InboundError("a block action without actions")
    action: Mapping[str, Any] = actions[0]
    action_id = str(action.get("action_id", ""))
    kind = next((k for k, p in blocks.ACTION_PATTERNS.items() if p.match(action_id)), None)
    if kind is None:
        raise InboundError(f"unknown action id {action_id!r}")
    if kind == blocks.ACTION_TICK:
        return Ignore()
    if kind == blocks.ACTION_OPEN:
        value = str(action.get("value", ""))
        if not value.isdigit():
            raise InboundError(f"open: bad round id {value!r}")
        return DelegateAction(int(value), None, Show())
    round_id, question_id = _context(str(action.get("block_id", "")))
    match kind:
        case blocks.ACTION_CHOOSE:
            return DelegateAction(round_id, question_id, Answer(Pressed((_value(action),))))
        case blocks.ACTION_SELECT:
            chosen = action.get("selected_option") or {}
            return DelegateAction(round_id, question_id, Answer(Pressed((_value(chosen),))))
        case blocks.ACTION_DONE:
            ticked = ticked_values(body, round_id=round_id, question_id=question_id)
            return DelegateAction(round_id, question_id, Answer(Pressed(ticked)))
        case blocks.ACTION_TYPE:
            if question_id is None:
                raise InboundError("answer button outside a question")
            return OpenModal(round_id, question_id)
        case blocks.ACTION_BACK:
            return DelegateAction(round_id, question_id, Back())
        case blocks.ACTION_SKIP:
            return DelegateAction(round_id, question_id, Skip())
        case blocks.ACTION_SUBMIT:
            return DelegateAction(round_id, None, Submit())
        case blocks.ACTION_EDIT:
            chosen = action.get("selected_option") or action
            return DelegateAction(round_id, None, Edit(_value(chosen)))
    raise InboundError(f"unhandled action kind {kind!r}")  # pragma: no cover


def _value(element: Mapping[str, Any]) -> str:
    value = element.get("value")
    if not isinstance(value, str) or not value:
        raise InboundError("an action without a value")
    return value


def ticked_values(
    body: Mapping[str, Any], *, round_id: int, question_id: str | None
) -> tuple[str, ...]:
    """The codes ticked in every checkbox group of the question, merged, in group order."""
    values = ((body.get("state") or {}).get("values")) or {}
    prefix = f"{round_id}|{question_id or ''}|"
    ticked: list[str] = []
    for block_key in sorted(values):
        if not block_key.startswith(prefix):
            continue
        elements: Mapping[str, Any] = values[block_key]
        for action_id in sorted(elements, key=_group_order):
            if not blocks.ACTION_PATTERNS[blocks.ACTION_TICK].match(action_id):
                continue
            for chosen in elements[action_id].get("selected_options") or []:
                ticked.append(_value(chosen))
    return tuple(dict.fromkeys(ticked))


def _group_order(action_id: str) -> tuple[int, str]:
    tail = action_id.rpartition(".")[2]
    return (int(tail), action_id) if tail.isdigit() else (0, action_id)


# --- modal ------------------------------------------------------------------------------------


def from_view_submission(body: Mapping[str, Any]) -> tuple[blocks.ModalContext, Answer]:
    """Where the answer goes, and the typed answer (empty when nothing was entered)."""
    view = body.get("view") or {}
    try:
        where = blocks.ModalContext.load(str(view.get("private_metadata", "")))
    except (ValueError, KeyError, TypeError) as error:
        raise InboundError(f"modal metadata unreadable: {error}") from None
    values = ((view.get("state") or {}).get("values") or {}).get(blocks.INPUT_BLOCK) or {}
    element = values.get(blocks.INPUT_ACTION) or {}
    raw = element.get("value")
    if raw is None:
        raw = element.get("selected_date")
    return where, Answer(Typed(str(raw) if raw is not None else ""))


# --- direct messages --------------------------------------------------------------------------


def dm_text(event: Mapping[str, Any]) -> str | None:
    """The text a person wrote in our direct messages; None for edits, bots and other noise."""
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return None
    if event.get("subtype") or event.get("bot_id"):
        return None
    value = event.get("text")
    return value if isinstance(value, str) else None


# --- /itinera ---------------------------------------------------------------------------------


# --- who and where ------------------------------------------------------------------------------


def subject(body: Mapping[str, Any]) -> str | None:
    """The Slack user who acted (events, interactions and commands alike)."""
    user = body.get("user")
    if isinstance(user, Mapping) and user.get("id"):
        return str(user["id"])
    if body.get("user_id"):
        return str(body["user_id"])
    event = body.get("event")
    if isinstance(event, Mapping) and event.get("user"):
        return str(event["user"])
    return None


def locale(body: Mapping[str, Any]) -> str:
    """The language Slack gives for the person (interactions carry ``user.locale``)."""
    user = body.get("user")
    if isinstance(user, Mapping) and user.get("locale"):
        return str(user["locale"])
    return "en"


def where(body: Mapping[str, Any]) -> Where:
    """Where an interaction or command happened: the message acted on, the trigger, the
    response URL."""
    container = body.get("container") or {}
    in_message = container.get("type") == "message"
    channel = container.get("channel_id") if in_message else None
    if channel is None and body.get("channel_id"):
        channel = body.get("channel_id")
    return Where(
        user_id=subject(body) or "",
        channel=str(channel) if channel else None,
        ts=str(container["message_ts"]) if in_message and container.get("message_ts") else None,
        trigger_id=str(body["trigger_id"]) if body.get("trigger_id") else None,
        response_url=str(body["response_url"]) if body.get("response_url") else None,
    )


def to_event(body: Mapping[str, Any]) -> NewInboundEvent | None:
    """What to store for a request before it is acknowledged; None: nothing (a checkbox tick).

    A press records the round and question it was made on; a direct message takes them from
    the sender's live screen when it is stored.
    """
    key = inbox_key(body)
    if key is None:
        return None
    kept = {name: value for name, value in body.items() if name != "token"}
    payload = json.dumps(kept, separators=(",", ":"), ensure_ascii=False)
    target: EventTarget | None = None
    from_screen = False
    written_before: datetime | None = None
    kind = body.get("type")
    if kind == "block_actions":
        first = (body.get("actions") or [{}])[0]
        block = str(first.get("block_id", "")) if isinstance(first, Mapping) else ""
        parts = block.split("|")
        if len(parts) == 3 and parts[0].isdigit():
            target = EventTarget(round_id=int(parts[0]), question_id=parts[1] or None)
    elif kind == "view_submission":
        try:
            context, _ = from_view_submission(body)
        except InboundError:
            context = None
        if context is not None:
            target = EventTarget(round_id=context.round_id, question_id=context.question_id)
    elif kind == "event_callback":
        event = body.get("event") or {}
        from_screen = isinstance(event, Mapping) and dm_text(event) is not None
        if from_screen:
            written_before = _written_at(event)
    return NewInboundEvent(
        channel=CHANNEL,
        key=key,
        subject=subject(body) or "",
        payload=payload,
        target=target,
        from_screen=from_screen,
        written_before=written_before,
    )


# --- requests Bolt is not given ----------------------------------------------------------------

MAX_DEPTH = 64
"""The deepest nesting a Slack payload may have (Slack's own stay under 20 levels)."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_SHAPES: dict[str, tuple[str, type]] = {
    "event_callback": ("event", dict),
    "block_actions": ("actions", list),
    "view_submission": ("view", dict),
    "view_closed": ("view", dict),
}
"""For each kind of payload, the member it cannot be without, and its JSON type."""


def request_problem(body: bytes, content_type: str) -> str | None:
    """Why a (signed) request cannot be a Slack request, for a 400; None if it may be one.

    Bolt assumes a well-formed request and fails on anything else (invalid UTF-8, a JSON
    array, nesting deep enough to exhaust the parser, a ``block_actions`` without actions), so
    these are refused before it sees them. The payload must be a JSON object (the body's own
    for JSON, the ``payload`` field of a form), nested at most :data:`MAX_DEPTH` deep, holding
    no lone surrogate, and carrying what its ``type`` cannot be without; a form without a
    ``payload`` (a slash command) needs one ``command`` and one ``user_id``."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    if "application/json" in content_type.lower():
        raw = text
    else:
        try:
            fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError:
            return "the form cannot be read"
        if "payload" not in fields:
            if any(len(fields.get(name, ())) != 1 for name in ("command", "user_id")):
                return "a command needs one command and one user_id"
            return _text_problem(fields)
        if len(fields["payload"]) != 1:
            return "a form holds one payload"
        raw = fields["payload"][0]
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return "the payload is not JSON"
    if not isinstance(parsed, dict):
        return "the payload is not a JSON object"
    problem = _text_problem(parsed)
    if problem:
        return problem
    shape = _SHAPES.get(str(parsed.get("type")))
    if shape is not None:
        name, kind = shape
        member = parsed.get(name)
        if not isinstance(member, kind) or not member:
            return f"a {parsed['type']} payload without {name}"
        if isinstance(member, list) and not all(isinstance(item, dict) for item in member):
            return f"a {parsed['type']} payload whose {name} are not objects"
    return None


def _text_problem(value: object) -> str | None:
    """Too deep, or a lone surrogate somewhere (walked without recursion)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            return f"the payload is nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return "the payload holds a lone surrogate"
        elif isinstance(item, dict):
            pending.extend((key, depth + 1) for key in item)
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            pending.extend((child, depth + 1) for child in item)
    return None


def _written_at(event: Mapping[str, Any]) -> datetime | None:
    """When Slack says a message was written: its ``ts`` (seconds, to the microsecond)."""
    try:
        return datetime.fromtimestamp(float(str(event.get("ts"))), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# --- inbox keys -------------------------------------------------------------------------------


def inbox_key(body: Mapping[str, Any]) -> str | None:
    """The key a request is stored under before it is acknowledged; None: nothing to store.

    Events by ``event_id``; block actions by message (or view), ``action_ts`` and user; modal
    submissions by view id, hash and what was entered; slash commands by ``trigger_id``.
    Checkbox ticks change nothing and are not stored.
    """
    kind = body.get("type")
    if kind == "event_callback":
        event_id = body.get("event_id")
        return f"event:{event_id}" if event_id else None
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        first = actions[0]
        if blocks.ACTION_PATTERNS[blocks.ACTION_TICK].match(str(first.get("action_id", ""))):
            return None
        container = body.get("container") or {}
        where = container.get("message_ts") or container.get("view_id") or ""
        user = (body.get("user") or {}).get("id", "")
        action_ts = first.get("action_ts")
        if action_ts:
            return f"action:{where}:{action_ts}:{user}"
        return f"action:{body.get('trigger_id', '')}"
    if kind == "view_submission":
        view = body.get("view") or {}
        entered = json.dumps((view.get("state") or {}).get("values") or {}, sort_keys=True)
        digest = hashlib.sha256(entered.encode()).hexdigest()[:16]
        return f"view:{view.get('id', '')}:{view.get('hash', '')}:{digest}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    return None
