"""The platforms' published rate limits, as the fakes enforce them when asked to.

Off by default (tests of behaviour want every call answered); a benchmark or a test of pacing
switches them on, at the published rates or ``scaled`` (x10 to see where Itinera's own cost
starts to show). Each limit is a token bucket (``per_second``, ``burst``) on an injected clock,
so tests run on virtual time:

- Telegram (:class:`TelegramLimits`): about 30 new messages a second per bot, one a second per
  private chat, 20 a minute per group; beyond them 429 with ``parameters.retry_after``.
- Slack (:class:`SlackLimits`): ``chat.postMessage`` about one a second per conversation under a
  workspace cap of several hundred a minute, and per-method tiers (``conversations.open`` is
  Tier 3, about 50 a minute; ``users.lookupByEmail`` Tier 4, about 100); beyond them 429 with
  ``Retry-After``.

A call is checked against every scope it belongs to at once: it takes a token from each or,
if one is empty, from none and is refused, with the wait until that scope has a token again
(rounded up to whole seconds, as both platforms answer). :class:`Duplicates` counts messages
posted twice with the same content to the same conversation: what a lost or doubled send looks
like from the platform's side.

Example::

    limits = RateLimits(SLACK.scaled(10).scopes, clock=timer.monotonic)
    refusal = limits.check("chat.postMessage", conversation="DU1")
    if refusal is not None:
        ...  # answer 429 with Retry-After: refusal.retry_after
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

_EPSILON = 1e-9


@dataclass(frozen=True)
class Limit:
    """``per_second`` calls a second, at most ``burst`` at once."""

    per_second: float
    burst: float = 1.0

    def scaled(self, factor: float) -> Limit:
        return Limit(self.per_second * factor, max(self.burst, 1.0))


@dataclass(frozen=True)
class Scope:
    """One limit and what it counts: ``per`` ``"conversation"`` (each chat or channel has
    its own bucket) or ``"app"`` (one bucket for every call it covers)."""

    name: str
    limit: Limit
    methods: frozenset[str]
    per: str = "app"
    conversations: Callable[[str], bool] = field(default=lambda _: True, compare=False)
    """Which conversations the scope covers (Telegram groups have their own limit)."""


@dataclass(frozen=True)
class Refusal:
    scope: str
    retry_after: int
    """Whole seconds, at least 1, as the platforms say it."""


class _Bucket:
    def __init__(self, limit: Limit, now: float) -> None:
        self.limit, self.tokens, self.stamp = limit, limit.burst, now

    def wait(self, now: float) -> float:
        """0 if a token is there (not taken), else the seconds until one is."""
        elapsed = max(now - self.stamp, 0.0)
        self.tokens = min(self.limit.burst, self.tokens + elapsed * self.limit.per_second)
        self.stamp = max(self.stamp, now)
        if self.tokens >= 1.0 - _EPSILON:
            return 0.0
        return (1.0 - self.tokens) / self.limit.per_second


class RateLimits:
    """The buckets of one platform's scopes, created on first use, and what they refused."""

    def __init__(
        self, scopes: tuple[Scope, ...], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.scopes = scopes
        self.clock = clock
        self.accepted = 0
        """Calls that some scope counts and that were let through."""
        self.refused: Counter[str] = Counter()
        """429s answered, by scope name."""
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    @property
    def refusals(self) -> int:
        return sum(self.refused.values())

    def check(self, method: str, *, conversation: str | None = None) -> Refusal | None:
        """Take a token of every scope ``method`` to ``conversation`` counts against, or none
        and say which scope refused and for how long."""
        now = self.clock()
        buckets: list[tuple[Scope, _Bucket]] = []
        for scope in self.scopes:
            if method not in scope.methods:
                continue
            if scope.per == "conversation":
                if conversation is None or not scope.conversations(conversation):
                    continue
                key = (scope.name, conversation)
            else:
                key = (scope.name, "")
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(scope.limit, now)
            buckets.append((scope, bucket))
        if not buckets:
            return None
        waits = [(bucket.wait(now), scope) for scope, bucket in buckets]
        longest = max(waits, key=lambda pair: pair[0], default=(0.0, None))
        if longest[0] > 0 and longest[1] is not None:
            self.refused[longest[1].name] += 1
            return Refusal(longest[1].name, max(1, math.ceil(longest[0])))
        for _, bucket in buckets:
            bucket.tokens -= 1.0
        self.accepted += 1
        return None


def _is_group(chat: str) -> bool:
    return chat.startswith("-")


def _is_private(chat: str) -> bool:
    return not chat.startswith("-")


TELEGRAM_SENDING = frozenset({"sendmessage", "sendphoto", "senddocument"})
"""Bot API methods (lower case) that post a new message, which the flood limits count."""


@dataclass(frozen=True)
class TelegramLimits:
    """Telegram's flood limits (https://core.telegram.org/bots/faq, "broadcasting")."""

    per_bot: Limit = Limit(30.0, 30.0)
    per_chat: Limit = Limit(1.0, 3.0)
    per_group: Limit = Limit(20 / 60, 20.0)
    methods: frozenset[str] = TELEGRAM_SENDING

    def scaled(self, factor: float) -> TelegramLimits:
        return replace(
            self,
            per_bot=Limit(self.per_bot.per_second * factor, self.per_bot.burst * factor),
            per_chat=self.per_chat.scaled(factor),
            per_group=self.per_group.scaled(factor),
        )

    @property
    def scopes(self) -> tuple[Scope, ...]:
        return (
            Scope("chat", self.per_chat, self.methods, "conversation", _is_private),
            Scope("group", self.per_group, self.methods, "conversation", _is_group),
            Scope("bot", self.per_bot, self.methods),
        )

    def allowed_seconds(self, messages: int, *, chats: int) -> float:
        """The least time ``messages`` new messages to ``chats`` private chats (spread
        evenly) can take within these limits."""
        per_chat = math.ceil(messages / max(chats, 1))
        global_time = max(messages - self.per_bot.burst, 0.0) / self.per_bot.per_second
        chat_time = max(per_chat - self.per_chat.burst, 0.0) / self.per_chat.per_second
        return max(global_time, chat_time)


SLACK_POSTING = frozenset({"chat.postMessage"})


@dataclass(frozen=True)
class SlackLimits:
    """Slack's published limits (https://api.slack.com/apis/rate-limits) for the methods
    Itinera calls."""

    per_conversation: Limit = Limit(1.0, 3.0)
    workspace: Limit = Limit(600 / 60, 10.0)
    """All ``chat.postMessage`` calls of the app together (several hundred a minute)."""
    tiers: Mapping[str, Limit] = field(
        default_factory=lambda: {
            "conversations.open": Limit(50 / 60, 50.0),  # Tier 3
            "chat.update": Limit(50 / 60, 50.0),  # Tier 3
            "users.lookupByEmail": Limit(100 / 60, 100.0),  # Tier 4
            "users.info": Limit(100 / 60, 100.0),  # Tier 4
            "views.open": Limit(100 / 60, 100.0),  # Tier 4
            "views.publish": Limit(100 / 60, 100.0),  # Tier 4
            "chat.postEphemeral": Limit(100 / 60, 100.0),  # Tier 4
        }
    )

    def scaled(self, factor: float) -> SlackLimits:
        return replace(
            self,
            per_conversation=self.per_conversation.scaled(factor),
            workspace=Limit(self.workspace.per_second * factor, self.workspace.burst * factor),
            tiers={method: limit.scaled(factor) for method, limit in self.tiers.items()},
        )

    @property
    def scopes(self) -> tuple[Scope, ...]:
        return (
            Scope("conversation", self.per_conversation, SLACK_POSTING, "conversation"),
            Scope("workspace", self.workspace, SLACK_POSTING),
            *(Scope(method, limit, frozenset({method})) for method, limit in self.tiers.items()),
        )

    def allowed_seconds(self, messages: int, *, conversations: int) -> float:
        """The least time ``messages`` posts to ``conversations`` (spread evenly) can take."""
        per = math.ceil(messages / max(conversations, 1))
        global_time = max(messages - self.workspace.burst, 0.0) / self.workspace.per_second
        conversation_time = (
            max(per - self.per_conversation.burst, 0.0) / self.per_conversation.per_second
        )
        return max(global_time, conversation_time)


TELEGRAM = TelegramLimits()
SLACK = SlackLimits()


class Duplicates:
    """Counts a message posted again with the same content to the same conversation."""

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()
        self.count = 0

    def saw(self, conversation: str, content: Any) -> bool:
        """Record a post; True if the same one was posted there before."""
        blob = json.dumps([conversation, content], sort_keys=True, default=str)
        digest = hashlib.blake2b(blob.encode(), digest_size=16).hexdigest()
        self._seen[digest] += 1
        if self._seen[digest] > 1:
            self.count += 1
            return True
        return False


__all__ = [
    "SLACK",
    "TELEGRAM",
    "Duplicates",
    "Limit",
    "RateLimits",
    "Refusal",
    "Scope",
    "SlackLimits",
    "TelegramLimits",
]
