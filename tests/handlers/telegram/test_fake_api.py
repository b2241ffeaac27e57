"""The fake Bot API refuses what Telegram refuses, and long-polls without sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken

from bot.fakes.telegram_api import FakeTelegram


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=f"{fake.url}/bot") as started:
        yield started


async def test_what_telegram_would_refuse_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1, "Ana")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(user.id, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(user.id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        too_long = InlineKeyboardButton("x", callback_data="y" * 65)
        await bot.send_message(user.id, "hi", reply_markup=InlineKeyboardMarkup([[too_long]]))
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "hi")
    sent = await bot.send_message(user.id, "<i>ok</i> &amp; fine", parse_mode="HTML")
    assert fake.last_text(user) == "ok & fine"
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("ok & fine", chat_id=user.id, message_id=sent.message_id)
    fake.delete_message(user, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("new", chat_id=user.id, message_id=sent.message_id)
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_a_wrong_token_is_unauthorised(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=f"{fake.url}/bot"):
            pass


async def test_long_polling_wakes_on_a_new_update_and_honours_offsets(
    fake: FakeTelegram, bot: Bot
) -> None:
    user = fake.user(2, "Ben")
    waiting = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
    await fake.wait_for(lambda: fake.waiting_polls == 1, what="a long poll")
    first = await fake.send_text(user, "hello")
    async with asyncio.timeout(5):
        (update,) = await waiting
    assert update.update_id == first and update.message is not None
    assert update.message.text == "hello"
    second = await fake.send_text(user, "again")
    pending = await bot.get_updates(offset=first + 1)
    assert [u.update_id for u in pending] == [second]
    assert await bot.get_updates(offset=second + 1) == ()


async def test_get_updates_conflicts_with_a_webhook(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/telegram/webhook", secret_token="abc")
    assert fake.webhook_secret == "abc"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()
