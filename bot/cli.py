"""The ``itinera`` command: what organisers run to prepare, launch and follow survey rounds.

Starting is kept light (``itinera --help`` in well under half a second): what only some
commands need (SQLAlchemy and Alembic, file readers, the digest's matplotlib, the demo, Slack
and Telegram) is imported inside those commands. ``tests/bot/test_cli_start.py`` checks it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from bot import terminal
from bot.exporting import ExportFormat
from bot.terminal import STATUS_WORDS, State, parse_moment
from surveys import organiser_replies
from surveys.errors import ItineraError
from surveys.export import ValueStyle
from surveys.records import Attribution, ResponseStatus
from surveys.richtext import Reply
from surveys.service import organising
from surveys.service.actors import Actor

if TYPE_CHECKING:
    from storage.database import Store

HELP = """Itinera gathers structured feedback from state delegations in Slack and Telegram.

Organisers use this command to check and import surveys, import the roster of delegations and
delegates, launch rounds, follow who has answered and export the results.

Configuration comes from ITINERA_* environment variables (see README.md); the database is
ITINERA_DATABASE_URL, a SQLite file named itinera.db in the working directory by default.
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)
survey_app = typer.Typer(
    help="Check, try out and store survey definitions (YAML or XLSForm .xlsx).",
    no_args_is_help=True,
)
roster_app = typer.Typer(help="Import delegations and participants.", no_args_is_help=True)
round_app = typer.Typer(
    help="Launch rounds (a survey sent to an audience) and follow them.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(survey_app, name="survey")
app.add_typer(roster_app, name="roster")
app.add_typer(round_app, name="round")

out = terminal.out
err = terminal.err


def _print_version(wanted: bool) -> None:
    if not wanted:
        return
    from importlib.metadata import PackageNotFoundError, version

    try:
        terminal.say(f"itinera {version('itinera')}")
    except PackageNotFoundError:  # run from a checkout that was never installed
        raise terminal.fail("itinera is not installed (pip install -e .): no version") from None
    raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print Itinera's version and exit.",
            is_eager=True,
            expose_value=False,
            callback=_print_version,
        ),
    ] = False,
) -> None:
    from bot import secrets
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as error:  # one line per bad ITINERA_* value, not a traceback
        raise terminal.fail(str(error), code=2) from None
    secrets.mask_logs(secrets.configured_secrets(settings))
    ctx.obj = State(settings)


# --- db ------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the database, or bring its schema up to date. Safe to run again."""
    from storage import migrate

    url = terminal.state_of(ctx).settings.database_url
    try:
        before = migrate.current_revision(url)
        migrate.upgrade(url)
        after = migrate.current_revision(url)
    except Exception as error:
        raise terminal.unreachable(url, error) from None
    if before == after:
        terminal.say(f"Database {terminal.redact(url)} is up to date (revision {after}).")
    else:
        terminal.say(
            f"Database {terminal.redact(url)} upgraded from {before or 'empty'} to {after}."
        )


# --- survey --------------------------------------------------------------------------------


@survey_app.command("validate")
def survey_validate(
    file: Annotated[Path, typer.Argument(help="A survey as YAML (.yaml) or XLSForm (.xlsx).")],
) -> None:
    """Check a survey definition; exit 1 and list every problem, with its place, if it has any.

    A valid one is described: its languages, its questions by type, and warnings about what
    is accepted but shown differently in chat or missing in one of its languages.
    """
    from bot.survey_files import check_survey_file

    try:
        checked = check_survey_file(file)
    except ItineraError as error:
        raise terminal.fail(str(error)) from None
    survey = checked.survey
    asked = sum(1 for question in survey.questions if question.asks)
    terminal.say(
        f"{file}: valid. Survey {survey.id!r} version {survey.version}, {asked} questions, "
        f"languages {', '.join(survey.languages)}."
    )
    for line in checked.report():
        terminal.say(line)


