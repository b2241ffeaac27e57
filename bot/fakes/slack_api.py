"""A local fake of the Slack Web API, and Slack's side of the conversation, for tests and demos.

:class:`FakeSlackApi` is an aiohttp server on 127.0.0.1 (ephemeral port) that answers the Web
API methods Itinera calls, records every call, keeps the messages, views and files it was given,
and checks Block Kit against Slack's main limits (answering ``invalid_blocks`` as Slack does),
a message's ``text`` against its 40,000 characters (``msg_too_long``), and refuses what Slack's
front end would: a request line over 8 KB (HTTP 414), and any ``text`` or ``blocks`` sent in
the query string rather than the body (``query_string`` lists those calls).
Faults are injected per method: the next call(s) answer HTTP 429 with ``Retry-After``,
``{"ok": false, "error": ...}``, or answer late.

:class:`SignedSender` posts to our ``/slack/events`` what Slack posts: events as JSON,
interactions as ``payload=`` forms, slash commands as forms, each signed with the v0 scheme
(HMAC-SHA256 over ``v0:{timestamp}:{body}``) at a timestamp you control. :class:`SlackUser`
plays one person: opens App Home, presses the buttons of the last message the bot sent them,
ticks checkboxes, submits the modal, types in the DM, runs ``/itinera``.

Example::

    async with FakeSlackApi(users=[FakeUser("U1", "ana@example.org")]) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.url)
        sender = SignedSender("http://127.0.0.1:8080/slack/events", "secret")
        ana = SlackUser(slack, sender, "U1")
        await ana.open_home()
        await slack.wait_for("views.publish")
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from aiohttp import web

from bot.fakes.limits import Duplicates, RateLimits, SlackLimits

JSON = dict[str, Any]

TRIGGER_LIFETIME_SECONDS = 3.0
"""Slack's trigger ids expire after 3 seconds."""


# --- the Web API --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeUser:
    id: str
    email: str
    name: str = ""
    tz: str = "UTC"
    locale: str = "en-US"
    deleted: bool = False


@dataclass
class Call:
    """One call received: the method and its arguments (query, form and JSON merged)."""

    method: str
    args: JSON
    at: float


@dataclass
class FakeMessage:
    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    updates: int = 0

    def snapshot(self) -> FakeMessage:
        """A copy as it is now (the fake updates messages in place)."""
        return FakeMessage(
            self.channel, self.ts, self.text, copy.deepcopy(self.blocks), self.updates
        )


@dataclass
class FakeView:
    id: str
    hash: str
    view: JSON
    user: str | None
    trigger_id: str | None = None


@dataclass
class Fault:
    """What the next call of a method gets instead of its answer."""

    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class _Trigger:
    user: str
    issued: float


