"""Fixtures for the Telegram channel: the fake Bot API, a small world, Itinera to run.

- ``loopback_only`` (autouse): any connection to a non-loopback host fails the test;
- ``clock``: a :class:`MutableClock` (real time, moved by hand);
- ``fake``: a started :class:`bot.fakes.telegram_api.FakeTelegram`;
- ``world``: the example survey, a small roster and an open round, on the ``store`` fixture
  (SQLite, and PostgreSQL when ``ITINERA_TEST_DATABASE_URL`` is set);
- ``memory_world``: the same on the in-memory store, for the pure rendering tests;
- ``run_bot``: ``async with run_bot("polling" | "webhook") as bot:`` Itinera as
  :func:`bot.bootstrap.build` makes it, with only Telegram, against the fake; its runtime is
  started (long polling, or the webhook behind a real uvicorn server on an ephemeral port), its
  loops are not: ``await bot.act(fake.send_text(user, "2"))`` waits until the update is stored
  (received by the poller, or answered by the webhook), then applies and sends everything
  pending (:meth:`bot.bootstrap.Itinera.settle`). No sleeps: what waits, waits on a condition.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.bootstrap import Itinera, build
from bot.fakes.telegram_api import FakeTelegram, FakeUser
from bot.fakes.timing import InstantTimer
from bot.server import make_server
from bot.settings import Settings, TelegramMode, load_settings
from bot.survey_files import read_survey_file
from handlers.telegram.delivery import TelegramOut
from handlers.telegram.enrolment import code_hash, issue_code
from handlers.telegram.runtime import TelegramRuntime
from storage.database import Store
from storage.memory import InMemoryStore
from storage.tables import InboundEventRow, OutboundMessageRow
from surveys.definition import Survey
from surveys.records import Audience, Participant, Round
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.delivery import DeliveryReport, tick
from surveys.service.sending import Sender

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
SECRET = "s3cret-Webhook_token"

ROSTER = """\
delegation,delegation_name,region,name,email,role,language,timezone
FRA,France,WEOG,Claire Dubois,claire@example.org,delegate,fr,Europe/Paris
SEN,Senegal,African States,Aminata Diop,aminata@example.org,delegate,fr,Africa/Dakar
MEX,Mexico,GRULAC,Diego Ramírez,diego@example.org,delegate,es,America/Mexico_City
EGY,Egypt,African States,Nour Hassan,nour@example.org,delegate,ar,Africa/Cairo
,,,Olga Organiser,olga@example.org,organiser,en,Europe/Zurich
"""


class MutableClock:
    """Aware UTC time that tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass(frozen=True)
class OutboxRow:
    """An outbox row as the tests look at it."""

    key: str
    method: str
    address: str
    status: str
    error: str | None


@dataclass
class World:
    store: Any
    clock: MutableClock
    survey: Survey
    round: Round
    people: dict[str, Participant] = field(default_factory=dict)

    def person(self, email_prefix: str) -> Participant:
        return self.people[f"{email_prefix}@example.org"]

    async def invite(self, email_prefix: str, *, days: int = 14) -> str:
        """A fresh enrolment code for the participant."""
        issued = await issue_code(
            self.store.enrolments,
            participant_id=self.person(email_prefix).id,
            bot_username="itinera_test_bot",
            now=self.clock.now(),
            days=days,
        )
        return issued.code

    async def enrol(self, email_prefix: str, user_id: int) -> Participant:
        """Link a Telegram user to the participant, as ``/start CODE`` would."""
        code = await self.invite(email_prefix)
        participant = self.person(email_prefix)
        await self.store.enrolments.redeem(
            channel="telegram",
            code_hash=code_hash(code),
            external_id=str(user_id),
            now=self.clock.now(),
        )
        await self.store.identities.set_address(participant.id, "telegram", str(user_id))
        return participant

    async def inbox(self) -> list[tuple[str, bool, str | None]]:
        """(key, processed, error) of every stored Telegram update, oldest first."""
        async with self.store.database.sessions() as session:
            rows = await session.scalars(
                select(InboundEventRow)
                .where(InboundEventRow.channel == "telegram")
                .order_by(InboundEventRow.id)
            )
            return [(row.key, row.processed_at is not None, row.error) for row in rows]

    async def outbox(self) -> list[OutboxRow]:
        """Every Telegram message Itinera enqueued, oldest first."""
        async with self.store.database.sessions() as session:
            rows = await session.scalars(
                select(OutboundMessageRow)
                .where(OutboundMessageRow.channel == "telegram")
                .order_by(OutboundMessageRow.id)
            )
            return [
                OutboxRow(row.key, row.method or "", row.address or "", row.status, row.error)
                for row in rows
            ]

    async def answers(self, email_prefix: str) -> dict[str, Any]:
        participant = self.person(email_prefix)
        response = await self.store.responses.get_response(self.round.id, participant.id)
        return dict(response.state.answers)

    async def current(self, email_prefix: str) -> str | None:
        participant = self.person(email_prefix)
        response = await self.store.responses.get_response(self.round.id, participant.id)
        return response.state.current


