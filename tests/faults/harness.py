"""The fault tests' harness: ``itinera run`` killed, cut off from its database, restarted.

They need PostgreSQL (several processes share one database): ``ITINERA_TEST_DATABASE_URL``
must be set, else they fail with a line saying so; they never skip. Everything is on
loopback: the fake Slack Web API and Telegram Bot API run in the test's process, ``itinera
run`` in a child process with its settings in the environment, on an ephemeral port.

Fixtures (``conftest.py`` makes them the package's) and helpers (``tests.faults.harness``):

- ``fault_db``: a fresh, migrated PostgreSQL schema (its URL) and a store on it;
- ``make_world``: seeds a survey, a roster of delegates on Slack and Telegram (linked as
  ``/start`` and the roster's ``slack_user_id`` would) and launches a round;
- :class:`ItineraProcess`: starts, SIGKILLs and restarts ``itinera run``, logging to a file;
- :class:`SlackPlatform`: signed requests into the process as Slack sends them; what was not
  acknowledged (refused connection, reset, non-2xx) is sent again with ``X-Slack-Retry-Num``;
- :func:`wait_until`: polls a condition (the database, the fakes) until a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.fakes.slack_api import FakeMessage, FakeSlackApi, SignedSender, SlackUser
from bot.fakes.slack_api import FakeUser as SlackAccount
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.telegram_api import FakeUser as TelegramAccount
from handlers.slack import blocks
from handlers.telegram import callbacks
from handlers.telegram.enrolment import code_hash, issue_code
from storage.database import Store, open_store
from storage.migrate import upgrade_async
from storage.tables import AnswerHistoryRow, InboundEventRow, OutboundMessageRow
from surveys.definition import Survey, load_survey
from surveys.records import Audience, Participant
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor

POSTGRES_ENV = "ITINERA_TEST_DATABASE_URL"
SLACK_TOKEN = "xoxb-faults"
SIGNING_SECRET = "faults-signing-secret"
WEBHOOK_SECRET = "faults-webhook-secret"
LEASE_SECONDS = 2
"""The claim lease ``itinera run`` is given: abandoned claims are taken over this soon."""
START_WITHIN = 60.0
ACTOR = Actor.command_line("faults")

CHOICES = [
    {"value": "trade", "label": {"en": "Trade"}},
    {"value": "security", "label": {"en": "Security"}},
    {"value": "health", "label": {"en": "Health"}},
]
SURVEY: dict[str, Any] = {
    "id": "faults",
    "version": "1",
    "title": {"en": "Faults"},
    "default_language": "en",
    "languages": ["en"],
    "choice_lists": {"topics": CHOICES},
    "questions": [
        {"id": "q1", "type": "single_choice", "choices": "topics", "label": {"en": "First?"}},
        {"id": "q2", "type": "text", "label": {"en": "Second?"}},
        {"id": "q3", "type": "text", "label": {"en": "Third?"}},
        {"id": "q4", "type": "single_choice", "choices": "topics", "label": {"en": "Fourth?"}},
        {"id": "q5", "type": "text", "label": {"en": "Fifth?"}},
    ],
}
"""Choice and text questions in turn, none required (so a delegate may skip)."""
QUESTIONS = [question["id"] for question in SURVEY["questions"]]
KINDS = {question["id"]: question["type"] for question in SURVEY["questions"]}


# --- waiting --------------------------------------------------------------------------------


async def wait_until(
    condition: Callable[[], Awaitable[bool] | bool],
    *,
    within: float,
    what: str,
    every: float = 0.1,
) -> None:
    """Poll ``condition`` until it holds; fail the test with ``what`` after ``within`` s."""
    try:
        async with asyncio.timeout(within):
            while True:
                outcome = condition()
                if not isinstance(outcome, bool):
                    outcome = await outcome
                if outcome:
                    return
                await asyncio.sleep(every)
    except TimeoutError:
        pytest.fail(f"timed out after {within} s waiting for {what}", pytrace=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the database ---------------------------------------------------------------------------


@dataclass
class FaultDb:
    url: str
    schema: str
    store: Store

    def with_host(self, host: str, port: int) -> str:
        """The same database reached at another address (through a proxy)."""
        return make_url(self.url).set(host=host, port=port).render_as_string(hide_password=False)

    async def scalar(self, statement: Any) -> Any:
        assert self.store.database is not None
        async with self.store.database.sessions() as session:
            return await session.scalar(statement)

    async def rows(self, statement: Any) -> list[Any]:
        assert self.store.database is not None
        async with self.store.database.sessions() as session:
            return list((await session.execute(statement)).all())

    async def unprocessed(self) -> int:
        return int(
            await self.scalar(
                select(func.count())
                .select_from(InboundEventRow)
                .where(InboundEventRow.processed_at.is_(None))
            )
        )

    async def history(self) -> list[tuple[int, str, Any]]:
        """(response id, question id, value) of every answer ever written, oldest first."""
        found = await self.rows(
            select(
                AnswerHistoryRow.response_id, AnswerHistoryRow.question_id, AnswerHistoryRow.value
            ).order_by(AnswerHistoryRow.id)
        )
        return [(row[0], row[1], row[2]) for row in found]

    async def outbox(self, key_prefix: str) -> list[tuple[str, str, str]]:
        """(key, status, channel) of the outbox rows whose key starts with ``key_prefix``."""
        found = await self.rows(
            select(
                OutboundMessageRow.key, OutboundMessageRow.status, OutboundMessageRow.channel
            ).where(OutboundMessageRow.key.startswith(key_prefix))
        )
        return [(row[0], row[1], row[2]) for row in found]


@pytest.fixture
async def fault_db() -> AsyncIterator[FaultDb]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.fail(
            f"tests/faults run several processes on one PostgreSQL database: set {POSTGRES_ENV}"
            " (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)",
            pytrace=False,
        )
    schema = f"faults_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(make_url(base), poolclass=NullPool)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"schema": schema})
        rendered = url.render_as_string(hide_password=False)
        await upgrade_async(rendered)
        store = await open_store(rendered)
        try:
            yield FaultDb(rendered, schema, store)
        finally:
            await store.close()
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()


# --- the world ------------------------------------------------------------------------------


@dataclass
class Delegate:
    """One delegate, on one channel, and what the test had them do."""

    participant: Participant
    channel: str
    slack: SlackUser | None = None
    telegram: TelegramAccount | None = None
    answered: dict[str, Any] = field(default_factory=dict)
    """The model: question id -> what the delegate pressed or typed for it (None: skipped)."""

    @property
    def name(self) -> str:
        return self.participant.name


@dataclass
class World:
    db: FaultDb
    survey: Survey
    round_id: int
    slack: FakeSlackApi
    telegram: FakeTelegram
    delegates: list[Delegate]

    async def state(self, delegate: Delegate) -> tuple[str | None, dict[str, Any]]:
        """The delegate's current question and stored answers."""
        response = await self.db.store.responses.get_response(
            self.round_id, delegate.participant.id
        )
        return response.state.current, dict(response.state.answers)


