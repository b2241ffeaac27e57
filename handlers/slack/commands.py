"""``/itinera``: organisers list rounds, follow one, launch and close rounds from Slack.

Only organisers may use it; anyone else gets an ephemeral refusal in their language. Replies are
ephemeral, sent to the command's ``response_url`` (valid 30 minutes), else with
``chat.postEphemeral``. Launching goes through :func:`surveys.usecases.launch_round`, closing
through :meth:`RoundRepository.close_round`; both are written to the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.webhook.async_client import AsyncWebhookClient

from handlers.slack import blocks, texts
from handlers.slack.services import SlackServices
from surveys import commands as grammar
from surveys import delivery, i18n, usecases
from surveys.errors import ItineraError
from surveys.records import Audience, Participant, ResponseStatus, Role, StatusLine

COMMAND = "/itinera"


async def on_command(services: SlackServices, body: Mapping[str, Any]) -> None:
    """Run one ``/itinera`` command and reply to the person, ephemerally."""
    user_id = str(body.get("user_id", ""))
    participant = await services.identities.participant_for(user_id)
    if participant is None or participant.role is not Role.ORGANISER:
        language = participant.language if participant is not None else "en"
        await _reply(services, body, texts.text("not_organiser", language))
        return
    command = grammar.parse_organiser_command(str(body.get("text", "")))
    try:
        reply = await run(services, command, participant)
    except ItineraError as error:
        reply = texts.text("command_failed", participant.language, problem=str(error))
    await _reply(services, body, reply)


async def run(services: SlackServices, command: grammar.Command, organiser: Participant) -> str:
    """The reply (mrkdwn) to ``command`` from ``organiser``; core errors propagate."""
    lang = organiser.language
    zone = organiser.timezone
    repos = services.repos
    now = services.clock.now()
    match command:
        case grammar.Help():
            return texts.text("help", lang)
        case grammar.BadCommand(problem=problem):
            return texts.text("command_unknown", lang, problem=problem)
        case grammar.ListRounds():
            rounds = await repos.rounds.list_rounds()
            if not rounds:
                return texts.text("home_no_rounds", lang)
            lines = []
            for round_ in rounds:
                counts = await repos.rounds.counts(round_.id)
                lines.append(
                    texts.text(
                        "rounds_line",
                        lang,
                        id=round_.id,
                        survey=round_.survey_id,
                        audience=blocks.escape(str(round_.audience)),
                        status=_round_word(round_.status_at(now).value, lang),
                        closes=blocks.format_when(round_.closes_at, zone),
                        submitted=counts.get(ResponseStatus.SUBMITTED, 0),
                        total=sum(counts.values()),
                    )
                )
            return "\n".join(lines)
        case grammar.RoundStatusCommand(round_id=round_id):
            round_ = await repos.rounds.get_round(round_id)
            counts = await repos.rounds.counts(round_id)
            total = sum(counts.values())
            submitted = counts.get(ResponseStatus.SUBMITTED, 0)
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
            return f"*{header}*\n" + status_by_delegation(
                await repos.rounds.status(round_id), language=lang
            )
        case grammar.Launch(survey_id=survey_id, audience=audience, closes=closes):
            tz = command.tz or zone
            try:
                closes_at = grammar.parse_moment(closes, zone=tz, end_of_day=True)
                opens_at = (
                    grammar.parse_moment(command.opens, zone=tz, end_of_day=False)
                    if command.opens
                    else None
                )
            except ValueError as error:
                return texts.text("command_failed", lang, problem=str(error))
            launched = await usecases.launch_round(
                repos,
                survey_id=survey_id,
                audience=Audience.parse(audience),
                closes_at=closes_at,
                opens_at=opens_at,
                now=now,
                actor=_actor(organiser),
            )
            return texts.text(
                "launched",
                lang,
                id=launched.round.id,
                survey=survey_id,
                version=launched.version.version,
                participants=texts.text("delegates_count", lang, count=launched.participant_count),
                delegations=texts.text("delegations_count", lang, count=launched.delegation_count),
                closes=blocks.format_when(launched.round.closes_at, tz),
            )
        case grammar.Close(round_id=round_id):
            closed = await repos.rounds.close_round(round_id, now=now)
            await repos.audit.record(
                actor=_actor(organiser),
                action="round.close",
                target=f"round {closed.id}",
                details={"via": "slack"},
                now=now,
            )
            return texts.text("closed_round", lang, id=closed.id)
        case grammar.Extend(round_id=round_id, closes=closes):
            tz = command.tz or zone
            try:
                closes_at = grammar.parse_moment(closes, zone=tz, end_of_day=True)
            except ValueError as error:
                return texts.text("command_failed", lang, problem=str(error))
            extended = await delivery.extend_round(
                repos, round_id, closes_at=closes_at, now=now, actor=_actor(organiser)
            )
            when = blocks.format_when(extended.closes_at, tz)
            return texts.text("round_extended", lang, id=extended.id, closes=when)
        case grammar.DigestCommand(round_id=round_id):
            if services.digests is None:
                return texts.text("digest_unavailable", lang, id=round_id)
            await repos.rounds.get_round(round_id)  # an unknown round is a clear error
            summary = await services.digests.publish(round_id, language=lang)
            return texts.text("digest_posted", lang, id=round_id, summary=blocks.escape(summary))
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


def _actor(organiser: Participant) -> str:
    return f"{organiser.email} (slack)"


async def _reply(services: SlackServices, body: Mapping[str, Any], markdown: str) -> None:
    found = blocks.sections(markdown)[: blocks.MAX_BLOCKS_MESSAGE]
    fallback = blocks.clip(markdown, blocks.MAX_FALLBACK_TEXT)
    response_url = body.get("response_url")
    if response_url:
        webhook = AsyncWebhookClient(str(response_url))
        await webhook.send(text=fallback, blocks=found, response_type="ephemeral")
        return
    await services.client.chat_postEphemeral(
        channel=str(body.get("channel_id", "")),
        user=str(body.get("user_id", "")),
        text=fallback,
        blocks=found,
    )
