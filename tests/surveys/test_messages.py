"""The core's helpers over the catalogues: quotation marks and lists of the language."""

from __future__ import annotations

import pytest

from surveys.messages import format_number, joined, quoted, text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", '"Xyz"'),
        ("fr", "«\u00a0Xyz\u00a0»"),
        ("es", "«Xyz»"),
        ("de", '"Xyz"'),
    ],
)
def test_quoted(language: str, expected: str) -> None:
    assert quoted("Xyz", language) == expected


def test_joined() -> None:
    assert joined(["a", "b"], "en") == "a, b"
    assert joined(["a", "b"], "ar") == "a، b"


def test_the_old_names_reach_the_one_lookup() -> None:
    assert text("button_back", "es") == "Atrás"
    assert format_number(3.5, "fr") == "3,5"