WorldMaker = Callable[..., Awaitable[World]]


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeSlackApi, FakeTelegram]]:
    async with FakeSlackApi(token=SLACK_TOKEN) as slack, FakeTelegram() as telegram:
        yield slack, telegram


@pytest.fixture
async def make_world(
    fault_db: FaultDb, fakes: tuple[FakeSlackApi, FakeTelegram]
) -> AsyncIterator[WorldMaker]:
    """``await make_world(slack=12, telegram=12)``: that many delegates on each channel, a
    launched round asking them, opened a minute ago."""
    slack_api, telegram_api = fakes
    # Slack users build their requests with it; SlackPlatform posts them.
    sender = SignedSender("http://127.0.0.1:1/slack/events", SIGNING_SECRET)

    async def make(*, slack: int, telegram: int) -> World:
        store = fault_db.store
        now = datetime.now(UTC)
        lines = ["delegation,name,email,role,language,timezone,slack_user_id"]
        for n in range(slack + telegram):
            code = _code(n)
            user = f"U{n:07d}" if n < slack else ""
            lines.append(f"{code},Delegate {n},d{n}@example.org,delegate,en,UTC,{user}")
        await organising.import_survey(store, ACTOR, load_survey(SURVEY), now=now)
        await organising.import_roster(store, ACTOR, read_roster_csv("\n".join(lines)), now=now)
        people = {p.email: p for p in await store.roster.list_participants()}
        delegates = []
        for n in range(slack + telegram):
            participant = people[f"d{n}@example.org"]
            if n < slack:
                account = SlackAccount(f"U{n:07d}", participant.email, participant.name)
                slack_api.add_user(account)
                user = SlackUser(slack_api, sender, account.id)
                delegates.append(Delegate(participant, "slack", slack=user))
            else:
                person = telegram_api.user(5_000_000 + n, f"Delegate{n}")
                issued = await issue_code(
                    store.enrolments,
                    participant_id=participant.id,
                    bot_username=telegram_api.username,
                    now=now,
                    days=14,
                )
                await store.enrolments.redeem(
                    channel="telegram",
                    code_hash=code_hash(issued.code),
                    external_id=str(person.id),
                    now=now,
                )
                await store.identities.set_address(participant.id, "telegram", str(person.id))
                delegates.append(Delegate(participant, "telegram", telegram=person))
        launched = await organising.launch(
            store,
            ACTOR,
            organising.LaunchRequest(
                survey_id="faults",
                audience=Audience("all"),
                closes=now + timedelta(days=7),
                opens=now - timedelta(minutes=1),
                tz="UTC",
            ),
            now=now,
        )
        return World(
            fault_db, load_survey(SURVEY), launched.round.id, slack_api, telegram_api, delegates
        )

    yield make
    await sender.aclose()


