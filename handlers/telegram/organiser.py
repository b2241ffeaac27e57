"""Organisers' commands that change rounds: ``/launch``, ``/close``, ``/extend``, ``/digest``.

The words after the command are read by the shared grammar (:mod:`surveys.commands`), the
change goes through the same use cases as the CLI and Slack (each written to the audit log),
and the reply is a text in the organiser's language. A malformed command or a refusal of the
core (unknown survey or round, bad audience, past date, round closed by hand) is answered with
what is wrong, never raised.

Example::

    reply = await answer(services, olga, "close 3")   # 'Round 3 is now closed. ...'
"""

from __future__ import annotations

import re

from handlers.telegram.render import local_time
from handlers.telegram.services import TelegramServices
from handlers.telegram.texts import language_of, text
from surveys import commands as grammar
from surveys import delivery, usecases
from surveys.errors import ItineraError, NotFoundError
from surveys.records import Audience, Participant

VERBS = ("launch", "close", "extend", "digest")
"""The Telegram commands this module answers (organisers only)."""

_COMMAND = re.compile(r"\s*/(\w+)(?:@\S*)?(.*)", re.DOTALL)


def command_text(message: str) -> str:
    """``/launch@bot a b`` -> ``launch a b``: what :func:`grammar.parse_organiser_command`
    reads (the arguments keep their quotes)."""
    found = _COMMAND.match(message)
    if found is None:
        return message.strip()
    verb, rest = found.group(1).lower(), found.group(2).strip()
    return f"{verb} {rest}"


async def answer(services: TelegramServices, organiser: Participant, message: str) -> str:
    """The reply to an organiser's command ``message`` (``/verb args``); never raises for a
    malformed command or a refusal of the core."""
    language = language_of(organiser.language)
    command = grammar.parse_organiser_command(command_text(message), prefix="/")
    try:
        return await run(services, command, organiser)
    except NotFoundError as error:
        if error.kind == "round":
            return text("no_such_round", language, id=error.key)
        return text("command_failed", language, problem=str(error))
    except ItineraError as error:
        return text("command_failed", language, problem=str(error))


async def run(services: TelegramServices, command: grammar.Command, organiser: Participant) -> str:
    """The reply to ``command`` from ``organiser``; errors of the core propagate."""
    language = language_of(organiser.language)
    zone = organiser.timezone
    repos = services.repos
    now = services.clock.now()
    actor = f"{organiser.email} (telegram)"
    match command:
        case grammar.BadCommand(problem=problem):
            return text("command_problem", language, problem=problem.replace("`", ""))
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
                return text("command_failed", language, problem=str(error))
            launched = await usecases.launch_round(
                repos,
                survey_id=survey_id,
                audience=Audience.parse(audience),
                closes_at=closes_at,
                opens_at=opens_at,
                now=now,
                actor=actor,
            )
            round_ = launched.round
            later = round_.opens_at > now
            return text(
                "round_launched_later" if later else "round_launched",
                language,
                id=round_.id,
                survey=survey_id,
                version=launched.version.version,
                participants=text("delegates_count", language, count=launched.participant_count),
                delegations=text("delegations_count", language, count=launched.delegation_count),
                opens=local_time(round_.opens_at, tz),
                closes=local_time(round_.closes_at, tz),
            )
        case grammar.Close(round_id=round_id):
            closed = await delivery.close_round(repos, round_id, now=now, actor=actor)
            return text("closed_round", language, id=closed.id)
        case grammar.Extend(round_id=round_id, closes=closes):
            tz = command.tz or zone
            try:
                closes_at = grammar.parse_moment(closes, zone=tz, end_of_day=True)
            except ValueError as error:
                return text("command_failed", language, problem=str(error))
            extended = await delivery.extend_round(
                repos, round_id, closes_at=closes_at, now=now, actor=actor
            )
            return text(
                "round_extended",
                language,
                id=extended.id,
                closes=local_time(extended.closes_at, tz),
            )
        case grammar.DigestCommand(round_id=round_id):
            if services.digests is None:
                return text("digest_unavailable", language)
            await repos.rounds.get_round(round_id)  # an unknown round is said as such
            summary = await services.digests.publish(round_id, language=language)
            where = (
                text("digest_posted_chat", language, chat=services.digest_chat)
                if services.digest_chat is not None
                else text("digest_posted_organisers", language)
            )
            return f"{summary.strip()}\n\n{where}"
    # /rounds, /status and /help have their own handlers; anything else reads as help.
    return text("help_organiser", language)
