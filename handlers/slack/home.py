"""App Home: each delegate's open rounds with their progress, each organiser's rounds with counts.

The views are drawn by pure functions (:func:`delegate_home`, :func:`organiser_home`) from
plain rows; :func:`publish_home` gathers the rows and calls ``views.publish`` when a person
opens the Home tab.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.slack import blocks, texts
from handlers.slack.services import SlackServices
from surveys import engine, i18n
from surveys.definition import Survey
from surveys.records import ResponseStatus, Role, Round, RoundStatus

MAX_HOME_BLOCKS = 100
MAX_HOME_ROUNDS = 30
"""Rounds listed at most (each takes up to three blocks); the newest first."""


@dataclass(frozen=True)
class DelegateRound:
    round_id: int
    title: str
    status: ResponseStatus
    answered: int
    total: int
    closes_at: datetime


@dataclass(frozen=True)
class OrganiserRound:
    round: Round
    title: str
    status: RoundStatus
    counts: dict[ResponseStatus, int]


def delegate_home(rows: Sequence[DelegateRound], *, language: str, timezone: str) -> dict[str, Any]:
    """A delegate's Home tab: one section per open round, with an "Open" button."""
    out: list[blocks.Block] = [
        {"type": "header", "text": blocks.plain(texts.text("home_title", language), 150)}
    ]
    if not rows:
        out.extend(blocks.sections(texts.text("no_open_round", language)))
    for row in rows[:MAX_HOME_ROUNDS]:
        progress = texts.text("home_progress", language, answered=row.answered, count=row.total)
        state = texts.text(f"status_{row.status.value}", language)
        when = i18n.moment(row.closes_at, language, timezone)
        closes = texts.text("home_closes", language, when=when)
        body = f"*{blocks.escape(row.title)}*\n{progress} · {state}\n{closes}"
        out.append(
            {
                "type": "section",
                "block_id": f"home|{row.round_id}",
                "text": {"type": "mrkdwn", "text": blocks.clip(body, blocks.MAX_SECTION_TEXT)},
                "accessory": blocks.button(
                    texts.text("button_open", language),
                    blocks.ACTION_OPEN,
                    value=str(row.round_id),
                    style="primary",
                ),
            }
        )
    return _home(out)


def organiser_home(
    rows: Sequence[OrganiserRound], *, language: str, timezone: str
) -> dict[str, Any]:
    """An organiser's Home tab: every round with its live response counts."""
    out: list[blocks.Block] = [
        {"type": "header", "text": blocks.plain(texts.text("home_rounds", language), 150)}
    ]
    if not rows:
        out.extend(blocks.sections(texts.text("home_no_rounds", language)))
    for row in rows[:MAX_HOME_ROUNDS]:
        counts = row.counts
        total = sum(counts.values())
        line = texts.text(
            "home_counts",
            language,
            submitted=counts.get(ResponseStatus.SUBMITTED, 0),
            total=total,
            in_progress=counts.get(ResponseStatus.IN_PROGRESS, 0),
            not_started=counts.get(ResponseStatus.NOT_STARTED, 0),
        )
        status = texts.text(_ROUND_WORDS[row.status], language)
        closes = texts.text(
            "home_closes", language, when=blocks.format_when(row.round.closes_at, timezone)
        )
        body = (
            f"*{row.round.id} · {blocks.escape(row.title)}* ({status})\n"
            f"{blocks.escape(str(row.round.audience))} · {closes}\n{line}"
        )
        out.extend(blocks.sections(body))
        out.append({"type": "divider"})
    return _home(out)


_ROUND_WORDS = {
    RoundStatus.OPEN: "round_open",
    RoundStatus.SCHEDULED: "round_scheduled",
    RoundStatus.CLOSED: "round_closed_word",
}


def _home(out: list[blocks.Block]) -> dict[str, Any]:
    if len(out) > MAX_HOME_BLOCKS:
        raise blocks.RenderError(f"{len(out)} blocks exceed Slack's {MAX_HOME_BLOCKS} on Home")
    return {"type": "home", "blocks": out}


def progress(survey: Survey, answers: engine.Answers) -> tuple[int, int]:
    """How many of the questions that apply now are answered, and how many apply."""
    asking = engine.relevant_questions(survey, answers)
    return sum(1 for question in asking if question.id in answers), len(asking)


async def publish_home(services: SlackServices, user_id: str) -> None:
    """Draw and publish the Home tab of ``user_id``."""
    participant = await services.identities.participant_for(user_id)
    if participant is None:
        view = _home(blocks.sections(texts.text("not_registered", "en")))
    elif participant.role is Role.ORGANISER:
        view = organiser_home(
            await _organiser_rows(services),
            language=participant.language,
            timezone=participant.timezone,
        )
    else:
        view = delegate_home(
            await _delegate_rows(services, participant.id, participant.language),
            language=participant.language,
            timezone=participant.timezone,
        )
    await services.client.views_publish(user_id=user_id, view=view)


async def _survey(services: SlackServices, cache: dict[int, Survey], version_id: int) -> Survey:
    if version_id not in cache:
        cache[version_id] = (await services.repos.surveys.get_version(version_id)).definition
    return cache[version_id]


async def _delegate_rows(
    services: SlackServices, participant_id: int, language: str
) -> list[DelegateRound]:
    now = services.clock.now()
    cache: dict[int, Survey] = {}
    rows = []
    for round_, response in await services.repos.identities.participations(participant_id):
        if round_.status_at(now) is not RoundStatus.OPEN:
            continue
        survey = await _survey(services, cache, round_.survey_version_id)
        answered, total = progress(survey, response.state.answers)
        rows.append(
            DelegateRound(
                round_id=round_.id,
                title=survey.title_in(survey.language_for(language)),
                status=response.status,
                answered=answered,
                total=total,
                closes_at=round_.closes_at,
            )
        )
    return rows


async def _organiser_rows(services: SlackServices) -> list[OrganiserRound]:
    now = services.clock.now()
    cache: dict[int, Survey] = {}
    rounds = sorted(await services.repos.rounds.list_rounds(), key=lambda r: r.id, reverse=True)
    rows = []
    for round_ in rounds[:MAX_HOME_ROUNDS]:
        survey = await _survey(services, cache, round_.survey_version_id)
        rows.append(
            OrganiserRound(
                round=round_,
                title=survey.title_in(survey.default_language),
                status=round_.status_at(now),
                counts=await services.repos.rounds.counts(round_.id),
            )
        )
    return rows
