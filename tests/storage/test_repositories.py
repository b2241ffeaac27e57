"""What only the SQL store promises: how it stores, and how few statements it needs."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, or_, select, text
from sqlalchemy.exc import StatementError

from storage import repositories
from storage.database import Database, Store, open_store, split_url
from storage.tables import ResponseRow
from surveys.definition import Survey, load_survey
from surveys.queues import NewInboundEvent, NewMessage
from surveys.records import (
    AnswerChange,
    Audience,
    Delegation,
    Invited,
    ParticipantData,
    Response,
    ResponseState,
    ResponseStatus,
    Role,
)
from tests.storage.test_channel_contract import OPENS, make_round, progress, seed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def make_survey() -> Survey:
    return load_survey(
        {
            "id": "pulse",
            "version": "1",
            "title": {"en": "Pulse"},
            "default_language": "en",
            "languages": ["en"],
            "questions": [
                {"id": f"q{n}", "type": "text", "label": {"en": f"Question {n}"}}
                for n in range(1, 4)
            ],
        }
    )


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store sends while the block runs (BEGIN/COMMIT left out)."""
    assert store.database is not None
    engine = store.database.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def kind(statement: str) -> str:
    """``UPDATE responses``, ``INSERT INTO answers``, ``SELECT FROM answers``..."""
    found = re.match(r"(UPDATE \w+|INSERT INTO \w+|DELETE FROM \w+|SELECT)", statement)
    assert found is not None, statement
    if found.group(1) == "SELECT":
        table = re.search(r" FROM (\w+)", statement)
        assert table is not None, statement
        return f"SELECT FROM {table.group(1)}"
    return found.group(1)


async def sql(store: Store, query: str) -> list[Any]:
    assert store.database is not None
    async with store.database.engine.connect() as connection:
        return list((await connection.execute(text(query))).all())


async def seed_round(store: Store, people: int) -> tuple[int, list[int]]:
    delegations = [Delegation(f"C{n:02d}", f"Country {n}", "Region") for n in range(people)]
    roster = [
        ParticipantData(
            name=f"Delegate {n}",
            email=f"Delegate{n}@Example.ORG",
            role=Role.DELEGATE,
            delegation=f"C{n:02d}",
        )
        for n in range(people)
    ]
    await store.roster.import_roster(delegations, roster)
    ids = [p.id for p in await store.roster.list_participants()]
    version = await store.surveys.save_version(make_survey(), now=T0)
    round_ = await store.rounds.create_round(
        survey_version_id=version.id,
        audience=Audience("all"),
        opens_at=T0,
        closes_at=T0 + timedelta(days=7),
        participant_ids=ids,
        now=T0,
    )
    return round_.id, ids


async def test_status_and_counts_take_a_fixed_handful_of_queries(store: Store) -> None:
    round_id, _ = await seed_round(store, 4)

    with statements(store) as status_sql:
        lines = await store.rounds.status(round_id)
    with statements(store) as counts_sql:
        counts = await store.rounds.counts(round_id)

    assert len(lines) == 4
    assert counts[ResponseStatus.NOT_STARTED] == 4
    # Status reads the round by its key (its response mode says whom each line names), then
    # every line in one query; counts is one query.
    assert len(status_sql) == 2
    assert "FROM rounds" in status_sql[0] and "WHERE rounds.id =" in status_sql[0]
    assert len(counts_sql) == 1


async def answer_q1(store: Store, response: Response, change: AnswerChange) -> Response:
    """Save ``change`` to q1 as the response's only answer."""
    return await store.responses.save_state(
        response.id,
        version=response.version,
        state=ResponseState(answers={"q1": change.value}, started=True),
        changes=[change],
        status=ResponseStatus.IN_PROGRESS,
        now=T0,
    )


