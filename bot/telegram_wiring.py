"""Builds the Telegram channel from the settings: the bot, its application, the runtime.

All Bot API calls go to ``ITINERA_TELEGRAM_API_URL`` (Telegram's by default; tests and the demo
point it at :mod:`bot.fakes.telegram_api`).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.settings import Settings, TelegramMode
from handlers.telegram.delivery import Sleep
from handlers.telegram.errors import ConfigurationError
from handlers.telegram.messenger import digest_chat
from handlers.telegram.runtime import TelegramRuntime
from handlers.telegram.services import TelegramRepositories
from surveys.ports import Clock, DigestService
from surveys.service.answering import Conversation

log = logging.getLogger("itinera.telegram")

SECRET_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def api_urls(settings: Settings) -> tuple[str, str]:
    """PTB's ``base_url`` and ``base_file_url`` for the configured Bot API."""
    api = settings.telegram_api_url.rstrip("/")
    return f"{api}/bot", f"{api}/file/bot"


def make_bot(settings: Settings, *, read_timeout: float = 15.0, pool_size: int = 32) -> Bot:
    """A plain Bot on the configured API (for getMe, invites, the poller)."""
    token = _token(settings)
    base_url, base_file_url = api_urls(settings)
    quiet_request_logs()
    request = HTTPXRequest(
        connection_pool_size=pool_size, read_timeout=read_timeout, connect_timeout=10.0
    )
    return Bot(token, base_url=base_url, base_file_url=base_file_url, request=request)


def build_telegram(
    settings: Settings,
    store: TelegramRepositories,
    conversation: Conversation,
    clock: Clock,
    *,
    sleep: Sleep | None = None,
    poll_timeout: int = 30,
    digests: DigestService | None = None,
) -> TelegramRuntime:
    """The Telegram runtime for the configured mode; logs which mode it runs in.

    ``sleep`` replaces ``asyncio.sleep`` when waiting out Telegram's 429s (tests pass one that
    returns at once); ``poll_timeout`` is the long-polling timeout in seconds; ``digests``
    makes the digest an organiser asks for with ``/digest`` (None: the command says it is not
    available).
    """
    token = _token(settings)
    base_url, base_file_url = api_urls(settings)
    quiet_request_logs()
    application: Application[Any, Any, Any, Any, Any, Any] = (
        Application.builder()
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url)
        .request(HTTPXRequest(connection_pool_size=32, read_timeout=15.0, connect_timeout=10.0))
        .updater(None)
        .job_queue(None)
        .build()
    )
    webhook = settings.telegram_mode is TelegramMode.WEBHOOK
    secret = _secret(settings) if webhook else None
    poll_bot = None if webhook else make_bot(settings, read_timeout=10.0, pool_size=1)
    runtime = TelegramRuntime(
        application=application,
        repos=store,
        conversation=conversation,
        clock=clock,
        webhook=webhook,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret,
        poll_bot=poll_bot,
        poll_timeout=poll_timeout,
        sleep=sleep,
        digest_chat=digest_chat(settings.telegram_digest_chat),
        digests=digests,
    )
    log.info("%s", runtime.describe())
    return runtime


def quiet_request_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs carry the bot token: keep it
    out of the logs unless someone asked for httpx's logs on purpose."""
    httpx_log = logging.getLogger("httpx")
    if httpx_log.level == logging.NOTSET:
        httpx_log.setLevel(logging.WARNING)


def _token(settings: Settings) -> str:
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
        raise ConfigurationError("ITINERA_TELEGRAM_TOKEN", "is not set")
    return settings.telegram_token.get_secret_value()


def _secret(settings: Settings) -> str:
    secret = (
        settings.telegram_webhook_secret.get_secret_value()
        if settings.telegram_webhook_secret is not None
        else ""
    )
    if not secret:
        raise ConfigurationError(
            "ITINERA_TELEGRAM_WEBHOOK_SECRET", "webhook mode needs a secret (1-256 of A-Za-z0-9_-)"
        )
    if len(secret) > 256 or not set(secret) <= SECRET_ALPHABET:
        raise ConfigurationError(
            "ITINERA_TELEGRAM_WEBHOOK_SECRET", "must be 1-256 characters of A-Za-z0-9_-"
        )
    return secret
