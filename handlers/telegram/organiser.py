"""Organisers' commands that change rounds: ``/launch``, ``/close``, ``/extend``, ``/digest``.

The words after the command are read by the shared grammar (:mod:`surveys.commands`), the
change goes through the same use cases as the CLI and Slack (each written to the audit log),
and the reply is a text in the organiser's language. A malformed command or a refusal of the
core (unknown survey or round, bad audience, past date, round closed by hand) is answered with
what is wrong, never raised.

Example::

    reply = await answer(services, tx, olga, "/close 3")   # 'Round 3 is now closed. ...'
"""

from __future__ import annotations

import re

from handlers.telegram.render import local_time
from handlers.telegram.services import TelegramServices
from handlers.telegram.texts import language_of, text
from surveys import commands as grammar
from surveys.errors import ItineraError, NotAllowedError, NotFoundError
from surveys.ports import Repositories
from surveys.records import Channel, Participant
from surveys.service import organising
from surveys.service.actors import Actor

VERBS = ("launch", "close", "extend", "digest")
"""The Telegram commands this module answers (organisers only)."""

CHANNEL = Channel.TELEGRAM.value
_COMMAND = re.compile(r"\s*/(\w+)(?:@\S*)?(.*)", re.DOTALL)


def command_text(message: str) -> str:
    """``/launch@bot a b`` -> ``launch a b``: what :func:`grammar.parse_organiser_command`
    reads (the arguments keep their quotes)."""
    found = _COMMAND.match(message)
    if found is None:
        return message.strip()
    verb, rest = found.group(1).lower(), found.group(2).strip()
    return f"{verb} {rest}"


def is_digest(message: str) -> bool:
    """Whether ``message`` asks for a digest (made outside the update's transaction)."""
    command = grammar.parse_organiser_command(command_text(message), prefix="/")
    return isinstance(command, grammar.DigestCommand)


async def answer(
    services: TelegramServices, store: Repositories, organiser: Participant, message: str
) -> str:
    """The reply to an organiser's command ``message`` (``/verb args``), made in ``store``'s
    transaction; never raises for a malformed command or a refusal of the core."""
    language = language_of(organiser.language)
    command = grammar.parse_organiser_command(command_text(message), prefix="/")
    try:
        return await run(services, store, command, organiser)
    except NotAllowedError:
        return text("organiser_only", language)
    except NotFoundError as error:
        if error.kind == "round":
            return text("no_such_round", language, id=error.key)
        return text("command_failed", language, problem=str(error))
    except ItineraError as error:
        return text("command_failed", language, problem=str(error))


async def run(
    services: TelegramServices,
    store: Repositories,
    command: grammar.Command,
    organiser: Participant,
) -> str:
    """The reply to ``command`` from ``organiser``; errors of the core propagate."""
    language = language_of(organiser.language)
    now = services.clock.now()
    actor = Actor.of(organiser, CHANNEL)
    match command:
        case grammar.BadCommand(problem=problem):
            return text("command_problem", language, problem=problem.replace("`", ""))
        case grammar.Launch(survey_id=survey_id, audience=audience, closes=closes):
            request = organising.LaunchRequest(
                survey_id=survey_id,
                audience=audience,
                closes=closes,
                opens=command.opens,
                tz=command.tz,
                again=command.again,
            )
            launched = await organising.launch(store, actor, request, now=now)
            round_ = launched.round
            return text(
                "round_launched_later" if launched.opens_later else "round_launched",
                language,
                id=round_.id,
                survey=survey_id,
                version=launched.version.version,
                participants=text("delegates_count", language, count=launched.participants),
                delegations=text("delegations_count", language, count=launched.delegations),
                opens=local_time(round_.opens_at, launched.zone),
                closes=local_time(round_.closes_at, launched.zone),
            )
        case grammar.Close(round_id=round_id):
            closed = await organising.close(store, actor, round_id, now=now)
            return text("closed_round", language, id=closed.round.id)
        case grammar.Extend(round_id=round_id, closes=closes):
            extended = await organising.extend(
                store,
                actor,
                organising.ExtendRequest(round_id, closes=closes, tz=command.tz),
                now=now,
                office_hours=services.office_hours,
            )
            return text(
                "round_extended",
                language,
                id=extended.round.id,
                closes=local_time(extended.round.closes_at, extended.zone),
            )
        case grammar.DigestCommand(round_id=round_id):
            if services.digests is None:
                return text("digest_unavailable", language)
            published = await organising.request_digest(
                store, actor, round_id, digests=services.digests, now=now, language=language
            )
            where = (
                text("digest_posted_chat", language, chat=services.digest_chat)
                if services.digest_chat is not None
                else text("digest_posted_organisers", language)
            )
            return f"{published.summary.strip()}\n\n{where}"
    # /rounds, /status and /help have their own handlers; anything else reads as help.
    return text("help_organiser", language)
