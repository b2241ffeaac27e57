"""Applying what Telegram sent: the channel's :class:`~surveys.service.intake.EventHandler`.

Every stored update (a command, a typed text, a button press) comes here from the inbox
worker. It is read with python-telegram-bot's ``Update``, turned into one call into the core,
and what to show comes back as outbox messages (:mod:`.presenter`), enqueued in the same
transaction that applies the update and completes it: a crash before the commit changes nothing
and the update is applied again; after it, nothing is applied twice. A button carries the
response and question it was drawn for, typed text the question shown when it was stored; a
delegate who has moved on since is shown where they are, with a note, and nothing is applied to
another question. Nothing is kept in PTB's ``user_data``/``chat_data``.

Example::

    worker = InboxWorker(store, handlers={"telegram": TelegramEvents(services)}, ...)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update

from handlers.telegram import callbacks, keyboards, organiser, presenter
from handlers.telegram.enrolment import code_hash
from handlers.telegram.inbound import (
    Redraw,
    Stale,
    expectation,
    start_code,
    survey_action,
)
from handlers.telegram.presenter import Pressed
from handlers.telegram.render import render_reply
from handlers.telegram.services import TelegramServices
from handlers.telegram.texts import LANGUAGES, language_of, multilingual, multilingual_with, text
from surveys import commands as grammar
from surveys.conversation import Action, Screen, ScreenKind, Show
from surveys.errors import RequestError
from surveys.ports import Repositories
from surveys.queues import InboundEvent, NewMessage
from surveys.records import Channel, EnrolmentOutcome, Participant, Role
from surveys.richtext import Reply
from surveys.service import delegates
from surveys.service.actors import Actor
from surveys.service.answering import (
    Conversation,
    Expectation,
    NothingOpen,
    answer_typed,
)
from surveys.service.intake import Work, apply_event

log = logging.getLogger("itinera.telegram")

CHANNEL = Channel.TELEGRAM.value


class TelegramEvents:
    def __init__(self, services: TelegramServices) -> None:
        self.services = services

    # --- the handler ----------------------------------------------------------------------------

    async def handle(self, event: InboundEvent, *, worker: str) -> None:
        try:
            update = Update.de_json(json.loads(event.payload), None)
        except Exception as error:
            log.warning("unreadable Telegram update %s ignored: %s", event.key, error)
            await self._commit(event, worker, _nothing, error=f"unreadable update: {error}")
            return
        if update.callback_query is not None:
            await self._press(event, worker, update.callback_query)
            return
        message = update.message
        if message is None or message.chat.type != "private" or message.from_user is None:
            await self._commit(event, worker, _nothing)  # a kind of update we do not handle
            return
        written = message.text
        if written is not None and written.startswith("/"):
            await self._command(event, worker, message, written)
        elif written is not None:
            await self._text(event, worker, message, written)
        else:
            await self._not_text(event, worker, message)

    async def give_up(self, event: InboundEvent, *, worker: str, error: str) -> None:
        """Record why the update was not applied, and apologise to the person."""
        chat = _chat_of(event)
        participant = await self._participant(event.subject)
        apology = (
            text("something_went_wrong", language_of(participant.language))
            if participant is not None
            else multilingual("something_went_wrong")
        )
        key = f"reply:{event.id}:failed"
        query = _query_of(event)

        async def tell(_tx: Repositories) -> Sequence[NewMessage]:
            out: list[NewMessage] = []
            if query is not None:
                out.append(presenter.answer_press(Pressed(query, None), None, key=f"{key}:q"))
            if chat is not None:
                out.extend(presenter.text_messages(chat, apology, key=key))
            return out

        await self._commit(event, worker, tell, error=error)

    # --- commands ---------------------------------------------------------------------------------

    async def _command(
        self, event: InboundEvent, worker: str, message: Message, written: str
    ) -> None:
        name, args = _command_parts(written)
        chat_id = message.chat.id
        key = f"reply:{event.id}"
        if name == "start":
            await self._start(event, worker, message, args)
            return
        participant = await self._participant(event.subject)
        if participant is None:
            await self._commit(event, worker, _saying(chat_id, multilingual("unknown_user"), key))
            return
        language = language_of(participant.language)
        if name == "survey":
            await self._commit(event, worker, self._newest(participant, chat_id, key))
        elif name == "language":
            prompt = text("language_prompt", language)
            keyboard = keyboards.language_keyboard(language)
            await self._commit(event, worker, _saying(chat_id, prompt, key, keyboard))
        elif name == "timezone":
            await self._timezone(event, worker, participant, chat_id, args)
        elif name in organiser.VERBS:
            await self._organiser(event, worker, participant, chat_id, written)
        else:
            await self._commit(event, worker, self._help(participant, chat_id, key))

    async def _start(
        self, event: InboundEvent, worker: str, message: Message, args: list[str]
    ) -> None:
        """``/start CODE`` enrols; ``/start`` alone greets a known delegate and shows the round."""
        chat_id = message.chat.id
        key = f"reply:{event.id}"
        known = await self._participant(event.subject)
        code = start_code(args)
        if code is None:
            if known is None:
                await self._commit(
                    event, worker, _saying(chat_id, multilingual("unknown_user"), key)
                )
                return
            welcome = text("welcome_back", language_of(known.language), name=known.name)
            await self._commit(event, worker, self._newest(known, chat_id, key, before=welcome))
            return
        now = self.services.clock.now()

        async def enrol(tx: Repositories) -> Sequence[NewMessage]:
            attempt = await delegates.enrol(
                tx, channel=CHANNEL, code_hash=code_hash(code), external_id=event.subject, now=now
            )
            result = attempt.enrolment
            if attempt.retry_at is not None:
                moment = f"{attempt.retry_at:%H:%M}"
                refusal = (
                    text("code_throttled", language_of(known.language), time=moment)
                    if known
                    else multilingual_with("code_throttled", time=moment)
                )
                return presenter.text_messages(chat_id, refusal, key=key)
            if result.outcome is EnrolmentOutcome.ENROLLED and result.participant_id is not None:
                await tx.identities.set_address(result.participant_id, CHANNEL, str(chat_id))
                await tx.rounds.invite_again(result.participant_id, now=now)
                participant = await tx.roster.get_participant(result.participant_id)
                greeting = await self._greeting(tx, participant)
                return await self._newest_in(
                    tx, participant, chat_id, key, before=greeting, quiet=True
                )
            if result.outcome is EnrolmentOutcome.USED and known is not None:
                already = text("already_enrolled", language_of(known.language), name=known.name)
                return await self._newest_in(tx, known, chat_id, key, before=already, quiet=True)
            refusal_key = {
                EnrolmentOutcome.USED: "code_used",
                EnrolmentOutcome.EXPIRED: "code_expired",
                EnrolmentOutcome.LINKED_ELSEWHERE: "code_linked_elsewhere",
            }.get(result.outcome, "code_unknown")
            owner = known
            if owner is None and result.participant_id is not None:
                owner = await tx.roster.get_participant(result.participant_id)
            refusal = (
                text(refusal_key, language_of(owner.language))
                if owner
                else multilingual(refusal_key)
            )
            return presenter.text_messages(chat_id, refusal, key=key)

        await self._commit(event, worker, enrol)

    async def _greeting(self, tx: Repositories, participant: Participant) -> str:
        language = language_of(participant.language)
        if participant.role is Role.ORGANISER:
            return text("greeting_organiser", language, name=participant.name)
        delegation = participant.delegation or ""
        for candidate in await tx.roster.list_delegations():
            if candidate.code == participant.delegation:
                delegation = candidate.name
        return text("greeting", language, name=participant.name, delegation=delegation)

    def _help(self, participant: Participant, chat_id: int, key: str) -> Work:
        """What the bot does for a delegate; for an organiser, the organisers' commands too,
        worded by the core as on Slack."""
        general = text("help", language_of(participant.language))

        async def help_(tx: Repositories) -> Sequence[NewMessage]:
            if not Actor.of(participant, CHANNEL).is_organiser:
                return presenter.text_messages(chat_id, general, key=key)
            theirs = await organiser.reply_to(self.services, tx, participant, grammar.Help())
            reply = Reply.of(*general.split("\n")) + theirs
            return presenter.rendered_messages(chat_id, render_reply(reply), key=key)

        return help_

    async def _timezone(
        self,
        event: InboundEvent,
        worker: str,
        participant: Participant,
        chat_id: int,
        args: list[str],
    ) -> None:
        """``/timezone Area/City`` sets it; ``/timezone`` alone offers common zones."""
        key = f"reply:{event.id}"
        language = language_of(participant.language)
        if not args:
            prompt = text("timezone_prompt", language, zone=participant.timezone)
            keyboard = keyboards.timezone_keyboard(participant.timezone)
            await self._commit(event, worker, _saying(chat_id, prompt, key, keyboard))
            return

        async def set_zone(tx: Repositories) -> Sequence[NewMessage]:
            reply = await self._set_zone(tx, participant, " ".join(args))
            return presenter.text_messages(chat_id, reply, key=key)

        await self._commit(event, worker, set_zone)

    async def _set_zone(self, tx: Repositories, participant: Participant, name: str) -> str:
        language = language_of(participant.language)
        try:
            zone = await delegates.set_timezone(tx, participant, name)
        except RequestError:
            return text("timezone_invalid", language, zone=name.strip()[:64])
        local = self.services.clock.now().astimezone(ZoneInfo(zone))
        return text("timezone_set", language, zone=zone, time=f"{local:%H:%M}")

    async def _organiser(
        self,
        event: InboundEvent,
        worker: str,
        participant: Participant,
        chat_id: int,
        written: str,
    ) -> None:
        """``/rounds``, ``/status``, ``/launch``, ``/close``, ``/extend``, ``/digest``: one call
        into the core (:mod:`.organiser`), which also refuses them to delegates."""
        key = f"reply:{event.id}"
        if organiser.is_digest(written):
            # Made outside the transaction (it renders charts and posts); a replay after a
            # crash between posting and completing would post it again.
            made = await organiser.answer(self.services, self.services.store, participant, written)

            async def posted(_tx: Repositories) -> Sequence[NewMessage]:
                return presenter.rendered_messages(chat_id, render_reply(made), key=key)

            await self._commit(event, worker, posted)
            return

        async def run(tx: Repositories) -> Sequence[NewMessage]:
            reply = await organiser.answer(self.services, tx, participant, written)
            return presenter.rendered_messages(chat_id, render_reply(reply), key=key)

        await self._commit(event, worker, run)

    # --- texts ------------------------------------------------------------------------------------

    async def _text(self, event: InboundEvent, worker: str, message: Message, written: str) -> None:
        """Typed text answers the question the delegate was shown when they typed it."""
        chat_id = message.chat.id
        key = f"reply:{event.id}"
        participant = await self._participant(event.subject)
        if participant is None:
            await self._commit(event, worker, _saying(chat_id, multilingual("unknown_user"), key))
            return
        language = language_of(participant.language)

        async def typed(tx: Repositories) -> Sequence[NewMessage]:
            reply = await answer_typed(
                tx, participant, written, event.target, clock=self.services.clock
            )
            if isinstance(reply, NothingOpen):
                return presenter.text_messages(chat_id, reply.notice, key=key)
            summary = reply.kind in (ScreenKind.REVIEW, ScreenKind.SUBMITTED)
            if summary and not reply.accepted and not reply.stale:
                # Nothing to answer at the summary: said in a line, not the summary again.
                said = f"{reply.notice}\n\n" if reply.notice else ""
                return presenter.text_messages(
                    chat_id, said + text("see_survey", language), key=key
                )
            live = await tx.screens.get(channel=CHANNEL, response_id=reply.response.id)
            return presenter.screen_messages(reply, chat_id=chat_id, key=key, live=live)

        await self._commit(event, worker, typed)

    async def _not_text(self, event: InboundEvent, worker: str, message: Message) -> None:
        key = f"reply:{event.id}"
        participant = await self._participant(event.subject)
        if participant is None:
            await self._commit(event, worker, _nothing)
            return
        note = text("not_text", language_of(participant.language))
        await self._commit(event, worker, _saying(message.chat.id, note, key))

    # --- buttons ----------------------------------------------------------------------------------

    async def _press(self, event: InboundEvent, worker: str, query: CallbackQuery) -> None:
        """Every press is answered (first), with a short notice when there is one."""
        message = query.message
        chat_id = message.chat.id if message is not None else query.from_user.id
        pressed = Pressed(query.id, message.message_id if message is not None else None)
        key = f"reply:{event.id}"
        answer_key = f"{key}:answer"
        button = callbacks.decode(query.data)

        async def press(tx: Repositories) -> Sequence[NewMessage]:
            # Who pressed is read in the same transaction: one round trip, not one of its own.
            participant = await self._participant(event.subject, tx)
            if participant is None:
                return [
                    presenter.answer_press(pressed, None, key=answer_key),
                    *presenter.text_messages(chat_id, multilingual("unknown_user"), key=key),
                ]
            language = language_of(participant.language)
            match button:
                case None:
                    return [
                        presenter.answer_press(
                            pressed, text("unknown_button", language), key=answer_key
                        )
                    ]
                case callbacks.SetLanguage(language=chosen):
                    if chosen not in LANGUAGES:
                        notice = text("unknown_button", language)
                        return [presenter.answer_press(pressed, notice, key=answer_key)]
                    await delegates.set_language(tx, participant, chosen)
                    done = text("language_set", chosen)
                    return [
                        presenter.answer_press(pressed, None, key=answer_key),
                        *presenter.replace_messages(chat_id, pressed.message_id, done, key=key),
                    ]
                case callbacks.SetTimezone(zone=zone):
                    done = await self._set_zone(tx, participant, zone)
                    return [
                        presenter.answer_press(pressed, None, key=answer_key),
                        *presenter.replace_messages(chat_id, pressed.message_id, done, key=key),
                    ]
            assert not isinstance(button, callbacks.SetLanguage | callbacks.SetTimezone)
            said, shown = await self._survey_press(tx, participant, chat_id, pressed, button, key)
            return [presenter.answer_press(pressed, said, key=answer_key), *shown]

        await self._commit(event, worker, press)

    async def _survey_press(
        self,
        tx: Repositories,
        participant: Participant,
        chat_id: int,
        pressed: Pressed,
        button: callbacks.SurveyButton,
        key: str,
    ) -> tuple[str | None, list[NewMessage]]:
        """The notice to answer the press with, and the messages that show what follows."""
        language = language_of(participant.language)
        theirs = await tx.responses.own_response(button.response_id, participant.id)
        if theirs is None:
            off = (
                [presenter.keyboard_message(chat_id, pressed.message_id, None, key=f"{key}:off")]
                if pressed.message_id is not None
                else []
            )
            return text("unknown_button", language), off
        round_id = theirs.round_id
        live = await tx.screens.get(channel=CHANNEL, response_id=button.response_id)
        screen = await self._act(tx, participant, round_id, Show(), None)
        decision = survey_action(button, screen)
        if isinstance(decision, Stale):
            shown = presenter.screen_messages(
                screen, chat_id=chat_id, key=key, live=live, pressed=pressed.message_id
            )
            if screen.kind in (ScreenKind.CLOSED, ScreenKind.NOT_OPEN):
                return screen.notice, shown
            return text("stale_button", language), shown
        if isinstance(decision, Redraw):
            if pressed.message_id is None:
                return None, presenter.screen_messages(
                    screen, chat_id=chat_id, key=key, live=live, mask=decision.mask
                )
            return None, [
                presenter.redraw_message(
                    screen, chat_id=chat_id, pressed=pressed.message_id, mask=decision.mask, key=key
                )
            ]
        after = await self._act(tx, participant, round_id, decision, expectation(button, screen))
        if after.stale:  # it moved on between reading and writing: nothing was applied
            shown = presenter.screen_messages(
                after, chat_id=chat_id, key=key, live=live, pressed=pressed.message_id
            )
            return text("stale_button", language), shown
        # A refused selection stays selected, so the delegate corrects it rather than redoes it.
        kept = button.mask if isinstance(button, callbacks.Confirm) and not after.accepted else None
        shown = presenter.screen_messages(
            after, chat_id=chat_id, key=key, live=live, pressed=pressed.message_id, mask=kept
        )
        return after.notice, shown

    # --- helpers ----------------------------------------------------------------------------------

    async def _participant(
        self, user_id: str, tx: Repositories | None = None
    ) -> Participant | None:
        """The participant linked to the Telegram user, read in ``tx`` if given."""
        if not user_id:
            return None
        store = tx if tx is not None else self.services.store
        return await store.roster.find_by_identity(CHANNEL, user_id)

    def _newest(
        self,
        participant: Participant,
        chat_id: int,
        key: str,
        *,
        before: str | None = None,
        quiet: bool = False,
    ) -> Work:
        async def newest(tx: Repositories) -> Sequence[NewMessage]:
            return await self._newest_in(tx, participant, chat_id, key, before=before, quiet=quiet)

        return newest

    async def _newest_in(
        self,
        tx: Repositories,
        participant: Participant,
        chat_id: int,
        key: str,
        *,
        before: str | None = None,
        quiet: bool = False,
    ) -> list[NewMessage]:
        """``before`` (a greeting), then the newest open round where the delegate stands;
        without an open round, say so unless ``quiet``."""
        out = presenter.text_messages(chat_id, before, key=f"{key}:hello") if before else []
        opened = await delegates.open_rounds(tx, participant, now=self.services.clock.now())
        if not opened:
            if not quiet:
                no_round = text("no_open_round", language_of(participant.language))
                out.extend(presenter.text_messages(chat_id, no_round, key=key))
            return out
        round_, response = opened[0]
        live = await tx.screens.get(channel=CHANNEL, response_id=response.id)
        screen = await self._act(tx, participant, round_.id, Show(), None)
        out.extend(presenter.screen_messages(screen, chat_id=chat_id, key=key, live=live))
        return out

    async def _act(
        self,
        tx: Repositories,
        participant: Participant,
        round_id: int,
        action: Action,
        expect: Expectation | None,
    ) -> Screen:
        conversation = Conversation(tx, clock=self.services.clock, notes=self.services.notes)
        return await conversation.act(participant, round_id, action, expect=expect)

    async def _commit(
        self, event: InboundEvent, worker: str, work: Work, *, error: str | None = None
    ) -> None:
        """Do ``work`` and complete the event in one transaction; then wake the sender."""
        now = self.services.clock.now()
        shown = presenter.live_screen
        store = self.services.store
        if await apply_event(store, event, work, worker=worker, now=now, shown=shown, error=error):
            self.services.wake_sender()


def _command_parts(written: str) -> tuple[str, list[str]]:
    """``/verb@bot a b`` -> (``verb``, [``a``, ``b``])."""
    head, *args = written.split()
    return head[1:].split("@", 1)[0].lower(), args


def _chat_of(event: InboundEvent) -> int | None:
    try:
        raw = json.loads(event.payload)
    except ValueError:
        return None
    for part in ("message", "callback_query"):
        found = raw.get(part) if isinstance(raw, dict) else None
        if isinstance(found, dict):
            message = found.get("message") if part == "callback_query" else found
            chat = (message or {}).get("chat") or {}
            if isinstance(chat.get("id"), int):
                return int(chat["id"])
            sender = found.get("from") or {}
            if part == "callback_query" and isinstance(sender.get("id"), int):
                return int(sender["id"])
    return None


def _query_of(event: InboundEvent) -> str | None:
    try:
        raw = json.loads(event.payload)
    except ValueError:
        return None
    query = raw.get("callback_query") if isinstance(raw, dict) else None
    return str(query["id"]) if isinstance(query, dict) and query.get("id") else None


async def _nothing(_tx: Repositories) -> Sequence[NewMessage]:
    return []


def _saying(
    chat_id: int, value: str, key: str, keyboard: InlineKeyboardMarkup | None = None
) -> Work:
    async def say(_tx: Repositories) -> Sequence[NewMessage]:
        return presenter.text_messages(chat_id, value, key=key, keyboard=keyboard)

    return say


__all__ = ["TelegramEvents"]
