"""SIGKILL while delegates answer: nothing acknowledged is lost, nothing is applied twice.

``itinera run`` serves 24 delegates (12 on Slack, 12 on Telegram, webhook mode) who answer a
five-question survey with buttons and typed messages, each acting on the screen they see. The
process is SIGKILLed five times, each after a set number of acknowledged requests, and
restarted; Slack and Telegram send again what was not acknowledged. At the end every answer
is stored once, on the question it was given for, as the delegates' own record says.

Two delegates (one per channel) type an answer while the process is down; once it is back
they press "Skip" on that question before the platform's retry of their message arrives. The
retried message must not become the answer to the next question: it is dropped with a note.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import select

from handlers.slack import texts as slack_texts
from handlers.telegram import texts as telegram_texts
from storage.tables import InboundEventRow
from tests.faults.harness import (
    QUESTIONS,
    Delegate,
    Drive,
    SlackPlatform,
    World,
    plan,
    platforms_retrying,
    shown_question,
    wait_until,
)

KILL_AFTER = (12, 30, 50, 70, 90)
"""Acknowledged requests (both platforms) after which the process is SIGKILLed."""
STALE = "typed while the bot was down"
WAIT = 90.0


async def test_sigkill_while_answering(make_world: Any, itinera_process: Any) -> None:
    world: World = await make_world(slack=12, telegram=12)
    itinera = itinera_process()
    await itinera.start()
    slack = SlackPlatform(itinera.slack_events)
    drive = Drive(world, slack)
    delegates = world.delegates
    await drive.invited(within=WAIT)
    stale_typists = [delegates[0], delegates[12]]
    at_q2 = 0
    ready = asyncio.Event()
    down = asyncio.Event()
    typed_while_down = asyncio.Event()
    back = asyncio.Event()
    typed = 0

    async def screen(delegate: Delegate, question_id: str) -> None:
        await wait_until(
            lambda: shown_question(world, delegate) == question_id,
            within=WAIT,
            what=f"{delegate.name}'s screen to ask {question_id}",
        )

    async def stored(delegate: Delegate, question_id: str) -> None:
        async def done() -> bool:
            _, answers = await world.state(delegate)
            return question_id in answers

        await wait_until(done, within=WAIT, what=f"{delegate.name}'s answer to {question_id}")

    async def play(number: int, delegate: Delegate) -> None:
        nonlocal typed, at_q2
        for question_id in QUESTIONS:
            await screen(delegate, question_id)
            if delegate in stale_typists and question_id == "q2":
                at_q2 += 1
                if at_q2 == len(stale_typists):
                    ready.set()
                await down.wait()
                await drive.type(delegate, STALE, hold=True)
                typed += 1
                if typed == len(stale_typists):
                    typed_while_down.set()
                await back.wait()
                await screen(delegate, "q2")
                await drive.skip(delegate)  # no answer came back: the delegate skips instead
                delegate.answered["q2"] = None
                await stored(delegate, "q2")
                continue
            value = plan(number, question_id)
            await drive.answer(delegate, question_id, value)
            delegate.answered[question_id] = value
            await stored(delegate, question_id)

    async def killer() -> None:
        for count, threshold in enumerate(KILL_AFTER):
            await wait_until(
                lambda threshold=threshold: drive.acknowledged() >= threshold,
                within=WAIT,
                what=f"{threshold} acknowledged requests",
                every=0.02,
            )
            if count == 0:
                await ready.wait()  # the first kill finds the two late typists on q2
            await itinera.kill()
            if count == 0:
                down.set()
                await typed_while_down.wait()
            await itinera.start()
            back.set()

    try:
        async with platforms_retrying(slack, world.telegram, hold=drive.telegram_held):
            await asyncio.gather(killer(), *(play(n, d) for n, d in enumerate(delegates)))
            # The platforms' retries of the messages typed while the bot was down arrive now,
            # after the delegates moved on from that question.
            slack.release()
            drive.telegram_held.clear()

            async def settled() -> bool:
                pending = slack.pending or world.telegram.pending()
                return not pending and await world.db.unprocessed() == 0

            await wait_until(settled, within=WAIT, what="every request applied")
            await wait_until(
                lambda: all(_told_moved_on(world, d) for d in stale_typists),
                within=WAIT,
                what="the late typists to be told their message came after they moved on",
            )
    finally:
        await slack.aclose()

    # Every delegate's answers are what they gave, on the question they gave it for.
    for delegate in delegates:
        _, answers = await world.state(delegate)
        assert answers == delegate.answered, delegate.name
    # ... and each was written once: no event was applied twice.
    history = await world.db.history()
    writes = Counter((response, question) for response, question, _ in history)
    assert max(writes.values()) == 1, [key for key, n in writes.items() if n > 1]
    assert len(history) == len(delegates) * len(QUESTIONS)
    assert all(value != STALE for _, _, value in history)
    failed = await world.db.rows(
        select(InboundEventRow.key, InboundEventRow.error).where(InboundEventRow.error.is_not(None))
    )
    assert failed == []
    assert itinera.kills == len(KILL_AFTER)
    print(
        f"\nkills {itinera.kills}; answers {len(history)}; slack requests acknowledged "
        f"{slack.acknowledged}, unacknowledged then retried {slack.unacknowledged}; telegram "
        f"deliveries {len(world.telegram.webhook_deliveries)}, refused "
        f"{sum(1 for _, s in world.telegram.webhook_deliveries if s != 200)}; duplicates 0; "
        "losses 0"
    )


def _told_moved_on(world: World, delegate: Delegate) -> bool:
    note = (
        slack_texts.text("moved_on", "en")
        if delegate.slack is not None
        else telegram_texts.text("moved_on", "en")
    )
    if delegate.slack is not None:
        dm = delegate.slack.dm
        return any(
            note in str(call.args) and dm in str(call.args)
            for call in world.slack.calls
            if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral")
        )
    assert delegate.telegram is not None
    return any(note in message.text for message in world.telegram.bot_messages(delegate.telegram))
