"""Building the Telegram channel from settings, and ``itinera run`` with only Telegram."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.error import InvalidToken

from bot.fakes.telegram_api import FakeTelegram
from bot.run import run
from bot.settings import TelegramMode, load_settings
from bot.telegram_wiring import build_telegram
from handlers.telegram.errors import ConfigurationError
from storage.database import Store, SystemClock
from storage.memory import InMemoryStore
from surveys.service.answering import Conversation


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "telegram_token": SecretStr("1:abc"),
        "telegram_api_url": "http://127.0.0.1:9/",
        "telegram_webhook_secret": SecretStr("secret_1"),
    }
    return load_settings(**(base | values))


def build(config: Settings) -> Any:
    store = InMemoryStore()
    clock = SystemClock()
    return build_telegram(config, store, Conversation(store, clock=clock), clock)


def test_polling_mode_has_no_routes_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="itinera.telegram"):
        runtime = build(settings())
    assert runtime.describe() == "Telegram: long polling"
    assert runtime.routes() == []
    assert "Telegram: long polling" in caplog.text
    assert runtime.application.bot.base_url == "http://127.0.0.1:9/bot1:abc"


def test_webhook_mode_serves_one_route(caplog: pytest.LogCaptureFixture) -> None:
    url = "https://itinera.example.org/telegram/webhook"
    with caplog.at_level(logging.INFO, logger="itinera.telegram"):
        runtime = build(settings(telegram_mode=TelegramMode.WEBHOOK, telegram_webhook_url=url))
    assert runtime.describe() == f"Telegram: webhook at {url}"
    (route,) = runtime.routes()
    assert route.path == "/telegram/webhook" and route.methods == {"POST"}
    assert f"Telegram: webhook at {url}" in caplog.text


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"telegram_token": None}, "ITINERA_TELEGRAM_TOKEN"),
        (
            {"telegram_mode": TelegramMode.WEBHOOK, "telegram_webhook_secret": None},
            "ITINERA_TELEGRAM_WEBHOOK_SECRET",
        ),
        (
            {"telegram_mode": TelegramMode.WEBHOOK, "telegram_webhook_secret": SecretStr("a b")},
            "ITINERA_TELEGRAM_WEBHOOK_SECRET",
        ),
    ],
)
def test_missing_or_invalid_settings_are_named(values: dict[str, Any], variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        build(settings(**values))


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_itinera_run_with_only_telegram_starts_polling_and_stops_cleanly(
    fake: FakeTelegram, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_settings(
        telegram_token=SecretStr(fake.token),
        telegram_api_url=fake.url,
        slack_bot_token=None,
    )
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO):
        running = asyncio.create_task(run(config, store, stop=stop))
        visitor = fake.user(9100, "Visitor")
        await fake.command(visitor, "start")
        await fake.wait_for(lambda: fake.bot_messages(visitor), what="a reply through polling")
        stop.set()
        async with asyncio.timeout(10):
            await running
    methods = [call.method for call in fake.calls]
    assert methods.index("deleteWebhook") < methods.index("getupdates")
    assert "Telegram: long polling" in caplog.text
    assert "stopped" in caplog.text
    assert fake.token not in caplog.text  # Bot API URLs carry it: never logged


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_webhook_mode_registers_its_url_with_the_secret(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    async with run_bot("webhook"):
        (call,) = fake.calls_to("setWebhook")
        assert call.params["url"] == fake.webhook_url
        assert call.params["secret_token"] == "s3cret-Webhook_token"
        assert call.params["allowed_updates"] == ["message", "callback_query"]
    assert not fake.calls_to("getupdates", "deleteWebhook")


async def test_a_refused_token_fails_the_start_and_leaves_nothing_running(
    fake: FakeTelegram,
) -> None:
    config = load_settings(telegram_token=SecretStr("1:wrong"), telegram_api_url=fake.url)
    runtime = build(config)
    with pytest.raises(InvalidToken):
        await runtime.start()
    running = {task.get_name() for task in asyncio.all_tasks()}
    assert not {name for name in running if name.startswith("telegram-")}
    await runtime.stop()  # harmless
