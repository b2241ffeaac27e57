"""``/itinera``: organisers list rounds, follow one, launch and close rounds from Slack.

Only organisers may use it (the use cases check); anyone else gets a refusal in their
language. Each command is one call into :mod:`surveys.service.organising`, the same as
Telegram's and the CLI's, made in the transaction of the stored command, so a command replayed
after a crash is not done twice; changes are written to the audit log there. The reply goes
back ephemerally (see :func:`handlers.slack.presenter.reply_message`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handlers.slack import blocks, texts
from handlers.slack.services import CHANNEL, SlackServices
from surveys import commands as grammar
from surveys import i18n
from surveys.errors import ItineraError, NotAllowedError
from surveys.ports import Repositories
from surveys.records import StatusLine
from surveys.service import organising
from surveys.service.actors import Actor

COMMAND = "/itinera"


async def answer(services: SlackServices, store: Repositories, body: Mapping[str, Any]) -> str:
    """The reply (mrkdwn) to one ``/itinera`` command, made in ``store``'s transaction; a
    refusal of the core is answered with what is wrong, never raised."""
    user_id = str(body.get("user_id", ""))
    participant = await services.identities.participant_for(user_id)
    if participant is None:
        return texts.text("not_organiser", "en")
    language = participant.language
    command = grammar.parse_organiser_command(str(body.get("text", "")))
    try:
        return await run(services, store, command, Actor.of(participant, CHANNEL))
    except NotAllowedError:
        return texts.text("not_organiser", language)
    except ItineraError as error:
        return texts.text("command_failed", language, problem=str(error))


async def run(
    services: SlackServices, store: Repositories, command: grammar.Command, actor: Actor
) -> str:
    """The reply (mrkdwn) to ``command`` from ``actor``; core errors propagate."""
    lang = actor.language
    zone = actor.timezone
    now = services.clock.now()
    match command:
        case grammar.Help():
            return texts.text("help", lang)
        case grammar.BadCommand(problem=problem):
            return texts.text("command_unknown", lang, problem=problem)
        case grammar.ListRounds():
            summaries = await organising.overview(store, actor, now=now)
            if not summaries:
                return texts.text("home_no_rounds", lang)
            return "\n".join(
                texts.text(
                    "rounds_line",
                    lang,
                    id=summary.round.id,
                    survey=summary.round.survey_id,
                    audience=blocks.escape(str(summary.round.audience)),
                    status=_round_word(summary.round.status_at(now).value, lang),
                    closes=blocks.format_when(summary.round.closes_at, zone),
                    submitted=summary.submitted,
                    total=summary.total,
                )
                for summary in summaries
            )
        case grammar.RoundStatusCommand(round_id=round_id):
            report = await organising.status(store, actor, round_id)
            round_ = report.round
            total, submitted = report.total, report.submitted
            header = texts.text(
                "status_header",
                lang,
                id=round_.id,
                survey=round_.survey_id,
                status=_round_word(round_.status_at(now).value, lang),
                closes=blocks.format_when(round_.closes_at, zone),
                submitted=submitted,
                total=total,
                rate=i18n.percent(submitted / total, lang) if total else "-",
            )
            return f"*{header}*\n" + status_by_delegation(report.lines, language=lang)
        case grammar.Launch(survey_id=survey_id, audience=audience, closes=closes):
            request = organising.LaunchRequest(
                survey_id=survey_id,
                audience=audience,
                closes=closes,
                opens=command.opens,
                tz=command.tz,
            )
            launched = await organising.launch(store, actor, request, now=now)
            return texts.text(
                "launched",
                lang,
                id=launched.round.id,
                survey=survey_id,
                version=launched.version.version,
                participants=texts.text("delegates_count", lang, count=launched.participants),
                delegations=texts.text("delegations_count", lang, count=launched.delegations),
                closes=blocks.format_when(launched.round.closes_at, launched.zone),
            )
        case grammar.Close(round_id=round_id):
            closed = await organising.close(store, actor, round_id, now=now)
            return texts.text("closed_round", lang, id=closed.round.id)
        case grammar.Extend(round_id=round_id, closes=closes):
            extended = await organising.extend(
                store,
                actor,
                organising.ExtendRequest(round_id, closes=closes, tz=command.tz),
                now=now,
                office_hours=services.office_hours,
            )
            when = blocks.format_when(extended.round.closes_at, extended.zone)
            return texts.text("round_extended", lang, id=extended.round.id, closes=when)
        case grammar.DigestCommand(round_id=round_id):
            if services.digests is None:
                return texts.text("digest_unavailable", lang, id=round_id)
            published = await organising.request_digest(
                store, actor, round_id, digests=services.digests, now=now
            )
            summary = blocks.escape(published.summary)
            return texts.text("digest_posted", lang, id=round_id, summary=summary)
    raise AssertionError(command)  # pragma: no cover


def status_by_delegation(lines: Sequence[StatusLine], *, language: str) -> str:
    """One line per delegation: who is at which stage (lines come ordered by delegation)."""
    grouped: dict[str, list[str]] = {}
    for line in lines:
        delegation = line.delegation
        name = (
            f"{delegation.code} {delegation.name}"
            if delegation
            else texts.text("no_delegation", language)
        )
        status = texts.text(f"status_{line.status.value}", language)
        grouped.setdefault(name, []).append(f"{blocks.escape(line.participant.name)}: {status}")
    return "\n".join(
        f"*{blocks.escape(name)}* — {'; '.join(people)}" for name, people in grouped.items()
    )


def _round_word(status: str, language: str) -> str:
    return texts.text("round_closed_word" if status == "closed" else f"round_{status}", language)
