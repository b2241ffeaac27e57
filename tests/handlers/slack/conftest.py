"""Slack tests: a loopback-only network, the fake Web API, and the whole app served over HTTP.

- Every test here fails if anything connects to (or resolves) a host that is not loopback.
- ``slack_world``: a migrated database (SQLite, and PostgreSQL when configured) with the example
  survey and roster imported and a round launched through the core use cases; the real Bolt app
  built by ``bot.slack_wiring.build_slack`` and served by uvicorn on 127.0.0.1; the fake Slack
  Web API; and :class:`SlackUser` players for the roster's people.
"""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bot.bootstrap import Itinera, build
from bot.fakes.slack_api import FakeSlackApi, FakeUser, SignedSender, SlackUser
from bot.fakes.timing import InstantTimer
from bot.rosters import read_roster_file
from bot.settings import Settings, load_settings
from bot.survey_files import read_survey_file
from handlers.slack.runtime import EVENTS_PATH, SlackRuntime
from storage.database import Store, open_store
from surveys.records import Audience
from surveys.service import organising
from surveys.service.actors import Actor

ROOT = Path(__file__).resolve().parents[3]
SURVEY_FILE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
ROSTER_FILE = ROOT / "surveys" / "examples" / "roster.csv"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-token"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOSES = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)

LUCIA = "U01MEX0001"  # delegate, Mexico, Spanish
CLAIRE = "U01FRA0001"  # delegate, France, French
SOFIA = "U01ORG0001"  # organiser, Spanish
DANIEL = "U01ORG0002"  # organiser, English
AMINATA = "U09SEN0001"  # delegate with no Slack id in the roster: found by email
STRANGER = "U09XXX0001"  # a Slack user who is not on the roster

SLACK_USERS = [
    FakeUser(
        LUCIA, "lucia.hernandez@example.org", "Lucía Hernández", "America/Mexico_City", "es-ES"
    ),
    FakeUser(CLAIRE, "claire.dubois@example.org", "Claire Dubois", "Europe/Paris", "fr-FR"),
    FakeUser(SOFIA, "sofia.marquez@example.org", "Sofia Marquez", "Europe/Zurich", "es-ES"),
    FakeUser(DANIEL, "daniel.okafor@example.org", "Daniel Okafor", "Europe/Zurich"),
    FakeUser(AMINATA, "Aminata.Diop@example.org", "Aminata Diop", "Africa/Dakar", "fr-FR"),
    FakeUser(STRANGER, "someone@example.com", "Someone Else"),
]


# --- loopback only ------------------------------------------------------------------------------


def _loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and the like
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any connection or name lookup outside 127.0.0.1/::1."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if not _loopback(host):
            raise AssertionError(f"test tried to reach {address!r}: only loopback is allowed")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            name = host.decode() if isinstance(host, bytes) else str(host)
            check((name,))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield


# --- the world --------------------------------------------------------------------------------


@dataclass
class FixedClock:
    moment: datetime = NOW

    def now(self) -> datetime:
        return self.moment


@dataclass
class SlackWorld:
    store: Store
    slack: FakeSlackApi
    itinera: Itinera
    sender: SignedSender
    round_id: int
    clock: FixedClock
    base_url: str
    players: dict[str, SlackUser] = field(default_factory=dict)

    @property
    def runtime(self) -> SlackRuntime:
        found = self.itinera.runtimes[0]
        assert isinstance(found, SlackRuntime)
        return found

    def user(self, user_id: str) -> SlackUser:
        if user_id not in self.players:
            self.players[user_id] = SlackUser(self.slack, self.sender, user_id)
        return self.players[user_id]

    async def idle(self, within: float = 10.0) -> None:
        """Apply what was received and send what it caused, until nothing moves (no sleeping)."""
        await self.itinera.settle(within=within)


async def populate(store: Store, clock: FixedClock) -> int:
    """Import the example survey and roster and launch a round to everyone; its id."""
    now = clock.now()
    await organising.import_survey(
        store, Actor.command_line("test"), read_survey_file(SURVEY_FILE), now=now
    )
    roster, _ = read_roster_file(ROSTER_FILE)
    await organising.import_roster(store, Actor.command_line("test"), roster, now=now)
    launched = await organising.launch(
        store,
        Actor.command_line("test"),
        organising.LaunchRequest(
            survey_id="route_alignment",
            audience=Audience.parse("all"),
            closes=CLOSES,
        ),
        now=now,
    )
    return launched.round.id


@asynccontextmanager
async def serving(itinera: Itinera) -> AsyncIterator[str]:
    """Itinera's ASGI app (the one of ``bot.server``) on 127.0.0.1, ephemeral port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(itinera.web, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    sock.listen(128)  # connections queue until uvicorn accepts them: nothing to wait for
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def slack_settings(slack: FakeSlackApi, database_url: str, **extra: Any) -> Settings:
    return load_settings(
        database_url=database_url,
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack.url,
        **extra,
    )


@asynccontextmanager
async def slack_world_on(
    database_url: str,
    *,
    wrap: Callable[[Store], Store] | None = None,
    inbox_timeout: float = 2.0,
    before_start: Callable[[Store], Awaitable[None]] | None = None,
    populated: bool = True,
) -> AsyncIterator[SlackWorld]:
    """The world on ``database_url``; ``wrap`` may replace some repositories of the store;
    ``populated`` False: the database already holds the world (a restart)."""
    clock = FixedClock()
    store = await open_store(database_url)
    opened = wrap(store) if wrap is not None else store
    digest_folder = tempfile.mkdtemp(prefix="itinera-digests-")
    try:
        if populated:
            round_id = await populate(opened, clock)
        else:
            round_id = max(round_.id for round_ in await opened.rounds.list_rounds())
        if before_start is not None:
            await before_start(opened)
        async with FakeSlackApi(users=SLACK_USERS, token=BOT_TOKEN) as slack:
            itinera = build(
                slack_settings(slack, database_url, digest_folder=digest_folder),
                opened,
                clock=clock,
                timer=InstantTimer(),
                inbox_timeout=inbox_timeout,
            )
            async with serving(itinera) as base_url:
                for runtime in itinera.runtimes:
                    await runtime.start()
                sender = SignedSender(base_url + EVENTS_PATH, SIGNING_SECRET)
                try:
                    yield SlackWorld(opened, slack, itinera, sender, round_id, clock, base_url)
                finally:
                    for runtime in itinera.runtimes:
                        await runtime.stop()
                    for close in itinera.closers:
                        await close()
                    await sender.aclose()
    finally:
        await store.close()
        shutil.rmtree(digest_folder, ignore_errors=True)


@pytest.fixture
async def slack_world(database_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world_on(database_url) as world:
        yield world


WorldFactory = Callable[..., Any]


@pytest.fixture
def make_world(database_url: str) -> WorldFactory:
    """``async with make_world(wrap=..., inbox_timeout=..., before_start=...) as world``."""

    def factory(**options: Any) -> Any:
        return slack_world_on(database_url, **options)

    return factory
