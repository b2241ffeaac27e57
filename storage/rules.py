"""Rules both stores share: roster checks, audience membership, sort order, UTC times.

Pure functions over the core's records, so the SQL and in-memory repositories agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from surveys.errors import Problem, RoundError
from surveys.records import (
    AnswerChange,
    Audience,
    Delegation,
    Participant,
    ParticipantData,
    Role,
)


def normalise_email(email: str) -> str:
    """Emails are the roster's natural key, compared and stored lower-cased."""
    return email.strip().lower()


def roster_problems(
    delegations: Sequence[Delegation], participants: Sequence[ParticipantData]
) -> list[Problem]:
    """What makes a roster impossible to import whatever is stored: duplicates within it."""
    problems: list[Problem] = []
    seen_codes: set[str] = set()
    for delegation in delegations:
        if delegation.code in seen_codes:
            problems.append(Problem(f"delegation {delegation.code}", "appears twice"))
        seen_codes.add(delegation.code)
    seen_emails: set[str] = set()
    seen_slack: dict[str, str] = {}
    for person in participants:
        email = normalise_email(person.email)
        if email in seen_emails:
            problems.append(Problem(f"participant {email}", "this email appears twice"))
        seen_emails.add(email)
        if person.slack_user_id:
            other = seen_slack.setdefault(person.slack_user_id, email)
            if other != email:
                problems.append(
                    Problem(
                        f"participant {email}",
                        f"Slack user {person.slack_user_id} is also given to {other}",
                    )
                )
    return problems


def unknown_delegation(email: str, code: str) -> Problem:
    return Problem(f"participant {normalise_email(email)}", f"unknown delegation {code}")


def slack_taken(external_id: str, email: str) -> Problem:
    return Problem(f"Slack user {external_id}", f"already belongs to {email}")


def participant_order(participant: Participant) -> tuple[bool, str, str, int]:
    """Delegation code (none last), then name, then id: by code point, as the SQL store sorts."""
    code = participant.delegation
    return (code is None, code or "", participant.name, participant.id)


def in_audience(
    participant: Participant, audience: Audience, delegations: dict[str, Delegation]
) -> bool:
    """Whether a delegate is in the audience (organisers never are); text compares ignore case."""
    if participant.role is not Role.DELEGATE:
        return False
    values = [value.lower() for value in audience.values]
    match audience.kind:
        case "all":
            return True
        case "region":
            delegation = delegations.get(participant.delegation or "")
            return delegation is not None and delegation.region.lower() in values
        case "tag":
            return any(tag.lower() in values for tag in participant.tags)
        case "delegations":
            return (participant.delegation or "").lower() in values
    raise ValueError(f"unknown audience kind {audience.kind!r}")


def final_changes(changes: Sequence[AnswerChange]) -> dict[str, AnswerChange]:
    """The last change of each question, which decides the stored answer."""
    final: dict[str, AnswerChange] = {}
    for change in changes:
        final.pop(change.question_id, None)
        final[change.question_id] = change
    return final


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


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is refused, as the SQL store refuses it."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: store timezone-aware UTC times")
    return value.astimezone(UTC)
