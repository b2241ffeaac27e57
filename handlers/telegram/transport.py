"""Sending stored messages to the Bot API, and what Telegram's answer means for them.

:class:`TelegramTransport` makes one call per outbox message with python-telegram-bot's
``Bot.do_api_request`` (the stored body is already the Bot API's JSON, and the answer is read
as JSON: no PTB object is built per message) and turns the answer into a verdict for the
sender:

- sent, with the message id (an edit that changes nothing is sent too);
- an edit of a message that is gone (deleted, too old) is sent as a new message instead, so the
  delegate still sees their screen; taking the buttons off a message that is gone succeeds;
- try later: a 429 with its ``retry_after`` (per chat for sending methods), a network error;
- refused for good: the delegate blocked the bot (403), the chat or text is refused (400);
- refused for the channel: the token is invalid (nothing can be sent until it is fixed).

The same applies to the new message sent in place of an edit (a 429 on it is tried later).
A message naming a method this transport does not know is refused: it can never be sent.
"""

from __future__ import annotations

import base64
import logging
import re
import warnings
from typing import Any

from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBUserWarning

from handlers.telegram.delivery import retry_seconds
from handlers.telegram.presenter import CHANNEL, SEND_METHODS
from surveys.queues import OutboundMessage
from surveys.service.sending import Refused, RetryLater, Sent, Verdict

log = logging.getLogger("itinera.telegram")

EDITS = frozenset({"editMessageText", "editMessageReplyMarkup"})


FIELDS: dict[str, tuple[str, ...]] = {
    "sendMessage": ("chat_id", "text", "parse_mode", "reply_markup"),
    "editMessageText": ("chat_id", "message_id", "text", "parse_mode", "reply_markup"),
    "editMessageReplyMarkup": ("chat_id", "message_id", "reply_markup"),
    "answerCallbackQuery": ("callback_query_id", "text"),
}
"""What each method this transport sends takes from a stored body."""
PREVIEWED = frozenset({"sendMessage", "editMessageText"})
NO_PREVIEW = {"is_disabled": True}

# ``Bot.do_api_request`` suggests the typed method for every endpoint PTB knows; those would
# build a keyboard object per message and parse every answer into a ``Message``.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.\w+' instead of 'Bot\.do_api_request",
    category=PTBUserWarning,
    module=re.escape(__name__),
)


def _gone(error: BadRequest) -> bool:
    message = error.message.lower()
    return "not found" in message or "can't be edited" in message


def _unchanged(error: BadRequest) -> bool:
    return "not modified" in error.message.lower()


class UnknownMethod(Exception):
    """An outbox message names a method this transport does not send (it never will)."""

    def __init__(self, method: str) -> None:
        super().__init__(f"no such Telegram method in the outbox: {method!r}")


def _verdict(error: TelegramError, *, method: str) -> Verdict:
    """What Telegram's refusal of a ``method`` call means for the message."""
    if isinstance(error, RetryAfter):
        return RetryLater(
            "rate limited",
            after=retry_seconds(error),
            rate_limited=True,
            per_address=method in SEND_METHODS,
        )
    if isinstance(error, InvalidToken):
        return Refused(error.message, channel_wide=True)
    if isinstance(error, Forbidden | BadRequest):
        return Refused(error.message)
    if isinstance(error, ChatMigrated):
        return Refused(f"the chat is now {error.new_chat_id}: {error.message}")
    return RetryLater(error.message)  # network errors, timeouts, Telegram's own 5xx


class TelegramTransport:
    channel = CHANNEL

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def check(self) -> str | None:
        try:
            await self._bot.get_me()
        except TelegramError as error:
            return error.message
        return None

    async def send(self, message: OutboundMessage) -> Verdict:
        body = dict(message.body)
        try:
            result = await self._call(message.method, body)
        except BadRequest as error:
            return await self._bad_request(message, body, error)
        except TelegramError as error:
            return _verdict(error, method=message.method)
        except UnknownMethod as error:
            return Refused(str(error))
        return self._sent(message, result)

    async def _bad_request(
        self, message: OutboundMessage, body: dict[str, Any], error: BadRequest
    ) -> Verdict:
        if message.method in EDITS and _unchanged(error):
            return Sent(platform_id=str(body.get("message_id")), address=str(body["chat_id"]))
        if message.method == "editMessageReplyMarkup" and _gone(error):
            return Sent(platform_id=None)  # no buttons left to take off
        if message.method == "editMessageText" and _gone(error):
            log.info(
                "message %s cannot be edited (%s); sending anew", body.get("message_id"), error
            )
            fresh = {key: value for key, value in body.items() if key != "message_id"}
            try:
                result = await self._call("sendMessage", fresh)
            except TelegramError as again:
                return _verdict(again, method="sendMessage")
            return self._sent(message, result)
        if message.method == "answerCallbackQuery":
            return Sent(platform_id=None)  # too old to answer: the client gave up already
        return Refused(error.message)

    def _sent(self, message: OutboundMessage, result: object) -> Sent:
        if isinstance(result, Message):
            return Sent(platform_id=str(result.message_id), address=str(result.chat.id))
        if isinstance(result, dict) and "message_id" in result:
            chat = result.get("chat") or {}
            return Sent(platform_id=str(result["message_id"]), address=str(chat.get("id", "")))
        edited = message.body.get("message_id")
        return Sent(platform_id=str(edited) if edited is not None else None)

    async def _call(self, method: str, body: dict[str, Any]) -> object:
        if method == "sendPhoto":
            chat_id = body.pop("chat_id")
            image = base64.b64decode(str(body.pop("photo")))
            filename = body.pop("filename", None)
            try:
                return await self._bot.send_photo(chat_id, image, filename=filename, **body)
            except BadRequest as error:  # refused as a photo (its size, say): as a document
                log.info("photo refused (%s); sending %s as a document", error.message, filename)
                return await self._bot.send_document(chat_id, image, filename=filename, **body)
        fields = FIELDS.get(method)
        if fields is None:
            raise UnknownMethod(method)
        arguments = {name: body[name] for name in fields if body.get(name) is not None}
        if method in PREVIEWED:
            arguments["link_preview_options"] = NO_PREVIEW
        markup = arguments.get("reply_markup")
        if not isinstance(markup, dict) or not markup.get("inline_keyboard"):
            arguments.pop("reply_markup", None)  # none (or an empty one) takes the buttons off
        try:
            # The stored body is already the Bot API's JSON: sent as it is, and the answer
            # read as JSON, without building PTB objects either way.
            return await self._bot.do_api_request(method, api_kwargs=arguments)
        except EndPointNotFound as error:  # every method here exists: the token is refused
            raise InvalidToken(error.message) from error


__all__ = ["TelegramTransport"]
