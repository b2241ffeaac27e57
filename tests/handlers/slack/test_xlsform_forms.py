"""Forms as KoboToolbox users write them, answered in Slack end to end: a 0-10 list labelled
with numbers, ranges too large for buttons, and a delegate's answer piped into a later label.

Each test imports a fixture workbook and launches a round to Lucía (Mexico) before the real
Bolt app starts; she reaches it by writing in her direct messages (the newest open round).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.survey_files import read_survey_file
from storage.database import Store
from surveys.records import Audience
from surveys.service import organising
from surveys.service.actors import Actor

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "xlsform"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the Slack world's clock
CLOSES = datetime(2026, 12, 15, 17, 0, tzinfo=UTC)
LUCIA = "U01MEX0001"  # delegate, Mexico, Spanish


def launching(fixture: str, rounds: list[int]) -> Callable[[Store], Awaitable[None]]:
    """A ``before_start`` that imports ``fixture`` and launches a round of it to Mexico."""

    async def launch(store: Store) -> None:
        survey = read_survey_file(FIXTURES / fixture)
        actor = Actor.command_line("test")
        await organising.import_survey(store, actor, survey, now=NOW)
        launched = await organising.launch(
            store,
            actor,
            organising.LaunchRequest(survey.id, Audience.parse("MEX"), closes=CLOSES),
            now=NOW,
        )
        rounds.append(launched.round.id)

    return launch


async def step(world: Any, response: Any) -> None:
    assert response.status_code == 200, response.text
    await world.idle()


async def answers(world: Any, round_id: int) -> dict[str, Any]:
    participant = await world.store.roster.find_by_identity("slack", LUCIA)
    response = await world.store.responses.get_response(round_id, participant.id)
    return dict(response.state.answers)


def selects(blocks: list[dict[str, Any]]) -> list[list[str]]:
    """The option captions of every static select in ``blocks``."""
    return [
        [option["text"]["text"] for option in element["options"]]
        for block in blocks
        for element in block.get("elements") or []
        if element.get("type") == "static_select"
    ]


async def test_typing_0_7_and_10_on_a_list_labelled_0_to_10(make_world: Any) -> None:
    rounds: list[int] = []
    async with make_world(before_start=launching("nps_numbers.xlsx", rounds)) as world:
        lucia = world.user(LUCIA)
        await step(world, await lucia.say("hola"))
        assert "How likely are you to recommend the process (0-10)?" in lucia.texts()
        # Eleven choices: one select, its options the labels as written (no position numbers).
        assert selects(lucia.screen().blocks) == [[str(n) for n in range(11)]]

        recorded = []
        for label in ("0", "7", "10"):
            await step(world, await lucia.select(label))
            assert "The process is useful." in lucia.texts()
            recorded.append((await answers(world, rounds[0]))["recommend"])
            await step(world, await lucia.press("Atrás"))
        assert recorded == ["0", "7", "10"]

        # The agreement scale is coded 5 down to 1: its buttons show the labels only.
        await step(world, await lucia.select("10"))
        shown = lucia.screen().blocks
        captions = [
            element["text"]["text"]
            for block in shown
            for element in block.get("elements") or []
            if element.get("type") == "button" and element["action_id"].startswith("choose.")
        ]
        assert captions == ["Strongly agree", "Agree", "Neutral", "Disagree", "Strongly disagree"]
        await step(world, await lucia.press("Strongly agree"))
        assert (await answers(world, rounds[0])) == {"recommend": "10", "agree": "5"}


async def test_ranges_larger_than_buttons_are_a_select_or_a_typed_number(make_world: Any) -> None:
    rounds: list[int] = []
    async with make_world(before_start=launching("large_ranges.xlsx", rounds)) as world:
        lucia = world.user(LUCIA)
        await step(world, await lucia.say("hola"))

        # 0-100 by 5: 21 points, still a row of buttons.
        assert "Share of returns (%)?" in lucia.texts()
        await step(world, await lucia.press("55"))

        # 0-1000: an answer modal with a number input within the bounds.
        assert "Budget (thousands)?" in lucia.texts()
        await step(world, await lucia.press("Responder"))
        modal = world.slack.last_view(LUCIA).view
        (number,) = [b["element"] for b in modal["blocks"] if b.get("type") == "input"]
        assert number["type"] == "number_input"
        assert (number["min_value"], number["max_value"]) == ("0", "1000")
        assert not number["is_decimal_allowed"]
        refused = await lucia.submit("1001")
        assert refused.json() == {
            "response_action": "errors",
            "errors": {"answer": "Por favor, elija un número del 0 al 1000."},
        }
        await world.idle()
        await step(world, await lucia.submit("640"))

        # 10 down to 0 by 2: six buttons, lowest first.
        assert "Rating?" in lucia.texts()
        await step(world, await lucia.press("8"))

        # 1-50: more than a row of buttons, one select.
        assert "Years of cooperation?" in lucia.texts()
        assert selects(lucia.screen().blocks) == [[str(n) for n in range(1, 51)]]
        await step(world, await lucia.select("37"))

        assert "Slider?" in lucia.texts()
        await step(world, await lucia.press("Omitir"))
        assert (await answers(world, rounds[0])) == {
            "share": 55,
            "budget": 640,
            "rating": 8,
            "years": 37,
            "slider": None,
        }


async def test_a_hostile_answer_piped_into_a_label_is_escaped(make_world: Any) -> None:
    hostile = "<b>*x*</b> <!channel>"
    rounds: list[int] = []
    async with make_world(before_start=launching("piping.xlsx", rounds)) as world:
        lucia = world.user(LUCIA)
        await step(world, await lucia.say("hola"))  # shows her the newest round's question
        assert "Your name?" in lucia.texts()
        await step(world, await lucia.say(hostile))  # typed in the DM: answers "Your name?"
        assert "Your region?" in lucia.texts()
        await step(world, await lucia.press("Africa"))

        screen = lucia.screen()
        label = "Hello &lt;b&gt;*x*&lt;/b&gt; &lt;!channel&gt;: how many staff in Africa?"
        assert f"*{label}*" in lucia.texts()  # bold like every label, the answer inside escaped
        assert "In Africa only" in lucia.texts()  # piped into the hint too
        sent = json.dumps(screen.blocks) + screen.text
        assert "<!channel>" not in sent and "<b>" not in sent
        assert screen.text == label  # the notification text is escaped as well
        assert (await answers(world, rounds[0]))["name"] == hostile
