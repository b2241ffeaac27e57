"""What every channel offers the composition root: routes to serve, and a start and a stop.

``bot.run`` builds one runtime per configured channel, mounts their routes on the shared web
server, starts them, and stops them in reverse order on Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from starlette.routing import BaseRoute

from surveys.ports import Messenger


class ChannelRuntime(Protocol):
    name: str

    @property
    def messenger(self) -> Messenger:
        """Writes to people on this channel: invitations, reminders, digests."""
        ...

    def routes(self) -> Sequence[BaseRoute]:
        """HTTP routes this channel needs on the shared server (may be empty)."""
        ...

    def describe(self) -> str:
        """One line for the log: the channel and the mode it runs in."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
