"""``itinera roster invites``: a personal one-time enrolment link per participant.

Telegram does not tell us who a user is, so each participant gets a code of their own and the
deep link ``https://t.me/<bot>?start=<code>``; opening it links their Telegram account to them.
Codes are printed (or written to a CSV file readable by its owner only) and stored as hashes;
issuing a new code for someone makes their earlier unused one stop working.

Registered by ``bot.cli`` as ``itinera roster invites``.
"""

from __future__ import annotations

import asyncio
import csv
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot import terminal
from bot.secrets import configured_secrets, mask
from handlers.telegram.enrolment import IssuedCode, issue_code
from surveys.records import Channel, Participant
from surveys.service import organising
from surveys.service.actors import Actor

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.database import Store


@dataclass(frozen=True)
class Invite:
    participant: Participant
    delegation: str
    issued: IssuedCode


async def bot_username(settings: Settings) -> str:
    """``ITINERA_TELEGRAM_BOT_USERNAME``, else the username Telegram gives for the token."""
    if settings.telegram.bot_username:
        return settings.telegram.bot_username.lstrip("@")
    if settings.telegram.token is None:
        raise typer.BadParameter(
            "set ITINERA_TELEGRAM_BOT_USERNAME, or ITINERA_TELEGRAM_TOKEN to ask Telegram for it"
        )
    from bot.telegram_wiring import make_bot  # python-telegram-bot only when needed

    async with make_bot(settings) as bot:  # initialising asks getMe
        username = bot.username
    if not username:
        raise typer.BadParameter("Telegram gave no username for this bot token")
    return username


async def issue_invites(
    store: Store,
    *,
    username: str,
    days: int,
    now: datetime,
    actor: Actor,
    everyone: bool = False,
) -> list[Invite]:
    """Issue a code to each participant the actor may invite who is not yet enrolled on
    Telegram (everyone with ``everyone``), delegates first by delegation, and record it in the
    audit log (:func:`surveys.service.organising.invitees` says who)."""
    channel = Channel.TELEGRAM.value
    names = {d.code: d.name for d in await store.roster.list_delegations()}
    participants = await organising.invitees(store, actor, channel=channel, everyone=everyone)
    invites = []
    for participant in participants:
        issued = await issue_code(
            store.enrolments,
            participant_id=participant.id,
            bot_username=username,
            now=now,
            days=days,
        )
        delegation = names.get(participant.delegation or "", participant.delegation or "")
        invites.append(Invite(participant, delegation, issued))
    if invites:
        await store.audit.record(
            actor=actor.name,
            action="enrolment.issue",
            target=channel,
            details={
                "participants": [invite.participant.id for invite in invites],
                "expires_at": invites[0].issued.expires_at.isoformat(),
            },
            now=now,
        )
    return invites


def write_invites_csv(invites: list[Invite], path: Path) -> None:
    """The invites as CSV, created readable by its owner only (the codes are secrets)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "delegation", "role", "code", "link", "expires_at"])
        for invite in invites:
            writer.writerow(
                [
                    invite.participant.name,
                    invite.participant.email,
                    invite.delegation,
                    invite.participant.role.value,
                    invite.issued.code,
                    invite.issued.link,
                    invite.issued.expires_at.isoformat(),
                ]
            )


def roster_invites(
    ctx: typer.Context,
    channel: Annotated[
        str, typer.Option("--channel", help="The channel to enrol on (only telegram needs it).")
    ] = "telegram",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write a CSV file (readable by you only) instead of a table."),
    ] = None,
    everyone: Annotated[
        bool,
        typer.Option(
            "--all", help="Also participants already enrolled (their unused codes stop working)."
        ),
    ] = False,
) -> None:
    """Issue a one-time enrolment link to each participant not yet enrolled on Telegram.

    Prints name, delegation, code and link (https://t.me/<bot>?start=<code>) per participant,
    or writes them to --out as CSV. Links expire after ITINERA_ENROLMENT_CODE_DAYS days. The bot
    username is ITINERA_TELEGRAM_BOT_USERNAME, or asked of Telegram with the token.
    """
    from telegram.error import TelegramError

    if channel.strip().lower() != Channel.TELEGRAM.value:
        raise terminal.fail(
            f"--channel {channel}: enrolment links are for telegram; Slack users are known by "
            "the slack_user_id column of the roster"
        )
    state = terminal.state_of(ctx)
    settings = state.settings
    try:
        username = asyncio.run(bot_username(settings))
    except TelegramError as error:
        reason = mask(str(error) or type(error).__name__, configured_secrets(settings))
        raise terminal.fail(
            f"cannot ask Telegram for the bot's username ({reason}); check "
            "ITINERA_TELEGRAM_TOKEN, or set ITINERA_TELEGRAM_BOT_USERNAME"
        ) from None

    async def work(store: Store) -> list[Invite]:
        return await issue_invites(
            store,
            username=username,
            days=settings.enrolment_code_days,
            now=terminal.now(),
            actor=await terminal.actor_of(store, state),
            everyone=everyone,
        )

    invites = terminal.run(terminal.with_store(settings, work))
    if not invites:
        terminal.out.print(
            "Everyone is enrolled on Telegram already; use --all to issue new links."
        )
        return
    days = settings.enrolment_code_days
    if out is not None:
        write_invites_csv(invites, out)
        terminal.say(f"Wrote {len(invites)} enrolment links to {out} (valid {days} days).")
        return
    table = Table("name", "delegation", "code", "link")
    rows = [
        (invite.participant.name, invite.delegation, invite.issued.code, invite.issued.link)
        for invite in invites
    ]
    for row in rows:
        table.add_row(*row)
    # Never wrap or cut a link or a code: as wide as the longest row, whatever the terminal.
    widths = [
        max(len(row[i]) for row in [("name", "delegation", "code", "link"), *rows])
        for i in range(4)
    ]
    wide = Console(
        width=max(terminal.out.width, sum(widths) + 13), highlight=False, markup=False, emoji=False
    )
    wide.print(table)
    terminal.out.print(f"{len(invites)} enrolment links, valid {days} days; each works once.")
