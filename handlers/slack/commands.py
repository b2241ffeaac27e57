"""``/itinera``: organisers follow, launch, close, extend rounds and ask for digests from Slack.

Parse, one call, render: the words after ``/itinera`` are read by the one grammar, the command is
done and worded by :mod:`surveys.service.commanding` (the same as Telegram's), and the reply is
rendered as mrkdwn. It runs in the transaction of the stored command, so a command replayed
after a crash is not done twice; the reply goes back ephemerally
(:func:`handlers.slack.presenter.reply_message`). Someone Slack knows but the roster does not is
told the command is for organisers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.slack.mrkdwn import render_reply
from handlers.slack.services import CHANNEL, SlackServices
from surveys import commands as grammar
from surveys import organiser_replies
from surveys.organiser_replies import SLACK
from surveys.ports import Repositories
from surveys.service import commanding
from surveys.service.actors import Actor

COMMAND = "/itinera"


def wants_digest(body: Mapping[str, Any]) -> bool:
    """Whether the command asks for a digest (made outside the command's transaction: it
    posts to channels and writes files)."""
    return isinstance(_command(body), grammar.DigestCommand)


async def answer(services: SlackServices, store: Repositories, body: Mapping[str, Any]) -> str:
    """The reply (mrkdwn) to one ``/itinera`` command, made in ``store``'s transaction."""
    participant = await services.identities.participant_for(str(body.get("user_id", "")))
    if participant is None:
        return render_reply(organiser_replies.not_organiser(language="en"))
    reply = await commanding.answer(
        store,
        Actor.of(participant, CHANNEL),
        _command(body),
        syntax=SLACK,
        now=services.clock.now(),
        office_hours=services.office_hours,
        digests=services.digests,
    )
    return render_reply(reply)


def _command(body: Mapping[str, Any]) -> grammar.Command:
    return commanding.parse(str(body.get("text", "")), SLACK)
