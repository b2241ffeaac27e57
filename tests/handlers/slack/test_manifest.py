"""``slack-manifest.yaml`` against what the code registers, renders and calls; and the texts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.fakes.slack_api import METHODS
from handlers.slack import blocks, listeners, texts
from handlers.slack.runtime import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text(encoding="utf-8"))

SCOPE_OF_CALL = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "conversations_open": "im:write",
    "users_info": "users:read",
    "users_lookupByEmail": "users:read.email",
    "files_upload_v2": "files:write",
    "views_open": None,
    "views_publish": None,
}
"""Web API calls the code makes (as slack_sdk methods) and the bot scope each needs."""
SCOPE_OF_EVENT = {"app_home_opened": None, "message.im": "im:history"}


class Registrations:
    """Stands in for the Bolt app and records what ``register`` asks of it."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.actions: list[Any] = []
        self.commands: list[Any] = []
        self.views: list[Any] = []
        self.middleware_count = 0

    def _record(self, into: list[Any], key: Any) -> Callable[[Any], Any]:
        into.append(key)
        return lambda function: function

    def event(self, key: Any) -> Callable[[Any], Any]:
        return self._record(self.events, key)

    def action(self, key: Any) -> Callable[[Any], Any]:
        return self._record(self.actions, key)

    def command(self, key: Any) -> Callable[[Any], Any]:
        return self._record(self.commands, key)

    def view(self, key: Any) -> Callable[[Any], Any]:
        return self._record(self.views, key)

    def middleware(self, function: Any) -> Any:
        self.middleware_count += 1
        return function

    def error(self, function: Any) -> Any:
        return function


@pytest.fixture(scope="module")
def registered() -> Registrations:
    recorder = Registrations()
    listeners.register(recorder, services=None, inbox=None)  # type: ignore[arg-type]
    return recorder


def test_events_match_the_manifest(registered: Registrations) -> None:
    subscribed = MANIFEST["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(subscribed) == sorted(listeners.BOT_EVENTS)
    assert sorted(registered.events) == sorted(listeners.BOT_EVENTS.values())


def test_commands_match_the_manifest(registered: Registrations) -> None:
    declared = [c["command"] for c in MANIFEST["features"]["slash_commands"]]
    assert declared == list(listeners.COMMANDS) == registered.commands


def test_every_request_goes_to_our_one_route() -> None:
    settings = MANIFEST["settings"]
    urls = {
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
        *(c["url"] for c in MANIFEST["features"]["slash_commands"]),
    }
    assert len(urls) == 1 and urls.pop().endswith(EVENTS_PATH)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    assert MANIFEST["display_information"]["name"] == "Itinera"
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_actions_rendered_are_the_actions_handled(registered: Registrations) -> None:
    assert registered.views == list(listeners.VIEWS) == [blocks.VIEW_ANSWER]
    [pattern] = registered.actions
    assert isinstance(pattern, re.Pattern)
    examples = {
        blocks.ACTION_CHOOSE: "choose.1",
        blocks.ACTION_SELECT: "select.0",
        blocks.ACTION_TICK: "tick.4",
        blocks.ACTION_DONE: "done",
        blocks.ACTION_TYPE: "type",
        blocks.ACTION_BACK: "back",
        blocks.ACTION_SKIP: "skip",
        blocks.ACTION_EDIT: "edit.12",
        blocks.ACTION_SUBMIT: "submit",
        blocks.ACTION_OPEN: "open",
    }
    assert sorted(examples) == sorted(listeners.ACTIONS)
    for kind, action_id in examples.items():
        assert blocks.ACTION_PATTERNS[kind].match(action_id)
        assert pattern.match(action_id)
    assert not pattern.match("choose") and not pattern.match("xdone")


def test_scopes_are_exactly_those_the_code_needs() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "handlers" / "slack").glob("*.py")
    )
    called = set(
        re.findall(r"\.(chat_\w+|conversations_\w+|users_\w+|views_\w+|files_\w+)\(", source)
    )
    assert called <= set(SCOPE_OF_CALL), f"add the scope of {called - set(SCOPE_OF_CALL)}"
    needed = {SCOPE_OF_CALL[call] for call in called} | {
        SCOPE_OF_EVENT[event] for event in listeners.BOT_EVENTS
    }
    needed.add("commands")
    needed.discard(None)
    assert sorted(MANIFEST["oauth_config"]["scopes"]["bot"]) == sorted(needed)


def test_the_fake_answers_every_method_the_code_calls() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "handlers" / "slack").glob("*.py")
    )
    called = set(re.findall(r"\.(chat_\w+|conversations_\w+|users_\w+|views_\w+)\(", source))
    as_methods = {name.replace("_", ".", 1) for name in called}
    assert as_methods <= set(METHODS)


def test_texts_fall_back_to_english() -> None:
    assert texts.text("button_open", "de") == "Open"
    assert texts.text("button_open", "es-MX") == "Abrir"
    with pytest.raises(KeyError):
        texts.text("no_such_key", "en")
