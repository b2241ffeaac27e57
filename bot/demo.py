"""``itinera demo``: one survey round, end to end, on this machine, in seconds.

With nothing configured, the demo creates a folder with its own SQLite database, imports the
example survey and a sample roster (twelve delegations from the five UN regional groups, on
Slack and Telegram, two organisers), and starts the local fakes of the Slack Web API and the
Telegram Bot API (:mod:`bot.fakes`) with the real channels against them: Slack over HTTP (signed
requests into our web server, Web API calls to the fake), Telegram by long polling. Telegram
delegates enrol with their one-time codes (``/start CODE``).

A round is launched on a simulated clock (Monday 08:00 UTC to Friday 16:00 UTC) that the demo
moves itself: :func:`surveys.delivery.tick` runs every simulated hour and at each reminder's
planned time, so invitations, reminders (3 days, 1 day and 2 hours before closing, moved into
each delegate's office hours) and the closing take seconds. Delegates answer through the fakes
only, as people would: buttons, checkboxes, forms and typed answers, in English, French, Spanish
(and Arabic, which the survey lacks, so English); some at once, some after a reminder, one stops
halfway, two never answer. At closing the digest (Markdown, HTML, PNG) is written and posted to
the organisers' Slack channel and Telegram chat, the round is exported to ``round-<id>.csv``, and
the digest's figures are checked against that export.

Example::

    itinera demo                        # into ./itinera-demo-<UTC timestamp>
    itinera demo --folder /tmp/demo     # or a folder of your choice (new or empty)
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import heapq
import itertools
import logging
import math
import socket
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

import httpx
import typer
from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

import surveys
from bot.bootstrap import Itinera, build
from bot.digest_cmd import DigestFiles, publish_digest
from bot.exporting import write_csv
from bot.fakes.slack_api import FakeMessage, FakeSlackApi, SignedSender, SlackUser
from bot.fakes.slack_api import FakeUser as SlackAccount
from bot.fakes.telegram_api import Button, ChatMessage, FakeTelegram
from bot.fakes.telegram_api import FakeUser as TelegramAccount
from bot.fakes.timing import InstantTimer
from bot.server import make_server
from bot.settings import Settings, TelegramMode, grouped
from bot.survey_files import read_survey_file
from handlers.slack import blocks
from handlers.slack.runtime import EVENTS_PATH
from handlers.telegram import callbacks
from handlers.telegram.enrolment import issue_code
from handlers.telegram.runtime import TelegramRuntime
from storage import migrate
from storage.database import Store, open_store
from surveys import engine
from surveys.definition import AnswerValue, QuestionType, Survey
from surveys.digest import COUNTED_STATUSES, Digest, theme_of
from surveys.errors import ItineraError
from surveys.export import ValueStyle
from surveys.ports import Messenger
from surveys.records import (
    Attribution,
    Audience,
    Participant,
    ResponseStatus,
    Round,
    StatusLine,
)
from surveys.reminders import OfficeHours, schedule_for, zone_or_utc
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor
from surveys.service.delivery import tick

log = logging.getLogger("itinera.demo")

SURVEY_FILE = Path(surveys.__file__).resolve().parent / "examples" / "route_alignment.yaml"
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""Simulated time the round opens: Monday 2 March 2026, 08:00 UTC."""
CLOSES = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
"""Simulated time it closes: Friday 6 March 2026, 16:00 UTC."""
REMINDERS = (3 * 24 * 60, 24 * 60, 2 * 60)
"""3 days, 1 day and 2 hours before closing (the default policy)."""

SLACK_TOKEN = "xoxb-itinera-demo"
SIGNING_SECRET = "itinera-demo-signing-secret"
SLACK_DIGEST_CHANNEL = "C0ORGANISERS"
TELEGRAM_DIGEST_CHAT = -1001000000001
ACTOR = "itinera demo"
WAIT_SECONDS = 15.0
"""Longest wait for the bot to handle one press or message before the demo gives up."""
MAX_ACTIONS = 80
"""More actions than this for one delegate's survey means something is stuck."""


class DemoError(ItineraError):
    """The demo could not play its week as written, or a check failed."""


# --- the cast ----------------------------------------------------------------------------------

Answers = Mapping[str, AnswerValue | None]
THEMES = ("return", "transfer", "durable_solutions", "alternatives", "asylum_systems")


def answers(
    scores: tuple[int, int, int, int, int],
    engagement: tuple[str, str, str, str, str],
    *,
    frameworks: Mapping[str, list[str]] | None = None,
    other: Mapping[str, str] | None = None,
    comments: Mapping[str, str] | None = None,
    priorities: list[str],
    follow_up: str | None = None,
) -> dict[str, AnswerValue | None]:
    """A delegate's answers to the example survey, theme by theme; what is left out is skipped
    (a multiple choice left empty is confirmed with nothing ticked)."""
    plan: dict[str, AnswerValue | None] = {}
    for theme, score, engaged in zip(THEMES, scores, engagement, strict=True):
        plan[f"alignment_{theme}"] = score
        plan[f"engagement_{theme}"] = engaged
        plan[f"frameworks_{theme}"] = list((frameworks or {}).get(theme, []))
        if theme in (other or {}):
            plan[f"frameworks_other_{theme}"] = (other or {})[theme]
        plan[f"comment_{theme}"] = (comments or {}).get(theme)
    plan["priorities"] = priorities
    plan["follow_up"] = "yes" if follow_up else "no"
    if follow_up:
        plan["follow_up_date"] = follow_up
    return plan


