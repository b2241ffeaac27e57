"""Which errors the workers log as one line (the database unreachable) and which keep their
traceback (bugs): :mod:`surveys.service.reachability` on the errors the drivers raise."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc

from surveys.service.reachability import brief, unreachable


def _wrapped(cause: BaseException) -> exc.DBAPIError:
    """``cause`` as SQLAlchemy raises it: a DBAPIError with the statement on later lines."""
    try:
        try:
            raise cause
        except BaseException as error:
            raise exc.DBAPIError.instance(
                "UPDATE inbound_events\nSET attempts = 1", {}, error, Exception
            ) from error
    except exc.DBAPIError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        _wrapped(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle")),
        _wrapped(OSError(113, "No route to host")),
    ],
    ids=["refused", "reset", "timeout", "closed-mid-operation", "no-route"],
)
def test_an_unreachable_database_is_recognised(error: BaseException) -> None:
    assert unreachable(error)
    assert "\n" not in brief(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad value"),
        KeyError("q9"),
        _wrapped(asyncpg.UniqueViolationError("duplicate key value violates unique constraint")),
    ],
    ids=["value", "key", "unique-violation"],
)
def test_a_bug_is_not_taken_for_an_outage(error: BaseException) -> None:
    assert not unreachable(error)


def test_brief_keeps_the_first_line_only() -> None:
    error = _wrapped(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    assert brief(error).startswith("DBAPIError: ")
    assert "UPDATE" not in brief(error)


def test_brief_says_what_a_timeout_without_a_message_means() -> None:
    assert brief(TimeoutError()) == "TimeoutError: no answer in time"
    assert brief(KeyError()) == "KeyError"
