"""Connections to the database that stall for good while delegates answer.

``itinera run`` reaches PostgreSQL through a TCP proxy on loopback (:mod:`tests.faults.proxy`).
Once delegates are answering, every connection open at that moment stops forwarding anything,
ever, and stays open: a firewall or NAT that forgot them. No error reports it; the server
keeps its end, with whatever transaction and row locks it held, until it gives up on it. New
connections work.

Asserted, with the same process throughout: every answer is stored once, on the question it
was given for; every stored event is applied; no traceback and no ERROR line in the log. This
holds because a statement has a time limit (``ITINERA_DATABASE_TIMEOUT_SECONDS``, here 2 s):
without one, work waiting on a stalled connection waits for ever, and the answers it holds
are never applied.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from storage.tables import InboundEventRow
from tests.faults.harness import (
    QUESTIONS,
    Drive,
    SlackPlatform,
    World,
    platforms_retrying,
    shown_question,
    wait_until,
)
from tests.faults.proxy import TcpProxy

STALL_AFTER = 16
"""Acknowledged requests before the connections stall."""
WAIT = 90.0


async def test_stalled_connections_while_answering(
    make_world: Any, itinera_process: Any, fault_db: Any
) -> None:
    world: World = await make_world(slack=6, telegram=6)
    port = make_url(fault_db.url).port or 5432
    async with TcpProxy("127.0.0.1", port) as proxy:
        itinera = itinera_process(
            fault_db.with_host("127.0.0.1", proxy.port),
            extra={"ITINERA_DATABASE_TIMEOUT_SECONDS": "2"},
        )
        await itinera.start()
        slack = SlackPlatform(itinera.slack_events)
        drive = Drive(world, slack)
        delegates = world.delegates
        await wait_until(
            lambda: all(shown_question(world, d) == "q1" for d in delegates),
            within=WAIT,
            what="every delegate's invitation",
        )

        async def staller() -> None:
            await wait_until(
                lambda: drive.acknowledged() >= STALL_AFTER,
                within=WAIT,
                what=f"{STALL_AFTER} acknowledged requests",
                every=0.02,
            )
            await proxy.stall()

        async def stored(delegate: Any, question_id: str) -> None:
            async def done() -> bool:
                _, answers = await world.state(delegate)
                return question_id in answers

            await wait_until(done, within=WAIT, what=f"{delegate.name}'s answer to {question_id}")

        try:
            async with platforms_retrying(slack, world.telegram, hold=set()):
                await asyncio.gather(
                    staller(),
                    *(
                        drive.answer_all(n, d, within=WAIT, then=stored)
                        for n, d in enumerate(delegates)
                    ),
                )

                async def settled() -> bool:
                    pending = slack.pending or world.telegram.pending()
                    return not pending and await world.db.unprocessed() == 0

                await wait_until(settled, within=WAIT, what="every request applied")
        finally:
            await slack.aclose()

        assert proxy.outages == ["stall"]
        assert itinera.starts == 1 and itinera.kills == 0
        assert itinera.process is not None and itinera.process.returncode is None
        for delegate in delegates:
            _, answers = await world.state(delegate)
            assert answers == delegate.answered, delegate.name
        history = await world.db.history()
        writes = Counter((response, question) for response, question, _ in history)
        assert max(writes.values()) == 1, [key for key, n in writes.items() if n > 1]
        assert len(history) == len(delegates) * len(QUESTIONS)
        failed = await world.db.rows(
            select(InboundEventRow.key, InboundEventRow.error).where(
                InboundEventRow.error.is_not(None)
            )
        )
        assert failed == []
        log_text = itinera.log.read_text(errors="replace")
        assert itinera.tracebacks() == 0, log_text[-4000:]
        lines = log_text.splitlines()
        assert not [line for line in lines if " ERROR " in line or " CRITICAL " in line]
        print(
            f"\nconnections stalled after {STALL_AFTER} acknowledged requests; answers "
            f"{len(history)}; slack retried {slack.unacknowledged}; tracebacks 0; "
            f"duplicates 0; losses 0"
        )
