"""``itinera run``: start every configured channel, serve their webhooks, run the scheduler
(invitations, reminders, closing, weekly digests), stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

from bot.digest_cmd import StoreDigestService
from bot.scheduler import build_scheduler, describe, stop_scheduler
from bot.server import build_app, make_server
from bot.settings import Settings
from handlers.runtime import ChannelRuntime
from storage.database import Store, SystemClock
from surveys.errors import ItineraError
from surveys.ports import Messenger
from surveys.service.answering import Conversation

log = logging.getLogger("itinera")


def _secrets(settings: Settings) -> list[str]:
    """The configured secret values, to keep them out of messages."""
    values = [
        settings.telegram_token,
        settings.telegram_webhook_secret,
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
    ]
    return [value.get_secret_value() for value in values if value is not None]


class ChannelStartError(ItineraError):
    """A channel could not start: a refused token, an unreachable API, a bad setting."""

    def __init__(self, channel: str, error: BaseException, *, secrets: Sequence[str] = ()) -> None:
        self.channel = channel
        detail = str(error) or type(error).__name__
        for secret in secrets:
            detail = detail.replace(secret, "***")
        super().__init__(f"{channel} could not start: {detail} (check its ITINERA_* settings)")


class NothingToRun(ItineraError):
    def __init__(self) -> None:
        super().__init__(
            "no channel is configured: set ITINERA_TELEGRAM_TOKEN and/or ITINERA_SLACK_BOT_TOKEN "
            "(see README.md, Configuration)"
        )


def build_runtimes(settings: Settings, store: Store, clock: SystemClock) -> list[ChannelRuntime]:
    """One runtime per configured channel; organisers can ask any of them for a digest."""
    conversation = Conversation(store, clock=clock)
    digests = StoreDigestService(
        store,
        folder=Path(settings.digest_folder),
        clock=clock,
        classification=settings.digest_classification,
    )
    runtimes: list[ChannelRuntime] = []
    if settings.telegram_enabled:
        from bot.telegram_wiring import build_telegram

        runtimes.append(build_telegram(settings, store, conversation, clock, digests=digests))
    if settings.slack_enabled:
        from bot.slack_wiring import build_slack

        runtimes.append(build_slack(settings, store, conversation, clock, digests=digests))
    if not runtimes:
        raise NothingToRun()
    digests.messengers = list(channel_messengers(runtimes).values())
    return runtimes


def channel_messengers(runtimes: Sequence[ChannelRuntime]) -> dict[str, Messenger]:
    """The runtimes' messengers by channel, in runtime order (the order delegates are tried)."""
    found: dict[str, Messenger] = {}
    for runtime in runtimes:
        found.setdefault(runtime.messenger.channel, runtime.messenger)
    return found


async def run(settings: Settings, store: Store, *, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (or SIGINT/SIGTERM arrives), then stop everything in order."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    clock = SystemClock()
    runtimes = build_runtimes(settings, store, clock)
    scheduler = build_scheduler(settings, store, channel_messengers(runtimes), clock)
    routes = [route for runtime in runtimes for route in runtime.routes()]
    server = None
    serving: asyncio.Task[None] | None = None
    started: list[ChannelRuntime] = []
    scheduling = False
    try:
        if routes:
            server = make_server(
                build_app(routes),
                host=settings.http_host,
                port=settings.http_port,
                log_level=settings.log_level,
            )
            serving = asyncio.create_task(server.serve())
            log.info("web server on http://%s:%s", settings.http_host, settings.http_port)
        for runtime in runtimes:
            try:
                await runtime.start()
            except ItineraError:
                raise
            except Exception as error:
                raise ChannelStartError(runtime.name, error, secrets=_secrets(settings)) from error
            started.append(runtime)
            log.info("%s", runtime.describe())
        if not log.isEnabledFor(logging.DEBUG):  # "job executed" every tick is noise
            logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        scheduler.start()
        scheduling = True
        log.info("%s", describe(scheduler))
        log.info("Itinera is running; press Ctrl-C to stop")
        await stop.wait()
        log.info("stopping")
    finally:
        if scheduling:  # first, so that nothing is sent through a channel being stopped
            await stop_scheduler(scheduler)
        for runtime in reversed(started):
            try:
                await runtime.stop()
            except Exception:
                log.exception("%s did not stop cleanly", runtime.name)
        if server is not None and serving is not None:
            server.should_exit = True
            await serving
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    log.info("stopped")
