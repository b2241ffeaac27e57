"""The composition root: Itinera built from its settings, in one place, once.

:func:`build` makes, in order: each configured channel's sending side (client or bot, transport,
paced sender, delivery and digest side), the digest service organisers ask from a chat, each
channel's receiving side (services and event handler), the one inbox worker over both
handlers, the channels' runtimes (which store what arrives and wake the worker), the leader's
lease, the scheduler and the web application. Nothing is changed after it is built.

:func:`serve` runs it as ``ITINERA_ROLE`` says (``all``, ``web`` or ``worker``; see
:class:`bot.settings.Role`) until ``stop`` is set, then stops everything in reverse order.

Example::

    itinera = build(settings, store)
    await serve(itinera, stop=asyncio.Event())
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from starlette.applications import Starlette

from bot.digest_cmd import StoreDigestService, publish_digest
from bot.metrics import Metrics
from bot.scheduler import Schedule, build_scheduler
from bot.secrets import configured_secrets, mask
from bot.server import build_app, make_server
from bot.settings import Role, Settings
from handlers.runtime import ChannelRuntime
from storage.database import Store, SystemClock
from storage.notices import listen_for_inbox
from surveys.errors import ItineraError
from surveys.pacing import MonotonicTimer, Timer
from surveys.ports import Clock, Messenger
from surveys.service.delivery import ChannelOut
from surveys.service.intake import EventHandler, InboxWorker
from surveys.service.leadership import Leadership
from surveys.service.sending import Sender

log = logging.getLogger("itinera")

REFRESH_METRICS = 5.0
"""Seconds between reading the queues' depth and age for ``/metrics``."""


class NothingToRun(ItineraError):
    def __init__(self) -> None:
        super().__init__(
            "no channel is configured: set ITINERA_TELEGRAM_TOKEN and/or ITINERA_SLACK_BOT_TOKEN "
            "(see README.md, Configuration)"
        )


class ChannelStartError(ItineraError):
    """A channel could not start: a refused token, an unreachable API, a bad setting."""

    def __init__(self, channel: str, error: BaseException, *, secrets: Sequence[str]) -> None:
        self.channel = channel
        detail = mask(str(error) or type(error).__name__, secrets)
        super().__init__(f"{channel} could not start: {detail} (check its ITINERA_* settings)")


class DeliveryOut(ChannelOut, Messenger, Protocol):
    """A channel's delivery side: reaches delegates, draws screens, posts digests."""


@dataclass
class Itinera:
    """Everything ``itinera run`` runs, built and wired."""

    settings: Settings
    store: Store
    clock: Clock
    worker: str
    inbox: InboxWorker
    senders: Sequence[Sender]
    runtimes: Sequence[ChannelRuntime]
    outs: Sequence[DeliveryOut]
    digests: StoreDigestService
    leader: Leadership
    schedule: Schedule
    metrics: Metrics
    web: Starlette
    closers: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=tuple)

    async def settle(self, *, within: float = 30.0) -> int:
        """Apply every stored event and send every message due now, until nothing moves:
        what tests and the demo do instead of running the loops. How many were handled."""
        handled = 0
        async with asyncio.timeout(within):
            while True:
                for runtime in self.runtimes:
                    await runtime.idle()
                moved = await self.inbox.drain()
                for sender in self.senders:
                    moved += await sender.drain()
                if moved == 0:
                    return handled
                handled += moved


