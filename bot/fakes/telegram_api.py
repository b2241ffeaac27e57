"""A fake Telegram Bot API on the loopback interface, for tests and demos.

It answers ``/bot<token>/<method>`` like Telegram for what Itinera calls (``getMe``,
``getUpdates`` with offset and long-polling timeout, ``setWebhook``, ``sendMessage``,
``editMessageText``, ``answerCallbackQuery``, ``sendPhoto``, ...), keeps each private chat as a
user sees it, plays users (text, commands, button presses), records every call, and can be told
to refuse calls the way Telegram does (429 with ``retry_after``, 400, 403 for a blocked bot).
Given a :class:`FloodControl`, it enforces Telegram's flood limits itself (messages a second
per chat and per bot, on a clock of the caller's choosing) and answers 429 beyond them. With a
webhook set, it POSTs updates to it with the secret header instead of queueing them for
``getUpdates``.

It checks what real Telegram checks and a bug would trip: HTML that does not parse, texts over
4096 characters, button data over 64 bytes, editing a message that is gone or not changed.

Example::

    async with FakeTelegram() as fake:
        settings = load_settings(telegram_token=fake.token, telegram_api_url=fake.url)
        ...                                     # start the bot on these settings
        amina = fake.user(1001, "Amina", language_code="fr")
        update_id = await fake.command(amina, "start", code)
        await fake.wait_for(lambda: fake.bot_messages(amina), what="a greeting")
        await fake.tap(amina, "Oui")            # the button whose caption contains "Oui"
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from bot.fakes.limits import (
    TELEGRAM,
    TELEGRAM_SENDING,
    Duplicates,
    Limit,
    RateLimits,
    TelegramLimits,
)

JSONDict = dict[str, Any]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span"}
    | {"tg-spoiler", "tg-emoji", "blockquote"}
)
TEXT_PARAMETERS = frozenset(
    {"text", "caption", "callback_query_id", "url", "secret_token", "parse_mode"}
    | {"language_code", "filename", "description", "short_description", "name"}
)
"""Parameters kept as strings; every other form value is read as JSON (numbers, markup)."""

BLOCKED = "Forbidden: bot was blocked by the user"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class FakeApiError(Exception):
    """A refusal the fake answers with, shaped like Telegram's."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str
    language_code: str | None = None
    username: str | None = None

    def to_dict(self) -> JSONDict:
        data: JSONDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        if self.username:
            data["username"] = self.username
        return data

    def chat(self) -> JSONDict:
        return {"id": self.id, "type": "private", "first_name": self.first_name}


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None


@dataclass
class ChatMessage:
    """A message in a private chat, as the user sees it now (edits applied)."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str = ""
    """Visible text (HTML parsed), or the caption of a photo or document."""
    markup: str | None = None
    """The text as sent, with its HTML tags."""
    reply_markup: JSONDict | None = None
    kind: str = "text"
    """``text``, ``photo`` or ``document``."""
    file: bytes | None = None
    file_name: str | None = None
    deleted: bool = False
    edits: int = 0

    @property
    def buttons(self) -> list[Button]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            Button(button.get("text", ""), button.get("callback_data"))
            for row in rows
            for button in row
        ]


@dataclass(frozen=True)
class Call:
    """One Bot API call the bot made, in order (``index`` counts every call)."""

    index: int
    method: str
    params: JSONDict
    status: int = 200


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None = None


SENDING_METHODS = TELEGRAM_SENDING
"""The methods that post a new message, which Telegram's flood limits count."""