async def test_save_state_takes_a_fixed_handful_of_statements(store: Store) -> None:
    round_id, ids = await seed_round(store, 1)
    response = await store.responses.get_response(round_id, ids[0])
    changes = [AnswerChange(f"q{n}", f"answer {n}", T0) for n in range(1, 4)]
    state = ResponseState(answers={c.question_id: c.value for c in changes}, started=True)

    with statements(store) as seen:
        await store.responses.save_state(
            response.id,
            version=response.version,
            state=state,
            changes=changes,
            status=ResponseStatus.IN_PROGRESS,
            now=T0,
        )

    # Three answers, still four statements: update, upsert (executemany), history, read back.
    assert [kind(statement) for statement in seen] == [
        "UPDATE responses",
        "INSERT INTO answers",
        "INSERT INTO answer_history",
        "SELECT FROM answers",
    ]


async def test_one_answer_is_saved_with_its_history_in_one_statement_on_postgresql(
    store: Store,
) -> None:
    round_id, ids = await seed_round(store, 1)
    response = await store.responses.get_response(round_id, ids[0])
    change = AnswerChange("q1", "Proceso de Cartagena, señal", T0, by=ids[0])

    with statements(store) as seen:
        saved = await answer_q1(store, response, change)

    assert store.database is not None
    writes = [statement for statement in seen if not statement.startswith("SELECT")]
    if store.database.dialect == "postgresql":
        assert len(writes) == 2, writes  # the update, then the answer and its history together
        assert "INSERT INTO answers" in writes[1] and "INSERT INTO answer_history" in writes[1]
    else:
        assert [kind(statement) for statement in writes] == [
            "UPDATE responses",
            "INSERT INTO answers",
            "INSERT INTO answer_history",
        ]
    assert saved.state.answers == {"q1": "Proceso de Cartagena, señal"}
    again = await store.responses.get_response(round_id, ids[0])
    assert again.state.answers == {"q1": "Proceso de Cartagena, señal"}
    history = await store.responses.history(response.id)
    assert [(h.question_id, h.value, h.reason, h.by) for h in history] == [
        ("q1", "Proceso de Cartagena, señal", change.reason, ids[0])
    ]
    assert history[0].at == T0


async def test_export_fetches_answers_per_chunk_not_per_response(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repositories, "EXPORT_CHUNK", 2)
    round_id, ids = await seed_round(store, 5)
    for participant_id in ids:
        response = await store.responses.get_response(round_id, participant_id)
        change = AnswerChange("q1", f"from {participant_id}", T0)
        await answer_q1(store, response, change)

    with statements(store) as seen:
        rows = [row async for row in store.responses.export_rows(round_id)]

    assert [row.answers for row in rows] == [{"q1": f"from {pid}"} for pid in ids]
    answer_queries = [s for s in seen if "FROM answers" in s]
    assert len(answer_queries) == 3  # 5 responses in chunks of 2


async def test_an_export_closed_early_releases_its_connection(store: Store) -> None:
    round_id, _ = await seed_round(store, 3)

    async with aclosing(store.responses.export_rows(round_id)) as rows:
        first = await anext(rows)

    assert first.participant.name == "Delegate 0"
    assert store.database is not None
    assert store.database.engine.pool.checkedout() == 0


async def test_parsed_definitions_are_cached_by_version(store: Store) -> None:
    saved = await store.surveys.save_version(make_survey(), now=T0)

    first = await store.surveys.get_version(saved.id)
    second = await store.surveys.latest_version("pulse")

    assert first.definition is second.definition
    stored = await sql(store, "SELECT definition, content_hash FROM survey_versions")
    assert stored == [(make_survey().canonical_json(), make_survey().content_hash())]


async def test_a_fresh_store_parses_the_stored_definition(database_url: str) -> None:
    writer = await open_store(database_url)
    try:
        saved = await writer.surveys.save_version(make_survey(), now=T0)
    finally:
        await writer.close()
    reader = await open_store(database_url)
    try:
        assert (await reader.surveys.get_version(saved.id)).definition == make_survey()
    finally:
        await reader.close()


