"""A delegate answering in Slack: presses, the answer modal and direct messages, end to end.

Each function takes one stored inbound request (its parsed ``body``), makes the calls into
:class:`~surveys.conversation.Conversation` it implies, and draws the resulting screen: in place
(``chat.update`` on the message pressed) or as a new direct message. The listeners call them
after acknowledging; recovery calls them again for requests stored but never processed.

A press carries the question it was about (in its ``block_id``); if the delegate has moved on
since (an older message, a second device), nothing is applied and the current screen is shown.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from handlers.slack import blocks, inbound, texts
from handlers.slack.services import CHANNEL, SlackServices
from surveys.conversation import Action, Answer, Edit, Screen, ScreenKind, Show, Submit
from surveys.engine import Typed
from surveys.records import Participant, ResponseStatus, RoundStatus
from surveys.service.answering import Asking, Expectation, Reviewing

Ack = Callable[..., Awaitable[object]]
"""Bolt's ``ack``: answers Slack (a modal submission may be answered with errors)."""


def screen_key(screen: Screen) -> str:
    """The outbox key of a delegate's live screen message in a round."""
    return f"screen:{screen.response.id}"


async def apply(
    services: SlackServices,
    participant: Participant,
    round_id: int,
    question_id: str | None,
    action: Action,
) -> Screen:
    """Apply ``action`` if ``question_id`` (when given) is still the question being asked;
    else show where the delegate is, with a note that the question moved on."""
    expect: Expectation | None = None
    if question_id is not None:
        expect = Asking(question_id)
    elif isinstance(action, Submit | Edit):
        expect = Reviewing()
    screen = await services.conversation.act(participant, round_id, action, expect=expect)
    if screen.stale:
        return dataclasses.replace(screen, notice=texts.text("stale", participant.language))
    return screen


async def show(
    services: SlackServices,
    participant: Participant,
    screen: Screen,
    *,
    channel: str | None = None,
    ts: str | None = None,
    user_id: str | None = None,
    preface: str | None = None,
) -> str | None:
    """Draw ``screen``: update the message ``channel``/``ts`` in place, else post it in the DM.

    Records the message in the outbox as the delegate's live screen; returns its ``ts``.
    """
    message = blocks.render_screen(screen)
    body = message.blocks
    if preface:
        body = [*blocks.sections(blocks.escape(preface)), *body]
        if len(body) > blocks.MAX_BLOCKS_MESSAGE:
            raise blocks.RenderError("the preface does not fit in the message")
    client = services.client
    if channel and ts:
        await client.chat_update(channel=channel, ts=ts, text=message.text, blocks=body)
    else:
        channel = channel or await services.identities.dm_channel(participant, user_id)
        if channel is None:
            return None
        posted = await client.chat_postMessage(
            channel=channel, text=preface or message.text, blocks=body
        )
        ts = str(posted["ts"])
    await services.repos.outbox.mark_sent(
        channel=CHANNEL,
        key=screen_key(screen),
        address=channel,
        message_id=ts,
        now=services.clock.now(),
    )
    return ts


async def tell(services: SlackServices, *, user_id: str, channel: str | None, text: str) -> None:
    """A short ephemeral note to one person (in ``channel``, else in their DM)."""
    if channel:
        await services.client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        return
    opened = await services.client.conversations_open(users=[user_id])
    await services.client.chat_postMessage(channel=opened["channel"]["id"], text=text)


# --- block actions --------------------------------------------------------------------------


async def on_block_action(
    services: SlackServices, body: Mapping[str, Any], *, live: bool = True
) -> None:
    """A button, select or checkbox "Done" in a survey message (or "Open" on App Home)."""
    intent = inbound.from_block_action(body)
    if isinstance(intent, inbound.Ignore):
        return
    user_id = str(body["user"]["id"])
    container = body.get("container") or {}
    in_message = container.get("type") == "message"
    channel = container.get("channel_id") if in_message else None
    ts = container.get("message_ts") if in_message else None
    participant = await services.identities.participant_for(user_id)
    if participant is None:
        await tell(services, user_id=user_id, channel=channel, text=_not_registered(body))
        return
    if isinstance(intent, inbound.OpenModal):
        if not live:  # the trigger id has long expired
            return
        await _open_modal(services, body, participant, intent, channel=channel, ts=ts)
        return
    screen = await apply(services, participant, intent.round_id, intent.question_id, intent.action)
    await show(services, participant, screen, channel=channel, ts=ts, user_id=user_id)


