"""The platforms' rate limits in the fakes: buckets on an injected clock, 429s as each platform
answers them (over real HTTP to the fakes), and duplicates counted."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.fakes.limits import (
    SLACK,
    TELEGRAM,
    Duplicates,
    Limit,
    RateLimits,
    Refusal,
    SlackLimits,
    TelegramLimits,
)
from bot.fakes.slack_api import FakeSlackApi, FakeUser
from bot.fakes.telegram_api import FakeTelegram, FloodControl


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_its_burst_through_then_its_rate() -> None:
    clock = Clock()
    limits = RateLimits(TelegramLimits(per_bot=Limit(30, 30)).scopes, clock=clock)
    # 30 chats at once: the bot's burst.
    assert [limits.check("sendmessage", conversation=str(n)) for n in range(30)] == [None] * 30
    refusal = limits.check("sendmessage", conversation="31")
    assert refusal == Refusal("bot", 1)  # a 30th of a second, said as a whole second
    clock.now += 0.5  # 15 tokens back
    taken = [limits.check("sendmessage", conversation=str(100 + n)) for n in range(16)]
    assert taken[:15] == [None] * 15 and taken[15] is not None
    assert (limits.accepted, limits.refusals, limits.refused["bot"]) == (45, 2, 2)


def test_one_chat_gets_a_message_a_second_after_its_burst() -> None:
    clock = Clock()
    limits = RateLimits(TELEGRAM.scopes, clock=clock)
    assert [limits.check("sendmessage", conversation="7") for _ in range(3)] == [None] * 3
    assert limits.check("sendmessage", conversation="7") == Refusal("chat", 1)
    assert limits.check("sendmessage", conversation="8") is None  # another chat is not held up
    clock.now += 1.0
    assert limits.check("sendmessage", conversation="7") is None
    # Edits and callback answers are not new messages: never counted.
    assert all(limits.check("editmessagetext", conversation="7") is None for _ in range(50))


def test_a_group_gets_twenty_a_minute() -> None:
    clock = Clock()
    limits = RateLimits(TELEGRAM.scopes, clock=clock)
    assert all(limits.check("sendmessage", conversation="-100") is None for _ in range(20))
    refusal = limits.check("sendmessage", conversation="-100")
    assert refusal == Refusal("group", 3)  # a token every three seconds
    clock.now += 3.0
    assert limits.check("sendmessage", conversation="-100") is None


def test_a_refused_call_takes_no_token_of_the_other_scopes() -> None:
    clock = Clock()
    limits = RateLimits(SlackLimits(workspace=Limit(10, 10)).scopes, clock=clock)
    for _ in range(3):
        assert limits.check("chat.postMessage", conversation="DU1") is None
    for _ in range(5):  # the conversation's limit: the workspace keeps its tokens
        assert limits.check("chat.postMessage", conversation="DU1") is not None
    assert all(limits.check("chat.postMessage", conversation=f"DU{n}") is None for n in range(2, 9))
    assert limits.check("chat.postMessage", conversation="DU9") == Refusal("workspace", 1)
    assert limits.refused == {"conversation": 5, "workspace": 1}


def test_slack_tiers_limit_their_method_only() -> None:
    clock = Clock()
    limits = RateLimits(SLACK.scopes, clock=clock)
    assert all(limits.check("conversations.open") is None for _ in range(50))
    assert limits.check("conversations.open") == Refusal("conversations.open", 2)
    assert limits.check("chat.postMessage", conversation="DU1") is None
    assert limits.check("auth.test") is None  # no tier given: never limited


def test_scaled_limits_and_the_time_they_allow() -> None:
    ten = TELEGRAM.scaled(10)
    assert (ten.per_bot, ten.per_chat) == (Limit(300, 300), Limit(10, 3))
    assert TELEGRAM.allowed_seconds(5030, chats=5030) == pytest.approx(5000 / 30)
    assert ten.allowed_seconds(5300, chats=5300) == pytest.approx(5000 / 300)
    assert SLACK.allowed_seconds(610, conversations=610) == pytest.approx(60)
    assert SLACK.scaled(10).allowed_seconds(700, conversations=700) == pytest.approx(6)
    assert SLACK.scaled(10).tiers["conversations.open"] == Limit(500 / 60, 50)
    # One conversation: its own limit is the slower one.
    assert SLACK.allowed_seconds(13, conversations=1) == pytest.approx(10)


def test_duplicates_are_the_same_content_in_the_same_conversation() -> None:
    seen = Duplicates()
    assert not seen.saw("D1", ["Hello", []])
    assert not seen.saw("D2", ["Hello", []])
    assert not seen.saw("D1", ["Hello again", []])
    assert seen.saw("D1", ["Hello", []])
    assert seen.count == 1


async def test_the_slack_fake_answers_429_with_retry_after() -> None:
    clock = Clock()
    users = [FakeUser(f"U{n}", f"u{n}@example.org") for n in range(3)]
    async with FakeSlackApi(users=users, limits=SLACK, clock=clock) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.url)
        for _ in range(3):
            await client.chat_postMessage(channel="U1", text="hi")
        with pytest.raises(SlackApiError) as refused:
            await client.chat_postMessage(channel="U1", text="hi")
        response = refused.value.response
        assert response.status_code == 429 and response["error"] == "ratelimited"
        assert response.headers["retry-after"] in ("1", ["1"])
        await client.chat_postMessage(channel="U2", text="hi")  # another DM goes through
        assert slack.limits is not None and slack.limits.refused == {"conversation": 1}
        assert slack.duplicates.count == 2  # "hi" three times in U1's DM
        clock.now += 1
        await client.chat_postMessage(channel="DU1", text="later")  # the DM's own id


async def test_the_telegram_fake_answers_429_with_retry_after() -> None:
    clock = Clock()
    async with FakeTelegram(flood=FloodControl.published(scale=10, clock=clock)) as fake:
        fake.user(1, "Ana")
        url = f"{fake.url}/bot{fake.token}/sendMessage"
        async with httpx.AsyncClient(trust_env=False) as http:
            answers = [
                (await http.post(url, json={"chat_id": 1, "text": "hello"})).json()
                for _ in range(4)
            ]
        assert [a["ok"] for a in answers] == [True, True, True, False]
        assert answers[3]["error_code"] == 429
        assert answers[3]["parameters"] == {"retry_after": 1}
        assert fake.flood_refusals == 1 and fake.duplicates.count == 2