async def test_emails_are_stored_lower_cased_and_skips_as_sql_null(store: Store) -> None:
    round_id, ids = await seed_round(store, 1)
    response = await store.responses.get_response(round_id, ids[0])
    changes = [AnswerChange("q1", None, T0, "skipped"), AnswerChange("q2", "fine", T0)]
    await store.responses.save_state(
        response.id,
        version=response.version,
        state=ResponseState(answers={"q1": None, "q2": "fine"}, started=True),
        changes=changes,
        status=ResponseStatus.IN_PROGRESS,
        now=T0,
    )

    assert await sql(store, "SELECT email FROM participants") == [("delegate0@example.org",)]
    assert await sql(
        store, "SELECT question_id FROM answers WHERE value IS NULL ORDER BY question_id"
    ) == [("q1",)]
    assert await sql(store, "SELECT count(*) FROM answer_history WHERE value IS NULL") == [(1,)]


async def test_times_are_stored_in_utc(store: Store) -> None:
    offset = datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    await store.audit.record(actor="a", action="b", target="c", details={}, now=offset)

    [(raw,)] = await sql(store, "SELECT at FROM audit_log")
    assert store.database is not None
    if store.database.dialect == "sqlite":
        assert str(raw).startswith("2026-03-02 10:00:00")
    else:
        assert raw == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    [entry] = await store.audit.entries()
    assert entry.at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert entry.at.tzinfo is UTC


async def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await store.audit.record(
            actor="a", action="b", target="c", details={}, now=datetime(2026, 3, 2, 10, 0)
        )
    assert await store.audit.entries() == []


async def test_sqlite_connections_enforce_foreign_keys_in_wal_mode(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with database.engine.connect() as connection:
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
    finally:
        await database.dispose()
    assert (foreign_keys, journal) == (1, "wal")


async def test_foreign_keys_hold_on_every_backend(store: Store) -> None:
    assert store.database is not None
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        async with store.database.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO answers (response_id, question_id, answered_at)"
                    " VALUES (404, 'q1', CURRENT_TIMESTAMP)"
                )
            )


def test_a_schema_travels_in_the_url_or_as_keyword() -> None:
    url, schema = split_url("postgresql+asyncpg://u@h/db?schema=s1")
    assert (url.render_as_string(), schema) == ("postgresql+asyncpg://u@h/db", "s1")
    assert split_url("postgresql+asyncpg://u@h/db?schema=s1", "s2")[1] == "s2"
    assert split_url("sqlite+aiosqlite:///x.db")[1] is None
    with pytest.raises(ValueError, match="only supported on PostgreSQL"):
        split_url("sqlite+aiosqlite:///x.db", "s1")