async def make_world(store: Any, clock: MutableClock) -> World:
    survey = read_survey_file(EXAMPLE)
    now = clock.now()
    await organising.import_survey(store, Actor.command_line("test"), survey, now=now)
    await organising.import_roster(
        store, Actor.command_line("test"), read_roster_csv(ROSTER), now=now
    )
    launched = await organising.launch(
        store,
        Actor.command_line("test"),
        organising.LaunchRequest(
            survey_id=survey.id,
            audience=Audience("all"),
            closes=now + timedelta(days=30),
            opens=now - timedelta(minutes=1),
        ),
        now=now,
    )
    people = {p.email: p for p in await store.roster.list_participants()}
    return World(store, clock, survey, launched.round, people)


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns (even inside ``RetryAfter.__init__``) unless periods are timedeltas; the
    warning is silent in production but an error under ``filterwarnings = error``."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Fail the test if anything connects to a host that is not on this machine."""
    strays: list[str] = []
    original = asyncio.BaseEventLoop.create_connection

    async def guarded(
        self: Any, protocol_factory: Any, host: Any = None, *args: Any, **kw: Any
    ) -> Any:
        if host is not None and not _is_loopback(str(host)):
            strays.append(str(host))
            raise ConnectionRefusedError(f"test tried to reach {host}")
        return await original(self, protocol_factory, host, *args, **kw)

    monkeypatch.setattr(asyncio.BaseEventLoop, "create_connection", guarded)
    yield strays
    assert strays == [], f"non-loopback hosts contacted: {strays}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as started:
        yield started


@pytest.fixture
async def world(store: Store, clock: MutableClock) -> World:
    return await make_world(store, clock)


@pytest.fixture
async def memory_world(clock: MutableClock) -> World:
    return await make_world(InMemoryStore(), clock)


@dataclass
class RunningBot:
    """Itinera with its Telegram runtime started against the fake (see ``run_bot``)."""

    itinera: Itinera
    runtime: TelegramRuntime
    fake: FakeTelegram
    mode: str

    @property
    def out(self) -> TelegramOut:
        return next(out for out in self.itinera.outs if isinstance(out, TelegramOut))

    @property
    def sender(self) -> Sender:
        return next(s for s in self.itinera.senders if s.channel == "telegram")

    async def act(self, action: Awaitable[int]) -> int:
        """Do ``action`` (a user's update through the fake), wait until Itinera stored it,
        then apply and send everything pending; the update id."""
        update_id = await self.received(action)
        await self.settle()
        return update_id

    async def received(self, action: Awaitable[int]) -> int:
        """Do ``action`` and wait until the update is stored, applying nothing."""
        update_id = await action
        if self.mode == "polling":
            async with asyncio.timeout(10):
                await self.runtime.receiver.until_received(update_id)
        else:  # the fake posted it and has the webhook's answer
            answers = [status for sent, status in self.fake.webhook_deliveries if sent == update_id]
            assert answers and answers[-1] == 200, f"webhook answered {answers} to {update_id}"
        return update_id

    async def settle(self) -> int:
        return await self.itinera.settle(within=20)

    async def tick(self) -> DeliveryReport:
        """The scheduler's tick at the world's time (invitations, reminders), then settle."""
        report = await tick(
            self.itinera.store,
            channels=self.itinera.outs,
            now=self.itinera.clock.now(),
            office_hours=self.itinera.settings.office.parsed,
        )
        await self.settle()
        return report


RunBot = Callable[..., AbstractAsyncContextManager[RunningBot]]


@pytest.fixture
def run_bot(fake: FakeTelegram, world: World, tmp_path: Path) -> RunBot:
    """``async with run_bot(mode) as bot``: Itinera built by the bootstrap against the fake
    (``store=`` another store on the same database, as another process; other keywords
    override settings, named as the environment names them)."""

    @asynccontextmanager
    async def running(
        mode: str, *, store: Store | None = None, **overrides: Any
    ) -> AsyncIterator[RunningBot]:
        listening: socket.socket | None = None
        webhook_url = None
        if mode == "webhook":
            listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listening.bind(("127.0.0.1", 0))
            listening.listen(64)
            webhook_url = f"http://127.0.0.1:{listening.getsockname()[1]}/telegram/webhook"
        else:
            assert mode == "polling", mode
        settings = bot_settings(
            fake,
            TelegramMode.WEBHOOK if mode == "webhook" else TelegramMode.POLLING,
            webhook_url=webhook_url,
            folder=tmp_path / "digests",
            overrides=overrides,
        )
        itinera = build(
            settings, store or world.store, clock=world.clock, timer=InstantTimer(), poll_timeout=1
        )
        (runtime,) = [r for r in itinera.runtimes if isinstance(r, TelegramRuntime)]
        serving: asyncio.Task[None] | None = None
        server = None
        if listening is not None:
            server = make_server(itinera.web, host="127.0.0.1", port=0, log_level="warning")
            serving = asyncio.create_task(server.serve(sockets=[listening]))
        try:
            await runtime.start()
            try:
                yield RunningBot(itinera, runtime, fake, mode)
            finally:
                await runtime.stop()
        finally:
            if server is not None and serving is not None:
                server.should_exit = True
                await serving
            if listening is not None:
                listening.close()
            for close in itinera.closers:
                await close()

    return running


def bot_settings(
    fake: FakeTelegram,
    mode: TelegramMode,
    *,
    webhook_url: str | None = None,
    folder: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Settings for Itinera with only Telegram, on the fake."""
    values: dict[str, Any] = {
        "telegram_token": SecretStr(fake.token),
        "telegram_api_url": fake.url,
        "telegram_mode": mode,
        "telegram_webhook_secret": SecretStr(SECRET),
        "telegram_webhook_url": webhook_url,
        "telegram_bot_username": fake.username,
        "slack_bot_token": None,
        "slack_app_token": None,
        "http_port": 0,
    }
    if folder is not None:
        values["digest_folder"] = str(folder)
    return load_settings(**(values | (overrides or {})))


Act = Callable[[RunningBot, Awaitable[int]], Awaitable[int]]


@pytest.fixture
def act() -> Act:
    """``await act(bot, fake.send_text(user, "2"))``: ``bot.act`` as a function."""

    async def run(bot: RunningBot, action: Awaitable[int]) -> int:
        return await bot.act(action)

    return run


__all__ = ["Act", "FakeUser", "MutableClock", "RunningBot", "World"]