@dataclass(frozen=True)
class Behaviour:
    """When a delegate answers: ``hours`` after their invitation (``reminder`` 0) or after
    their ``reminder``-th reminder; ``stop_before`` a question and never come back (their
    response becomes partial at closing); or never (``hours`` None), maybe pressing a button
    once the round has closed (``after_closing``)."""

    hours: int | None
    reminder: int = 0
    stop_before: str | None = None
    after_closing: bool = False

    def describe(self) -> str:
        if self.hours is None:
            return "tries after closing" if self.after_closing else "never answers"
        if self.stop_before is not None:
            return "stops halfway"
        if self.reminder:
            return f"answers after reminder {self.reminder}"
        return "answers after the invitation"


@dataclass(frozen=True)
class Delegate:
    code: str
    country: str
    region: str
    name: str
    email: str
    language: str
    timezone: str
    channel: Literal["slack", "telegram"]
    account: str
    """Slack user id, or Telegram user id."""
    behaviour: Behaviour
    answers: Answers = field(default_factory=dict)
    typed: bool = False
    """Types rather than presses where the channel allows it (Slack: text in the DM; Telegram:
    scale points and choice numbers)."""


AFRICA = "African States"
ASIA = "Asia-Pacific States"
EASTERN_EUROPE = "Eastern European States"
LATIN_AMERICA = "Latin American and Caribbean States"
WEOG = "Western European and other States"

DELEGATES: tuple[Delegate, ...] = (
    Delegate(
        "MEX", "Mexico", LATIN_AMERICA, "Lucía Hernández", "lucia.hernandez@example.org",
        "es", "America/Mexico_City", "slack", "U01MEX0001", Behaviour(hours=1),
        answers(
            (4, 3, 5, 2, 4),
            ("engaged", "planning", "considering", "not_applicable", "engaged"),
            frameworks={"return": ["gcr", "other"], "transfer": ["puebla_process"]},
            other={"return": "Proceso de Cartagena"},
            comments={
                "durable_solutions": "México impulsa la integración local mediante programas "
                "estatales de empleo y documentación."
            },
            priorities=["return", "asylum_systems"],
            follow_up="2026-04-15",
        ),
    ),
    Delegate(
        "DEU", "Germany", WEOG, "Jonas Weber", "jonas.weber@example.org",
        "en", "Europe/Berlin", "slack", "U01DEU0001", Behaviour(hours=3),
        answers(
            (3, 2, 4, 4, 5),
            ("engaged", "considering", "engaged", "planning", "engaged"),
            frameworks={"return": ["budapest_process", "gcm"], "asylum_systems": ["gcr"]},
            comments={
                "asylum_systems": "Germany would welcome a joint workshop on asylum capacity "
                "in countries of transit."
            },
            priorities=["asylum_systems", "alternatives"],
        ),
    ),
    Delegate(
        "FRA", "France", WEOG, "Claire Dubois", "claire.dubois@example.org",
        "fr", "Europe/Paris", "slack", "U01FRA0001", Behaviour(hours=2, reminder=1),
        answers(
            (4, 2, 4, 3, 4),
            ("engaged", "considering", "planning", "considering", "engaged"),
            frameworks={"return": ["rabat_process"], "transfer": ["gcr"]},
            comments={
                "return": "La France soutient une approche fondée sur les itinéraires, à "
                "condition que les garanties de protection soient pleinement respectées."
            },
            priorities=["return", "transfer", "durable_solutions"],
            follow_up="2026-05-04",
        ),
        typed=True,
    ),
    Delegate(
        "POL", "Poland", EASTERN_EUROPE, "Katarzyna Nowak", "katarzyna.nowak@example.org",
        "en", "Europe/Warsaw", "slack", "U01POL0001", Behaviour(hours=1, reminder=2),
        answers(
            (2, 1, 3, 3, 4),
            ("considering", "not_planning", "considering", "planning", "engaged"),
            frameworks={"alternatives": ["budapest_process"]},
            priorities=["asylum_systems"],
        ),
    ),
    Delegate(
        "COL", "Colombia", LATIN_AMERICA, "Andrés Gómez", "andres.gomez@example.org",
        "es", "America/Bogota", "slack", "U01COL0001",
        Behaviour(hours=30, stop_before="alignment_durable_solutions"),
        answers(
            (3, 4, 4, 3, 3),
            ("planning", "engaged", "considering", "considering", "planning"),
            frameworks={"return": ["quito_process"], "transfer": ["quito_process", "gcr"]},
            comments={
                "transfer": "Colombia comparte la experiencia del Proceso de Quito y pide "
                "más apoyo para los países de acogida."
            },
            priorities=["transfer"],
        ),
    ),
    Delegate(
        "ETH", "Ethiopia", AFRICA, "Selam Tesfaye", "selam.tesfaye@example.org",
        "en", "Africa/Addis_Ababa", "slack", "U01ETH0001", Behaviour(hours=None),
    ),
    Delegate(
        "SEN", "Senegal", AFRICA, "Aminata Diop", "aminata.diop@example.org",
        "fr", "Africa/Dakar", "telegram", "7001", Behaviour(hours=2),
        answers(
            (5, 3, 4, 4, 3),
            ("engaged", "planning", "engaged", "engaged", "considering"),
            frameworks={"return": ["rabat_process", "gcm"], "alternatives": ["rabat_process"]},
            comments={
                "alternatives": "Les centres polyvalents doivent rester accessibles aux "
                "personnes en transit, y compris dans les régions frontalières."
            },
            priorities=["return", "alternatives"],
            follow_up="2026-04-20",
        ),
    ),
    Delegate(
        "IDN", "Indonesia", ASIA, "Putri Lestari", "putri.lestari@example.org",
        "en", "Asia/Jakarta", "telegram", "7002", Behaviour(hours=5),
        answers(
            (3, 3, 4, 5, 4),
            ("planning", "considering", "engaged", "engaged", "planning"),
            frameworks={"transfer": ["bali_process"], "alternatives": ["bali_process"]},
            priorities=["durable_solutions", "alternatives"],
        ),
        typed=True,
    ),
    Delegate(
        "EGY", "Egypt", AFRICA, "Nour Hassan", "nour.hassan@example.org",
        "ar", "Africa/Cairo", "telegram", "7003", Behaviour(hours=2, reminder=1),
        answers(
            (3, 2, 5, 4, 4),
            ("considering", "not_planning", "engaged", "planning", "engaged"),
            frameworks={"durable_solutions": ["khartoum_process", "gcr"]},
            priorities=["durable_solutions"],
            follow_up="2026-04-28",
        ),
    ),
    Delegate(
        "MDA", "Republic of Moldova", EASTERN_EUROPE, "Elena Rusu", "elena.rusu@example.org",
        "en", "Europe/Chisinau", "telegram", "7004", Behaviour(hours=3, reminder=2),
        answers(
            (4, 3, 3, 3, 5),
            ("engaged", "planning", "considering", "considering", "engaged"),
            frameworks={"asylum_systems": ["budapest_process"]},
            priorities=["asylum_systems", "transfer"],
        ),
    ),
    Delegate(
        "ECU", "Ecuador", LATIN_AMERICA, "María José Vera", "mariajose.vera@example.org",
        "es", "America/Guayaquil", "telegram", "7005", Behaviour(hours=1, reminder=3),
        answers(
            (3, 3, 4, 2, 3),
            ("planning", "considering", "engaged", "not_planning", "planning"),
            frameworks={"durable_solutions": ["quito_process"]},
            comments={
                "durable_solutions": "Ecuador solicita apoyo técnico para la integración "
                "local en las provincias fronterizas."
            },
            priorities=["durable_solutions", "return"],
        ),
    ),
    Delegate(
        "PAK", "Pakistan", ASIA, "Ayesha Khan", "ayesha.khan@example.org",
        "en", "Asia/Karachi", "telegram", "7006", Behaviour(hours=None, after_closing=True),
    ),
)  # fmt: skip

