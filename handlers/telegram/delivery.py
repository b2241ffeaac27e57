"""Sending to Telegram: bounded retries, Telegram's refusals as core errors, screens in place.

:class:`Courier` wraps the bot's send/edit calls. A 429 (``RetryAfter``) waits what Telegram
asks, through an injected ``sleep`` (tests pass one that returns at once), and tries again a
bounded number of times; a user who blocked the bot (403) is a permanent
:class:`~surveys.errors.DeliveryError`; an edit of a message that is gone falls back to a new
message.

:class:`ScreenPresenter` shows a delegate's screen: it keeps the id of the message showing the
current question in the outbox (key ``screen:<response_id>``), edits that message when the
delegate pressed one of its buttons, and otherwise sends new messages and takes the keyboard
off the old one, so that only one live keyboard remains.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from handlers.telegram.keyboards import question_keyboard
from handlers.telegram.render import Outgoing, render_screen, render_text
from surveys.conversation import Screen
from surveys.errors import DeliveryError
from surveys.ports import Clock, OutboxRepository
from surveys.records import Channel

log = logging.getLogger("itinera.telegram")

CHANNEL = Channel.TELEGRAM.value
CALLBACK_TEXT_LIMIT = 200
CAPTION_LIMIT = 1024

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asked us to wait, whichever type this PTB version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _gone(error: BadRequest) -> bool:
    return "not found" in error.message.lower()


def _unchanged(error: BadRequest) -> bool:
    return "not modified" in error.message.lower()


class Courier:
    """The bot's send and edit calls, with retries on 429 and errors the core understands."""

    def __init__(
        self,
        bot: Bot,
        *,
        sleep: Sleep = asyncio.sleep,
        attempts: int = 4,
        max_wait: float = 120.0,
    ) -> None:
        self.bot = bot
        self._sleep = sleep
        self._attempts = max(attempts, 1)
        self._max_wait = max_wait

    async def call(self, recipient: object, make: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call, waiting out 429s; Telegram's refusals become DeliveryError.

        ``BadRequest`` is let through for callers that have a fallback (an edit).
        """
        for attempt in range(1, self._attempts + 1):
            try:
                return await make()
            except RetryAfter as error:
                wait = retry_seconds(error)
                if attempt == self._attempts or wait > self._max_wait:
                    raise DeliveryError(
                        CHANNEL, recipient, f"rate limited, retry after {wait:g} s"
                    ) from error
                log.info("Telegram asks to wait %g s (attempt %d)", wait, attempt)
                await self._sleep(wait)
            except Forbidden as error:
                raise DeliveryError(CHANNEL, recipient, error.message, permanent=True) from error
            except BadRequest:
                raise
            except TelegramError as error:
                raise DeliveryError(CHANNEL, recipient, error.message) from error
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(self, chat_id: int | str, message: Outgoing) -> Message:
        try:
            return await self.call(
                chat_id,
                lambda: self.bot.send_message(
                    chat_id,
                    message.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=message.keyboard,
                    link_preview_options=_NO_PREVIEW,
                ),
            )
        except BadRequest as error:  # chat not found, text refused: trying again cannot help
            raise DeliveryError(CHANNEL, chat_id, error.message, permanent=True) from error

    async def send_all(self, chat_id: int | str, messages: Sequence[Outgoing]) -> list[Message]:
        return [await self.send(chat_id, message) for message in messages]

    async def send_text(
        self, chat_id: int | str, value: str, keyboard: InlineKeyboardMarkup | None = None
    ) -> list[Message]:
        return await self.send_all(chat_id, render_text(value, keyboard))

    async def edit(self, chat_id: int, message_id: int, message: Outgoing) -> bool:
        """Replace a message's text and keyboard; False if it cannot be edited (send anew)."""
        try:
            await self.call(
                chat_id,
                lambda: self.bot.edit_message_text(
                    message.text,
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=message.keyboard,
                    link_preview_options=_NO_PREVIEW,
                ),
            )
        except BadRequest as error:
            if _unchanged(error):
                return True
            log.info("cannot edit message %s in chat %s: %s", message_id, chat_id, error.message)
            return False
        return True

    async def edit_keyboard(
        self, chat_id: int, message_id: int, keyboard: InlineKeyboardMarkup | None
    ) -> bool:
        """Replace only a message's keyboard; False if the message cannot be edited."""
        try:
            await self.call(
                chat_id,
                lambda: self.bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=keyboard
                ),
            )
        except BadRequest as error:
            return _unchanged(error)
        return True

    async def remove_keyboard(self, chat_id: int, message_id: int) -> None:
        """Take the buttons off an old message; it may be gone, which is fine."""
        try:
            await self.edit_keyboard(chat_id, message_id, None)
        except DeliveryError as error:
            if error.permanent:
                raise
            log.info("keyboard of message %s left in place: %s", message_id, error.reason)

    async def answer(self, query_id: str, notice: str | None = None) -> None:
        """Answer a callback query (always, so the client stops waiting); never raises."""
        toast = (
            notice
            if notice is None or len(notice) <= CALLBACK_TEXT_LIMIT
            else (notice[: CALLBACK_TEXT_LIMIT - 1] + "…")
        )
        try:
            await self.call(query_id, lambda: self.bot.answer_callback_query(query_id, toast))
        except (DeliveryError, BadRequest) as error:  # a query too old to answer, mostly
            log.info("callback query %s not answered: %s", query_id, error)

    async def send_photo(
        self, chat_id: int | str, image: bytes, *, filename: str, caption: str | None
    ) -> None:
        """A PNG as a photo, or as a document if Telegram refuses it as a photo."""
        try:
            await self.call(
                chat_id,
                lambda: self.bot.send_photo(
                    chat_id, image, caption=caption, parse_mode=ParseMode.HTML, filename=filename
                ),
            )
            return
        except BadRequest as error:
            log.info("photo refused (%s); sending %s as a document", error.message, filename)
        try:
            await self.call(
                chat_id,
                lambda: self.bot.send_document(
                    chat_id, image, caption=caption, parse_mode=ParseMode.HTML, filename=filename
                ),
            )
        except BadRequest as error:
            raise DeliveryError(CHANNEL, chat_id, error.message, permanent=True) from error


