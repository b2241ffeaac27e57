"""``itinera participant show|erase|relink``: a person's data rights, from the command line.

``show`` prints everything stored about a participant as JSON; ``erase`` removes their
personal data (after a confirmation, unless ``--yes``); ``relink`` lets them link a new
account on a channel. The rules are the core's (:mod:`surveys.service.rights`): organisers
only, each action written to the audit log. Registered by ``bot.cli``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot import terminal
from surveys.records import Channel
from surveys.rights import Erasure, PersonalData
from surveys.service import rights

if TYPE_CHECKING:
    from storage.database import Store

app = typer.Typer(
    help="What is stored about a participant: show it, erase it, allow a new account.",
    no_args_is_help=True,
)

PARTICIPANT_ID = {"min": 1, "metavar": "ID"}


def _plain(value: Any) -> Any:
    """JSON-ready: times as ISO 8601 (UTC), enums as their value, tuples as lists."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return value


def _payload(text: str) -> Any:
    """A stored request body as JSON when it is JSON, else the text as received."""
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def personal_json(data: PersonalData) -> str:
    """Everything in ``data`` as one JSON document (keys in the order a reader expects)."""
    document = _plain(asdict(data))
    for event in document["inbound"]:
        event["payload"] = _payload(event["payload"])
    return json.dumps(document, ensure_ascii=False, indent=2, default=str)


def erasure_summary(erased: Erasure) -> str:
    counts = ", ".join(
        f"{key.replace('_', ' ')}: {value}" for key, value in erased.as_dict().items()
    )
    return f"Erased the personal data of participant {erased.participant_id} ({counts})."


@app.command("show")
def show(
    ctx: typer.Context,
    participant_id: Annotated[int, typer.Argument(help="The participant's id.", **PARTICIPANT_ID)],
) -> None:
    """Print everything stored about a participant as JSON: roster fields, channel accounts,
    enrolment codes, responses with their answers and history, messages from and to them,
    and the audit entries naming them. Recorded in the audit log."""
    state = terminal.state_of(ctx)

    async def work(store: Store) -> PersonalData:
        who = await terminal.actor_of(store, state)
        return await rights.show_participant(store, who, participant_id, now=terminal.now())

    data = terminal.run(terminal.with_store(state.settings, work))
    typer.echo(terminal.printable_text(personal_json(data)))


@app.command("erase")
def erase(
    ctx: typer.Context,
    participant_id: Annotated[int, typer.Argument(help="The participant's id.", **PARTICIPANT_ID)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a participant's personal data: name, email, tags, channel accounts, enrolment
    codes, free-text answers, and the raw messages from and to them. Their responses and
    other answers stay, so counts per delegation do not change. Cannot be undone; recorded in
    the audit log. Remove them from your roster file too, or the next import adds them back."""
    state = terminal.state_of(ctx)

    async def work(store: Store) -> Erasure | None:
        who = await terminal.actor_of(store, state)
        person = await rights.erasure_subject(store, who, participant_id)
        if not yes:
            terminal.say(
                f"This erases the personal data of participant {person.id}, {person.name} "
                f"<{person.email}> ({person.delegation or person.role.value}). "
                "It cannot be undone."
            )
            if not typer.confirm("Erase?", default=False):
                return None
        return await rights.erase_participant(store, who, participant_id, now=terminal.now())

    erased = terminal.run(terminal.with_store(state.settings, work))
    if erased is None:
        terminal.say("Nothing was erased.")
        raise typer.Exit(1)
    terminal.say(erasure_summary(erased))


@app.command("relink")
def relink(
    ctx: typer.Context,
    participant_id: Annotated[int, typer.Argument(help="The participant's id.", **PARTICIPANT_ID)],
    channel: Annotated[
        Channel, typer.Option("--channel", help="The channel of the account to replace.")
    ] = Channel.TELEGRAM,
) -> None:
    """Allow a participant to link a new account (a new phone, a new Telegram account): their
    current one is unlinked, and the next enrolment link they open links the new one. Send
    them a link with `itinera roster invites --channel telegram`. Recorded in the audit log."""
    state = terminal.state_of(ctx)

    async def work(store: Store) -> str:
        who = await terminal.actor_of(store, state)
        removed = await rights.relink_participant(
            store, who, participant_id, channel=channel.value, now=terminal.now()
        )
        if removed is None:
            return (
                f"Participant {participant_id} has no {channel.value} account linked: "
                "their next enrolment link links one."
            )
        return (
            f"Unlinked {channel.value} account {removed.external_id} from participant "
            f"{participant_id}: the next enrolment link they open links their new account."
        )

    terminal.say(terminal.run(terminal.with_store(state.settings, work)))


__all__ = ["app", "erase", "erasure_summary", "personal_json", "relink", "show"]