@survey_app.command("preview")
def survey_preview(
    file: Annotated[Path, typer.Argument(help="A survey as YAML (.yaml) or XLSForm (.xlsx).")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language to preview in (e.g. fr).")
    ] = None,
) -> None:
    """Answer a survey in the terminal as a delegate would, without storing anything.

    Type the number or the label of a choice, several separated by commas for a multiple
    choice; an empty line skips an optional question; "<" goes back to the previous question.
    When standard input is not a terminal, one line is read per question asked (notes take
    none), an invalid line is answered with the reason and the question asked again, and the
    answers are printed at the end.
    """
    from bot.preview import run_preview
    from bot.survey_files import read_survey_file

    try:
        survey = read_survey_file(file)
    except ItineraError as error:
        raise terminal.fail(str(error)) from None
    if lang is not None and lang not in survey.languages:
        raise terminal.fail(
            f"{file}: no {lang!r} translation; languages: {', '.join(survey.languages)}"
        )
    completed = run_preview(
        survey,
        language=lang or survey.default_language,
        lines=sys.stdin,
        console=out,
        interactive=sys.stdin.isatty(),
        today=datetime.now().astimezone().date(),
        now=terminal.now(),
    )
    if not completed:
        raise terminal.fail("input ended before the survey was complete")


@survey_app.command("import")
def survey_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A survey as YAML (.yaml) or XLSForm (.xlsx).")],
) -> None:
    """Store a survey version. Running rounds keep the version they started with."""
    from bot.survey_files import read_survey_file

    state = terminal.state_of(ctx)
    try:
        survey = read_survey_file(file)
    except ItineraError as error:
        raise terminal.fail(str(error)) from None

    async def work(store: Store) -> None:
        actor = await terminal.actor_of(store, state)
        version = await organising.import_survey(store, actor, survey, now=terminal.now())
        if version.created:
            terminal.say(
                f"Stored survey {survey.id!r} version {survey.version} "
                f"(stored version {version.id}, hash {version.content_hash[:12]})."
            )
        else:
            terminal.say(
                f"Survey {survey.id!r} version {survey.version} is already stored, unchanged "
                f"(stored version {version.id})."
            )

    terminal.run(terminal.with_store(state.settings, work))


@survey_app.command("list")
def survey_list(ctx: typer.Context) -> None:
    """Every stored survey version: its stored id, survey id, version, title, questions and
    when it was stored (rounds name a survey by its id and launch its latest version)."""
    from rich.table import Table

    state = terminal.state_of(ctx)

    async def work(store: Store) -> None:
        actor = await terminal.actor_of(store, state)
        stored = await organising.stored_surveys(store, actor)
        if not stored:
            terminal.say("No surveys stored yet. Store one with `itinera survey import FILE`.")
            return
        table = Table("id", "survey", "version", "title", "questions", "stored at")
        for entry in stored:
            version = entry.version
            table.add_row(
                str(version.id),
                version.survey_id,
                version.version,
                entry.title,
                str(entry.questions),
                _when(version.created_at),
            )
        terminal.print_table(table)

    terminal.run(terminal.with_store(state.settings, work))


# --- roster --------------------------------------------------------------------------------


@roster_app.command("import")
def roster_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Roster CSV (see README for the columns).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and report, store nothing.")
    ] = False,
) -> None:
    """Import delegations and participants from a CSV file; re-importing updates, never duplicates.

    Columns, by header name in any order: delegation (ISO 3166 alpha-3), delegation_name,
    region, name, email, role (delegate or organiser), language, timezone (IANA),
    slack_user_id, tags (;-separated). Bad rows are reported by line number and nothing is
    imported.
    """
    from bot.rosters import read_roster_file

    state = terminal.state_of(ctx)
    try:
        roster, notes = read_roster_file(file)
    except ItineraError as error:
        raise terminal.fail(str(error)) from None
    for note in notes:
        err.print(f"warning: {note}", markup=False, highlight=False)
    if dry_run:
        terminal.say(
            f"{file}: {len(roster.participants)} participants in {len(roster.delegations)} "
            "delegations; nothing stored (--dry-run)."
        )
        return

    async def work(store: Store) -> None:
        actor = await terminal.actor_of(store, state)
        result = await organising.import_roster(store, actor, roster, now=terminal.now())
        terminal.say(
            f"Delegations: {result.delegations_created} new, {result.delegations_updated} "
            f"updated. Participants: {result.participants_created} new, "
            f"{result.participants_updated} updated, {result.participants_unchanged} unchanged."
        )

    terminal.run(terminal.with_store(state.settings, work))


