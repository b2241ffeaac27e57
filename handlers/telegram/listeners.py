"""The python-telegram-bot handlers: parse, one call into the core, render.

Every delegate action goes through :meth:`surveys.conversation.Conversation.act`; what to show
comes back as a screen, drawn by :mod:`.render` and shown by :class:`~.delivery.ScreenPresenter`.
Nothing is kept in PTB's ``user_data``/``chat_data``: a restarted bot, or another process on the
same database, carries on where the delegate was.

Usage::

    listeners = register(application, services)
    ...
    error = listeners.failures.pop(update_id, None)   # what went wrong, for the inbox
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers.telegram import callbacks, keyboards, organiser
from handlers.telegram.enrolment import code_hash
from handlers.telegram.inbound import (
    Redraw,
    Stale,
    expectation,
    round_number,
    start_code,
    survey_action,
    typed_answer,
)
from handlers.telegram.render import RoundOverview, render_rounds, render_status, render_text
from handlers.telegram.services import TelegramServices
from handlers.telegram.texts import LANGUAGES, language_of, multilingual, text
from surveys.conversation import ScreenKind, Show
from surveys.errors import DeliveryError, ItineraError, NotFoundError
from surveys.records import (
    EnrolmentOutcome,
    Participant,
    Response,
    Role,
    Round,
    RoundStatus,
)
from surveys.service import organising
from surveys.service.actors import Actor

log = logging.getLogger("itinera.telegram")

CHANNEL = "telegram"
PRIVATE = filters.ChatType.PRIVATE

COMMANDS = ("survey", "language", "timezone", "help")
"""The command menu Telegram shows, per language, to everyone: organiser commands (/rounds,
/status, /launch, /close, /extend, /digest) stay out of it and are listed by /help to
organisers only (``help_organiser``)."""


def menu(language: str) -> list[BotCommand]:
    return [BotCommand(name, text(f"menu_{name}", language)) for name in COMMANDS]


@functools.cache
def _zones() -> dict[str, str]:
    """IANA zone names by their case-folded form, so ``europe/paris`` is understood too."""
    return {zone.casefold(): zone for zone in available_timezones()}


def known_zone(name: str) -> str | None:
    """The canonical IANA name for ``name``, or None if it is not a zone."""
    return _zones().get(name.strip().casefold())


class TelegramListeners:
    """One instance per application; its methods are the PTB callbacks."""

    def __init__(self, services: TelegramServices) -> None:
        self.services = services
        self.repos = services.repos
        self.courier = services.courier
        self.presenter = services.presenter
        self.failures: dict[int, str] = {}
        """Update id -> what went wrong while processing it (read by the inbox worker)."""

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        handlers = [
            CommandHandler("start", self.start, filters=PRIVATE),
            CommandHandler("survey", self.survey, filters=PRIVATE),
            CommandHandler("language", self.language, filters=PRIVATE),
            CommandHandler("timezone", self.timezone, filters=PRIVATE),
            CommandHandler("help", self.help, filters=PRIVATE),
            CommandHandler("rounds", self.rounds, filters=PRIVATE),
            CommandHandler("status", self.status, filters=PRIVATE),
            CommandHandler(organiser.VERBS, self.organiser_command, filters=PRIVATE),
            MessageHandler(PRIVATE & filters.COMMAND, self.help),
            MessageHandler(PRIVATE & filters.TEXT, self.text),
            MessageHandler(PRIVATE & ~filters.StatusUpdate.ALL, self.not_text),
            CallbackQueryHandler(self.button),
        ]
        for handler in handlers:
            application.add_handler(handler)
        application.add_error_handler(self.on_error)

    # --- who is writing --------------------------------------------------------------------

    async def participant(self, user_id: int) -> Participant | None:
        return await self.repos.roster.find_by_identity(CHANNEL, str(user_id))

    async def open_participations(self, participant: Participant) -> list[tuple[Round, Response]]:
        """Rounds open now that the participant was invited to, newest first."""
        now = self.services.clock.now()
        return [
            (round_, response)
            for round_, response in await self.repos.identities.participations(participant.id)
            if round_.status_at(now) is RoundStatus.OPEN
        ]

    async def active_round(self, participant: Participant) -> Round | None:
        """The round typed text answers: the one whose screen was shown last, else the newest."""
        opened = await self.open_participations(participant)
        if len(opened) <= 1:
            return opened[0][0] if opened else None
        latest: tuple[datetime, int] | None = None
        chosen = opened[0][0]
        for round_, response in opened:
            shown = await self.repos.outbox.get(channel=CHANNEL, key=f"screen:{response.id}")
            if shown is not None and (latest is None or (shown.updated_at, round_.id) > latest):
                latest = (shown.updated_at, round_.id)
                chosen = round_
        return chosen

    # --- commands ----------------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start CODE`` enrols; ``/start`` alone greets a known delegate and shows the round."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        known = await self.participant(user.id)
        code = start_code(context.args or [])
        if code is None:
            if known is None:
                await self.courier.send_text(chat.id, multilingual("unknown_user"))
                return
            language = language_of(known.language)
            await self.courier.send_text(chat.id, text("welcome_back", language, name=known.name))
            await self.show_newest(chat.id, known)
            return
        now = self.services.clock.now()
        result = await self.repos.enrolments.redeem(
            channel=CHANNEL, code_hash=code_hash(code), external_id=str(user.id), now=now
        )
        if result.outcome is EnrolmentOutcome.ENROLLED and result.participant_id is not None:
            await self.repos.identities.set_address(result.participant_id, CHANNEL, str(chat.id))
            participant = await self.repos.roster.get_participant(result.participant_id)
            await self.courier.send_text(chat.id, await self.greeting(participant))
            await self.show_newest(chat.id, participant, quiet=True)
            return
        if result.outcome is EnrolmentOutcome.USED and known is not None:
            language = language_of(known.language)
            await self.courier.send_text(
                chat.id, text("already_enrolled", language, name=known.name)
            )
            await self.show_newest(chat.id, known, quiet=True)
            return
        key = {
            EnrolmentOutcome.USED: "code_used",
            EnrolmentOutcome.EXPIRED: "code_expired",
        }.get(result.outcome, "code_unknown")
        owner = known
        if owner is None and result.participant_id is not None:
            owner = await self.repos.roster.get_participant(result.participant_id)
        refusal = text(key, language_of(owner.language)) if owner else multilingual(key)
        await self.courier.send_text(chat.id, refusal)

    async def greeting(self, participant: Participant) -> str:
        language = language_of(participant.language)
        if participant.role is Role.ORGANISER:
            return text("greeting_organiser", language, name=participant.name)
        delegation = participant.delegation or ""
        for candidate in await self.repos.roster.list_delegations():
            if candidate.code == participant.delegation:
                delegation = candidate.name
        return text("greeting", language, name=participant.name, delegation=delegation)

    async def survey(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/survey``: the newest open round, where the delegate stands in it."""
        found = await self.sender(update)
        if found is not None:
            await self.show_newest(found[1], found[0])

    async def show_newest(
        self, chat_id: int, participant: Participant, *, quiet: bool = False
    ) -> None:
        """Show the newest open round; without one, say so unless ``quiet``."""
        opened = await self.open_participations(participant)
        if not opened:
            if not quiet:
                language = language_of(participant.language)
                await self.courier.send_text(chat_id, text("no_open_round", language))
            return
        round_ = opened[0][0]
        screen = await self.services.conversation.act(participant, round_.id, Show())
        await self.presenter.show(chat_id, screen)

    async def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await self.sender(update)
        if found is None:
            return
        participant, chat_id = found
        language = language_of(participant.language)
        await self.courier.send_text(
            chat_id, text("language_prompt", language), keyboards.language_keyboard(language)
        )

    async def timezone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/timezone Area/City`` sets it; ``/timezone`` alone offers common zones."""
        found = await self.sender(update)
        if found is None:
            return
        participant, chat_id = found
        language = language_of(participant.language)
        args = context.args or []
        if not args:
            prompt = text("timezone_prompt", language, zone=participant.timezone)
            keyboard = keyboards.timezone_keyboard(participant.timezone)
            await self.courier.send_text(chat_id, prompt, keyboard)
            return
        await self.courier.send_text(chat_id, await self.set_zone(participant, " ".join(args)))

    async def set_zone(self, participant: Participant, name: str) -> str:
        language = language_of(participant.language)
        zone = known_zone(name)
        if zone is None:
            return text("timezone_invalid", language, zone=name.strip()[:64])
        await self.repos.identities.set_timezone(participant.id, zone)
        local = self.services.clock.now().astimezone(ZoneInfo(zone))
        return text("timezone_set", language, zone=zone, time=f"{local:%H:%M}")

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await self.sender(update)
        if found is None:
            return
        participant, chat_id = found
        language = language_of(participant.language)
        message = text("help", language)
        if participant.role is Role.ORGANISER:
            message += "\n\n" + text("help_organiser", language)
        await self.courier.send_text(chat_id, message)

    async def rounds(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/rounds`` (organisers): open rounds with their response counts."""
        found = await self.organiser(update)
        if found is None:
            return
        participant, chat_id = found
        language = language_of(participant.language)
        summaries = await organising.overview(
            self.repos,
            Actor.of(participant, CHANNEL),
            now=self.services.clock.now(),
            open_only=True,
        )
        overviews = [RoundOverview(s.round, s.title, s.counts) for s in summaries]
        rendered = render_rounds(overviews, language=language, zone=participant.timezone)
        await self.courier.send_all(chat_id, rendered)

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/status ROUND`` (organisers): who has and has not answered, by delegation."""
        found = await self.organiser(update)
        if found is None:
            return
        participant, chat_id = found
        language = language_of(participant.language)
        round_id = round_number(context.args or [])
        if round_id is None:
            opened = await self.repos.rounds.open_rounds(self.services.clock.now())
            example = opened[-1].id if opened else 1
            await self.courier.send_text(chat_id, text("status_usage", language, example=example))
            return
        try:
            report = await organising.status(self.repos, Actor.of(participant, CHANNEL), round_id)
        except NotFoundError:
            await self.courier.send_text(chat_id, text("no_such_round", language, id=round_id))
            return
        rendered = render_status(
            report.round,
            title=report.title,
            lines=report.lines,
            now=self.services.clock.now(),
            language=language,
            zone=participant.timezone,
        )
        await self.courier.send_all(chat_id, rendered)

    async def organiser_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/launch``, ``/close``, ``/extend``, ``/digest`` (organisers): see :mod:`.organiser`."""
        message = update.effective_message
        found = await self.organiser(update)
        if found is None or message is None or message.text is None:
            return
        participant, chat_id = found
        reply = await organiser.answer(self.services, participant, message.text)
        await self.courier.send_text(chat_id, reply)

    # --- messages ----------------------------------------------------------------------------

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Typed text answers the current question of the active round."""
        message = update.effective_message
        found = await self.sender(update)
        if found is None or message is None or message.text is None:
            return
        participant, chat_id = found
        round_ = await self.active_round(participant)
        if round_ is None:
            await self.courier.send_text(
                chat_id, text("no_open_round", language_of(participant.language))
            )
            return
        screen = await self.services.conversation.act(
            participant, round_.id, typed_answer(message.text)
        )
        if screen.kind in (ScreenKind.REVIEW, ScreenKind.SUBMITTED) and not screen.accepted:
            language = language_of(participant.language)
            reply = f"{screen.notice}\n\n" if screen.notice else ""
            await self.courier.send_text(chat_id, reply + text("see_survey", language))
            return
        await self.presenter.show(chat_id, screen)

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await self.sender(update)
        if found is not None:
            participant, chat_id = found
            await self.courier.send_text(
                chat_id, text("not_text", language_of(participant.language))
            )

    # --- buttons -----------------------------------------------------------------------------

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every callback query is answered, with a short notice when there is one."""
        query = update.callback_query
        if query is None:
            return
        try:
            notice = await self.press(update)
        except Exception:
            await self.courier.answer(query.id, text("something_went_wrong", "en"))
            raise
        await self.courier.answer(query.id, notice)

    async def press(self, update: Update) -> str | None:
        query = update.callback_query
        assert query is not None
        user = query.from_user
        message = query.message
        chat_id = message.chat.id if message is not None else user.id
        pressed = message.message_id if message is not None else None
        participant = await self.participant(user.id)
        button = callbacks.decode(query.data)
        if participant is None:
            await self.courier.send_text(chat_id, multilingual("unknown_user"))
            return None
        language = language_of(participant.language)
        match button:
            case None:
                return text("unknown_button", language)
            case callbacks.SetLanguage(language=chosen):
                if chosen not in LANGUAGES:
                    return text("unknown_button", language)
                await self.repos.identities.set_language(participant.id, chosen)
                await self._replace(chat_id, pressed, text("language_set", chosen))
                return None
            case callbacks.SetTimezone(zone=zone):
                await self._replace(chat_id, pressed, await self.set_zone(participant, zone))
                return None
        return await self.survey_press(participant, chat_id, pressed, button)

    async def survey_press(
        self,
        participant: Participant,
        chat_id: int,
        pressed: int | None,
        button: callbacks.SurveyButton,
    ) -> str | None:
        language = language_of(participant.language)
        mine = [
            round_
            for round_, response in await self.repos.identities.participations(participant.id)
            if response.id == button.response_id
        ]
        if not mine:
            if pressed is not None:
                await self.courier.remove_keyboard(chat_id, pressed)
            return text("unknown_button", language)
        round_id = mine[0].id
        screen = await self.services.conversation.act(participant, round_id, Show())
        decision = survey_action(button, screen)
        if isinstance(decision, Stale):
            await self.presenter.show(chat_id, screen, pressed=pressed)
            if screen.kind in (ScreenKind.CLOSED, ScreenKind.NOT_OPEN):
                return screen.notice
            return text("stale_button", language)
        if isinstance(decision, Redraw):
            await self.presenter.redraw(chat_id, pressed, screen, decision.mask)
            return None
        expect = expectation(button, screen)
        after = await self.services.conversation.act(participant, round_id, decision, expect=expect)
        if after.stale:  # it moved on between reading and writing: nothing was applied
            await self.presenter.show(chat_id, after, pressed=pressed)
            return text("stale_button", language)
        # A refused selection stays selected, so the delegate corrects it rather than redoes it.
        kept = button.mask if isinstance(button, callbacks.Confirm) and not after.accepted else None
        await self.presenter.show(chat_id, after, pressed=pressed, mask=kept)
        return after.notice

    async def _replace(self, chat_id: int, pressed: int | None, value: str) -> None:
        """Put ``value`` in place of the pressed message (its buttons go), or send it."""
        rendered = render_text(value)
        if (
            pressed is None
            or len(rendered) > 1
            or not await self.courier.edit(chat_id, pressed, rendered[0])
        ):
            await self.courier.send_all(chat_id, rendered)

    # --- helpers -----------------------------------------------------------------------------

    async def sender(self, update: Update) -> tuple[Participant, int] | None:
        """The participant writing and their chat; someone unknown is told how to enrol."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return None
        participant = await self.participant(user.id)
        if participant is None:
            await self.courier.send_text(chat.id, multilingual("unknown_user"))
            return None
        return participant, chat.id

    async def organiser(self, update: Update) -> tuple[Participant, int] | None:
        found = await self.sender(update)
        if found is None:
            return None
        participant, chat_id = found
        if participant.role is not Role.ORGANISER:
            await self.courier.send_text(
                chat_id, text("organiser_only", language_of(participant.language))
            )
            return None
        return found

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error hook: log, tell the person if they can be told, record for the inbox."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is not None:
            self.failures[update_id] = f"{type(error).__name__}: {error}"
        if isinstance(error, DeliveryError):
            log.warning("Telegram update %s: %s", update_id, error)
            return
        if isinstance(error, ItineraError):
            log.warning("Telegram update %s: %s", update_id, error)
        else:
            log.error("Telegram update %s failed", update_id, exc_info=error)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None or chat.type != "private":
            return
        try:
            participant = await self.participant(chat.id)
            apology = (
                text("something_went_wrong", language_of(participant.language))
                if participant is not None
                else multilingual("something_went_wrong")
            )
            await self.courier.send_text(chat.id, apology)
        except Exception:  # the database or Telegram may be what failed
            log.warning("could not tell chat %s that update %s failed", chat.id, update_id)


def register(
    application: Application[Any, Any, Any, Any, Any, Any], services: TelegramServices
) -> TelegramListeners:
    """Add the Telegram listeners and the error hook to ``application``."""
    listeners = TelegramListeners(services)
    listeners.register(application)
    return listeners


def command_menus() -> Sequence[tuple[str | None, list[BotCommand]]]:
    """The command menu per language code (None: the default, English)."""
    return [(None, menu("en")), *((language, menu(language)) for language in LANGUAGES)]
