"""A round's digest figures, counted by the database: :class:`SqlAlchemyDigestQueries`.

``digest_data`` runs six aggregate queries in one read transaction, whatever the size of the
round; the answers are read once, grouped by question and value (scale points, choice codes
and answered counts all come from that pass). No query returns one row per answer: the
comments come at most ``plan.quotes`` per question (the newest, ``ROW_NUMBER()`` over each
question), each row carrying its question's total (``COUNT(*)`` over the same window).
Answer values are JSON: text on SQLite (read with ``json_extract``), ``json`` on PostgreSQL
(read with ``#>>``); a multiple choice's array is split into its codes after grouping.
Submissions are counted by UTC hour.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from storage.tables import (
    AnswerRow,
    BallotAnswerRow,
    BallotRow,
    DelegationRow,
    DigestRunRow,
    ParticipantRow,
    ResponseRow,
    RoundRow,
)
from surveys.digest import (
    COUNTED_STATUSES,
    ChoiceCount,
    CommentRow,
    DigestData,
    DigestFigures,
    DigestPlan,
    DigestRun,
    HourCount,
    PendingPerson,
    QuestionCount,
    ScaleCount,
    StatusCount,
)
from surveys.errors import NotFoundError
from surveys.records import Attribution, ResponseStatus

Sessions = async_sessionmaker[AsyncSession]

_COUNTED = [status.value for status in COUNTED_STATUSES]


Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def _json_text(dialect: str, value: Column) -> ColumnElement[Any]:
    """A JSON scalar (string or number) as SQL text/number, without its JSON quoting."""
    if dialect == "postgresql":
        return value.op("#>>")(literal_column("'{}'"))
    return func.json_extract(value, literal_column("'$'"))


def _number(text: Any) -> float | None:
    """A scale point as the database returns it (a number, or its text on PostgreSQL)."""
    if text is None:
        return None
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _elements(text: Any) -> list[str]:
    """The codes of a multiple choice answer, from its JSON array's text."""
    try:
        codes = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return []
    return [str(code) for code in codes] if isinstance(codes, list) else []


def _utc_hour(dialect: str, moment: Column) -> ColumnElement[Any]:
    """The start of the UTC hour of a stored time (SQLite keeps naive UTC text)."""
    if dialect == "postgresql":
        return func.date_trunc(
            literal_column("'hour'"), func.timezone(literal_column("'UTC'"), moment)
        )
    return func.strftime(literal_column("'%Y-%m-%d %H:00:00'"), moment)


def _as_hour(value: datetime | str) -> datetime:
    """An hour as the database returns it (naive UTC, or text on SQLite), made aware."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class _Answers:
    """Where a digest counts answers from: responses' answers (named and delegation rounds),
    or an anonymous round's ballots, which name nobody and are all counted."""

    question_id: Any
    value: Any
    joined: Any
    """``select(...)`` of the answer columns made from its table (and what it joins)."""
    counted: Any
    """WHERE clauses of the answers counted, for a tuple of question ids."""


def _response_answers(scope: ColumnElement[bool]) -> _Answers:
    def joined(*columns: Any) -> Select[Any]:
        return (
            select(*columns)
            .select_from(AnswerRow)
            .join(ResponseRow, ResponseRow.id == AnswerRow.response_id)
        )

    def counted(question_ids: tuple[str, ...]) -> list[Any]:
        return [
            scope,
            ResponseRow.status.in_(_COUNTED),
            AnswerRow.question_id.in_(question_ids),
            AnswerRow.value.is_not(None),
        ]

    return _Answers(AnswerRow.question_id, AnswerRow.value, joined, counted)


def _ballot_answers(round_id: int) -> _Answers:
    def joined(*columns: Any) -> Select[Any]:
        return (
            select(*columns)
            .select_from(BallotAnswerRow)
            .join(BallotRow, BallotRow.id == BallotAnswerRow.ballot_id)
        )

    def counted(question_ids: tuple[str, ...]) -> list[Any]:
        return [
            BallotRow.round_id == round_id,
            BallotAnswerRow.question_id.in_(question_ids),
            BallotAnswerRow.value.is_not(None),
        ]

    return _Answers(BallotAnswerRow.question_id, BallotAnswerRow.value, joined, counted)