# --- round ---------------------------------------------------------------------------------


@round_app.command("launch")
def round_launch(
    ctx: typer.Context,
    survey_id: Annotated[str, typer.Argument(help="The survey's id (YAML id or XLSForm form_id).")],
    audience: Annotated[
        str,
        typer.Option(
            "--audience", help="all, region:NAME, tag:NAME, or ISO codes such as FRA,SEN,MEX."
        ),
    ],
    closes: Annotated[
        str, typer.Option("--closes", help="Closing date-time, e.g. 2026-12-15T18:00.")
    ],
    opens: Annotated[
        str | None, typer.Option("--opens", help="Opening date-time; now if omitted.")
    ] = None,
    tz: Annotated[
        str, typer.Option("--tz", help="Timezone of dates given without an offset.")
    ] = "UTC",
    remind: Annotated[
        str,
        typer.Option(
            "--remind",
            help="When non-responders are reminded before closing, e.g. 3d,1d,2h; 'none' for "
            "no reminders. Reminders move into each delegate's office hours.",
        ),
    ] = "3d,1d,2h",
    attribution: Annotated[
        Attribution,
        typer.Option(
            "--attribution",
            help="Who exports and digests show behind the answers: named (the delegate), "
            "delegation (the State only) or anonymous (no one; small groups not broken down).",
        ),
    ] = Attribution.DELEGATION,
    responses: Annotated[
        str,
        typer.Option(
            "--responses",
            help="individual (one response per delegate) or consolidated (one response per "
            "delegation, shared by its delegates on every channel).",
        ),
    ] = "individual",
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Launch even though a round of this survey that has not closed already asks "
            "some of the same delegates (refused otherwise, naming that round).",
        ),
    ] = False,
) -> None:
    """Create a round on the survey's latest stored version; print its id alone on the last line.

    The running bot (`itinera run`) sends the invitations at its next tick, each participant
    once, on the channel where they can be reached.
    """
    state = terminal.state_of(ctx)
    zone = terminal.zone(tz)
    request = organising.LaunchRequest(
        survey_id=survey_id,
        audience=audience,
        closes=parse_moment(closes, zone=zone, end_of_day=True),
        opens=parse_moment(opens, zone=zone, end_of_day=False) if opens else None,
        tz=zone.key,
        remind=remind,
        attribution=attribution,
        responses=responses,
        again=again,
    )

    async def work(store: Store) -> tuple[Reply, int]:
        async def launching(actor: Actor) -> tuple[Reply, int]:
            launched = await organising.launch(store, actor, request, now=terminal.now())
            return organiser_replies.launched(launched, language=actor.language), launched.round.id

        return await terminal.acting(store, state, launching)

    reply, round_id = terminal.run(terminal.with_store(state.settings, work))
    terminal.say_reply(reply)
    print(round_id)


def _when(moment: datetime | None, zone: ZoneInfo | None = None) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(zone or UTC)
    return local.strftime("%Y-%m-%d %H:%M %Z")


