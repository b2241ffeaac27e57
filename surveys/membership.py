"""Who belongs where: the roster rules every store applies the same way.

Emails are the roster's natural key (compared lower-cased); a roster file cannot name a person
or a Slack account twice; an audience names delegates (never organiser) by region, tag or
delegation. Pure functions, so the SQL and in-memory stores agree.
"""

from __future__ import annotations

from collections.abc import Sequence

from surveys.errors import Problem
from surveys.records import Audience, Delegation, Participant, ParticipantData, Role


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
