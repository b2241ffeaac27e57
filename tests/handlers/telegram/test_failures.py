"""What Telegram or the network can throw at Itinera: none of it crashes it or loses an answer.

Blocked delegates (403), deleted messages (400 on edit), flood control (429 with
retry_after), malformed updates and requests, redelivered updates, and a crash between
storing an update and applying it. Answers are applied by the inbox; what Telegram refuses is
the outbox's business: a 429 postpones the message (its chat only), a refusal fails it for the
organisers to see, and neither undoes the answer.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.fakes.telegram_api import BLOCKED, FakeTelegram
from surveys.queues import OutboundStatus
from surveys.records import Audience
from surveys.reminders import schedule_for
from surveys.service import organising
from surveys.service.actors import Actor

SECRET = "s3cret-Webhook_token"


async def test_a_delegate_who_blocked_the_bot_keeps_their_answer(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7101, "Claire")
    aminata = fake.user(7108, "Aminata")
    await world.enrol("claire", claire.id)
    await world.enrol("aminata", aminata.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        fake.block(claire)
        # Her answer arrives, but she blocked the bot before the reply could be sent.
        update_id = await bot.act(fake.send_text(claire, "4"))
        assert await world.answers("claire") == {"alignment_return": 4}
        assert (str(update_id), True, None) in await world.inbox()  # applied, not an error
        event = await world.store.events.get(channel="telegram", key=str(update_id))
        assert event is not None
        replies = [m for m in await world.outbox() if m.key.startswith(f"reply:{event.id}")]
        assert {m.method for m in replies} == {"sendMessage", "editMessageReplyMarkup"}
        assert {(m.status, m.error) for m in replies} == {("failed", BLOCKED)}

        # Unblocked, she carries on where she was.
        fake.unblock(claire)
        await bot.act(fake.command(claire, "survey"))
        assert "Question 2 sur" in fake.last_text(claire)

        # An invitation to her while she blocks the bot fails for good, where organisers see
        # it; Itinera carries on with everyone else, and can send it again later.
        fake.block(claire)
        now = world.clock.now()
        second = await organising.launch(
            world.store,
            Actor.command_line("test"),
            organising.LaunchRequest(
                survey_id=world.survey.id,
                audience=Audience("delegations", ("FRA", "SEN")),
                closes=now + timedelta(days=9),
                opens=now - timedelta(minutes=1),
                again=True,  # the world's round asks them too
            ),
            now=now,
        )
        report = await bot.tick()
        expected = {f"invite:{second.round.id}:{world.person(p).id}" for p in ("claire", "aminata")}
        assert expected <= {item.key for item in report.invited}
        invitations = {m.key: m for m in await world.outbox() if m.key.startswith("invite:")}
        mine = invitations[f"invite:{second.round.id}:{world.person('claire').id}"]
        assert (mine.status, mine.error) == ("failed", BLOCKED)
        theirs = invitations[f"invite:{second.round.id}:{world.person('aminata').id}"]
        assert theirs.status == "sent"
        (backlog,) = await world.store.messages.backlog()
        assert backlog.channel == "telegram" and backlog.failed >= 3

        fake.unblock(claire)
        assert await world.store.messages.resend(round_id=second.round.id, now=now) == 1
        await bot.settle()
        resent = await world.store.messages.get(channel="telegram", key=mine.key)
        assert resent is not None and resent.status is OutboundStatus.SENT
        assert any("Question 1 sur" in m.text for m in fake.bot_messages(claire)[-1:])


async def test_an_edit_of_a_deleted_message_sends_a_new_one(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7102, "Claire")
    participant = await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await bot.tick()  # her invitation: one message, the question under it
        question = fake.last_keyboard_message(claire)
        assert question is not None and "Question 1 sur" in question.text
        press = next(b.data for b in question.buttons if b.text == "2")
        fake.delete_message(claire, question.message_id)
        # Her client still showed it; the edit fails with "message to edit not found".
        await bot.act(fake.press(claire, question.message_id, str(press)))
        assert await world.answers("claire") == {"alignment_return": 2}
        latest = fake.bot_messages(claire)[-1]
        assert latest.message_id != question.message_id
        assert "Question 2 sur" in latest.text and latest.buttons
        assert [m.message_id for m in fake.bot_messages(claire) if m.buttons] == [
            latest.message_id
        ]  # one live keyboard
        await bot.act(fake.tap(claire, "Engagement prévu"))  # the new message is the live one
        assert latest.edits == 1 and "Question 3 sur" in latest.text

        # The delegate deletes that one too; her reminder is a fresh message.
        fake.delete_message(claire, latest.message_id)
        plan = schedule_for(world.round, participant.timezone, bot.itinera.settings.office.parsed)
        world.clock.current = plan[0].at
        report = await bot.tick()
        assert [item.participant_id for item in report.reminded] == [participant.id]
        reminder = fake.bot_messages(claire)[-1]
        assert reminder.message_id > latest.message_id
        assert "Question 3 sur" in reminder.text and reminder.buttons
        assert reminder.text.index("2 questions") < reminder.text.index("Question 3 sur")


async def test_flood_control_postpones_that_chat_only_and_nothing_is_lost(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7103, "Claire")
    aminata = fake.user(7109, "Aminata")
    await world.enrol("claire", claire.id)
    await world.enrol("aminata", aminata.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        await bot.act(fake.command(aminata, "survey"))
        fake.fail_next("sendMessage", status=429, retry_after=7)
        await bot.act(fake.send_text(claire, "5"))
        assert await world.answers("claire") == {"alignment_return": 5}
        assert "Question 1 sur" in fake.last_text(claire)  # her next question waits 7 s
        (refused,) = [c for c in fake.calls_to("sendMessage") if c.status == 429]
        assert refused.params["chat_id"] == claire.id
        waiting = [m for m in await world.outbox() if m.status == "pending"]
        assert waiting and {m.address for m in waiting} == {str(claire.id)}
        assert waiting[0].error == "rate limited"

        await bot.act(fake.send_text(aminata, "3"))  # another chat is not held up
        assert "Question 2 sur" in fake.last_text(aminata)
        assert "Question 1 sur" in fake.last_text(claire)

        world.clock.advance(timedelta(seconds=7))
        await bot.settle()
        assert "Question 2 sur" in fake.last_text(claire)
        assert [m.status for m in await world.outbox()].count("pending") == 0

        # Flood control on edits for a while: the press is answered at once, the answer
        # kept, and the screen is drawn once Telegram lets it.
        fake.fail_next("editMessageText", status=429, retry_after=3, times=3)
        await bot.act(fake.tap(claire, "Déjà engagé"))
        assert await world.answers("claire") == {
            "alignment_return": 5,
            "engagement_return": "engaged",
        }
        answered = [c for c in fake.calls_to("answerCallbackQuery") if c.status == 200]
        assert len(answered) == 1  # the delegate's client stopped waiting
        for _ in range(3):
            assert "Question 2 sur" in fake.last_text(claire)
            world.clock.advance(timedelta(seconds=3))
            await bot.settle()
        assert "Question 3 sur" in fake.last_text(claire)
        edits = [c.status for c in fake.calls_to("editMessageText")]
        assert edits == [429, 429, 429, 200]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_malformed_update_is_recorded_and_skipped(
    mode: str, fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7104, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot(mode) as bot:
        broken = await bot.act(fake.push_update({"message": {"text": "no chat, no date"}}))
        unknown = await bot.act(fake.push_update({"future_kind": {"id": 1}}))
        await bot.act(fake.command(claire, "survey"))
        assert "Question 1 sur" in fake.last_text(claire)
    stored = {key: (processed, error) for key, processed, error in await world.inbox()}
    processed, error = stored[str(broken)]
    assert processed and error is not None and error.startswith("unreadable update")
    assert stored[str(unknown)] == (True, None)


async def test_the_webhook_refuses_what_is_not_a_signed_update(
    fake: FakeTelegram, world: Any, run_bot: Any
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
        survey = await bot.act(fake.command(claire, "survey"))
        assert "Question 1 sur" in fake.last_text(claire)
    assert await world.inbox() == [("900", True, None), (str(survey), True, None)]
    assert await world.answers("claire") == {}  # the refused "3" was never applied


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_redelivered_update_is_applied_once(
    mode: str, fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7106, "Claire")
    participant = await world.enrol("claire", claire.id)
    async with run_bot(mode) as bot:
        await bot.act(fake.command(claire, "survey"))
        answered = await bot.act(fake.send_text(claire, "4"))
        await bot.act(fake.send_text(claire, "2"))  # engagement: planning
        sent = len(fake.calls_to("sendMessage"))
        if mode == "webhook":
            assert await fake.redeliver(answered) == 200
            await bot.settle()
    if mode == "polling":  # as after a crash before Telegram was told the batch arrived
        await fake.redeliver(answered)
    async with run_bot(mode) as bot:
        await bot.act(fake.command(claire, "survey"))
    assert len(fake.calls_to("sendMessage")) == sent + 1  # only the /survey reply
    assert await world.answers("claire") == {"alignment_return": 4, "engagement_return": "planning"}
    response = await world.store.responses.get_response(world.round.id, participant.id)
    history = await world.store.responses.history(response.id)
    assert [change.question_id for change in history].count("alignment_return") == 1
    assert [key for key, _, _ in await world.inbox()].count(str(answered)) == 1


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_an_update_stored_before_a_crash_is_applied_after_the_restart(
    mode: str, fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7107, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot(mode) as bot:
        if mode == "polling":  # received and confirmed to Telegram, then the process died
            update_id = await bot.received(fake.command(claire, "survey"))
        else:  # stored as the webhook stores it before answering 200, then the process died
            update = fake.text_update(claire, "/survey")
            update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 7}]
            update_id = update["update_id"]
            assert await bot.runtime.receiver.receive(update) is not None
    assert fake.bot_messages(claire) == []
    assert await world.inbox() == [(str(update_id), False, None)]
    async with run_bot(mode) as bot:
        await bot.settle()  # what the inbox worker does once it runs
        assert "Question 1 sur" in fake.last_text(claire)
    assert await world.inbox() == [(str(update_id), True, None)]


async def test_an_update_the_inbox_cannot_store_is_answered_503_and_stored_when_resent(
    fake: FakeTelegram, world: Any, run_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    claire = fake.user(7110, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot("webhook") as bot:
        await bot.act(fake.command(claire, "survey"))
        await _rename(world.store, "inbound_events", "inbound_events_away")  # it cannot store
        try:
            with caplog.at_level(logging.WARNING, logger="itinera.telegram"):
                update_id = await fake.send_text(claire, "4")
        finally:
            await _rename(world.store, "inbound_events_away", "inbound_events")
        assert fake.webhook_deliveries[-1] == (update_id, 503)  # Telegram will send it again
        (warning,) = [r for r in caplog.records if r.name == "itinera.telegram"]
        assert "telegram: the inbox cannot store what arrives" in warning.getMessage()
        assert warning.exc_info is None  # one line, no traceback
        await fake.deliver_pending()  # as Telegram does, a little later
        assert fake.webhook_deliveries[-1] == (update_id, 200)
        await bot.settle()
        assert "Question 2 sur" in fake.last_text(claire)
    assert await world.answers("claire") == {"alignment_return": 4}


async def _rename(store: Any, table: str, to: str) -> None:
    async with store.database.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {table} RENAME TO {to}"))
