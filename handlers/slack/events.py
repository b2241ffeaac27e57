"""Applying what Slack sent: the channel's :class:`~surveys.service.intake.EventHandler`.

Every stored request (a press, a modal submission, a direct message, a slash command, the Home
tab opened) comes here from the inbox worker. Each is one call into the core, made in one
transaction with the messages it causes (enqueued for the sender) and the event's completion:
a crash before the commit changes nothing and the event is applied again; after it, nothing is
applied twice. A press carries the question it was made on, typed text the question shown when
it was stored: if the delegate has moved on since, nothing is applied to another question and
they are shown where they are, with a note.

Example::

    worker = InboxWorker(store, handlers={"slack": SlackEvents(services)}, ...)
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from handlers.slack import commands, home, inbound, presenter, texts
from handlers.slack.errors import InboundError
from handlers.slack.presenter import Where
from handlers.slack.services import CHANNEL, SlackServices
from surveys.conversation import Screen, ScreenKind, Show
from surveys.ports import Repositories
from surveys.queues import InboundEvent, NewMessage
from surveys.records import Participant, Role
from surveys.service import delegates, organising
from surveys.service.actors import Actor
from surveys.service.answering import (
    Asking,
    Conversation,
    Expectation,
    NothingOpen,
    Reviewing,
    answer_typed,
)
from surveys.service.intake import Work, apply_event

log = logging.getLogger("itinera.slack")

TRIGGER_LIFETIME = timedelta(seconds=2.5)
"""A modal can be opened only this soon after the press (Slack's trigger ids last 3 s)."""


class SlackEvents:
    def __init__(self, services: SlackServices) -> None:
        self.services = services

    # --- the handler ----------------------------------------------------------------------------

    async def handle(self, event: InboundEvent, *, worker: str) -> None:
        try:
            await self._dispatch(event, worker)
        except InboundError as error:
            # Not shaped as our messages make them (tampered with, or another app's): trying
            # again cannot help. Recorded, and the person asked to try again.
            log.warning("slack: %s is malformed: %s", event.key, error)
            await self.give_up(event, worker=worker, error=f"malformed: {error}")

    async def _dispatch(self, event: InboundEvent, worker: str) -> None:
        body: dict[str, Any] = json.loads(event.payload)
        kind = body.get("type")
        if kind == "block_actions":
            await self._action(event, body, worker)
        elif kind == "view_submission":
            await self._view(event, body, worker)
        elif kind == "event_callback":
            inner = body.get("event") or {}
            if inner.get("type") == "app_home_opened":
                await self._home(event, inner, worker)
            elif inner.get("type") == "message":
                await self._message(event, inner, worker)
            else:
                await self._commit(event, worker, _nothing)
        elif body.get("command"):
            await self._command(event, body, worker)
        else:
            await self._commit(event, worker, _nothing)

    async def give_up(self, event: InboundEvent, *, worker: str, error: str) -> None:
        """Record why the event was not applied, and ask the person to try again."""
        language = "en"
        participant = await self._participant(event.subject)
        if participant is not None:
            language = participant.language
        note = presenter.note_message(
            texts.text("something_went_wrong", language),
            where=Where(user_id=event.subject),
            key=f"reply:{event.id}:failed",
        )

        async def tell(_tx: Repositories) -> Sequence[NewMessage]:
            return [note] if event.subject else []

        await self._commit(event, worker, tell, error=error)

    # --- kinds ------------------------------------------------------------------------------------

    async def _action(self, event: InboundEvent, body: Mapping[str, Any], worker: str) -> None:
        intent = inbound.from_block_action(body)
        where = inbound.where(body)
        if isinstance(intent, inbound.Ignore):
            await self._commit(event, worker, _nothing)
            return
        key = f"reply:{event.id}:0"

        def work_for(participant: Participant) -> Work:
            if isinstance(intent, inbound.OpenModal):
                late = self.services.clock.now() - event.received_at > TRIGGER_LIFETIME
                asking: Expectation = Asking(intent.question_id)

                async def open_modal(tx: Repositories) -> Sequence[NewMessage]:
                    screen = await self._act(tx, participant, intent.round_id, Show(), asking)
                    if screen.stale or late or screen.kind is not ScreenKind.ASKING:
                        return [presenter.screen_message(screen, where=where, key=key)]
                    return [presenter.modal_message(screen, where=where, key=key)]

                return open_modal
            expect: Expectation | None = None
            if intent.question_id is not None:
                expect = Asking(intent.question_id)
            elif intent.expects_summary:
                expect = Reviewing()

            async def press(tx: Repositories) -> Sequence[NewMessage]:
                screen = await self._act(tx, participant, intent.round_id, intent.action, expect)
                return [presenter.screen_message(screen, where=where, key=key)]

            return press

        await self._commit_as(
            event,
            worker,
            where.user_id,
            work_for,
            unknown=lambda: self._not_registered(event, worker, where, body),
        )

    async def _view(self, event: InboundEvent, body: Mapping[str, Any], worker: str) -> None:
        context, answer = inbound.from_view_submission(body)
        user_id = inbound.subject(body) or ""
        waiter = self.services.modal_waiters.get(event.key)
        where = Where(user_id=user_id, channel=context.channel, ts=context.ts)
        key = f"reply:{event.id}:0"

        def work_for(participant: Participant) -> Work:
            async def submit(tx: Repositories) -> Sequence[NewMessage]:
                screen = await self._act(
                    tx, participant, context.round_id, answer, Asking(context.question_id)
                )
                refused = (
                    not screen.accepted
                    and not screen.stale
                    and screen.notice is not None
                    and screen.kind is ScreenKind.ASKING
                    and screen.prompt is not None
                    and screen.prompt.question.id == context.question_id
                )
                if waiter is not None and not waiter.done():
                    # Slack is still waiting for the answer: a refusal goes into the modal.
                    waiter.set_result(screen.notice if refused else None)
                    if refused:
                        return []
                return [presenter.screen_message(screen, where=where, key=key)]

            return submit

        async def unknown() -> None:
            if waiter is not None and not waiter.done():
                waiter.set_result(texts.text("not_registered", inbound.locale(body)))
            await self._commit(event, worker, _nothing)

        await self._commit_as(event, worker, user_id, work_for, unknown=unknown)

    async def _message(self, event: InboundEvent, inner: Mapping[str, Any], worker: str) -> None:
        written = inbound.dm_text(inner)
        if written is None:
            await self._commit(event, worker, _nothing)
            return
        where = Where(user_id=str(inner.get("user", "")), channel=str(inner.get("channel", "")))
        key = f"reply:{event.id}:0"

        def work_for(participant: Participant) -> Work:
            async def typed(tx: Repositories) -> Sequence[NewMessage]:
                reply = await answer_typed(
                    tx, participant, written, event.target, clock=self.services.clock
                )
                if isinstance(reply, NothingOpen):
                    return [presenter.note_message(reply.notice, where=where, key=key)]
                return [presenter.screen_message(reply, where=where, key=key)]

            return typed

        await self._commit_as(
            event,
            worker,
            where.user_id,
            work_for,
            unknown=lambda: self._not_registered(event, worker, where, None),
        )

    async def _home(self, event: InboundEvent, inner: Mapping[str, Any], worker: str) -> None:
        if inner.get("tab", "home") != "home":
            await self._commit(event, worker, _nothing)
            return
        user_id = str(inner.get("user", ""))
        participant = await self._participant(user_id)
        now = self.services.clock.now()
        key = f"home:{event.id}"

        async def draw(tx: Repositories) -> Sequence[NewMessage]:
            if participant is None:
                view = home.stranger_home()
            elif participant.role is Role.ORGANISER:
                actor = Actor.of(participant, CHANNEL)
                summaries = await organising.overview(tx, actor, now=now)
                view = home.organiser_home(
                    summaries,
                    now=now,
                    language=participant.language,
                    timezone=participant.timezone,
                )
            else:
                view = home.delegate_home(
                    await delegates.my_rounds(tx, participant, now=now),
                    language=participant.language,
                    timezone=participant.timezone,
                )
            return [presenter.home_message(view, user_id=user_id, key=key)]

        await self._commit(event, worker, draw)

    async def _command(self, event: InboundEvent, body: Mapping[str, Any], worker: str) -> None:
        where = inbound.where(body)
        key = f"reply:{event.id}:0"
        if commands.wants_digest(body):
            # Made outside the transaction (it renders charts and posts); a replay after a
            # crash between posting and completing would post it again.
            reply = await commands.answer(self.services, self.services.store, body)
            await self._commit(event, worker, _saying(reply, where, key))
            return

        async def run(tx: Repositories) -> Sequence[NewMessage]:
            reply = await commands.answer(self.services, tx, body)
            return [presenter.reply_message(reply, where=where, key=key)]

        await self._commit(event, worker, run)

    # --- helpers ----------------------------------------------------------------------------------

    async def _participant(self, user_id: str) -> Participant | None:
        if not user_id:
            return None
        return await self.services.identities.participant_for(user_id)

    async def _commit_as(
        self,
        event: InboundEvent,
        worker: str,
        user_id: str,
        work_for: Callable[[Participant], Work],
        *,
        unknown: Callable[[], Awaitable[None]],
    ) -> None:
        """Apply ``work_for`` the participant ``user_id`` is: the one linked to it, found in
        the same transaction (the common case: one round trip, no transaction of its own),
        else one found by email (which may ask Slack, so outside any transaction); ``unknown``
        when neither."""
        if user_id:

            async def linked(tx: Repositories) -> Sequence[NewMessage]:
                participant = await tx.roster.find_by_identity(CHANNEL, user_id)
                if participant is None:
                    raise _NotLinked()
                return await work_for(participant)(tx)

            try:
                await self._commit(event, worker, linked)
                return
            except _NotLinked:
                pass  # rolled back: nothing was written
        participant = await self._participant(user_id)
        if participant is None:
            await unknown()
            return
        await self._commit(event, worker, work_for(participant))

    async def _not_registered(
        self, event: InboundEvent, worker: str, where: Where, body: Mapping[str, Any] | None
    ) -> None:
        language = inbound.locale(body) if body is not None else "en"
        note = presenter.note_message(
            texts.text("not_registered", language), where=where, key=f"reply:{event.id}:0"
        )
        await self._commit(event, worker, _saying_note(note))

    async def _act(
        self,
        tx: Repositories,
        participant: Participant,
        round_id: int,
        action: Any,
        expect: Expectation | None,
    ) -> Screen:
        conversation = Conversation(tx, clock=self.services.clock, notes=self.services.notes)
        screen = await conversation.act(participant, round_id, action, expect=expect)
        if screen.stale:
            note = texts.text("stale", participant.language)
            return dataclasses.replace(screen, notice=note)
        return screen

    async def _commit(
        self, event: InboundEvent, worker: str, work: Work, *, error: str | None = None
    ) -> None:
        """Do ``work`` and complete the event in one transaction; then wake the sender."""
        now = self.services.clock.now()
        shown = presenter.live_screen
        store = self.services.store
        if await apply_event(store, event, work, worker=worker, now=now, shown=shown, error=error):
            self.services.wake_sender()


class _NotLinked(Exception):
    """No participant is linked to the Slack user yet: roll back and look them up by email."""


async def _nothing(_tx: Repositories) -> Sequence[NewMessage]:
    return []


def _saying(reply: str, where: Where, key: str) -> Work:
    async def say(_tx: Repositories) -> Sequence[NewMessage]:
        return [presenter.reply_message(reply, where=where, key=key)]

    return say


def _saying_note(note: NewMessage) -> Work:
    async def say(_tx: Repositories) -> Sequence[NewMessage]:
        return [note]

    return say


__all__ = ["SlackEvents"]