@round_app.command("list")
def round_list(ctx: typer.Context) -> None:
    """Every round with its survey, audience, dates and how many have submitted."""
    from rich.table import Table

    state = terminal.state_of(ctx)

    async def work(store: Store) -> None:
        now = terminal.now()
        actor = await terminal.actor_of(store, state)
        rounds = await organising.overview(store, actor, now=now)
        if not rounds:
            terminal.say("No rounds yet. Launch one with `itinera round launch`.")
            return
        table = Table(
            "id", "survey", "audience", "opens", "closes", "status", "responses", "submitted"
        )
        for summary in rounds:
            round_ = summary.round
            table.add_row(
                str(round_.id),
                round_.survey_id,
                str(round_.audience),
                _when(round_.opens_at),
                _when(round_.closes_at),
                round_.status_at(now).value,
                round_.responses.value,
                f"{summary.submitted}/{summary.total}",
            )
        terminal.print_table(table)

    terminal.run(terminal.with_store(state.settings, work))


@round_app.command("status")
def round_status(
    ctx: typer.Context,
    round_id: Annotated[
        int, typer.Argument(help="The round's id (see `itinera round list`).", **terminal.ROUND_ID)
    ],
) -> None:
    """Who has answered and who has not, by delegation."""
    from rich.table import Table

    state = terminal.state_of(ctx)

    async def work(store: Store) -> None:
        actor = await terminal.actor_of(store, state)
        report = await organising.status(store, actor, round_id)
        round_, counts = report.round, report.counts
        total, submitted = report.total, report.submitted
        rate = f"{100 * submitted / total:.0f}%" if total else "-"
        terminal.say(
            f"Round {round_.id} ({round_.survey_id}), {round_.status_at(terminal.now()).value}, "
            f"{round_.responses.value} responses, closes {_when(round_.closes_at)}: "
            f"{submitted} of {total} submitted ({rate}), "
            f"{counts.get(ResponseStatus.IN_PROGRESS, 0)} in progress, "
            f"{counts.get(ResponseStatus.NOT_STARTED, 0)} not started."
        )
        table = Table("delegation", "region", "participant", "status", "answers", "last activity")
        for line in report.lines:
            delegation = line.delegation
            table.add_row(
                f"{delegation.code} {delegation.name}" if delegation else "-",
                delegation.region if delegation else "",
                line.participant.name,
                STATUS_WORDS[line.status],
                str(line.answered),
                _when(line.submitted_at or line.updated_at or line.started_at),
            )
        terminal.print_table(table)

    terminal.run(terminal.with_store(state.settings, work))


# --- export --------------------------------------------------------------------------------


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("exporting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("export", total=total)
        yield lambda: progress.advance(task)


@app.command("export")
def export(
    ctx: typer.Context,
    round_id: Annotated[int, typer.Argument(help="The round's id.", **terminal.ROUND_ID)],
    format: Annotated[ExportFormat, typer.Option("--format", help="File format.")] = (
        ExportFormat.CSV
    ),
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="File to write; standard output if omitted (CSV, JSON)."),
    ] = None,
    values: Annotated[
        ValueStyle,
        typer.Option("--values", help="Choice answers as codes or as labels."),
    ] = ValueStyle.CODES,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language of labels; the survey's default.")
    ] = None,
) -> None:
    """Export a round: one row per response, one column per question.

    What the rows say of who answered follows the round's attribution: named (name, email,
    exact times), delegation (the delegation only, days not times) or anonymous (the round's
    ballots: no identity, no time, in random order; refused while the round has fewer
    submitted responses than ITINERA_MIN_GROUP). Text that a spreadsheet
    would run as a formula is prefixed with a quote. The export is recorded in the audit log.
    """
    from bot.exporting import write_csv, write_json, write_xlsx

    state = terminal.state_of(ctx)
    if format is ExportFormat.XLSX and out_file is None:
        raise terminal.fail("an .xlsx export needs --out FILE")

    async def work(store: Store) -> int:
        actor = await terminal.actor_of(store, state)
        taken = await organising.record_export(
            store,
            actor,
            round_id,
            format=format.value,
            now=terminal.now(),
            min_group=state.settings.min_group,
        )
        survey, attribution = taken.survey, taken.attribution
        language = survey.language_for(lang)
        if attribution is Attribution.ANONYMOUS:
            total = await store.responses.ballot_count(round_id)
        else:
            total = sum((await store.rounds.counts(round_id)).values())
        rows = organising.export_items(store, taken)
        with _progress(total, enabled=out_file is not None and err.is_terminal) as advance:
            if format is ExportFormat.XLSX:
                assert out_file is not None
                return await write_xlsx(
                    rows,
                    out_file,
                    survey=survey,
                    style=values,
                    language=language,
                    attribution=attribution,
                    advance=advance,
                )
            writer = write_csv if format is ExportFormat.CSV else write_json
            with contextlib.ExitStack() as files:
                handle = (
                    sys.stdout
                    if out_file is None
                    else files.enter_context(out_file.open("w", encoding="utf-8", newline=""))
                )
                return await writer(
                    rows,
                    handle,
                    survey=survey,
                    style=values,
                    language=language,
                    attribution=attribution,
                    advance=advance,
                )

    count = terminal.run(terminal.with_store(state.settings, work))
    if out_file is not None:
        terminal.say(f"Wrote {count} responses to {out_file}.")


