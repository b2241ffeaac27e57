"""Errors of the Slack channel (a branch of the one tree in :mod:`surveys.errors`).

Hierarchy::

    surveys.errors.ItineraError
    └── SlackError                  the Slack channel cannot do what it was asked
        ├── InboxUnavailable        the inbox did not store a request in time (Slack retries)
        ├── InboundError            a request is not shaped as our messages make them
        └── RenderError             a screen cannot be drawn within Block Kit's limits

A wrong Slack setting is the core's :class:`surveys.errors.ConfigurationError`, naming the
variable.
"""

from __future__ import annotations

from surveys.errors import ItineraError


class SlackError(ItineraError):
    """Base of the Slack channel's own errors."""


class InboxUnavailable(SlackError):
    def __init__(self, key: str, timeout: float) -> None:
        self.key = key
        self.timeout = timeout
        super().__init__(f"slack: inbox did not store {key} within {timeout:.1f}s")


class InboundError(SlackError, ValueError):
    """A payload is not shaped as our messages produce (tampered with, or from another app)."""


class RenderError(SlackError):
    """A screen cannot be drawn within Block Kit's limits."""


__all__ = ["InboundError", "InboxUnavailable", "RenderError", "SlackError"]
