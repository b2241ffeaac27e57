"""What every channel's receiving side offers the composition root: routes, start, stop.

``bot.bootstrap`` builds one runtime per configured channel, mounts their routes on the shared
web server, starts them, and stops them in reverse order on Ctrl-C. Sending is the senders'
(one per channel, draining the outbox); applying what arrived is the inbox worker's.
"""

from __future__ import annotations

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
