"""Trying to re-identify a respondent through everything an organiser can take out of a round:
the CSV, JSON and XLSX exports and the Markdown, HTML and PNG digest, through the CLI on a
real database. Senegal has one delegate, Aminata Diop: in a delegation or anonymous round,
whatever is said of Senegal is hers, so her name and email must appear nowhere."""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib.text
import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.database import open_store
from surveys.engine import Typed
from tests.support import act_as, refused

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
ROSTER = ROOT / "surveys" / "examples" / "roster.csv"
THEMES = ("return", "transfer", "durable_solutions", "alternatives", "asylum_systems")
AMINATA = ("Aminata Diop", "Aminata", "aminata.diop@example.org")
FRANCE = ("Claire Dubois", "claire.dubois@example.org", "Hugo Martin", "hugo.martin@example.org")
COMMENT = "Our national plan already covers return."


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


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every text matplotlib draws (the PNG's words, which its bytes do not show)."""
    texts: list[str] = []
    original = matplotlib.text.Text.set_text

    def record(self: matplotlib.text.Text, value: object) -> None:
        texts.append(str(value))
        original(self, value)

    monkeypatch.setattr(matplotlib.text.Text, "set_text", record)
    yield texts


async def answer(database_url: str, round_id: int, *, hugo: bool = False) -> None:
    """Aminata (Senegal) and Claire (France) submit, each with a comment; Hugo (France) too
    when ``hugo``, else he does nothing."""
    store = await open_store(database_url)
    now = datetime.now(UTC)
    who = [(AMINATA[2], "(one)"), (FRANCE[1], "(two)")] + ([(FRANCE[3], "(three)")] * hugo)
    try:
        status = await store.rounds.status(round_id)
        lines = {line.participant.email: line.participant for line in status}
        for email, mark in who:
            person = lines[email]
            for theme in THEMES:
                comment = Typed(f"{COMMENT} {mark}") if theme == "return" else "skip"
                for action in (Typed("4"), Typed("1"), Typed("1,2"), comment):
                    screen = await act_as(
                        store, round_id=round_id, participant_id=person.id, action=action, now=now
                    )
                    assert not refused(screen), screen.notice
            for action in (Typed("1, 3"), Typed("no"), "submit"):
                screen = await act_as(
                    store, round_id=round_id, participant_id=person.id, action=action, now=now
                )
                assert not refused(screen), screen.notice
    finally:
        await store.close()


def everything_out(cli, round_id: int, folder: Path, drawn: list[str]) -> dict[str, bytes]:
    """Every export format and every digest file of the round, as bytes."""
    found = {"csv": cli("export", str(round_id), "--format", "csv").stdout_bytes}
    cli("export", str(round_id), "--format", "json", "--out", str(folder / "round.json"))
    cli("export", str(round_id), "--format", "xlsx", "--out", str(folder / "round.xlsx"))
    found["json"] = (folder / "round.json").read_bytes()
    with zipfile.ZipFile(folder / "round.xlsx") as archive:
        found["xlsx"] = b"".join(archive.read(name) for name in archive.namelist())
    written = cli("digest", str(round_id), "--no-post", "--out", str(folder / "digest"))
    for path in sorted((folder / "digest").iterdir()):
        found[path.suffix] = path.read_bytes()
    found["png text"] = "\n".join(drawn).encode("utf-8")
    found["digest output"] = written.stdout_bytes
    return found


def launched(cli, attribution: str) -> int:
    cli("survey", "import", str(EXAMPLE))
    cli("roster", "import", str(ROSTER))
    closes = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M+00:00")
    result = cli(
        *("round", "launch", "route_alignment", "--audience", "FRA,SEN", "--closes", closes),
        *("--attribution", attribution),
    )
    return int(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("attribution", ["delegation", "anonymous"])
def test_a_lone_delegate_cannot_be_named_from_any_export_or_digest(
    cli, database_url: str, tmp_path: Path, drawn: list[str], attribution: str
) -> None:
    round_id = launched(cli, attribution)
    anonymous = attribution == "anonymous"
    asyncio.run(answer(database_url, round_id, hugo=anonymous))  # three ballots: exportable
    files = everything_out(cli, round_id, tmp_path, drawn)
    assert set(files) >= {"csv", "json", "xlsx", ".md", ".html", ".png", "png text"}
    for name, data in files.items():
        for identity in (*AMINATA, *FRANCE):
            assert identity.encode() not in data, (name, identity)

    records = json.loads(files["json"])
    markdown = files[".md"].decode()
    assert "Senegal (SEN)" in markdown  # completion by delegation is for organisers to see
    if not anonymous:
        assert sorted(r["status"] for r in records) == ["not_started", "submitted", "submitted"]
        assert {r["delegation"] for r in records} == {"FRA", "SEN"}
        assert f"> {COMMENT} (one)\n> — Senegal" in markdown
        assert "- **France (FRA)**" not in markdown  # France answered through Claire
    else:
        # The ballots alone: no status, no time, no delegation; sorted by their random ids.
        assert len(records) == 3 and {"ballot", "alignment_return", "comment_return"} <= set(
            records[0]
        )
        assert not {"status", "submitted_on", "delegation"} & set(records[0])
        ids = [r["ballot"] for r in records]
        assert ids == sorted(ids) and all(len(i) == 32 for i in ids)
        for data in (files["csv"], files["json"], files["xlsx"]):
            assert b"SEN" not in data and b"Senegal" not in data
        # Three ballots: the comments are quoted, by no one.
        for mark in ("(one)", "(two)", "(three)"):
            assert f"> {COMMENT} {mark}\n" in markdown
            assert f"> {COMMENT} {mark}\n> —" not in markdown


def test_an_anonymous_round_under_the_minimum_group_is_not_exported(
    cli, database_url: str, tmp_path: Path, drawn: list[str]
) -> None:
    """Two ballots, ITINERA_MIN_GROUP 3: every export format refuses, naming the setting, and
    the digest holds every answer back."""
    round_id = launched(cli, "anonymous")
    asyncio.run(answer(database_url, round_id))
    for format in ("csv", "json", "xlsx"):
        out = str(tmp_path / f"round.{format}")
        result = CliRunner().invoke(
            app, ["export", str(round_id), "--format", format, "--out", out]
        )
        assert result.exit_code == 1, result.output
        assert "ITINERA_MIN_GROUP (3)" in result.output and "2 submitted" in result.output
        assert not (tmp_path / f"round.{format}").exists()
    cli("digest", str(round_id), "--no-post", "--out", str(tmp_path / "digest"))
    markdown = next((tmp_path / "digest").glob("*.md")).read_text()
    assert COMMENT not in markdown
    assert COMMENT.encode() not in next((tmp_path / "digest").glob("*.html")).read_bytes()
    assert "Not shown (anonymous round)" in markdown
    assert any("Not shown: anonymous round, group under 3" in text for text in drawn)


def test_a_named_round_names_who_answered(
    cli, database_url: str, tmp_path: Path, drawn: list[str]
) -> None:
    round_id = launched(cli, "named")
    asyncio.run(answer(database_url, round_id))
    files = everything_out(cli, round_id, tmp_path, drawn)
    for name in ("csv", "json", "xlsx"):
        assert AMINATA[2].encode() in files[name], name
    assert b"Aminata Diop (Senegal)" in files[".md"]


def test_exports_and_digests_are_in_the_audit_log(
    cli, database_url: str, tmp_path: Path, drawn: list[str]
) -> None:
    round_id = launched(cli, "anonymous")
    asyncio.run(answer(database_url, round_id, hugo=True))
    everything_out(cli, round_id, tmp_path, drawn)
    entries = json.loads(cli("audit", "--round", str(round_id), "--format", "json").stdout)
    taken = [(e["action"], e["actor"], e["details"]["format"]) for e in entries[:4]]
    assert taken == [
        ("digest", "olga", "md,html,png"),
        ("export", "olga", "xlsx"),
        ("export", "olga", "json"),
        ("export", "olga", "csv"),
    ]
    assert {e["details"]["attribution"] for e in entries[:4]} == {"anonymous"}
