"""App Home: each delegate's open rounds with their progress, each organiser's rounds with counts.

The views are drawn by pure functions from what the core gives: a delegate's open rounds
(:func:`surveys.service.delegates.my_rounds`), or every round with its counts for an organiser
(:func:`surveys.service.organising.overview`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from handlers.slack import blocks, texts
from handlers.slack.errors import RenderError
from handlers.slack.mrkdwn import escape
from surveys import i18n
from surveys.records import ResponseStatus, RoundStatus
from surveys.service.delegates import MyRound
from surveys.service.organising import RoundSummary

MAX_HOME_BLOCKS = 100
MAX_HOME_ROUNDS = 30
"""Rounds listed at most (each takes up to three blocks); the newest first."""


def stranger_home() -> dict[str, Any]:
    """The Home tab of someone the roster does not know."""
    return _home(blocks.sections(texts.text("not_registered", "en")))


def delegate_home(rows: Sequence[MyRound], *, language: str, timezone: str) -> dict[str, Any]:
    """A delegate's Home tab: one section per open round, with an "Open" button."""
    out: list[blocks.Block] = [
        {"type": "header", "text": blocks.plain(texts.text("home_title", language), 150)}
    ]
    if not rows:
        out.extend(blocks.sections(texts.text("no_open_round", language)))
    for row in rows[:MAX_HOME_ROUNDS]:
        progress = texts.text("home_progress", language, answered=row.answered, count=row.total)
        state = texts.text(f"status_{row.response.status.value}", language)
        when = i18n.moment(row.round.closes_at, language, timezone)
        closes = texts.text("home_closes", language, when=when)
        body = f"*{escape(row.title)}*\n{progress} · {state}\n{closes}"
        out.append(
            {
                "type": "section",
                "block_id": f"home|{row.round.id}",
                "text": {"type": "mrkdwn", "text": blocks.clip(body, blocks.MAX_SECTION_TEXT)},
                "accessory": blocks.button(
                    texts.text("button_open", language),
                    blocks.ACTION_OPEN,
                    value=str(row.round.id),
                    style="primary",
                ),
            }
        )
    return _home(out)


def organiser_home(
    rows: Sequence[RoundSummary], *, now: datetime, language: str, timezone: str
) -> dict[str, Any]:
    """An organiser's Home tab: every round with its live response counts."""
    out: list[blocks.Block] = [
        {"type": "header", "text": blocks.plain(texts.text("home_rounds", language), 150)}
    ]
    if not rows:
        out.extend(blocks.sections(texts.text("home_no_rounds", language)))
    newest = sorted(rows, key=lambda row: row.round.id, reverse=True)
    for row in newest[:MAX_HOME_ROUNDS]:
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
        status = texts.text(_ROUND_WORDS[row.round.status_at(now)], language)
        closes = texts.text(
            "home_closes", language, when=i18n.moment(row.round.closes_at, language, timezone)
        )
        body = (
            f"*{row.round.id} · {escape(row.title)}* ({status})\n"
            f"{escape(str(row.round.audience))} · {closes}\n{line}"
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
        raise RenderError(f"{len(out)} blocks exceed Slack's {MAX_HOME_BLOCKS} on Home")
    return {"type": "home", "blocks": out}