def _code(n: int) -> str:
    """A distinct three-letter delegation code per delegate (AAA, AAB, ...)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[n // 676 % 26] + letters[n // 26 % 26] + letters[n % 26]


# --- the process ----------------------------------------------------------------------------


class ItineraProcess:
    """``itinera run`` in a child process, on one port for all its lives, logging to a file."""

    def __init__(
        self,
        *,
        database_url: str,
        slack: FakeSlackApi,
        telegram: FakeTelegram,
        log: Path,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.log = log
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ITINERA_")},
            "PTB_TIMEDELTA": "true",
            "ITINERA_DATABASE_URL": database_url,
            "ITINERA_HTTP_HOST": "127.0.0.1",
            "ITINERA_HTTP_PORT": str(self.port),
            "ITINERA_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "ITINERA_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ITINERA_SLACK_API_URL": slack.url,
            "ITINERA_TELEGRAM_TOKEN": telegram.token,
            "ITINERA_TELEGRAM_API_URL": telegram.url,
            "ITINERA_TELEGRAM_MODE": "webhook",
            "ITINERA_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "ITINERA_TELEGRAM_WEBHOOK_URL": f"{self.url}/telegram/webhook",
            "ITINERA_TELEGRAM_BOT_USERNAME": telegram.username,
            "ITINERA_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
            "ITINERA_TICK_SECONDS": "5",
            "ITINERA_DIGEST_FOLDER": str(log.parent / "digests"),
            **(extra or {}),
        }
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def slack_events(self) -> str:
        return f"{self.url}/slack/events"

    async def start(self) -> None:
        assert self.process is None or self.process.returncode is not None
        script = Path(sys.executable).with_name("itinera")
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                str(script), "run", env=self.env, stdout=out, stderr=asyncio.subprocess.STDOUT
            )
        self.starts += 1
        await wait_until(self._healthy, within=START_WITHIN, what="itinera run to answer")

    async def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.returncode is not None:
            pytest.fail(f"itinera run exited with {self.process.returncode}; see {self.log}")
        try:
            async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
                reply = await client.get(f"{self.url}/healthz")
        except httpx.HTTPError:
            return False
        return reply.status_code == 200 and "Itinera is running" in self.log.read_text()

    async def kill(self) -> None:
        """SIGKILL: nothing is flushed, nothing is released."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1

    async def restart(self) -> None:
        await self.kill()
        await self.start()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def tracebacks(self) -> int:
        return self.log.read_text(errors="replace").count("Traceback (most recent call last)")

    def quiet_log(self) -> list[str]:
        """Assert that the log holds no traceback and no ERROR or CRITICAL line; its lines."""
        text = self.log.read_text(errors="replace")
        assert self.tracebacks() == 0, text[-4000:]
        lines = text.splitlines()
        assert not [line for line in lines if " ERROR " in line or " CRITICAL " in line]
        return lines


