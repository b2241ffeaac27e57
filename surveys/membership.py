"""Who belongs where: the roster rules every store applies the same way.

Emails are the roster's natural key (compared lower-cased); a roster file cannot name a person
or a Slack account twice; an audience names delegates (never organiser) by region, tag or
delegation. Pure functions, so the SQL and in-memory stores agree.
"""

from __future__ import annotations

import difflib
import unicodedata
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


def audience_problems(
    audience: Audience, delegations: Sequence[Delegation], participants: Sequence[Participant]
) -> list[str]:
    """What in ``audience`` names nobody in the roster, each with a "did you mean" when a known
    code, region or tag is close: an ISO code no delegation has (or whose delegation has no
    delegate), a region no delegation is in, a tag no participant carries. Text compares
    ignore case, as :func:`in_audience` does."""
    match audience.kind:
        case "delegations":
            return _unknown_codes(audience.values, delegations, participants)
        case "region":
            regions = [delegation.region for delegation in delegations if delegation.region]
            return [
                f"no delegation is in region {value!r}{_quoted_guesses(value, regions)}"
                for value in audience.values
                if value.casefold() not in {region.casefold() for region in regions}
            ]
        case "tag":
            tags = [tag for participant in participants for tag in participant.tags]
            return [
                f"no participant carries tag {value!r}{_quoted_guesses(value, tags)}"
                for value in audience.values
                if value.casefold() not in {tag.casefold() for tag in tags}
            ]
    return []


def _unknown_codes(
    codes: Sequence[str], delegations: Sequence[Delegation], participants: Sequence[Participant]
) -> list[str]:
    known = {delegation.code.upper(): delegation for delegation in delegations}
    staffed = {
        (participant.delegation or "").upper()
        for participant in participants
        if participant.role is Role.DELEGATE
    }
    problems = []
    for code in codes:
        wanted = code.upper()
        if wanted in known and wanted in staffed:
            continue
        if wanted in known:
            problems.append(f"delegation {wanted} has no delegate in the roster")
            continue
        by_name = [
            d.code
            for d in delegations
            if d.code.upper() in staffed and _fold(d.name).startswith(_fold(wanted))
        ]
        by_code = _close(wanted, [d.code for d in delegations if d.code.upper() in staffed])
        guesses = list(dict.fromkeys(by_name + by_code))[:3]
        named = [f"{guess} ({known[guess.upper()].name})" for guess in guesses]
        problems.append(f"no delegation {wanted} in the roster{_did_you_mean(named)}")
    return problems


def _fold(text: str) -> str:
    """Case and accents ignored: ``Côte`` matches ``cote``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _close(value: str, known: Sequence[str]) -> list[str]:
    """Up to three of ``known`` that ``value`` is probably a typo or a part of, best first."""
    spelled = {_fold(item): item for item in known}
    wanted = _fold(value)
    found = [item for key, item in spelled.items() if wanted and key.startswith(wanted)]
    found += [spelled[key] for key in difflib.get_close_matches(wanted, spelled, n=3, cutoff=0.6)]
    found += [item for key, item in spelled.items() if len(wanted) > 2 and wanted in key]
    return list(dict.fromkeys(found))[:3]


def _quoted_guesses(value: str, known: Sequence[str]) -> str:
    return _did_you_mean([repr(guess) for guess in _close(value, known)])


def _did_you_mean(guesses: Sequence[str]) -> str:
    if not guesses:
        return ""
    if len(guesses) == 1:
        return f" (did you mean {guesses[0]}?)"
    return f" (did you mean {', '.join(guesses[:-1])} or {guesses[-1]}?)"