# --- run -----------------------------------------------------------------------------------


@app.command("run")
def run_bot(ctx: typer.Context) -> None:
    """Start every configured channel (Telegram, Slack) and serve until Ctrl-C.

    Telegram runs when ITINERA_TELEGRAM_TOKEN is set (long polling, or a webhook with
    ITINERA_TELEGRAM_MODE=webhook); Slack when ITINERA_SLACK_BOT_TOKEN is set (HTTP events, or
    Socket Mode with ITINERA_SLACK_APP_TOKEN). Webhooks are served on ITINERA_HTTP_HOST and
    ITINERA_HTTP_PORT.
    """
    import logging

    from bot.run import run

    settings = terminal.state_of(ctx).settings
    level = settings.log_level.upper()
    if not isinstance(logging.getLevelName(level), int):
        raise terminal.fail(
            f"ITINERA_LOG_LEVEL {settings.log_level!r}: use DEBUG, INFO, WARNING or ERROR", code=2
        )
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        for chatty in ("apscheduler", "alembic"):
            logging.getLogger(chatty).setLevel(logging.WARNING)

    async def work(store: Store) -> None:
        await run(settings, store)

    terminal.run(terminal.with_store(settings, work))


# --- commands defined beside their features ------------------------------------------------


@app.command("demo")
def demo(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--folder",
            help="Where to write the database, digest and export (new or empty); "
            "itinera-demo-<UTC timestamp> in the working directory by default.",
        ),
    ] = None,
) -> None:
    """Play one survey round end to end on this machine, in seconds, with nothing to set up.

    Creates a folder with a SQLite database, the example survey and a sample roster; starts
    local fakes of Slack and Telegram and the real bot against them; launches a round and plays
    a simulated week in which delegates answer (some late, one halfway, some never) and
    reminders go out; then writes the digest (Markdown, HTML, PNG) and the export into the
    folder and checks that their figures agree. Nothing leaves this machine.
    """
    from bot.demo import demo as play  # the fakes, the bot and both channels: only here

    play(folder)


def _register() -> None:
    from bot import participants_cmd, rounds_cmd
    from bot.audit_cmd import audit
    from bot.digest_cmd import digest_command
    from bot.invites import roster_invites
    from bot.messengers import organiser_messengers

    roster_app.command("invites")(roster_invites)
    app.command("audit")(audit)
    app.add_typer(participants_cmd.app, name="participant")
    app.command("digest")(digest_command(organiser_messengers))
    round_app.command("extend")(rounds_cmd.round_extend)
    round_app.command("close")(rounds_cmd.round_close)
    round_app.command("remind")(rounds_cmd.round_remind)
    round_app.command("resend")(rounds_cmd.round_resend)


_register()
