"""TelegramMessenger: invitations and reminders show the screen; digests reach organisers."""

from __future__ import annotations

from typing import Any

import pytest

from bot.fakes.telegram_api import FakeTelegram
from surveys.errors import DeliveryError

# Channel logic, not storage: SQLite is enough (the scenarios run on every backend).
pytestmark = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_an_invitation_shows_the_preface_then_the_screen(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(9001, "Claire")
    participant = await world.enrol("claire", claire.id)
    stranger = world.person("aminata")
    async with run_bot("polling") as bot:
        messenger = bot.messenger
        assert messenger.channel == "telegram"
        assert await messenger.reachable(participant)
        assert not await messenger.reachable(stranger)
        shown = await messenger.send_screen(participant, world.round.id, preface="Invitation")
        preface, screen = fake.bot_messages(claire)
        assert preface.text == "Invitation" and not preface.buttons
        assert str(screen.message_id) == shown and "Question 1 sur 22" in screen.text
        again = await messenger.send_screen(participant, world.round.id, preface="Rappel")
        assert int(again) > screen.message_id
        assert screen.buttons == []  # one live keyboard at a time
        with pytest.raises(DeliveryError) as refused:
            await messenger.send_screen(stranger, world.round.id)
        assert refused.value.permanent


async def test_digests_go_to_enrolled_organisers_as_photo_and_text(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    async with run_bot("polling") as bot:
        with pytest.raises(DeliveryError, match="no organiser has enrolled"):
            await bot.messenger.post_digest(text="Digest", image=None, image_name="d.png")
    olga = fake.user(9002, "Olga")
    await world.enrol("olga", olga.id)
    async with run_bot("polling") as bot:
        messenger = bot.messenger
        await messenger.post_digest(text="*Digest* <week 3> & more", image=PNG, image_name="d.png")
        photo = fake.bot_messages(olga)[-1]
        assert photo.kind == "photo" and photo.file == PNG
        assert photo.text == "*Digest* <week 3> & more"

        long_text = "Thème : réponses en hausse. " * 80
        await messenger.post_digest(text=long_text, image=PNG, image_name="d.png")
        *_, photo, text = fake.bot_messages(olga)
        assert photo.kind == "photo" and photo.text == ""
        assert text.text.strip() == long_text.strip()

        fake.fail_next("sendPhoto", status=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS")
        await messenger.post_digest(text="Wide chart", image=PNG, image_name="wide.png")
        document = fake.bot_messages(olga)[-1]
        assert document.kind == "document" and document.file_name == "wide.png"

        await messenger.post_digest(text="Text only", image=None, image_name="")
        assert fake.last_text(olga) == "Text only"

        fake.block(olga)
        with pytest.raises(DeliveryError) as refused:
            await messenger.post_digest(text="Blocked", image=None, image_name="")
        assert refused.value.permanent


async def test_digests_go_to_the_configured_chat_with_their_markdown_shown(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    group = fake.user(-1001234567890, "Organisers")
    digest = "# Weekly digest\n\n_Submitted answers only_\n\n- **France \\(FRA\\)**: 4\n"
    async with run_bot("polling", telegram_digest_chat="-1001234567890") as bot:
        await bot.messenger.post_digest(text=digest, image=PNG, image_name="d.png")
    photo = fake.bot_messages(group)[-1]
    assert photo.kind == "photo"
    assert photo.text == "Weekly digest\n\nSubmitted answers only\n\n• France (FRA): 4"
    assert photo.markup is not None and "<b>Weekly digest</b>" in photo.markup
