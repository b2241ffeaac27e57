"""TelegramTransport's verdicts, through python-telegram-bot's real ``Bot`` against the fake;
and the paced sender with the real transport: what a 429, a refusal or a bad token does to
the outbox, and that the pacing stays within the limits Telegram enforces.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from telegram import Bot

from bot.fakes.telegram_api import BLOCKED, FakeTelegram, FloodControl
from bot.fakes.timing import InstantTimer
from bot.settings import load_settings
from bot.telegram_wiring import make_sending_bot, pacing
from handlers.telegram import keyboards, presenter
from handlers.telegram.presenter import Pressed
from handlers.telegram.transport import TelegramTransport
from storage.database import Store
from surveys.queues import Lane, NewMessage, OutboundMessage, OutboundStatus
from surveys.service.sending import Refused, RetryLater, Sender, Sent

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
_ids = itertools.count(1)


def outbound(message: NewMessage) -> OutboundMessage:
    """A presenter's message as the sender hands it to the transport."""
    return OutboundMessage(
        id=next(_ids),
        channel=message.channel,
        key=message.key,
        address=message.address,
        method=message.method,
        body=message.body,
        lane=message.lane,
        status=OutboundStatus.CLAIMED,
        created_at=NOW,
        updated_at=NOW,
    )


def text(chat_id: int, value: str, *, key: str = "t") -> OutboundMessage:
    (message,) = presenter.text_messages(chat_id, value, key=key)
    return outbound(message)


def edit(chat_id: int, message_id: int, value: str) -> OutboundMessage:
    new = NewMessage(
        channel="telegram",
        key="e",
        address=str(chat_id),
        method="editMessageText",
        body={"chat_id": chat_id, "message_id": message_id, "text": value, "parse_mode": "HTML"},
        lane=Lane.INTERACTIVE,
    )
    return outbound(new)


def bot_for(fake: FakeTelegram, token: str | None = None) -> Bot:
    """The Bot the sender sends with (its requests over aiohttp)."""
    return make_sending_bot(
        load_settings(telegram_token=SecretStr(token or fake.token), telegram_api_url=fake.url)
    )


BotFor = Callable[..., Bot]


@pytest.fixture
async def bots(fake: FakeTelegram) -> AsyncIterator[BotFor]:
    """``bots()``: a Bot on the fake (``token=`` another token), shut down after the test."""
    made: list[Bot] = []

    def make(token: str | None = None) -> Bot:
        made.append(bot_for(fake, token))
        return made[-1]

    yield make
    for bot in made:
        await bot.shutdown()
        await bot.request.shutdown()


@pytest.fixture
def transport(bots: BotFor) -> TelegramTransport:
    return TelegramTransport(bots())


async def test_a_message_sent_carries_telegrams_id(
    fake: FakeTelegram, transport: TelegramTransport
) -> None:
    ana = fake.user(11, "Ana")
    verdict = await transport.send(text(ana.id, "Une <balise> & plus"))
    (shown,) = fake.bot_messages(ana)
    assert verdict == Sent(platform_id=str(shown.message_id), address=str(ana.id))
    assert shown.text == "Une <balise> & plus"
    edited = await transport.send(edit(ana.id, shown.message_id, "Autre"))
    assert edited == Sent(platform_id=str(shown.message_id), address=str(ana.id))
    unchanged = await transport.send(edit(ana.id, shown.message_id, "Autre"))
    assert unchanged == Sent(platform_id=str(shown.message_id), address=str(ana.id))
    assert shown.text == "Autre" and shown.edits == 1


