"""``itinera round extend | close | remind | resend``: organisers move deadlines, check
reminders and send again what failed.

Extending and closing say what Slack and Telegram say (:mod:`surveys.organiser_replies`, in the
language of the roster participant ``ITINERA_ACTOR`` names, else English), printed plain; so
do their refusals (a round already closed), on stderr with exit 1.

The command functions are registered on ``round_app`` by :mod:`bot.cli`; the work is in the
``async`` functions beside them (``extend``, ``close``, ``reminder_plan``) so tests can call
them on any store. Sending is never done here: the CLI has no channel connections, and the
running bot (``itinera run``) sends what is due at its next tick.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from bot import terminal
from surveys import organiser_replies
from surveys.ports import Repositories
from surveys.reminders import (
    OfficeHours,
    describe_step,
    zone_or_utc,
)
from surveys.richtext import Reply
from surveys.service import organising
from surveys.service.actors import Actor

if TYPE_CHECKING:
    from storage.database import Store

RoundArgument = Annotated[
    int, typer.Argument(help="The round's id (see `itinera round list`).", **terminal.ROUND_ID)
]


# --- the work ------------------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _local(moment: datetime, timezone: str) -> str:
    zone = zone_or_utc(timezone)
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M} {zone}"


async def extend(
    store: Repositories,
    actor: Actor,
    request: organising.ExtendRequest,
    *,
    now: datetime,
    office_hours: OfficeHours,
) -> Reply:
    """Move the closing time; say so as every channel does, in the actor's language."""
    extended = await organising.extend(store, actor, request, now=now, office_hours=office_hours)
    return organiser_replies.extended(extended, language=actor.language)


async def close(store: Repositories, actor: Actor, round_id: int, *, now: datetime) -> Reply:
    """Close a round now; say so as every channel does, in the actor's language."""
    closed = await organising.close(store, actor, round_id, now=now)
    return organiser_replies.closed(closed, language=actor.language)


async def resend(store: Repositories, actor: Actor, round_id: int, *, now: datetime) -> str:
    """Make the round's failed messages pending again; say how many and who sends them."""
    resent = await organising.resend(store, actor, round_id, now=now)
    if not resent.messages:
        return f"Round {round_id}: no failed message to send again."
    return (
        f"Round {round_id}: failed messages made pending again: {resent.messages}. The running "
        f"bot (`itinera run`) sends them within the platforms' limits; `itinera round status "
        f"{round_id}` shows who answers."
    )


# --- the commands --------------------------------------------------------------------------


def round_extend(
    ctx: typer.Context,
    round_id: RoundArgument,
    closes: Annotated[
        str, typer.Option("--closes", help="New closing date-time, e.g. 2026-12-18T18:00.")
    ],
    tz: Annotated[
        str, typer.Option("--tz", help="Timezone of a date given without an offset.")
    ] = "UTC",
) -> None:
    """Move a round's closing time; reminders are planned again from the new date."""
    state = terminal.state_of(ctx)
    office_hours = _office_hours(state)
    zone = terminal.zone(tz)
    closes_at = terminal.parse_moment(closes, zone=zone, end_of_day=True)
    request = organising.ExtendRequest(round_id, closes=closes_at, tz=zone.key)

    async def work(store: Store) -> Reply:
        async def extending(actor: Actor) -> Reply:
            now = terminal.now()
            return await extend(store, actor, request, now=now, office_hours=office_hours)

        return await terminal.acting(store, state, extending)

    terminal.say_reply(terminal.run(terminal.with_store(state.settings, work)))


def round_close(ctx: typer.Context, round_id: RoundArgument) -> None:
    """Close a round now, before its closing time; started responses are kept as partial."""
    state = terminal.state_of(ctx)

    async def work(store: Store) -> Reply:
        async def closing(actor: Actor) -> Reply:
            return await close(store, actor, round_id, now=terminal.now())

        return await terminal.acting(store, state, closing)

    terminal.say_reply(terminal.run(terminal.with_store(state.settings, work)))


def round_resend(ctx: typer.Context, round_id: RoundArgument) -> None:
    """Send again the round's messages that failed for good (e.g. after a refused token was
    fixed, or a delegate unblocked the bot); the running bot sends them."""
    state = terminal.state_of(ctx)

    async def work(store: Store) -> str:
        actor = await terminal.actor_of(store, state)
        return await resend(store, actor, round_id, now=terminal.now())

    terminal.say(terminal.run(terminal.with_store(state.settings, work)))


def round_remind(
    ctx: typer.Context,
    round_id: RoundArgument,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show who would be reminded when; send nothing.")
    ] = False,
) -> None:
    """Show who would be reminded when, in each delegate's office hours and timezone.

    Reminders are sent by the running bot (`itinera run`) when they fall due, never by this
    command: --dry-run is required.
    """
    from rich.table import Table

    state = terminal.state_of(ctx)
    if not dry_run:
        raise terminal.fail(
            "reminders are sent by the running bot (`itinera run`) when they fall due; "
            f"use `itinera round remind {round_id} --dry-run` to see who would be reminded when"
        )
    office_hours = _office_hours(state)
    now = terminal.now()

    async def work(store: Store) -> None:
        actor = await terminal.actor_of(store, state)
        plan = await organising.reminder_plan(
            store, actor, round_id, now=now, office_hours=office_hours
        )
        round_ = plan.round
        policy = ",".join(describe_step(step) for step in round_.reminder_policy) or "none"
        terminal.say(
            f"Round {round_id} ({round_.status_at(now).value}) closes "
            f"{_utc(round_.closes_at)}; reminder policy {policy} before closing, moved into "
            f"office hours {office_hours} in each delegate's timezone. {plan.waiting} of "
            f"{plan.total} delegates have not submitted."
        )
        if not plan.rows:
            terminal.out.print("No reminders planned.")
            return
        table = Table("delegation", "participant", "status", "step", "local time", "UTC", "state")
        for row in plan.rows:
            table.add_row(
                row.participant.delegation or "-",
                row.participant.name,
                terminal.STATUS_WORDS[row.status],
                describe_step(row.step_minutes),
                _local(row.at, row.participant.timezone),
                _utc(row.at),
                row.state,
            )
        terminal.print_table(table)

    terminal.run(terminal.with_store(state.settings, work))


def _office_hours(state: terminal.State) -> OfficeHours:
    return state.settings.office.parsed


__all__ = [
    "close",
    "extend",
    "resend",
    "round_close",
    "round_extend",
    "round_remind",
    "round_resend",
]
