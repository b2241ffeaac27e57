"""Itinera's configuration: one ``Settings`` object, read once from the environment.

Every variable starts with ``ITINERA_``; README.md has the table. The settings come in groups
(``settings.slack.bot_token`` is ``ITINERA_SLACK_BOT_TOKEN``), and every value is checked when
they are read, so a wrong one stops the program at once with one line naming the variable and
what it accepts (:func:`describe_errors`), never later and never as a traceback. Build them
with :func:`load_settings` in the CLI and pass them down; nothing else reads the environment.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from surveys.errors import ItineraError
from surveys.reminders import DAY_NAMES, OfficeHours, parse_days

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///itinera.db"
TELEGRAM_API_URL = "https://api.telegram.org"
SLACK_API_URL = "https://slack.com/api/"
PREFIX = "ITINERA_"

_SECRET_ALPHABET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_SCHEDULE_USAGE = "use day(s) and a time, e.g. 'mon 08:00', 'mon,thu 07:30' or 'mon-fri 09:00'"


class TelegramMode(StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Role(StrEnum):
    """What an ``itinera run`` process does, for users who split them across machines."""

    ALL = "all"
    """Everything: serve webhooks, apply events, send, and (as leader) schedule and poll."""
    WEB = "web"
    """Serve webhooks (applying what arrives at once) and send; no scheduler, no polling."""
    WORKER = "worker"
    """Apply stored events, send, and (as leader) schedule and poll; no web server but
    ``/healthz`` and ``/metrics``."""


class _Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HttpSettings(_Group):
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port of the web server.")


class TelegramSettings(_Group):
    token: SecretStr | None = Field(default=None, description="Telegram bot token.")
    api_url: str = Field(default=TELEGRAM_API_URL, description="Bot API base URL.")
    mode: TelegramMode = Field(default=TelegramMode.POLLING)
    webhook_secret: SecretStr | None = Field(
        default=None, description="Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token."
    )
    webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL of /telegram/webhook, registered at start."
    )
    bot_username: str | None = Field(
        default=None, description="Bot username for invite links; asked of getMe if unset."
    )
    digest_chat: str | None = Field(
        default=None, description="Telegram chat id where digests are posted."
    )

    @field_validator("webhook_secret")
    @classmethod
    def _secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_ALPHABET.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Za-z0-9_-")
        return value

    @property
    def enabled(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value())


class SlackSettings(_Group):
    bot_token: SecretStr | None = Field(default=None, description="Slack bot token xoxb-.")
    signing_secret: SecretStr | None = Field(default=None)
    app_token: SecretStr | None = Field(
        default=None, description="xapp- token: Socket Mode instead of HTTP."
    )
    api_url: str = Field(default=SLACK_API_URL, description="Slack Web API base URL.")
    digest_channel: str | None = Field(
        default=None, description="Slack channel id (C...) where digests are posted."
    )

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None and bool(self.bot_token.get_secret_value())


class DigestSettings(_Group):
    schedule: str = Field(
        default="mon 08:00",
        description="When the weekly digest goes out: day(s) and time, e.g. 'mon 08:00'.",
    )
    timezone: str = Field(default="Europe/Zurich", description="Timezone of the schedule.")
    folder: str = Field(
        default="digests", description="Folder where digests are written (Markdown, HTML, PNG)."
    )
    classification: str | None = Field(
        default=None,
        description="Confidentiality marking every digest carries, e.g. 'UNHCR internal'.",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _zone_name(value)


class OfficeSettings(_Group):
    hours: str = Field(
        default="09:00-18:00", description="Hours, in each delegate's timezone, for reminders."
    )
    days: str = Field(
        default="mon-fri", description="Days, in each delegate's timezone, for reminders."
    )

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        OfficeHours.parse(value, "mon-fri")
        return value

    @property
    def parsed(self) -> OfficeHours:
        return OfficeHours.parse(self.hours, self.days)


RETENTION_DEFAULT_DAYS = 180
"""Raw bodies are kept half a year by default: long enough to look into a round's problems
after it closed, no longer than that is useful."""
_OFF = ("", "0", "off", "none", "never")


class RetentionSettings(_Group):
    days: int | None = Field(
        default=RETENTION_DEFAULT_DAYS,
        ge=1,
        le=36_500,
        description="Days raw inbound events and sent outbound bodies are kept; off: forever.",
    )

    @field_validator("days", mode="before")
    @classmethod
    def _off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in _OFF:
            return None
        if isinstance(value, str) and not value.strip().isdigit():
            raise ValueError("use a number of days from 1 to 36500, or off")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
        frozen=True,
    )

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL; a SQLite file in the working directory by default.",
    )
    database_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="How long one statement may take on PostgreSQL: past it, it fails, is "
        "tried again on a fresh connection, and a connection that stalled (a network path that "
        "died without a word) is replaced instead of holding its work for ever.",
    )
    actor: str | None = Field(
        default=None,
        description="Name recorded in the audit log for CLI actions; the login name by default.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    role: Role = Field(default=Role.ALL, description="What `itinera run` does: all, web, worker.")
    tick_seconds: int = Field(
        default=60, ge=5, le=3600, description="How often the scheduler looks for due work."
    )
    claim_lease_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="How long a claimed inbound event or outbound message is its process's: "
        "after a crash, another process (or this one restarted) takes it over after this.",
    )
    leader_lease_seconds: int | None = Field(
        default=None,
        ge=2,
        le=3600,
        description="How long the scheduler's leader lease lasts without renewal: after the "
        "leader dies, another process (or this one restarted) leads after this; by default "
        "three ticks, at least 30 s. Keep it longer than a tick, or two replicas take turns.",
    )
    enrolment_code_days: int = Field(
        default=14, ge=1, le=365, description="Days an enrolment code stays valid."
    )
    min_group: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="In anonymous rounds, the fewest responses a digest figure may cover; "
        "smaller breakdowns are not shown.",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token /metrics asks for; open on loopback if unset."
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    office: OfficeSettings = Field(default_factory=OfficeSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @field_validator("leader_lease_seconds")
    @classmethod
    def _longer_than_a_tick(cls, value: int | None, info: ValidationInfo) -> int | None:
        tick = info.data.get("tick_seconds")
        if value is not None and isinstance(tick, int) and value <= tick:
            # The leader renews at each tick: a shorter lease runs out between two renewals
            # and another live replica takes it, so the replicas take turns.
            raise ValueError(f"must be longer than ITINERA_TICK_SECONDS ({tick})")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level


GROUPS: dict[str, type[_Group]] = {
    "http": HttpSettings,
    "telegram": TelegramSettings,
    "slack": SlackSettings,
    "digest": DigestSettings,
    "office": OfficeSettings,
    "retention": RetentionSettings,
}


def grouped(values: dict[str, Any]) -> dict[str, Any]:
    """Values named as the environment names them (``slack_bot_token``) put in their groups
    (``{"slack": {"bot_token": ...}}``), for building settings in code and tests."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        group, _, field = name.partition("_")
        model = GROUPS.get(group)
        if model is not None and field in model.model_fields:
            out.setdefault(group, {})[field] = value
        else:
            out[name] = value
    return out


