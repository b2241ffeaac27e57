"""What Itinera answers an organiser's command, in the organiser's language, on every channel.

Pure functions from a use case's result (:mod:`surveys.service.organising`) to a
:class:`~surveys.richtext.Reply`; Slack renders it as mrkdwn, Telegram as HTML, the CLI prints
it plain, so the three say the same thing. Commands are written as the channel writes them
(:class:`Syntax`): ``/itinera close 3`` on Slack, ``/close 3`` on Telegram.

Status respects the round's attribution: only a *named* round shows who answered; otherwise each
delegation shows how many of its delegates have submitted, never their names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from surveys import i18n
from surveys.errors import OutOfScopeError
from surveys.records import Attribution, Delegation, ResponseStatus, RoundStatus, StatusLine
from surveys.richtext import Line, Reply, Span, Style, joined
from surveys.service.organising import Closed, Extended, Launched, RoundReport, RoundSummary


@dataclass(frozen=True)
class Syntax:
    """How a channel writes an organiser command: ``prefix`` then the verb and its words."""

    prefix: str
    """``/itinera `` on Slack, ``/`` on Telegram, ``itinera round `` in the terminal."""

    def command(self, words: str, language: str) -> Span:
        """``words`` as a command to type, isolated in a right-to-left language."""
        return Span(i18n.isolated(f"{self.prefix}{words}", language), Style.CODE)


SLACK = Syntax("/itinera ")
TELEGRAM = Syntax("/")

_ROUND_WORDS = {
    RoundStatus.OPEN: "round_open",
    RoundStatus.SCHEDULED: "round_scheduled",
    RoundStatus.CLOSED: "round_closed_word",
}
_HELP = (
    (None, "organiser.help_rounds"),
    ("organiser.synopsis_status", "organiser.help_status"),
    ("organiser.synopsis_launch", "organiser.help_launch"),
    ("organiser.synopsis_close", "organiser.help_close"),
    ("organiser.synopsis_extend", "organiser.help_extend"),
    ("organiser.synopsis_digest", "organiser.help_digest"),
)
"""Each command's synopsis (``None``: just ``rounds``) and what it does."""


def _say(key: str, language: str, *, count: int | None = None, **params: object) -> Line:
    return (Span(i18n.text(key, language, count=count, **params)),)


def _gap(language: str) -> Span:
    """What goes between two sentences: a space, but nothing after a Chinese full stop."""
    return Span("" if i18n.language_of(language) == "zh" else " ")


def _when(moment: datetime, language: str, zone: str) -> str:
    return i18n.moment(moment, language, zone)


def _round_word(status: RoundStatus, language: str) -> str:
    return i18n.text(_ROUND_WORDS[status], language)


# --- the commands -------------------------------------------------------------------------------


def launched(result: Launched, *, language: str) -> Reply:
    round_ = result.round
    return Reply.of(
        _say(
            "round_launched_later" if result.opens_later else "round_launched",
            language,
            id=round_.id,
            survey=round_.survey_id,
            version=result.version.version,
            participants=i18n.text("delegates_count", language, count=result.participants),
            delegations=i18n.text("delegations_count", language, count=result.delegations),
            opens=_when(round_.opens_at, language, result.zone),
            closes=_when(round_.closes_at, language, result.zone),
        )
    )


def closed(result: Closed, *, language: str) -> Reply:
    return Reply.of(_say("closed_round", language, id=result.round.id))


def extended(result: Extended, *, language: str) -> Reply:
    closes = _when(result.round.closes_at, language, result.zone)
    return Reply.of(_say("round_extended", language, id=result.round.id, closes=closes))


def overview(
    summaries: Sequence[RoundSummary], *, language: str, zone: str, now: datetime
) -> Reply:
    """Every round: its title, state, closing time and how far its delegates are."""
    if not summaries:
        return Reply.of(_say("organiser.no_rounds", language))
    lines: list[Line] = [(Span(i18n.text("organiser.rounds_title", language), Style.STRONG),)]
    for summary in summaries:
        round_ = summary.round
        lines.append(
            (
                Span(i18n.text("organiser.round_heading", language, id=round_.id), Style.STRONG),
                Span(" "),
                *_say(
                    "organiser.round_line",
                    language,
                    title=summary.title,
                    status=_round_word(round_.status_at(now), language),
                    closes=_when(round_.closes_at, language, zone),
                ),
            )
        )
        lines.append(
            _say(
                "organiser.round_counts",
                language,
                submitted=i18n.number(summary.submitted, language),
                total=i18n.number(summary.total, language),
                in_progress=i18n.number(
                    summary.counts.get(ResponseStatus.IN_PROGRESS, 0), language
                ),
                not_started=i18n.number(
                    summary.counts.get(ResponseStatus.NOT_STARTED, 0), language
                ),
            )
        )
    return Reply.of(*lines)


