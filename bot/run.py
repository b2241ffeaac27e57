"""``itinera run``: build Itinera from the settings and serve until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from bot.bootstrap import build, serve
from bot.settings import Settings
from storage.database import Store


async def run(
    settings: Settings,
    store: Store,
    *,
    stop: asyncio.Event | None = None,
    rate_scale: float = 1.0,
) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM arrives), then stop everything in order.
    ``rate_scale`` multiplies the platforms' published rate limits the senders pace to (the
    benchmarks try x10 against fakes enforcing as much)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await serve(build(settings, store, rate_scale=rate_scale), stop=stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
