"""Organisers' commands on Telegram: ``/rounds``, ``/status``, ``/launch``, ``/close``,
``/extend``, ``/digest`` and the organisers' part of ``/help``.

Parse, one call, render, as on Slack: the words after the command are read by the one grammar,
the command is done and worded by :mod:`surveys.service.commanding` (the same call and the same
words as Slack's ``/itinera``, with commands written ``/verb``), and the reply is rendered as
Telegram HTML (:func:`handlers.telegram.render.render_reply`). A delegate who tries one is told
it is for organisers; nothing is raised for a malformed command or a refusal of the core.

Example::

    reply = await answer(services, tx, olga, "/close 3")   # Reply: 'Round 3 is now closed. ...'
"""

from __future__ import annotations

import re

from handlers.telegram.services import TelegramServices
from surveys import commands as grammar
from surveys.organiser_replies import TELEGRAM
from surveys.ports import Repositories
from surveys.records import Channel, Participant
from surveys.richtext import Reply
from surveys.service import commanding
from surveys.service.actors import Actor

VERBS = ("rounds", "status", "launch", "close", "extend", "digest")
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


def parse(message: str) -> grammar.Command:
    """The organiser command in ``message`` (``/verb args``)."""
    return commanding.parse(command_text(message), TELEGRAM)


def is_digest(message: str) -> bool:
    """Whether ``message`` asks for a digest (made outside the update's transaction)."""
    return isinstance(parse(message), grammar.DigestCommand)


async def answer(
    services: TelegramServices, store: Repositories, participant: Participant, message: str
) -> Reply:
    """The reply to ``participant``'s command ``message``, made in ``store``'s transaction."""
    return await reply_to(services, store, participant, parse(message))


async def reply_to(
    services: TelegramServices,
    store: Repositories,
    participant: Participant,
    command: grammar.Command,
) -> Reply:
    """What ``command`` did, worded by the core for Telegram."""
    return await commanding.answer(
        store,
        Actor.of(participant, CHANNEL),
        command,
        syntax=TELEGRAM,
        now=services.clock.now(),
        office_hours=services.office_hours,
        digests=services.digests,
    )
