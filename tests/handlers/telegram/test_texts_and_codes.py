"""Telegram's texts reach the one catalogue; enrolment codes are what we promise."""

from __future__ import annotations

import string
from datetime import UTC, datetime

from babel import Locale

from handlers.telegram import enrolment
from handlers.telegram.inbound import CODE_PATTERN
from handlers.telegram.texts import LANGUAGE_NAMES, LANGUAGES, language_of, multilingual, text


def test_texts_fall_back_and_reach_the_shared_messages() -> None:
    assert text("not_text", "fr-CA").startswith("Je ne peux lire que du texte.")
    assert text("not_text", "de").startswith("I can only read text.")
    assert text("button_done", "fr") == "Valider"  # shared with the core and Slack
    assert language_of("es-MX") == "es" and language_of("de") == "en"


def test_someone_unknown_is_answered_in_every_language() -> None:
    guest = multilingual("unknown_user")
    assert guest.count("\n\n") == len(LANGUAGES) - 1
    assert "Hola." in guest and "Hello." in guest and "Bonjour." in guest


def test_language_names_are_cldrs_autonyms() -> None:
    assert set(LANGUAGE_NAMES) >= set(LANGUAGES)
    for code in LANGUAGES:
        own = Locale.parse(code).get_display_name(code)
        assert own is not None and LANGUAGE_NAMES[code].casefold() == own.casefold(), code


def test_codes_are_long_random_url_safe_and_stored_hashed() -> None:
    codes = {enrolment.new_code() for _ in range(200)}
    assert len(codes) == 200
    alphabet = set(string.ascii_letters + string.digits + "-_")
    for code in codes:
        assert len(code) == 32 and set(code) <= alphabet and CODE_PATTERN.fullmatch(code)
    code = next(iter(codes))
    assert enrolment.code_hash(code) == enrolment.code_hash(code)
    assert code not in enrolment.code_hash(code) and len(enrolment.code_hash(code)) == 64
    assert enrolment.deep_link("@itinera_bot", "abc") == "https://t.me/itinera_bot?start=abc"


async def test_issuing_a_code_stores_only_its_hash(memory_world: object) -> None:
    store = memory_world.store  # type: ignore[attr-defined]
    claire = memory_world.person("claire")  # type: ignore[attr-defined]
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    issued = await enrolment.issue_code(
        store.enrolments, participant_id=claire.id, bot_username="itinera_bot", now=now, days=14
    )
    assert issued.link == f"https://t.me/itinera_bot?start={issued.code}"
    assert (issued.expires_at - now).days == 14
    redeemed = await store.enrolments.redeem(
        channel="telegram",
        code_hash=enrolment.code_hash(issued.code),
        external_id="42",
        now=now,
    )
    assert redeemed.participant_id == claire.id
    used = await store.enrolments.redeem(
        channel="telegram", code_hash=enrolment.code_hash(issued.code), external_id="43", now=now
    )
    assert used.outcome.value == "used"
