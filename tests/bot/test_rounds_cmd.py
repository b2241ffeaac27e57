"""``itinera round extend | close | remind --dry-run | resend``: the work on SQLite and
PostgreSQL with an injected clock, then the commands end to end through typer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from bot import cli
from bot.fakes.messenger import RecordingOut
from bot.rounds_cmd import (
    close,
    extend,
    resend,
    round_close,
    round_extend,
    round_remind,
    round_resend,
)
from storage.database import Store, open_store
from surveys.engine import Typed
from surveys.errors import NotAllowedError, NotFoundError, RoundError
from surveys.queues import OutboundStatus
from surveys.records import DEFAULT_REMINDER_POLICY, ResponseStatus
from surveys.reminders import OfficeHours
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.delivery import tick
from surveys.service.organising import ExtendRequest, reminder_plan
from tests.support import act_as

HOURS = OfficeHours.parse("09:00-18:00", "mon-fri")
PEOPLE = [
    ("FRA", "Claire Dubois", "fr", "Europe/Paris"),
    ("IDN", "Putri Lestari", "en", "Asia/Jakarta"),
    ("MEX", "Lucía Hernández", "es", "America/Mexico_City"),
]
D3, D1, H2 = DEFAULT_REMINDER_POLICY
OPENS, CLOSES = datetime(2026, 6, 8, tzinfo=UTC), datetime(2026, 6, 12, 16, tzinfo=UTC)
SOFIA = Actor.command_line("sofia")


async def test_extend_says_what_the_chat_channels_say(store: Store, seed_round: Any) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    now = datetime(2026, 6, 11, 12, tzinfo=UTC)
    message = await extend(
        store,
        SOFIA,
        ExtendRequest(seeded.round.id, closes=datetime(2026, 6, 19, 16, tzinfo=UTC)),
        now=now,
        office_hours=HOURS,
    )
    # The core's sentence (surveys.organiser_replies), in English: Sofia is not on the roster.
    assert message.plain() == (
        f"Round {seeded.round.id} now closes Friday, 19 June 2026, 16:00 (Coordinated "
        "Universal Time). Reminders follow the new date."
    )
    entry = (await store.audit.entries())[0]
    assert (entry.actor, entry.action) == ("sofia", "round.extend")
    assert entry.details["closes_at_before"] == "2026-06-12T16:00:00+00:00"
    with pytest.raises(RoundError, match="not in the future"):
        await extend(
            store, SOFIA, ExtendRequest(seeded.round.id, closes=now), now=now, office_hours=HOURS
        )


async def test_an_extension_plans_the_reminders_again(store: Store, seed_round: Any) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    now = datetime(2026, 6, 11, 12, tzinfo=UTC)
    extended = await organising.extend(
        store,
        SOFIA,
        ExtendRequest(seeded.round.id, closes=datetime(2026, 6, 19, 16, tzinfo=UTC)),
        now=now,
        office_hours=HOURS,
    )
    assert extended.closes_before == CLOSES
    assert (len(extended.upcoming), extended.waiting) == (9, 3)
    # The first of the new date's reminders: Mexico City's 3-day one, Tuesday 10:00 local.
    assert extended.upcoming[0] == datetime(2026, 6, 16, 16, tzinfo=UTC)


async def test_close_says_what_the_chat_channels_say(store: Store, seed_round: Any) -> None:
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
    assert message.plain() == (
        f"Round {seeded.round.id} is now closed. Answers that were started are kept, marked "
        "partial."
    )
    counts = await store.rounds.counts(seeded.round.id)
    assert (counts[ResponseStatus.PARTIAL], counts[ResponseStatus.NOT_STARTED]) == (1, 2)
    with pytest.raises(RoundError, match="already closed"):
        await close(store, SOFIA, seeded.round.id, now=now)


async def test_the_dry_run_shows_who_is_reminded_when_and_what_happened(
    store: Store, seed_round: Any
) -> None:
    people = [*PEOPLE, ("EGY", "Omar Farouk", "ar", "Africa/Cairo")]
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES, people=people)
    fra, idn, mex, egy = (seeded.participants[code].id for code in ("FRA", "IDN", "MEX", "EGY"))
    reachable = {fra, idn}
    slack = RecordingOut(reaches=lambda p: p.id in reachable, refuse={idn})

    async def tick_at(moment: datetime) -> None:
        await tick(store, channels=[slack], now=moment, office_hours=HOURS)

    await tick_at(OPENS)
    # The bot was down from Monday until Friday 07:00 UTC (09:00 in Paris, 14:00 in Jakarta,
    # 01:00 in Mexico City). Lucía enrolled meanwhile: she is invited now, after her 3-day and
    # 1-day steps. Putri has blocked the bot: what she is sent fails.
    friday = datetime(2026, 6, 12, 7, tzinfo=UTC)
    reachable.add(mex)
    async with store.transaction() as tx:
        await tx.rounds.invite_again(mex, now=friday)
    await tick_at(friday)
    await slack.deliver(store, now=friday + timedelta(minutes=1))

    async def states(at: datetime) -> dict[tuple[int, int], tuple[datetime, str]]:
        plan = await reminder_plan(store, SOFIA, seeded.round.id, now=at, office_hours=HOURS)
        assert (plan.round.id, plan.waiting, plan.total) == (seeded.round.id, 4, 4)
        return {(row.participant.id, row.step_minutes): (row.at, row.state) for row in plan.rows}

    morning = await states(datetime(2026, 6, 12, 7, 30, tzinfo=UTC))
    # Claire and Putri: the 1-day step went out (and failed for Putri), the 3-day one, due at
    # the same time, was skipped.
    assert morning[(fra, D3)][1] == "skipped (a later one was due)"
    assert morning[(fra, D1)][1] == "sent"
    assert morning[(fra, H2)] == (datetime(2026, 6, 12, 14, tzinfo=UTC), "planned")
    assert morning[(idn, D3)][1] == "skipped (a later one was due)"
    assert morning[(idn, D1)][1] == "not sent (refused)"
    assert morning[(idn, H2)] == (datetime(2026, 6, 12, 10, 59, tzinfo=UTC), "planned")
    # Lucía: invited after her 3-day and 1-day steps; the 2-hour one moves to 09:00 there.
    assert morning[(mex, D3)][1] == "skipped (before the invitation)"
    assert morning[(mex, D1)] == (
        datetime(2026, 6, 11, 16, tzinfo=UTC),
        "skipped (before the invitation)",
    )
    assert morning[(mex, H2)] == (datetime(2026, 6, 12, 15, tzinfo=UTC), "planned")
    # Omar: no channel reaches him.
    assert morning[(egy, D3)][1] == "not invited yet"
    assert morning[(egy, H2)][1] == "planned"

    # Putri's 2-hour step is at 17:59 in Jakarta (10:59 UTC). With no tick since, it still
    # goes out at 18:20 there (a little late), but not at 18:40: it waits for office hours.
    little_late = await states(datetime(2026, 6, 12, 11, 20, tzinfo=UTC))
    assert little_late[(idn, H2)][1] == "due at the next tick"
    too_late = await states(datetime(2026, 6, 12, 11, 40, tzinfo=UTC))
    assert too_late[(idn, H2)][1] == "waits for office hours"
    # At 14:00 the tick enqueues Claire's 2-hour reminder, and not Putri's (21:00 there).
    await tick_at(datetime(2026, 6, 12, 14, tzinfo=UTC))
    later = await states(datetime(2026, 6, 12, 15, tzinfo=UTC))
    assert later[(fra, H2)][1] == "sending"
    assert later[(idn, H2)][1] == "waits for office hours"
    # 09:00 in Mexico City: her 2-hour step is due now.
    assert later[(mex, H2)][1] == "due at the next tick"
    await tick_at(datetime(2026, 6, 12, 15, tzinfo=UTC))
    assert (await states(datetime(2026, 6, 12, 15, 1, tzinfo=UTC)))[(mex, H2)][1] == "sending"


async def test_resend_makes_what_failed_pending_again(store: Store, seed_round: Any) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    idn = seeded.participants["IDN"].id
    slack = RecordingOut(refuse={idn})  # Putri had blocked the bot
    await tick(store, channels=[slack], now=OPENS, office_hours=HOURS)
    await slack.deliver(store, now=OPENS)
    key = f"invite:{seeded.round.id}:{idn}"
    failed = await store.messages.get(channel=slack.channel, key=key)
    assert failed is not None and failed.status is OutboundStatus.FAILED

    later = OPENS + timedelta(hours=2)
    message = await resend(store, SOFIA, seeded.round.id, now=later)
    assert message.startswith(f"Round {seeded.round.id}: failed messages made pending again: 1.")
    again = await store.messages.get(channel=slack.channel, key=key)
    assert again is not None and again.status is OutboundStatus.PENDING
    assert (again.attempts, again.error) == (0, None)
    entry = (await store.audit.entries())[0]
    assert (entry.actor, entry.action, entry.details["messages"]) == ("sofia", "round.resend", 1)
    # She unblocked it: the invitation goes out once, and nothing is left to resend.
    slack.refuse.clear()
    assert await slack.deliver(store, now=later) == 1
    sent = await store.messages.get(channel=slack.channel, key=key)
    assert sent is not None and sent.status is OutboundStatus.SENT
    none_left = await resend(store, SOFIA, seeded.round.id, now=later)
    assert none_left == f"Round {seeded.round.id}: no failed message to send again."


async def test_resend_refuses_closed_rounds_unknown_rounds_and_delegates(
    store: Store, seed_round: Any
) -> None:
    seeded = await seed_round(store, opens=OPENS, closes=CLOSES)
    with pytest.raises(NotFoundError):
        await resend(store, SOFIA, 999, now=OPENS)
    fra = seeded.participants["FRA"]
    with pytest.raises(NotAllowedError):
        await resend(store, Actor.of(fra, "slack"), seeded.round.id, now=OPENS)
    with pytest.raises(RoundError, match="closed at 2026-06-12 16:00 UTC; nothing is resent"):
        await resend(store, SOFIA, seeded.round.id, now=CLOSES + timedelta(minutes=1))


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
    rounds.command("resend")(round_resend)

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
    assert "(Central European" in extended.output  # in the timezone it was given in
    assert "Reminders follow the new date" in extended.output
    past = invoke("round", "extend", str(live_round), "--closes", "2020-01-01")
    assert past.exit_code == 1 and "is not in the future" in past.output
    closed = invoke("round", "close", str(live_round))
    assert closed.exit_code == 0, closed.output
    assert closed.output.startswith(f"Round {live_round} is now closed. Answers that were started")
    again = invoke("round", "close", str(live_round))
    assert again.exit_code == 1
    assert f"error: That was not done: round {live_round} was already closed at" in again.output
    reopened = invoke("round", "extend", str(live_round), "--closes", later)
    assert reopened.exit_code == 1 and "cannot be extended" in reopened.output


def test_bad_office_hours_are_reported(
    invoke: Any, live_round: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ITINERA_OFFICE_DAYS", "weekdays")
    result = invoke("round", "remind", str(live_round), "--dry-run")
    assert result.exit_code == 2
    assert "ITINERA_OFFICE_DAYS: office days 'weekdays': 'weekdays' is not a day" in result.output
    assert "Traceback" not in result.output and "pydantic" not in result.output


def test_round_resend(invoke: Any, live_round: int) -> None:
    nothing = invoke("round", "resend", str(live_round))
    assert nothing.exit_code == 0, nothing.output
    assert f"Round {live_round}: no failed message to send again." in nothing.output
    unknown = invoke("round", "resend", "999")
    assert unknown.exit_code == 1 and "no round 999" in unknown.output
    assert "Traceback" not in unknown.output
    invoke("round", "close", str(live_round))
    closed = invoke("round", "resend", str(live_round))
    assert closed.exit_code == 1 and "nothing is resent" in closed.output