class FakeSlackApi:
    """The Slack Web API on loopback. ``url`` is the ``base_url`` to give ``AsyncWebClient``."""

    def __init__(
        self,
        *,
        users: Iterable[FakeUser] = (),
        channels: Iterable[str] = (),
        token: str | None = None,
        bot_user_id: str = "UBOT0001",
        team_id: str = "T0000001",
        validate_blocks: bool = True,
        limits: SlackLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``limits``: enforce these rate limits (e.g. :data:`bot.fakes.limits.SLACK`, Slack's
        published ones), measured on ``clock``, answering 429 with ``Retry-After`` beyond
        them; None: answer every call."""
        self.users: dict[str, FakeUser] = {user.id: user for user in users}
        self.channels: set[str] = set(channels)
        self.token = token
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.validate_blocks = validate_blocks
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], FakeMessage] = {}
        self.ephemeral: list[JSON] = []
        self.responses: list[JSON] = []
        """What was posted to ``response_url``s (slash command replies)."""
        self.query_string: list[Call] = []
        """Calls that carried a message's ``text`` or ``blocks`` (or anything, to a
        ``response_url``) in their URL, where proxies and logs keep it: none should."""
        self.peers: list[object] = []
        """Where each Web API call or ``response_url`` post came from, in order (address and
        port: one per connection)."""
        self.views: dict[str, FakeView] = {}
        self.home: dict[str, JSON] = {}
        self.uploads: dict[str, bytes] = {}
        self.files: list[JSON] = []
        self.limits = RateLimits(limits.scopes, clock=clock) if limits is not None else None
        """The rate limits' buckets and what they refused, by scope."""
        self.duplicates = Duplicates()
        """Messages posted again with the same text and blocks to the same conversation."""
        self._faults: dict[str, list[Fault]] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._response_targets: dict[str, tuple[str, str]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> FakeSlackApi:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{n}", self._respond)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root}/api/"

    # --- what tests and demos use -----------------------------------------------------------

    def add_user(self, user: FakeUser) -> None:
        self.users[user.id] = user

    def dm_channel(self, user_id: str) -> str:
        return f"D{user_id}"

    def response_url(self, message: tuple[str, str] | None = None) -> str:
        """A fresh ``response_url``: for a slash command (what is posted lands in
        ``responses``), or for an action in ``message`` (channel, ts), which a post with
        ``replace_original`` replaces as ``chat.update`` would."""
        number = next(self._ids)
        if message is not None:
            self._response_targets[str(number)] = message
        return f"{self.root}/respond/{number}"

    def new_trigger(self, user_id: str) -> str:
        trigger = f"{next(self._ids)}.{int(time.time())}.trig"
        self._triggers[trigger] = _Trigger(user_id, time.monotonic())
        return trigger

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` fail: 429 with ``Retry-After`` if
        ``retry_after`` is given, else ``{"ok": false, "error": error}`` (HTTP ``status``)."""
        if retry_after is not None:
            fault = Fault(
                status=status or 429, error=error or "ratelimited", retry_after=retry_after
            )
        else:
            fault = Fault(status=status or 200, error=error or "internal_error")
        self._faults.setdefault(method, []).extend([fault] * times)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer only after ``seconds`` (timeouts)."""
        self._faults.setdefault(method, []).extend([Fault(delay=seconds)] * times)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str | Callable[[FakeSlackApi], bool],
        *,
        count: int = 1,
        within: float = 5.0,
    ) -> list[Call]:
        """Wait until ``method`` was called ``count`` times in all (or the predicate holds)."""

        def ready() -> bool:
            if callable(method):
                return method(self)
            return len(self.calls_to(method)) >= count

        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(ready)
        return self.calls_to(method) if isinstance(method, str) else []

    def last_message(self, channel: str) -> FakeMessage:
        """The latest message posted in ``channel`` (as updated since)."""
        found = [m for (c, _), m in self.messages.items() if c == channel]
        if not found:
            raise LookupError(f"no message in {channel}")
        return max(found, key=lambda m: float(m.ts))

    def last_view(self, user_id: str) -> FakeView:
        found = [v for v in self.views.values() if v.user == user_id and v.view["type"] == "modal"]
        if not found:
            raise LookupError(f"no modal opened for {user_id}")
        return found[-1]

    # --- HTTP -------------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> JSON:
        args: JSON = dict(request.query)
        if request.can_read_body:
            kind = request.content_type
            if kind == "application/json":
                args.update(await request.json())
            else:
                args.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        return args

    async def _record(self, method: str, args: JSON) -> None:
        async with self._changed:
            self.calls.append(Call(method, args, time.monotonic()))
            self._changed.notify_all()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self._came_from(request)
        if len(str(request.rel_url)) > MAX_REQUEST_LINE:
            await self._record(method, {"url_length": len(str(request.rel_url))})
            return web.Response(status=414, text="Request-URI Too Long")
        if {"text", "blocks"} & set(request.query):
            self.query_string.append(Call(method, dict(request.query), time.monotonic()))
        args = await self._args(request)
        await self._record(method, args)
        if len(str(args.get("text", ""))) > MAX_MESSAGE_TEXT and method in _TEXT_METHODS:
            return web.json_response({"ok": False, "error": "msg_too_long"})
        faults = self._faults.get(method)
        if faults:
            fault = faults.pop(0)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.error is not None:
                headers = (
                    {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                )
                return web.json_response(
                    {"ok": False, "error": fault.error}, status=fault.status, headers=headers
                )
        if (
            self.token is not None
            and request.headers.get("Authorization") != f"Bearer {self.token}"
        ):
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.limits is not None:
            target = args.get("channel")
            conversation = self._conversation(str(target)) if target is not None else None
            refusal = self.limits.check(method, conversation=conversation)
            if refusal is not None:
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(refusal.retry_after)},
                )
        handler = _METHODS.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        answer = handler(self, args)
        await self._notify()
        return web.json_response(answer)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.uploads[file_id] = await request.read()
        await self._record("upload", {"file_id": file_id, "length": len(self.uploads[file_id])})
        return web.Response(text=f"OK - {len(self.uploads[file_id])}")

    def _came_from(self, request: web.Request) -> None:
        if request.transport is not None:
            self.peers.append(request.transport.get_extra_info("peername"))

    async def _respond(self, request: web.Request) -> web.Response:
        self._came_from(request)
        if request.query:
            self.query_string.append(Call("response_url", dict(request.query), time.monotonic()))
        body = await request.json()
        await self._record("response_url", body)
        if len(str(body.get("text", ""))) > MAX_MESSAGE_TEXT:
            return web.Response(status=400, text="msg_too_long")
        target = self._response_targets.get(request.match_info["n"])
        if target is not None and body.get("replace_original"):
            message = self.messages.get(target)
            if message is None:
                return web.Response(status=404, text="message gone")
            problem = self._blocks_problem(body.get("blocks"), "message")
            if problem:
                return web.Response(status=400, text=f"invalid_blocks: {problem}")
            message.text = str(body.get("text", ""))
            message.blocks = _json_list(body.get("blocks"))
            message.updates += 1
            await self._notify()
            return web.Response(text="ok")
        self.responses.append(body)
        return web.Response(text="ok")

    # --- methods ----------------------------------------------------------------------------

    def _ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def _channel_ok(self, channel: str) -> bool:
        if channel in self.channels:
            return True
        return channel.startswith("D") and channel[1:] in self.users

    def _conversation(self, channel: str) -> str:
        """Where ``chat.postMessage`` posts: a user id means the DM with that user."""
        return self.dm_channel(channel) if channel in self.users else channel

    def _blocks_problem(self, blocks: Any, surface: str) -> str | None:
        if not self.validate_blocks or blocks is None:
            return None
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        problems = block_problems(blocks, surface=surface)
        return "; ".join(problems) if problems else None

    def auth_test(self, args: JSON) -> JSON:
        return {
            "ok": True,
            "url": "https://itinera-test.slack.com/",
            "team": "Itinera test",
            "user": "itinera",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0000001",
        }

    def chat_post_message(self, args: JSON) -> JSON:
        channel = self._conversation(str(args.get("channel", "")))
        if not self._channel_ok(channel):
            return {"ok": False, "error": "channel_not_found"}
        problem = self._blocks_problem(args.get("blocks"), "message")
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        ts = self._ts()
        blocks = _json_list(args.get("blocks"))
        self.messages[(channel, ts)] = FakeMessage(channel, ts, str(args.get("text", "")), blocks)
        self.duplicates.saw(channel, [str(args.get("text", "")), blocks])
        return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "blocks": blocks}}

    def chat_update(self, args: JSON) -> JSON:
        key = (str(args.get("channel", "")), str(args.get("ts", "")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        problem = self._blocks_problem(args.get("blocks"), "message")
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        message = self.messages[key]
        message.text = str(args.get("text", ""))
        message.blocks = _json_list(args.get("blocks"))
        message.updates += 1
        return {"ok": True, "channel": key[0], "ts": key[1], "text": message.text}

    def chat_post_ephemeral(self, args: JSON) -> JSON:
        if not self._channel_ok(str(args.get("channel", ""))):
            return {"ok": False, "error": "channel_not_found"}
        self.ephemeral.append(args)
        return {"ok": True, "message_ts": self._ts()}

    def conversations_open(self, args: JSON) -> JSON:
        users = args.get("users", "")
        ids = users if isinstance(users, list) else str(users).split(",")
        user = self.users.get(ids[0].strip()) if ids else None
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        if user.deleted:
            return {"ok": False, "error": "account_inactive"}
        return {"ok": True, "channel": {"id": self.dm_channel(user.id)}}

    def users_lookup_by_email(self, args: JSON) -> JSON:
        wanted = str(args.get("email", "")).casefold()
        for user in self.users.values():
            if user.email.casefold() == wanted:
                return {"ok": True, "user": self._user_json(user)}
        return {"ok": False, "error": "users_not_found"}

    def users_info(self, args: JSON) -> JSON:
        user = self.users.get(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_json(user)}

    def _user_json(self, user: FakeUser) -> JSON:
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name or user.id,
            "deleted": user.deleted,
            "tz": user.tz,
            "locale": user.locale,
            "profile": {"email": user.email, "real_name": user.name},
        }

    def _store_view(self, view: JSON, user: str | None, trigger: str | None) -> FakeView:
        view_id = f"V{next(self._ids):08d}"
        stored = FakeView(view_id, f"{time.time():.6f}.h{view_id}", view, user, trigger)
        self.views[view_id] = stored
        return stored

    def _view_json(self, stored: FakeView) -> JSON:
        return {**stored.view, "id": stored.id, "hash": stored.hash, "team_id": self.team_id}

    def views_open(self, args: JSON) -> JSON:
        trigger_id = str(args.get("trigger_id", ""))
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            return {"ok": False, "error": "invalid_trigger_id"}
        if time.monotonic() - trigger.issued > TRIGGER_LIFETIME_SECONDS:
            return {"ok": False, "error": "expired_trigger_id"}
        view = _json_dict(args.get("view"))
        problem = self._blocks_problem(view.get("blocks"), "modal")
        if problem:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [problem]},
            }
        return {
            "ok": True,
            "view": self._view_json(self._store_view(view, trigger.user, trigger_id)),
        }

    def views_update(self, args: JSON) -> JSON:
        stored = self.views.get(str(args.get("view_id", "")))
        if stored is None:
            return {"ok": False, "error": "not_found"}
        stored.view = _json_dict(args.get("view"))
        stored.hash = f"{time.time():.6f}.h{stored.id}"
        return {"ok": True, "view": self._view_json(stored)}

    def views_publish(self, args: JSON) -> JSON:
        user_id = str(args.get("user_id", ""))
        if user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        view = _json_dict(args.get("view"))
        problem = self._blocks_problem(view.get("blocks"), "home")
        if problem:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [problem]},
            }
        self.home[user_id] = view
        stored = self._store_view(view, user_id, None)
        return {"ok": True, "view": self._view_json(stored)}

    def files_get_upload_url_external(self, args: JSON) -> JSON:
        file_id = f"F{next(self._ids):08d}"
        return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def files_complete_upload_external(self, args: JSON) -> JSON:
        files = args.get("files")
        listed = json.loads(files) if isinstance(files, str) else list(files or [])
        channel = args.get("channel_id")
        if channel and not self._channel_ok(str(channel)):
            return {"ok": False, "error": "channel_not_found"}
        for entry in listed:
            if entry.get("id") not in self.uploads:
                return {"ok": False, "error": "file_not_found"}
            self.files.append({**entry, "channel": channel, "comment": args.get("initial_comment")})
        return {"ok": True, "files": [{"id": e["id"], "title": e.get("title")} for e in listed]}


_METHODS: dict[str, Callable[[FakeSlackApi, JSON], JSON]] = {
    "auth.test": FakeSlackApi.auth_test,
    "chat.postMessage": FakeSlackApi.chat_post_message,
    "chat.update": FakeSlackApi.chat_update,
    "chat.postEphemeral": FakeSlackApi.chat_post_ephemeral,
    "conversations.open": FakeSlackApi.conversations_open,
    "users.lookupByEmail": FakeSlackApi.users_lookup_by_email,
    "users.info": FakeSlackApi.users_info,
    "views.open": FakeSlackApi.views_open,
    "views.update": FakeSlackApi.views_update,
    "views.publish": FakeSlackApi.views_publish,
    "files.getUploadURLExternal": FakeSlackApi.files_get_upload_url_external,
    "files.completeUploadExternal": FakeSlackApi.files_complete_upload_external,
}
METHODS: tuple[str, ...] = tuple(_METHODS)
"""The Web API methods the fake answers."""


def _json_list(value: Any) -> list[JSON]:
    if value is None:
        return []
    return list(json.loads(value) if isinstance(value, str) else value)


def _json_dict(value: Any) -> JSON:
    return dict(json.loads(value) if isinstance(value, str) else value or {})


# --- Block Kit limits -------------------------------------------------------------------------

MAX_MESSAGE_TEXT = 40_000
"""Slack truncates a message's ``text`` past 40,000 characters; the fake refuses it instead."""
MAX_REQUEST_LINE = 8192
"""What an HTTP front end accepts as a request line, query string included."""
_TEXT_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})

_MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}


def block_problems(blocks: Sequence[JSON], *, surface: str = "message") -> list[str]:
    """What Slack would refuse in ``blocks`` (the main limits only)."""
    problems: list[str] = []
    if len(blocks) > _MAX_BLOCKS[surface]:
        problems.append(f"{len(blocks)} blocks > {_MAX_BLOCKS[surface]}")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"block {index} ({block.get('type')})"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > 255:
                problems.append(f"{where}: block_id > 255")
            if block_id in block_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            block_ids.add(block_id)
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind == "section" and len(text) > 3000:
            problems.append(f"{where}: text > 3000")
        if kind == "header" and len(text) > 150:
            problems.append(f"{where}: header > 150")
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        if block.get("element"):
            elements.append(block["element"])
        if kind == "actions" and len(elements) > 25:
            problems.append(f"{where}: more than 25 elements")
        action_ids: set[str] = set()
        for element in elements:
            problems.extend(f"{where}: {p}" for p in _element_problems(element, action_ids))
    return problems


def _element_problems(element: JSON, action_ids: set[str]) -> list[str]:
    problems: list[str] = []
    action_id = element.get("action_id")
    if action_id is not None:
        if len(action_id) > 255:
            problems.append("action_id > 255")
        if action_id in action_ids:
            problems.append(f"duplicate action_id {action_id!r}")
        action_ids.add(action_id)
    kind = element.get("type")
    if kind == "button":
        if len(element["text"]["text"]) > 75:
            problems.append("button text > 75")
        if len(element.get("value", "")) > 2000:
            problems.append("button value > 2000")
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    if kind in ("static_select", "multi_static_select", "overflow") and len(options) > 100:
        problems.append(f"{kind}: {len(options)} options > 100")
    if kind == "checkboxes" and len(options) > 10:
        problems.append(f"checkboxes: {len(options)} options > 10")
    for item in options:
        if len(item["text"]["text"]) > 75:
            problems.append("option text > 75")
        if len(item.get("value", "")) > 150:
            problems.append("option value > 150")
    return problems


# --- Slack's requests to us -------------------------------------------------------------------


def signature(signing_secret: str, timestamp: int, body: str) -> str:
    """Slack's v0 signature of ``body`` sent at ``timestamp``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SignedSender:
    """Posts requests to our events URL signed as Slack signs them."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.clock = clock
        self._http = httpx.AsyncClient(timeout=timeout, trust_env=False)
        self._ids = itertools.count(1)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SignedSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def post(
        self,
        body: str,
        *,
        content_type: str,
        timestamp: int | None = None,
        retry_num: int | None = None,
        forged_signature: str | None = None,
    ) -> httpx.Response:
        """Post ``body`` signed at ``timestamp`` (now by default); ``forged_signature`` replaces
        the real one; ``retry_num`` sets ``X-Slack-Retry-Num`` as Slack does on a retry."""
        when = int(self.clock()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(when),
            "X-Slack-Signature": forged_signature or signature(self.signing_secret, when, body),
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self._http.post(self.events_url, content=body.encode(), headers=headers)

    def event_body(
        self, event: JSON, *, event_id: str | None = None, team_id: str = "T0000001"
    ) -> str:
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": team_id,
                "api_app_id": "A0000001",
                "event": event,
                "type": "event_callback",
                "event_id": event_id or f"Ev{next(self._ids):010d}",
                "event_time": int(self.clock()),
            },
            ensure_ascii=False,
        )

    async def event(
        self, event: JSON, *, event_id: str | None = None, **options: Any
    ) -> httpx.Response:
        """An Events API delivery (``options``: see :meth:`post`)."""
        body = self.event_body(event, event_id=event_id)
        return await self.post(body, content_type="application/json", **options)

    async def interaction(self, payload: JSON, **options: Any) -> httpx.Response:
        """A block action or view submission, form-encoded as ``payload=``."""
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
        return await self.post(body, content_type="application/x-www-form-urlencoded", **options)

    async def command(self, fields: Mapping[str, str], **options: Any) -> httpx.Response:
        """A slash command, form-encoded."""
        body = urlencode(dict(fields))
        return await self.post(body, content_type="application/x-www-form-urlencoded", **options)


@dataclass
class SlackUser:
    """One person in Slack, driving our app through the fake and signed requests."""

    slack: FakeSlackApi
    sender: SignedSender
    user_id: str
    ticked: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """Checkbox values ticked locally, by (block_id, action_id), until a button is pressed."""

    @property
    def dm(self) -> str:
        return self.slack.dm_channel(self.user_id)

    def screen(self) -> FakeMessage:
        """The latest message the bot sent this person."""
        return self.slack.last_message(self.dm)

    def texts(self) -> str:
        """Every text of the latest message, joined (for assertions)."""
        return "\n".join(_texts(self.screen().blocks))

    def _user(self) -> JSON:
        return {"id": self.user_id, "username": self.user_id.lower(), "team_id": self.slack.team_id}

    async def open_home(self, **options: Any) -> httpx.Response:
        event = {"type": "app_home_opened", "user": self.user_id, "channel": self.dm, "tab": "home"}
        return await self.sender.event(event, **options)

    async def say(self, text: str, **options: Any) -> httpx.Response:
        return await self.sender.event(self.message_event(text), **options)

    def message_event(self, text: str) -> JSON:
        """The ``message.im`` event of this person typing ``text`` now (to post, or to post
        again as Slack retries it)."""
        return {
            "type": "message",
            "channel_type": "im",
            "channel": self.dm,
            "user": self.user_id,
            "text": text,
            "ts": f"{time.time():.6f}",
        }

    def tick(self, *captions: str) -> None:
        """Tick the checkboxes with these captions in the latest message (others are unticked)."""
        wanted = set(captions)
        found: set[str] = set()
        self.ticked = {}
        for block in self.screen().blocks:
            for element in block.get("elements") or []:
                if element.get("type") != "checkboxes":
                    continue
                values = [o["value"] for o in element["options"] if o["text"]["text"] in wanted]
                found.update(
                    o["text"]["text"] for o in element["options"] if o["text"]["text"] in wanted
                )
                self.ticked[(block["block_id"], element["action_id"])] = values
        missing = wanted - found
        if missing:
            raise LookupError(f"no checkbox {sorted(missing)} in the message")

    def _state(self, blocks: Sequence[JSON]) -> JSON:
        values: JSON = {}
        for block in blocks:
            for element in block.get("elements") or []:
                if element.get("type") != "checkboxes":
                    continue
                key = (block["block_id"], element["action_id"])
                chosen = self.ticked.get(
                    key, [o["value"] for o in element.get("initial_options") or []]
                )
                options = [o for o in element["options"] if o["value"] in chosen]
                values.setdefault(block["block_id"], {})[element["action_id"]] = {
                    "type": "checkboxes",
                    "selected_options": options,
                }
        return {"values": values}

    def _find(
        self, blocks: Sequence[JSON], caption: str | None, action_id: str | None
    ) -> tuple[JSON, JSON]:
        for block in blocks:
            candidates = list(block.get("elements") or [])
            if block.get("accessory"):
                candidates.append(block["accessory"])
            for element in candidates:
                if element.get("type") != "button":
                    continue
                if caption is not None and element["text"]["text"] != caption:
                    continue
                if action_id is not None and element["action_id"] != action_id:
                    continue
                return block, element
        raise LookupError(f"no button {caption or action_id!r} in {_texts(blocks)}")

    async def press(
        self,
        caption: str | None = None,
        *,
        action_id: str | None = None,
        message: FakeMessage | None = None,
        action_ts: str | None = None,
        **options: Any,
    ) -> httpx.Response:
        """Press a button (by caption or action id) in ``message`` (the latest by default)."""
        payload = self.press_payload(
            caption, action_id=action_id, message=message, action_ts=action_ts
        )
        return await self.sender.interaction(payload, **options)

    def press_payload(
        self,
        caption: str | None = None,
        *,
        action_id: str | None = None,
        message: FakeMessage | None = None,
        action_ts: str | None = None,
    ) -> JSON:
        """The ``block_actions`` payload of a press (to post, or to post again as Slack
        retries it)."""
        shown = message or self.screen()
        block, element = self._find(shown.blocks, caption, action_id)
        action = {
            "type": "button",
            "action_id": element["action_id"],
            "block_id": block.get("block_id", ""),
            "text": element["text"],
            "action_ts": action_ts or f"{time.time():.6f}",
        }
        if "value" in element:
            action["value"] = element["value"]
        return self._message_payload(shown, action)

    async def select(
        self, caption: str, *, message: FakeMessage | None = None, **options: Any
    ) -> httpx.Response:
        """Choose the option ``caption`` in a static select of ``message``."""
        shown = message or self.screen()
        for block in shown.blocks:
            elements = list(block.get("elements") or [])
            if block.get("accessory"):
                elements.append(block["accessory"])
            for element in elements:
                if element.get("type") != "static_select":
                    continue
                for item in element["options"]:
                    if item["text"]["text"] == caption:
                        action = {
                            "type": "static_select",
                            "action_id": element["action_id"],
                            "block_id": block["block_id"],
                            "selected_option": item,
                            "action_ts": f"{time.time():.6f}",
                        }
                        payload = self._message_payload(shown, action)
                        return await self.sender.interaction(payload, **options)
        raise LookupError(f"no select option {caption!r}")

    def _message_payload(self, shown: FakeMessage, action: JSON) -> JSON:
        return {
            "type": "block_actions",
            "user": self._user(),
            "api_app_id": "A0000001",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": shown.ts,
                "channel_id": shown.channel,
                "is_ephemeral": False,
            },
            "trigger_id": self.slack.new_trigger(self.user_id),
            "team": {"id": self.slack.team_id},
            "channel": {"id": shown.channel, "name": "directmessage"},
            "message": {
                "type": "message",
                "ts": shown.ts,
                "text": shown.text,
                "blocks": shown.blocks,
            },
            "state": self._state(shown.blocks),
            "response_url": self.slack.response_url((shown.channel, shown.ts)),
            "actions": [action],
        }

    async def press_home(self, caption: str, **options: Any) -> httpx.Response:
        """Press a button on this person's App Home."""
        view = self.slack.home[self.user_id]
        block, element = self._find(view["blocks"], caption, None)
        payload = {
            "type": "block_actions",
            "user": self._user(),
            "api_app_id": "A0000001",
            "container": {"type": "view", "view_id": "VHOME"},
            "trigger_id": self.slack.new_trigger(self.user_id),
            "team": {"id": self.slack.team_id},
            "view": {**view, "id": "VHOME"},
            "actions": [
                {
                    "type": "button",
                    "action_id": element["action_id"],
                    "block_id": block.get("block_id", ""),
                    "value": element.get("value"),
                    "text": element["text"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return await self.sender.interaction(payload, **options)

    async def submit(self, value: str | None, **options: Any) -> httpx.Response:
        """Submit the modal last opened for this person with ``value`` in its input."""
        opened = self.slack.last_view(self.user_id)
        entered: JSON = {}
        for block in opened.view.get("blocks") or []:
            if block.get("type") != "input":
                continue
            element = block["element"]
            kind = element["type"]
            state: JSON = {"type": kind}
            if kind == "datepicker":
                state["selected_date"] = value
            else:
                state["value"] = value
            entered[block["block_id"]] = {element["action_id"]: state}
        payload = {
            "type": "view_submission",
            "team": {"id": self.slack.team_id},
            "user": self._user(),
            "api_app_id": "A0000001",
            "trigger_id": self.slack.new_trigger(self.user_id),
            "view": {
                **opened.view,
                "id": opened.id,
                "hash": opened.hash,
                "state": {"values": entered},
            },
        }
        return await self.sender.interaction(payload, **options)

    async def command(
        self, text: str, *, command: str = "/itinera", **options: Any
    ) -> httpx.Response:
        fields = {
            "token": "legacy-verification-token",
            "team_id": self.slack.team_id,
            "channel_id": "C0000GENERAL",
            "channel_name": "general",
            "user_id": self.user_id,
            "user_name": self.user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0000001",
            "response_url": self.slack.response_url(),
            "trigger_id": self.slack.new_trigger(self.user_id),
        }
        return await self.sender.command(fields, **options)


def _texts(blocks: Sequence[JSON]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            found.append(str(text.get("text", "")))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                found.append(element["text"])
    return found
