"""What every command shares: tables for people and for pipes, URLs without passwords."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.table import Table

from bot import terminal


def table() -> Table:
    shown = Table("delegation", "status")
    shown.add_row("SEN Senegal", "submitted")
    return shown


def test_a_table_at_a_terminal_is_boxed(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(terminal, "out", Console(file=screen, force_terminal=True, width=80))
    terminal.print_table(table())
    assert "┃ delegation" in screen.getvalue() or "│ SEN Senegal" in screen.getvalue()


def test_a_piped_table_is_plain_and_unwrapped(capsys: pytest.CaptureFixture[str]) -> None:
    terminal.print_table(table())
    printed = capsys.readouterr().out
    assert "SEN Senegal" in printed and "│" not in printed


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+asyncpg://app:s3cret@db/itinera", "postgresql+asyncpg://app:***@db/itinera"),
        ("postgresql+asyncpg://app@db/itinera", "postgresql+asyncpg://app@db/itinera"),
        ("sqlite+aiosqlite:///itinera.db", "sqlite+aiosqlite:///itinera.db"),
    ],
)
def test_redact_hides_passwords(url: str, shown: str) -> None:
    assert terminal.redact(url) == shown
