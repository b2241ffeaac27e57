"""The Bolt listeners: store what Slack sends, acknowledge, and let the inbox apply it.

Bolt verifies each request's signature (a forged or stale one gets 401) and routes it here.
Every listener does the same, whatever the request: translate it into an inbound event
(:func:`handlers.slack.inbound.to_event`), store it in the one inbox within
``services.inbox_timeout``, and only then acknowledge:

- stored: acknowledged, then applied by the inbox worker (woken at once), in order per person;
- already stored (a retry with ``X-Slack-Retry-Num``, a replay): acknowledged, not applied
  again;
- the database did not answer in time, or failed: ``503``, so Slack retries rather than
  getting an ack for something that was not stored (logged once per outage, not per request).

A modal submission is checked before it is acknowledged (within ``services.view_budget``), so
that a refused answer is shown in the modal; past the budget the modal closes and the outcome
is drawn in the message.

The constants :data:`BOT_EVENTS`, :data:`COMMANDS`, :data:`ACTIONS` and :data:`VIEWS` list what
is registered; a test checks them against ``slack-manifest.yaml``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from handlers.runtime import InboxOutage
from handlers.slack import blocks, inbound
from handlers.slack.errors import InboxUnavailable
from handlers.slack.services import SlackServices
from surveys.service.reachability import brief, unreachable

log = logging.getLogger("itinera.slack")

BOT_EVENTS: dict[str, str] = {"app_home_opened": "app_home_opened", "message.im": "message"}
"""Manifest event name -> the Bolt event type registered for it."""
COMMAND = "/itinera"
COMMANDS: tuple[str, ...] = (COMMAND,)
ACTIONS: tuple[str, ...] = tuple(blocks.ACTION_PATTERNS)
"""Kinds of block actions handled (see :data:`handlers.slack.blocks.ACTION_PATTERNS`)."""
VIEWS: tuple[str, ...] = (blocks.VIEW_ANSWER,)


class Inbox(Protocol):
    """What the listeners need of the inbox worker."""

    def wake(self) -> None: ...

    async def process(self, event_id: int) -> bool: ...


EVENT_ID = "itinera_event_id"
"""Where the inbox gate leaves the stored event's id in the Bolt context."""


def register(app: AsyncApp, services: SlackServices, inbox: Inbox) -> None:
    """Add the inbox gate and every listener of the Slack channel to ``app``."""
    outage = InboxOutage(log, "slack")

    @app.middleware
    async def inbox_gate(
        body: dict[str, Any],
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[None]],
    ) -> BoltResponse | None:
        event = inbound.to_event(body)
        if event is None:  # nothing to store (a checkbox tick): the listener just acks
            await next()
            return None
        try:
            async with asyncio.timeout(services.inbox_timeout):
                stored = await services.store.events.accept(event, now=services.clock.now())
        except TimeoutError:
            outage.failed(InboxUnavailable(event.key, services.inbox_timeout))
            return BoltResponse(status=503, body="")
        except Exception as error:
            outage.failed(error)
            return BoltResponse(status=503, body="")
        outage.stored()
        if stored is None:
            log.info("slack: %s already received; not applied again", event.key)
            return BoltResponse(status=200, body="")
        context[EVENT_ID] = stored
        await next()
        return None

    async def apply_now(event_id: int) -> None:
        """Apply the stored event in this task if it is its person's next one; else the inbox
        worker does, in turn."""
        try:
            if not await inbox.process(event_id):
                inbox.wake()
        except Exception as error:
            # The database out of reach is an outage (one line); anything else, a bug.
            log.warning(
                "slack: event %s left to the inbox worker (%s)",
                event_id,
                brief(error),
                exc_info=not unreachable(error),
            )
            inbox.wake()

    async def acknowledge_then_apply(ack: AsyncAck, context: AsyncBoltContext) -> None:
        """Acknowledge (the event is stored) and wake the inbox worker, which claims what
        arrived in batches and applies different people's events at once: applying it here
        would cost a claim of its own and keep the event loop from the next request."""
        await ack()
        if isinstance(context.get(EVENT_ID), int):
            inbox.wake()

    @app.action(_any_of(blocks.ACTION_PATTERNS.values()))
    async def on_action(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await acknowledge_then_apply(ack, context)

    @app.command(COMMAND)
    async def on_command(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await acknowledge_then_apply(ack, context)

    @app.event(BOT_EVENTS["app_home_opened"])
    async def on_home(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await acknowledge_then_apply(ack, context)

    @app.event(BOT_EVENTS["message.im"])
    async def on_message(ack: AsyncAck, context: AsyncBoltContext) -> None:
        await acknowledge_then_apply(ack, context)

    @app.view(blocks.VIEW_ANSWER)
    async def on_answer(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        event_id = context.get(EVENT_ID)
        if not isinstance(event_id, int):
            await ack()
            return
        async with services.work.track():
            key = inbound.inbox_key(body) or ""
            waiter: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
            services.modal_waiters[key] = waiter
            applying = asyncio.ensure_future(apply_now(event_id))
            try:
                async with asyncio.timeout(services.view_budget):
                    refusal = await asyncio.shield(waiter)
            except TimeoutError:
                refusal = None
            finally:
                if not waiter.done():
                    waiter.cancel()  # too late: the outcome is drawn in the message instead
                services.modal_waiters.pop(key, None)
            if refusal is not None:
                await ack(response_action="errors", errors={blocks.INPUT_BLOCK: refusal})
            else:
                await ack()
            with contextlib.suppress(Exception):
                await applying

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("slack: unhandled error on %s", inbound.inbox_key(body), exc_info=error)


def _any_of(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern.pattern})" for pattern in patterns))


__all__ = ["ACTIONS", "BOT_EVENTS", "COMMAND", "COMMANDS", "VIEWS", "Inbox", "register"]
