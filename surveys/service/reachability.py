"""Whether an error means the database (or a network peer) could not be reached.

The workers log such an error as one line and try again later: during an outage every event
and message in flight fails the same way, and a traceback each would bury the log. Anything
else is a bug and keeps its traceback.

The core does not know the storage's library; it recognises an unreachable peer by what any
driver raises for it: an :class:`OSError` (refused, reset, unreachable) or a
:class:`TimeoutError` somewhere in the chain of causes, or an error that says its connection
was invalidated (SQLAlchemy's ``DBAPIError.connection_invalidated``). Example::

    try:
        ...
    except Exception as error:
        if unreachable(error):
            log.warning("cannot reach the database: %s", brief(error))
"""

from __future__ import annotations

DISCONNECTED = (
    "connection was closed",
    "connection is closed",
    "connection does not exist",
    "cannot perform operation: another operation is in progress",
)
"""What a driver says when a connection died under it without an ``OSError`` (asyncpg's
``ConnectionDoesNotExistError`` and its kin)."""


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` means a peer (most likely the database) could not be reached."""
    for link in _chain(error):
        if isinstance(link, OSError | TimeoutError):
            return True
        if getattr(link, "connection_invalidated", False) is True:
            return True
        message = str(link).lower()
        if any(words in message for words in DISCONNECTED):
            return True
    return False


def brief(error: BaseException) -> str:
    """One line naming the error, for a log: its type and the first line of its message."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if not first and isinstance(error, TimeoutError):
        first = "no answer in time"
    return (f"{type(error).__name__}: {first}" if first else type(error).__name__)[:300]


__all__ = ["brief", "unreachable"]
