"""Hostile requests to ``POST /slack/events`` of the real ASGI app (``bot.server``), generated
by hypothesis: unsigned ones get 401, signed malformed ones 400, nothing gets a 5xx, and
nothing is stored or answered."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from surveys.records import ResponseStatus
from tests.handlers.slack.conftest import CLAIRE, SIGNING_SECRET, SlackWorld

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
not_objects = st.one_of(
    st.lists(json_values, max_size=4), st.text(max_size=30), st.integers(), st.none()
)
deep = st.integers(min_value=65, max_value=20_000).map(lambda n: "[" * n + "]" * n)
kinds = st.sampled_from(["block_actions", "view_submission", "event_callback", "view_closed"])
missing = st.sampled_from([None, [], {}, "x", 0, [1, "a"], [None]])


@st.composite
def malformed(draw: st.DrawFn) -> tuple[bytes, str]:
    """A body no Slack request can be: not UTF-8, not an object, too deep, or a payload
    without what its type needs (a block_actions without actions...)."""
    which = draw(st.sampled_from(["bytes", "not_object", "deep", "shape", "surrogate"]))
    if which == "bytes":
        prefix = draw(st.binary(max_size=50))
        return prefix + b"\xff\xfe" + draw(st.binary(max_size=50)), draw(
            st.sampled_from([JSON_TYPE, FORM])
        )
    if which == "not_object":
        text = json.dumps(draw(not_objects))
    elif which == "deep":
        text = draw(deep)
    elif which == "surrogate":
        text = '{"type": "block_actions", "actions": [{"value": "\\ud800"}]}'
    else:
        kind = draw(kinds)
        member = {"block_actions": "actions", "event_callback": "event"}.get(kind, "view")
        text = json.dumps({"type": kind, member: draw(missing), "user": {"id": CLAIRE}})
    if draw(st.booleans()):
        return text.encode(), JSON_TYPE
    return urlencode({"payload": text}).encode(), FORM


def signed_headers(body: bytes, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }


async def untouched(world: SlackWorld) -> None:
    """No response of the round moved: nothing was answered by what was sent."""
    counts = await world.store.rounds.counts(world.round_id)
    assert {status: n for status, n in counts.items() if n} == {
        ResponseStatus.NOT_STARTED: sum(counts.values())
    }


async def nothing_happened(world: SlackWorld, calls_before: int) -> None:
    await world.idle()
    assert len(world.slack.calls) == calls_before  # nobody was written to
    await untouched(world)
    assert (await world.store.events.backlog()).pending == 0


@FUZZ
@given(body=malformed())
@example(body=(b'{"type": "block_actions", "actions": []}', JSON_TYPE))
@example(body=(urlencode({"payload": "[1, 2]"}).encode(), FORM))
@example(body=(("{" + '"a":' * 5000 + "1" + "}" * 5000).encode(), JSON_TYPE))
async def test_signed_malformed_requests_get_400(
    slack_world: SlackWorld, body: tuple[bytes, str]
) -> None:
    content, content_type = body
    before = len(slack_world.slack.calls)
    async with httpx.AsyncClient(trust_env=False) as http:
        answer = await http.post(
            slack_world.sender.events_url,
            content=content,
            headers=signed_headers(content, content_type),
        )
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert answer.text.startswith("malformed request: ")
    await nothing_happened(slack_world, before)


headers = st.dictionaries(
    st.sampled_from(["X-Slack-Request-Timestamp", "X-Slack-Signature", "Content-Type"]),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
)


@FUZZ
@given(content=st.binary(max_size=300), given_headers=headers)
@example(content=b"\xff{[", given_headers={"X-Slack-Request-Timestamp": "not-a-number"})
@example(content=b"{}", given_headers={"X-Slack-Request-Timestamp": "9" * 400})
async def test_unsigned_garbage_gets_401(
    slack_world: SlackWorld, content: bytes, given_headers: dict[str, str]
) -> None:
    before = len(slack_world.slack.calls)
    async with httpx.AsyncClient(trust_env=False) as http:
        answer = await http.post(
            slack_world.sender.events_url, content=content, headers=given_headers
        )
    assert answer.status_code == 401, (answer.status_code, answer.text)
    await nothing_happened(slack_world, before)


@FUZZ
@given(payload=st.dictionaries(st.text(max_size=10), json_values, max_size=6))
async def test_signed_objects_of_any_shape_never_get_a_5xx(
    slack_world: SlackWorld, payload: dict[str, Any]
) -> None:
    for content, content_type in (
        (json.dumps(payload).encode(), JSON_TYPE),
        (urlencode({"payload": json.dumps(payload)}).encode(), FORM),
    ):
        async with httpx.AsyncClient(trust_env=False) as http:
            answer = await http.post(
                slack_world.sender.events_url,
                content=content,
                headers=signed_headers(content, content_type),
            )
        assert answer.status_code < 500, (answer.status_code, answer.text)
    await slack_world.idle()
    await untouched(slack_world)


async def test_an_event_id_longer_than_the_key_column_is_stored_once(
    slack_world: SlackWorld,
) -> None:
    event = {"type": "app_home_opened", "user": CLAIRE, "tab": "home"}
    long_id = "Ev" + "9" * 5000

    first = await slack_world.sender.event(event, event_id=long_id)
    again = await slack_world.sender.event(event, event_id=long_id, retry_num=1)

    assert (first.status_code, again.status_code) == (200, 200)
    await slack_world.idle()
    stored = await slack_world.store.events.get(channel="slack", key=f"event:{long_id}")
    assert stored is not None and len(stored.key) == 200 and stored.processed_at is not None
    homes = [c for c in slack_world.slack.calls_to("views.publish") if c.args["user_id"] == CLAIRE]
    assert len(homes) == 1  # the retry was not applied again