class SettingsError(ItineraError):
    """The environment holds values that cannot be used; the message has one line per value."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment (``overrides``, named as the environment names
    them, win); a bad value raises :class:`SettingsError` naming each variable and what it
    accepts."""
    try:
        return Settings(**grouped(overrides))
    except ValidationError as error:
        raise SettingsError(describe_errors(error)) from None


def describe_errors(error: ValidationError) -> str:
    """One line per wrong value: the variable, what it accepts, and what it was (not for
    secrets)."""
    lines = []
    for problem in error.errors():
        where = [str(part) for part in problem.get("loc", ()) if isinstance(part, str)]
        variable = PREFIX + "_".join(where).upper()
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        given = problem.get("input")
        secret = any(name in variable for name in ("TOKEN", "SECRET", "PASSWORD"))
        shown = "" if secret or isinstance(given, dict) else f" (got {given!r})"
        lines.append(f"{variable}: {message}{shown}")
    return "\n".join(lines)


# --- values with a form -------------------------------------------------------------------------


def _zone_name(value: str) -> str:
    try:
        return ZoneInfo(value).key
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA timezone like Europe/Zurich") from None


class DigestSchedule(BaseModel):
    """When the weekly digest goes out: days of the week and a time of day."""

    model_config = ConfigDict(frozen=True)

    days: tuple[int, ...]
    """Weekdays, 0 = Monday."""
    hour: int
    minute: int

    @property
    def day_of_week(self) -> str:
        """The days as APScheduler's cron ``day_of_week`` (``"mon,thu"``)."""
        return ",".join(DAY_NAMES[day] for day in self.days)

    def __str__(self) -> str:
        return f"{self.day_of_week} {self.hour:02d}:{self.minute:02d}"


def parse_schedule(text: str) -> DigestSchedule:
    """``"mon 08:00"``, ``"mon,thu 07:30"``, ``"mon-fri 09:00"``; raises ``ValueError``."""
    parts = text.split()
    if len(parts) != 2:
        raise ValueError(f"digest schedule {text!r}: {_SCHEDULE_USAGE}")
    days_text, time_text = parts
    days = parse_days(days_text, what="digest schedule")
    found = _TIME.match(time_text)
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        raise ValueError(
            f"digest schedule {text!r}: {time_text!r} is not a time like 08:00; {_SCHEDULE_USAGE}"
        )
    return DigestSchedule(days=tuple(sorted(days)), hour=int(found[1]), minute=int(found[2]))


__all__ = [
    "DEFAULT_DATABASE_URL",
    "RETENTION_DEFAULT_DAYS",
    "DigestSchedule",
    "DigestSettings",
    "HttpSettings",
    "OfficeSettings",
    "RetentionSettings",
    "Role",
    "Settings",
    "SettingsError",
    "SlackSettings",
    "TelegramMode",
    "TelegramSettings",
    "describe_errors",
    "grouped",
    "load_settings",
    "parse_schedule",
]
