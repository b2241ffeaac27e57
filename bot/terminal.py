"""What every ``itinera`` command shares: the consoles, the settings, the one error hook, and
the gate that opens the database only once it is migrated.

Command modules (``bot.cli``, ``bot.rounds_cmd``, ``bot.invites``, ``bot.digest_cmd``) import
these rather than each other, so there is one way to fail, to time-stamp and to print a table.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console

from bot import secrets
from surveys import commands
from surveys.errors import ItineraError
from surveys.records import ID_LIMIT, ResponseStatus
from surveys.richtext import Reply
from surveys.service import commanding
from surveys.service.actors import Actor

if TYPE_CHECKING:  # SQLAlchemy and Alembic load when a command opens the database
    from rich.table import Table

    from bot.settings import Settings
    from storage.database import Store

out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
T = TypeVar("T")


class State:
    """What the CLI callback builds once and every command reads."""

    settings: Settings

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def actor(self) -> str:
        """Who the audit log records: ITINERA_ACTOR, else the login name."""
        if self.settings.actor:
            return self.settings.actor
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "cli"


async def actor_of(store: Store, state: State) -> Actor:
    """Who the CLI acts as: the roster participant whose email ITINERA_ACTOR names (with their
    role), else a full organiser under that name."""
    name = state.actor
    wanted = name.strip().casefold()
    for participant in await store.roster.list_participants():
        if participant.email.casefold() == wanted:
            return Actor.command_line(name, participant)
    return Actor.command_line(name)


def state_of(ctx: typer.Context) -> State:
    """The State of the running command (built by the root callback; fresh settings if none)."""
    from bot.settings import Settings

    state = ctx.find_root().obj
    return state if isinstance(state, State) else State(Settings())


def say(message: str) -> None:
    """Print a line on stdout as it is: what it quotes (a file name, an audience, a survey id
    someone typed) is never read as markup, and bytes that were not UTF-8 show as U+FFFD."""
    out.print(printable_text(message), markup=False, highlight=False)


def say_reply(reply: Reply) -> None:
    """Print one of the core's replies (:mod:`surveys.organiser_replies`) as plain text: the
    sentences Slack and Telegram show, without their emphasis."""
    say(reply.plain())


async def acting(store: Store, state: State, work: Callable[[Actor], Awaitable[T]]) -> T:
    """``work`` as the CLI's actor; a refusal of the core is worded as the chat channels word
    it (:func:`surveys.service.commanding.refusal`), in the actor's language, and ends the
    command with exit 1."""
    actor = await actor_of(store, state)
    try:
        return await work(actor)
    except ItineraError as error:
        raise fail(commanding.refusal(error, language=actor.language).plain()) from None


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise.

    The message is printed as it is (no markup or emoji codes read in it: it may quote what
    someone typed) with the configured secrets masked."""
    err.print("[red]error:[/red] ", markup=True, highlight=False, end="")
    err.print(printable_text(secrets.masked(message)), markup=False, highlight=False)
    return typer.Exit(code)


def printable_text(text: str) -> str:
    """``text`` with lone surrogates (bytes that were not UTF-8, as the shell passes them)
    replaced, so that printing it cannot fail."""
    return _SURROGATES.sub("\ufffd", text)


_SURROGATES = re.compile("[\ud800-\udfff]")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine; core errors become a readable message and exit 1."""
    try:
        return asyncio.run(coroutine)
    except ItineraError as error:
        raise fail(str(error)) from None


async def with_store(settings: Settings, work: Callable[[Store], Awaitable[T]]) -> T:
    """Open the configured database for ``work``, refusing one that is not migrated."""
    from storage import migrate
    from storage.database import open_store

    url = settings.database_url
    try:
        current = await migrate.current_revision_async(url)
        if current != migrate.head_revision():
            state = "is not initialised" if current is None else "needs an upgrade"
            raise fail(f"the database {redact(url)} {state}: run `itinera db upgrade` first")
        store = await open_store(url, query_timeout=settings.database_timeout_seconds)
    except typer.Exit:
        raise
    except Exception as error:
        raise unreachable(url, error) from None
    try:
        return await work(store)
    finally:
        await store.close()


def unreachable(url: str, error: BaseException) -> typer.Exit:
    """The error for a database that cannot be opened: a bad URL, a missing driver, a
    refused connection or password. Says which, never with the password."""
    if isinstance(error, ModuleNotFoundError):
        reason = f"its driver is not installed ({error.name})"
    else:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        reason = f"{type(error).__name__}: {reason}" if reason else type(error).__name__
    detail = secrets.mask(reason, [p for p in [secrets.database_password(url)] if p])
    return fail(
        f"cannot open the database {redact(url)}: {detail} "
        "(check ITINERA_DATABASE_URL, e.g. postgresql+asyncpg://user:password@host/db)"
    )


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return secrets.redact_url(url)


def print_table(table: Table) -> None:
    """Boxed for a person at a terminal; plain, unwrapped columns when piped or captured.

    Cells are printed as they are: a name from the roster is never read as markup."""
    if out.is_terminal:
        out.print(table, markup=False)
        return
    table.box = None
    Console(file=sys.stdout, width=240, highlight=False, markup=False, emoji=False).print(table)


def now() -> datetime:
    return datetime.now(UTC)


def zone(name: str) -> ZoneInfo:
    """An IANA timezone, or a usage error naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise typer.BadParameter(f"{name!r} is not an IANA timezone like Europe/Zurich") from None


def parse_moment(text: str, *, zone: ZoneInfo, end_of_day: bool) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is read in ``zone``. UTC out.

    A date alone means the start of that day, or its end (23:59) for a closing time.
    """
    try:
        return commands.parse_moment(text, zone=zone.key, end_of_day=end_of_day)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


ROUND_ID = {"min": 0, "max": ID_LIMIT}
"""Bounds of a round id argument: what no store can hold is a usage error, not a crash."""

STATUS_WORDS = {
    ResponseStatus.NOT_STARTED: "not started",
    ResponseStatus.IN_PROGRESS: "in progress",
    ResponseStatus.SUBMITTED: "submitted",
    ResponseStatus.PARTIAL: "partial (closed)",
}