async def _open_modal(
    services: SlackServices,
    body: Mapping[str, Any],
    participant: Participant,
    intent: inbound.OpenModal,
    *,
    channel: str | None,
    ts: str | None,
) -> None:
    screen = await apply(services, participant, intent.round_id, intent.question_id, Show())
    if screen.notice:  # moved on since: show where they are instead
        await show(services, participant, screen, channel=channel, ts=ts)
        return
    view = blocks.answer_modal(screen, channel=channel, ts=ts)
    await services.client.views_open(trigger_id=body["trigger_id"], view=view)


def _not_registered(body: Mapping[str, Any]) -> str:
    locale = str((body.get("user") or {}).get("locale") or "en")
    return texts.text("not_registered", locale)


# --- the answer modal -----------------------------------------------------------------------


async def on_view_submission(
    services: SlackServices, body: Mapping[str, Any], *, ack: Ack | None
) -> None:
    """A typed answer from the modal: refused input goes back into the modal as an error.

    The check runs within ``services.view_budget`` seconds so the modal is answered in time;
    past that the modal closes and the outcome is drawn in the message when it comes.
    ``ack`` is None when replaying a stored submission (nothing to answer any more).
    """
    where, answer = inbound.from_view_submission(body)
    user_id = str(body["user"]["id"])
    work = asyncio.ensure_future(_submit(services, user_id, where, answer))
    if ack is not None:
        done, _ = await asyncio.wait({work}, timeout=services.view_budget)
        if work not in done:
            await ack()
            ack = None
    try:
        outcome = await work
    except BaseException:
        if ack is not None:
            await ack()
        raise
    if outcome is None:
        error = _not_registered(body)
        if ack is not None:
            await ack(response_action="errors", errors={blocks.INPUT_BLOCK: error})
        return
    participant, screen = outcome
    rejected = (
        not screen.accepted
        and screen.notice is not None
        and screen.kind is ScreenKind.ASKING
        and screen.prompt is not None
        and screen.prompt.question.id == where.question_id
    )
    if rejected and ack is not None:
        assert screen.notice is not None
        await ack(response_action="errors", errors={blocks.INPUT_BLOCK: screen.notice})
        return
    if ack is not None:
        await ack()
    await show(services, participant, screen, channel=where.channel, ts=where.ts, user_id=user_id)


async def _submit(
    services: SlackServices, user_id: str, where: blocks.ModalContext, answer: Answer
) -> tuple[Participant, Screen] | None:
    participant = await services.identities.participant_for(user_id)
    if participant is None:
        return None
    screen = await apply(services, participant, where.round_id, where.question_id, answer)
    return participant, screen


# --- direct messages ------------------------------------------------------------------------


async def on_direct_message(services: SlackServices, event: Mapping[str, Any]) -> None:
    """Text in our DM: the answer to a typed question, else a request to see where one stands."""
    written = inbound.dm_text(event)
    if written is None:
        return
    user_id = str(event.get("user", ""))
    channel = str(event.get("channel", ""))
    participant = await services.identities.participant_for(user_id)
    if participant is None:
        await services.client.chat_postMessage(
            channel=channel, text=texts.text("not_registered", "en")
        )
        return
    round_id = await current_round(services, participant)
    if round_id is None:
        await services.client.chat_postMessage(
            channel=channel, text=texts.text("no_open_round", participant.language)
        )
        return
    screen = await services.conversation.act(participant, round_id, Show())
    typed = screen.prompt is not None and blocks.control_kind(screen.prompt) == "typed"
    if screen.kind is ScreenKind.ASKING and screen.prompt is not None and typed and written.strip():
        screen = await apply(
            services, participant, round_id, screen.prompt.question.id, Answer(Typed(written))
        )
    await show(services, participant, screen, channel=channel, user_id=user_id)


async def current_round(services: SlackServices, participant: Participant) -> int | None:
    """The round a delegate is most likely answering: open, not submitted, newest first."""
    now = services.clock.now()
    open_ones = [
        (round_, response)
        for round_, response in await services.repos.identities.participations(participant.id)
        if round_.status_at(now) is RoundStatus.OPEN
    ]
    for round_, response in open_ones:
        if response.status is not ResponseStatus.SUBMITTED:
            return round_.id
    return open_ones[0][0].id if open_ones else None