ORGANISERS = (
    ("Sofia Marquez", "sofia.marquez@example.org", "es", "Europe/Zurich", "U01ORG0001"),
    ("Daniel Okafor", "daniel.okafor@example.org", "en", "Europe/Zurich", "U01ORG0002"),
)


def roster_csv() -> str:
    """The demo's roster, in the CSV format ``itinera roster import`` reads."""
    lines = ["delegation,delegation_name,region,name,email,role,language,timezone,slack_user_id"]
    for d in DELEGATES:
        slack_id = d.account if d.channel == "slack" else ""
        lines.append(
            f"{d.code},{d.country},{d.region},{d.name},{d.email},delegate,{d.language},"
            f"{d.timezone},{slack_id}"
        )
    for name, email, language, zone, slack_id in ORGANISERS:
        lines.append(f",,,{name},{email},organiser,{language},{zone},{slack_id}")
    return "\n".join(lines) + "\n"


# --- settings and clock --------------------------------------------------------------------------


class DemoSettings(Settings):
    """Settings from the demo alone: no ITINERA_* variable of this machine applies."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class DemoClock:
    """The simulated time every part of the demo reads; only the demo moves it, forward."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def move_to(self, moment: datetime) -> None:
        if moment < self.current:
            raise ValueError(f"the demo clock cannot go back from {self.current} to {moment}")
        self.current = moment


# --- players: people pressing buttons, through the fakes ---------------------------------------


class Player(Protocol):
    """One delegate in front of their channel, acting on what it shows."""

    async def choose(self, prompt: engine.Prompt, option: engine.Option) -> None: ...

    async def tick(self, prompt: engine.Prompt, options: Sequence[engine.Option]) -> None: ...

    async def type(self, prompt: engine.Prompt, text: str) -> None: ...

    async def skip(self, prompt: engine.Prompt) -> None: ...

    async def submit(self) -> None: ...


class SlackPlayer:
    """A delegate in Slack: signed requests into our app, replies read from the fake."""

    def __init__(self, user: SlackUser, itinera: Itinera, *, typed: bool = False) -> None:
        self.user = user
        self.itinera = itinera
        self.typed = typed

    async def _send(self, request: Awaitable[httpx.Response]) -> httpx.Response:
        response = await request
        if response.status_code != 200:
            raise DemoError(f"Slack request refused ({response.status_code}): {response.text}")
        await self.itinera.settle(within=WAIT_SECONDS)
        return response

    async def choose(self, prompt: engine.Prompt, option: engine.Option) -> None:
        await self._send(self.user.press(action_id=f"{blocks.ACTION_CHOOSE}.{option.number}"))

    async def tick(self, prompt: engine.Prompt, options: Sequence[engine.Option]) -> None:
        wanted = {option.value for option in options}
        self.user.tick(*_checkbox_captions(self.user.screen(), wanted))
        await self._send(self.user.press(action_id=blocks.ACTION_DONE))

    async def type(self, prompt: engine.Prompt, text: str) -> None:
        if self.typed and prompt.question.type is QuestionType.TEXT:
            await self._send(self.user.say(text))  # typed in the direct message
            return
        await self._send(self.user.press(action_id=blocks.ACTION_TYPE))  # opens the form
        submitted = await self._send(self.user.submit(text))
        if submitted.content and submitted.json().get("response_action") == "errors":
            raise DemoError(f"Slack form refused {text!r}: {submitted.json()['errors']}")

    async def skip(self, prompt: engine.Prompt) -> None:
        await self._send(self.user.press(action_id=blocks.ACTION_SKIP))

    async def submit(self) -> None:
        await self._send(self.user.press(action_id=blocks.ACTION_SUBMIT))


