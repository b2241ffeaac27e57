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

from handlers.slack import blocks
from handlers.slack import texts as slack_texts
from handlers.telegram import callbacks
from handlers.telegram import texts as telegram_texts
from storage.tables import InboundEventRow
from tests.faults.harness import (
    CHOICES,
    KINDS,
    QUESTIONS,
    Delegate,
    SlackPlatform,
    World,
    platforms_retrying,
    wait_until,
)

KILL_AFTER = (12, 30, 50, 70, 90)
"""Acknowledged requests (both platforms) after which the process is SIGKILLed."""
STALE = "typed while the bot was down"
WAIT = 90.0


def screens(world: World, delegate: Delegate) -> list[tuple[int, Any]]:
    """(question index, message) of each message of the bot that asks the delegate a question.

    After a kill, a message the process sent but had not recorded is sent again: the delegate
    then has two copies, and the one the bot edits as they answer is the furthest along (no
    delegate here goes back)."""
    found: list[tuple[int, Any]] = []
    if delegate.slack is not None:
        dm = delegate.slack.dm
        for (channel, _), message in world.slack.messages.items():
            if channel != dm:
                continue
            for block in message.blocks:
                parts = str(block.get("block_id", "")).split("|")
                if len(parts) == 3 and parts[0] == str(world.round_id) and parts[1]:
                    found.append((QUESTIONS.index(parts[1]), message))
                    break
        return found
    assert delegate.telegram is not None
    for message in world.telegram.bot_messages(delegate.telegram):
        for button in message.buttons:
            meaning = callbacks.decode(button.data)
            if isinstance(meaning, callbacks.Choose | callbacks.SkipQuestion):
                found.append((meaning.question, message))
                break
    return found


def current_screen(world: World, delegate: Delegate) -> Any:
    shown = screens(world, delegate)
    return max(shown, key=lambda pair: pair[0])[1] if shown else None


def shown_question(world: World, delegate: Delegate) -> str | None:
    """The question the delegate's screen asks, as the platform shows it."""
    shown = screens(world, delegate)
    return QUESTIONS[max(index for index, _ in shown)] if shown else None


def plan(number: int, question_id: str) -> Any:
    """What delegate ``number`` answers to ``question_id``: a choice's code or a text."""
    if KINDS[question_id] == "single_choice":
        return CHOICES[(number + QUESTIONS.index(question_id)) % len(CHOICES)]["value"]
    return f"answer {number} to {question_id}"


class Drive:
    """The delegates' side: presses and typed messages, through both platforms."""

    def __init__(self, world: World, slack: SlackPlatform) -> None:
        self.world = world
        self.slack = slack
        self.telegram_held: set[int] = set()

    def acknowledged(self) -> int:
        telegram = sum(1 for _, status in self.world.telegram.webhook_deliveries if status == 200)
        return self.slack.acknowledged + telegram

    async def choose(self, delegate: Delegate, code: str) -> None:
        number = next(n for n, c in enumerate(CHOICES, start=1) if c["value"] == code)
        if delegate.slack is not None:
            await self.slack.press(
                delegate.slack,
                f"{blocks.ACTION_CHOOSE}.{number}",
                message=current_screen(self.world, delegate),
            )
            return
        await self._press(
            delegate, lambda m: isinstance(m, callbacks.Choose) and m.number == number
        )

    async def skip(self, delegate: Delegate) -> None:
        if delegate.slack is not None:
            await self.slack.press(
                delegate.slack, blocks.ACTION_SKIP, message=current_screen(self.world, delegate)
            )
            return
        await self._press(delegate, lambda m: isinstance(m, callbacks.SkipQuestion))

    async def type(self, delegate: Delegate, written: str, *, hold: bool = False) -> None:
        if delegate.slack is not None:
            await self.slack.say(delegate.slack, written, hold=hold)
            return
        assert delegate.telegram is not None
        fake = self.world.telegram
        before = set(fake.pending())
        await fake.send_text(delegate.telegram, written)
        if hold:
            self.telegram_held |= set(fake.pending()) - before

    async def _press(self, delegate: Delegate, wanted: Any) -> None:
        assert delegate.telegram is not None
        fake = self.world.telegram
        message = current_screen(self.world, delegate)
        assert message is not None
        for button in message.buttons:
            if button.data is not None and wanted(callbacks.decode(button.data)):
                await fake.press(delegate.telegram, message.message_id, button.data)
                return
        raise AssertionError(f"{delegate.name}: no such button in {message.buttons}")

    async def answer(self, delegate: Delegate, question_id: str, value: Any) -> None:
        if value is None:
            await self.skip(delegate)
        elif KINDS[question_id] == "single_choice":
            await self.choose(delegate, value)
        else:
            await self.type(delegate, value)


async def test_sigkill_while_answering(make_world: Any, itinera_process: Any) -> None:
    world: World = await make_world(slack=12, telegram=12)
    itinera = itinera_process()
    await itinera.start()
    slack = SlackPlatform(itinera.slack_events)
    drive = Drive(world, slack)
    delegates = world.delegates
    await wait_until(
        lambda: all(shown_question(world, d) == "q1" for d in delegates),
        within=WAIT,
        what="every delegate's invitation",
    )
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
