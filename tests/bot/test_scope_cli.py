"""An organiser scoped to regions, at the command line: a person or a round of another region
and an id that names nothing get the same answer (message and exit code), so that the roster
and the rounds beyond their regions cannot be probed id by id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.database import open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
ROSTER = ROOT / "surveys" / "examples" / "roster.csv"
DANIEL = "daniel.okafor@example.org"
CLAIRE = "claire.dubois@example.org"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ITINERA_DATABASE_URL", database_url)

    def invoke(*args: str, actor: str = "olga", input: str | None = None) -> Result:
        monkeypatch.setenv("ITINERA_ACTOR", actor)
        return CliRunner().invoke(app, list(args), input=input)

    return invoke


async def _ids(url: str) -> dict[str, int]:
    store = await open_store(url)
    try:
        return {p.email: p.id for p in await store.roster.list_participants()}
    finally:
        await store.close()


@pytest.fixture
def world(cli, database_url: str, tmp_path: Path) -> dict[str, int]:
    """The example roster, Daniel organising the African States, a round to France alone."""
    assert cli("survey", "import", str(EXAMPLE)).exit_code == 0
    assert cli("roster", "import", str(ROSTER)).exit_code == 0
    scoped = tmp_path / "scoped.csv"
    scoped.write_text(
        f"name,email,role,delegation,regions\nDaniel Okafor,{DANIEL},organiser,,African States\n",
        encoding="utf-8",
    )
    assert cli("roster", "import", str(scoped)).exit_code == 0
    closes = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    launched = cli("round", "launch", "route_alignment", "--audience", "FRA", "--closes", closes)
    assert launched.exit_code == 0, launched.output
    france = int(launched.output.strip().splitlines()[-1])
    ids = asyncio.run(_ids(database_url))
    return {"france": france, "claire": ids[CLAIRE], "nobody": max(ids.values()) + 1}


def _said(result: Result, key: int) -> tuple[int, str]:
    return result.exit_code, result.output.replace(str(key), "N")


@pytest.mark.parametrize(
    "command",
    [("show",), ("erase", "--yes"), ("erase",), ("relink", "--channel", "telegram")],
)
def test_a_person_of_another_region_and_nobody_are_refused_alike(
    cli, world: dict[str, int], command: tuple[str, ...]
) -> None:
    verb, *options = command
    answers = [
        _said(cli("participant", verb, str(pid), *options, actor=DANIEL, input="y\n"), pid)
        for pid in (world["claire"], world["nobody"])
    ]
    assert answers[0] == answers[1]
    code, output = answers[0]
    assert code == 1 and "outside their regions (African States): participant N" in output
    assert "Claire" not in output and "FRA" not in output and "Erase?" not in output
    # A full organiser is told plainly, and Claire's data is still there.
    missing = cli("participant", "show", str(world["nobody"]))
    assert missing.exit_code == 1 and f"no participant {world['nobody']}" in missing.output
    assert CLAIRE in cli("participant", "show", str(world["claire"])).output


@pytest.mark.parametrize(
    "command",
    [
        ("round", "status"),
        ("export",),
        ("round", "close"),
        ("round", "extend", "--closes", "2099-01-01"),
        ("round", "remind"),
        ("round", "resend"),
    ],
)
def test_a_round_of_another_region_and_no_round_are_refused_alike(
    cli, world: dict[str, int], command: tuple[str, ...]
) -> None:
    unknown = world["france"] + 1
    answers = []
    for rid in (world["france"], unknown):
        cut = 2 if command[0] == "round" else 1
        words = [*command[:cut], str(rid), *command[cut:]]
        answers.append(_said(cli(*words, actor=DANIEL), rid))
    assert answers[0] == answers[1]
    code, output = answers[0]
    assert code == 1 and "error:" in output and "France" not in output and "FRA" not in output
    status = cli("round", "status", str(world["france"]))
    assert status.exit_code == 0 and "0 of 2 submitted" in status.output
