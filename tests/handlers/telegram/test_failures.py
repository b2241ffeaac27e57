"""What Telegram or the network can throw at the bot: none of it crashes it or loses an answer.

Blocked delegates (403), deleted messages (400 on edit), flood control (429 with
retry_after), malformed updates and requests, redelivered updates, and a crash between
storing an update and processing it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bot.fakes.telegram_api import EDIT_NOT_FOUND, FakeTelegram
from handlers.telegram.runtime import TelegramRuntime
from surveys.errors import DeliveryError

Act = Callable[[TelegramRuntime, Coroutine[Any, Any, int]], Coroutine[Any, Any, int]]

SECRET = "s3cret-Webhook_token"


async def test_a_delegate_who_blocked_the_bot_keeps_their_answer(
    fake: FakeTelegram, world: Any, run_bot: Any, act: Act
) -> None:
    claire = fake.user(7101, "Claire")
    participant = await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await act(bot, fake.command(claire, "survey"))
        fake.block(claire)
        # Her answer arrives, but she blocked the bot before the reply could be sent.
        update_id = await act(bot, fake.send_text(claire, "4"))
        assert await world.answers("claire") == {"alignment_return": 4}
        assert (
            str(update_id),
            True,
            "DeliveryError: telegram: message to 7101 not delivered: "
            "Forbidden: bot was blocked by the user",
        ) in await world.inbox()

        # Invitations and reminders get a permanent delivery error.
        with pytest.raises(DeliveryError) as refused:
            await bot.messenger.send_screen(participant, world.round.id, preface="Reminder")
        assert refused.value.permanent

        # The bot carries on with everyone else.
        fake.unblock(claire)
        await act(bot, fake.command(claire, "survey"))
        assert "Question 2 sur" in fake.last_text(claire)


async def test_an_edit_of_a_deleted_message_sends_a_new_one(
    fake: FakeTelegram, world: Any, run_bot: Any, act: Act
) -> None:
    claire = fake.user(7102, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await act(bot, fake.command(claire, "survey"))
        question = fake.last_keyboard_message(claire)
        assert question is not None
        fake.fail_next("editMessageText", status=400, description=EDIT_NOT_FOUND)
        await act(bot, fake.tap(claire, "2"))
        assert await world.answers("claire") == {"alignment_return": 2}
        latest = fake.bot_messages(claire)[-1]
        assert latest.message_id != question.message_id
        assert "Question 2 sur" in latest.text and latest.buttons
        assert question.buttons == []  # no second live keyboard

        # The delegate deletes the question; a reminder sends a fresh one.
        fake.delete_message(claire, latest.message_id)
        participant = world.person("claire")
        shown = await bot.messenger.send_screen(participant, world.round.id, preface="Rappel")
        assert int(shown) > latest.message_id
        assert "Question 2 sur" in fake.last_text(claire)
        assert [m.text for m in fake.bot_messages(claire)][-2] == "Rappel"


async def test_flood_control_is_waited_out_and_nothing_is_lost(
    fake: FakeTelegram, world: Any, run_bot: Any, act: Act, sleeps: list[float]
) -> None:
    claire = fake.user(7103, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await act(bot, fake.command(claire, "survey"))
        fake.fail_next("sendMessage", status=429, retry_after=7)
        await act(bot, fake.send_text(claire, "5"))
        assert sleeps == [7.0]
        assert "Question 2 sur" in fake.last_text(claire)
        refused = [c for c in fake.calls_to("sendMessage") if c.status == 429]
        assert len(refused) == 1

        # Flood control that does not end: the answer is kept, the reply given up.
        fake.fail_next("editMessageText", status=429, retry_after=3, times=10)
        update_id = await act(bot, fake.tap(claire, "Déjà engagé"))
        assert sleeps == [7.0, 3.0, 3.0, 3.0]
        assert await world.answers("claire") == {
            "alignment_return": 5,
            "engagement_return": "engaged",
        }
        key, processed, error = (await world.inbox())[-1]
        assert (key, processed) == (str(update_id), True)
        assert error is not None and "rate limited" in error
        answered = [c for c in fake.calls_to("answerCallbackQuery") if c.status == 200]
        assert len(answered) == 1  # the press was answered all the same


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_malformed_update_is_recorded_and_skipped(
    mode: str, fake: FakeTelegram, world: Any, run_bot: Any, act: Act
) -> None:
    claire = fake.user(7104, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot(mode) as bot:
        broken = await act(bot, fake.push_update({"message": {"text": "no chat, no date"}}))
        unknown = await act(bot, fake.push_update({"future_kind": {"id": 1}}))
        await act(bot, fake.command(claire, "survey"))
        assert "Question 1 sur" in fake.last_text(claire)
    stored = {key: (processed, error) for key, processed, error in await world.inbox()}
    processed, error = stored[str(broken)]
    assert processed and error is not None and error.startswith("unreadable update")
    assert stored[str(unknown)] == (True, None)


async def test_the_webhook_refuses_what_is_not_a_signed_update(
    fake: FakeTelegram, world: Any, run_bot: Any, act: Act
) -> None:
    claire = fake.user(7105, "Claire")
    await world.enrol("claire", claire.id)
    update = json.dumps(fake.text_update(claire, "3")).encode()
    async with run_bot("webhook") as bot:
        assert fake.webhook_url is not None and fake.webhook_url.endswith("/telegram/webhook")
        assert await fake.post_to_webhook(update, secret=None) == 403
        assert await fake.post_to_webhook(update, secret="wrong") == 403
        assert await fake.post_to_webhook(b"{not json", secret=SECRET) == 400
        assert await fake.post_to_webhook(b"[1, 2]", secret=SECRET) == 400
        assert await fake.post_to_webhook(b'{"update_id": "7"}', secret=SECRET) == 400
        assert await world.inbox() == []
        assert (
            await fake.post_to_webhook(
                b'{"update_id": 900, "future_kind": {"id": 1}}', secret=SECRET
            )
            == 200
        )
        survey = await act(bot, fake.command(claire, "survey"))
        assert "Question 1 sur" in fake.last_text(claire)
    assert await world.inbox() == [("900", True, None), (str(survey), True, None)]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_redelivered_update_is_applied_once(
    mode: str, fake: FakeTelegram, world: Any, run_bot: Any, act: Act
) -> None:
    claire = fake.user(7106, "Claire")
    participant = await world.enrol("claire", claire.id)
    async with run_bot(mode) as bot:
        await act(bot, fake.command(claire, "survey"))
        answered = await act(bot, fake.send_text(claire, "4"))
        await act(bot, fake.send_text(claire, "2"))  # engagement: planning
        sent = len(fake.calls_to("sendMessage"))
        if mode == "webhook":
            assert await fake.redeliver(answered) == 200
    if mode == "polling":  # as after a crash before Telegram was told the batch arrived
        await fake.redeliver(answered)
    async with run_bot(mode) as bot:
        await act(bot, fake.command(claire, "survey"))
    assert len(fake.calls_to("sendMessage")) == sent + 1  # only the /survey reply
    assert await world.answers("claire") == {"alignment_return": 4, "engagement_return": "planning"}
    response = await world.store.responses.get_response(world.round.id, participant.id)
    history = await world.store.responses.history(response.id)
    assert [change.question_id for change in history].count("alignment_return") == 1


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_an_update_stored_before_a_crash_is_processed_at_the_next_start(
    mode: str, fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7107, "Claire")
    await world.enrol("claire", claire.id)
    update = fake.text_update(claire, "/survey")
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 7}]
    # The crashed bot had stored it (and answered 200 / confirmed it), nothing more.
    stored = await world.store.inbox.accept(
        channel="telegram",
        key=str(update["update_id"]),
        payload=json.dumps(update),
        now=world.clock.now(),
    )
    assert stored is not None
    async with run_bot(mode) as bot:
        await fake.wait_for(lambda: fake.bot_messages(claire), what="the /survey reply")
        assert "Question 1 sur" in fake.last_text(claire)
        assert bot is not None
    assert await world.store.inbox.pending("telegram") == []
