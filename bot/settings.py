"""Itinera's configuration: one ``Settings`` object, read once from the environment.

Every variable starts with ``ITINERA_``; README.md has the table. Build it with
``Settings()`` in the CLI and pass it down; nothing else reads the environment.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///itinera.db"
TELEGRAM_API_URL = "https://api.telegram.org"
SLACK_API_URL = "https://slack.com/api/"


class TelegramMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITINERA_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL; a SQLite file in the working directory by default.",
    )
    actor: str | None = Field(
        default=None,
        description="Name recorded in the audit log for CLI actions; the login name by default.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")

    http_host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    http_port: int = Field(default=8080, ge=0, le=65535, description="Port of the web server.")

    telegram_token: SecretStr | None = Field(default=None, description="Telegram bot token.")
    telegram_api_url: str = Field(default=TELEGRAM_API_URL, description="Bot API base URL.")
    telegram_mode: TelegramMode = Field(default=TelegramMode.POLLING)
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token."
    )
    telegram_webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL of /telegram/webhook, registered at start."
    )
    telegram_bot_username: str | None = Field(
        default=None, description="Bot username for invite links; asked of getMe if unset."
    )
    enrolment_code_days: int = Field(
        default=14, ge=1, le=365, description="Days an enrolment code stays valid."
    )

    slack_bot_token: SecretStr | None = Field(default=None, description="Slack bot token xoxb-.")
    slack_signing_secret: SecretStr | None = Field(default=None)
    slack_app_token: SecretStr | None = Field(
        default=None, description="xapp- token: Socket Mode instead of HTTP."
    )
    slack_api_url: str = Field(default=SLACK_API_URL, description="Slack Web API base URL.")

    slack_digest_channel: str | None = Field(
        default=None, description="Slack channel id (C...) where digests are posted."
    )
    telegram_digest_chat: str | None = Field(
        default=None, description="Telegram chat id where digests are posted."
    )
    digest_schedule: str = Field(
        default="mon 08:00",
        description="When the weekly digest goes out: day(s) and time, e.g. 'mon 08:00', "
        "'mon,thu 07:30'.",
    )
    digest_timezone: str = Field(default="Europe/Zurich", description="Timezone of the schedule.")
    digest_folder: str = Field(
        default="digests", description="Folder where digests are written (Markdown, HTML, PNG)."
    )
    digest_classification: str | None = Field(
        default=None,
        description="Confidentiality marking every digest carries, e.g. 'UNHCR internal'; "
        "'Confidential', in the digest's language, when unset.",
    )
    office_hours: str = Field(
        default="09:00-18:00", description="Hours, in each delegate's timezone, for reminders."
    )
    office_days: str = Field(
        default="mon-fri", description="Days, in each delegate's timezone, for reminders."
    )
    tick_seconds: int = Field(
        default=60, ge=5, description="How often the scheduler looks for due work."
    )

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_token is not None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None
