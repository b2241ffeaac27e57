"""What organisers and delegates do, written once for the CLI and every channel.

Each use case takes the repositories it needs (see :class:`Repositories`), the current time,
and plain values; it checks the request, makes the change and records organiser actions in the
audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from surveys import engine, messages
from surveys.definition import Survey
from surveys.errors import RoundError
from surveys.ports import (
    Repositories,
)
from surveys.records import (
    DEFAULT_REMINDER_POLICY,
    Attribution,
    Audience,
    Response,
    ResponseStatus,
    RosterImportResult,
    Round,
    SurveyVersion,
)
from surveys.roster import Roster


async def import_survey(
    repos: Repositories, survey: Survey, *, now: datetime, actor: str
) -> SurveyVersion:
    version = await repos.surveys.save_version(survey, now=now)
    if version.created:
        await repos.audit.record(
            actor=actor,
            action="survey.import",
            target=f"{survey.id}@{survey.version}",
            details={"version_id": version.id, "hash": version.content_hash},
            now=now,
        )
    return version


async def import_roster(
    repos: Repositories, roster: Roster, *, now: datetime, actor: str
) -> RosterImportResult:
    result = await repos.roster.import_roster(roster.delegations, roster.participants)
    await repos.audit.record(
        actor=actor,
        action="roster.import",
        target="roster",
        details={
            "delegations_created": result.delegations_created,
            "delegations_updated": result.delegations_updated,
            "participants_created": result.participants_created,
            "participants_updated": result.participants_updated,
        },
        now=now,
    )
    return result


@dataclass(frozen=True)
class LaunchedRound:
    round: Round
    version: SurveyVersion
    participant_count: int
    delegation_count: int


async def launch_round(
    repos: Repositories,
    *,
    survey_id: str,
    audience: Audience,
    closes_at: datetime,
    opens_at: datetime | None,
    now: datetime,
    actor: str,
    reminder_policy: Sequence[int] = DEFAULT_REMINDER_POLICY,
    attribution: Attribution = Attribution.DELEGATION,
) -> LaunchedRound:
    """Create a round on the survey's latest version for every delegate in the audience."""
    opens = opens_at or now
    if closes_at <= now:
        raise RoundError(f"the closing time {closes_at:%Y-%m-%d %H:%M %Z} is already past")
    if closes_at <= opens:
        raise RoundError(
            f"the round would close ({closes_at:%Y-%m-%d %H:%M %Z}) before it opens "
            f"({opens:%Y-%m-%d %H:%M %Z})"
        )
    version = await repos.surveys.latest_version(survey_id)
    members = await repos.roster.audience_members(audience)
    if not members:
        raise RoundError(f"audience {audience} names no delegate in the roster")
    created = await repos.rounds.create_round(
        survey_version_id=version.id,
        audience=audience,
        opens_at=opens,
        closes_at=closes_at,
        participant_ids=[member.id for member in members],
        now=now,
        reminder_policy=reminder_policy,
        attribution=attribution,
    )
    await repos.audit.record(
        actor=actor,
        action="round.launch",
        target=f"round {created.id}",
        details={
            "survey": survey_id,
            "version": version.version,
            "audience": str(audience),
            "participants": len(members),
        },
        now=now,
    )
    return LaunchedRound(
        round=created,
        version=version,
        participant_count=len(members),
        delegation_count=len({member.delegation for member in members}),
    )


async def apply_input(
    repos: Repositories,
    *,
    round_id: int,
    participant_id: int,
    action: engine.RawInput | str,
    language: str,
    now: datetime,
    today: date,
) -> tuple[Response, engine.Outcome]:
    """Apply one delegate action (an input, ``"back"``, ``"skip"`` or ``"submit"``) and store it.

    The state is stored before this returns, so whatever a channel acknowledges is kept.
    """
    round_ = await repos.rounds.get_round(round_id)
    if round_.status_at(now).value != "open":
        raise RoundError(f"round {round_id} is not open")
    version = await repos.surveys.get_version(round_.survey_version_id)
    survey = version.definition
    response = await repos.responses.get_response(round_id, participant_id)
    state = response.state if response.state.started else engine.start(survey, today=today)
    outcome: engine.Outcome
    if action == "back":
        outcome = engine.Accepted(engine.back(survey, state, today=today), ())
    elif action == "skip":
        outcome = engine.skip(survey, state, language=language, now=now)
    elif action == "submit":
        if not engine.is_complete(survey, state, today=today):
            return response, engine.Rejected(messages.text("incomplete", language))
        saved = await repos.responses.save_state(
            response.id,
            version=response.version,
            state=state,
            changes=(),
            status=ResponseStatus.SUBMITTED,
            now=now,
        )
        return saved, engine.Accepted(state, ())
    elif isinstance(action, str):
        raise ValueError(f"unknown action {action!r}")
    else:
        outcome = engine.answer(survey, state, action, language=language, today=today, now=now)
    if isinstance(outcome, engine.Rejected):
        return response, outcome
    status = (
        ResponseStatus.SUBMITTED
        if response.status is ResponseStatus.SUBMITTED
        else ResponseStatus.IN_PROGRESS
    )
    saved = await repos.responses.save_state(
        response.id,
        version=response.version,
        state=outcome.state,
        changes=outcome.changes,
        status=status,
        now=now,
    )
    return saved, outcome
