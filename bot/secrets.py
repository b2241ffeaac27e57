"""Keeping the configured secrets out of every message Itinera prints or logs.

:func:`mask` replaces each secret the settings hold (bot tokens, signing and webhook secrets,
the metrics token, the database password) with ``***`` in a text, for the errors that quote
what a library said (a refused token appears in the URL Telegram's client reports).
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from bot.settings import Settings


def secrets_of(settings: Settings) -> list[str]:
    """The configured secret values, longest first (so that one never hides part of another)."""
    values = [
        settings.telegram.token,
        settings.telegram.webhook_secret,
        settings.slack.bot_token,
        settings.slack.signing_secret,
        settings.slack.app_token,
        settings.metrics_token,
    ]
    found = [value.get_secret_value() for value in values if value is not None]
    try:
        password = make_url(settings.database_url).password
    except Exception:
        password = None
    if password:
        found.append(str(password))
    return sorted({value for value in found if value}, key=len, reverse=True)


def mask(text: str, settings: Settings) -> str:
    """``text`` with every configured secret replaced by ``***``."""
    for secret in secrets_of(settings):
        text = text.replace(secret, "***")
    return text


__all__ = ["mask", "secrets_of"]
