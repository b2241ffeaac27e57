"""Trying to link an anonymous round's answers to a person or a delegation, through everything:
every export format, the digest, ``itinera round status``, the audit log and the raw tables.

Four delegates of three delegations (two of France) submit, each with answers only they gave
(a marker in their comments, a score per person); a fifth is invited and never answers. Then
each place an organiser or a database reader could look is searched for a marker beside who
wrote it. Without the ballots (answers left on the responses) these tests fail.
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, Integer, inspect, text
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.database import create_engine, open_store
from storage.tables import metadata
from surveys.conversation import ScreenKind
from surveys.engine import Typed
from tests.support import act_as, refused

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
ROSTER = ROOT / "surveys" / "examples" / "roster.csv"
THEMES = ("return", "transfer", "durable_solutions", "alternatives", "asylum_systems")
ANSWERING = {
    "claire.dubois@example.org": ("FRA", "Claire Dubois", "kestrel-7731", "5"),
    "hugo.martin@example.org": ("FRA", "Hugo Martin", "osprey-1904", "4"),
    "aminata.diop@example.org": ("SEN", "Aminata Diop", "heron-5528", "2"),
    "lucia.hernandez@example.org": ("MEX", "Lucía Hernández", "plover-8046", "1"),
}
"""Who submits: delegation, name, a marker only their comment holds, their alignment score."""
SILENT = "jonas.weber@example.org"  # Germany's delegate: invited, never answers


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("ITINERA_DATABASE_URL", database_url)
    monkeypatch.setenv("ITINERA_ACTOR", "olga")
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Result:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result

    return invoke


async def submit_all(database_url: str, round_id: int) -> dict[str, int]:
    """Each of ANSWERING answers every question and submits; their participant ids by email."""
    store = await open_store(database_url)
    now = datetime.now(UTC)
    try:
        lines = {
            line.participant.email: line.participant for line in await store.rounds.status(round_id)
        }
        for email, (_, _, marker, score) in ANSWERING.items():
            person = lines[email]

            async def act(action: Any, *, pid: int = person.id, ok: bool = True) -> Any:
                screen = await act_as(
                    store, round_id=round_id, participant_id=pid, action=action, now=now
                )
                assert refused(screen) is not ok, screen.notice
                return screen

            for theme in THEMES:
                comment = Typed(f"Position {marker}") if theme == "return" else "skip"
                for action in (Typed(score), Typed("1"), Typed("1,2"), comment):
                    await act(action)
            await act(Typed("1, 3"))
            await act(Typed("no"))
            done = await act("submit")
            assert done.kind is ScreenKind.SEALED and done.response.state.answers == {}
            again = await act(Typed("3"), ok=False)  # nothing left to change
            assert again.kind is ScreenKind.SEALED and not again.accepted
        return {email: person.id for email, person in lines.items()}
    finally:
        await store.close()


def launched(cli) -> int:
    cli("survey", "import", str(EXAMPLE))
    cli("roster", "import", str(ROSTER))
    closes = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M+00:00")
    result = cli(
        *("round", "launch", "route_alignment", "--audience", "FRA,SEN,MEX,DEU"),
        *("--closes", closes, "--attribution", "anonymous"),
    )
    return int(result.stdout.strip().splitlines()[-1])


async def every_row(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the schema has, as dicts of column values."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
            assert set(metadata.tables) <= set(names)
            found = {}
            for name in names:  # alembic's own table too: every table the database has
                rows = await connection.execute(text(f'SELECT * FROM "{name}"'))
                found[name] = [dict(row._mapping) for row in rows]
            return found
    finally:
        await engine.dispose()


def test_no_answer_of_an_anonymous_round_leads_back_to_its_delegate(
    cli, database_url: str, tmp_path: Path
) -> None:
    round_id = launched(cli)
    ids = asyncio.run(submit_all(database_url, round_id))
    markers = {marker: (code, name) for code, name, marker, _ in ANSWERING.values()}
    identities = [
        *(name for _, name, _, _ in ANSWERING.values()),
        *ANSWERING,
        "Claire",
        "Aminata",
        "France",
        "Senegal",
        "Mexico",
        "African States",
    ]

    # Exports: every format has the four ballots, every marker, and no identity whatsoever.
    csv_out = cli("export", str(round_id), "--format", "csv").stdout
    cli("export", str(round_id), "--format", "json", "--out", str(tmp_path / "r.json"))
    cli("export", str(round_id), "--format", "xlsx", "--out", str(tmp_path / "r.xlsx"))
    with zipfile.ZipFile(tmp_path / "r.xlsx") as archive:
        xlsx = b"".join(archive.read(name) for name in archive.namelist()).decode()
    records = json.loads((tmp_path / "r.json").read_text())
    header = csv_out.splitlines()[0].split(",")
    assert header[0] == "ballot" and "alignment_return" in header
    assert not {"status", "delegation", "participant", "email", "response_id"} & set(header)
    assert not any(column.endswith(("_at", "_on")) for column in header)  # no time to join on
    assert [r["ballot"] for r in records] == sorted(r["ballot"] for r in records)
    for written in (csv_out, (tmp_path / "r.json").read_text(), xlsx):
        for marker in markers:
            assert marker in written
        for identity in identities:
            assert identity not in written, identity
        for code in ("FRA", "SEN", "MEX", "DEU"):
            assert code not in written
    # A ballot's score is its author's, but nothing beside it says whose it is.
    assert sorted(r["alignment_return"] for r in records) == [1, 2, 4, 5]

    # The digest quotes the comments with no attribution and breaks nothing down by delegation.
    cli("digest", str(round_id), "--no-post", "--out", str(tmp_path / "digest"))
    for path in (tmp_path / "digest").glob("*.md"):
        markdown = path.read_text()
        for marker in markers:
            line = next(line for line in markdown.splitlines() if marker in line)
            assert line == f"> Position {marker}"
            following = markdown.split(line, 1)[1].lstrip("\n").splitlines()[0]
            assert not following.startswith("> —"), following
    html = next((tmp_path / "digest").glob("*.html")).read_text()
    for marker in markers:
        chunk = html.split(marker, 1)[1][:300]
        for identity in identities:
            assert identity not in chunk

    # Status and audit: who submitted, never what.
    status = cli("round", "status", str(round_id)).stdout
    audit = cli("audit", "--round", str(round_id), "--format", "json").stdout
    for shown in (status, audit):
        for marker in markers:
            assert marker not in shown
    assert "Claire Dubois" in status  # completion stays visible to organisers

    # Raw tables: a marker is found in ballot_answers only, whose ballot names nothing else.
    tables = asyncio.run(every_row(database_url))
    holding: dict[str, list[dict[str, Any]]] = {}
    for table, rows in tables.items():
        for row in rows:
            written = json.dumps(row, default=str, ensure_ascii=False)
            if any(marker in written for marker in markers):
                holding.setdefault(table, []).append(row)
    assert set(holding) == {"ballot_answers"}, set(holding)
    assert len(holding["ballot_answers"]) == len(markers)
    responses = [r for r in tables["responses"] if r["round_id"] == round_id]
    mine = {r["id"] for r in responses}
    assert not [a for a in tables["answers"] if a["response_id"] in mine]
    assert not [a for a in tables["answer_history"] if a["response_id"] in mine]
    assert sorted(r["status"] for r in responses) == ["not_started", *["submitted"] * 4]
    ballot_columns = {c.name for c in metadata.tables["ballots"].columns} | {
        c.name for c in metadata.tables["ballot_answers"].columns
    }
    assert ballot_columns == {"id", "round_id", "ballot_id", "question_id", "value"}
    for table in ("ballots", "ballot_answers"):
        for column in metadata.tables[table].columns:
            # No time to join against responses.submitted_at; no sequence to order them by.
            assert not isinstance(column.type, DateTime), (table, column.name)
            assert not isinstance(column.type, Integer) or column.name == "round_id"
    people = set(ids.values())
    for ballot in tables["ballots"]:
        assert set(ballot) == {"id", "round_id"} and ballot["round_id"] == round_id
        assert not {str(p) for p in people} & {ballot["id"]}
    assert SILENT in ids
