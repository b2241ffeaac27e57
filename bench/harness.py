"""What the benchmarks share: a fresh PostgreSQL database, a roster of synthetic delegates on
both channels, ``itinera run`` in a child process, percentiles.

Imported by the scripts beside it (``python bench/fanout.py`` puts this folder on the path).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bot.survey_files import read_survey_file
from storage.database import Store, open_store
from storage.migrate import upgrade_async
from surveys.records import Audience, Delegation, ParticipantData, Role
from surveys.roster import Roster
from surveys.service import organising
from surveys.service.actors import Actor

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BENCH = Actor.command_line("bench")
SIGNING_SECRET = "bench-signing-secret"
WEBHOOK_SECRET = "bench-webhook-secret"


@contextlib.asynccontextmanager
async def fresh_database(server: str, name: str) -> AsyncIterator[str]:
    """A new, migrated database ``name`` on ``server`` (any database there to connect to);
    dropped afterwards. Yields its SQLAlchemy URL."""
    url = make_url(server)
    if not url.drivername.startswith("postgresql"):
        raise SystemExit("the benchmarks run on PostgreSQL: give a postgresql+asyncpg:// URL")
    admin = url.set(drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    target = url.set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade_async(target)
        yield target
    finally:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


def slack_user(n: int) -> str:
    return f"U{n:08d}"


def telegram_user(n: int) -> int:
    return 500_000_000 + n


@dataclass(frozen=True)
class Seeded:
    round_id: int
    slack: list[str]
    """Slack user ids, in roster order."""
    telegram: list[int]
    """Telegram user ids (their private chats), in roster order."""


async def seed(url: str, *, slack: int, telegram: int, opens: datetime | None = None) -> Seeded:
    """The example survey, ``slack`` delegates on Slack (user ids in the roster) and
    ``telegram`` enrolled on Telegram, and a round to all of them opening now."""
    now = datetime.now(UTC)
    # The two channels' delegates alternate in the roster, as they would in a real one, so
    # that the invitations of both are enqueued side by side.
    on_slack = _interleaved(slack, telegram)
    codes = [f"{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}" for i in range(193)]
    people = [
        ParticipantData(
            name=f"Delegate {n}",
            email=f"delegate{n}@example.org",
            role=Role.DELEGATE,
            delegation=codes[n % len(codes)],
            language=("en", "fr", "es")[n % 3],
            timezone="Europe/Zurich",
            slack_user_id=slack_user(n) if on_slack[n] else None,
        )
        for n in range(slack + telegram)
    ]
    roster = Roster(
        delegations=tuple(Delegation(code, f"State {code}", "Region") for code in codes),
        participants=tuple(people),
    )
    store: Store = await open_store(url)
    try:
        await organising.import_survey(store, BENCH, read_survey_file(EXAMPLE), now=now)
        await organising.import_roster(store, BENCH, roster, now=now)
        by_email = {p.email: p for p in await store.roster.list_participants()}
        async with store.transaction() as tx:
            for n in (n for n in range(slack + telegram) if not on_slack[n]):
                participant = by_email[f"delegate{n}@example.org"]
                await tx.roster.link_identity(participant.id, "telegram", str(telegram_user(n)))
        launched = await organising.launch(
            store,
            BENCH,
            organising.LaunchRequest(
                survey_id="route_alignment",
                audience=Audience("all"),
                opens=opens,
                closes=now + timedelta(days=7),
            ),
            now=now,
        )
    finally:
        await store.close()
    return Seeded(
        launched.round.id,
        [slack_user(n) for n in range(slack + telegram) if on_slack[n]],
        [telegram_user(n) for n in range(slack + telegram) if not on_slack[n]],
    )


def _interleaved(slack: int, telegram: int) -> list[bool]:
    """For each roster position, whether that delegate is on Slack: spread evenly."""
    total = slack + telegram
    return [(n + 1) * slack // max(total, 1) > n * slack // max(total, 1) for n in range(total)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """A process started with ``env`` on top of this one's, its output in ``log``; stopped
    with SIGTERM (then SIGKILL) on leaving."""

    def __init__(self, args: Sequence[str], *, env: Mapping[str, str], log: Path) -> None:
        self.args, self.env, self.log = list(args), dict(env), log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Child:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("ITINERA_")}
        environment.update(self.env)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, *self.args], env=environment, stdout=out, stderr=out, cwd=ROOT
            )
        return self

    def __exit__(self, *exc: object) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def check(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{self.args[0]} stopped ({self.process.returncode}):\n{tail}")

    def cpu_seconds(self) -> float:
        """User + system CPU time the child has used so far (Linux /proc)."""
        if self.process is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_healthy(url: str, child: Child, *, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(trust_env=False) as http:
        while time.monotonic() < deadline:
            child.check()
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url}/healthz did not answer within {within:.0f} s")


def itinera_env(
    *,
    database_url: str,
    port: int,
    slack_api: str | None = None,
    telegram_api: str | None = None,
    telegram_token: str = "",
    telegram_webhook: bool = False,
    webhook_port: int | None = None,
    tick_seconds: int = 5,
) -> dict[str, str]:
    """The environment of ``itinera run`` against the fakes; Telegram's webhook on
    ``webhook_port`` (default ``port``), where several processes share one."""
    env = {
        "ITINERA_DATABASE_URL": database_url,
        "ITINERA_HTTP_HOST": "127.0.0.1",
        "ITINERA_HTTP_PORT": str(port),
        "ITINERA_LOG_LEVEL": "WARNING",
        "ITINERA_TICK_SECONDS": str(tick_seconds),
    }
    if slack_api is not None:
        env |= {
            "ITINERA_SLACK_BOT_TOKEN": "xoxb-bench",
            "ITINERA_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "ITINERA_SLACK_API_URL": slack_api,
        }
    if telegram_api is not None:
        env |= {"ITINERA_TELEGRAM_TOKEN": telegram_token, "ITINERA_TELEGRAM_API_URL": telegram_api}
        if telegram_webhook:
            env |= {
                "ITINERA_TELEGRAM_MODE": "webhook",
                "ITINERA_TELEGRAM_WEBHOOK_URL": (
                    f"http://127.0.0.1:{webhook_port or port}/telegram/webhook"
                ),
                "ITINERA_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            }
    return env


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


__all__ = [
    "BENCH",
    "EXAMPLE",
    "SERVER",
    "Child",
    "Seeded",
    "free_port",
    "fresh_database",
    "itinera_env",
    "percentile",
    "seed",
    "slack_user",
    "telegram_user",
    "wait_healthy",
]
