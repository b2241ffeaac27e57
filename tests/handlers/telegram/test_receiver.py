"""The one inbox, as Telegram feeds it: stored before confirmed, applied once, in order per
delegate, different delegates at once, and never onto a later question after a crash.

Updates go through the real receiver (the poller, or the webhook's first step); they are
applied by the inbox worker, here through :meth:`bot.bootstrap.Itinera.settle` or an
:class:`~surveys.service.intake.InboxWorker` over the real :class:`TelegramEvents`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.fakes.telegram_api import FakeTelegram
from handlers.telegram.events import TelegramEvents
from handlers.telegram.services import TelegramServices
from handlers.telegram.texts import text
from storage.database import open_store
from surveys.conversation import Answer
from surveys.engine import Pressed
from surveys.queues import INBOX_LEASE, InboundEvent
from surveys.service.answering import Asking, Conversation
from surveys.service.intake import InboxWorker

MOVED_ON = (
    "Votre message est arrivé alors que la question avait changé\u00a0; il n’a donc pas été "
    "enregistré. Voici où vous en êtes."
)


async def test_a_text_stored_before_a_crash_is_not_applied_to_a_later_question(
    fake: FakeTelegram, world: Any, run_bot: Any, database_url: str
) -> None:
    claire = fake.user(7301, "Claire")
    participant = await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        question = fake.last_keyboard_message(claire)
        assert question is not None and "Question 1 sur" in question.text
        # She types "2" for question 1; it is stored and confirmed, then the process dies.
        typed = await bot.received(fake.send_text(claire, "2"))
    stored = await world.store.events.get(channel="telegram", key=str(typed))
    assert stored is not None and stored.processed_at is None
    assert stored.target.question_id == "alignment_return"

    # Meanwhile she answered question 1 elsewhere, through the same answering use case (as
    # her Slack, or another Itinera process, would): her survey moved on to question 2, where
    # "2" would mean a choice too ("Engagement prévu").
    moved = await Conversation(world.store, clock=world.clock).act(
        participant, world.round.id, Answer(Pressed(("4",))), expect=Asking("alignment_return")
    )
    assert moved.accepted and await world.current("claire") == "engagement_return"

    # Itinera starts again: another process, its own connection to the same database.
    restarted = await open_store(database_url)
    try:
        async with run_bot("polling", store=restarted) as bot:
            await bot.settle()
    finally:
        await restarted.close()
    assert await world.answers("claire") == {"alignment_return": 4}
    assert await world.current("claire") == "engagement_return"
    shown = fake.bot_messages(claire)[-1]
    assert shown.text.startswith(MOVED_ON)
    assert "Question 2 sur" in shown.text and shown.buttons
    assert question.buttons == []  # the question-1 keyboard is taken off
    replayed = await world.store.events.get(channel="telegram", key=str(typed))
    assert replayed is not None and replayed.processed_at is not None
    assert replayed.error is None


async def test_updates_left_by_a_crash_are_applied_in_the_order_they_came(
    fake: FakeTelegram, world: Any, run_bot: Any, database_url: str
) -> None:
    claire = fake.user(7302, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        question = fake.last_keyboard_message(claire)
        assert question is not None
        press = next(str(b.data) for b in question.buttons if b.text == "4")
        # She types "2", then presses "4" on question 1; both are stored, then the process dies.
        await bot.received(fake.send_text(claire, "2"))
        await bot.received(fake.press(claire, question.message_id, press))
    restarted = await open_store(database_url)
    try:
        async with run_bot("polling", store=restarted) as bot:
            await bot.settle()
    finally:
        await restarted.close()
    # The text answered question 1, as she meant; the press then came for a question she had
    # left: it was not applied to question 2, and she was told.
    assert await world.answers("claire") == {"alignment_return": 2}
    (answer,) = [c for c in fake.calls_to("answerCallbackQuery") if c.status == 200]
    assert answer.params["text"] == "Ce bouton n’est plus d’actualité\u00a0; voici où vous en êtes."
    assert "Question 2 sur" in fake.last_text(claire)


class Gate:
    """The real handler, holding one update back until others were applied, and recording
    when each began and ended."""

    def __init__(self, real: TelegramEvents, *, hold: str, until: set[str]) -> None:
        self.real = real
        self.hold = hold
        self.until = until
        self.log: list[tuple[str, str, str]] = []
        self.opened = asyncio.Event()
        self.waited_in_vain = False

    async def handle(self, event: InboundEvent, *, worker: str) -> None:
        self.log.append(("start", event.subject, event.key))
        if event.key == self.hold:
            try:
                async with asyncio.timeout(10):
                    await self.opened.wait()
            except TimeoutError:
                self.waited_in_vain = True
        await self.real.handle(event, worker=worker)
        self.log.append(("end", event.subject, event.key))
        if self.until <= {key for what, _, key in self.log if what == "end"}:
            self.opened.set()

    async def give_up(self, event: InboundEvent, *, worker: str, error: str) -> None:
        await self.real.give_up(event, worker=worker, error=error)


async def test_two_delegates_are_applied_at_once_and_each_in_order(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7303, "Claire")
    aminata = fake.user(7304, "Aminata")
    await world.enrol("claire", claire.id)
    await world.enrol("aminata", aminata.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        await bot.act(fake.command(aminata, "survey"))
        received = bot.received
        # Claire types twice at question 1 ("4", then "2"); Aminata once. Stored, not applied.
        mine = [
            await received(fake.send_text(claire, "4")),
            await received(fake.send_text(claire, "2")),
        ]
        theirs = [await received(fake.send_text(aminata, "5"))]
        services = TelegramServices(store=world.store, clock=world.clock)
        gate = Gate(TelegramEvents(services), hold=str(mine[0]), until={str(key) for key in theirs})
        worker = InboxWorker(
            world.store, handlers={"telegram": gate}, clock=world.clock, worker="test"
        )
        async with asyncio.timeout(30):
            assert await worker.drain() == 3
        await bot.settle()  # send the replies

    assert not gate.waited_in_vain  # Aminata's were applied while Claire's first was held
    ended = [key for what, _, key in gate.log if what == "end"]
    assert ended.index(str(theirs[0])) < ended.index(str(mine[0]))
    claire_log = [(what, key) for what, subject, key in gate.log if subject == str(claire.id)]
    assert claire_log == [(what, str(key)) for key in mine for what in ("start", "end")]
    # In order: "4" answered question 1, so "2", typed at question 1 too, found it answered
    # and was not applied to question 2 (out of order, question 1 would hold 2).
    assert await world.answers("claire") == {"alignment_return": 4}
    assert await world.answers("aminata") == {"alignment_return": 5}
    assert fake.last_text(claire).startswith(MOVED_ON)
    assert "Question 2 sur" in fake.last_text(claire)
    assert "Question 2 sur" in fake.last_text(aminata)


async def test_an_update_is_stored_once_and_one_without_an_id_not_at_all(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7305, "Claire")
    await world.enrol("claire", claire.id)
    update = fake.text_update(claire, "4")
    async with run_bot("webhook") as bot:
        receiver = bot.runtime.receiver
        first = await receiver.receive(update)
        assert first is not None
        assert await receiver.receive(update) is None  # Telegram sent it again
        assert await receiver.receive({"message": update["message"]}) is None
        async with asyncio.timeout(5):
            await receiver.until_received(update["update_id"])
        await bot.settle()
    assert await world.inbox() == [(str(update["update_id"]), True, None)]


async def test_an_update_given_up_on_is_recorded_and_the_delegate_told(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7306, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        question = fake.last_keyboard_message(claire)
        assert question is not None
        press = next(str(b.data) for b in question.buttons if b.text == "3")
        update_id = await bot.received(fake.press(claire, question.message_id, press))
        # The inbox worker claimed it and failed on it too often (say the database kept
        # refusing); it gives up.
        (event,) = await world.store.events.claim(
            worker="test", now=world.clock.now(), lease=INBOX_LEASE, limit=5
        )
        assert event.key == str(update_id)
        events = TelegramEvents(TelegramServices(store=world.store, clock=world.clock))
        await events.give_up(event, worker="test", error="RuntimeError: it kept failing")
        await bot.settle()
    assert (str(update_id), True, "RuntimeError: it kept failing") in await world.inbox()
    assert await world.answers("claire") == {}
    assert fake.last_text(claire) == text("something_went_wrong", "fr")
    (answer,) = [c for c in fake.calls_to("answerCallbackQuery") if c.status == 200]
    assert "text" not in answer.params  # the press is answered, so her client stops waiting
