"""The Bolt listeners: store, acknowledge, then hand over to the module that does the work.

:func:`register` adds one global middleware, the inbox gate, and the listeners. The gate runs
after Bolt has verified the request's signature; it stores the request in the inbox under its
Slack id (:func:`handlers.slack.inbound.inbox_key`) within ``services.inbox_timeout``:

- stored: the listener runs, acknowledges at once, then works (``process_before_response``
  is off, so the work goes on after Slack has its answer) and marks the request processed;
- already stored (a retry with ``X-Slack-Retry-Num``, a replay): acknowledged, not applied;
- the database did not answer in time: ``503``, so Slack retries rather than getting an ack
  for something that was not stored.

The constants :data:`BOT_EVENTS`, :data:`COMMANDS`, :data:`ACTIONS` and :data:`VIEWS` list what
is registered; a test checks them against ``slack-manifest.yaml``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from handlers.slack import answering, blocks, commands, home, inbound
from handlers.slack.services import CHANNEL, InboxUnavailable, SlackServices
from surveys.records import InboundEvent

log = logging.getLogger("itinera.slack")

BOT_EVENTS: dict[str, str] = {"app_home_opened": "app_home_opened", "message.im": "message"}
"""Manifest event name -> the Bolt event type registered for it."""
COMMANDS: tuple[str, ...] = (commands.COMMAND,)
ACTIONS: tuple[str, ...] = tuple(blocks.ACTION_PATTERNS)
"""Kinds of block actions handled (see :data:`handlers.slack.blocks.ACTION_PATTERNS`)."""
VIEWS: tuple[str, ...] = (blocks.VIEW_ANSWER,)

INBOX_KEY = "itinera_inbox_key"
"""Where the gate leaves the stored request's key in the Bolt context."""


def register(app: AsyncApp, services: SlackServices) -> None:
    """Add the inbox gate and every listener of the Slack channel to ``app``."""

    @app.middleware
    async def inbox_gate(
        body: dict[str, Any],
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[None]],
        request: Any,
    ) -> BoltResponse | None:
        key = inbound.inbox_key(body)
        if key is None:
            await next()
            return None
        try:
            fresh = await services.store_inbound(key, body)
        except InboxUnavailable as error:
            log.warning("%s; answering 503 so that Slack retries", error)
            return BoltResponse(status=503, body="")
        except Exception:
            log.exception("slack: inbox failed on %s; answering 503", key)
            return BoltResponse(status=503, body="")
        if not fresh:
            retry = (request.headers.get("x-slack-retry-num") or [None])[0]
            log.info("slack: %s already received (retry %s); not applied again", key, retry)
            return BoltResponse(status=200, body="")
        context[INBOX_KEY] = key
        await next()
        return None

    async def work(
        context: Mapping[str, Any] | None,
        body: Mapping[str, Any],
        job: Awaitable[None],
        *,
        user_id: str | None,
    ) -> None:
        key = context.get(INBOX_KEY) if context is not None else None
        try:
            await job
        except Exception as error:
            await services.report_failure(error, key=key, user_id=user_id)
            return
        await services.mark_processed(key)

    @app.action(_any_of(blocks.ACTION_PATTERNS.values()))
    async def on_action(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        async with services.work.track():
            await ack()
            job = answering.on_block_action(services, body)
            await work(context, body, job, user_id=_user(body))

    @app.view(blocks.VIEW_ANSWER)
    async def on_answer(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        acked = False

        async def ack_once(**answer: Any) -> None:
            nonlocal acked
            acked = True
            await ack(**answer)

        async with services.work.track():
            try:
                job = answering.on_view_submission(services, body, ack=ack_once)
                await work(context, body, job, user_id=_user(body))
            finally:
                if not acked:  # failed before answering: close the modal rather than hang
                    await ack()

    @app.command(commands.COMMAND)
    async def on_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        async with services.work.track():
            await ack()
            job = commands.on_command(services, body)
            await work(context, body, job, user_id=str(body.get("user_id") or "") or None)

    @app.event(BOT_EVENTS["app_home_opened"])
    async def on_home(
        ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async with services.work.track():
            await ack()
            if event.get("tab", "home") == "home":
                job = home.publish_home(services, str(event["user"]))
            else:
                job = _nothing()
            await work(context, body, job, user_id=None)

    @app.event(BOT_EVENTS["message.im"])
    async def on_message(
        ack: AsyncAck, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        async with services.work.track():
            await ack()
            job = answering.on_direct_message(services, event)
            await work(context, body, job, user_id=None)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("slack: unhandled error on %s", inbound.inbox_key(body), exc_info=error)


async def process_stored(services: SlackServices, stored: InboundEvent) -> None:
    """Process a request stored but never processed (the process stopped in between)."""
    body: dict[str, Any] = json.loads(stored.payload)
    kind = body.get("type")
    try:
        if kind == "block_actions":
            await answering.on_block_action(services, body, live=False)
        elif kind == "view_submission":
            await answering.on_view_submission(services, body, ack=None)
        elif kind == "event_callback":
            event = body.get("event") or {}
            if event.get("type") == BOT_EVENTS["app_home_opened"]:
                await home.publish_home(services, str(event["user"]))
            elif event.get("type") == BOT_EVENTS["message.im"]:
                await answering.on_direct_message(services, event)
        elif body.get("command") == commands.COMMAND:
            await commands.on_command(services, body)
    except Exception as error:
        await services.report_failure(error, key=stored.key, user_id=None)
        return
    await services.mark_processed(stored.key)


async def process_pending(services: SlackServices, *, received_before: datetime) -> int:
    """Process, oldest first, what was stored before ``received_before`` and never processed."""
    count = 0
    for stored in await services.repos.inbox.pending(CHANNEL, limit=1000):
        services.remember_stored(stored)
        if stored.received_at >= received_before:
            continue
        async with services.work.track():
            await process_stored(services, stored)
        count += 1
    return count


def _any_of(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern.pattern})" for pattern in patterns))


def _user(body: Mapping[str, Any]) -> str | None:
    user = body.get("user") or {}
    return str(user.get("id")) if user.get("id") else None


async def _nothing() -> None:
    return None
