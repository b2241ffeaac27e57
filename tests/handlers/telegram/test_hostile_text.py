"""Free text typed by a delegate in Telegram, through the real bot against the fake Bot API
(which parses HTML and refuses over 4,096 characters as Telegram does): a huge comment is
refused in her language naming the limit, hostile markup is stored as typed and every echo of
it is escaped HTML, shown literally."""

from __future__ import annotations

import re
from typing import Any

from bot.fakes.telegram_api import FakeTelegram

HOSTILE = (
    '<b>bold</b> <a href="tg://user?id=1">a</a> <i>x & y @everyone <!channel> *md* '
    "\u202eevil\u202c \u200bzero\u200d\ufeff esc\x1b[2J vt\x0b"
)


async def test_huge_and_hostile_comments_are_refused_or_echoed_inert(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7001, "Claire", language_code="fr")
    code = await world.invite("claire")
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "start", code))
        await bot.act(fake.tap(claire, "4"))
        await bot.act(fake.tap(claire, "Engagement prévu"))
        await bot.act(fake.tap(claire, "Valider"))
        assert "observation" in fake.bot_messages(claire)[-1].text.lower()

        await bot.act(fake.send_text(claire, "x" * 100_000))
        refused = "\n".join(m.text for m in fake.bot_messages(claire)[-2:])
        said = re.sub(r"\s", " ", refused)  # French groups digits with a no-break space
        assert "Veuillez limiter votre réponse à 1 000 caractères" in said, refused
        assert "elle en compte actuellement 100 000." in said
        assert (await world.answers("claire")).get("comment_return") is None

        await bot.act(fake.send_text(claire, HOSTILE))
        assert (await world.answers("claire"))["comment_return"] == HOSTILE.strip()
        await bot.act(fake.tap(claire, "Retour"))

    echoes = [m for m in fake.bot_messages(claire) if "bold</b>" in m.text]
    assert echoes, "the answer is shown again when she goes back to it"
    for message in echoes:
        assert "&lt;b&gt;bold&lt;/b&gt;" in (message.markup or "")
        assert '<a href="tg://user?id=1">a</a>' in message.text  # shown literally, not a link
    assert all(len(m.text) <= 4096 for m in fake.bot_messages(claire))