async def test_an_edit_of_a_message_that_is_gone_is_sent_anew(
    fake: FakeTelegram, transport: TelegramTransport
) -> None:
    ana = fake.user(12, "Ana")
    await transport.send(text(ana.id, "Question 1"))
    (old,) = fake.bot_messages(ana)
    fake.delete_message(ana, old.message_id)
    verdict = await transport.send(edit(ana.id, old.message_id, "Question 2"))
    (new,) = fake.bot_messages(ana)
    assert verdict == Sent(platform_id=str(new.message_id), address=str(ana.id))
    assert new.message_id != old.message_id and new.text == "Question 2"

    # Too old to edit (Telegram's own words): sent anew too; a 429 on that is tried later.
    fake.fail_next(
        "editMessageText", status=400, description="Bad Request: message can't be edited"
    )
    fake.fail_next("sendMessage", status=429, retry_after=4)
    later = await transport.send(edit(ana.id, new.message_id, "Question 3"))
    assert later == RetryLater("rate limited", after=4.0, rate_limited=True, per_address=True)

    # Taking the buttons off a message that is gone: nothing left to do.
    off = presenter.keyboard_message(ana.id, old.message_id, None, key="off")
    assert await transport.send(outbound(off)) == Sent(platform_id=None)


async def test_what_telegram_refuses_and_what_it_defers(
    fake: FakeTelegram, transport: TelegramTransport
) -> None:
    ana = fake.user(13, "Ana")
    fake.fail_next("sendMessage", status=429, retry_after=7)
    assert await transport.send(text(ana.id, "x")) == RetryLater(
        "rate limited", after=7.0, rate_limited=True, per_address=True
    )
    await transport.send(text(ana.id, "shown"))
    (shown,) = fake.bot_messages(ana)
    fake.fail_next("editMessageText", status=429, retry_after=2)
    assert await transport.send(edit(ana.id, shown.message_id, "y")) == RetryLater(
        "rate limited", after=2.0, rate_limited=True, per_address=False
    )  # edits are not what the per-chat limit counts
    fake.fail_next("sendMessage", status=500, description="Internal Server Error")
    verdict = await transport.send(text(ana.id, "x"))
    assert isinstance(verdict, RetryLater) and not verdict.rate_limited

    fake.block(ana)
    assert await transport.send(text(ana.id, "x")) == Refused(BLOCKED)
    fake.unblock(ana)
    refused = await transport.send(text(999, "to nobody"))
    assert isinstance(refused, Refused) and "chat not found" in refused.reason.lower()
    assert not refused.channel_wide
    too_long = await transport.send(outbound(_raw_text(ana.id, "x" * 5000)))
    assert isinstance(too_long, Refused) and "too long" in too_long.reason
    unknown = outbound(NewMessage("telegram", "k", str(ana.id), "sendSticker", {"chat_id": 1}))
    assert await transport.send(unknown) == Refused(
        "no such Telegram method in the outbox: 'sendSticker'"
    )


async def test_a_press_too_old_to_answer_is_not_a_failure(
    fake: FakeTelegram, transport: TelegramTransport
) -> None:
    answer = presenter.answer_press(Pressed("no-such-query", None), "Merci", key="a")
    assert await transport.send(outbound(answer)) == Sent(platform_id=None)
    assert fake.calls_to("answerCallbackQuery")[-1].status == 400


async def test_a_refused_token_is_the_channels_problem(fake: FakeTelegram, bots: BotFor) -> None:
    ana = fake.user(14, "Ana")
    transport = TelegramTransport(bots(token="1:wrong"))
    verdict = await transport.send(text(ana.id, "x"))
    assert isinstance(verdict, Refused) and verdict.channel_wide
    assert await transport.check() is not None
    assert await TelegramTransport(bots()).check() is None


