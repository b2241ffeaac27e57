"""Enrolment guards over the real bot: wrong codes are throttled per Telegram account, and a
participant already linked is not linked to a second account until an organiser allows it."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from bot.fakes.telegram_api import FakeTelegram
from surveys.service import rights
from surveys.service.actors import Actor
from surveys.service.delegates import ENROLMENT_ATTEMPTS, ENROLMENT_WINDOW


async def test_repeated_wrong_codes_are_throttled_then_allowed_again(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    guesser = fake.user(8101, "Guesser")
    code = await world.invite("claire")
    async with run_bot("polling") as bot:
        for attempt in range(ENROLMENT_ATTEMPTS):
            await bot.act(fake.command(guesser, "start", f"Guess_{attempt:02d}"))
            assert "This enrolment link is not valid" in fake.last_text(guesser)
        # The right code, from the throttled account, is not even looked at.
        await bot.act(fake.command(guesser, "start", code))
        refusal = fake.last_text(guesser)
        until = (world.clock.now() + ENROLMENT_WINDOW).astimezone(UTC)
        assert "Too many enrolment links that did not work" in refusal
        assert f"wait until {until:%H:%M} (UTC)" in refusal
        assert "Trop de liens d’inscription non valides" in refusal  # every guest language
        assert "\u2068" in refusal  # the time is isolated in Arabic
        assert await world.store.roster.find_by_identity("telegram", "8101") is None

        world.clock.advance(ENROLMENT_WINDOW + timedelta(seconds=1))
        await bot.act(fake.command(guesser, "start", code))
        assert fake.bot_messages(guesser)[-2].text.startswith("Bienvenue, Claire Dubois")

    linked = await world.store.roster.find_by_identity("telegram", "8101")
    assert linked is not None and linked.email == "claire@example.org"


async def test_a_second_account_needs_an_organiser(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    old_phone, new_phone = fake.user(8201, "Claire"), fake.user(8202, "Claire")
    first = await world.invite("claire")
    async with run_bot("polling") as bot:
        await bot.act(fake.command(old_phone, "start", first))
        second = await world.invite("claire")  # say, a link sent again by mistake

        await bot.act(fake.command(new_phone, "start", second))
        refusal = fake.last_text(new_phone)
        assert refusal.startswith("Ce lien d’inscription appartient à une personne déjà liée")
        claire = await world.store.roster.find_by_identity("telegram", "8201")
        assert claire is not None and claire.email == "claire@example.org"
        assert await world.store.roster.find_by_identity("telegram", "8202") is None

        organiser = Actor.command_line("olga")
        removed = await rights.relink_participant(
            world.store, organiser, claire.id, channel="telegram", now=world.clock.now()
        )
        assert removed is not None and removed.external_id == "8201"
        await bot.act(fake.command(new_phone, "start", second))  # the same link works now
        assert fake.bot_messages(new_phone)[-2].text.startswith("Bienvenue, Claire Dubois")

    moved = await world.store.roster.find_by_identity("telegram", "8202")
    assert moved is not None and moved.email == "claire@example.org"
    assert await world.store.roster.find_by_identity("telegram", "8201") is None
    [entry] = [e for e in await world.store.audit.entries() if e.action == "participant.relink"]
    assert entry.actor == "olga" and entry.details["channel"] == "telegram"
