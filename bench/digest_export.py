"""Digest and export of a large round: a million answers in PostgreSQL.

Three delegates answer the example survey through the real answer path (each differently),
then the database copies them in bulk (``INSERT ... SELECT`` over ``generate_series``: no
round trip per row) into as many submitted responses as make ``--answers`` answers. Prints the
time to fill, the digest's time (its queries and building it, as ``itinera digest`` does), and
for each export format the time and the peak memory of a process that does nothing else
(the child's own high-water mark, ``VmHWM``: ``getrusage``'s max RSS is kept across
``exec`` and would report this process's peak instead), against the targets: digest under
1 s, export under 200 MB.

    python bench/digest_export.py                     # 1,000,000 answers (about 2 minutes)
    python bench/digest_export.py --answers 100000    # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from harness import BENCH, EXAMPLE, SERVER, fresh_database
from sqlalchemy.engine import make_url

from bot.digest_cmd import make_digest
from bot.exporting import write_csv, write_xlsx
from bot.survey_files import read_survey_file
from storage.database import Store, SystemClock, open_store
from storage.migrate import upgrade_async
from surveys.conversation import Answer, Skip, Submit
from surveys.engine import Typed
from surveys.export import ValueStyle
from surveys.records import Audience, Delegation, ParticipantData, Role
from surveys.roster import Roster
from surveys.service import organising
from surveys.service.answering import Conversation

TEMPLATES = (
    # per theme: scale, engagement, frameworks, comment; then the closing ones (a follow-up
    # meeting asks for a date, which is optional); each template is submitted
    (("4", "1", "1,2", "Our plan is on track."), ("1, 3", "no")),
    (("2", "2", "3", None), ("2", "yes", None)),
    (("5", "3", "1", "Funding is the obstacle."), ("3", "no")),
)


async def fill(url: str, answers: int) -> tuple[int, int, float]:
    """The round, its three answered templates, and their bulk copies; (round id, responses,
    seconds to fill)."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    store: Store = await open_store(url)
    try:
        await organising.import_survey(store, BENCH, read_survey_file(EXAMPLE), now=now)
        codes = [f"D{n:02d}" for n in range(60)]
        roster = Roster(
            delegations=tuple(
                Delegation(c, f"State {c}", f"Region {n % 6}") for n, c in enumerate(codes)
            ),
            participants=tuple(
                ParticipantData(
                    name=f"Template {n}",
                    email=f"template{n}@example.org",
                    role=Role.DELEGATE,
                    delegation=codes[n],
                    language=("en", "fr", "es")[n],
                )
                for n in range(len(TEMPLATES))
            ),
        )
        await organising.import_roster(store, BENCH, roster, now=now)
        launched = await organising.launch(
            store,
            BENCH,
            organising.LaunchRequest(
                survey_id="route_alignment",
                audience=Audience("all"),
                opens=now - timedelta(days=2),
                closes=now + timedelta(days=7),
            ),
            now=now - timedelta(days=2),
        )
        round_id = launched.round.id
        conversation = Conversation(store, clock=SystemClock())
        participants = [line.participant for line in await store.rounds.status(round_id)]
        for participant, (theme, closing) in zip(participants, TEMPLATES, strict=True):
            for value in [v for _ in range(5) for v in theme] + list(closing):
                action = Skip() if value is None else Answer(Typed(value))
                await conversation.act(participant, round_id, action)
            await conversation.act(participant, round_id, Submit())
    finally:
        await store.close()
    per_template = await _answers_per_response(url, round_id)
    copies = max(0, answers // per_template - len(TEMPLATES))
    await _copy(url, round_id, copies, codes)
    return round_id, copies + len(TEMPLATES), time.perf_counter() - started


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _answers_per_response(url: str, round_id: int) -> int:
    connection = await asyncpg.connect(_dsn(url))
    try:
        total = await connection.fetchval(
            "SELECT count(*) FROM answers a JOIN responses r ON r.id = a.response_id "
            "WHERE r.round_id = $1",
            round_id,
        )
        responses = await connection.fetchval(
            "SELECT count(*) FROM responses WHERE round_id = $1", round_id
        )
    finally:
        await connection.close()
    return max(1, int(total) // max(1, int(responses)))


async def _copy(url: str, round_id: int, copies: int, codes: list[str]) -> None:
    """Participants, their submitted responses and answers, copied from the templates by the
    database itself (copy ``g`` takes template ``g % 3``), spread over the delegations."""
    raw = await asyncpg.connect(_dsn(url))
    try:
        async with raw.transaction():
            await _copy_in(raw, round_id, copies, codes)
        await raw.execute("ANALYZE")
    finally:
        await raw.close()


async def _copy_in(raw: asyncpg.Connection, round_id: int, copies: int, codes: list[str]) -> None:
    templates = [row[0] for row in await raw.fetch("SELECT id FROM participants ORDER BY id")]
    await raw.execute(
        """
            CREATE TEMP TABLE copies ON COMMIT DROP AS
            SELECT g, (ARRAY[$1::int[]])[1][1 + g % 3] AS template
            FROM generate_series(1, $2) AS g
            """,
        templates,
        copies,
    )
    await raw.execute(
        """
            INSERT INTO participants (name, email, role, delegation_code, language, timezone,
                                      tags, created_at, updated_at)
            SELECT 'Delegate ' || c.g, 'delegate' || c.g || '@example.org', p.role,
                   ($1::text[])[1 + c.g % array_length($1::text[], 1)], p.language, p.timezone,
                   p.tags, p.created_at, p.updated_at
            FROM copies c JOIN participants p ON p.id = c.template
            """,
        codes,
    )
    await raw.execute(
        """
            INSERT INTO responses (round_id, participant_id, status, current_question, editing,
                                   started_at, submitted_at, updated_at, version, invite_at,
                                   invited_at, invited_on, remind_at)
            SELECT r.round_id, n.id, r.status, r.current_question, r.editing,
                   r.started_at - (c.g % 48) * interval '1 hour',
                   r.submitted_at - (c.g % 48) * interval '1 hour', r.updated_at, r.version,
                   NULL, r.invited_at, r.invited_on, NULL
            FROM copies c
            JOIN responses r ON r.participant_id = c.template AND r.round_id = $1
            JOIN participants n ON n.email = 'delegate' || c.g || '@example.org'
            """,
        round_id,
    )
    await raw.execute(
        """
            INSERT INTO answers (response_id, question_id, value, answered_at)
            SELECT n.id, a.question_id, a.value, a.answered_at
            FROM copies c
            JOIN responses t ON t.participant_id = c.template AND t.round_id = $1
            JOIN answers a ON a.response_id = t.id
            JOIN participants p ON p.email = 'delegate' || c.g || '@example.org'
            JOIN responses n ON n.participant_id = p.id AND n.round_id = $1
            """,
        round_id,
    )


async def digest_seconds(url: str, round_id: int, runs: int = 3) -> list[float]:
    store = await open_store(url)
    try:
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            await make_digest(store, round_id, now=datetime.now(UTC))
            timings.append(time.perf_counter() - started)
        return timings
    finally:
        await store.close()


async def export_once(url: str, round_id: int, kind: str, path: Path) -> dict[str, float]:
    """The child's work: one export to ``path``; its time and peak RSS."""
    store = await open_store(url)
    try:
        started = time.perf_counter()
        survey = (await store.surveys.latest_version("route_alignment")).definition
        options = {"survey": survey, "style": ValueStyle.LABELS, "language": "en"}
        rows = store.responses.export_rows(round_id)
        if kind == "xlsx":
            count = await write_xlsx(rows, path, **options)  # type: ignore[arg-type]
        else:
            with path.open("w", encoding="utf-8", newline="") as out:
                count = await write_csv(rows, out, **options)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
    finally:
        await store.close()
    peak = peak_rss_mb()
    return {
        "rows": count,
        "seconds": seconds,
        "peak_mb": peak,
        "size_mb": 0.0,
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory, in MB.

    Linux keeps ``ru_maxrss`` across ``exec``, so a child started by a large parent reports
    the parent's peak; ``VmHWM`` belongs to the child's own address space."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def export_in_child(url: str, round_id: int, kind: str, folder: Path) -> dict[str, float]:
    path = folder / f"export.{kind}"
    output = subprocess.run(
        [sys.executable, __file__, "export", url, str(round_id), kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("ITINERA_")},
    ).stdout
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    figures["size_mb"] = path.stat().st_size / 2**20
    path.unlink()
    return figures


async def kept_database(server: str, name: str, answers: int) -> tuple[str, int]:
    """Database ``name`` on ``server``, filled with ``answers`` the first time and kept for
    the runs after (``--keep``); its URL and round."""
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        connection = await asyncpg.connect(_dsn(url))
    except asyncpg.InvalidCatalogNameError:
        admin = await asyncpg.connect(_dsn(server))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        await upgrade_async(url)
        round_id, _, _ = await fill(url, answers)
        return url, round_id
    try:
        round_id = await connection.fetchval("SELECT max(id) FROM rounds")
        total = await connection.fetchval("SELECT count(*) FROM answers")
    finally:
        await connection.close()
    if round_id is None or total < answers:
        raise SystemExit(f"database {name} holds {total:,} answers: drop it to fill it again")
    return url, int(round_id)


async def bench(args: argparse.Namespace) -> int:
    if args.keep:
        url, round_id = await kept_database(args.database_url, args.keep, args.answers)
        return await measure(url, round_id, responses=None, filled=None)
    name = f"itinera_digest_{os.getpid()}"
    async with fresh_database(args.database_url, name) as url:
        round_id, responses, filled = await fill(url, args.answers)
        return await measure(url, round_id, responses=responses, filled=filled)


async def measure(url: str, round_id: int, *, responses: int | None, filled: float | None) -> int:
    connection = await asyncpg.connect(_dsn(url))
    try:
        total = await connection.fetchval("SELECT count(*) FROM answers")
    finally:
        await connection.close()
    if responses is not None and filled is not None:
        print(f"filled: {total:,} answers in {responses:,} submitted responses in {filled:.1f} s")
    else:
        print(f"kept: {total:,} answers")
    timings = await digest_seconds(url, round_id)
    worst = max(timings)
    print(
        "digest (queries + build): "
        + ", ".join(f"{t:.2f} s" for t in timings)
        + f"  (target < 1 s: {'met' if worst < 1 else 'NOT met'})"
    )
    ok = worst < 1
    with tempfile.TemporaryDirectory() as folder:
        for kind in ("csv", "xlsx"):
            f = export_in_child(url, round_id, kind, Path(folder))
            met = f["peak_mb"] < 200
            ok = ok and met
            print(
                f"export {kind}: {int(f['rows']):,} responses in {f['seconds']:.1f} s, "
                f"{f['size_mb']:.0f} MB file, peak RSS {f['peak_mb']:.0f} MB "
                f"(target < 200 MB: {'met' if met else 'NOT met'})"
            )
    return 0 if ok else 1


def main() -> None:
    if sys.argv[1:2] == ["export"]:
        url, round_id, kind, path = sys.argv[2:6]
        figures = asyncio.run(export_once(url, int(round_id), kind, Path(path)))
        print(json.dumps(figures))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=SERVER,
        help=f"PostgreSQL server to create a scratch database on (default {SERVER})",
    )
    parser.add_argument(
        "--answers", type=int, default=1_000_000, help="answers to fill (default 1,000,000)"
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="fill database NAME once and keep it for the next runs (not dropped afterwards)",
    )
    sys.exit(asyncio.run(bench(parser.parse_args())))


if __name__ == "__main__":
    main()
