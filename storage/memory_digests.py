"""The in-memory twin of :class:`storage.digests.SqlAlchemyDigestQueries`.

Counts the same things from :class:`storage.memory.InMemoryStore`'s dicts (the contract tests
run the same cases on both), for previews, demos and fast tests. Standard library only.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime

from storage.memory import InMemoryStore
from surveys.definition import AnswerValue
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
from surveys.records import AnswerChange, Attribution, ResponseStatus, utc


class InMemoryDigestQueries:
    def __init__(self, store: InMemoryStore) -> None:
        self._rounds = store.rounds
        self._responses = store.responses
        self._runs: list[DigestRun] = []
        self._ids = itertools.count(1)

    async def digest_data(
        self,
        round_id: int,
        *,
        plan: DigestPlan,
        since: datetime | None,
        delegations: Collection[str] | None = None,
    ) -> DigestData:
        pairs = self._rounds.holders_of(round_id)  # raises NotFoundError
        if delegations is not None:
            pairs = [pair for pair in pairs if pair[0].delegation in delegations]
        round_ = self._rounds.rounds[round_id]
        delegations = self._rounds.roster.delegations

        statuses: Counter[tuple[str | None, ResponseStatus]] = Counter()
        pending: list[PendingPerson] = []
        scale: Counter[tuple[str, float]] = Counter()
        choices: Counter[tuple[str, str]] = Counter()
        answered: Counter[str] = Counter()
        comments: list[CommentRow] = []
        others: list[CommentRow] = []
        other_ids = set(plan.other)
        submitted_hours: Counter[datetime] = Counter()
        first_answer: dict[str, datetime] = {}
        counted_ids = set(plan.counted)
        anonymous = round_.attribution is Attribution.ANONYMOUS

        def tally(question_id: str, value: object) -> bool:
            """Count one stored answer; True if it is a text (or "other") answer to quote."""
            if question_id in counted_ids:
                answered[question_id] += 1
            if question_id in plan.scale and isinstance(value, int | float):
                scale[(question_id, float(value))] += 1
            elif question_id in plan.single:
                choices[(question_id, str(value))] += 1
            elif question_id in plan.multiple and isinstance(value, list):
                for item in value:
                    choices[(question_id, str(item))] += 1
            else:
                return question_id in plan.text or question_id in other_ids
            return False

        for participant, stored in pairs:
            response = stored.response
            code = participant.delegation
            delegation = delegations.get(code or "")
            statuses[(code, response.status)] += 1
            if response.status is not ResponseStatus.SUBMITTED:
                pending.append(
                    PendingPerson(
                        participant_id=participant.id,
                        name=participant.name,
                        delegation=code,
                        status=response.status,
                    )
                )
            elif response.submitted_at is not None:
                submitted_hours[_hour(response.submitted_at)] += 1
                if code is not None:
                    earlier = first_answer.get(code)
                    if earlier is None or response.submitted_at < earlier:
                        first_answer[code] = response.submitted_at
            if response.status not in COUNTED_STATUSES or anonymous:
                continue
            answered_at = _answered_at(stored.history)
            for question_id, value in stored.answers.items():
                if value is None or not tally(question_id, value):
                    continue
                when = answered_at.get(question_id, response.updated_at)
                if when is None:  # pragma: no cover - a stored answer has a history
                    continue
                if (
                    question_id in plan.text
                    and since is not None
                    and not (
                        when > since
                        or (response.submitted_at is not None and response.submitted_at > since)
                        or (
                            response.status is ResponseStatus.PARTIAL
                            and round_.closed_at is not None
                            and round_.closed_at > since
                        )
                    )
                ):
                    continue
                (others if question_id in other_ids else comments).append(
                    CommentRow(
                        response_id=response.id,
                        question_id=question_id,
                        text=_text(value),
                        participant_name=participant.name,
                        delegation=code,
                        delegation_name=delegation.name if delegation else None,
                        answered_at=when,
                    )
                )

        # An anonymous round counts its ballots (all of the round's: they name no delegation),
        # as the SQL store does; its comments have no name and no time of their own.
        ballots = self._responses.ballot_box.values() if anonymous else ()
        for ballot in ballots:
            if ballot.round_id != round_id:
                continue
            for question_id, value in ballot.answers.items():
                if value is None or not tally(question_id, value):
                    continue
                (others if question_id in other_ids else comments).append(
                    CommentRow(
                        response_id=0,
                        question_id=question_id,
                        text=_text(value),
                        participant_name="",
                        delegation=None,
                        delegation_name=None,
                        answered_at=round_.opens_at,
                    )
                )

        # At most ``plan.quotes`` per question, as the SQL store ranks them: the newest (then
        # the highest response id), or an anonymous round's by text; and each one's total.
        by_question: dict[str, list[CommentRow]] = {}
        for row in comments + others:
            by_question.setdefault(row.question_id, []).append(row)
        kept: list[CommentRow] = []
        for rows in by_question.values():
            if anonymous:
                rows.sort(key=lambda row: row.text)
            else:
                rows.sort(key=lambda row: (row.answered_at, row.response_id), reverse=True)
            kept += rows[: plan.quotes]

        def delegation_field(code: str | None, field: str) -> str | None:
            found = delegations.get(code or "")
            return None if found is None else str(getattr(found, field))

        return DigestData(
            statuses=tuple(
                StatusCount(
                    delegation=code,
                    delegation_name=delegation_field(code, "name"),
                    region=delegation_field(code, "region"),
                    status=status,
                    count=n,
                )
                for (code, status), n in statuses.items()
            ),
            pending=tuple(pending),
            scale=tuple(
                ScaleCount(question_id=qid, value=value, count=n)
                for (qid, value), n in scale.items()
            ),
            choices=tuple(
                ChoiceCount(question_id=qid, code=code, count=n)
                for (qid, code), n in choices.items()
            ),
            answered=tuple(QuestionCount(question_id=q, count=n) for q, n in answered.items()),
            comments=tuple(row for row in kept if row.question_id not in other_ids),
            others=tuple(row for row in kept if row.question_id in other_ids),
            quoted_of=tuple(
                QuestionCount(question_id=q, count=len(rows)) for q, rows in by_question.items()
            ),
            submissions_by_hour=tuple(
                HourCount(hour=hour, count=n) for hour, n in submitted_hours.items()
            ),
            first_answers_by_hour=tuple(
                HourCount(hour=hour, count=n)
                for hour, n in Counter(_hour(first) for first in first_answer.values()).items()
            ),
        ).canonical()

    async def last_run(self, round_id: int) -> DigestRun | None:
        runs = [run for run in self._runs if run.round_id == round_id]
        return runs[-1] if runs else None

    async def record_run(
        self, round_id: int, *, figures: DigestFigures, now: datetime
    ) -> DigestRun:
        await self._rounds.get_round(round_id)  # raises NotFoundError
        run = DigestRun(id=next(self._ids), round_id=round_id, created_at=utc(now), figures=figures)
        self._runs.append(run)
        return run


def _hour(moment: datetime) -> datetime:
    return utc(moment).replace(minute=0, second=0, microsecond=0)


def _answered_at(history: Sequence[AnswerChange]) -> dict[str, datetime]:
    """When each question got its current answer: its last change, as the SQL store keeps it."""
    return {change.question_id: change.at for change in history}


def _text(value: AnswerValue) -> str:
    return value if isinstance(value, str) else str(value)


__all__ = ["InMemoryDigestQueries"]
