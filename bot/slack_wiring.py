"""Building the Slack channel from the settings: Web API client, Bolt app, listeners, runtime."""

from __future__ import annotations

import logging

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings
from handlers.slack.messenger import SlackMessenger
from handlers.slack.runtime import SlackRuntime, create_app
from handlers.slack.services import (
    DEFAULT_INBOX_TIMEOUT,
    ConfigurationError,
    SlackRepositories,
    SlackServices,
)
from surveys.ports import Clock, DigestService
from surveys.service.answering import Conversation

log = logging.getLogger("itinera")

RATE_LIMIT_RETRIES = 3


def build_client(settings: Settings) -> AsyncWebClient:
    """The Web API client: rate limits (429 + Retry-After) and dropped connections retried."""
    if settings.slack_bot_token is None:
        raise ConfigurationError("ITINERA_SLACK_BOT_TOKEN is not set")
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )


def build_slack(
    settings: Settings,
    store: SlackRepositories,
    conversation: Conversation,
    clock: Clock,
    *,
    inbox_timeout: float = DEFAULT_INBOX_TIMEOUT,
    digests: DigestService | None = None,
) -> SlackRuntime:
    """The Slack runtime: HTTP events at /slack/events, or Socket Mode with an app token."""
    client = build_client(settings)
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    )
    if app_token is None and signing_secret is None:
        raise ConfigurationError(
            "Slack over HTTP needs ITINERA_SLACK_SIGNING_SECRET "
            "(or set ITINERA_SLACK_APP_TOKEN for Socket Mode)"
        )
    services = SlackServices(
        repos=store,
        conversation=conversation,
        client=client,
        clock=clock,
        inbox_timeout=inbox_timeout,
        digest_channel=settings.slack_digest_channel,
        digests=digests,
    )
    socket_mode = app_token is not None
    app = create_app(
        services,
        signing_secret=signing_secret,
        socket_mode=socket_mode,
    )
    runtime = SlackRuntime(app=app, services=services, app_token=app_token)
    log.info("%s", runtime.describe())
    return runtime


def build_slack_messenger(runtime: SlackRuntime) -> SlackMessenger:
    """The Messenger that invitations, reminders and digests use on Slack."""
    return runtime.messenger
