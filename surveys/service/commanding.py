"""An organiser's chat command, from any channel: do it through its use case, say what was done.

Slack's ``/itinera close 3`` and Telegram's ``/close 3`` are parsed by the one grammar
(:mod:`surveys.commands`) and handed here with the organiser as :class:`Actor`; the reply is a
:class:`~surveys.richtext.Reply` the channel renders. A refusal of the core (not an organiser,
unknown round, bad audience, a past date) becomes a reply saying what is wrong; nothing is
raised for it. Each use case runs in ``store``'s transaction: give the transaction of the stored
command so a command replayed after a crash is not done twice.

Example::

    command = grammar.parse_organiser_command("close 3")
    reply = await commanding.answer(tx, actor, command, syntax=SLACK, now=now,
                                    office_hours=hours)
"""

from __future__ import annotations

from datetime import datetime

from surveys import commands as grammar
from surveys import organiser_replies as replies
from surveys.errors import ItineraError, NotAllowedError, NotFoundError, OutOfScopeError
from surveys.organiser_replies import Syntax
from surveys.ports import DigestService, Repositories
from surveys.reminders import OfficeHours
from surveys.richtext import Reply
from surveys.service import organising
from surveys.service.actors import Actor


async def answer(
    store: Repositories,
    actor: Actor,
    command: grammar.Command,
    *,
    syntax: Syntax,
    now: datetime,
    office_hours: OfficeHours,
    digests: DigestService | None = None,
) -> Reply:
    """What ``actor``'s ``command`` did, in their language; core refusals are replies too.

    Someone who is not an organiser is refused whatever they wrote (help or a malformed
    command included), on every channel, before anything is read."""
    language = actor.language
    if not actor.is_organiser:
        return replies.not_organiser(language=language)
    try:
        return await perform(
            store,
            actor,
            command,
            syntax=syntax,
            now=now,
            office_hours=office_hours,
            digests=digests,
        )
    except ItineraError as error:
        return refusal(error, language=language, syntax=syntax)


def refusal(error: ItineraError, *, language: str, syntax: Syntax | None = None) -> Reply:
    """How every channel words a core refusal: outside the organiser's regions, not an
    organiser, no such round (with the command that lists them, given the channel's
    ``syntax``), or what the error says (a round already closed, a past date)."""
    match error:
        case OutOfScopeError():
            return replies.outside_scope(error, language=language)
        case NotAllowedError():
            return replies.not_organiser(language=language)
        case NotFoundError(kind="round") if syntax is not None:
            return replies.no_such_round(error.key, syntax, language=language)
    return replies.failed(str(error), language=language)


async def perform(
    store: Repositories,
    actor: Actor,
    command: grammar.Command,
    *,
    syntax: Syntax,
    now: datetime,
    office_hours: OfficeHours,
    digests: DigestService | None = None,
) -> Reply:
    """The reply to ``command``; errors of the core propagate."""
    language, zone = actor.language, actor.timezone
    match command:
        case grammar.Help():
            return replies.help_text(syntax, language=language)
        case grammar.BadCommand(problem=problem):
            return replies.unreadable(problem, syntax, language=language)
        case grammar.ListRounds():
            summaries = await organising.overview(store, actor, now=now)
            return replies.overview(summaries, language=language, zone=zone, now=now)
        case grammar.RoundStatusCommand(round_id=round_id):
            report = await organising.status(store, actor, round_id)
            return replies.status(report, language=language, zone=zone, now=now)
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
            return replies.launched(launched, language=language)
        case grammar.Close(round_id=round_id):
            closed = await organising.close(store, actor, round_id, now=now)
            return replies.closed(closed, language=language)
        case grammar.Extend(round_id=round_id, closes=closes):
            extended = await organising.extend(
                store,
                actor,
                organising.ExtendRequest(round_id, closes=closes, tz=command.tz),
                now=now,
                office_hours=office_hours,
            )
            return replies.extended(extended, language=language)
        case grammar.DigestCommand(round_id=round_id):
            if digests is None:
                return replies.digest_unavailable(round_id, language=language)
            published = await organising.request_digest(
                store, actor, round_id, digests=digests, now=now, language=language
            )
            return replies.digest_posted(round_id, published.summary, language=language)
    raise AssertionError(command)  # pragma: no cover


def parse(text: str, syntax: Syntax) -> grammar.Command:
    """The command in ``text`` (the words after ``/itinera`` or the ``/verb``)."""
    return grammar.parse_organiser_command(text, prefix=syntax.prefix)