async def test_a_photo_refused_as_a_photo_is_sent_as_a_document(
    fake: FakeTelegram, transport: TelegramTransport
) -> None:
    olga = fake.user(15, "Olga")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    (photo,) = presenter.digest_messages(
        olga.id, text="Chart", image=png, image_name="c.png", key="d", round_id=1
    )
    fake.fail_next("sendPhoto", status=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS")
    verdict = await transport.send(outbound(photo))
    (document,) = fake.bot_messages(olga)
    assert verdict == Sent(platform_id=str(document.message_id), address=str(olga.id))
    assert (document.kind, document.file, document.file_name) == ("document", png, "c.png")


# --- the sender with the real transport ---------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.current = NOW

    def now(self) -> datetime:
        return self.current


async def enqueue(store: Store, messages: Sequence[NewMessage], clock: Clock) -> list[int]:
    async with store.transaction() as tx:
        ids = await tx.messages.enqueue(messages, now=clock.now())
    assert all(id_ is not None for id_ in ids)
    return [id_ for id_ in ids if id_ is not None]


async def statuses(store: Store, keys: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    found = await store.messages.find(channel="telegram", keys=keys)
    return {m.key: (m.status.value, m.error) for m in found}


def sender_for(store: Store, bot: Bot, clock: Clock, timer: InstantTimer, **kw: Any) -> Sender:
    return Sender(
        store,
        transport=TelegramTransport(bot),
        pacing=pacing(timer=timer, **kw),
        clock=clock,
        worker="test",
    )


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_a_429_postpones_its_chat_only_and_the_message_goes_later(
    fake: FakeTelegram, store: Store, bots: BotFor
) -> None:
    ana, ben = fake.user(21, "Ana"), fake.user(22, "Ben")
    clock, timer = Clock(), InstantTimer()
    bot = bots()
    messages = [
        *presenter.text_messages(ana.id, "Ana 1", key="a1"),
        *presenter.text_messages(ana.id, "Ana 2", key="a2"),
        *presenter.text_messages(ben.id, "Ben 1", key="b1"),
    ]
    await enqueue(store, messages, clock)
    fake.fail_next("sendMessage", status=429, retry_after=5, chat_id=ana.id)
    sender = sender_for(store, bot, clock, timer)
    await sender.drain()
    assert [m.text for m in fake.bot_messages(ana)] == []
    assert [m.text for m in fake.bot_messages(ben)] == ["Ben 1"]
    assert (await statuses(store, ["a1", "a2"])) == {
        "a1": ("pending", "rate limited"),
        "a2": ("pending", None),
    }
    clock.current += timedelta(seconds=5)
    await sender.drain()
    assert [m.text for m in fake.bot_messages(ana)] == ["Ana 1", "Ana 2"]  # in order
    assert sender.stats.throttled == 1 and sender.stats.sent == 3
    stored = await store.messages.get(channel="telegram", key="a1")
    assert stored is not None and stored.attempts <= 2  # a rate limit costs no attempt


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_a_refused_message_is_failed_and_holds_nothing_up(
    fake: FakeTelegram, store: Store, bots: BotFor
) -> None:
    ana = fake.user(23, "Ana")
    clock, timer = Clock(), InstantTimer()
    bot = bots()
    await enqueue(
        store,
        [
            *presenter.text_messages(ana.id, "<b>unclosed", key="bad"),
            *presenter.text_messages(ana.id, "after", key="good"),
        ],
        clock,
    )
    # The presenter escapes texts; a body written by hand can still be refused.
    async with store.transaction() as tx:
        await tx.messages.enqueue([_raw_text(ana.id, "<b>unclosed", key="raw")], now=clock.now())
    sender = sender_for(store, bot, clock, timer)
    await sender.drain()
    assert (await statuses(store, ["raw"]))["raw"][0] == "failed"
    assert "can't parse entities" in str((await statuses(store, ["raw"]))["raw"][1]).lower()
    assert [m.text for m in fake.bot_messages(ana)] == ["<b>unclosed", "after"]
    assert sender.stats.failed == 1


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_a_refused_token_pauses_the_channel_and_loses_nothing(
    fake: FakeTelegram, store: Store, bots: BotFor
) -> None:
    ana = fake.user(24, "Ana")
    clock, timer = Clock(), InstantTimer()
    wrong = bots(token="1:wrong")
    await enqueue(
        store,
        [
            *presenter.text_messages(ana.id, "one", key="k1"),
            *presenter.text_messages(ana.id, "two", key="k2"),
        ],
        clock,
    )
    sender = sender_for(store, wrong, clock, timer)
    await sender.drain()
    assert sender.paused_because is not None
    assert (await statuses(store, ["k1", "k2"])) == {
        "k1": ("pending", sender.paused_because),
        "k2": ("pending", None),
    }
    # The token is fixed (a new process): everything goes out.
    right = bots()
    clock.current += timedelta(minutes=1)
    await sender_for(store, right, clock, timer).drain()
    assert [m.text for m in fake.bot_messages(ana)] == ["one", "two"]


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_the_pacing_keeps_within_telegrams_limit_per_chat(store: Store) -> None:
    """The fake enforces one message a second per chat (bursts of three) on the sender's
    virtual time. Only per chat: a chat's messages go one after another, so virtual time at
    the fake is their time; across chats many are in flight while virtual time moves on."""
    timer = InstantTimer()
    flood = FloodControl(per_chat=1.0, chat_burst=3, per_bot=1e9, clock=timer.monotonic)
    async with FakeTelegram(flood=flood) as fake:
        clock = Clock()
        bot = bot_for(fake)
        try:
            await _flood(fake, store, bot, clock, timer)
        finally:
            await bot.shutdown()
            await bot.request.shutdown()


async def _flood(
    fake: FakeTelegram, store: Store, bot: Bot, clock: Clock, timer: InstantTimer
) -> None:
    busy = fake.user(30, "Busy")
    others = [fake.user(100 + n, f"User {n}") for n in range(20)]
    messages = [
        m for n in range(10) for m in presenter.text_messages(busy.id, f"{n}", key=f"busy{n}")
    ] + [
        m
        for user in others
        for m in presenter.text_messages(user.id, "hi", key=f"hi{user.id}", lane=Lane.BULK)
    ]
    await enqueue(store, messages, clock)
    await sender_for(store, bot, clock, timer).drain()
    assert fake.flood_refusals == 0
    assert [m.text for m in fake.bot_messages(busy)] == [str(n) for n in range(10)]
    assert all(fake.bot_messages(user) for user in others)
    assert timer.now >= 10 - 2  # two at once (one short of the chat's burst), then one a second

    # Ten times faster than Telegram allows: it refuses, the sender waits as told, and
    # everything still arrives, in order.
    fast = sender_for(store, bot, clock, timer, scale=10.0)
    await enqueue(
        store,
        [m for n in range(10) for m in presenter.text_messages(busy.id, f"x{n}", key=f"x{n}")],
        clock,
    )
    for _ in range(30):
        await fast.drain()
        if len(fake.bot_messages(busy)) == 20:
            break
        clock.current += timedelta(seconds=1)
    assert fake.flood_refusals > 0 and fast.stats.throttled == fake.flood_refusals
    assert [m.text for m in fake.bot_messages(busy)][10:] == [f"x{n}" for n in range(10)]


def _raw_text(chat_id: int, value: str, *, key: str = "raw") -> NewMessage:
    return NewMessage(
        channel="telegram",
        key=key,
        address=str(chat_id),
        method="sendMessage",
        body={"chat_id": chat_id, "text": value, "parse_mode": "HTML"},
        lane=Lane.INTERACTIVE,
    )


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_a_long_reply_arrives_split_under_the_limit_and_in_order(
    fake: FakeTelegram, store: Store, bots: BotFor
) -> None:
    ana = fake.user(25, "Ana")
    clock, timer = Clock(), InstantTimer()
    paragraphs = [f"Délégation {n} : réponse reçue, merci <{n}> & suite." for n in range(400)]
    long = "\n\n".join(paragraphs)
    keyboard = keyboards.language_keyboard("fr")
    messages = presenter.text_messages(ana.id, long, key="long", keyboard=keyboard)
    assert len(messages) > 3
    await enqueue(store, messages, clock)
    await sender_for(store, bots(), clock, timer).drain()
    shown = fake.bot_messages(ana)
    assert len(shown) == len(messages)
    assert all(len(m.text) <= 4096 for m in shown)
    assert "\n\n".join(m.text.strip() for m in shown) == long
    assert [bool(m.buttons) for m in shown] == [False] * (len(shown) - 1) + [True]
