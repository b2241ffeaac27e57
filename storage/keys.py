"""How queue keys are stored: as given, or, past what the column holds, a prefix and a hash.

A platform's id (a Telegram ``callback_query`` id, a Slack ``event_id``) is normally short, but
nothing promises it: a key longer than :data:`KEY_LENGTH` characters is stored as its first
characters, ``#`` and the SHA-256 of the whole key, so that storing it never fails and two long
keys stay distinct. Every store (SQL and in memory) applies it the same way, on the way in and
when looking a key up; records carry the stored form.
"""

from __future__ import annotations

import hashlib

KEY_LENGTH = 200
"""What ``inbound_events.key`` and ``outbound_messages.key`` hold (``String(200)``)."""


def stored_key(key: str) -> str:
    """``key`` itself if it fits, else a prefix of it, ``#`` and its SHA-256 (hex): 200 chars."""
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[: KEY_LENGTH - len(digest) - 1]}#{digest}"


__all__ = ["KEY_LENGTH", "stored_key"]
