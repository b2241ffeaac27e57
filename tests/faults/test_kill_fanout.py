"""SIGKILL during a round's fan-out: every delegate is invited, at most once more than needed.

A round to 300 delegates (150 on Slack, 150 on Telegram) goes out through fakes that enforce
rate limits, so the fan-out takes several seconds. ``itinera run`` is SIGKILLed at seeded
random points of it (after so many invitations reached the fakes) and restarted each time.
The messages a killed process had claimed stay claimed until their lease ends; the restarted
process takes them over then (the lease is set short here), and it leads the scheduler again
once the dead process's leader lease ran out (set short too).

At the end every delegate has exactly one invitation, or two when the kill caught theirs in
flight (sent, not yet recorded) — never none, never three.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.fakes.limits import Limit, SlackLimits
from bot.fakes.slack_api import FakeSlackApi
from bot.fakes.telegram_api import FakeTelegram, FloodControl
from tests.faults.harness import SLACK_TOKEN, World, screens, wait_until

SEED = 9
KILLS = 3
SLACK_DELEGATES = 150
TELEGRAM_DELEGATES = 150
LEADER_LEASE = 6
"""Seconds (longer than the harness's 5 s tick): a restarted process leads this soon."""
WAIT = 90.0


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeSlackApi, FakeTelegram]]:
    """The fakes with rate limits: about 20 Slack posts and 30 Telegram messages a second."""
    slack_limits = SlackLimits(workspace=Limit(20.0, 10.0), tiers={})
    async with (
        FakeSlackApi(token=SLACK_TOKEN, limits=slack_limits) as slack,
        FakeTelegram(flood=FloodControl()) as telegram,
    ):
        yield slack, telegram


def invitations(world: World) -> Counter[str]:
    """How many invitations (messages asking the first question) each delegate got."""
    return Counter({d.name: len(screens(world, d)) for d in world.delegates})


def leads(log: str) -> int:
    return log.count("scheduler: this process")


async def test_sigkill_during_fanout(make_world: Any, itinera_process: Any) -> None:
    world: World = await make_world(slack=SLACK_DELEGATES, telegram=TELEGRAM_DELEGATES)
    total = len(world.delegates)
    chooser = random.Random(SEED)
    kill_at = sorted(chooser.sample(range(total // 10, total * 8 // 10), KILLS))
    itinera = itinera_process(extra={"ITINERA_LEADER_LEASE_SECONDS": str(LEADER_LEASE)})
    await itinera.start()

    def delivered() -> int:
        return sum(1 for n in invitations(world).values() if n)

    at_kill: list[int] = []
    for threshold in kill_at:
        await wait_until(
            lambda threshold=threshold: delivered() >= threshold,
            within=WAIT,
            what=f"{threshold} delegates invited",
            every=0.02,
        )
        at_kill.append(delivered())
        await itinera.kill()
        await itinera.start()
        # The restarted process leads the scheduler once the dead one's lease ran out.
        await wait_until(
            lambda: leads(itinera.log.read_text()) >= itinera.starts,
            within=LEADER_LEASE * 3,
            what="the restarted process to lead the scheduler",
        )
    await wait_until(lambda: delivered() == total, within=WAIT, what="every delegate's invitation")

    counts = invitations(world)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    assert min(counts.values()) == 1, "a delegate has no invitation"
    assert max(counts.values()) <= 2, [name for name, n in counts.items() if n > 2]
    # A duplicate is a message in flight at a kill: no more than the senders had in flight.
    assert duplicates <= KILLS * 40, duplicates

    async def worked_off() -> bool:
        rows = await world.db.outbox("")
        return not [key for key, status, _ in rows if status in ("pending", "claimed")]

    # Claims the killed processes left behind were taken over once their lease ended.
    await wait_until(worked_off, within=WAIT, what="the outbox worked off")
    rows = await world.db.outbox("")
    assert Counter(status for _, status, _ in rows)["sent"] == len(rows)
    assert itinera.kills == KILLS
    assert leads(itinera.log.read_text()) == itinera.starts
    print(
        f"\nkills {itinera.kills} at {at_kill} delegates invited (seed {SEED}); delegates "
        f"{total}; invited {delivered()}; duplicates {duplicates}; outbox rows {len(rows)}"
    )
