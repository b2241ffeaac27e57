"""The Slack channel's robustness: rate limits, a hanging database, recovery, stale presses,
identities found by email, the Messenger and its errors, and the two modes."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.settings import load_settings
from bot.slack_wiring import build_slack, build_slack_messenger
from handlers.slack.services import ConfigurationError
from storage.database import Store
from surveys.errors import DeliveryError
from surveys.ports import InboxRepository
from surveys.records import InboundEvent
from surveys.service.answering import Conversation

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


def player_open_caption(world: Any, user_id: str) -> str:
    home = world.slack.home[user_id]
    return next(b["accessory"]["text"]["text"] for b in home["blocks"] if b.get("accessory"))


async def test_a_rate_limited_call_is_retried(slack_world: Any) -> None:
    world = slack_world
    lucia = await open_survey(world, LUCIA)
    world.slack.fail_next("chat.update", retry_after=0)
    started = time.monotonic()
    assert (await lucia.press("4")).status_code == 200
    await world.idle()
    assert len(world.slack.calls_to("chat.update")) == 2, "429, then the retry"
    assert "Pregunta 2 de 22" in lucia.texts()
    assert time.monotonic() - started < 3


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


async def test_typed_answers_in_the_direct_message(slack_world: Any) -> None:
    world = slack_world
    lucia = await open_survey(world, LUCIA)
    for caption in ("4", "Ya participa"):
        await lucia.press(caption)
        await world.idle()
    lucia.tick("Otro")
    await lucia.press("Confirmar")
    await world.idle()
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

    inner: InboxRepository
    release: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def accept(self, *, channel: str, key: str, payload: str, now: datetime) -> bool:
        await self.release.wait()
        return await self.inner.accept(channel=channel, key=key, payload=payload, now=now)

    async def pending(self, channel: str, *, limit: int = 100) -> Sequence[InboundEvent]:
        return await self.inner.pending(channel, limit=limit)

    async def mark_processed(
        self, event_id: int, *, now: datetime, error: str | None = None
    ) -> None:
        await self.inner.mark_processed(event_id, now=now, error=error)


async def test_a_hanging_database_still_gets_slack_an_answer_in_time(make_world: Any) -> None:
    hanging: list[HangingInbox] = []

    def wrap(store: Store) -> Store:
        hanging.append(HangingInbox(store.inbox))
        return dataclasses.replace(store, inbox=hanging[0])

    async with make_world(wrap=wrap, inbox_timeout=0.2) as world:
        lucia = world.user(LUCIA)
        started = time.monotonic()
        first = await lucia.open_home(event_id="Ev0HANGING01")
        assert first.status_code == 503, "not acknowledged: Slack will retry"
        assert time.monotonic() - started < 1.5
        assert world.slack.calls_to("views.publish") == []
        hanging[0].release.set()
        retried = await lucia.open_home(event_id="Ev0HANGING01", retry_num=1)
        assert retried.status_code == 200
        await world.idle()
        assert len(world.slack.calls_to("views.publish")) == 1


async def test_requests_stored_before_a_restart_are_processed_at_start(make_world: Any) -> None:
    event = {
        "type": "event_callback",
        "event_id": "Ev0STORED001",
        "event": {"type": "app_home_opened", "user": LUCIA, "tab": "home"},
    }

    async def store_one(store: Store) -> None:
        await store.inbox.accept(
            channel="slack",
            key="event:Ev0STORED001",
            payload=json.dumps(event),
            now=NOW - timedelta(minutes=1),
        )

    async with make_world(before_start=store_one) as world:
        assert await world.runtime.recovered() == 1
        assert LUCIA in world.slack.home
        assert await world.store.inbox.pending("slack") == []


async def test_the_messenger_sends_screens_and_digests(slack_world: Any) -> None:
    world = slack_world
    slack = world.slack
    messenger = build_slack_messenger(world.runtime)
    aminata = await world.store.roster.get_participant(
        next(p.id for p in await world.store.roster.list_participants() if p.name == "Aminata Diop")
    )
    assert await messenger.reachable(aminata)
    ts = await messenger.send_screen(
        aminata, world.round_id, preface="Rappel : l'enquête ferme bientôt."
    )
    assert ts is not None
    assert slack.calls_to("users.lookupByEmail")
    message = slack.last_message(f"D{AMINATA}")
    assert message.ts == ts and "Rappel" in message.text
    identity = await world.store.identities.identity(aminata.id, "slack")
    assert identity is not None and identity.address == f"D{AMINATA}"

    slack.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(DeliveryError) as permanent:
        await messenger.send_screen(aminata, world.round_id)
    assert permanent.value.permanent and permanent.value.reason == "channel_not_found"
    slack.fail_next("chat.postMessage", error="fatal_error", status=500)
    with pytest.raises(DeliveryError) as transient:
        await messenger.send_screen(aminata, world.round_id)
    assert not transient.value.permanent

    with pytest.raises(DeliveryError):
        await messenger.post_digest(text="*Weekly digest*", image=None, image_name="x.png")
    slack.channels.add("C0DIGEST")
    world.runtime.services.digest_channel = "C0DIGEST"
    await messenger.post_digest(text="*Weekly digest*", image=b"\x89PNG...", image_name="d.png")
    assert slack.uploads and slack.files[0]["channel"] == "C0DIGEST"
    assert slack.files[0]["comment"] == "*Weekly digest*"
    await messenger.post_digest(text="*Weekly digest*", image=None, image_name="d.png")
    assert slack.last_message("C0DIGEST").text == "*Weekly digest*"


def test_the_mode_follows_the_settings(memory_store: Any) -> None:
    clock = type("Clock", (), {"now": staticmethod(lambda: NOW)})()
    conversation = Conversation(memory_store, clock=clock)
    http = build_slack(
        load_settings(slack_bot_token="xoxb-1", slack_signing_secret="s"),
        memory_store,
        conversation,
        clock,
    )
    assert http.describe() == "Slack: HTTP events at /slack/events"
    assert [route.path for route in http.routes()] == ["/slack/events"]  # type: ignore[attr-defined]
    socket = build_slack(
        load_settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1"),
        memory_store,
        conversation,
        clock,
    )
    assert socket.describe() == "Slack: Socket Mode"
    assert socket.routes() == []
    digests = build_slack(
        load_settings(slack_bot_token="xoxb-1", slack_signing_secret="s", slack_digest_channel="C1"),
        memory_store,
        conversation,
        clock,
    )
    assert digests.services.digest_channel == "C1" and digests.messenger.channel == "slack"
    with pytest.raises(ConfigurationError):
        build_slack(load_settings(slack_bot_token="xoxb-1"), memory_store, conversation, clock)


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
    started = time.monotonic()
    answered = await world.sender.interaction(payload)
    assert answered.status_code == 200 and time.monotonic() - started < 2
    await world.idle()
    apology = world.slack.last_message(f"D{LUCIA}").text
    assert apology.startswith("Lo sentimos, se ha producido un problema")
    assert await world.store.inbox.pending("slack") == []