def status(report: RoundReport, *, language: str, zone: str, now: datetime) -> Reply:
    """Who has and has not answered, delegation by delegation."""
    round_ = report.round
    total, submitted = report.total, report.submitted
    header = i18n.text(
        "organiser.status_title",
        language,
        id=round_.id,
        title=report.title,
        submitted=i18n.number(submitted, language),
        total=i18n.number(total, language),
        rate=i18n.percent(submitted / total, language) if total else "–",
        status=_round_word(round_.status_at(now), language),
        closes=_when(round_.closes_at, language, zone),
    )
    lines: list[Line] = [(Span(header, Style.STRONG),)]
    named = round_.attribution is Attribution.NAMED
    for delegation, members in _by_delegation(report.lines):
        name = (
            i18n.isolated(f"{delegation.code} {delegation.name}", language)
            if delegation is not None
            else i18n.text("no_delegation", language)
        )
        detail = _people(members, language) if named else _tally(members, language)
        lines.append((Span("• "), Span(name, Style.STRONG), Span(": "), *detail))
    if not named and report.lines:
        lines.extend(((), _say("organiser.names_withheld", language)))
    return Reply.of(*lines)


def _by_delegation(
    lines: Sequence[StatusLine],
) -> list[tuple[Delegation | None, list[StatusLine]]]:
    grouped: dict[str, tuple[Delegation | None, list[StatusLine]]] = {}
    for line in lines:
        code = line.delegation.code if line.delegation is not None else ""
        grouped.setdefault(code, (line.delegation, []))[1].append(line)
    return list(grouped.values())


def _people(members: Sequence[StatusLine], language: str) -> Line:
    return joined(
        (
            (
                Span(i18n.isolated(member.participant.name, language)),
                Span(" – "),
                *_stage(member, language),
            )
            for member in members
        ),
        "; ",
    )


def _stage(line: StatusLine, language: str) -> Line:
    if line.status is ResponseStatus.IN_PROGRESS:
        return _say("organiser.status_in_progress", language, count=line.answered)
    if line.status is ResponseStatus.PARTIAL:
        return _say("organiser.status_partial", language, count=line.answered)
    if line.status is ResponseStatus.SUBMITTED:
        return _say("status_submitted", language)
    return _say("status_not_started", language)


def _tally(members: Sequence[StatusLine], language: str) -> Line:
    done = sum(1 for member in members if member.status is ResponseStatus.SUBMITTED)
    return _say(
        "organiser.delegates_submitted",
        language,
        count=len(members),
        submitted=i18n.number(done, language),
    )


def digest_posted(round_id: int, summary: str, *, language: str) -> Reply:
    return Reply.of(
        _say("organiser.digest_posted", language, id=round_id),
        *(line for line in summary.strip().splitlines()),
        (),
        _say("organiser.digest_sent", language),
    )


def digest_unavailable(round_id: int, *, language: str) -> Reply:
    return Reply.of(
        (
            *_say("organiser.digest_unavailable", language),
            Span(" "),
            Span(i18n.isolated(f"itinera digest {round_id}", language), Style.CODE),
        )
    )


# --- help and refusals --------------------------------------------------------------------------


def help_text(syntax: Syntax, *, language: str) -> Reply:
    lines: list[Line] = [(Span(i18n.text("organiser.help_title", language), Style.STRONG),)]
    for synopsis, key in _HELP:
        words = "rounds" if synopsis is None else i18n.text(synopsis, language)
        lines.append((syntax.command(words, language), Span(" – "), *_say(key, language)))
    lines.extend(((), _say("organiser.help_when", language)))
    return Reply.of(*lines)


def not_organiser(*, language: str) -> Reply:
    return Reply.of(_say("organiser.not_organiser", language))


def outside_scope_text(error: OutOfScopeError, *, language: str) -> str:
    """Why a scoped organiser was refused: the round that asks none of their delegations, or
    what lies outside their regions (every channel says it so)."""
    regions = i18n.listing(error.regions, language)
    if error.round_id is not None:
        return i18n.text(
            "organiser.round_outside_scope", language, id=error.round_id, regions=regions
        )
    outside = i18n.listing(error.outside, language)
    return i18n.text("organiser.outside_scope", language, regions=regions, outside=outside)


def outside_scope(error: OutOfScopeError, *, language: str) -> Reply:
    return Reply.of((Span(outside_scope_text(error, language=language)),))


def no_such_round(round_id: object, syntax: Syntax, *, language: str) -> Reply:
    return Reply.of(
        (
            *_say("organiser.no_such_round", language, id=round_id),
            _gap(language),
            *_say("organiser.see_rounds", language),
            Span(" "),
            syntax.command("rounds", language),
        )
    )


def unreadable(problem: str, syntax: Syntax, *, language: str) -> Reply:
    return Reply.of(
        _say("organiser.command_problem", language, problem=problem.replace("`", "")),
        (*_say("organiser.see_help", language), Span(" "), syntax.command("help", language)),
    )


def failed(problem: str, *, language: str) -> Reply:
    return Reply.of(_say("command_failed", language, problem=problem))