def screen_key(response_id: int) -> str:
    """The outbox key of the message showing a response's current screen."""
    return f"screen:{response_id}"


class ScreenPresenter:
    """Shows screens, editing in place where the delegate pressed, one live keyboard at most."""

    def __init__(self, courier: Courier, outbox: OutboxRepository, *, clock: Clock) -> None:
        self._courier = courier
        self._outbox = outbox
        self._clock = clock

    async def current_message(self, response_id: int) -> int | None:
        """The id of the message showing this response's screen, if we know it."""
        shown = await self._outbox.get(channel=CHANNEL, key=screen_key(response_id))
        if shown is None or not shown.message_id or not shown.message_id.isdigit():
            return None
        return int(shown.message_id)

    async def show(
        self,
        chat_id: int,
        screen: Screen,
        *,
        pressed: int | None = None,
        mask: int | None = None,
        preface: str | None = None,
    ) -> int:
        """Show ``screen``; ``pressed`` is the message whose button led here. Returns the id of
        the message now showing the screen (the one with its keyboard)."""
        rendered = render_screen(screen, mask=mask)
        previous = await self.current_message(screen.response.id)
        in_place = (
            pressed is not None
            and preface is None
            and len(rendered) == 1
            and previous in (None, pressed)
        )
        if in_place and pressed is not None:
            if await self._courier.edit(chat_id, pressed, rendered[0]):
                if previous != pressed:
                    await self._remember(screen.response.id, chat_id, pressed)
                return pressed
            previous = None if previous == pressed else previous
        if preface:
            await self._courier.send_text(chat_id, preface)
        sent = await self._courier.send_all(chat_id, rendered)
        shown = sent[-1].message_id
        await self._remember(screen.response.id, chat_id, shown)
        for old in {previous, pressed} - {None, shown}:
            assert old is not None
            await self._courier.remove_keyboard(chat_id, old)
        return shown

    async def redraw(self, chat_id: int, pressed: int | None, screen: Screen, mask: int) -> int:
        """Show a multiple-choice selection on the pressed message's buttons."""
        if pressed is not None:
            keyboard = question_keyboard(screen, mask=mask)
            if await self._courier.edit_keyboard(chat_id, pressed, keyboard):
                return pressed
        return await self.show(chat_id, screen, mask=mask)

    async def _remember(self, response_id: int, chat_id: int, message_id: int) -> None:
        await self._outbox.mark_sent(
            channel=CHANNEL,
            key=screen_key(response_id),
            address=str(chat_id),
            message_id=str(message_id),
            now=self._clock.now(),
        )
