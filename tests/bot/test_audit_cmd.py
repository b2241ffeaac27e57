"""``itinera audit``: the audit log as organisers read it, newest first, filtered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from bot.audit_cmd import details_text, parse_since
from bot.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
ROSTER = ROOT / "surveys" / "examples" / "roster.csv"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ITINERA_DATABASE_URL", database_url)

    def invoke(*args: str, actor: str = "olga") -> Result:
        monkeypatch.setenv("ITINERA_ACTOR", actor)
        return CliRunner().invoke(app, list(args))

    return invoke


def test_the_log_lists_who_did_what_newest_first(cli) -> None:
    assert cli("survey", "import", str(EXAMPLE)).exit_code == 0
    assert cli("roster", "import", str(ROSTER), actor="[bold]sofia").exit_code == 0
    closes = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    launched = cli("round", "launch", "route_alignment", "--audience", "SEN", "--closes", closes)
    round_id = launched.output.strip().splitlines()[-1]
    assert cli("export", round_id).exit_code == 0

    table = cli("audit")
    assert table.exit_code == 0, table.output
    lines = [line for line in table.output.splitlines() if line.strip()]
    assert lines[0].split() == ["at", "(UTC)", "actor", "action", "target", "details"]
    actions = [line.split()[3] for line in lines[1:]]
    assert actions == ["export", "round.launch", "roster.import", "survey.import"]
    assert "[bold]sofia" in table.output  # a name, printed as it is
    assert "format=csv, attribution=delegation, via=cli" in table.output

    mine = json.loads(cli("audit", "--actor", "SOF", "--format", "json").output)
    assert [(e["actor"], e["action"]) for e in mine] == [("[bold]sofia", "roster.import")]
    one = json.loads(cli("audit", "--limit", "1", "--format", "json").output)
    assert [e["action"] for e in one] == ["export"]
    assert "The newest 1 entries" in cli("audit", "--limit", "1").output
    assert cli("audit", "--since", "2099-01-01").output.strip() == "No audit entries match."
    recent = json.loads(cli("audit", "--since", "1h", "--format", "json").output)
    assert len(recent) == 4


def test_an_empty_log_and_refusals_are_said(cli) -> None:
    assert cli("audit").output.strip() == "The audit log is empty."
    unknown = cli("audit", "--round", "7")
    assert unknown.exit_code == 1 and "error: no round 7" in unknown.output
    bad = cli("audit", "--since", "last week")
    assert bad.exit_code == 2 and "neither a date" in bad.output
    assert cli("audit", "--limit", "0").exit_code == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - timedelta(days=7)),
        ("12H", NOW - timedelta(hours=12)),
        (" 30m ", NOW - timedelta(minutes=30)),
        ("2w", NOW - timedelta(weeks=2)),
        ("999999w", datetime.min.replace(tzinfo=UTC)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T09:30", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01T09:30+01:00", datetime(2026, 3, 1, 8, 30, tzinfo=UTC)),
    ],
)
def test_since_reads_dates_and_durations(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


def test_since_in_a_timezone_and_refused() -> None:
    assert parse_since("2026-03-01T09:30", now=NOW, zone="Europe/Zurich") == datetime(
        2026, 3, 1, 8, 30, tzinfo=UTC
    )
    with pytest.raises(typer.BadParameter):
        parse_since("soon", now=NOW)


def test_details_are_one_compact_line() -> None:
    assert details_text({"format": "csv", "participants": list(range(9))}) == (
        "format=csv, participants=[9 items]"
    )
    assert details_text({"audience": ["SEN", "FRA"], "n": 2}) == 'audience=["SEN", "FRA"], n=2'
