"""``INSERT .. ON CONFLICT`` statements as SQL text, built once and compiled once.

SQLAlchemy gives a dialect's ``ON CONFLICT`` insert no cache key, so it compiles it anew on
every execution, which on the answer path cost more than running it. The SQL below reads the
same on SQLite and PostgreSQL; its parameters carry the columns' types, so values are bound
as the ORM would bind them (JSON, UTC timestamps). Executed with a list of rows it runs as an
executemany, compiled once too.

Example::

    UPSERT = upsert(AnswerRow.__table__, conflict=("response_id", "question_id"),
                    update=("value", "answered_at"))
    await session.execute(UPSERT, [{"response_id": 1, "question_id": "q1", ...}])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, TextClause, bindparam, text


def upsert(
    table: Table,
    *,
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    returning: Sequence[str] = (),
    rows: int = 1,
    then: str | None = None,
    then_reads: Sequence[str] = (),
    then_types: Mapping[str, Any] | None = None,
) -> Any:
    """``INSERT INTO table (columns) VALUES (:column, ..) ON CONFLICT (conflict)`` then
    ``DO UPDATE SET column = excluded.column`` for ``update`` (every column not in
    ``conflict`` when ``update`` is None and ``columns`` covers the table) or, for an empty
    ``update``, ``DO NOTHING``; ``RETURNING`` the ``returning`` columns.

    With ``rows`` above 1 it inserts that many rows in one statement, their parameters named
    ``column_0``, ``column_1``.. (see :func:`numbered`): what an executemany cannot do when
    the ids inserted must come back.

    ``then`` (PostgreSQL only) is a data-modifying statement run in the same statement, after
    the insert, reading the rows it inserted as ``inserted`` (their ``returning`` and
    ``then_reads`` columns): ``WITH inserted AS (INSERT .. RETURNING ..), then_ AS (..)
    SELECT returning FROM inserted``. It sees the table as it was before the insert; its own
    parameters (those that are not the table's columns) are typed by ``then_types``."""
    names = list(columns) if columns is not None else [c.name for c in table.columns]
    if update is None:
        update = [name for name in names if name not in conflict]
    values = ", ".join(
        "(" + ", ".join(f":{_mark(name, n, rows)}" for name in names) + ")" for n in range(rows)
    )
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {values}"
        f" ON CONFLICT ({', '.join(conflict)})"
    )
    if update:
        sql += " DO UPDATE SET " + ", ".join(f"{name} = excluded.{name}" for name in update)
    else:
        sql += " DO NOTHING"
    returned = [*returning, *(name for name in then_reads if name not in returning)]
    if returned:
        sql += f" RETURNING {', '.join(returned)}"
    if then is not None:
        selected = ", ".join(returning)
        sql = f"WITH inserted AS ({sql}), then_ AS ({then}) SELECT {selected} FROM inserted"
    statement: TextClause = text(sql).bindparams(
        *(
            bindparam(_mark(name, n, rows), type_=table.c[name].type)
            for name in names
            for n in range(rows)
        ),
        *(bindparam(name, type_=kind) for name, kind in (then_types or {}).items()),
    )
    if returning:
        return statement.columns(*(table.c[name] for name in returning))
    return statement


def numbered(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The parameters of an :func:`upsert` of ``len(rows)`` rows: each row's values, their
    names numbered when there are several."""
    return {
        _mark(name, n, len(rows)): value
        for n, row in enumerate(rows)
        for name, value in row.items()
    }


def _mark(name: str, n: int, rows: int) -> str:
    """The parameter of column ``name`` in row ``n`` of a ``rows``-row insert."""
    return name if rows == 1 else f"{name}_{n}"


__all__ = ["numbered", "upsert"]