@dataclass
class FloodControl:
    """Telegram's flood limits as the fake enforces them: about ``per_chat`` new messages a
    second in one chat and ``per_bot`` in all chats together, short bursts tolerated, measured
    on ``clock`` (seconds; a test's virtual time, or the real monotonic clock). ``limits``,
    if given, replaces the four rates (groups included: :class:`TelegramLimits`)."""

    per_chat: float = 1.0
    chat_burst: float = 3.0
    per_bot: float = 30.0
    bot_burst: float = 30.0
    clock: Callable[[], float] = time.monotonic
    limits: TelegramLimits | None = None

    @classmethod
    def published(
        cls, *, scale: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> FloodControl:
        """Telegram's published limits, ``scale`` times (benchmarks try x10)."""
        return cls(clock=clock, limits=TELEGRAM.scaled(scale))

    def rate_limits(self) -> RateLimits:
        limits = self.limits or TelegramLimits(
            per_bot=Limit(self.per_bot, self.bot_burst),
            per_chat=Limit(self.per_chat, self.chat_burst),
        )
        return RateLimits(limits.scopes, clock=self.clock)


@dataclass
class _Chat:
    user: FakeUser
    messages: list[ChatMessage] = field(default_factory=list)
    next_id: int = 1
    blocked: bool = False


def visible_text(markup: str, parse_mode: str | None) -> str:
    """What Telegram shows for ``markup``; raises FakeApiError where Telegram would refuse it."""
    if (parse_mode or "").upper() != "HTML":
        return markup
    parser = _EntityParser()
    try:
        parser.feed(markup)
        parser.close()
    except ValueError as error:
        raise FakeApiError(400, f"Bad Request: can't parse entities: {error}") from None
    if parser.open:
        raise FakeApiError(400, f"Bad Request: can't parse entities: unclosed <{parser.open[-1]}>")
    return "".join(parser.parts)


class _EntityParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            raise ValueError(f"unsupported start tag <{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ValueError(f"unexpected end tag </{tag}>")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _units(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


class FakeTelegram:
    """The fake Bot API server. Start it with ``async with``; ``url`` is its base URL."""

    def __init__(
        self,
        *,
        token: str = "4242:fake-telegram-token",
        bot_id: int = 4242,
        username: str = "itinera_test_bot",
        host: str = "127.0.0.1",
        flood: FloodControl | None = None,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.host = host
        self.calls: list[Call] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []
        """(update_id, HTTP status, or 0 if the webhook could not be reached) per POST."""
        self.waiting_polls = 0
        """How many ``getUpdates`` calls are waiting for an update right now."""
        self.flood = flood
        self.limits = flood.rate_limits() if flood is not None else None
        """The flood limits' buckets and what they refused, by scope (``chat``, ``bot``)."""
        self.duplicates = Duplicates()
        """New messages sent again with the same text and buttons to the same chat."""
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._chats: dict[int, _Chat] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._queue: list[JSONDict] = []
        self._sent: dict[int, JSONDict] = {}
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._poll_generation = 0
        self._closing = False
        self._changed = asyncio.Condition()

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # No access log: request paths carry the bot token.
        self._runner = web.AppRunner(
            app, shutdown_timeout=1.0, handler_cancellation=True, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """The base URL to configure as ``ITINERA_TELEGRAM_API_URL``."""
        return f"http://{self.host}:{self._port}"

    # --- users -------------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """A user who has opened a private chat with the bot."""
        person = FakeUser(user_id, first_name, language_code, username)
        self._chats.setdefault(user_id, _Chat(person))
        return person

    async def send_text(self, user: FakeUser, text: str) -> int:
        """The user sends ``text``; returns the update id."""
        message = self._user_message(user, text)
        return await self._push({"message": message})

    async def command(self, user: FakeUser, name: str, *args: str) -> int:
        """The user sends ``/name args``; returns the update id."""
        text = " ".join([f"/{name}", *args])
        message = self._user_message(user, text)
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(name) + 1}]
        return await self._push({"message": message})

    async def press(self, user: FakeUser, message_id: int, data: str) -> int:
        """The user presses a button with ``data`` under a bot message; returns the update id."""
        chat = self._chat(user.id)
        shown = self._find(chat, message_id)
        query_id = f"{next(self._query_ids)}{user.id}"
        self._open_queries.add(query_id)
        query: JSONDict = {
            "id": query_id,
            "from": user.to_dict(),
            "chat_instance": f"ci{user.id}",
            "data": data,
        }
        if shown is not None:
            query["message"] = self._message_dict(shown, chat)
        return await self._push({"callback_query": query})

    async def tap(self, user: FakeUser, caption: str) -> int:
        """Press the button whose caption contains ``caption`` on the newest message with one."""
        for message in reversed(self.messages(user)):
            if not message.from_bot or message.deleted:
                continue
            for button in message.buttons:
                if caption in button.text and button.data is not None:
                    return await self.press(user, message.message_id, button.data)
        shown = [button.text for button in self.last_keyboard(user)]
        raise LookupError(f"no button {caption!r} for {user.first_name}; buttons: {shown}")

    def text_update(self, user: FakeUser, text: str) -> JSONDict:
        """The update the user's ``text`` would be, with a fresh id, without delivering it
        (e.g. to store it as a crashed bot would have)."""
        update: JSONDict = {
            "update_id": next(self._update_ids),
            "message": self._user_message(user, text),
        }
        self._sent[update["update_id"]] = update
        return update

    async def push_update(self, update: JSONDict) -> int:
        """Deliver a raw update (as given, ``update_id`` added if missing); returns its id."""
        return await self._push(dict(update))

    def delete_message(self, user: FakeUser, message_id: int) -> None:
        """The user deletes a message (edits of it then fail with "message to edit not found")."""
        found = self._find(self._chat(user.id), message_id)
        if found is not None:
            found.deleted = True

    def block(self, user: FakeUser) -> None:
        """The user blocks the bot: every message to them is refused with 403."""
        self._chat(user.id).blocked = True

    def unblock(self, user: FakeUser) -> None:
        self._chat(user.id).blocked = False

    # --- what the user sees ------------------------------------------------------------------

    def messages(self, user: FakeUser) -> list[ChatMessage]:
        return list(self._chat(user.id).messages)

    def bot_messages(self, user: FakeUser) -> list[ChatMessage]:
        return [m for m in self._chat(user.id).messages if m.from_bot and not m.deleted]

    def last_text(self, user: FakeUser) -> str:
        shown = self.bot_messages(user)
        return shown[-1].text if shown else ""

    def last_keyboard_message(self, user: FakeUser) -> ChatMessage | None:
        for message in reversed(self.bot_messages(user)):
            if message.buttons:
                return message
        return None

    def last_keyboard(self, user: FakeUser) -> list[Button]:
        message = self.last_keyboard_message(user)
        return message.buttons if message else []

    # --- what the bot did --------------------------------------------------------------------

    def calls_to(self, *methods: str) -> list[Call]:
        wanted = {method.lower() for method in methods}
        return [call for call in self.calls if call.method.lower() in wanted]

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id`` only, if given) with an
        error, like Telegram."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after or 1}",
                403: BLOCKED,
                400: EDIT_NOT_FOUND,
            }.get(status, "Internal Server Error")
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = _Fault(status, description, retry_after, times, chat_id)
        self._faults.setdefault(method.lower(), []).append(fault)

    async def wait_for(
        self, predicate: Callable[[], object], *, within: float = 5.0, what: str = "condition"
    ) -> None:
        """Wait until ``predicate()`` is true, re-checked after every call the bot makes."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(lambda: bool(predicate()))
        except TimeoutError:
            raise TimeoutError(f"timed out after {within} s waiting for {what}") from None

    # --- webhook -----------------------------------------------------------------------------

    async def redeliver(self, update_id: int) -> int:
        """Send an update again, as Telegram does when unsure it arrived; returns the status
        (webhook) or 0 (queued again for getUpdates)."""
        update = self._sent[update_id]
        if self.webhook_url:
            return await self._post_webhook(update)
        self._queue.append(update)
        await self._notify()
        return 0

    async def post_to_webhook(self, body: bytes, *, secret: str | None) -> int:
        """POST any body to the webhook with this secret header (None: no header)."""
        assert self._session is not None and self.webhook_url is not None
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        async with self._session.post(self.webhook_url, data=body, headers=headers) as reply:
            return reply.status

    async def deliver_pending(self, *, hold: Collection[int] = ()) -> None:
        """Try the webhook again with every update it has not accepted yet (but those whose
        ids are in ``hold``)."""
        for update in list(self._queue):
            if update["update_id"] not in hold:
                await self._post_webhook(update)

    def pending(self) -> list[int]:
        """Ids of the updates the webhook has not accepted yet, oldest first."""
        return [int(update["update_id"]) for update in self._queue]

    # --- internals: updates ------------------------------------------------------------------

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise FakeApiError(400, "Bad Request: chat not found")
        return chat

    def _find(self, chat: _Chat, message_id: int) -> ChatMessage | None:
        for message in chat.messages:
            if message.message_id == message_id:
                return message
        return None

    def _user_message(self, user: FakeUser, text: str) -> JSONDict:
        chat = self._chat(user.id)
        shown = ChatMessage(chat.next_id, user.id, False, int(time.time()), text=text)
        chat.next_id += 1
        chat.messages.append(shown)
        return {
            "message_id": shown.message_id,
            "from": user.to_dict(),
            "chat": user.chat(),
            "date": shown.date,
            "text": text,
        }

    async def _push(self, update: JSONDict) -> int:
        update_id = update.setdefault("update_id", next(self._update_ids))
        self._sent[update_id] = update
        self._queue.append(update)
        if self.webhook_url:
            await self._post_webhook(update)
        await self._notify()
        return int(update_id)

    async def _post_webhook(self, update: JSONDict) -> int:
        assert self._session is not None and self.webhook_url is not None
        headers = {SECRET_HEADER: self.webhook_secret} if self.webhook_secret else {}
        try:
            async with self._session.post(self.webhook_url, json=update, headers=headers) as reply:
                status = reply.status
        except (aiohttp.ClientError, OSError, TimeoutError):
            status = 0
        self.webhook_deliveries.append((int(update["update_id"]), status))
        if 200 <= status < 300 and update in self._queue:
            self._queue.remove(update)
        return status

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- internals: the Bot API --------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        status = 200
        try:
            fault = self._fault(method, params)
            if fault is not None:
                raise fault
            if self.limits is not None:
                self._flood_check(method.lower(), params)
            result = await self._dispatch(method.lower(), params)
            body: JSONDict = {"ok": True, "result": result}
        except FakeApiError as error:
            status = error.status
            body = error.body()
        self.calls.append(Call(len(self.calls), method, params, status))
        await self._notify()
        return web.json_response(body, status=status)

    def _fault(self, method: str, params: JSONDict) -> FakeApiError | None:
        queued = self._faults.get(method.lower())
        fault = next(
            (f for f in queued or () if f.chat_id is None or f.chat_id == params.get("chat_id")),
            None,
        )
        if queued is None or fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            queued.remove(fault)
        return FakeApiError(fault.status, fault.description, retry_after=fault.retry_after)

    @property
    def flood_refusals(self) -> int:
        """Calls answered 429 because they went beyond :attr:`flood`'s limits."""
        return self.limits.refusals if self.limits is not None else 0

    def _flood_check(self, method: str, params: JSONDict) -> None:
        """Take a token of the chat's and of the bot's bucket, or refuse with 429."""
        assert self.limits is not None
        refusal = self.limits.check(method, conversation=str(params.get("chat_id")))
        if refusal is not None:
            seconds = refusal.retry_after
            raise FakeApiError(
                429, f"Too Many Requests: retry after {seconds}", retry_after=seconds
            )

    async def _params(self, request: web.Request) -> JSONDict:
        if request.content_type == "application/json":
            loaded = await request.json()
            return dict(loaded) if isinstance(loaded, dict) else {}
        form = await request.post()
        params: JSONDict = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = value.file.read()
                params[f"{key}__filename"] = value.filename
            elif key in TEXT_PARAMETERS:
                params[key] = str(value)
            else:
                params[key] = _json_or_text(str(value))
        return params

    async def _dispatch(self, method: str, params: JSONDict) -> Any:
        handlers: Mapping[str, Callable[[JSONDict], Any]] = {
            "getme": self._get_me,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_text,
            "editmessagereplymarkup": self._edit_markup,
            "answercallbackquery": self._answer_query,
            "sendphoto": lambda p: self._send_file(p, "photo"),
            "senddocument": lambda p: self._send_file(p, "document"),
            "deletemessage": self._delete,
            "setmycommands": lambda p: True,
            "deletemycommands": lambda p: True,
            "close": lambda p: True,
            "logout": lambda p: True,
        }
        if method == "getupdates":
            return await self._get_updates(params)
        handler = handlers.get(method)
        if handler is None:
            raise FakeApiError(404, "Not Found: method not found")
        return handler(params)

    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Itinera",
            "username": self.username,
        }

    def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not url:
            return self._delete_webhook(params)
        self.webhook_url = str(url)
        secret = params.get("secret_token")
        self.webhook_secret = str(secret) if secret else None
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise FakeApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        if offset:
            self._queue = [u for u in self._queue if int(u["update_id"]) >= offset]
        limit = int(params.get("limit") or 100)
        wait = float(params.get("timeout") or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        if not self._queue and wait > 0:
            async with self._changed:
                self.waiting_polls += 1
                self._changed.notify_all()
                try:
                    async with asyncio.timeout(wait):
                        await self._changed.wait_for(
                            lambda: (
                                bool(self._queue)
                                or self._closing
                                or self._poll_generation != generation
                            )
                        )
                except TimeoutError:
                    pass
                finally:
                    self.waiting_polls -= 1
        if self._poll_generation != generation:
            raise FakeApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
            )
        return self._queue[:limit]

    def _message_dict(self, message: ChatMessage, chat: _Chat) -> JSONDict:
        data: JSONDict = {
            "message_id": message.message_id,
            "from": self._bot_user() if message.from_bot else chat.user.to_dict(),
            "chat": chat.user.chat(),
            "date": message.date,
        }
        if message.kind == "photo":
            data["photo"] = [
                {
                    "file_id": f"photo{message.message_id}",
                    "file_unique_id": "p",
                    "width": 800,
                    "height": 600,
                    "file_size": len(message.file or b""),
                }
            ]
            data["caption"] = message.text
        elif message.kind == "document":
            data["document"] = {
                "file_id": f"doc{message.message_id}",
                "file_unique_id": "d",
                "file_name": message.file_name or "file",
            }
            data["caption"] = message.text
        else:
            data["text"] = message.text
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    def _writable_chat(self, params: JSONDict) -> _Chat:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise FakeApiError(400, "Bad Request: chat not found")
        chat = self._chat(chat_id)
        if chat.blocked:
            raise FakeApiError(403, BLOCKED)
        return chat

    def _markup(self, params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise FakeApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                    raise FakeApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise FakeApiError(400, "Bad Request: text buttons are unallowed")
        return markup or None

    def _text(self, params: JSONDict, key: str, limit: int, *, required: bool) -> tuple[str, str]:
        markup = str(params.get(key) or "")
        shown = visible_text(markup, params.get("parse_mode"))
        if required and not shown.strip():
            raise FakeApiError(400, "Bad Request: message text is empty")
        if _units(shown) > limit:
            raise FakeApiError(400, f"Bad Request: {key} is too long")
        return markup, shown

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._writable_chat(params)
        markup, shown = self._text(params, "text", MESSAGE_LIMIT, required=True)
        message = ChatMessage(
            chat.next_id,
            chat.user.id,
            True,
            int(time.time()),
            text=shown,
            markup=markup,
            reply_markup=self._markup(params),
        )
        chat.next_id += 1
        chat.messages.append(message)
        self.duplicates.saw(str(chat.user.id), [markup, message.reply_markup])
        return self._message_dict(message, chat)

    def _editable(self, params: JSONDict) -> tuple[_Chat, ChatMessage]:
        chat = self._writable_chat(params)
        message = self._find(chat, int(params.get("message_id") or 0))
        if message is None or message.deleted or not message.from_bot:
            raise FakeApiError(400, EDIT_NOT_FOUND)
        return chat, message

    def _edit_text(self, params: JSONDict) -> JSONDict:
        chat, message = self._editable(params)
        markup, shown = self._text(params, "text", MESSAGE_LIMIT, required=True)
        keyboard = self._markup(params)
        if shown == message.text and keyboard == message.reply_markup:
            raise FakeApiError(400, NOT_MODIFIED)
        message.text, message.markup, message.reply_markup = shown, markup, keyboard
        message.edits += 1
        return self._message_dict(message, chat)

    def _edit_markup(self, params: JSONDict) -> JSONDict:
        chat, message = self._editable(params)
        keyboard = self._markup(params)
        if keyboard == message.reply_markup:
            raise FakeApiError(400, NOT_MODIFIED)
        message.reply_markup = keyboard
        message.edits += 1
        return self._message_dict(message, chat)

    def _answer_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise FakeApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text") or "")) > CALLBACK_ANSWER_LIMIT:
            raise FakeApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        return True

    def _send_file(self, params: JSONDict, kind: str) -> JSONDict:
        chat = self._writable_chat(params)
        content = params.get(kind)
        if not isinstance(content, bytes | bytearray) or not content:
            raise FakeApiError(400, f"Bad Request: there is no {kind} in the request")
        markup, shown = self._text(params, "caption", CAPTION_LIMIT, required=False)
        message = ChatMessage(
            chat.next_id,
            chat.user.id,
            True,
            int(time.time()),
            text=shown,
            markup=markup,
            kind=kind,
            file=bytes(content),
            file_name=params.get(f"{kind}__filename"),
        )
        chat.next_id += 1
        chat.messages.append(message)
        return self._message_dict(message, chat)

    def _delete(self, params: JSONDict) -> bool:
        chat = self._writable_chat(params)
        message = self._find(chat, int(params.get("message_id") or 0))
        if message is None or message.deleted:
            raise FakeApiError(400, "Bad Request: message to delete not found")
        message.deleted = True
        return True


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


__all__ = [
    "Button",
    "Call",
    "ChatMessage",
    "FakeApiError",
    "FakeTelegram",
    "FakeUser",
    "FloodControl",
    "visible_text",
]
