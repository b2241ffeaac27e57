"""Data rights, once for every channel and the CLI: what is kept about a person, their
erasure, allowing a new channel account, and the retention purge.

Showing, erasing and relinking are organiser actions (an organiser scoped to regions reaches
only the people of those regions' delegations; organisers, of no delegation, only a full
organiser reaches), each audited in the same transaction
(showing too: it takes a person's data out). The purge is the scheduler's, with no actor.

Example::

    data = await show_participant(store, actor, 7, now=now)
    erased = await erase_participant(store, actor, 7, now=now)

A scoped organiser asking about someone beyond their regions and one asking about an id
nobody holds get the same refusal (:class:`~surveys.errors.OutOfScopeError` naming
``participant N``), so that the roster of other regions cannot be probed id by id.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from surveys.errors import NotFoundError, OutOfScopeError, RequestError
from surveys.ports import Repositories
from surveys.records import ID_LIMIT, Channel, Identity, Participant
from surveys.rights import (
    Erasure,
    ErasureRequest,
    PersonalData,
    Purged,
    free_text_questions,
    participant_target,
)
from surveys.service.actors import Actor, require_organiser

RETENTION_LIMIT_DAYS = 36_500
"""The longest retention (a hundred years): a larger number is a typo."""


def _existing(participant_id: int) -> int:
    """An id no store can hold names nobody: said as not found, not as a database error."""
    if not 1 <= participant_id <= ID_LIMIT:
        raise NotFoundError("participant", participant_id)
    return participant_id


def _unreachable(actor: Actor, participant_id: int, action: str) -> OutOfScopeError:
    """The one refusal a scoped organiser gets for a participant they may not reach, whether
    that person is of another region or does not exist: the answer tells nothing of who is
    on the roster beyond their regions."""
    return OutOfScopeError(
        actor.name, action, outside=[participant_target(participant_id)], regions=actor.regions
    )


async def _within_scope(
    tx: Repositories, actor: Actor, participant_id: int, action: str
) -> Participant:
    """The participant, if ``action`` may reach them. A scoped organiser reaches the delegates
    of delegations in their regions only, not anyone of no delegation (organisers), whom only
    a full organiser may reach; anyone else, and a participant who does not exist, gets the
    same refusal. An unscoped organiser is told when there is no such participant."""
    try:
        participant = await tx.roster.get_participant(_existing(participant_id))
    except NotFoundError:
        if actor.scoped:
            raise _unreachable(actor, participant_id, action) from None
        raise
    if actor.scoped:
        delegations = {d.code: d for d in await tx.roster.list_delegations()}
        if not actor.covers(delegations.get(participant.delegation or "")):
            raise _unreachable(actor, participant_id, action)
    return participant


async def erasure_subject(store: Repositories, actor: Actor, participant_id: int) -> Participant:
    """Whom ``erase_participant`` would erase, to name them before asking for confirmation
    (the same refusals as the erasure itself; nothing is recorded, nothing is changed)."""
    action = "erase a participant's data"
    require_organiser(actor, action)
    async with store.transaction() as tx:
        return await _within_scope(tx, actor, participant_id, action)


async def show_participant(
    store: Repositories, actor: Actor, participant_id: int, *, now: datetime
) -> PersonalData:
    """Everything stored about a participant (organisers only; recorded in the audit log)."""
    action = "see what is stored about a participant"
    require_organiser(actor, action)
    async with store.transaction() as tx:
        await _within_scope(tx, actor, participant_id, action)
        data = await tx.personal.about(_existing(participant_id))
        await tx.audit.record(
            actor=actor.name,
            action="participant.show",
            target=participant_target(participant_id),
            details={"via": actor.channel},
            now=now,
        )
    return data


async def erase_participant(
    store: Repositories, actor: Actor, participant_id: int, *, now: datetime
) -> Erasure:
    """Remove a participant's personal data (see :mod:`surveys.rights` for what stays), and
    record the erasure: who, when, and how much of each kind was removed (no personal data)."""
    action = "erase a participant's data"
    require_organiser(actor, action)
    async with store.transaction() as tx:
        await _within_scope(tx, actor, participant_id, action)
        free_text: dict[int, frozenset[str]] = {}
        for round_, response in await tx.identities.participations(participant_id):
            survey = (await tx.surveys.get_version(round_.survey_version_id)).definition
            free_text[response.id] = free_text_questions(survey)
        erased = await tx.personal.erase(
            ErasureRequest(participant_id=participant_id, free_text=free_text), now=now
        )
        await tx.audit.record(
            actor=actor.name,
            action="participant.erase",
            target=participant_target(participant_id),
            details={"via": actor.channel, **erased.as_dict()},
            now=now,
        )
    return erased


async def relink_participant(
    store: Repositories, actor: Actor, participant_id: int, *, channel: str, now: datetime
) -> Identity | None:
    """Allow a participant to link another account on ``channel``: their current one is
    unlinked (its address forgotten), so the next enrolment code they open links the new one.
    Returns the account unlinked, None if there was none (nothing to allow)."""
    action = "allow a participant a new account"
    require_organiser(actor, action)
    if channel not in {c.value for c in Channel}:
        raise RequestError(f"channel {channel!r}: use slack or telegram")
    async with store.transaction() as tx:
        await _within_scope(tx, actor, participant_id, action)
        removed = await tx.identities.unlink(participant_id, channel)
        await tx.audit.record(
            actor=actor.name,
            action="participant.relink",
            target=participant_target(participant_id),
            details={"via": actor.channel, "channel": channel, "unlinked": removed is not None},
            now=now,
        )
    return removed


async def purge_expired(store: Repositories, *, days: int, now: datetime) -> Purged:
    """Retention: what is older than ``days`` goes (see
    :meth:`~surveys.ports.PersonalDataRepository.purge`)."""
    if not 1 <= days <= RETENTION_LIMIT_DAYS:
        raise RequestError(f"retention of {days} days: give 1 to {RETENTION_LIMIT_DAYS:,}")
    async with store.transaction() as tx:
        return await tx.personal.purge(before=now - timedelta(days=days))


__all__ = [
    "RETENTION_LIMIT_DAYS",
    "erase_participant",
    "erasure_subject",
    "purge_expired",
    "relink_participant",
    "show_participant",
]