@pytest.fixture
async def itinera_process(
    fault_db: FaultDb, fakes: tuple[FakeSlackApi, FakeTelegram], tmp_path: Path
) -> AsyncIterator[Any]:
    """``itinera_process(database_url=None)``: an :class:`ItineraProcess` (not started) on
    the test's database, stopped at the end."""
    made: list[ItineraProcess] = []

    def make(
        database_url: str | None = None, *, extra: dict[str, str] | None = None
    ) -> ItineraProcess:
        slack, telegram = fakes
        process = ItineraProcess(
            database_url=database_url or fault_db.url,
            slack=slack,
            telegram=telegram,
            log=tmp_path / f"itinera-{len(made)}.log",
            extra=extra,
        )
        made.append(process)
        return process

    yield make
    for process in made:
        await process.stop()


# --- the delegates' side ---------------------------------------------------------------------


def screens(world: World, delegate: Delegate) -> list[tuple[int, Any]]:
    """(question index, message) of each message of the bot that asks the delegate a question.

    After a kill, a message the process sent but had not recorded is sent again: the delegate
    then has two copies, and the one the bot edits as they answer is the furthest along (no
    delegate here goes back)."""
    found: list[tuple[int, Any]] = []
    if delegate.slack is not None:
        dm = delegate.slack.dm
        for (channel, _), message in world.slack.messages.items():
            if channel != dm:
                continue
            for block in message.blocks:
                parts = str(block.get("block_id", "")).split("|")
                if len(parts) == 3 and parts[0] == str(world.round_id) and parts[1]:
                    found.append((QUESTIONS.index(parts[1]), message))
                    break
        return found
    assert delegate.telegram is not None
    for message in world.telegram.bot_messages(delegate.telegram):
        for button in message.buttons:
            meaning = callbacks.decode(button.data)
            if isinstance(meaning, callbacks.Choose | callbacks.SkipQuestion):
                found.append((meaning.question, message))
                break
    return found


def current_screen(world: World, delegate: Delegate) -> Any:
    shown = screens(world, delegate)
    return max(shown, key=lambda pair: pair[0])[1] if shown else None


def shown_question(world: World, delegate: Delegate) -> str | None:
    """The question the delegate's screen asks, as the platform shows it."""
    shown = screens(world, delegate)
    return QUESTIONS[max(index for index, _ in shown)] if shown else None


def plan(number: int, question_id: str) -> Any:
    """What delegate ``number`` answers to ``question_id``: a choice's code or a text."""
    if KINDS[question_id] == "single_choice":
        return CHOICES[(number + QUESTIONS.index(question_id)) % len(CHOICES)]["value"]
    return f"answer {number} to {question_id}"