def _checkbox_captions(message: FakeMessage, values: set[str]) -> list[str]:
    """The captions, as shown, of the checkboxes in ``message`` whose values are ``values``."""
    captions = []
    for block in message.blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "checkboxes":
                captions += [o["text"]["text"] for o in element["options"] if o["value"] in values]
    return captions


class TelegramPlayer:
    """A delegate in Telegram: updates through the fake, read from their chat."""

    def __init__(
        self,
        fake: FakeTelegram,
        account: TelegramAccount,
        itinera: Itinera,
        runtime: TelegramRuntime,
        *,
        typed: bool = False,
    ) -> None:
        self.fake = fake
        self.account = account
        self.itinera = itinera
        self.runtime = runtime
        self.typed = typed

    async def _send(self, update: Awaitable[int]) -> None:
        update_id = await update
        async with asyncio.timeout(WAIT_SECONDS):
            await self.runtime.receiver.until_received(update_id)
        await self.itinera.settle(within=WAIT_SECONDS)

    def _keyboard(self) -> tuple[ChatMessage, list[tuple[Button, callbacks.Button]]]:
        message = self.fake.last_keyboard_message(self.account)
        if message is None:
            raise DemoError(f"{self.account.first_name} has no buttons to press")
        decoded = [(button, callbacks.decode(button.data)) for button in message.buttons]
        return message, [(button, meaning) for button, meaning in decoded if meaning is not None]

    async def _press(self, wanted: Callable[[callbacks.Button], bool], what: str) -> None:
        message, buttons = self._keyboard()
        for button, meaning in buttons:
            if wanted(meaning) and button.data is not None:
                await self._send(self.fake.press(self.account, message.message_id, button.data))
                return
        shown = [button.text for button, _ in buttons]
        raise DemoError(f"{self.account.first_name}: no {what} button among {shown}")

    async def choose(self, prompt: engine.Prompt, option: engine.Option) -> None:
        if self.typed:  # a scale point, or a choice by its number
            kind = prompt.question.type
            written = option.value if kind is QuestionType.SCALE else str(option.number)
            await self._send(self.fake.send_text(self.account, written))
            return
        await self._press(
            lambda b: isinstance(b, callbacks.Choose) and b.number == option.number,
            f"option {option.number}",
        )

    async def tick(self, prompt: engine.Prompt, options: Sequence[engine.Option]) -> None:
        for option in options:
            _, buttons = self._keyboard()
            confirm = next(m for _, m in buttons if isinstance(m, callbacks.Confirm))
            if confirm.mask & (1 << (option.number - 1)):
                continue  # ticked already
            toggles = [m for _, m in buttons if isinstance(m, callbacks.Toggle)]
            await self._press(toggles[option.number - 1].__eq__, f"toggle {option.number}")
        await self._press(lambda b: isinstance(b, callbacks.Confirm), "Done")

    async def type(self, prompt: engine.Prompt, text: str) -> None:
        await self._send(self.fake.send_text(self.account, text))

    async def skip(self, prompt: engine.Prompt) -> None:
        await self._press(lambda b: isinstance(b, callbacks.SkipQuestion), "Skip")

    async def submit(self) -> None:
        await self._press(lambda b: isinstance(b, callbacks.SubmitAnswers), "Submit")

    async def start(self, code: str) -> None:
        """Open the personal enrolment link: ``/start CODE``."""
        await self._send(self.fake.command(self.account, "start", code))

    async def press_anything(self) -> None:
        """Press the first button of the newest message that has buttons."""
        await self._press(lambda b: True, "any")


async def answer_survey(
    player: Player,
    *,
    store: Store,
    survey: Survey,
    round_id: int,
    participant: Participant,
    plan: Answers,
    today: date,
    stop_before: str | None = None,
) -> int:
    """Answer, question by question as the screen shows them, then submit (or stop before
    ``stop_before``). Returns how many questions were answered or skipped."""
    last: tuple[str, int] | None = None
    done = 0
    for _ in range(MAX_ACTIONS):
        response = await store.responses.get_response(round_id, participant.id)
        if response.status is ResponseStatus.SUBMITTED:
            return done
        state = response.state if response.state.started else engine.start(survey, today=today)
        shown = engine.step(survey, state, language=participant.language, today=today)
        where = "the summary" if isinstance(shown, engine.Summary) else shown.question.id
        if (where, len(state.answers)) == last:
            raise DemoError(f"{participant.name}: the answer to {where} was not accepted")
        last = (where, len(state.answers))
        if isinstance(shown, engine.Summary):
            await player.submit()
            continue
        if where == stop_before:
            return done
        await _answer(player, shown, plan.get(where), who=participant.name)
        done += 1
    raise DemoError(f"{participant.name}: more than {MAX_ACTIONS} actions for one survey")


