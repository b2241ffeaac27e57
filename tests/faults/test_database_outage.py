"""The database unreachable for a few seconds, three times, while delegates answer.

``itinera run`` reaches PostgreSQL through a TCP proxy on loopback (:mod:`tests.faults.proxy`).
24 delegates (12 on Slack, 12 on Telegram, webhook mode) answer a five-question survey with
buttons and typed messages. After a set number of acknowledged requests the proxy cuts the
database off for a few seconds: once refusing new connections, once resetting every open one
(and refusing), once black-holing (accepting, forwarding nothing). Slack and Telegram send
again what was not acknowledged.

Asserted, with the same process throughout (no restart): every answer is stored once, on the
question it was given for; requests during an outage are answered 503, never 500; what was
stored during or around an outage is applied after it; the log holds no traceback, only a
line or two per outage. Last, the database "restarts" while the process is idle (every open
connection reset): the next request is stored at its first try, since pooled connections
are pinged before use.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from itertools import pairwise
from typing import Any

from sqlalchemy.engine import make_url

from tests.faults.harness import Drive, SlackPlatform, World, answered_once, wait_until
from tests.faults.proxy import TcpProxy

OUTAGES = ((15, "refuse"), (45, "drop"), (75, "blackhole"))
"""(acknowledged requests, kind): the proxy cuts the database off after that many."""
OUTAGE_SECONDS = 3.5
"""How long each outage lasts: the fault itself, not a wait for something to happen."""
WAIT = 90.0


async def test_database_outage_while_answering(
    make_world: Any, itinera_process: Any, fault_db: Any
) -> None:
    world: World = await make_world(slack=12, telegram=12)
    async with TcpProxy("127.0.0.1", _port(fault_db.url)) as proxy:
        itinera = itinera_process(fault_db.with_host("127.0.0.1", proxy.port))
        await itinera.start()
        slack = SlackPlatform(itinera.slack_events)
        drive = Drive(world, slack)
        await drive.invited(within=WAIT)
        # Someone not on the roster writes to the bot during each outage, so that every outage
        # meets a request however the delegates' traffic falls (the bot answers them, once the
        # database is back, that they are not enrolled: no delegate's survey changes).
        stranger = world.telegram.user(9_000_001, "Stranger")
        refused_at: list[int] = []
        probes: list[int] = []

        def refused() -> int:
            telegram = sum(1 for _, status in world.telegram.webhook_deliveries if status != 200)
            return slack.unacknowledged + telegram

        async def cutter() -> None:
            for n, (threshold, kind) in enumerate(OUTAGES):
                await wait_until(
                    lambda threshold=threshold: drive.acknowledged() >= threshold,
                    within=WAIT,
                    what=f"{threshold} acknowledged requests",
                    every=0.02,
                )
                refused_at.append(refused())
                await getattr(proxy, kind)()
                probe = asyncio.create_task(world.telegram.send_text(stranger, f"hello {n}"))
                await asyncio.sleep(OUTAGE_SECONDS)
                await proxy.restore()
                probes.append(await probe)
            refused_at.append(refused())

        try:
            await drive.answer_everything(within=WAIT, alongside=[cutter()])
        finally:
            await slack.aclose()

        # The database restarts while the process is idle: every pooled connection is dead.
        # Each is pinged as it leaves the pool and replaced, so the next request is stored at
        # its first try (without the ping it is answered 503).
        async def sent() -> bool:
            rows = await world.db.outbox("")
            return all(status not in ("pending", "claimed") for _, status, _ in rows)

        await wait_until(sent, within=WAIT, what="the outbox worked off")
        replies = len(world.telegram.bot_messages(stranger))
        await proxy.drop()
        await proxy.restore()
        update = await world.telegram.send_text(stranger, "hello again")
        assert [status for n, status in world.telegram.webhook_deliveries if n == update] == [200]
        await wait_until(
            lambda: len(world.telegram.bot_messages(stranger)) > replies,
            within=WAIT,
            what="the bot's answer to the stranger after the restart",
        )

        # One process throughout: the backlog was worked off without a restart.
        assert itinera.starts == 1 and itinera.kills == 0
        assert itinera.process is not None and itinera.process.returncode is None
        # Every delegate's answers are what they gave, each written once.
        answers = await answered_once(world)
        # The outages were felt, and answered as Slack and Telegram expect: 503, not 500.
        telegram_statuses = [status for _, status in world.telegram.webhook_deliveries]
        statuses = Counter(slack.statuses + telegram_statuses)
        kinds = [kind for _, kind in OUTAGES]
        assert proxy.outages == [*kinds, "drop"]
        refused_during = [after - before for before, after in pairwise(refused_at)]
        first_answer = {  # the first delivery of each update
            update: status
            for update, status in reversed(world.telegram.webhook_deliveries)
            if update in probes
        }
        probed = {kind: first_answer[probe] for kind, probe in zip(kinds, probes, strict=True)}
        # Reset and black-holed connections are felt; a refused listener may not be, while
        # the pool's open connections go on working.
        assert probed["drop"] == 503 and probed["blackhole"] == 503, probed
        # (0: no HTTP answer at all, e.g. a kept-alive connection the server had just closed;
        # the platform sends it again like any other unacknowledged request.)
        assert set(statuses) <= {0, 200, 503}, statuses
        assert statuses[503] > 0, statuses
        # The log: no traceback for an expected outage, a few lines per outage at most.
        lines = itinera.quiet_log()
        warnings = [line for line in lines if " WARNING " in line]
        requests = len(slack.statuses) + len(telegram_statuses)
        assert len(warnings) <= requests, "\n".join(warnings)  # no flood of retries
        print(
            f"\noutages {proxy.outages}, {OUTAGE_SECONDS} s each; requests refused per outage "
            f"{refused_during}; the stranger's request in each {probed}; statuses "
            f"{dict(statuses)}; answers {answers}; slack "
            f"retried {slack.unacknowledged} (no answer: {dict(slack.errors)}); warnings "
            f"{len(warnings)}; tracebacks 0; duplicates 0; losses 0"
        )


def _port(url: str) -> int:
    return make_url(url).port or 5432
