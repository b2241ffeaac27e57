"""Building the Telegram channel from settings, and ``itinera run`` with only Telegram."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from pydantic import SecretStr
from telegram.error import InvalidToken

from bot.bootstrap import Itinera, build
from bot.fakes.telegram_api import FakeTelegram
from bot.run import run
from bot.settings import Settings, SettingsError, TelegramMode, load_settings
from handlers.telegram.errors import ConfigurationError
from handlers.telegram.runtime import TelegramRuntime
from storage.database import Store
from storage.memory import InMemoryStore


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "telegram_token": SecretStr("1:abc"),
        "telegram_api_url": "http://127.0.0.1:9/",
        "telegram_webhook_secret": SecretStr("secret_1"),
        "slack_bot_token": None,
        "slack_app_token": None,
    }
    return load_settings(**(base | values))


def built(config: Settings) -> tuple[Itinera, TelegramRuntime]:
    itinera = build(config, InMemoryStore())  # type: ignore[arg-type]
    (runtime,) = itinera.runtimes
    assert isinstance(runtime, TelegramRuntime)
    return itinera, runtime


def test_polling_mode_has_no_routes_and_sends_to_the_configured_api() -> None:
    itinera, runtime = built(settings())
    assert runtime.describe() == "Telegram: long polling"
    assert runtime.routes() == []
    assert runtime.bot.base_url == "http://127.0.0.1:9/bot1:abc"
    (sender,) = itinera.senders
    assert sender.channel == "telegram"
    assert [out.channel for out in itinera.outs] == ["telegram"]
    assert not [r for r in itinera.web.routes if getattr(r, "path", "") == "/telegram/webhook"]


def test_webhook_mode_serves_one_route() -> None:
    url = "https://itinera.example.org/telegram/webhook"
    itinera, runtime = built(settings(telegram_mode=TelegramMode.WEBHOOK, telegram_webhook_url=url))
    assert runtime.describe() == f"Telegram: webhook at {url}"
    (route,) = runtime.routes()
    assert route.path == "/telegram/webhook" and route.methods == {"POST"}
    assert route in itinera.web.routes


def test_a_web_only_process_does_not_poll() -> None:
    _, runtime = built(settings(role="web"))
    assert runtime.describe() == "Telegram: sending only (another process polls)"


def test_a_missing_webhook_secret_is_named() -> None:
    with pytest.raises(ConfigurationError, match="ITINERA_TELEGRAM_WEBHOOK_SECRET"):
        built(settings(telegram_mode=TelegramMode.WEBHOOK, telegram_webhook_secret=None))


def test_an_invalid_webhook_secret_is_named_by_the_settings() -> None:
    with pytest.raises(SettingsError, match="ITINERA_TELEGRAM_WEBHOOK_SECRET") as refused:
        settings(telegram_mode=TelegramMode.WEBHOOK, telegram_webhook_secret=SecretStr("a b"))
    assert "a b" not in str(refused.value)  # a secret is never echoed


def test_without_a_token_telegram_is_not_started() -> None:
    config = settings(
        telegram_token=None,
        slack_bot_token=SecretStr("xoxb-1"),
        slack_signing_secret=SecretStr("s"),
    )
    itinera = build(config, InMemoryStore())  # type: ignore[arg-type]
    assert not any(isinstance(r, TelegramRuntime) for r in itinera.runtimes)


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_itinera_run_with_only_telegram_starts_polling_and_stops_cleanly(
    fake: FakeTelegram, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_settings(
        telegram_token=SecretStr(fake.token),
        telegram_api_url=fake.url,
        slack_bot_token=None,
        slack_app_token=None,
        http_port=0,
    )
    stop = asyncio.Event()
    with caplog.at_level(logging.INFO):
        running = asyncio.create_task(run(config, store, stop=stop))
        visitor = fake.user(9100, "Visitor")
        await fake.command(visitor, "start")
        # The loops run here: the poller stores it, the inbox applies it, the sender sends.
        await fake.wait_for(
            lambda: fake.bot_messages(visitor), within=15, what="a reply through polling"
        )
        stop.set()
        async with asyncio.timeout(15):
            await running
    assert "enrolment link" in fake.last_text(visitor)
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
    config = settings(telegram_token=SecretStr("1:wrong"), telegram_api_url=fake.url)
    itinera, runtime = built(config)
    with pytest.raises(InvalidToken):
        await runtime.start()
    running = {task.get_name() for task in asyncio.all_tasks()}
    assert not {name for name in running if name.startswith("telegram-")}
    await runtime.stop()  # harmless
    for close in itinera.closers:
        await close()


@pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)
async def test_what_is_applied_while_itinera_stops_is_still_sent(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(9101, "Claire")
    await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await bot.received(fake.command(claire, "survey"))
        # itinera run stops receiving first, then lets the inbox and the sender finish.
        await bot.runtime.stop()
        await bot.settle()
        assert "Question 1 sur" in fake.last_text(claire)
    assert all(m.status == "sent" for m in await world.outbox())
