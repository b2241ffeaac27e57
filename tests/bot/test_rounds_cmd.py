"""``itinera round extend | close | remind --dry-run``: the work on SQLite and PostgreSQL with
an injected clock, then the commands end to end through typer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from bot import cli
from bot.rounds_cmd import close, extend, reminder_plan, round_close, round_extend, round_remind
from storage.database import Store, open_store
from surveys.delivery import tick
from surveys.engine import Typed
from surveys.errors import RoundError
from surveys.records import DEFAULT_REMINDER_POLICY, ResponseStatus
from surveys.reminders import OfficeHours
from surveys.service.actors import Actor
from surveys.service.organising import ExtendRequest
from tests.support import act_as

HOURS = OfficeHours.parse("09:00-18:00", "mon-fri")
D3, D1, H2 = DEFAULT_REMINDER_POLICY
OPENS, CLOSES = datetime(2026, 6, 8, tzinfo=UTC), datetime(2026, 6, 12, 16, tzinfo=UTC)
SOFIA = Actor.command_line("sofia")


async def test_extend_says_when_the_next_reminders_go_out(store: Store, seed_round: Any) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    now = datetime(2026, 6, 11, 12, tzinfo=UTC)
    message = await extend(
        store,
        SOFIA,
        ExtendRequest(seeded.round.id, closes=datetime(2026, 6, 19, 16, tzinfo=UTC)),
        now=now,
        office_hours=HOURS,
    )
    # The first of the new date's reminders: Mexico City's 3-day one, Tuesday 10:00 local.
    assert message == (
        f"Round {seeded.round.id} now closes 2026-06-19 16:00 UTC (was 2026-06-12 16:00 UTC). "
        "Reminders follow the new date: 9 planned for the 3 delegates who have not submitted, "
        "the next at 2026-06-16 16:00 UTC; "
        f"`itinera round remind {seeded.round.id} --dry-run` lists them."
    )
    entry = (await store.audit.entries())[0]
    assert (entry.actor, entry.action) == ("sofia", "round.extend")
    assert entry.details["closes_at_before"] == "2026-06-12T16:00:00+00:00"
    with pytest.raises(RoundError, match="not in the future"):
        await extend(
            store, SOFIA, ExtendRequest(seeded.round.id, closes=now), now=now, office_hours=HOURS
        )


async def test_close_reports_how_responses_ended(store: Store, seed_round: Any) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    fra = seeded.participants["FRA"]
    await act_as(
        store,
        round_id=seeded.round.id,
        participant_id=fra.id,
        action=Typed("oui"),
        language="fr",
        now=OPENS + timedelta(hours=1),
    )
    now = datetime(2026, 6, 10, 9, 30, tzinfo=UTC)
    message = await close(store, SOFIA, seeded.round.id, now=now)
    assert message == (
        f"Round {seeded.round.id} closed at 2026-06-10 09:30 UTC: 0 submitted, 1 partial "
        "(kept), 2 not started. Late answers get a polite refusal."
    )
    assert (await store.rounds.counts(seeded.round.id))[ResponseStatus.PARTIAL] == 1
    with pytest.raises(RoundError, match="already closed"):
        await close(store, SOFIA, seeded.round.id, now=now)


async def test_the_dry_run_shows_who_is_reminded_when_and_what_happened(
    store: Store, seed_round: Any, recording_messenger: Any
) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    fra, idn, mex = (seeded.participants[code].id for code in ("FRA", "IDN", "MEX"))
    slack = recording_messenger(reach=lambda p: p.id != mex)
    await tick(store, messengers={"slack": slack}, now=OPENS, office_hours=HOURS)
    # The bot was down from Monday until Friday 07:00 UTC (09:00 in Paris, 14:00 in Jakarta):
    # for each, the 1-day reminder went out and the 3-day one was superseded.
    await tick(
        store,
        messengers={"slack": slack},
        now=datetime(2026, 6, 12, 7, tzinfo=UTC),
        office_hours=HOURS,
    )
    now = datetime(2026, 6, 12, 7, 30, tzinfo=UTC)
    round_, lines, rows = await reminder_plan(store, seeded.round.id, now=now, office_hours=HOURS)
    assert round_.id == seeded.round.id and len(lines) == 3
    states = {(row.participant.id, row.step_minutes): (row.at, row.state) for row in rows}
    assert states[(fra, D3)][1] == "not sent (superseded or refused)"
    assert states[(fra, D1)][1] == "sent"
    assert states[(fra, H2)] == (datetime(2026, 6, 12, 14, tzinfo=UTC), "planned")
    assert states[(idn, D1)][1] == "sent"
    assert states[(idn, H2)] == (datetime(2026, 6, 12, 10, 59, tzinfo=UTC), "planned")
    assert states[(mex, D3)][1] == "not invited yet"  # no channel reaches her
    assert states[(mex, H2)][1] == "planned"

    # Later, at 15:00 UTC: Paris's 2-hour step is due at the next tick, Jakarta's is too, but
    # 4 hours late and at 22:00 there, it waits for office hours.
    later = datetime(2026, 6, 12, 15, tzinfo=UTC)
    _, _, rows = await reminder_plan(store, seeded.round.id, now=later, office_hours=HOURS)
    states = {(row.participant.id, row.step_minutes): row.state for row in rows}
    assert states[(fra, H2)] == "due at the next tick"
    assert states[(idn, H2)] == "waits for office hours"


# --- the commands end to end -----------------------------------------------------------------


@pytest.fixture
def invoke(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Run the commands as ``bot.cli`` will register them, on ``database_url``."""
    monkeypatch.setenv("ITINERA_DATABASE_URL", database_url)
    monkeypatch.setenv("ITINERA_ACTOR", "test-organiser")
    monkeypatch.chdir(tmp_path)
    root = typer.Typer(no_args_is_help=True)
    root.callback()(cli.main)
    rounds = typer.Typer(no_args_is_help=True)
    root.add_typer(rounds, name="round")
    rounds.command("extend")(round_extend)
    rounds.command("close")(round_close)
    rounds.command("remind")(round_remind)

    def run(*args: str) -> Result:
        return CliRunner().invoke(root, list(args))

    return run


