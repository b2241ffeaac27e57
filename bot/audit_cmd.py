"""``itinera audit``: what organisers did, newest first, as a table or as JSON for scripts.

Each entry says who (the CLI user, or ``email (channel)``), when (UTC), what (``round.launch``,
``export``, ``digest``, ``roster.import``...), to what (``round 3``, ``roster``...) and the
details recorded with it. Registered by ``bot.cli``; the reading is the core's
(:func:`surveys.service.organising.audit_trail`, organisers only).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from bot import terminal
from surveys.records import AuditEntry
from surveys.service import organising

if TYPE_CHECKING:
    from storage.database import Store

_AGO = re.compile(r"^\s*(\d{1,6})\s*([wdhm])\s*$", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


class AuditFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def parse_since(text: str, *, now: datetime, zone: str = "UTC") -> datetime:
    """``7d``, ``12h``, ``30m``, ``2w`` (that long before ``now``), or an ISO 8601 date or
    date-time (read in ``zone`` without an offset). UTC out; a usage error otherwise."""
    ago = _AGO.match(text)
    if ago:
        try:
            return now - timedelta(**{_UNITS[ago.group(2).lower()]: int(ago.group(1))})
        except OverflowError:  # before year 1: everything
            return datetime.min.replace(tzinfo=UTC)
    try:
        return terminal.parse_moment(text, zone=terminal.zone(zone), end_of_day=False)
    except typer.BadParameter:
        raise typer.BadParameter(
            f"{text!r} is neither a date (2026-03-02), a date-time (2026-03-02T09:00) nor a "
            "duration before now (7d, 12h, 30m, 2w)",
            param_hint="--since",
        ) from None


def as_json(entries: Sequence[AuditEntry]) -> str:
    """The entries as a JSON array, for scripts (times ISO 8601 in UTC)."""
    return json.dumps(
        [
            {
                "at": entry.at.astimezone(UTC).isoformat(timespec="seconds"),
                "actor": entry.actor,
                "action": entry.action,
                "target": entry.target,
                "details": entry.details,
            }
            for entry in entries
        ],
        ensure_ascii=False,
        indent=2,
        default=str,
    )


def _value(value: Any) -> str:
    if isinstance(value, list) and len(value) > 5:
        return f"[{len(value)} items]"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def details_text(details: dict[str, object]) -> str:
    """``format=csv, attribution=named``: a compact line (long lists shown by their size)."""
    return ", ".join(f"{key}={_value(value)}" for key, value in details.items())


def as_table(entries: Sequence[AuditEntry]) -> Table:
    """The entries as a table; every cell is plain text (a name cannot carry markup)."""
    table = Table("at (UTC)", "actor", "action", "target", "details")
    for entry in entries:
        table.add_row(
            Text(f"{entry.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}"),
            Text(entry.actor),
            Text(entry.action),
            Text(entry.target),
            Text(details_text(entry.details)),
        )
    return table


def audit(
    ctx: typer.Context,
    round_id: Annotated[
        int | None,
        typer.Option("--round", help="Only what was done to this round.", **terminal.ROUND_ID),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only entries from then on: a date or date-time (2026-03-02T09:00), or a "
            "duration before now (7d, 12h, 30m).",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Only entries whose actor contains this (any case)."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", help="Show at most this many entries.", min=1, max=organising.AUDIT_LIMIT
        ),
    ] = 50,
    format: Annotated[
        AuditFormat, typer.Option("--format", help="A table, or JSON for scripts.")
    ] = AuditFormat.TABLE,
    tz: Annotated[
        str, typer.Option("--tz", help="Timezone of a --since given without an offset.")
    ] = "UTC",
) -> None:
    """List the audit log, newest first: who did what to which round, when, from where.

    Launches, closes, extensions, survey and roster imports, enrolment links, exports and
    digests are recorded, each with the actor (the CLI user or `email (channel)`).
    """
    state = terminal.state_of(ctx)
    now = terminal.now()
    query = organising.AuditQuery(
        round_id=round_id,
        since=parse_since(since, now=now, zone=tz) if since is not None else None,
        actor=actor,
        limit=limit,
    )

    async def work(store: Store) -> list[AuditEntry]:
        who = await terminal.actor_of(store, state)
        return await organising.audit_trail(store, who, query)

    entries = terminal.run(terminal.with_store(state.settings, work))
    if format is AuditFormat.JSON:
        typer.echo(as_json(entries))
        return
    if not entries:
        terminal.say("No audit entries match." if _filtered(query) else "The audit log is empty.")
        return
    terminal.print_table(as_table(entries))
    if len(entries) == limit:
        terminal.say(f"The newest {limit} entries; --limit shows more.")


def _filtered(query: organising.AuditQuery) -> bool:
    return query.round_id is not None or query.since is not None or bool(query.actor)


__all__ = ["AuditFormat", "as_json", "as_table", "audit", "details_text", "parse_since"]