class Drive:
    """The delegates' side: presses and typed messages, through both platforms."""

    def __init__(self, world: World, slack: SlackPlatform) -> None:
        self.world = world
        self.slack = slack
        self.telegram_held: set[int] = set()

    def acknowledged(self) -> int:
        telegram = sum(1 for _, status in self.world.telegram.webhook_deliveries if status == 200)
        return self.slack.acknowledged + telegram

    async def choose(self, delegate: Delegate, code: str) -> None:
        number = next(n for n, c in enumerate(CHOICES, start=1) if c["value"] == code)
        if delegate.slack is not None:
            await self.slack.press(
                delegate.slack,
                f"{blocks.ACTION_CHOOSE}.{number}",
                message=current_screen(self.world, delegate),
            )
            return
        await self._press(
            delegate, lambda m: isinstance(m, callbacks.Choose) and m.number == number
        )

    async def skip(self, delegate: Delegate) -> None:
        if delegate.slack is not None:
            await self.slack.press(
                delegate.slack, blocks.ACTION_SKIP, message=current_screen(self.world, delegate)
            )
            return
        await self._press(delegate, lambda m: isinstance(m, callbacks.SkipQuestion))

    async def type(self, delegate: Delegate, written: str, *, hold: bool = False) -> None:
        if delegate.slack is not None:
            await self.slack.say(delegate.slack, written, hold=hold)
            return
        assert delegate.telegram is not None
        fake = self.world.telegram
        before = set(fake.pending())
        await fake.send_text(delegate.telegram, written)
        if hold:
            self.telegram_held |= set(fake.pending()) - before

    async def _press(self, delegate: Delegate, wanted: Any) -> None:
        assert delegate.telegram is not None
        fake = self.world.telegram
        message = current_screen(self.world, delegate)
        assert message is not None
        for button in message.buttons:
            if button.data is not None and wanted(callbacks.decode(button.data)):
                await fake.press(delegate.telegram, message.message_id, button.data)
                return
        raise AssertionError(f"{delegate.name}: no such button in {message.buttons}")

    async def answer_all(
        self,
        number: int,
        delegate: Delegate,
        *,
        within: float,
        then: Callable[[Delegate, str], Awaitable[None]] | None = None,
    ) -> None:
        """Answer every question as :func:`plan` says for delegate ``number``, each once the
        delegate's screen asks it (then await ``then``), keeping what was given."""
        for question_id in QUESTIONS:
            await wait_until(
                lambda asked=question_id: shown_question(self.world, delegate) == asked,
                within=within,
                what=f"{delegate.name}'s screen to ask {question_id}",
            )
            value = plan(number, question_id)
            await self.answer(delegate, question_id, value)
            delegate.answered[question_id] = value
            if then is not None:
                await then(delegate, question_id)

    async def answer(self, delegate: Delegate, question_id: str, value: Any) -> None:
        if value is None:
            await self.skip(delegate)
        elif KINDS[question_id] == "single_choice":
            await self.choose(delegate, value)
        else:
            await self.type(delegate, value)

    async def invited(self, *, within: float) -> None:
        """Until every delegate's screen asks the first question: their invitation."""
        world, first = self.world, QUESTIONS[0]
        await wait_until(
            lambda: all(shown_question(world, d) == first for d in world.delegates),
            within=within,
            what="every delegate's invitation",
        )

    async def answer_everything(
        self, *, within: float, alongside: Sequence[Awaitable[None]] = ()
    ) -> None:
        """Every delegate answers the whole survey (:meth:`answer_all`, each answer awaited in
        the database) while ``alongside`` runs (the fault), Slack and Telegram sending again
        what was not acknowledged; then until every request was applied."""

        async def stored(delegate: Delegate, question_id: str) -> None:
            async def done() -> bool:
                _, answers = await self.world.state(delegate)
                return question_id in answers

            await wait_until(done, within=within, what=f"{delegate.name}'s answer to {question_id}")

        async with platforms_retrying(self.slack, self.world.telegram, hold=set()):
            await asyncio.gather(
                *alongside,
                *(
                    self.answer_all(n, d, within=within, then=stored)
                    for n, d in enumerate(self.world.delegates)
                ),
            )

            async def settled() -> bool:
                pending = self.slack.pending or self.world.telegram.pending()
                return not pending and await self.world.db.unprocessed() == 0

            await wait_until(settled, within=within, what="every request applied")


