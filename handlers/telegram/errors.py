"""Errors of the Telegram channel.

Hierarchy::

    surveys.errors.ItineraError
    ├── surveys.errors.DeliveryError   Telegram refused a message (blocked, rate limited, ...)
    └── TelegramChannelError           the Telegram channel cannot do what it was asked
        ├── UnrenderableError          a screen cannot be drawn within Telegram's limits
        └── ConfigurationError         the Telegram settings are incomplete or invalid

Delivery failures reuse the core's :class:`~surveys.errors.DeliveryError`, so that schedulers
handle Slack and Telegram the same way.
"""

from __future__ import annotations

from surveys.errors import ItineraError


class TelegramChannelError(ItineraError):
    """Base of the Telegram channel's own errors."""


class UnrenderableError(TelegramChannelError):
    """A screen cannot be drawn within Telegram's limits (button data, number of buttons)."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"Telegram cannot show {what}: {reason}")


class ConfigurationError(TelegramChannelError):
    """A Telegram setting is missing or invalid; names the ``ITINERA_`` variable to fix."""

    def __init__(self, variable: str, reason: str) -> None:
        self.variable = variable
        self.reason = reason
        super().__init__(f"{variable}: {reason}")
