"""Translating Slack payloads into intents, commands and inbox keys: tables of cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from handlers.slack import inbound
from handlers.slack.blocks import ModalContext
from surveys import commands as grammar
from surveys.conversation import Answer, Back, Edit, Show, Skip, Submit
from surveys.engine import Pressed, Typed

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def block_action(action: dict[str, Any], *, state: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": "U1"},
        "container": {"type": "message", "message_ts": "111.222", "channel_id": "DU1"},
        "trigger_id": "trig",
        "state": {"values": state or {}},
        "actions": [{"action_ts": "333.444", **action}],
    }


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            {"action_id": "choose.2", "block_id": "7|q1|c", "value": "planning"},
            inbound.DelegateAction(7, "q1", Answer(Pressed(("planning",)))),
        ),
        (
            {"action_id": "select.1", "block_id": "7|q1|c", "selected_option": {"value": "o120"}},
            inbound.DelegateAction(7, "q1", Answer(Pressed(("o120",)))),
        ),
        ({"action_id": "back", "block_id": "7|q1|nav"}, inbound.DelegateAction(7, "q1", Back())),
        ({"action_id": "skip", "block_id": "7|q1|nav"}, inbound.DelegateAction(7, "q1", Skip())),
        ({"action_id": "type", "block_id": "7|q1|c"}, inbound.OpenModal(7, "q1")),
        (
            {"action_id": "edit.3", "block_id": "7||i3", "value": "q4"},
            inbound.DelegateAction(7, None, Edit("q4")),
        ),
        (
            {"action_id": "edit.sel.0", "block_id": "7||e0", "selected_option": {"value": "q9"}},
            inbound.DelegateAction(7, None, Edit("q9")),
        ),
        ({"action_id": "submit", "block_id": "7||s"}, inbound.DelegateAction(7, None, Submit())),
        (
            {"action_id": "open", "block_id": "home|12", "value": "12"},
            inbound.DelegateAction(12, None, Show()),
        ),
        ({"action_id": "tick.0", "block_id": "7|q1|c"}, inbound.Ignore()),
    ],
)
def test_block_actions(action: dict[str, Any], expected: inbound.Intent) -> None:
    assert inbound.from_block_action(block_action(action)) == expected


@pytest.mark.parametrize(
    "action",
    [
        {"action_id": "frobnicate", "block_id": "7|q|c"},
        {"action_id": "choose.1", "block_id": "not-ours", "value": "x"},
        {"action_id": "choose.1", "block_id": "7|q|c"},
        {"action_id": "open", "value": "twelve"},
    ],
)
def test_foreign_or_tampered_actions_are_refused(action: dict[str, Any]) -> None:
    with pytest.raises(inbound.InboundError):
        inbound.from_block_action(block_action(action))


def test_done_merges_the_ticks_of_every_group_of_the_question() -> None:
    ticked = lambda *values: {  # noqa: E731
        "type": "checkboxes",
        "selected_options": [{"value": v} for v in values],
    }
    state = {
        "7|q1|c": {
            "tick.1": ticked("o12"),
            "tick.0": ticked("o2", "o5"),
            "tick.10": ticked("o101"),
        },
        "7|q0|c": {"tick.0": ticked("stale")},
        "7|q1|d": {},
    }
    body = block_action({"action_id": "done", "block_id": "7|q1|d"}, state=state)
    intent = inbound.from_block_action(body)
    assert intent == inbound.DelegateAction(7, "q1", Answer(Pressed(("o2", "o5", "o12", "o101"))))
    nothing = block_action({"action_id": "done", "block_id": "7|q1|d"})
    assert inbound.from_block_action(nothing) == inbound.DelegateAction(
        7, "q1", Answer(Pressed(()))
    )


@pytest.mark.parametrize(
    ("element", "typed"),
    [
        ({"type": "plain_text_input", "value": "Proceso de Cartagena"}, "Proceso de Cartagena"),
        ({"type": "number_input", "value": "3.5"}, "3.5"),
        ({"type": "datepicker", "selected_date": "2026-04-15"}, "2026-04-15"),
        ({"type": "plain_text_input", "value": None}, ""),
        ({"type": "datepicker", "selected_date": None}, ""),
    ],
)
def test_view_submissions(element: dict[str, Any], typed: str) -> None:
    where = ModalContext(7, "q1", "DU1", "111.222")
    body = {
        "type": "view_submission",
        "view": {
            "id": "V1",
            "hash": "h",
            "private_metadata": where.dump(),
            "state": {"values": {"answer": {"value": element}}},
        },
    }
    assert inbound.from_view_submission(body) == (where, Answer(Typed(typed)))
    with pytest.raises(inbound.InboundError):
        inbound.from_view_submission({"view": {"private_metadata": "{not json"}})


def test_a_recorded_view_submission_fixture() -> None:
    body = json.loads((FIXTURES / "view_submission_answer.json").read_text(encoding="utf-8"))
    where, answer = inbound.from_view_submission(body)
    assert where == ModalContext(1, "frameworks_other_return", "DU01MEX0001", "1772442000.000012")
    assert answer == Answer(Typed("Proceso de Cartagena"))
    assert inbound.inbox_key(body) is not None and inbound.inbox_key(body).startswith(
        "view:V0A1B2C3D4:"
    )


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", grammar.Help()),
        ("help", grammar.Help()),
        ("rounds", grammar.ListRounds()),
        ("STATUS 3", grammar.RoundStatusCommand(3)),
        ("close 12", grammar.Close(12)),
        ("status #3", grammar.RoundStatusCommand(3)),
        ("digest ١٢", grammar.DigestCommand(12)),  # Arabic-Indic digits are digits
        ("extend #4 --closes 2027-01-31", grammar.Extend(4, "2027-01-31")),
        (
            "launch route_alignment --audience region:'African States' --closes 2026-12-15T18:00",
            grammar.Launch("route_alignment", "region:African States", "2026-12-15T18:00"),
        ),
        (
            "launch s --audience=FRA,SEN --closes 2026-12-15 --opens 2026-12-01 --tz Europe/Zurich",
            grammar.Launch("s", "FRA,SEN", "2026-12-15", "2026-12-01", "Europe/Zurich"),
        ),
        (
            "launch s --again --audience all --closes 2026-12-15",
            grammar.Launch("s", "all", "2026-12-15", again=True),
        ),
    ],
)
def test_commands(text: str, command: inbound.Command) -> None:
    assert grammar.parse_organiser_command(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "status",
        "status x",
        "close 1 2",
        "close ²",  # a digit to str.isdigit, not a number to int()
        "status -4",
        "close " + "9" * 19,  # more than any database's integer holds
        "extend ² --closes 2027-01-31",
        "launch",
        "launch s --audience all",
        "launch s --when x",
        "frob",
        "launch 's",
        "launch s --audience all --closes 2026-12-15 --again=yes",
    ],
)
def test_bad_commands_say_why(text: str) -> None:
    assert isinstance(grammar.parse_organiser_command(text), grammar.BadCommand)


@pytest.mark.parametrize(
    ("value", "zone", "end", "expected"),
    [
        ("2026-12-15", "Europe/Zurich", True, datetime(2026, 12, 15, 22, 59, tzinfo=UTC)),
        ("2026-12-15", "UTC", False, datetime(2026, 12, 15, tzinfo=UTC)),
        ("2026-12-15T18:00", "America/Mexico_City", True, datetime(2026, 12, 16, 0, 0, tzinfo=UTC)),
        ("2026-12-15T18:00+01:00", "UTC", True, datetime(2026, 12, 15, 17, 0, tzinfo=UTC)),
    ],
)
def test_moments(value: str, zone: str, end: bool, expected: datetime) -> None:
    assert grammar.parse_moment(value, zone=zone, end_of_day=end) == expected


@pytest.mark.parametrize(("value", "zone"), [("tomorrow", "UTC"), ("2026-12-15", "Mars/Olympus")])
def test_bad_moments(value: str, zone: str) -> None:
    with pytest.raises(ValueError):
        grammar.parse_moment(value, zone=zone, end_of_day=True)


@pytest.mark.parametrize(
    ("value", "zone"),
    [
        ("0001-01-01", "Europe/Zurich"),  # before year 1 in UTC: datetime overflows
        ("0001-01-01T00:00+01:00", "UTC"),
        ("0001-01-01", "UTC"),
        ("9999-12-31", "America/New_York"),
        ("1899-12-31T23:59Z", "UTC"),
    ],
)
def test_moments_out_of_range_are_refused_readably(value: str, zone: str) -> None:
    with pytest.raises(ValueError, match="is out of range: give a date between 1900-01-01"):
        grammar.parse_moment(value, zone=zone, end_of_day=False)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"type": "event_callback", "event_id": "Ev1"}, "event:Ev1"),
        ({"type": "url_verification", "challenge": "x"}, None),
        (
            block_action({"action_id": "choose.1", "block_id": "7|q|c", "value": "a"}),
            "action:111.222:333.444:U1",
        ),
        (block_action({"action_id": "tick.0", "block_id": "7|q|c"}), None),
        (
            {
                "type": "block_actions",
                "user": {"id": "U1"},
                "container": {"type": "view", "view_id": "VH"},
                "actions": [{"action_id": "open", "action_ts": "9.9"}],
            },
            "action:VH:9.9:U1",
        ),
        ({"command": "/itinera", "trigger_id": "t1", "text": ""}, "command:t1"),
    ],
)
def test_inbox_keys(body: dict[str, Any], key: str | None) -> None:
    assert inbound.inbox_key(body) == key


def test_view_keys_change_with_what_was_entered() -> None:
    def submission(value: str) -> dict[str, Any]:
        values = {"answer": {"value": {"type": "plain_text_input", "value": value}}}
        return {
            "type": "view_submission",
            "view": {"id": "V1", "hash": "h1", "state": {"values": values}},
        }

    assert inbound.inbox_key(submission("a")) == inbound.inbox_key(submission("a"))
    assert inbound.inbox_key(submission("a")) != inbound.inbox_key(submission("b"))


@pytest.mark.parametrize(
    ("event", "text"),
    [
        ({"type": "message", "channel_type": "im", "user": "U1", "text": "hola"}, "hola"),
        ({"type": "message", "channel_type": "im", "subtype": "message_changed"}, None),
        ({"type": "message", "channel_type": "im", "bot_id": "B1", "text": "x"}, None),
        ({"type": "message", "channel_type": "channel", "text": "x"}, None),
    ],
)
def test_direct_messages(event: dict[str, Any], text: str | None) -> None:
    assert inbound.dm_text(event) == text
