"""``itinera roster invites``: one working, single-use link per participant not yet enrolled."""

from __future__ import annotations

import asyncio
import csv
import io
import stat
from pathlib import Path
from typing import Any

import pytest
import typer
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.cli import State
from bot.fakes.telegram_api import FakeTelegram
from bot.invites import bot_username, roster_invites
from bot.settings import Settings, load_settings
from handlers.telegram.enrolment import code_hash

# Channel logic, not storage: SQLite is enough (the scenarios run on every backend).
sqlite_only = pytest.mark.parametrize("empty_database_url", ["sqlite"], indirect=True)


def cli(settings: Settings) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = State(settings)

    app.command("invites")(roster_invites)
    return app


async def invoke(settings: Settings, *args: str) -> Any:
    """Run the command in a thread: it runs its own event loop, as ``itinera`` does."""
    return await asyncio.to_thread(CliRunner().invoke, cli(settings), ["invites", *args])


@sqlite_only
async def test_invites_are_printed_and_each_link_enrols_once(
    world: Any, database_url: str, tmp_path: Path
) -> None:
    await world.enrol("claire", 5001)
    settings = load_settings(
        database_url=database_url, telegram_bot_username="@itinera_test_bot", actor="olga"
    )
    shown = await invoke(settings, "--channel", "telegram")
    assert shown.exit_code == 0, shown.output
    assert "Claire Dubois" not in shown.output  # already enrolled
    assert "Aminata Diop" in shown.output and "Olga Organiser" in shown.output
    assert shown.output.count("https://t.me/itinera_test_bot?start=") == 4
    assert "valid 14 days" in shown.output

    written = tmp_path / "invites.csv"
    saved = await invoke(settings, "--all", "--out", str(written))
    assert saved.exit_code == 0, saved.output
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(written.read_text(encoding="utf-8"))))
    assert [row["email"] for row in rows][-1] == "olga@example.org"  # organisers last
    assert len(rows) == 5 and {row["delegation"] for row in rows} >= {"France", "Mexico"}
    diego = next(row for row in rows if row["email"] == "diego@example.org")
    assert diego["link"] == f"https://t.me/itinera_test_bot?start={diego['code']}"
    enrolled = await world.store.enrolments.redeem(
        channel="telegram",
        code_hash=code_hash(diego["code"]),
        external_id="5003",
        now=world.clock.now(),
    )
    assert enrolled.participant_id == world.person("diego").id
    entries = await world.store.audit.entries()
    assert [e.action for e in entries].count("enrolment.issue") == 2
    assert all(diego["code"] not in str(e.details) for e in entries)


@sqlite_only
async def test_only_telegram_has_invites(world: Any, database_url: str) -> None:
    settings = load_settings(database_url=database_url, telegram_bot_username="itinera_test_bot")
    refused = await invoke(settings, "--channel", "slack")
    assert refused.exit_code == 1
    assert "enrolment links are for telegram" in refused.output


async def test_the_bot_username_is_asked_of_telegram_when_not_configured(
    fake: FakeTelegram,
) -> None:
    settings = load_settings(telegram_token=SecretStr(fake.token), telegram_api_url=fake.url)
    assert await bot_username(settings) == "itinera_test_bot"
    assert [call.method for call in fake.calls] == ["getMe"]