async def test_open_store_fails_at_once_when_the_database_is_unreachable() -> None:
    # A loopback port nothing listens on. (Not a bad SQLite path: aiosqlite's failed connect
    # leaves its worker thread to finish after the test's event loop is gone.)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OSError):
        await open_store(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/nothing")


# -- channels and round lifecycle ------------------------------------------------------------


async def test_inbox_accept_and_outbox_claim_are_one_statement_each(store: Store) -> None:
    event = NewInboundEvent(channel="slack", key="Ev1", subject="U1", payload="{}")
    message = NewMessage(channel="slack", key="k", address="U1", method="chat.postMessage", body={})
    with statements(store) as accept_sql:
        async with store.transaction() as tx:
            assert await tx.events.accept(event, now=T0) is not None
        async with store.transaction() as tx:
            assert await tx.events.accept(event, now=T0) is None
    async with store.transaction() as tx:
        await tx.messages.enqueue([message], now=T0)
    with statements(store) as claim_sql:
        async with store.transaction() as tx:
            claimed = await tx.messages.claim(
                channel="slack", worker="w", now=T0, lease=timedelta(minutes=1), limit=10
            )
    assert [m.key for m in claimed] == ["k"]
    work = [s for s in accept_sql if not s.startswith(("BEGIN", "SELECT pg_advisory"))]
    assert [kind(s) for s in work] == ["INSERT INTO inbound_events"] * 2
    assert all("ON CONFLICT" in s for s in work)
    claims = [s for s in claim_sql if not s.startswith("BEGIN")]
    assert [kind(s) for s in claims] == ["UPDATE outbound_messages"]


async def test_redeeming_uses_the_code_before_reading_it(store: Store) -> None:
    _, ids = await seed_round(store, 1)
    await store.enrolments.issue(
        participant_id=ids[0], channel="telegram", code_hash="h1", expires_at=T0 + DAY, now=T0
    )

    with statements(store) as seen:
        await store.enrolments.redeem(channel="telegram", code_hash="h1", external_id="9", now=T0)
    with statements(store) as again:
        await store.enrolments.redeem(channel="telegram", code_hash="h1", external_id="8", now=T0)

    # Use the code, then link: look for a second account, unlink old holders, insert.
    assert [kind(s) for s in seen] == [
        "UPDATE enrolment_codes",
        "SELECT FROM participant_identities",
        "DELETE FROM participant_identities",
        "INSERT INTO participant_identities",
    ]
    assert [kind(s) for s in again] == ["UPDATE enrolment_codes", "SELECT FROM enrolment_codes"]
    assert await sql(store, "SELECT used_by_external_id FROM enrolment_codes") == [("9",)]


async def test_participations_take_two_queries_for_any_number_of_rounds(store: Store) -> None:
    round_id, ids = await seed_round(store, 2)
    version = await store.surveys.save_version(make_survey(), now=T0)
    for _ in range(3):
        await store.rounds.create_round(
            survey_version_id=version.id,
            audience=Audience("all"),
            opens_at=T0,
            closes_at=T0 + DAY,
            participant_ids=ids,
            now=T0,
        )

    with statements(store) as seen:
        found = await store.identities.participations(ids[0])

    assert len(found) == 4
    assert found[-1][0].id == round_id
    assert [kind(s) for s in seen] == ["SELECT FROM rounds", "SELECT FROM answers"]


async def test_close_round_takes_two_statements(store: Store) -> None:
    round_id, _ = await seed_round(store, 3)

    with statements(store) as seen:
        await store.rounds.close_round(round_id, now=T0)

    assert [kind(s) for s in seen] == ["UPDATE rounds", "UPDATE responses"]


async def test_a_batch_of_invitations_is_recorded_in_one_statement(store: Store) -> None:
    people = await seed(store)
    await make_round(store, people)
    due = await store.rounds.due_invitations(now=OPENS, limit=10)
    invited = [Invited(item.response_id, "telegram", OPENS + timedelta(days=1)) for item in due]

    with statements(store) as seen:
        await store.rounds.invited_many(invited, at=OPENS)

    assert store.database is not None
    postgres = store.database.dialect == "postgresql"
    expected = ["UPDATE responses"] * (1 if postgres else len(invited))
    assert [kind(s) for s in seen] == expected
    assert await store.rounds.due_invitations(now=OPENS, limit=10) == []


async def test_reminder_policies_are_stored_as_json_lists(store: Store) -> None:
    await seed_round(store, 1)
    [(raw, attribution)] = await sql(store, "SELECT reminder_policy, attribution FROM rounds")
    assert (json.loads(raw) if isinstance(raw, str) else raw) == [4320, 1440, 120]
    assert attribution == "delegation"


async def test_past_rounds_and_submissions_leave_the_due_indexes(store: Store) -> None:
    """The tick reads due work through partial indexes on ``invite_at`` and ``remind_at``;
    rows of closed rounds and submitted responses must leave them, or every tick would read
    every past round again."""
    people = await seed(store)
    open_round = await make_round(store, people)
    past = await make_round(store, people)
    for item in await store.rounds.due_invitations(now=OPENS, limit=10):
        await store.rounds.invited(
            item.response_id, channel="slack", at=OPENS, remind_at=OPENS + timedelta(days=1)
        )
    await progress(store, open_round.id, people[0].id, ResponseStatus.SUBMITTED)
    await store.rounds.close_round(past.id, now=OPENS)

    assert store.database is not None
    async with store.database.sessions() as session:
        planned = await session.execute(
            select(ResponseRow.round_id, func.count())
            .where(or_(ResponseRow.invite_at.is_not(None), ResponseRow.remind_at.is_not(None)))
            .group_by(ResponseRow.round_id)
        )
        assert dict(planned.tuples().all()) == {open_round.id: len(people) - 1}