@pytest.fixture
async def live_round(database_url: str, seed_round: Any) -> int:
    """A round open now (the commands read the real clock), closing in ten days."""
    store = await open_store(database_url)
    try:
        now = datetime.now(UTC)
        seeded = await seed_round(
            store, opens=now - timedelta(days=1), closes=now + timedelta(days=10)
        )
        return int(seeded.round.id)
    finally:
        await store.close()


def test_round_remind_lists_the_plan_and_sends_nothing(invoke: Any, live_round: int) -> None:
    refused = invoke("round", "remind", str(live_round))
    assert refused.exit_code == 1
    assert "reminders are sent by the running bot (`itinera run`)" in refused.output
    shown = invoke("round", "remind", str(live_round), "--dry-run")
    assert shown.exit_code == 0, shown.output
    assert "reminder policy 3d,1d,2h before closing" in shown.output
    assert "3 of 3 delegates have not submitted" in shown.output
    for name in ("Claire Dubois", "Putri Lestari", "Lucía Hernández"):
        assert name in shown.output
    assert "Europe/Paris" in shown.output and "not started" in shown.output
    unknown = invoke("round", "remind", "999", "--dry-run")
    assert unknown.exit_code == 1 and "no round 999" in unknown.output


def test_round_extend_and_close(invoke: Any, live_round: int) -> None:
    later = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%d")
    extended = invoke("round", "extend", str(live_round), "--closes", later, "--tz", "Europe/Paris")
    assert extended.exit_code == 0, extended.output
    assert f"Round {live_round} now closes" in extended.output
    assert "Reminders follow the new date" in extended.output
    past = invoke("round", "extend", str(live_round), "--closes", "2020-01-01")
    assert past.exit_code == 1 and "is not in the future" in past.output
    closed = invoke("round", "close", str(live_round))
    assert closed.exit_code == 0, closed.output
    assert "0 submitted, 0 partial (kept), 3 not started" in closed.output
    again = invoke("round", "close", str(live_round))
    assert again.exit_code == 1 and "already closed" in again.output
    reopened = invoke("round", "extend", str(live_round), "--closes", later)
    assert reopened.exit_code == 1 and "cannot be extended" in reopened.output


def test_bad_office_hours_are_reported(
    invoke: Any, live_round: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITINERA_OFFICE_DAYS", "weekdays")
    result = invoke("round", "remind", str(live_round), "--dry-run")
    assert result.exit_code == 1
    assert "ITINERA_OFFICE_HOURS / ITINERA_OFFICE_DAYS: office days 'weekdays'" in result.output