def _of_round(round_id: int, delegations: Collection[str] | None) -> ColumnElement[bool]:
    """The responses a digest counts: the round's, of ``delegations`` only when given."""
    # A consolidated round's delegates who share their delegation's response are not counted.
    own = and_(ResponseRow.round_id == round_id, ResponseRow.holder_id.is_(None))
    if delegations is None:
        return own
    members = select(ParticipantRow.id).where(ParticipantRow.delegation_code.in_(delegations))
    return and_(own, ResponseRow.participant_id.in_(members))


class SqlAlchemyDigestQueries:
    """Digest counts and digest runs over the SQL store."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def digest_data(
        self,
        round_id: int,
        *,
        plan: DigestPlan,
        since: datetime | None,
        delegations: Collection[str] | None = None,
    ) -> DigestData:
        async with self._sessions() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                # One snapshot for every query, so the figures agree with one another.
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            round_ = await session.get(RoundRow, round_id)
            if round_ is None:
                raise NotFoundError("round", round_id)
            scope = _of_round(round_id, delegations)
            statuses = await self._statuses(session, scope)
            if round_.attribution == Attribution.ANONYMOUS.value:
                # Ballots name no delegation: ``delegations`` limits completion, not answers
                # (the use case lets a scoped organiser have them only for a whole round).
                source = _ballot_answers(round_id)
                texts, quoted_of = await self._ballot_comments(
                    session, dialect, source, plan, round_
                )
            else:
                source = _response_answers(scope)
                texts, quoted_of = await self._comments(session, dialect, scope, plan, since)
            other = set(plan.other)
            scale, choices, answered = await self._counts(session, dialect, source, plan)
            data = DigestData(
                statuses=statuses,
                pending=await self._pending(session, scope),
                scale=scale,
                choices=choices,
                answered=answered,
                comments=tuple(row for row in texts if row.question_id not in other),
                others=tuple(row for row in texts if row.question_id in other),
                quoted_of=quoted_of,
                submissions_by_hour=await self._submissions(session, dialect, scope),
                first_answers_by_hour=await self._first_answers(session, dialect, scope),
            )
        return data.canonical()

    # -- response rates ---------------------------------------------------------------------

    async def _statuses(
        self, session: AsyncSession, scope: ColumnElement[bool]
    ) -> tuple[StatusCount, ...]:
        stmt = (
            select(
                ParticipantRow.delegation_code,
                DelegationRow.name,
                DelegationRow.region,
                ResponseRow.status,
                func.count().label("n"),
            )
            .select_from(ResponseRow)
            .join(ParticipantRow, ParticipantRow.id == ResponseRow.participant_id)
            .outerjoin(DelegationRow, DelegationRow.code == ParticipantRow.delegation_code)
            .where(scope)
            .group_by(
                ParticipantRow.delegation_code,
                DelegationRow.name,
                DelegationRow.region,
                ResponseRow.status,
            )
        )
        return tuple(
            StatusCount(
                delegation=code,
                delegation_name=name,
                region=region,
                status=ResponseStatus(status),
                count=n,
            )
            for code, name, region, status, n in (await session.execute(stmt)).tuples()
        )

    async def _pending(
        self, session: AsyncSession, scope: ColumnElement[bool]
    ) -> tuple[PendingPerson, ...]:
        stmt = (
            select(
                ParticipantRow.id,
                ParticipantRow.name,
                ParticipantRow.delegation_code,
                ResponseRow.status,
            )
            .select_from(ResponseRow)
            .join(ParticipantRow, ParticipantRow.id == ResponseRow.participant_id)
            .where(
                scope,
                ResponseRow.status != ResponseStatus.SUBMITTED.value,
            )
        )
        return tuple(
            PendingPerson(
                participant_id=pid, name=name, delegation=code, status=ResponseStatus(status)
            )
            for pid, name, code, status in (await session.execute(stmt)).tuples()
        )

    # -- answers ----------------------------------------------------------------------------

    @staticmethod
    def _counted_answers(scope: ColumnElement[bool], question_ids: tuple[str, ...]) -> list[Any]:
        """WHERE clauses: answers given (not skipped) to ``question_ids`` in counted responses."""
        return [
            scope,
            ResponseRow.status.in_(_COUNTED),
            AnswerRow.question_id.in_(question_ids),
            AnswerRow.value.is_not(None),
        ]

    def _answers_select(self, *columns: Any) -> Select[Any]:
        return (
            select(*columns)
            .select_from(AnswerRow)
            .join(ResponseRow, ResponseRow.id == AnswerRow.response_id)
        )

    async def _counts(
        self, session: AsyncSession, dialect: str, source: _Answers, plan: DigestPlan
    ) -> tuple[tuple[ScaleCount, ...], tuple[ChoiceCount, ...], tuple[QuestionCount, ...]]:
        """Scale points, choice codes and answered counts, from one pass over the answers.

        The answers are grouped by question and value (as text: a number, a code, or a
        multiple choice's JSON array), so a round of a million answers is read once, not once
        per kind of figure; the rows are as many as the distinct values, and each array is
        split into its codes here.
        """
        if not plan.counted:
            return (), (), ()
        value = _json_text(dialect, source.value).label("value")
        stmt = (
            source.joined(source.question_id, value, func.count().label("n"))
            .where(*source.counted(plan.counted))
            .group_by(source.question_id, value)
        )
        scale, single, multiple = set(plan.scale), set(plan.single), set(plan.multiple)
        points: dict[tuple[str, float], int] = {}
        codes: dict[tuple[str, str], int] = {}
        answered: dict[str, int] = {}
        for qid, text, n in (await session.execute(stmt)).tuples():
            answered[qid] = answered.get(qid, 0) + n
            if qid in scale:
                point = _number(text)
                if point is not None:
                    points[qid, point] = points.get((qid, point), 0) + n
            elif qid in single:
                codes[qid, str(text)] = codes.get((qid, str(text)), 0) + n
            elif qid in multiple:
                for code in _elements(text):
                    codes[qid, code] = codes.get((qid, code), 0) + n
        return (
            tuple(
                ScaleCount(question_id=qid, value=point, count=n)
                for (qid, point), n in points.items()
            ),
            tuple(
                ChoiceCount(question_id=qid, code=code, count=n) for (qid, code), n in codes.items()
            ),
            tuple(QuestionCount(question_id=qid, count=n) for qid, n in answered.items()),
        )

    async def _ballot_comments(
        self,
        session: AsyncSession,
        dialect: str,
        source: _Answers,
        plan: DigestPlan,
        round_: RoundRow,
    ) -> tuple[tuple[CommentRow, ...], tuple[QuestionCount, ...]]:
        """An anonymous round's comments and "other" answers, ``plan.quotes`` per question by
        text (a ballot has no time, so none is "new"), with each question's total; they carry
        no name, no delegation, and no response id."""
        if not plan.text and not plan.other:
            return (), ()
        text = _json_text(dialect, source.value)
        # By code point on both databases, as the in-memory store sorts.
        by_text = text.collate("C") if dialect == "postgresql" else text
        ranked = (
            source.joined(
                source.question_id.label("question_id"),
                text.label("text"),
                func.row_number()
                .over(partition_by=source.question_id, order_by=by_text)
                .label("rank"),
                func.count().over(partition_by=source.question_id).label("total"),
            )
            .where(*source.counted(plan.text + plan.other))
            .subquery("ranked")
        )
        stmt = select(ranked.c.question_id, ranked.c.text, ranked.c.total).where(
            ranked.c.rank <= plan.quotes
        )
        rows = (await session.execute(stmt)).all()
        return (
            tuple(
                CommentRow(
                    response_id=0,
                    question_id=row.question_id,
                    text=str(row.text),
                    participant_name="",
                    delegation=None,
                    delegation_name=None,
                    answered_at=round_.opens_at,
                )
                for row in rows
            ),
            _totals(rows),
        )

    async def _comments(
        self,
        session: AsyncSession,
        dialect: str,
        scope: ColumnElement[bool],
        plan: DigestPlan,
        since: datetime | None,
    ) -> tuple[tuple[CommentRow, ...], tuple[QuestionCount, ...]]:
        """New comments (``plan.text``) and every "other" answer (``plan.other``), in one query:
        the newest ``plan.quotes`` of each question, and how many each has in all."""
        if not plan.text and not plan.other:
            return (), ()
        where = self._counted_answers(scope, plan.text + plan.other)
        if since is not None:
            # New: given or changed since, or counted since (submitted, or made partial when
            # the round closed), so that no comment is missed between two digests. "Other"
            # answers belong with their choice counts: all of them, whenever given.
            where.append(
                or_(
                    AnswerRow.question_id.in_(plan.other),
                    AnswerRow.answered_at > since,
                    ResponseRow.submitted_at > since,
                    and_(
                        ResponseRow.status == ResponseStatus.PARTIAL.value,
                        RoundRow.closed_at > since,
                    ),
                )
            )
        # Ranked over the answers alone; names are joined to the few rows kept.
        ranked = (
            self._answers_select(
                AnswerRow.response_id.label("response_id"),
                AnswerRow.question_id.label("question_id"),
                _json_text(dialect, AnswerRow.value).label("text"),
                AnswerRow.answered_at.label("answered_at"),
                ResponseRow.participant_id.label("participant_id"),
                func.row_number()
                .over(
                    partition_by=AnswerRow.question_id,
                    order_by=(AnswerRow.answered_at.desc(), AnswerRow.response_id.desc()),
                )
                .label("rank"),
                func.count().over(partition_by=AnswerRow.question_id).label("total"),
            )
            .join(RoundRow, RoundRow.id == ResponseRow.round_id)
            .where(*where)
            .subquery("ranked")
        )
        stmt = (
            select(
                ranked.c.response_id,
                ranked.c.question_id,
                ranked.c.text,
                ranked.c.answered_at,
                ranked.c.total,
                ParticipantRow.name,
                ParticipantRow.delegation_code,
                DelegationRow.name.label("delegation_name"),
            )
            .select_from(ranked)
            .join(ParticipantRow, ParticipantRow.id == ranked.c.participant_id)
            .outerjoin(DelegationRow, DelegationRow.code == ParticipantRow.delegation_code)
            .where(ranked.c.rank <= plan.quotes)
        )
        rows = (await session.execute(stmt)).all()
        return (
            tuple(
                CommentRow(
                    response_id=row.response_id,
                    question_id=row.question_id,
                    text=str(row.text),
                    participant_name=row.name,
                    delegation=row.delegation_code,
                    delegation_name=row.delegation_name,
                    answered_at=row.answered_at,
                )
                for row in rows
            ),
            _totals(rows),
        )

    # -- over time ----------------------------------------------------------------------------

    async def _submissions(
        self, session: AsyncSession, dialect: str, scope: ColumnElement[bool]
    ) -> tuple[HourCount, ...]:
        hour = _utc_hour(dialect, ResponseRow.submitted_at).label("hour")
        stmt = (
            select(hour, func.count().label("n"))
            .where(
                scope,
                ResponseRow.status == ResponseStatus.SUBMITTED.value,
                ResponseRow.submitted_at.is_not(None),
            )
            .group_by(hour)
        )
        return tuple(
            HourCount(hour=_as_hour(value), count=n)
            for value, n in (await session.execute(stmt)).tuples()
        )

    async def _first_answers(
        self, session: AsyncSession, dialect: str, scope: ColumnElement[bool]
    ) -> tuple[HourCount, ...]:
        first = (
            select(func.min(ResponseRow.submitted_at).label("first"))
            .select_from(ResponseRow)
            .join(ParticipantRow, ParticipantRow.id == ResponseRow.participant_id)
            .where(
                scope,
                ResponseRow.status == ResponseStatus.SUBMITTED.value,
                ResponseRow.submitted_at.is_not(None),
                ParticipantRow.delegation_code.is_not(None),
            )
            .group_by(ParticipantRow.delegation_code)
            .subquery("first_answers")
        )
        hour = _utc_hour(dialect, first.c.first).label("hour")
        stmt = select(hour, func.count().label("n")).select_from(first).group_by(hour)
        return tuple(
            HourCount(hour=_as_hour(value), count=n)
            for value, n in (await session.execute(stmt)).tuples()
        )

    # -- runs ---------------------------------------------------------------------------------

    async def last_run(self, round_id: int) -> DigestRun | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(DigestRunRow)
                .where(DigestRunRow.round_id == round_id)
                .order_by(DigestRunRow.id.desc())
                .limit(1)
            )
        return None if row is None else _run(row)

    async def record_run(
        self, round_id: int, *, figures: DigestFigures, now: datetime
    ) -> DigestRun:
        async with self._sessions.begin() as session:
            if await session.get(RoundRow, round_id) is None:
                raise NotFoundError("round", round_id)
            row = DigestRunRow(
                round_id=round_id, created_at=now, figures=figures.model_dump(mode="json")
            )
            session.add(row)
            await session.flush()
        return _run(row)


def _totals(rows: Sequence[Row[Any]]) -> tuple[QuestionCount, ...]:
    """Each question's total, as every one of its ranked rows carries it."""
    totals = {row.question_id: int(row.total) for row in rows}
    return tuple(QuestionCount(question_id=q, count=n) for q, n in totals.items())


def _run(row: DigestRunRow) -> DigestRun:
    return DigestRun(
        id=row.id,
        round_id=row.round_id,
        created_at=row.created_at,
        figures=DigestFigures.model_validate(row.figures),
    )


__all__ = ["SqlAlchemyDigestQueries"]