async def answered_once(world: World) -> int:
    """Assert that every delegate's answers are what they gave, each written once, and that no
    stored event ended in an error; how many answers were written."""
    for delegate in world.delegates:
        _, answers = await world.state(delegate)
        assert answers == delegate.answered, delegate.name
    history = await world.db.history()
    writes = Counter((response, question) for response, question, _ in history)
    assert max(writes.values()) == 1, [key for key, n in writes.items() if n > 1]
    assert len(history) == len(world.delegates) * len(QUESTIONS)
    failed = await world.db.rows(
        select(InboundEventRow.key, InboundEventRow.error).where(InboundEventRow.error.is_not(None))
    )
    assert failed == []
    return len(history)


# --- the platforms ----------------------------------------------------------------------------


@dataclass
class Pending:
    """A request Slack sent that was not acknowledged: Slack sends it again."""

    body: str
    content_type: str
    retries: int = 0
    held: bool = False
    """Not sent again until released (to choose when a retry arrives)."""


class SlackPlatform:
    """Slack's side: each request is posted once; what is not acknowledged (no connection, a
    reset, a non-2xx answer) is kept and sent again by :meth:`retry`, as Slack retries."""

    def __init__(self, events_url: str) -> None:
        self.sender = SignedSender(events_url, SIGNING_SECRET, timeout=30.0)
        self.pending: list[Pending] = []
        self.acknowledged = 0
        self.unacknowledged = 0
        self.statuses: list[int] = []
        self.errors: Counter[str] = Counter()
        """Requests that got no answer, by what went wrong."""

    async def aclose(self) -> None:
        await self.sender.aclose()

    async def press(
        self,
        user: SlackUser,
        action_id: str,
        *,
        message: FakeMessage | None = None,
        hold: bool = False,
    ) -> bool:
        payload = user.press_payload(action_id=action_id, message=message)
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
        return await self._send(
            Pending(body, "application/x-www-form-urlencoded", held=hold), first=True
        )

    async def say(self, user: SlackUser, written: str, *, hold: bool = False) -> bool:
        body = self.sender.event_body(user.message_event(written))
        return await self._send(Pending(body, "application/json", held=hold), first=True)

    async def _send(self, request: Pending, *, first: bool) -> bool:
        try:
            reply = await self.sender.post(
                request.body,
                content_type=request.content_type,
                retry_num=None if first else request.retries,
            )
            status = reply.status_code
        except httpx.HTTPError as error:
            self.errors[type(error).__name__] += 1
            status = 0
        self.statuses.append(status)
        if 200 <= status < 300:
            self.acknowledged += 1
            return True
        if first:
            self.unacknowledged += 1
            self.pending.append(request)
        return False

    async def retry(self) -> int:
        """Send every unacknowledged request (not held) again; how many were acknowledged."""
        done = 0
        for request in list(self.pending):
            if request.held:
                continue
            request.retries += 1
            if await self._send(request, first=False):
                self.pending.remove(request)
                done += 1
        return done

    def release(self) -> None:
        for request in self.pending:
            request.held = False


@contextlib.asynccontextmanager
async def platforms_retrying(
    slack: SlackPlatform, telegram: FakeTelegram, *, hold: set[int], every: float = 0.3
) -> AsyncIterator[None]:
    """Slack and Telegram sending again what was not acknowledged, every ``every`` s (their
    retry schedule, shortened), until the block ends; Telegram holds back ``hold``."""

    async def loop() -> None:
        while True:
            await slack.retry()
            await telegram.deliver_pending(hold=hold)
            await asyncio.sleep(every)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