def worker_name() -> str:
    """This process's name in leases and claims: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def build(
    settings: Settings,
    store: Store,
    *,
    clock: Clock | None = None,
    worker: str | None = None,
    timer: Timer | None = None,
    rate_scale: float = 1.0,
    poll_timeout: int = 30,
    idle_poll: float = 1.0,
    inbox_timeout: float = 2.0,
) -> Itinera:
    """Build Itinera for ``settings`` on ``store``; raises :class:`NothingToRun` without a
    configured channel, and the channels' ConfigurationError for an unusable setting."""
    clock = clock or SystemClock()
    worker = worker or worker_name()
    timer = timer or MonotonicTimer()
    office_hours = settings.office.parsed
    metrics = Metrics()
    role = settings.role
    polls = role is not Role.WEB

    slack_connection = telegram_connection = None
    if settings.slack.enabled:
        from bot.slack_wiring import slack_connection as connect_slack

        slack_connection = connect_slack(
            settings,
            store,
            clock=clock,
            worker=worker,
            timer=timer,
            rate_scale=rate_scale,
            on_send=metrics.on_send,
        )
    if settings.telegram.enabled:
        from bot.telegram_wiring import telegram_connection as connect_telegram

        telegram_connection = connect_telegram(
            settings,
            store,
            clock=clock,
            worker=worker,
            timer=timer,
            rate_scale=rate_scale,
            on_send=metrics.on_send,
        )
    if slack_connection is None and telegram_connection is None:
        raise NothingToRun()
    outs: list[DeliveryOut] = []
    senders: list[Sender] = []
    closers: list[Callable[[], Awaitable[None]]] = []
    for connection in (slack_connection, telegram_connection):
        if connection is not None:
            outs.append(connection.out)
            senders.append(connection.sender)
            closers.append(connection.close)
    digests = StoreDigestService(
        store,
        folder=Path(settings.digest.folder),
        clock=clock,
        classification=settings.digest.classification,
        messengers=outs,
        min_group=settings.min_group,
    )

    notes = {out.channel: out for out in outs}
    handlers: dict[str, EventHandler] = {}
    makers: list[Callable[[InboxWorker], ChannelRuntime]] = []
    if slack_connection is not None:
        from bot.slack_wiring import slack_receiving

        slack = slack_receiving(
            settings,
            store,
            slack_connection,
            clock=clock,
            office_hours=office_hours,
            digests=digests,
            inbox_timeout=inbox_timeout,
            notes=notes,
        )
        handlers["slack"] = slack.events
        makers.append(slack.make_runtime)
    if telegram_connection is not None:
        from bot.telegram_wiring import telegram_receiving

        telegram = telegram_receiving(
            settings,
            store,
            telegram_connection,
            clock=clock,
            office_hours=office_hours,
            digests=digests,
            poll=polls,
            poll_timeout=poll_timeout,
            inbox_timeout=inbox_timeout,
            notes=notes,
        )
        handlers["telegram"] = telegram.events
        makers.append(telegram.make_runtime)
    inbox = InboxWorker(
        store,
        handlers=handlers,
        clock=clock,
        worker=worker,
        lease=timedelta(seconds=settings.claim_lease_seconds),
        idle_poll=idle_poll,
        on_applied=metrics.on_applied,
    )
    runtimes = [make(inbox) for make in makers]
    leader = Leadership(
        store,
        name="scheduler",
        holder=worker,
        ttl=timedelta(seconds=settings.leader_lease_seconds or max(3 * settings.tick_seconds, 30)),
        clock=clock,
    )
    schedule = build_scheduler(
        settings,
        store,
        channels=outs,
        digests=outs,
        publish=publish_digest,
        clock=clock,
        leader=leader,
    )
    routes = (
        [route for runtime in runtimes for route in runtime.routes()]
        if role is not Role.WORKER
        else []
    )
    web = build_app(routes, store=store, metrics=metrics, senders=senders, settings=settings)
    return Itinera(
        settings=settings,
        store=store,
        clock=clock,
        worker=worker,
        inbox=inbox,
        senders=senders,
        runtimes=runtimes,
        outs=outs,
        digests=digests,
        leader=leader,
        schedule=schedule,
        metrics=metrics,
        web=web,
        closers=closers,
    )


async def serve(itinera: Itinera, *, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set, then stop everything in reverse order."""
    settings = itinera.settings
    role = settings.role
    server = make_server(
        itinera.web, host=settings.http.host, port=settings.http.port, log_level=settings.log_level
    )
    serving = asyncio.create_task(server.serve())
    log.info("web server on http://%s:%s", settings.http.host, settings.http.port)
    started: list[ChannelRuntime] = []
    refreshing = asyncio.create_task(_refresh_metrics(itinera))
    listening: asyncio.Task[None] | None = None
    try:
        for runtime in itinera.runtimes:
            try:
                await runtime.start()
            except ItineraError:
                raise
            except Exception as error:
                secrets = configured_secrets(settings)
                raise ChannelStartError(runtime.name, error, secrets=secrets) from error
            started.append(runtime)
            log.info("%s", runtime.describe())
        # Every role sends: a web process applies a Slack modal's submission at once (so that a
        # refusal can go into the modal) and sends what follows; workers send the rest.
        for sender in itinera.senders:
            sender.start()
        if role is not Role.WEB:
            itinera.inbox.start()
            database = itinera.store.database
            if database is not None and database.dialect == "postgresql":
                listening = asyncio.create_task(listen_for_inbox(database, itinera.inbox.wake))
            if not log.isEnabledFor(logging.DEBUG):  # "job executed" every tick is noise
                logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
            itinera.schedule.start()
            log.info("%s", itinera.schedule.describe())
        log.info("Itinera is running (%s, role %s); press Ctrl-C to stop", itinera.worker, role)
        await stop.wait()
        log.info("stopping")
    finally:
        await itinera.schedule.stop()
        await itinera.leader.release()
        for runtime in reversed(started):
            try:
                await runtime.stop()
            except Exception:
                log.exception("%s did not stop cleanly", runtime.name)
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
        await itinera.inbox.stop()
        for sender in itinera.senders:
            await sender.stop()
        refreshing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refreshing
        server.should_exit = True
        await serving
        for close in itinera.closers:
            with contextlib.suppress(Exception):
                await close()
    log.info("stopped")


async def _refresh_metrics(itinera: Itinera) -> None:
    """Read the queues' depth and age for ``/metrics`` every few seconds."""
    metrics = itinera.metrics
    while True:
        try:
            now = itinera.clock.now()
            inbox = await itinera.store.events.backlog()
            metrics.inbox_depth.set(inbox.pending)
            metrics.inbox_age.set((now - inbox.oldest).total_seconds() if inbox.oldest else 0)
            for backlog in await itinera.store.messages.backlog():
                metrics.outbox_depth.labels(backlog.channel).set(backlog.pending)
                age = (now - backlog.oldest).total_seconds() if backlog.oldest else 0
                metrics.outbox_age.labels(backlog.channel).set(age)
                metrics.outbox_failed.labels(backlog.channel).set(backlog.failed)
            metrics.leader.set(1 if itinera.leader.leading else 0)
        except Exception as error:
            log.debug("metrics not refreshed: %s", error)
        await asyncio.sleep(REFRESH_METRICS)


__all__ = ["ChannelStartError", "Itinera", "NothingToRun", "build", "serve", "worker_name"]
