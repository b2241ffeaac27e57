"""Free text typed by a delegate in Slack, through the real app against the fake Web API: a
huge comment is refused in her language naming the limit, hostile markup is stored as typed,
and no echo of it lets a mention or a link go live; nothing travels in a URL or beyond Slack's
limits (the fake refuses those as Slack does)."""

from __future__ import annotations

import json
from typing import Any

from tests.handlers.slack.test_scenarios import LUCIA, answer_theme, step

HOSTILE = (
    "<!channel> <!here> <@U01ORG0001> @everyone *bold* _it_ ~s~ `code` "
    '<https://evil.example|click> <b>b</b> <a href="https://evil.example">a</a> &amp; '
    "\u202eevil\u202c \u200bzero\u200d\ufeff esc\x1b[2J vt\x0b"
)
LIVE = ("<!channel>", "<!here>", "<@U01ORG0001>", "<https://evil.example")


def everything_sent(slack: Any) -> str:
    """Every argument of every call the app made to the fake, as one JSON text."""
    return json.dumps([call.args for call in slack.calls], ensure_ascii=False)


async def test_huge_and_hostile_comments_are_refused_or_echoed_inert(slack_world: Any) -> None:
    world = slack_world
    slack = world.slack
    lucia = world.user(LUCIA)
    await step(world, await lucia.open_home())
    await step(world, await lucia.press_home("Abrir"))
    await step(world, await lucia.press("4"))
    await step(world, await lucia.press("Ya participa"))
    lucia.tick()
    await step(world, await lucia.press("Confirmar"))
    assert "¿Desea formular alguna observación adicional sobre el retorno?" in lucia.texts()

    # 100,000 characters typed in the DM: refused, in Spanish, naming the question's limit.
    await step(world, await lucia.say("x" * 100_000))
    refusal = "Por favor, limite su respuesta a 1.000 caracteres; ahora tiene 100.000."
    assert refusal in everything_sent(slack)
    participant = await world.store.roster.find_by_identity("slack", LUCIA)
    response = await world.store.responses.get_response(world.round_id, participant.id)
    assert response.state.answers.get("comment_return") is None

    # Hostile markup: stored exactly as typed.
    await step(world, await lucia.say(HOSTILE))
    response = await world.store.responses.get_response(world.round_id, participant.id)
    assert response.state.answers["comment_return"] == HOSTILE.strip()

    for scale, engagement in (("3", "Prevé participar"), ("5", "Lo está estudiando")):
        await answer_theme(world, lucia, scale=scale, engagement=engagement)
    await answer_theme(world, lucia, scale="2", engagement="No procede")
    await answer_theme(world, lucia, scale="4", engagement="Ya participa")
    lucia.tick("Retorno")
    await step(world, await lucia.press("Confirmar"))
    await step(world, await lucia.press("No"))
    summary = lucia.texts()
    assert "Sus respuestas" in summary

    # The summary quotes it with Slack's control characters escaped: nothing became live.
    assert "&lt;!channel&gt;" in summary and "&lt;@U01ORG0001&gt;" in summary
    sent = everything_sent(slack)
    for live in LIVE:
        assert live not in sent, live
    # Every call was accepted (the fake refuses what Slack would: over-long text or blocks),
    # and none carried a message in its URL.
    assert slack.query_string == []
    assert [c for c in slack.calls if c.method in ("chat.postMessage", "chat.update")]
    assert all(len(str(call.args.get("text", ""))) <= 40_000 for call in slack.calls)
