"""A round's lifecycle rules: its reminder policy, and when it may be extended.

Pure functions over the core's records, applied by every store and by the use cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from surveys.errors import RoundError
from surveys.records import utc


def reminder_policy(minutes: Sequence[int]) -> tuple[int, ...]:
    """A round's reminder policy as stored: distinct positive minutes, largest first.

    Raises :class:`RoundError` for anything but positive whole numbers of minutes.
    """
    wrong = [m for m in minutes if isinstance(m, bool) or not isinstance(m, int) or m <= 0]
    if wrong:
        raise RoundError(
            f"reminder policy {list(minutes)!r}: use positive whole numbers of minutes before "
            f"closing (not {wrong[0]!r})"
        )
    return tuple(sorted(set(minutes), reverse=True))


def closed_round(round_id: int, closed_at: datetime) -> RoundError:
    return RoundError(
        f"round {round_id} was closed at {closed_at:%Y-%m-%d %H:%M} UTC and cannot be extended"
    )


def closed_by_time(closed_at: datetime, closes_at: datetime) -> bool:
    """Whether a round was closed at (or after) its closing time, not early by an organiser."""
    return utc(closed_at) >= utc(closes_at)


def extension_problem(
    round_id: int, *, opens_at: datetime, closes_at: datetime, now: datetime
) -> RoundError | None:
    """Why a (not closed) round cannot close at ``closes_at`` instead, if it cannot."""
    if closes_at <= now:
        return RoundError(
            f"round {round_id}: the new closing time {closes_at:%Y-%m-%d %H:%M} UTC "
            "is not in the future"
        )
    if closes_at <= opens_at:
        return RoundError(
            f"round {round_id}: the new closing time {closes_at:%Y-%m-%d %H:%M} UTC "
            f"is not after its opening time {opens_at:%Y-%m-%d %H:%M} UTC"
        )
    return None
