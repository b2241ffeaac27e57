"""``ITINERA_ROLE=web`` and ``ITINERA_ROLE=worker`` in two processes on one PostgreSQL.

The web process serves Slack's requests and Telegram's webhook and stores them; the worker
applies them (woken by the database's notice, not by a web server of its own) and sends what
follows. Eight delegates (four per channel) answer the whole survey through the web process:
every answer is stored once, on its question, every event was applied by the worker and every
message was sent.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from storage.tables import InboundEventRow, OutboundMessageRow
from tests.faults.harness import (
    QUESTIONS,
    Drive,
    SlackPlatform,
    World,
    platforms_retrying,
    wait_until,
)

WAIT = 90.0
UNSENT = ("pending", "claimed")


async def test_a_web_process_and_a_worker_process(make_world: Any, itinera_process: Any) -> None:
    world: World = await make_world(slack=4, telegram=4)
    web = itinera_process(extra={"ITINERA_ROLE": "web"})
    # Both register the same webhook: Telegram's updates go to the web process.
    worker = itinera_process(
        extra={
            "ITINERA_ROLE": "worker",
            "ITINERA_TELEGRAM_WEBHOOK_URL": f"{web.url}/telegram/webhook",
        }
    )
    await worker.start()
    await web.start()
    slack = SlackPlatform(web.slack_events)
    drive = Drive(world, slack)

    try:
        async with platforms_retrying(slack, world.telegram, hold=drive.telegram_held):
            await asyncio.gather(
                *(drive.answer_all(n, d, within=WAIT) for n, d in enumerate(world.delegates))
            )

            async def settled() -> bool:
                unsent = await world.db.scalar(
                    select(func.count()).where(OutboundMessageRow.status.in_(UNSENT))
                )
                return await world.db.unprocessed() == 0 and unsent == 0

            await wait_until(settled, within=WAIT, what="every request applied, every reply sent")
    finally:
        await slack.aclose()

    for delegate in world.delegates:
        _, answers = await world.state(delegate)
        assert answers == delegate.answered, delegate.name
    history = await world.db.history()
    assert Counter((r, q) for r, q, _ in history).most_common(1)[0][1] == 1
    assert len(history) == len(world.delegates) * len(QUESTIONS)
    # The web process applied nothing: every event was claimed by the worker; all was sent.
    assert worker.process is not None
    appliers = await world.db.rows(select(InboundEventRow.claimed_by).distinct())
    assert appliers == [(f"{socket.gethostname()}:{worker.process.pid}",)]
    statuses = await world.db.rows(select(OutboundMessageRow.status).distinct())
    assert statuses == [("sent",)]
    assert slack.unacknowledged == 0
    assert web.tracebacks() == 0 and worker.tracebacks() == 0
