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

from typing import Any

from sqlalchemy.engine import make_url

from tests.faults.harness import Drive, SlackPlatform, World, answered_once, wait_until
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
        await drive.invited(within=WAIT)

        async def staller() -> None:
            await wait_until(
                lambda: drive.acknowledged() >= STALL_AFTER,
                within=WAIT,
                what=f"{STALL_AFTER} acknowledged requests",
                every=0.02,
            )
            await proxy.stall()

        try:
            await drive.answer_everything(within=WAIT, alongside=[staller()])
        finally:
            await slack.aclose()

        assert proxy.outages == ["stall"]
        assert itinera.starts == 1 and itinera.kills == 0
        assert itinera.process is not None and itinera.process.returncode is None
        answers = await answered_once(world)
        itinera.quiet_log()
        print(
            f"\nconnections stalled after {STALL_AFTER} acknowledged requests; answers "
            f"{answers}; slack retried {slack.unacknowledged}; tracebacks 0; duplicates 0; "
            "losses 0"
        )
