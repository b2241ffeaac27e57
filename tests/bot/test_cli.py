"""The organiser CLI end to end on a real database: import, launch, follow, export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from bot.cli import app, parse_moment
from storage.database import open_store
from surveys.engine import Typed
from tests.support import act_as, refused

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
ROSTER = ROOT / "surveys" / "examples" / "roster.csv"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("ITINERA_DATABASE_URL", database_url)
    monkeypatch.setenv("ITINERA_ACTOR", "test-organiser")
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return invoke


def closes_in(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M+00:00")


def test_commands_refuse_an_unmigrated_database(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITINERA_DATABASE_URL", empty_database_url)
    result = CliRunner().invoke(app, ["round", "list"])
    assert result.exit_code == 1
    assert "is not initialised: run `itinera db upgrade` first" in result.output

    upgraded = CliRunner().invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert "upgraded from empty to" in upgraded.output
    again = CliRunner().invoke(app, ["db", "upgrade"])
    assert "is up to date" in again.output
    assert CliRunner().invoke(app, ["round", "list"]).exit_code == 0


def test_survey_import_is_idempotent(cli) -> None:
    first = cli("survey", "import", str(EXAMPLE))
    assert first.exit_code == 0, first.output
    assert "Stored survey 'route_alignment' version 2026.1" in first.output
    second = cli("survey", "import", str(EXAMPLE))
    assert "is already stored, unchanged" in second.output


def test_roster_import_updates_without_duplicates_and_refuses_bad_files(
    cli, tmp_path: Path
) -> None:
    first = cli("roster", "import", str(ROSTER))
    assert first.exit_code == 0, first.output
    assert "Delegations: 13 new, 0 updated. Participants: 16 new, 0 updated, 0 unchanged." in (
        first.output
    )
    changed = tmp_path / "roster.csv"
    changed.write_text(
        ROSTER.read_text(encoding="utf-8").replace("Claire Dubois", "Claire Dubois-Martin"),
        encoding="utf-8",
    )
    second = cli("roster", "import", str(changed))
    assert "Participants: 0 new, 1 updated, 15 unchanged." in second.output

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "delegation,name,email,role,timezone,phone\n"
        "SEN,New Person,new@example.org,delegate,Africa/Dakar,1\n"
        "XYZ,Nobody,nobody@example.org,delegate,Mars/Olympus,2\n",
        encoding="utf-8",
    )
    refused = cli("roster", "import", str(bad))
    assert refused.exit_code == 1
    assert "line 3: delegation 'XYZ' is not an ISO 3166 alpha-3 country code" in refused.output
    assert "line 3: timezone 'Mars/Olympus' is not an IANA timezone" in refused.output
    assert "ignored unknown column(s): phone" in refused.output
    # Nothing half-imported: the good line 2 was not stored either.
    dry = cli("roster", "import", "--dry-run", str(ROSTER))
    assert "16 participants in 13 delegations; nothing stored" in dry.output


def launch(cli, *extra: str) -> int:
    assert cli("survey", "import", str(EXAMPLE)).exit_code == 0
    assert cli("roster", "import", str(ROSTER)).exit_code == 0
    result = cli("round", "launch", "route_alignment", "--closes", closes_in(10), *extra)
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])


def test_launch_prints_the_round_id_last_and_status_lists_everyone(cli) -> None:
    round_id = launch(cli, "--audience", "region:African States")
    status = cli("round", "status", str(round_id))
    assert status.exit_code == 0, status.output
    assert "0 of 4 submitted (0%)" in status.output
    for code in ("SEN", "MAR", "NER", "ETH"):
        assert code in status.output
    assert "FRA" not in status.output

    listing = cli("round", "list")
    assert "route_alignment" in listing.output and "0/4" in listing.output


def test_launch_takes_a_response_mode_that_status_and_list_show(cli) -> None:
    individual = launch(cli, "--audience", "SEN")
    assert "individual responses" in cli("round", "status", str(individual)).output
    result = cli(
        "round",
        "launch",
        "route_alignment",
        "--audience",
        "FRA",
        "--closes",
        closes_in(10),
        "--responses",
        "consolidated",
    )
    assert result.exit_code == 0, result.output
    shared = int(result.output.strip().splitlines()[-1])
    assert "consolidated responses" in cli("round", "status", str(shared)).output
    assert "consolidated" in cli("round", "list").output
    wrong = cli(
        "round",
        "launch",
        "route_alignment",
        "--audience",
        "DEU",
        "--closes",
        closes_in(10),
        "--responses",
        "pooled",
    )
    assert wrong.exit_code == 1
    assert "responses 'pooled': use one of individual, consolidated" in wrong.output


def test_a_second_launch_of_an_open_survey_to_the_same_delegates_needs_again(cli) -> None:
    first = launch(cli, "--audience", "region:African States")
    closes = closes_in(12)
    again = cli("round", "launch", "route_alignment", "--audience", "SEN,FRA", "--closes", closes)
    assert again.exit_code == 1
    assert f"round {first} of survey 'route_alignment' is not closed yet" in again.output
    assert again.output.startswith("error: That was not done: round ")
    assert "already asks 1 of these delegates in SEN; add --again" in again.output
    assert "Round " not in again.output  # nothing launched
    forced = cli(
        "round", "launch", "route_alignment", "--audience", "SEN,FRA", "--closes", closes, "--again"
    )
    assert forced.exit_code == 0, forced.output
    assert int(forced.output.strip().splitlines()[-1]) == first + 1
    assert cli("round", "close", str(first)).exit_code == 0
    # Closing the first round leaves the second, which asks France too.
    third = cli("round", "launch", "route_alignment", "--audience", "FRA", "--closes", closes)
    assert f"round {first + 1} of survey 'route_alignment'" in third.output


def test_survey_list_shows_every_stored_version(cli, tmp_path: Path) -> None:
    empty = cli("survey", "list")
    assert empty.exit_code == 0, empty.output
    assert empty.output == "No surveys stored yet. Store one with `itinera survey import FILE`.\n"
    assert cli("survey", "import", str(EXAMPLE)).exit_code == 0
    changed = tmp_path / "v2.yaml"
    changed.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace('version: "2026.1"', 'version: "2026.2"', 1),
        encoding="utf-8",
    )
    assert cli("survey", "import", str(changed)).exit_code == 0, "version 2 stored"
    listing = cli("survey", "list")
    assert listing.exit_code == 0, listing.output
    header, *rows = listing.output.strip().splitlines()
    assert header.split() == ["id", "survey", "version", "title", "questions", "stored", "at"]
    assert len(rows) == 2
    title = "Route-based approach: alignment with national priorities"
    for row, version in zip(rows, ("2026.1", "2026.2"), strict=True):
        assert row.split()[1:3] == ["route_alignment", version]
        assert title in row and " 28 " in row and "UTC" in row


@pytest.mark.parametrize(
    ("audience", "message"),
    [
        ("continent:Africa", "use all, region:NAME, tag:NAME or ISO codes"),
        ("region:Antarctica", "audience region:Antarctica: no delegation is in region"),
        ("region:african", "did you mean 'African States'?"),
        ("FRA,XXX", "no delegation XXX in the roster"),
        ("GER", "no delegation GER in the roster (did you mean DEU (Germany)"),
        ("tag:[bold]x", "no participant carries tag '[bold]x'"),
    ],
)
def test_launch_refusals(cli, audience: str, message: str) -> None:
    assert cli("survey", "import", str(EXAMPLE)).exit_code == 0
    assert cli("roster", "import", str(ROSTER)).exit_code == 0
    result = cli(
        "round", "launch", "route_alignment", "--audience", audience, "--closes", closes_in(3)
    )
    assert result.exit_code == 1
    assert message in result.output


def test_launch_refuses_past_or_inverted_dates_and_unknown_surveys(cli) -> None:
    assert cli("roster", "import", str(ROSTER)).exit_code == 0
    unknown = cli("round", "launch", "nope", "--audience", "all", "--closes", closes_in(3))
    assert unknown.exit_code == 1 and "no survey 'nope'" in unknown.output
    assert cli("survey", "import", str(EXAMPLE)).exit_code == 0
    past = cli("round", "launch", "route_alignment", "--audience", "all", "--closes", "2020-01-01")
    assert past.exit_code == 1 and "is already past" in past.output
    garbled = cli("round", "launch", "route_alignment", "--audience", "all", "--closes", "soon")
    assert garbled.exit_code == 2 and "is not a date or date-time" in garbled.output


def test_parse_moment_reads_local_times_and_whole_days() -> None:
    zurich = ZoneInfo("Europe/Zurich")
    assert parse_moment("2026-12-15T18:00", zone=zurich, end_of_day=True) == datetime(
        2026, 12, 15, 17, 0, tzinfo=UTC
    )
    assert parse_moment("2026-12-15", zone=zurich, end_of_day=True) == datetime(
        2026, 12, 15, 22, 59, tzinfo=UTC
    )
    assert parse_moment("2026-07-01T09:00Z", zone=zurich, end_of_day=False) == datetime(
        2026, 7, 1, 9, 0, tzinfo=UTC
    )


THEMES = ("return", "transfer", "durable_solutions", "alternatives", "asylum_systems")
FORMULA = '=HYPERLINK("http://example.invalid","x")'


async def answer_some(database_url: str, round_id: int) -> tuple[str, str]:
    """One delegate submits (with a formula-like comment), another answers one question."""
    store = await open_store(database_url)
    now = datetime.now(UTC)

    async def act(participant_id: int, action: Typed | str) -> None:
        screen = await act_as(
            store,
            round_id=round_id,
            participant_id=participant_id,
            action=action,
            now=now,
        )
        assert not refused(screen), screen.notice

    try:
        lines = await store.rounds.status(round_id)
        first, second = lines[0].participant, lines[1].participant
        for theme in THEMES:
            comment: Typed | str = Typed(FORMULA) if theme == "return" else "skip"
            for action in (Typed("4"), Typed("1"), Typed("1,2"), comment):
                await act(first.id, action)
        for action in (Typed("1, 3"), Typed("no"), "submit"):
            await act(first.id, action)
        await act(second.id, Typed("2"))
        return first.email, second.email
    finally:
        await store.close()


def test_exports_in_three_formats(cli, database_url: str, tmp_path: Path) -> None:
    round_id = launch(cli, "--audience", "FRA,SEN,MEX", "--attribution", "named")
    submitted, started = asyncio.run(answer_some(database_url, round_id))

    as_csv = cli("export", str(round_id), "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert len(rows) == 4  # two French delegates, one Senegalese, one Mexican
    by_email = {row["email"]: row for row in rows}
    done = by_email[submitted]
    assert done["status"] == "submitted"
    assert done["alignment_return"] == "4"
    assert done["frameworks_return"] == "gcr; gcm"
    assert done["comment_return"] == "'" + FORMULA  # defused
    assert done["priorities"] == "return; durable_solutions"
    assert by_email[started]["status"] == "in_progress"
    assert by_email[started]["alignment_return"] == "2"

    labels = cli("export", str(round_id), "--format", "csv", "--values", "labels", "--lang", "fr")
    labelled = {row["email"]: row for row in csv.DictReader(io.StringIO(labels.output))}
    assert labelled[submitted]["engagement_return"] == "Déjà engagé"

    as_json = cli("export", str(round_id), "--format", "json", "--out", "round.json")
    assert "Wrote 4 responses to round.json." in as_json.output
    records = json.loads((tmp_path / "round.json").read_text(encoding="utf-8"))
    assert [r["email"] for r in records] == [row["email"] for row in rows]
    assert next(r for r in records if r["email"] == submitted)["alignment_return"] == 4

    as_xlsx = cli("export", str(round_id), "--format", "xlsx", "--out", "round.xlsx")
    assert as_xlsx.exit_code == 0, as_xlsx.output
    sheet = load_workbook(tmp_path / "round.xlsx", read_only=True)["responses"]
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = table[0]
    assert len(table) == 5
    done_row = next(row for row in table[1:] if row[header.index("email")] == submitted)
    assert done_row[header.index("comment_return")] == "'" + FORMULA
    assert done_row[header.index("alignment_return")] == 4

    no_out = cli("export", str(round_id), "--format", "xlsx")
    assert no_out.exit_code == 1 and "needs --out FILE" in no_out.output
    missing = cli("export", "999", "--format", "csv")
    assert missing.exit_code == 1 and "no round 999" in missing.output


def test_the_cli_acts_as_a_scoped_organiser_when_the_roster_says_so(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = launch(cli, "--audience", "all")
    europe = cli(
        "round",
        "launch",
        "route_alignment",
        "--closes",
        closes_in(9),
        "--audience",
        "FRA",
        "--again",
    )
    assert europe.exit_code == 0, europe.output
    france = int(europe.output.strip().splitlines()[-1])
    scoped = tmp_path / "scoped.csv"
    scoped.write_text(
        "name,email,role,delegation,regions\n"
        "Daniel Okafor,daniel.okafor@example.org,organiser,,African States\n",
        encoding="utf-8",
    )
    assert cli("roster", "import", str(scoped)).exit_code == 0
    monkeypatch.setenv("ITINERA_ACTOR", "daniel.okafor@example.org")

    status = cli("round", "status", str(everyone))
    assert status.exit_code == 0, status.output
    assert "0 of 4 submitted (0%)" in status.output
    assert "SEN" in status.output and "FRA" not in status.output and "MEX" not in status.output
    exported = cli("export", str(everyone))
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.output)))
    assert sorted(row["delegation"] for row in rows) == ["ETH", "MAR", "NER", "SEN"]

    refused = cli("round", "status", str(france))
    assert refused.exit_code == 1
    assert "outside their regions (African States): round" in refused.output
    launched = cli(
        "round", "launch", "route_alignment", "--closes", closes_in(9), "--audience", "all"
    )
    assert launched.exit_code == 1
    assert "FRA (France, Western European and other States)" in launched.output
