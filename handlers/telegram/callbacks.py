"""Button data: our own short opaque ids, at most 64 bytes, never a label.

Every survey button names the response it belongs to and the question it was drawn for (its
index in the survey), so a press on an old message, or a second press before the first was
shown, is recognised as stale instead of answering another question. A multiple choice keeps
the selection that is not yet confirmed in the buttons themselves, as a bit mask of option
numbers: each toggle button carries the mask it leads to, and Done the current one. Nothing is
kept in memory between presses.

=========================  ==============================================
``a:<rid>:<q>:<n>``        choose option ``n`` (1-based) of question ``q``
``t:<rid>:<q>:<mask>``     multiple choice: show the selection ``mask``
``d:<rid>:<q>:<mask>``     multiple choice: confirm the selection ``mask``
``b:<rid>:<q>``            back from question ``q``
``s:<rid>:<q>``            skip question ``q``
``e:<rid>:<q>``            from the summary: change the answer to ``q``
``u:<rid>``                submit
``l:<language>``           write to me in ``language``
``z:<IANA zone>``          my timezone is this zone
=========================  ==============================================

``rid`` is the response id, ``q`` the question's index in the survey, ``mask`` hexadecimal
(bit ``n - 1`` for option ``n``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_BYTES = 64
"""Telegram's limit on ``callback_data``."""


@dataclass(frozen=True)
class Choose:
    response_id: int
    question: int
    number: int


@dataclass(frozen=True)
class Toggle:
    response_id: int
    question: int
    mask: int


@dataclass(frozen=True)
class Confirm:
    response_id: int
    question: int
    mask: int


@dataclass(frozen=True)
class GoBack:
    response_id: int
    question: int


@dataclass(frozen=True)
class SkipQuestion:
    response_id: int
    question: int


@dataclass(frozen=True)
class Change:
    response_id: int
    question: int


@dataclass(frozen=True)
class SubmitAnswers:
    response_id: int


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class SetTimezone:
    zone: str


SurveyButton = Choose | Toggle | Confirm | GoBack | SkipQuestion | Change | SubmitAnswers
Button = SurveyButton | SetLanguage | SetTimezone

_ID = r"(0|[1-9][0-9]{0,17})"
_MASK = r"(0|[1-9a-f][0-9a-f]{0,47})"
_PATTERNS: dict[str, re.Pattern[str]] = {
    "a": re.compile(rf"a:{_ID}:{_ID}:([1-9][0-9]{{0,3}})"),
    "t": re.compile(rf"t:{_ID}:{_ID}:{_MASK}"),
    "d": re.compile(rf"d:{_ID}:{_ID}:{_MASK}"),
    "b": re.compile(rf"b:{_ID}:{_ID}"),
    "s": re.compile(rf"s:{_ID}:{_ID}"),
    "e": re.compile(rf"e:{_ID}:{_ID}"),
    "u": re.compile(rf"u:{_ID}"),
    "l": re.compile(r"l:([a-z]{2,3})"),
    "z": re.compile(r"z:([A-Za-z0-9_+\-/]{1,62})"),
}


def encode(button: Button) -> str:
    """The callback data of ``button``; raises ``ValueError`` if it would exceed 64 bytes."""
    match button:
        case Choose(response_id=rid, question=q, number=n):
            data = f"a:{rid}:{q}:{n}"
        case Toggle(response_id=rid, question=q, mask=mask):
            data = f"t:{rid}:{q}:{mask:x}"
        case Confirm(response_id=rid, question=q, mask=mask):
            data = f"d:{rid}:{q}:{mask:x}"
        case GoBack(response_id=rid, question=q):
            data = f"b:{rid}:{q}"
        case SkipQuestion(response_id=rid, question=q):
            data = f"s:{rid}:{q}"
        case Change(response_id=rid, question=q):
            data = f"e:{rid}:{q}"
        case SubmitAnswers(response_id=rid):
            data = f"u:{rid}"
        case SetLanguage(language=language):
            data = f"l:{language}"
        case SetTimezone(zone=zone):
            data = f"z:{zone}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data {data!r} is longer than {MAX_BYTES} bytes")
    return data


def decode(data: str | None) -> Button | None:
    """The button ``data`` stands for, or None if we did not make it (or cannot read it)."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    pattern = _PATTERNS.get(data[0])
    match = pattern.fullmatch(data) if pattern else None
    if match is None:
        return None
    groups = match.groups()
    match data[0]:
        case "a":
            return Choose(int(groups[0]), int(groups[1]), int(groups[2]))
        case "t":
            return Toggle(int(groups[0]), int(groups[1]), int(groups[2], 16))
        case "d":
            return Confirm(int(groups[0]), int(groups[1]), int(groups[2], 16))
        case "b":
            return GoBack(int(groups[0]), int(groups[1]))
        case "s":
            return SkipQuestion(int(groups[0]), int(groups[1]))
        case "e":
            return Change(int(groups[0]), int(groups[1]))
        case "u":
            return SubmitAnswers(int(groups[0]))
        case "l":
            return SetLanguage(groups[0])
        case _:
            return SetTimezone(groups[0])


def mask_of(numbers: Iterable[int]) -> int:
    """The bit mask of 1-based option numbers."""
    mask = 0
    for number in numbers:
        mask |= 1 << (number - 1)
    return mask


def numbers_in(mask: int) -> list[int]:
    """The 1-based option numbers a mask selects, in order."""
    return [bit + 1 for bit in range(mask.bit_length()) if mask >> bit & 1]
