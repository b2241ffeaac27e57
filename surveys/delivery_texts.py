"""Invitations, reminders and closing notices: their texts are in :mod:`surveys.i18n`.

This module keeps the names :mod:`surveys.delivery` calls; dates are written by Babel in the
delegate's language and timezone (:func:`moment`).

Example::

    text("invitation", "fr", name="Claire Dubois", title="…", duration="…", closes="…")
"""

from __future__ import annotations

from surveys import i18n

SECONDS_PER_QUESTION = 30
"""For the estimate of how long a survey takes (rounded up to 5 minutes)."""

text = i18n.text
moment = i18n.moment
language_of = i18n.language_of


def estimated_minutes(questions: int) -> int:
    """How long ``questions`` questions take, rounded up to 5 minutes (at least 5)."""
    seconds = questions * SECONDS_PER_QUESTION
    fives = -(-seconds // (5 * 60))
    return max(5, fives * 5)


def duration(minutes: int, language: str) -> str:
    """``about 10 minutes`` in ``language``, in the plural form its rules ask for."""
    return text("duration", language, count=minutes)


__all__ = ["duration", "estimated_minutes", "language_of", "moment", "text"]
