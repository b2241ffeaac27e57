"""What every channel's receiving side offers the composition root: routes, start, stop.

``bot.bootstrap`` builds one runtime per configured channel, mounts their routes on the shared
web server, starts them, and stops them in reverse order on Ctrl-C. Sending is the senders'
(one per channel, draining the outbox); applying what arrived is the inbox worker's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from starlette.routing import BaseRoute


class ChannelRuntime(Protocol):
    name: str

    def routes(self) -> Sequence[BaseRoute]:
        """HTTP routes this channel needs on the shared server (may be empty)."""
        ...

    def describe(self) -> str:
        """One line for the log: the channel and the mode it runs in."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def idle(self) -> None:
        """Return once no request this runtime received is still being applied in place."""
        ...


class InboxOutage:
    """Logs a channel's trouble storing what arrives once per episode, not once per request:
    a database outage under load would otherwise write a traceback for every retry.

    Example::

        outage = InboxOutage(log, "slack")
        try:
            stored = await accept(event)
        except Exception as error:
            outage.failed(error)            # one warning when the episode starts
            return 503
        outage.stored()                     # one line when it ends
    """

    def __init__(self, log: logging.Logger, channel: str) -> None:
        self._log = log
        self._channel = channel
        self.failures = 0
        """Requests refused in the current episode (0: none)."""

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.failures == 1:
            reason = str(error).splitlines()[0][:200] if str(error) else ""
            self._log.warning(
                "%s: the inbox cannot store what arrives (%s%s); answering 503 so that it is "
                "sent again, until the database answers",
                self._channel,
                type(error).__name__,
                f": {reason}" if reason else "",
            )

    def stored(self) -> None:
        if self.failures:
            self._log.warning(
                "%s: the inbox stores again (%d requests were answered 503 meanwhile)",
                self._channel,
                self.failures,
            )
            self.failures = 0
