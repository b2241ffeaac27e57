"""What the Telegram channel's parts share, as one object.

The composition root builds it once: the store, the clock, the office hours (an extended round
plans its reminders again), ``digests`` (makes and posts digests on demand for ``/digest``;
None: not offered), and ``wake_sender``, which tells this process's Telegram sender that
messages were enqueued.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from surveys.ports import Clock, DigestService, Repositories
from surveys.reminders import OfficeHours
from surveys.service.answering import NoteWriter


def _nothing() -> None:
    return None


@dataclass
class TelegramServices:
    store: Repositories
    clock: Clock
    digests: DigestService | None = None
    office_hours: OfficeHours = field(default_factory=OfficeHours.parse)
    wake_sender: Callable[[], None] = _nothing
    notes: Mapping[str, NoteWriter] = field(default_factory=dict)
    """By channel: how to tell a delegation's other delegates that its response was sent."""
