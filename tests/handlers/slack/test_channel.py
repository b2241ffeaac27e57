"""The Slack channel's robustness: rate limits, a hanging database, requests stored before a
start, stale presses and typed text, identities found by email, the delivery side and its
errors, and the two modes."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.bootstrap import build
from bot.fakes.timing import InstantTimer
from bot.settings import load_settings
from handlers.slack.runtime import SlackRuntime
from storage.database import Store
from surveys.conversation import Answer
from surveys.engine import Pressed
from surveys.errors import ConfigurationError, DeliveryError
from surveys.ports import EventInbox
from surveys.queues import (
    InboundEvent,
    InboxBacklog,
    Lane,
    NewInboundEvent,
    OutboundStatus,
)
from surveys.service.answering import Asking, Conversation

LUCIA = "U01MEX0001"
AMINATA = "U09SEN0001"
STRANGER = "U09XXX0001"
NOW = datetime.fromisoformat("2026-03-02T09:00:00+00:00")


async def open_survey(world: Any, user_id: str) -> Any:
    player = world.user(user_id)
    assert (await player.open_home()).status_code == 200
    await world.idle()
    assert (await player.press_home(player_open_caption(world, user_id))).status_code == 200
    await world.idle()
    return player


async def to_other_frameworks(world: Any) -> Any:
    """Lucía answers the first two questions and ticks "Otro": asked which other frameworks."""
    lucia = await open_survey(world, LUCIA)
    for caption in ("4", "Ya participa"):
        await lucia.press(caption)
        await world.idle()
    lucia.tick("Otro")
    await lucia.press("Confirmar")
    await world.idle()
    return lucia


def player_open_caption(world: Any, user_id: str) -> str:
    home = world.slack.home[user_id]
    return next(b["accessory"]["text"]["text"] for b in home["blocks"] if b.get("accessory"))


async def test_a_rate_limited_message_waits_for_its_conversation_then_goes(
    slack_world: Any,
) -> None:
    world = slack_world
    lucia = world.user(LUCIA)
    await lucia.open_home()
    await world.idle()
    world.slack.fail_next("chat.postMessage", retry_after=30)
    assert (await lucia.press_home(player_open_caption(world, LUCIA))).status_code == 200
    await world.idle()
    assert len(world.slack.calls_to("chat.postMessage")) == 1, "refused with 429"
    [waiting] = await world.store.messages.backlog()
    assert waiting.pending == 1 and waiting.failed == 0, "kept, to be sent after Retry-After"

    world.clock.moment += timedelta(seconds=30)
    await world.idle()
    assert len(world.slack.calls_to("chat.postMessage")) == 2, "sent once the wait was over"
    assert "Pregunta 1 de 22" in lucia.texts()
    assert await world.store.messages.backlog() == []


async def test_a_press_on_an_old_message_is_not_applied_to_another_question(
    slack_world: Any,
) -> None:
    world = slack_world
    lucia = await open_survey(world, LUCIA)
    old = lucia.screen().snapshot()  # question 1: a scale, 1 to 5
    await lucia.press("4")
    await world.idle()
    await lucia.press("Ya participa")  # question 2 answered: now on the checkboxes
    await world.idle()
    assert (await lucia.press("2", message=old)).status_code == 200
    await world.idle()
    assert "Ese mensaje se refería a una pregunta anterior" in lucia.texts()
    participant = await world.store.roster.find_by_identity("slack", LUCIA)
    response = await world.store.responses.get_response(world.round_id, participant.id)
    assert response.state.answers["alignment_return"] == 4


async def test_the_web_api_calls_keep_their_connections(slack_world: Any) -> None:
    world = slack_world
    await open_survey(world, LUCIA)  # the first message sent opens the kept connections
    before, calls_before = len(world.slack.peers), len(world.slack.calls)
    for user_id in (AMINATA, "U01FRA0001"):
        await open_survey(world, user_id)  # the home tab, a lookup, the first question
    calls = [call.method for call in world.slack.calls[calls_before:]]
    peers = world.slack.peers[before:]
    assert len(peers) >= 4, calls
    assert len(set(peers)) == 1, f"{calls} over {len(set(peers))} connections"


async def test_typed_answers_in_the_direct_message(slack_world: Any) -> None:
    world = slack_world
    lucia = await to_other_frameworks(world)
    assert (await lucia.say("Proceso de Brasil")).status_code == 200
    await world.idle()
    assert "¿Desea formular alguna observación adicional sobre el retorno?" in lucia.texts()
    participant = await world.store.roster.find_by_identity("slack", LUCIA)
    response = await world.store.responses.get_response(world.round_id, participant.id)
    assert response.state.answers["frameworks_other_return"] == "Proceso de Brasil"

    edited = {"type": "message", "subtype": "message_changed", "channel": f"D{LUCIA}"}
    assert (await world.sender.event(edited)).status_code == 200
    await world.idle()

    stranger = world.user(STRANGER)
    await stranger.say("hola")
    await world.idle()
    assert stranger.screen().text.startswith("Sorry, your Slack account is not on the list")


async def test_a_typed_answer_stored_before_a_crash_is_not_applied_to_a_later_question(
    make_world: Any,
) -> None:
    """Stored, not applied (the process died); meanwhile the delegate answered that question
    elsewhere; applied at the next start, the text lands on no other question and she is told.
    """
    async with make_world() as world:
        await open_survey(world, LUCIA)
        participant = await world.store.roster.find_by_identity("slack", LUCIA)
        assert participant is not None
        event = {
            "type": "event_callback",
            "event_id": "Ev0TYPED0001",
            "event": {
                "type": "message",
                "channel_type": "im",
                "channel": f"D{LUCIA}",
                "user": LUCIA,
                "text": "5",
                "ts": "1760000000.000200",
            },
        }
        async with world.store.transaction() as tx:  # stored as the gate stores it, not applied
            stored = await tx.events.accept(
                NewInboundEvent(
                    channel="slack",
                    key="event:Ev0TYPED0001",
                    subject=LUCIA,
                    payload=json.dumps(event),
                    from_screen=True,
                ),
                now=world.clock.now(),
            )
        assert stored is not None
        kept = await world.store.events.get(channel="slack", key="event:Ev0TYPED0001")
        assert kept is not None and kept.target.question_id == "alignment_return"
        # The process dies here. Meanwhile she answers question 1 (from another device).
        conversation = Conversation(world.store, clock=world.clock)
        moved = await conversation.act(
            participant, world.round_id, Answer(Pressed(("4",))), expect=Asking("alignment_return")
        )
        assert moved.accepted

    async with make_world(populated=False) as world:  # the next start, on the same database
        await world.idle()
        lucia = world.user(LUCIA)
        response = await world.store.responses.get_response(world.round_id, participant.id)
        assert response.state.answers["alignment_return"] == 4, "not overwritten by the text"
        assert "engagement_return" not in response.state.answers, "nor applied to the next one"
        assert "la pregunta ya había cambiado" in lucia.texts()
        stored_event = await world.store.events.get(channel="slack", key="event:Ev0TYPED0001")
        assert stored_event is not None and stored_event.processed_at is not None


async def test_a_delegate_known_only_by_email_is_linked(slack_world: Any) -> None:
    world = slack_world
    aminata = await open_survey(world, AMINATA)
    assert "Vos enquêtes" in str(world.slack.home[AMINATA])
    assert "Question 1 sur 22" in aminata.texts()
    participant = await world.store.roster.find_by_identity("slack", AMINATA)
    assert participant is not None and participant.name == "Aminata Diop"
    assert len(world.slack.calls_to("users.info")) == 1


@dataclasses.dataclass
class HangingInbox:
    """An inbox whose ``accept`` waits until released: a database that does not answer."""

    inner: EventInbox
    release: Any = dataclasses.field(default=None)

    def __post_init__(self) -> None:
        import asyncio

        self.release = asyncio.Event()

    async def accept(self, event: NewInboundEvent, *, now: datetime) -> int | None:
        await self.release.wait()
        return await self.inner.accept(event, now=now)

    async def backlog(self) -> InboxBacklog:
        return await self.inner.backlog()

    async def get(self, *, channel: str, key: str) -> InboundEvent | None:
        return await self.inner.get(channel=channel, key=key)


async def test_a_hanging_database_still_gets_slack_an_answer_in_time(make_world: Any) -> None:
    hanging: list[HangingInbox] = []

    def wrap(store: Store) -> Store:
        hanging.append(HangingInbox(store.events))
        return dataclasses.replace(store, events=hanging[0])  # type: ignore[arg-type]

    async with make_world(wrap=wrap, inbox_timeout=0.2) as world:
        lucia = world.user(LUCIA)
        first = await lucia.open_home(event_id="Ev0HANGING01")
        assert first.status_code == 503, "not acknowledged: Slack will retry"
        assert world.slack.calls_to("views.publish") == []
        hanging[0].release.set()
        retried = await lucia.open_home(event_id="Ev0HANGING01", retry_num=1)
        assert retried.status_code == 200
        await world.idle()
        assert len(world.slack.calls_to("views.publish")) == 1


async def test_requests_stored_before_a_start_are_applied(make_world: Any) -> None:
    event = {
        "type": "event_callback",
        "event_id": "Ev0STORED001",
        "event": {"type": "app_home_opened", "user": LUCIA, "tab": "home"},
    }

    async def store_one(store: Store) -> None:
        async with store.transaction() as tx:
            await tx.events.accept(
                NewInboundEvent(
                    channel="slack",
                    key="event:Ev0STORED001",
                    subject=LUCIA,
                    payload=json.dumps(event),
                ),
                now=NOW - timedelta(minutes=1),
            )

    async with make_world(before_start=store_one) as world:
        await world.idle()
        assert LUCIA in world.slack.home
        assert (await world.store.events.backlog()).pending == 0


async def test_the_delivery_side_reaches_people_and_posts_digests(slack_world: Any) -> None:
    world = slack_world
    slack = world.slack
    out = world.itinera.outs[0]
    people = await world.store.roster.list_participants()
    aminata = next(p for p in people if p.name == "Aminata Diop")

    address = await out.reach(aminata)
    assert address == AMINATA and slack.calls_to("users.lookupByEmail")
    assert (await world.store.identities.identity(aminata.id, "slack")) is not None

    async def send(text: str, key: str) -> None:
        note = out.note_message(text, address=address, key=key, lane=Lane.BULK)
        async with world.store.transaction() as tx:
            await tx.messages.enqueue([note], now=world.clock.now())
        await world.idle()

    await send("Rappel : l'enquête ferme bientôt.", "note:1")
    assert slack.last_message(f"D{AMINATA}").text.startswith("Rappel")

    slack.fail_next("chat.postMessage", error="channel_not_found")
    await send("second", "note:2")
    refused = await world.store.messages.get(channel="slack", key="note:2")
    assert refused is not None and refused.status is OutboundStatus.FAILED
    assert refused.error == "channel_not_found"

    slack.fail_next("chat.postMessage", error="fatal_error", status=500)
    await send("third", "note:3")
    later = await world.store.messages.get(channel="slack", key="note:3")
    assert later is not None and later.status is OutboundStatus.PENDING, "tried again later"

    with pytest.raises(DeliveryError):
        await out.post_digest(
            round_id=world.round_id, key="d1", text="*Weekly*", image=None, image_name="x.png"
        )


async def test_a_refused_token_pauses_slack_instead_of_failing_each_delegate(
    slack_world: Any,
) -> None:
    world = slack_world
    lucia = world.user(LUCIA)
    await lucia.open_home()
    await world.idle()
    world.slack.fail_next("chat.postMessage", error="invalid_auth")
    await lucia.press_home(player_open_caption(world, LUCIA))
    await world.idle()
    [sender] = world.itinera.senders
    assert sender.paused_because == "invalid_auth"
    [waiting] = await world.store.messages.backlog()
    assert (waiting.pending, waiting.failed) == (1, 0), "kept for when the token works again"


def test_the_mode_follows_the_settings(memory_store: Any) -> None:
    def runtime(**values: Any) -> SlackRuntime:
        itinera = build(load_settings(**values), memory_store, timer=InstantTimer())
        [found] = itinera.runtimes
        assert isinstance(found, SlackRuntime)
        return found

    http = runtime(slack_bot_token="xoxb-1", slack_signing_secret="s")
    assert http.describe() == "Slack: HTTP events at /slack/events"
    assert [route.path for route in http.routes()] == ["/slack/events"]  # type: ignore[attr-defined]
    socket = runtime(slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    assert socket.describe() == "Slack: Socket Mode"
    assert socket.routes() == []
    with pytest.raises(ConfigurationError):
        runtime(slack_bot_token="xoxb-1")


async def test_a_tampered_modal_submission_is_answered_and_reported(slack_world: Any) -> None:
    world = slack_world
    view = {
        "id": "V9",
        "type": "modal",
        "hash": "h",
        "callback_id": "answer",
        "private_metadata": "{x",
    }
    payload = {"type": "view_submission", "user": {"id": LUCIA}, "view": view}
    answered = await world.sender.interaction(payload)
    assert answered.status_code == 200
    await world.idle()
    apology = world.slack.last_message(f"D{LUCIA}").text
    assert apology.startswith("Lo sentimos, se ha producido un problema")
    assert (await world.store.events.backlog()).pending == 0


async def test_a_modal_answer_the_database_cannot_apply_at_once_waits_for_the_inbox(
    slack_world: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = slack_world
    lucia = await to_other_frameworks(world)
    await lucia.press("Responder")
    await world.idle()

    async def out_of_reach(event_id: int) -> bool:
        raise ConnectionRefusedError(111, "Connect call failed")

    monkeypatch.setattr(world.itinera.inbox, "process", out_of_reach)
    with caplog.at_level("WARNING", logger="itinera.slack"):
        answered = await lucia.submit("Proceso de Cartagena")
    assert answered.status_code == 200
    left = [r for r in caplog.records if "left to the inbox worker" in r.getMessage()]
    assert len(left) == 1 and not left[0].exc_info, "an outage is one line, no traceback"
    assert "ConnectionRefusedError" in left[0].getMessage()
    monkeypatch.undo()
    await world.idle()
    participant = await world.store.roster.find_by_identity("slack", LUCIA)
    response = await world.store.responses.get_response(world.round_id, participant.id)
    assert response.state.answers["frameworks_other_return"] == "Proceso de Cartagena"
