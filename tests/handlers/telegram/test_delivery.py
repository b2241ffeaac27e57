"""TelegramOut: invitations and reminders show the screen; digests reach organisers.

The scheduler's tick enqueues what is due through the channel's out; the Telegram sender
delivers it to the fake Bot API (``bot.tick()`` does both, as ``itinera run`` would).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.fakes.telegram_api import BLOCKED, FakeTelegram
from surveys.errors import DeliveryError
from surveys.reminders import schedule_for
from surveys.service.delivery import close_due_rounds

# Channel logic, not storage: SQLite is enough (the scenarios run on every backend).
pytestmark = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_an_invitation_is_one_message_the_preface_above_the_question(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(9001, "Claire")
    participant = await world.enrol("claire", claire.id)
    stranger = world.person("aminata")  # not enrolled on Telegram
    async with run_bot("polling") as bot:
        out = bot.out
        assert out.channel == "telegram"
        assert await out.reach(participant) == str(claire.id)
        assert await out.reach(stranger) is None
        report = await bot.tick()
        assert [item.participant_id for item in report.invited] == [participant.id]
        assert stranger.id in report.unreachable
        (invitation,) = fake.bot_messages(claire)
        assert invitation.text.startswith("Bonjour Claire Dubois")
        assert "Question 1 sur 22" in invitation.text
        assert [b.text for b in invitation.buttons] == ["1", "2", "3", "4", "5"]
        assert len(fake.calls_to("sendMessage")) == 1

        again = await bot.tick()  # a repeated tick sends nothing twice
        assert again.invited == [] and len(fake.bot_messages(claire)) == 1

        # Her answer edits the invitation in place: it is the live screen.
        await bot.act(fake.tap(claire, "4"))
        assert len(fake.bot_messages(claire)) == 1
        assert "Question 2 sur 22" in invitation.text and invitation.edits == 1


async def test_a_reminder_shows_where_the_delegate_stopped_and_keyboards_stay_one(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(9003, "Claire")
    participant = await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await bot.tick()
        await bot.act(fake.tap(claire, "4"))
        (invitation,) = fake.bot_messages(claire)
        plan = schedule_for(world.round, participant.timezone, bot.itinera.settings.office.parsed)
        world.clock.current = plan[0].at
        report = await bot.tick()
        assert [item.participant_id for item in report.reminded] == [participant.id]
        reminder = fake.bot_messages(claire)[-1]
        assert reminder.message_id != invitation.message_id
        assert reminder.text.startswith("Rappel")
        assert "Question 2 sur 22" in reminder.text and reminder.buttons

        # A press on either keyboard answers the question they both show; what follows is
        # drawn once, and no keyboard is left on the older messages.
        await bot.act(fake.press(claire, invitation.message_id, _data(invitation, "Déjà")))
        assert await world.answers("claire") == {
            "alignment_return": 4,
            "engagement_return": "engaged",
        }
        with_buttons = [m for m in fake.bot_messages(claire) if m.buttons]
        assert len(with_buttons) == 1 and "Question 3 sur 22" in with_buttons[0].text


async def test_a_delegate_whose_round_closed_halfway_is_told_their_answers_were_kept(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(9005, "Claire")
    participant = await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await bot.tick()
        await bot.act(fake.tap(claire, "4"))
        world.clock.current = world.round.closes_at + timedelta(minutes=1)
        report = await close_due_rounds(
            world.store, channels=bot.itinera.outs, now=world.clock.now(), notify_partial=True
        )
        await bot.settle()
    assert report.closed == [world.round.id] and report.notified == [participant.id]
    note = fake.bot_messages(claire)[-1]
    assert note.text.startswith("L’enquête «\u00a0Approche basée sur les itinéraires")
    assert "La réponse que vous aviez donnée a été conservée comme réponse partielle" in note.text
    assert not note.buttons


async def test_an_invitation_to_a_delegate_who_blocked_the_bot_fails_for_good(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(9004, "Claire")
    participant = await world.enrol("claire", claire.id)
    fake.block(claire)
    async with run_bot("polling") as bot:
        await bot.tick()
        key = f"invite:{world.round.id}:{participant.id}"
        stored = await world.store.messages.get(channel="telegram", key=key)
        assert stored is not None and (stored.status.value, stored.error) == ("failed", BLOCKED)
        assert bot.sender.paused_because is None  # her refusal is hers, not the channel's


async def test_digests_go_to_enrolled_organisers_as_photo_and_text(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    round_id = world.round.id
    async with run_bot("polling") as bot:
        with pytest.raises(DeliveryError, match="no organiser has enrolled") as nowhere:
            await bot.out.post_digest(
                round_id=round_id, key="digest:1", text="Digest", image=None, image_name="d.png"
            )
        assert nowhere.value.permanent
    olga = fake.user(9002, "Olga")
    await world.enrol("olga", olga.id)
    async with run_bot("polling") as bot:
        out = bot.out

        async def post(key: str, text: str, image: bytes | None, name: str = "d.png") -> None:
            await out.post_digest(
                round_id=round_id, key=key, text=text, image=image, image_name=name
            )
            await bot.settle()

        await post("digest:2", "*Digest* <week 3> & more", PNG)
        photo = fake.bot_messages(olga)[-1]
        assert photo.kind == "photo" and photo.file == PNG
        assert photo.text == "*Digest* <week 3> & more"
        assert photo.markup == "*Digest* &lt;week 3&gt; &amp; more"  # escaped as sent

        long_text = "Thème : réponses en hausse. " * 80
        await post("digest:3", long_text, PNG)
        *_, photo, text = fake.bot_messages(olga)
        assert photo.kind == "photo" and photo.text == ""
        assert text.text.strip() == long_text.strip()

        fake.fail_next("sendPhoto", status=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS")
        await post("digest:4", "Wide chart", PNG, "wide.png")
        document = fake.bot_messages(olga)[-1]
        assert document.kind == "document" and document.file_name == "wide.png"
        assert document.file == PNG and document.text == "Wide chart"

        await post("digest:5", "Text only", None, "")
        assert fake.last_text(olga) == "Text only"

        await post("digest:5", "Text only, again", None, "")  # the same digest: sent once
        assert fake.last_text(olga) == "Text only"

        fake.block(olga)
        await post("digest:6", "Blocked", None, "")
        refused = await world.store.messages.get(channel="telegram", key=f"digest:6:{olga.id}")
        assert refused is not None and (refused.status.value, refused.error) == (
            "failed",
            BLOCKED,
        )


async def test_digests_go_to_the_configured_chat_with_their_markdown_shown(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    group = fake.user(-1001234567890, "Organisers")
    digest = "# Weekly digest\n\n_Submitted answers only_\n\n- **France \\(FRA\\)**: 4\n"
    async with run_bot("polling", telegram_digest_chat="-1001234567890") as bot:
        await bot.out.post_digest(
            round_id=world.round.id, key="digest:7", text=digest, image=PNG, image_name="d.png"
        )
        await bot.settle()
    photo = fake.bot_messages(group)[-1]
    assert photo.kind == "photo"
    assert photo.text == "Weekly digest\n\nSubmitted answers only\n\n• France (FRA): 4"
    assert photo.markup is not None and "<b>Weekly digest</b>" in photo.markup


def _data(message: Any, caption: str) -> str:
    return next(str(b.data) for b in message.buttons if caption in b.text)