async def _answer(
    player: Player, prompt: engine.Prompt, value: AnswerValue | None, who: str
) -> None:
    kind = prompt.question.type
    if value is None:
        if not prompt.can_skip:
            raise DemoError(f"{who}: no answer planned for the required {prompt.question.id}")
        await player.skip(prompt)
    elif kind is QuestionType.MULTIPLE_CHOICE:
        codes = value if isinstance(value, list) else [str(value)]
        await player.tick(prompt, [option for option in prompt.options if option.value in codes])
    elif kind in (QuestionType.SCALE, QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
        found = [option for option in prompt.options if option.value == str(value)]
        if not found:
            raise DemoError(f"{who}: {value!r} is not an option of {prompt.question.id}")
        await player.choose(prompt, found[0])
    else:
        await player.type(prompt, str(value))


# --- the digest, checked against the export ----------------------------------------------------


def check_digest_against_export(
    digest: Digest, rows: Sequence[Mapping[str, str]], survey: Survey
) -> list[str]:
    """Recompute the digest's headline figures from the export's rows; what differs.

    Participants by status, delegations invited and answered (a delegation answered when one of
    its delegates submitted), the same by region, and each theme's mean alignment score over the
    submitted and partial responses.
    """
    problems: list[str] = []

    def same(what: str, digest_value: object, export_value: object) -> None:
        if digest_value != export_value:
            problems.append(f"{what}: digest {digest_value}, export {export_value}")

    statuses = Counter(row["status"] for row in rows)
    tally = digest.participants
    same("delegates invited", tally.invited, len(rows))
    for status in ResponseStatus:
        same(f"delegates {status.value}", getattr(tally, status.value), statuses[status.value])

    def delegations(selected: Sequence[Mapping[str, str]]) -> tuple[int, int]:
        codes = {row["delegation"] for row in selected if row["delegation"]}
        answered = {
            row["delegation"]
            for row in selected
            if row["delegation"] and row["status"] == ResponseStatus.SUBMITTED.value
        }
        return len(codes), len(answered)

    same(
        "delegations invited, answered",
        (digest.delegations_invited, digest.delegations_answered),
        delegations(rows),
    )
    by_region: dict[str, list[Mapping[str, str]]] = defaultdict(list)
    for row in rows:
        by_region[row["region"]].append(row)
    digest_regions = {line.region: line for line in digest.regions}
    same("regions", sorted(digest_regions), sorted(by_region))
    for region, members in by_region.items():
        line = digest_regions.get(region)
        if line is None:
            continue
        submitted = sum(row["status"] == ResponseStatus.SUBMITTED.value for row in members)
        same(
            f"{region or 'no region'}: delegations, answered, delegates, submitted",
            (line.delegations, line.answered, line.tally.invited, line.tally.submitted),
            (*delegations(members), len(members), submitted),
        )
    counted = {status.value for status in COUNTED_STATUSES}
    themes = {summary.key: summary for summary in digest.themes}
    for theme in survey.themes:
        questions = [
            q.id
            for q in survey.questions
            if q.type is QuestionType.SCALE and theme_of(survey, q) == theme
        ]
        values = [
            float(row[q])
            for row in rows
            if row["status"] in counted
            for q in questions
            if row.get(q, "") != ""
        ]
        summary = themes.get(theme)
        if summary is None:
            if values:
                problems.append(f"theme {theme}: {len(values)} scores exported, none in the digest")
            continue
        mean = sum(values) / len(values) if values else None
        same(f"theme {theme}: answers", summary.n, len(values))
        if (mean is None) != (summary.mean is None) or (
            mean is not None
            and summary.mean is not None
            and not math.isclose(mean, summary.mean, abs_tol=1e-9)
        ):
            problems.append(f"theme {theme}: mean {summary.mean} in the digest, {mean} exported")
    return problems


# --- the week --------------------------------------------------------------------------------


@dataclass
class Sent:
    """A message ``tick`` sent: to whom, what for, when, on which channel."""

    participant_id: int
    kind: Literal["invitation", "reminder", "other"]
    at: datetime
    channel: str
    step_minutes: int | None = None


@dataclass
class DemoResult:
    """What the demo did and found, for the summary (and the tests)."""

    folder: Path
    round_id: int
    files: DigestFiles
    export: Path
    sent: list[Sent]
    lines: list[StatusLine]
    channels: Mapping[int, str]
    """Participant id -> the channel of the demo's delegate."""
    refused_after_closing: list[tuple[str, str]]
    """(who, what the bot answered) for presses after the round closed."""
    slack_calls: Counter[str]
    telegram_calls: Counter[str]
    mismatches: list[str]
    problems: list[str]
    """Self-checks that failed (each invitation once, reminders only to non-responders, ...)."""


ProgressHook = Callable[[str, float], None]
"""``(what is happening, fraction done from 0 to 1)``."""


def _when(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %H:%M} UTC"


@dataclass(order=True)
class _Event:
    """Something due on the simulated clock: a tick (``delegate`` None) or a delegate acting."""

    at: datetime
    order: int
    """At the same moment, ticks (0) come before delegates (1)."""
    seq: int
    delegate: Delegate | None = field(default=None, compare=False)


@dataclass
class _World:
    """Everything running during the demo: the store, the fakes, the bot, the players."""

    store: Store
    clock: DemoClock
    survey: Survey
    people: dict[str, Participant]
    settings: Settings
    slack: FakeSlackApi
    telegram: FakeTelegram
    itinera: Itinera
    players: dict[str, Player]

    @property
    def delegates(self) -> dict[int, Delegate]:
        """The demo's delegates by participant id."""
        return {self.people[d.email].id: d for d in DELEGATES}

    @property
    def messengers(self) -> Sequence[Messenger]:
        return self.itinera.outs

    @property
    def office_hours(self) -> OfficeHours:
        return OfficeHours.parse(self.settings.office.hours, self.settings.office.days)


async def run_demo(folder: Path, *, progress: ProgressHook = lambda what, done: None) -> DemoResult:
    """Play the demo's week into ``folder`` (created if needed): see the module docstring."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{folder / 'itinera.db'}"
    clock = DemoClock(START - timedelta(hours=1))

    progress("creating the database", 0.0)
    await migrate.upgrade_async(url)
    store = await open_store(url, clock=clock)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(store.close)
        survey = read_survey_file(SURVEY_FILE)
        await organising.import_survey(store, Actor.command_line(ACTOR), survey, now=clock.now())
        roster = read_roster_csv(roster_csv())
        await organising.import_roster(store, Actor.command_line(ACTOR), roster, now=clock.now())

        progress("starting the fake Slack and Telegram, and the bot", 0.03)
        world = await _start(stack, store, clock, survey, url)

        progress("Telegram delegates enrol with their one-time links", 0.06)
        await _enrol(world)

        clock.move_to(START)
        progress(f"{_when(START)}: the organisers launch the round", 0.08)
        launched = await organising.launch(
            store,
            Actor.command_line(ACTOR),
            organising.LaunchRequest(
                survey_id=survey.id,
                audience=Audience.parse("all"),
                closes=CLOSES,
                remind=REMINDERS,
                attribution=Attribution.DELEGATION,
            ),
            now=clock.now(),
        )
        round_id = launched.round.id
        sent, refused = await _play_week(world, launched.round, progress)

        progress("writing and posting the digest", 0.9)
        files = await publish_digest(
            store,
            round_id,
            messengers=world.messengers,
            now=clock.now(),
            folder=folder,
        )
        if files.failures:
            raise DemoError("the digest was not posted: " + "; ".join(files.failures))

        progress("exporting the round and checking the digest against it", 0.95)
        export = folder / f"round-{round_id}.csv"
        with export.open("w", encoding="utf-8", newline="") as handle:
            await write_csv(
                store.responses.export_rows(round_id),
                handle,
                survey=survey,
                style=ValueStyle.CODES,
                language=survey.default_language,
                attribution=Attribution.DELEGATION,  # as the round was launched
            )
        with export.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        lines = list(await store.rounds.status(round_id))
        by_id = world.delegates
        progress("done", 1.0)
        return DemoResult(
            folder=folder,
            round_id=round_id,
            files=files,
            export=export,
            sent=sent,
            lines=lines,
            channels={pid: d.channel for pid, d in by_id.items()},
            refused_after_closing=refused,
            slack_calls=Counter(call.method for call in world.slack.calls),
            telegram_calls=Counter(call.method for call in world.telegram.calls),
            mismatches=check_digest_against_export(files.digest, rows, survey),
            problems=_self_checks(lines, sent, by_id, world.office_hours),
        )
    raise AssertionError("unreachable")  # pragma: no cover


async def _start(
    stack: contextlib.AsyncExitStack, store: Store, clock: DemoClock, survey: Survey, url: str
) -> _World:
    """Start the fakes, the web server and both channels; stopped when ``stack`` closes."""
    accounts = [
        SlackAccount(d.account, d.email, d.name, d.timezone, _locale(d.language))
        for d in DELEGATES
        if d.channel == "slack"
    ] + [
        SlackAccount(slack_id, email, name, zone, _locale(language))
        for name, email, language, zone, slack_id in ORGANISERS
    ]
    slack = await stack.enter_async_context(
        FakeSlackApi(users=accounts, channels=[SLACK_DIGEST_CHANNEL], token=SLACK_TOKEN)
    )
    telegram = await stack.enter_async_context(FakeTelegram())
    telegram.user(TELEGRAM_DIGEST_CHAT, "Itinera organisers")
    settings = DemoSettings(
        **grouped(
            {
                "database_url": url,
                "slack_bot_token": SecretStr(SLACK_TOKEN),
                "slack_signing_secret": SecretStr(SIGNING_SECRET),
                "slack_api_url": slack.url,
                "slack_digest_channel": SLACK_DIGEST_CHANNEL,
                "telegram_token": SecretStr(telegram.token),
                "telegram_api_url": telegram.url,
                "telegram_mode": TelegramMode.POLLING,
                "telegram_bot_username": telegram.username,
                "telegram_digest_chat": str(TELEGRAM_DIGEST_CHAT),
            }
        )
    )
    itinera = build(settings, store, clock=clock, timer=InstantTimer(), poll_timeout=1)
    base_url = await stack.enter_async_context(_serving(itinera))
    sender = await stack.enter_async_context(SignedSender(base_url + EVENTS_PATH, SIGNING_SECRET))
    for runtime in itinera.runtimes:
        await runtime.start()
        stack.push_async_callback(runtime.stop)
    for close in itinera.closers:
        stack.push_async_callback(close)
    telegram_runtime = next(r for r in itinera.runtimes if isinstance(r, TelegramRuntime))

    players: dict[str, Player] = {}
    for d in DELEGATES:
        if d.channel == "slack":
            user = SlackUser(slack, sender, d.account)
            players[d.email] = SlackPlayer(user, itinera, typed=d.typed)
        else:
            account = telegram.user(int(d.account), d.name.split()[0], language_code=d.language)
            players[d.email] = TelegramPlayer(
                telegram, account, itinera, telegram_runtime, typed=d.typed
            )
    people = {p.email: p for p in await store.roster.list_participants()}
    return _World(store, clock, survey, people, settings, slack, telegram, itinera, players)


async def _enrol(world: _World) -> None:
    """Before the launch, each Telegram delegate opens the personal link organisers sent."""
    for d in DELEGATES:
        if d.channel != "telegram":
            continue
        participant = world.people[d.email]
        issued = await issue_code(
            world.store.enrolments,
            participant_id=participant.id,
            bot_username=world.telegram.username,
            now=world.clock.now(),
            days=world.settings.enrolment_code_days,
        )
        player = world.players[d.email]
        assert isinstance(player, TelegramPlayer)
        await player.start(issued.code)
        if await world.store.identities.identity(participant.id, "telegram") is None:
            raise DemoError(f"{d.name} could not enrol on Telegram")


async def _play_week(
    world: _World, round_: Round, progress: ProgressHook
) -> tuple[list[Sent], list[tuple[str, str]]]:
    """Move the clock from the launch to the closing: the scheduler ticks every simulated hour
    and when each reminder is planned; delegates act when their behaviour says."""
    office_hours = world.office_hours
    events: list[_Event] = []
    counter = itertools.count()

    def due(at: datetime, delegate: Delegate | None = None) -> None:
        heapq.heappush(events, _Event(at, 0 if delegate is None else 1, next(counter), delegate))

    moments = {START + timedelta(hours=h) for h in range(_hours(START, CLOSES) + 1)}
    for zone in {d.timezone for d in DELEGATES}:
        moments |= {planned.at for planned in schedule_for(round_, zone, office_hours)}
    for moment in sorted(moments):
        due(moment)
    for late in DELEGATES:
        if late.behaviour.after_closing:
            due(CLOSES + timedelta(hours=1), late)

    by_id = world.delegates
    sent: list[Sent] = []
    reminded: Counter[int] = Counter()
    refused: list[tuple[str, str]] = []
    span = (CLOSES + timedelta(hours=1) - START).total_seconds()
    while events:
        event = heapq.heappop(events)
        world.clock.move_to(event.at)
        done = 0.08 + 0.8 * min((event.at - START).total_seconds() / span, 1.0)
        d = event.delegate
        if d is None:
            progress(f"{_when(event.at)}: the scheduler ticks", done)
            report = await tick(
                world.store,
                channels=world.itinera.outs,
                now=event.at,
                office_hours=office_hours,
            )
            await world.itinera.settle(within=WAIT_SECONDS)
            await _fail_on_errors(world)
            for delivery in [*report.invited, *report.reminded]:
                kind = _kind(delivery.key)
                step = int(delivery.key.split(":")[3]) if kind == "reminder" else None
                sent.append(Sent(delivery.participant_id, kind, event.at, delivery.channel, step))
                if kind == "reminder":
                    reminded[delivery.participant_id] += 1
                delegate = by_id.get(delivery.participant_id)
                if delegate is None or delegate.behaviour.hours is None or kind == "other":
                    continue
                if reminded[delivery.participant_id] == delegate.behaviour.reminder:
                    due(event.at + timedelta(hours=delegate.behaviour.hours), delegate)
            continue
        player = world.players[d.email]
        if d.behaviour.after_closing:
            progress(f"{_when(event.at)}: {d.name} tries to answer after closing", done)
            assert isinstance(player, TelegramPlayer)
            await player.press_anything()
            told = world.telegram.calls_to("answerCallbackQuery")[-1].params.get("text")
            if not told:
                raise DemoError(f"{d.name} pressed a button after closing and was told nothing")
            refused.append((d.name, str(told)))
            continue
        progress(f"{_when(event.at)}: {d.name} ({_channel_name(d)}, {d.language}) answers", done)
        await answer_survey(
            player,
            store=world.store,
            survey=world.survey,
            round_id=round_.id,
            participant=world.people[d.email],
            plan=d.answers,
            today=event.at.astimezone(zone_or_utc(d.timezone)).date(),
            stop_before=d.behaviour.stop_before,
        )
    return sent, refused


def _hours(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 3600)


def _locale(language: str) -> str:
    return {"en": "en-US", "fr": "fr-FR", "es": "es-ES", "ar": "ar-EG"}.get(language, "en-US")


def _channel_name(delegate: Delegate) -> str:
    return "Slack" if delegate.channel == "slack" else "Telegram"


def _kind(key: str) -> Literal["invitation", "reminder", "other"]:
    if key.startswith("invite:"):
        return "invitation"
    if key.startswith("reminder:"):
        return "reminder"
    return "other"


async def _fail_on_errors(world: _World) -> None:
    """Stop the demo if a message was refused, or is still waiting after settling."""
    for backlog in await world.store.messages.backlog():
        if backlog.failed or backlog.pending:
            raise DemoError(
                f"delivery failed on {backlog.channel}: {backlog.failed} refused, "
                f"{backlog.pending} not sent"
            )


def _self_checks(
    lines: Sequence[StatusLine],
    sent: Sequence[Sent],
    delegates: Mapping[int, Delegate],
    office_hours: OfficeHours,
) -> list[str]:
    """What the round promises, checked on what happened: each delegate invited once;
    reminders only before submission and inside office hours; each delegate did as planned."""
    problems = []
    invitations = Counter(s.participant_id for s in sent if s.kind == "invitation")
    for line in lines:
        if invitations[line.participant.id] != 1:
            count = invitations[line.participant.id]
            problems.append(f"{line.participant.name} was invited {count} times")
        submitted = line.submitted_at
        for s in sent:
            if s.kind != "reminder" or s.participant_id != line.participant.id:
                continue
            if submitted is not None and submitted <= s.at:
                problems.append(f"{line.participant.name} was reminded after submitting")
            local = s.at.astimezone(zone_or_utc(line.participant.timezone))
            if not office_hours.contains(local):
                problems.append(f"{line.participant.name} was reminded at {local:%a %H:%M}")
        delegate = delegates[line.participant.id]
        expected = (
            ResponseStatus.NOT_STARTED
            if delegate.behaviour.hours is None
            else ResponseStatus.PARTIAL
            if delegate.behaviour.stop_before
            else ResponseStatus.SUBMITTED
        )
        if line.status is not expected:
            problems.append(
                f"{line.participant.name} ({delegate.behaviour.describe()}) ended "
                f"{line.status.value}, not {expected.value}"
            )
    return problems


@contextlib.asynccontextmanager
async def _serving(itinera: Itinera) -> AsyncIterator[str]:
    """Itinera's web server (``bot.server``) on 127.0.0.1, ephemeral port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue until uvicorn accepts them
    port = int(sock.getsockname()[1])
    server = make_server(itinera.web, host="127.0.0.1", port=port, log_level="warning")
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        sock.close()


# --- the command -------------------------------------------------------------------------------


@contextlib.contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """Everything logged goes to ``path`` (and not to the terminal) while the demo runs."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def default_folder(now: datetime) -> Path:
    return Path(f"itinera-demo-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}")


def demo(folder: Path | None = None) -> None:
    """Play the demo into ``folder`` (new or empty; a timestamped one by default): what
    ``itinera demo`` runs, its help is in :mod:`bot.cli`."""
    started = time.perf_counter()
    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False)
    target = folder or default_folder(datetime.now(UTC))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        err.print(f"error: {target} exists and is not an empty folder; choose another --folder")
        raise typer.Exit(1)
    target.mkdir(parents=True, exist_ok=True)
    with (
        _log_to(target / "demo.log"),
        Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=err,
        ) as bar,
    ):
        task: TaskID = bar.add_task("starting", total=1.0)

        def step(what: str, done: float) -> None:
            bar.update(task, description=_fit(what), completed=done)

        try:
            result = asyncio.run(run_demo(target.resolve(), progress=step))
        except (ItineraError, TimeoutError) as error:
            log.exception("the demo failed")
            bar.stop()
            err.print(f"error: {error} (see {target / 'demo.log'})")
            raise typer.Exit(1) from None
    print_summary(out, result, seconds=time.perf_counter() - started)
    if result.mismatches or result.problems:
        raise typer.Exit(1)


def _fit(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_summary(out: Console, result: DemoResult, *, seconds: float) -> None:
    """The short account of the week printed at the end."""
    digest = result.files.digest
    out.print(
        f"Itinera demo: a survey week ({_when(START)} to {_when(CLOSES)}, simulated) "
        f"played in {seconds:.1f} s."
    )
    out.print(f"Folder: {result.folder}")
    names = sorted(path.name for path in result.folder.iterdir() if path.is_file())
    out.print("Files:  " + ", ".join(name for name in names if not name.startswith("itinera.db-")))

    table = Table(
        "",
        "invited",
        "reminded",
        "reminders",
        "answered",
        "of them late",
        "partial",
        "never",
        box=None,
        pad_edge=False,
    )
    rows: dict[str, Counter[str]] = {"Slack": Counter(), "Telegram": Counter()}
    for line in result.lines:
        pid = line.participant.id
        counts = rows["Slack" if result.channels[pid] == "slack" else "Telegram"]
        mine = [s for s in result.sent if s.participant_id == pid]
        reminders = [s for s in mine if s.kind == "reminder"]
        counts["invited"] += any(s.kind == "invitation" for s in mine)
        counts["reminded"] += bool(reminders)
        counts["reminders"] += len(reminders)
        if line.status is ResponseStatus.SUBMITTED:
            counts["answered"] += 1
            counts["late"] += bool(reminders)
        counts["partial"] += line.status is ResponseStatus.PARTIAL
        counts["never"] += line.status is ResponseStatus.NOT_STARTED
    rows["All"] = rows["Slack"] + rows["Telegram"]
    keys = ("invited", "reminded", "reminders", "answered", "late", "partial", "never")
    for name, counts in rows.items():
        table.add_row(name, *(str(counts[key]) for key in keys))
    out.print(table)

    steps = Counter(s.step_minutes for s in result.sent if s.kind == "reminder")
    described = ", ".join(
        f"{count} at {_step(minutes)}"
        for minutes, count in sorted(steps.items(), reverse=True)
        if minutes is not None
    )
    out.print(
        f"Reminders: {sum(steps.values())} ({described} before closing), each in the "
        "delegate's office hours and only to delegates who had not submitted."
    )
    for name, answer in result.refused_after_closing:
        out.print(f"{name} pressed a button after closing and was told: {answer}")
    slack, telegram = result.slack_calls, result.telegram_calls
    out.print(
        f"Through the fake Slack Web API: {slack['chat.postMessage']} messages, "
        f"{slack['chat.update']} updates in place, {slack['views.open']} forms, "
        f"{slack['files.completeUploadExternal']} file; {sum(slack.values())} calls in all."
    )
    out.print(
        f"Through the fake Telegram Bot API: {telegram['sendMessage']} messages, "
        f"{telegram['editMessageText'] + telegram['editMessageReplyMarkup']} edits, "
        f"{telegram['answerCallbackQuery']} button answers, {telegram['sendPhoto']} photo."
    )
    rate = digest.delegation_rate
    tally = digest.participants
    out.print(
        f"Digest: {digest.delegations_answered} of {digest.delegations_invited} delegations "
        f"answered ({100 * (rate or 0):.0f}%); {tally.submitted} delegates submitted, "
        f"{tally.partial} partial, {tally.not_started} not started; posted to "
        f"{', '.join(result.files.posted_to)}."
    )
    out.print("Mean alignment with national priorities (1 to 5), by theme:")
    for summary in digest.themes:
        mean = "-" if summary.mean is None else f"{summary.mean:.1f}"
        out.print(f"  {mean:>3}  {summary.title} (n={summary.n})")
    for problem in result.problems:
        out.print(f"check failed: {problem}")
    for mismatch in result.mismatches:
        out.print(f"mismatch: {mismatch}")
    out.print(f"digest matches export: {'no' if result.mismatches else 'yes'}")
    out.print(f"Done in {seconds:.1f} s.")


def _step(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days > 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours > 1 else ''}"


__all__ = [
    "DELEGATES",
    "Behaviour",
    "Delegate",
    "DemoClock",
    "DemoError",
    "DemoResult",
    "DemoSettings",
    "answer_survey",
    "check_digest_against_export",
    "demo",
    "print_summary",
    "roster_csv",
    "run_demo",
]


if __name__ == "__main__":
    typer.run(demo)
