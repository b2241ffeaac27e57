"""Keeping the configured secrets out of everything Itinera prints or logs.

The secrets are what the settings hold as ``SecretStr`` (the Telegram token and webhook
secret, the Slack bot and app tokens, the signing secret, the metrics token) and the database
password. Every
message made from a settings-derived error goes through :func:`mask`; every log record is
masked as it is made once :func:`mask_logs` ran (``itinera`` does it at start), because
libraries log what they were given (httpx logs each request URL, and a Telegram URL holds the
token).

Example::

    secrets = configured_secrets(settings)
    mask_logs(secrets)
    message = mask(f"cannot ask Telegram ({error})", secrets)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from bot.settings import Settings

MASK = "***"


def database_password(url: str) -> str | None:
    """The password in a database URL (``postgresql+asyncpg://user:password@host/db``), read
    up to the last ``@`` so that one written unencoded (``p@ss/w:rd``) is found whole."""
    _, scheme, rest = url.partition("://")
    credentials, at, _ = rest.rpartition("@")
    if not scheme or not at or ":" not in credentials:
        return None
    return credentials.split(":", 1)[1] or None


def configured_secrets(settings: Settings) -> list[str]:
    """The secret values ``settings`` holds, to keep out of messages and logs."""
    values = [
        settings.telegram.token,
        settings.telegram.webhook_secret,
        settings.slack.bot_token,
        settings.slack.signing_secret,
        settings.slack.app_token,
        settings.metrics_token,
    ]
    found = [value.get_secret_value() for value in values if value is not None]
    password = database_password(settings.database_url)
    if password:
        found.append(password)
    return [value for value in found if value]


def _forms(secret: str) -> set[str]:
    """A secret as it may be written: as is, URL-encoded (a token in a path, a password in a
    URL) and URL-decoded."""
    return {secret, quote(secret, safe=""), quote(secret, safe=":"), unquote(secret)} - {""}


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``***`` (longest first)."""
    forms = {form for secret in secrets for form in _forms(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def redact_url(url: str) -> str:
    """A database URL without its password, for messages."""
    if database_password(url) is None:
        return url
    head, _, rest = url.partition("://")
    credentials, _, tail = rest.rpartition("@")
    return f"{head}://{credentials.split(':', 1)[0]}:{MASK}@{tail}"


class LogMasker:
    """A log record factory that masks the secrets in each record's message, arguments,
    exception and stack texts as the record is made, whichever logger or handler gets it."""

    def __init__(self, base: Any) -> None:
        self._base = base
        self._lock = threading.Lock()
        self.secrets: tuple[str, ...] = ()

    def use(self, secrets: Sequence[str]) -> None:
        with self._lock:
            self.secrets = tuple(dict.fromkeys(secrets))

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self._base(*args, **kwargs)
        secrets = self.secrets
        if not secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it, masked below
            message = str(record.msg)
        masked = mask(message, secrets)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if mask(text, secrets) != text:  # the traceback is kept as text only, masked
                record.exc_text, record.exc_info = mask(text, secrets), None
        if record.stack_info:
            record.stack_info = mask(record.stack_info, secrets)
        return record


def mask_logs(secrets: Sequence[str]) -> LogMasker:
    """Mask ``secrets`` in every log record made from now on (replacing those of an earlier
    call): installs :class:`LogMasker` as the record factory once, then updates it."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, LogMasker):
        factory = LogMasker(factory)
        logging.setLogRecordFactory(factory)
    factory.use(secrets)
    return factory


def masked(text: str) -> str:
    """``text`` masked with the secrets :func:`mask_logs` was last given (for messages made
    where the settings are not at hand, such as the CLI's one error hook)."""
    factory = logging.getLogRecordFactory()
    return mask(text, factory.secrets) if isinstance(factory, LogMasker) else text


__all__ = [
    "MASK",
    "LogMasker",
    "configured_secrets",
    "database_password",
    "mask",
    "mask_logs",
    "masked",
    "redact_url",
]
