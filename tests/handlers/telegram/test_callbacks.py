"""Button data: short, ours, readable back; and the small parsers of command arguments."""

from __future__ import annotations

import pytest

from handlers.telegram import callbacks
from handlers.telegram.callbacks import (
    Change,
    Choose,
    Confirm,
    GoBack,
    SetLanguage,
    SetTimezone,
    SkipQuestion,
    SubmitAnswers,
    Toggle,
)
from handlers.telegram.inbound import start_code


@pytest.mark.parametrize(
    ("button", "data"),
    [
        (Choose(12, 3, 2), "a:12:3:2"),
        (Toggle(12, 4, 0b1000000001), "t:12:4:201"),
        (Toggle(12, 4, 0), "t:12:4:0"),
        (Confirm(999_999_999, 120, (1 << 100) - 1), "d:999999999:120:" + "f" * 25),
        (GoBack(7, 0), "b:7:0"),
        (SkipQuestion(7, 5), "s:7:5"),
        (Change(7, 44), "e:7:44"),
        (SubmitAnswers(7), "u:7"),
        (SetLanguage("ar"), "l:ar"),
        (SetTimezone("America/Argentina/ComodRivadavia"), "z:America/Argentina/ComodRivadavia"),
    ],
)
def test_buttons_round_trip_within_64_bytes(button: callbacks.Button, data: str) -> None:
    assert callbacks.encode(button) == data
    assert len(data.encode()) <= callbacks.MAX_BYTES
    assert callbacks.decode(data) == button


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "x",
        "a:1:2",
        "a:1:2:0",
        "a:01:2:3",
        "a:1:2:3:4",
        "a:-1:2:3",
        "t:1:2:XYZ",
        "t:1:2:0f",
        "u:",
        "l:english",
        "z:../../etc/passwd",
        "Global Compact on Refugees",
        "a:" + "1" * 70,
    ],
)
def test_data_we_did_not_make_is_not_read(data: str | None) -> None:
    assert callbacks.decode(data) is None


def test_data_over_64_bytes_is_refused_when_made() -> None:
    with pytest.raises(ValueError, match="longer than 64 bytes"):
        callbacks.encode(Toggle(1, 1, (1 << 240) - 1))


def test_masks_are_sets_of_option_numbers() -> None:
    assert callbacks.mask_of([1, 3, 10]) == 0b1000000101
    assert callbacks.numbers_in(0b1000000101) == [1, 3, 10]
    assert callbacks.numbers_in(0) == []


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["AbC_-09"], "AbC_-09"),
        (["x" * 64], "x" * 64),
        (["x" * 65], None),
        ([], None),
        (["two", "words"], None),
        (["has space"], None),
        (["ünicode"], None),
    ],
)
def test_start_codes(args: list[str], code: str | None) -> None:
    assert start_code(args) == code
