"""Forms as KoboToolbox users write them, answered in Telegram end to end: a 0-10 list labelled
with numbers typed as numbers, ranges too large for buttons, group headings, and a delegate's
answer piped into a later label.

Itinera as the bootstrap builds it runs against the fake Bot API; this module's
``world`` replaces the example survey with fixture workbooks, one round each, to everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.fakes.telegram_api import FakeTelegram
from bot.survey_files import read_survey_file
from handlers.telegram.enrolment import issue_code
from surveys.records import Audience, Participant
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "xlsform"
ROSTER = """\
delegation,delegation_name,region,name,email,role,language,timezone
FRA,France,WEOG,Claire Dubois,claire@example.org,delegate,fr,Europe/Paris
MEX,Mexico,GRULAC,Diego Ramírez,diego@example.org,delegate,es,America/Mexico_City
"""


@dataclass
class FormsWorld:
    """What ``run_bot`` needs (``store``, ``clock``), and one round of one fixture form."""

    store: Any
    clock: Any
    round_id: int = 0
    people: dict[str, Participant] = field(default_factory=dict)

    async def enrol_code(self, email_prefix: str) -> str:
        issued = await issue_code(
            self.store.enrolments,
            participant_id=self.people[email_prefix].id,
            bot_username="itinera_test_bot",
            now=self.clock.now(),
            days=14,
        )
        return issued.code

    async def answers(self, email_prefix: str) -> dict[str, Any]:
        participant = self.people[email_prefix]
        response = await self.store.responses.get_response(self.round_id, participant.id)
        return dict(response.state.answers)


@pytest.fixture
async def world(store: Any, clock: Any, request: pytest.FixtureRequest) -> FormsWorld:
    """Overrides the example-survey world: the fixture form ``request.param``, launched to all
    (parametrize ``world`` indirectly with the file name)."""
    now = clock.now()
    actor = Actor.command_line("test")
    await organising.import_roster(store, actor, read_roster_csv(ROSTER), now=now)
    survey = read_survey_file(FIXTURES / request.param)
    await organising.import_survey(store, actor, survey, now=now)
    launched = await organising.launch(
        store,
        actor,
        organising.LaunchRequest(
            survey_id=survey.id,
            audience=Audience("all"),
            closes=now + timedelta(days=30),
            opens=now - timedelta(minutes=1),
        ),
        now=now,
    )
    people = {p.email.split("@")[0]: p for p in await store.roster.list_participants()}
    return FormsWorld(store, clock, launched.round.id, people)


def form(name: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("world", [name], indirect=True)


def buttons(fake: FakeTelegram, user: Any) -> list[str]:
    return [button.text for button in fake.last_keyboard(user)]


@form("nps_numbers.xlsx")
async def test_typing_0_7_and_10_on_a_list_labelled_0_to_10(
    fake: FakeTelegram, world: FormsWorld, run_bot: Any
) -> None:
    claire = fake.user(7001, "Claire", language_code="fr")
    code = await world.enrol_code("claire")
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "start", code))
        first = fake.bot_messages(claire)[-1]
        assert "Recommanderiez-vous le processus (0 à 10) ?" in first.text
        # The labels are numbers: the buttons are the labels, nothing numbers them.
        assert buttons(fake, claire) == [str(n) for n in range(11)]
        assert "1. 0" not in first.text

        recorded = []
        for typed in ("0", "7", "10"):
            await bot.act(fake.send_text(claire, typed))
            assert "Le processus est utile." in fake.bot_messages(claire)[-1].text
            recorded.append((await world.answers("claire"))["recommend"])
            await bot.act(fake.tap(claire, "Retour"))
        assert recorded == ["0", "7", "10"]

        # Codes 5 down to 1 are not positions: "1" typed is the choice coded 1.
        await bot.act(fake.tap(claire, "10"))
        assert buttons(fake, claire)[:5] == [
            "Tout à fait d'accord",
            "D'accord",
            "Neutre",
            "Pas d'accord",
            "Pas du tout d'accord",
        ]
        await bot.act(fake.send_text(claire, "tout a fait d'accord"))
        assert await world.answers("claire") == {"recommend": "10", "agree": "5"}


@form("large_ranges.xlsx")
async def test_ranges_larger_than_buttons_are_typed_with_bounds_and_step(
    fake: FakeTelegram, world: FormsWorld, run_bot: Any
) -> None:
    diego = fake.user(7002, "Diego", language_code="es")
    code = await world.enrol_code("diego")
    async with run_bot("polling") as bot:
        await bot.act(fake.command(diego, "start", code))
        # 0-100 by 5: 21 points, buttons in rows of six.
        assert buttons(fake, diego)[:3] == ["0", "5", "10"]
        await bot.act(fake.send_text(diego, "57"))
        refused = fake.bot_messages(diego)[-1].text
        assert "Por favor, escriba un número del 0 al 100, de 5 en 5." in refused
        await bot.act(fake.tap(diego, "55"))

        # 0-1000: no buttons for the points, the bounds said in words; typed.
        shown = fake.bot_messages(diego)[-1].text
        assert "Budget (thousands)?" in shown
        assert "Por favor, escriba un número del 0 al 1000." in shown
        assert not any(caption.isdigit() for caption in buttons(fake, diego))
        await bot.act(fake.send_text(diego, "1 001"))
        assert "Por favor, elija un número del 0 al 1000." in fake.bot_messages(diego)[-1].text
        await bot.act(fake.send_text(diego, "640"))

        await bot.act(fake.tap(diego, "8"))  # 10 down to 0 by 2: six buttons
        # 1-50: more points than Telegram buttons fit in four rows: typed.
        assert "Por favor, escriba un número del 1 al 50." in fake.bot_messages(diego)[-1].text
        await bot.act(fake.send_text(diego, "37"))
        await bot.act(fake.tap(diego, "Omitir"))
        assert await world.answers("diego") == {
            "share": 55,
            "budget": 640,
            "rating": 8,
            "years": 37,
            "slider": None,
        }


@form("piping.xlsx")
async def test_a_hostile_answer_piped_into_a_label_is_escaped(
    fake: FakeTelegram, world: FormsWorld, run_bot: Any
) -> None:
    hostile = "<b>*x*</b> <!channel>"
    claire = fake.user(7001, "Claire", language_code="fr")
    code = await world.enrol_code("claire")
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "start", code))
        await bot.act(fake.send_text(claire, hostile))
        await bot.act(fake.tap(claire, "Afrique"))

        shown = fake.bot_messages(claire)[-1]
        # What delegates read is the answer as typed, inside the label...
        assert f"Bonjour {hostile} : combien d'agents en Afrique ?" in shown.text
        # ...sent as escaped HTML, in the label's own bold.
        assert shown.markup is not None
        assert (
            "<b>Bonjour &lt;b&gt;*x*&lt;/b&gt; &lt;!channel&gt; : combien d'agents en Afrique ?</b>"
            in shown.markup
        )
        assert "<b>*x*</b>" not in shown.markup
        await bot.act(fake.send_text(claire, "12"))
        assert "12 agents en Afrique." in fake.bot_messages(claire)[-1].text  # piped into a note
        assert (await world.answers("claire"))["name"] == hostile


@form("groups_and_guidance.xlsx")
async def test_group_labels_head_their_first_question_and_guidance_is_a_hint(
    fake: FakeTelegram, world: FormsWorld, run_bot: Any
) -> None:
    claire = fake.user(7001, "Claire", language_code="fr")
    code = await world.enrol_code("claire")
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "start", code))
        first = fake.bot_messages(claire)[-1]
        assert first.markup is not None
        # The note before the group, then the group's label in bold, then the question.
        assert first.markup.index("Welcome.") < first.markup.index("<b>Return</b>")
        assert first.markup.index("<b>Return</b>") < first.markup.index("How many returns?")
        assert "Last year\nCount each person once." in first.text
        await bot.act(fake.send_text(claire, "3"))
        second = fake.bot_messages(claire)[-1]
        assert second.markup is not None
        assert second.markup.index("<b>Details</b>") < second.markup.index("Tell us more.")
        assert "<b>Return</b>" not in second.markup  # shown once, before the group's first
