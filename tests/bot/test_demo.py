"""``itinera demo``: the whole simulated week, run as the command, into a temporary folder.

One run (it takes some seconds), then what it left is checked from the outside: the files, the
database (invitations, reminders, statuses) and the digest recomputed against the export.
"""

from __future__ import annotations

import asyncio
import csv
import ipaddress
import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from bot.demo import CLOSES, DELEGATES, check_digest_against_export, demo
from bot.digest_cmd import make_digest
from storage.database import open_store
from storage.tables import OutboundMessageRow, ResponseRow


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The demo must never reach beyond this machine."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if isinstance(host, str) and host != "localhost":
            assert ipaddress.ip_address(host.split("%")[0]).is_loopback, f"reached {address!r}"
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield


def run(folder: Path) -> Any:
    app = typer.Typer()
    app.command()(demo)
    return CliRunner().invoke(app, ["--folder", str(folder)])


def test_the_demo_plays_a_week_and_its_digest_matches_its_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine's configuration does not leak into the demo.
    monkeypatch.setenv("ITINERA_DATABASE_URL", "postgresql+asyncpg://nobody@192.0.2.1/nothing")
    monkeypatch.setenv("ITINERA_SLACK_APP_TOKEN", "xapp-not-for-the-demo")
    folder = tmp_path / "demo"

    result = run(folder)

    assert result.exit_code == 0, f"{result.output}\n{result.exc_info}"
    out = result.stdout
    assert "digest matches export: yes" in out
    assert "check failed" not in out and "mismatch" not in out
    assert "Done in " in out
    stem = folder / f"digest-round-1-{CLOSES:%Y-%m-%d}"
    assert stem.with_suffix(".md").read_text(encoding="utf-8").startswith("# Digest")
    assert "<html" in stem.with_suffix(".html").read_text(encoding="utf-8")
    assert stem.with_suffix(".png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with (folder / "round-1.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(DELEGATES)
    exported = Counter(row["status"] for row in rows)
    assert exported == {"submitted": 9, "partial": 1, "not_started": 2}

    asyncio.run(check_database(folder, rows))

    # A second run into the same folder is refused rather than mixed with the first.
    again = run(folder)
    assert again.exit_code == 1
    assert "not an empty folder" in again.output


async def check_database(folder: Path, rows: list[dict[str, str]]) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{folder / 'itinera.db'}")
    try:
        assert store.database is not None
        async with store.database.sessions() as session:
            messages = list(await session.scalars(select(OutboundMessageRow)))
            responses = {
                row.participant_id: row for row in await session.scalars(select(ResponseRow))
            }
        sent = [m for m in messages if m.status == "sent"]

        # Every invited delegate got exactly one invitation, on one channel.
        invitations = [m for m in sent if m.key.startswith("invite:")]
        invited = Counter(int(m.key.split(":")[2]) for m in invitations)
        assert set(invited) == set(responses)
        assert set(invited.values()) == {1}
        assert {m.channel for m in invitations} == {"slack", "telegram"}

        # Reminders went out, only to delegates who had not submitted (yet).
        reminders = [m for m in sent if m.key.startswith("reminder:")]
        assert len(reminders) > len(DELEGATES)
        for reminder in reminders:
            response = responses[int(reminder.key.split(":")[2])]
            assert response.submitted_at is None or response.submitted_at > reminder.updated_at
        reminded = {int(m.key.split(":")[2]) for m in reminders}
        late = [r for pid, r in responses.items() if pid in reminded and r.submitted_at]
        assert late, "some delegates answered only after a reminder"

        # One delegate stopped halfway; those who never answered are not started, not partial.
        statuses = Counter(r.status for r in responses.values())
        assert statuses == {"submitted": 9, "partial": 1, "not_started": 2}
        partial = next(r for r in responses.values() if r.status == "partial")
        assert partial.started_at is not None

        # The digest, computed again, agrees with the export; a changed figure is caught.
        digest = await make_digest(store, 1, now=CLOSES)
        survey = (await store.surveys.latest_version("route_alignment")).definition
        assert check_digest_against_export(digest, rows, survey) == []
        tampered = [dict(row) for row in rows]
        changed = next(row for row in tampered if row["status"] == "submitted")
        changed["alignment_return"] = "1" if changed["alignment_return"] != "1" else "5"
        changed["status"] = "partial"
        problems = check_digest_against_export(digest, tampered, survey)
        assert any("theme return: mean" in problem for problem in problems)
        assert any("delegates submitted" in problem for problem in problems)
    finally:
        await store.close()
