"""``itinera --help`` and other commands that open nothing start without the heavy libraries.

Timing is measured by ``bench/cli_start.py``; this checks the cause, honestly and on any
machine: which modules a fresh process has loaded after running the command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version

import pytest

HEAVY = ("matplotlib", "telegram", "slack_bolt", "slack_sdk", "sqlalchemy", "alembic", "openpyxl")
"""Loaded only by the commands that need them (digest charts, channels, the database, .xlsx)."""
OURS = ("bot.demo", "bot.bootstrap", "bot.digest_render", "storage", "handlers.slack")

PROBE = """
import json, sys
from bot.cli import app
try:
    app(sys.argv[1:], prog_name="itinera")
except SystemExit as done:
    code = done.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def run(*arguments: str) -> tuple[int, set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *arguments], capture_output=True, text=True, check=True
    )
    *printed, last = done.stdout.rstrip("\n").split("\n")
    report = json.loads(last)
    return report["code"], set(report["modules"]), "\n".join(printed)


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names))


@pytest.mark.parametrize(
    "arguments",
    [
        ("--help",),
        ("--version",),
        ("round", "--help"),
        ("round", "launch", "--help"),
        ("digest", "--help"),
    ],
)
def test_help_and_version_load_no_heavy_library(arguments: tuple[str, ...]) -> None:
    code, modules, printed = run(*arguments)
    assert code == 0, printed
    assert loaded(modules, HEAVY) == []
    assert loaded(modules, OURS) == []
    assert "bot.cli" in modules and printed  # the probe really ran the command


def test_help_still_lists_every_command() -> None:
    _, _, printed = run("--help")
    for command in ("audit", "db", "demo", "digest", "export", "round", "roster", "run", "survey"):
        assert f" {command} " in printed or f" {command}\n" in printed, command
    _, _, printed = run("round", "--help")
    for command in ("launch", "list", "status", "extend", "close", "remind"):
        assert command in printed, command


def test_version_is_the_installed_package_version() -> None:
    _, _, printed = run("--version")
    assert printed == f"itinera {version('itinera')}"


def test_a_database_command_loads_the_database_libraries(tmp_path) -> None:
    """The check above would pass vacuously if nothing were ever loaded: here it is."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "round", "list"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": "", "ITINERA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"},
    )
    modules = set(json.loads(done.stdout.rstrip("\n").split("\n")[-1])["modules"])
    assert loaded(modules, ("sqlalchemy", "alembic")) != []
