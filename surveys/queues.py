"""What flows in and out through our own tables: inbound events, outbound messages, screens.

Everything a platform sends us is stored as an :class:`InboundEvent` before it is
acknowledged; everything we send is an :class:`OutboundMessage` row written in the same
transaction as the change that causes it. Both are queues that several processes share:

- **Inbox rule.** An event is stored under the platform's own id (a retry finds it), claimed
  with a lease so that two processes never work it at once, processed at least once and
  applied idempotently: the state change, the messages it causes and the event's completion
  commit together, and only the lease holder can complete it. Events of one *subject* (one
  person on one channel) are claimed oldest first, one at a time; different subjects are
  worked concurrently. Each event records what it acts on (:class:`EventTarget`: the round,
  response, question and state version shown), so a replay after a crash applies to that
  question or is dropped with a note, never to a later question.
- **Outbox rule.** A message is keyed by what it is for (``invite:3:17``): enqueuing it twice
  stores it once. Senders claim messages with a lease, oldest first within a lane, one at a time
  per address (so a chat sees its messages in order, whatever their lanes), the interactive
  lane before the bulk one;
  a sent message records the platform's id; a transient refusal postpones it, a permanent one
  fails it for the organiser to see.
- **Live screens.** Which message shows a delegate's current question on a channel
  (:class:`LiveScreen`), so that a press edits it in place and typed text knows what it
  answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any

INBOX_LEASE = timedelta(seconds=60)
"""How long a claimed inbound event is its worker's; a worker that died loses it after this."""

OUTBOX_LEASE = timedelta(seconds=60)
"""How long a claimed outbound message is its sender's (a crash mid-send: sent again after)."""


# --- inbox ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventTarget:
    """What an inbound event acts on, as the delegate saw it when they acted.

    Buttons carry it (the round or response, and the question they were drawn for); typed text
    takes it from the subject's latest live screen on the channel when it is stored.
    """

    round_id: int | None = None
    response_id: int | None = None
    question_id: str | None = None
    """None with a response: the summary was shown."""
    version: int | None = None
    """The response version the screen was drawn from."""
    moved_on: bool = False
    """Typed text written before the screen it was taken from was shown: it answered an
    earlier screen, so it is not applied to this one (the person is told)."""


@dataclass(frozen=True)
class NewInboundEvent:
    """An event to store, before it is acknowledged."""

    channel: str
    key: str
    """The platform's own id for it (``event:Ev123``, ``update:4711``): unique per channel."""
    subject: str
    """Who acted, on this channel (a Slack user id, a Telegram user id): events of one subject
    are processed in order."""
    payload: str
    """The request as received (JSON text, secrets removed)."""
    target: EventTarget | None = None
    from_screen: bool = False
    """Fill ``target`` from the subject's latest live screen on the channel (typed text)."""
    written_before: datetime | None = None
    """With ``from_screen``: the person wrote it no later than this, by the platform's clock
    (a retry can arrive long after). A screen shown after it was not what they answered."""


@dataclass(frozen=True)
class InboundEvent:
    """A stored inbound event."""

    id: int
    channel: str
    key: str
    subject: str
    payload: str
    received_at: datetime
    target: EventTarget = field(default_factory=EventTarget)
    attempts: int = 0
    """How often it was claimed (a claim counts one)."""
    processed_at: datetime | None = None
    error: str | None = None
    """Why it was not applied (recorded when it was given up on)."""


@dataclass(frozen=True)
class InboxBacklog:
    """What waits in the inbox: how many events, and how old the oldest is."""

    pending: int
    oldest: datetime | None


# --- outbox --------------------------------------------------------------------------------------


class Lane(IntEnum):
    """Which outbound messages go first: replies to what a person just did, then bulk."""

    INTERACTIVE = 0
    BULK = 1


class OutboundStatus(StrEnum):
    PENDING = "pending"
    """Waiting to be sent (or to be tried again after ``available_at``)."""
    CLAIMED = "claimed"
    """A sender is sending it (until its lease ends)."""
    SENT = "sent"
    FAILED = "failed"
    """Refused for good (the recipient blocked the bot, the chat is gone): not tried again
    unless an organiser resends."""


@dataclass(frozen=True)
class ScreenRef:
    """The delegate's screen an outbound message shows: once it is sent, the live screen of
    ``response_id`` on the message's channel records the platform's message id."""

    response_id: int
    participant_id: int
    round_id: int
    question_id: str | None
    version: int


@dataclass(frozen=True)
class NewMessage:
    """A message to send, keyed by what it is for."""

    channel: str
    key: str
    """Unique per channel: ``invite:3:17``, ``reply:<event id>:0``, ``digest:3:2026-03-02``."""
    address: str
    """Who or where it goes to (a chat, user or channel id): messages to one address are sent in
    order, and paced per address."""
    method: str
    """The platform method: ``chat.postMessage``, ``sendMessage``, ``editMessageText``..."""
    body: dict[str, Any]
    """The method's arguments (JSON-serialisable)."""
    lane: Lane = Lane.BULK
    participant_id: int | None = None
    round_id: int | None = None
    screen: ScreenRef | None = None
    available_at: datetime | None = None
    """Not before this time (None: at once)."""


@dataclass(frozen=True)
class OutboundMessage:
    """A stored outbound message."""

    id: int
    channel: str
    key: str
    address: str
    method: str
    body: dict[str, Any]
    lane: Lane
    status: OutboundStatus
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    """How often a sender claimed it."""
    participant_id: int | None = None
    round_id: int | None = None
    screen: ScreenRef | None = None
    message_id: str | None = None
    """The platform's id of the sent message (Slack ``ts``, Telegram ``message_id``)."""
    sent_address: str | None = None
    """Where the platform says it went (Slack's DM channel for a user id)."""
    error: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A message the platform accepted: its outbox id, the platform's id of it and where the
    platform says it went (None: where it was addressed)."""

    message_id: int
    platform_id: str | None
    address: str | None = None


@dataclass(frozen=True)
class OutboxBacklog:
    """What waits in the outbox of one channel."""

    channel: str
    pending: int
    oldest: datetime | None
    failed: int


# --- screens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveScreen:
    """The message that shows a delegate's screen of one round on one channel."""

    channel: str
    response_id: int
    participant_id: int
    round_id: int
    question_id: str | None
    """None: the summary (or the thank-you) is shown."""
    version: int
    shown_at: datetime
    outbox_id: int | None = None
    """The outbound message that shows it (its platform id is known once it is sent)."""
    message_id: str | None = None
    address: str | None = None
    """The chat or channel the message is in."""


# --- leases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lease:
    """A named lease (``scheduler``, ``telegram-polling``) and who holds it until when."""

    name: str
    holder: str
    expires_at: datetime


__all__ = [
    "INBOX_LEASE",
    "OUTBOX_LEASE",
    "Delivery",
    "EventTarget",
    "InboundEvent",
    "InboxBacklog",
    "Lane",
    "Lease",
    "LiveScreen",
    "NewInboundEvent",
    "NewMessage",
    "OutboundMessage",
    "OutboundStatus",
    "OutboxBacklog",
    "ScreenRef",
]
