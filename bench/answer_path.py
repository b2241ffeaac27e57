"""How long one delegate answer takes on the hot path, and how many SQL statements it costs.

One answer is one webhook request that Slack wants acknowledged within 3 seconds; this measures
`Conversation.act` (load round, survey version, response; validate; store the answer and its
history) end to end on a real database, and the streaming export of the same round.

    python bench/answer_path.py                       # SQLite file in a temporary folder
    python bench/answer_path.py --delegates 2000 --database-url postgresql+asyncpg://...

On PostgreSQL it works in a scratch database it creates on that server (the database named in
the URL is only used to connect) and drops afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import fresh_database
from sqlalchemy import event

from bot.exporting import write_csv
from bot.survey_files import read_survey_file
from storage.database import Store, SystemClock, open_store
from storage.migrate import upgrade_async
from surveys.conversation import Answer, Skip
from surveys.engine import Typed
from surveys.export import ValueStyle
from surveys.records import Audience, Delegation, ParticipantData, Role
from surveys.roster import Roster
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.answering import Conversation

EXAMPLE = Path(__file__).resolve().parents[1] / "surveys" / "examples" / "route_alignment.yaml"
PER_THEME = ("4", "1", "1,2", None)  # scale, engagement, frameworks, comment skipped
CLOSING = ("1, 3", "no")


def roster(delegates: int) -> Roster:
    codes = [f"{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}" for i in range(200)]
    delegations = tuple(Delegation(code, f"State {code}", "Region") for code in codes)
    people = tuple(
        ParticipantData(
            name=f"Delegate {n}",
            email=f"delegate{n}@example.org",
            role=Role.DELEGATE,
            delegation=codes[n % len(codes)],
            language=("en", "fr", "es")[n % 3],
            timezone="Europe/Zurich",
        )
        for n in range(delegates)
    )
    return Roster(delegations=delegations, participants=people)


async def bench(url: str, delegates: int, answering: int) -> None:
    await upgrade_async(url)
    store: Store = await open_store(url)
    statements = 0
    assert store.database is not None

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(store.database.engine.sync_engine, "before_cursor_execute", count)
    now = datetime.now(UTC)
    try:
        await organising.import_survey(
            store, Actor.command_line("bench"), read_survey_file(EXAMPLE), now=now
        )
        started = time.perf_counter()
        await organising.import_roster(
            store, Actor.command_line("bench"), roster(delegates), now=now
        )
        roster_seconds = time.perf_counter() - started
        launched = await organising.launch(
            store,
            Actor.command_line("bench"),
            organising.LaunchRequest(
                survey_id="route_alignment",
                audience=Audience("all"),
                closes=now + timedelta(days=7),
            ),
            now=now,
        )
        round_id = launched.round.id
        conversation = Conversation(store, clock=SystemClock())
        participants = [line.participant for line in await store.rounds.status(round_id)]
        timings: list[float] = []
        per_answer: list[int] = []
        inputs = [value for _ in range(5) for value in PER_THEME] + list(CLOSING)
        for participant in participants[:answering]:
            for value in inputs:
                action = Skip() if value is None else Answer(Typed(value))
                before = statements
                t0 = time.perf_counter()
                await conversation.act(participant, round_id, action)
                timings.append(time.perf_counter() - t0)
                per_answer.append(statements - before)
        started = time.perf_counter()
        survey = (await store.surveys.latest_version("route_alignment")).definition
        sink = io.StringIO()
        rows = await write_csv(
            store.responses.export_rows(round_id),
            sink,
            survey=survey,
            style=ValueStyle.LABELS,
            language="en",
        )
        export_seconds = time.perf_counter() - started
    finally:
        await store.close()

    timings.sort()
    ms = [t * 1000 for t in timings]
    print(f"database: {url.split('://')[0]}")
    print(f"roster import: {delegates} delegates in {roster_seconds:.2f} s")
    print(f"answers timed: {len(ms)} ({answering} delegates x {len(inputs)} actions)")
    print(
        f"answer latency ms: p50 {statistics.median(ms):.1f}  "
        f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f}  p99 {ms[int(len(ms) * 0.99) - 1]:.1f}  "
        f"max {ms[-1]:.1f}"
    )
    median_statements = statistics.median(per_answer)
    print(f"SQL statements per answer: median {median_statements:.0f}, max {max(per_answer)}")
    size = len(sink.getvalue()) // 1024
    print(f"export: {rows} responses as CSV in {export_seconds:.2f} s ({size} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to create a scratch database on (postgresql+asyncpg://...);"
        " a temporary SQLite file if omitted",
    )
    parser.add_argument("--delegates", type=int, default=1000, help="roster size (default 1000)")
    parser.add_argument(
        "--answering", type=int, default=50, help="delegates who answer the whole survey"
    )
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(on_server(args.database_url, args.delegates, args.answering))
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(bench(url, args.delegates, args.answering))


async def on_server(server: str, delegates: int, answering: int) -> None:
    async with fresh_database(server, f"itinera_answer_path_{os.getpid()}") as url:
        await bench(url, delegates, answering)


if __name__ == "__main__":
    main()
