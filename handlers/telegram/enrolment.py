"""One-time enrolment codes: how a Telegram user becomes a known participant.

Telegram does not say who a user is, so organisers hand each participant a personal deep link
``https://t.me/<bot>?start=<code>``. The code is 32 characters of ``A-Za-z0-9_-`` (192 random
bits), usable once and until it expires; only its SHA-256 is stored, so a database leak gives
nobody a working link.

Example::

    issued = await issue_code(store.enrolments, participant_id=7, bot_username="itinera_bot",
                              now=now, days=14)
    print(issued.link)      # https://t.me/itinera_bot?start=Xy3...
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from surveys.ports import EnrolmentRepository
from surveys.records import Channel

CODE_BYTES = 24
"""Random bytes per code: 32 characters once encoded, well within Telegram's 64."""


@dataclass(frozen=True)
class IssuedCode:
    participant_id: int
    code: str
    link: str
    expires_at: datetime


def new_code() -> str:
    """A fresh high-entropy code of 32 characters from ``A-Za-z0-9_-``."""
    return secrets.token_urlsafe(CODE_BYTES)


def code_hash(code: str) -> str:
    """What is stored and looked up instead of the code."""
    return hashlib.sha256(code.encode()).hexdigest()


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


async def issue_code(
    enrolments: EnrolmentRepository,
    *,
    participant_id: int,
    bot_username: str,
    now: datetime,
    days: int,
) -> IssuedCode:
    """Store a new code for the participant (earlier unused ones stop working) and return it."""
    code = new_code()
    expires_at = now + timedelta(days=days)
    await enrolments.issue(
        participant_id=participant_id,
        channel=Channel.TELEGRAM.value,
        code_hash=code_hash(code),
        expires_at=expires_at,
        now=now,
    )
    return IssuedCode(participant_id, code, deep_link(bot_username, code), expires_at)
