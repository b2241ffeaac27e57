"""The Alembic migrations build exactly the schema ``storage.tables`` describes, both ways."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage.database import create_engine, split_url
from storage.migrate import (
    MIGRATIONS,
    alembic_config,
    current_revision,
    current_revision_async,
    downgrade_async,
    head_revision,
    schema_differences_async,
    upgrade,
    upgrade_async,
)
from storage.tables import metadata


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def names(sync: Connection) -> set[str]:
                return set(inspect(sync).get_table_names())

            return await connection.run_sync(names)
    finally:
        await engine.dispose()


def test_the_migrations_are_one_numbered_chain() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    chain = [rev.revision for rev in script.walk_revisions()][::-1]  # base first

    assert script.get_heads() == [head_revision()]
    assert chain == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert chain[:2] == ["0001", "0002"]
    assert (MIGRATIONS / "versions" / "0001_initial.py").is_file()
    assert (MIGRATIONS / "versions" / "0002_channels_and_rounds.py").is_file()


async def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    url = empty_database_url
    assert await current_revision_async(url) is None

    await upgrade_async(url)

    assert await current_revision_async(url) == head_revision()
    assert await table_names(url) == set(metadata.tables) | {"alembic_version"}
    assert await schema_differences_async(url) == []

    await downgrade_async(url, "base")

    assert await current_revision_async(url) is None
    assert await table_names(url) == {"alembic_version"}

    await upgrade_async(url)

    assert await current_revision_async(url) == head_revision()
    assert await schema_differences_async(url) == []


async def test_the_schema_check_notices_drift(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP INDEX ix_answer_history_response_id"))
    finally:
        await engine.dispose()

    differences = await schema_differences_async(database_url)

    assert [(d[0], d[1].name) for d in differences] == [
        ("add_index", "ix_answer_history_response_id")
    ]


async def test_sync_functions_work_even_inside_a_running_loop(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None
    upgrade(empty_database_url)
    assert current_revision(empty_database_url) == head_revision()


async def test_upgrading_twice_is_harmless(database_url: str) -> None:
    await upgrade_async(database_url)
    assert await current_revision_async(database_url) == head_revision()


async def test_env_py_opens_its_own_engine_without_a_connection(empty_database_url: str) -> None:
    # The path the ``alembic`` command line takes: only a URL, env.py runs its own loop.
    await asyncio.to_thread(command.upgrade, alembic_config(empty_database_url), "head")

    assert await current_revision_async(empty_database_url) == head_revision()
    assert await schema_differences_async(empty_database_url) == []


def test_offline_mode_writes_the_sql(capsys: pytest.CaptureFixture[str]) -> None:
    command.upgrade(alembic_config("sqlite+aiosqlite:///unused.db"), "head", sql=True)

    out = capsys.readouterr().out
    created = set(re.findall(r"CREATE TABLE (\w+)", out))
    assert created == set(metadata.tables) | {"alembic_version"}
    assert "CREATE INDEX ix_responses_round_id_status" in out


async def test_upgrade_creates_a_missing_postgresql_schema(empty_database_url: str) -> None:
    url, schema = split_url(empty_database_url)
    if schema is None:  # SQLite has no schemas to create: asking for one is an error
        with pytest.raises(ValueError, match="only supported on PostgreSQL"):
            await upgrade_async(empty_database_url, schema="elsewhere")
        return
    fresh = f"{schema}_fresh"
    admin = create_engine(url)
    try:
        await upgrade_async(url.render_as_string(hide_password=False), schema=fresh)
        async with admin.connect() as connection:
            tables = await connection.scalar(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": fresh}
            )
        assert tables == len(metadata.tables) + 1
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{fresh}" CASCADE'))
        await admin.dispose()


async def test_0002_gives_existing_rounds_the_defaults_and_downgrades_keeping_data(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await upgrade_async(url, "0001")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO survey_versions (id, survey_id, version, content_hash,"
                    " definition, created_at) VALUES (1, 's', '1', 'h', '{}', CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO rounds (id, survey_version_id, survey_id, audience, opens_at,"
                    " closes_at, created_at) VALUES (1, 1, 's', 'all', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )

        await upgrade_async(url, "0002")

        async with engine.connect() as connection:
            row = (
                await connection.execute(text("SELECT reminder_policy, attribution FROM rounds"))
            ).one()
            policy = json.loads(row[0]) if isinstance(row[0], str) else row[0]
            assert (policy, row[1]) == ([4320, 1440, 120], "delegation")
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE rounds SET attribution = 'everyone'"))

        await downgrade_async(url, "0001")

        assert await current_revision_async(url) == "0001"
        async with engine.connect() as connection:
            kept = (await connection.execute(text("SELECT id, audience FROM rounds"))).all()
            assert [tuple(row) for row in kept] == [(1, "all")]

            def columns(sync: Connection) -> dict[str, set[str]]:
                inspector = inspect(sync)
                return {
                    table: {column["name"] for column in inspector.get_columns(table)}
                    for table in ("rounds", "participant_identities")
                }

            found = await connection.run_sync(columns)
        assert "attribution" not in found["rounds"]
        assert "reminder_policy" not in found["rounds"]
        assert "address" not in found["participant_identities"]
    finally:
        await engine.dispose()


async def test_0005_keeps_existing_events_and_messages_and_downgrades_keeping_them(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    await upgrade_async(url, "0004")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO inbound_events (id, channel, key, payload, received_at)"
                    " VALUES (1, 'slack', 'Ev01', '{}', '2026-03-02 09:00:00')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO outbound_messages (id, channel, key, address, message_id, status,"
                    " updated_at) VALUES (1, 'slack', 'invite:1:2', 'D0ANA', '1741.1', 'sent',"
                    " '2026-03-02 09:00:00'), (2, 'slack', 'digest:1', NULL, NULL, 'claimed',"
                    " '2026-03-02 09:00:00')"
                )
            )

        await upgrade_async(url, "0005")

        async with engine.connect() as connection:
            event = (
                await connection.execute(
                    text(
                        "SELECT subject, attempts, available_at = received_at, claimed_by"
                        " FROM inbound_events"
                    )
                )
            ).one()
            assert tuple(event) == ("", 0, True, None)
            messages = (
                await connection.execute(
                    text(
                        "SELECT key, status, address, method, lane, attempts"
                        " FROM outbound_messages ORDER BY id"
                    )
                )
            ).all()
            assert [tuple(row) for row in messages] == [
                ("invite:1:2", "sent", "D0ANA", None, 1, 0),
                ("digest:1", "claimed", None, None, 1, 0),
            ]
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO outbound_messages (id, channel, key, address, method, status,"
                    " updated_at) VALUES (3, 'slack', 'reply:1:0', 'D0ANA', 'chat.postMessage',"
                    " 'pending', '2026-03-02 09:00:00')"
                )
            )
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE outbound_messages SET status = 'lost'"))

        await downgrade_async(url, "0004")

        assert await current_revision_async(url) == "0004"
        async with engine.connect() as connection:
            kept = (
                await connection.execute(
                    text("SELECT id, status FROM outbound_messages ORDER BY id")
                )
            ).all()
            assert [tuple(row) for row in kept] == [(1, "sent"), (2, "claimed")]
            events = (await connection.execute(text("SELECT id, key FROM inbound_events"))).all()
            assert [tuple(row) for row in events] == [(1, "Ev01")]
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE outbound_messages SET status = 'pending'"))
        assert "live_screens" not in await table_names(url)
    finally:
        await engine.dispose()
