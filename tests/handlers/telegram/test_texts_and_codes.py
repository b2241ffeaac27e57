"""The Telegram catalogue is complete in four languages; enrolment codes are what we promise."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime

import pytest

from handlers.telegram import enrolment
from handlers.telegram.inbound import CODE_PATTERN
from handlers.telegram.texts import LANGUAGES, MESSAGES, language_of, multilingual, text

PLACEHOLDER = re.compile(r"{(\w+)}")


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_text_has_every_language_and_the_same_placeholders(key: str) -> None:
    by_language = MESSAGES[key]
    assert set(LANGUAGES) <= set(by_language)
    expected = set(PLACEHOLDER.findall(by_language["en"])) - {"nbsp"}
    for language in LANGUAGES:
        assert set(PLACEHOLDER.findall(by_language[language])) - {"nbsp"} == expected
        params = dict.fromkeys(expected, "X")
        assert "{" not in text(key, language, **params)


def test_texts_fall_back_and_reach_the_core_catalogue() -> None:
    assert text("no_rounds", "fr-CA") == "Aucun cycle n’est ouvert."
    assert text("no_rounds", "ru") == "No round is open."
    assert text("button_done", "fr") == "Valider"  # from surveys.messages
    assert language_of("es-MX") == "es" and language_of("zh") == "en"
    guest = multilingual("unknown_user")
    assert guest.count("\n\n") == 2 and "Hola." in guest


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
