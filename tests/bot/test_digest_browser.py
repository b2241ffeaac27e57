"""The HTML digest as a reader sees it: rendered by headless Chromium, checked, photographed.

Each page (English, French, Arabic) is written to ``test-artifacts/digest/`` at the root of the
repository, opened from there by Chromium (Debian's ``chromium`` package, which ``.ci/run``
installs) through the DevTools protocol at 1024 CSS pixels wide, and checked as it is laid
out: its one image decoded (``naturalWidth`` > 0), nothing fetched from anywhere, nothing wider
than the window, and in Arabic the page right to left with its table columns mirrored. A
full-page screenshot and an A4 print of each stay in the same folder, for people to look at
(CI keeps them there).

Without Chromium this test fails, saying how to install it: it never skips.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.digest_cmd import write_digest_files
from bot.survey_files import read_survey_file
from surveys.definition import QuestionType, Survey
from surveys.digest import (
    ChoiceCount,
    CommentRow,
    Digest,
    DigestData,
    DigestPlan,
    HourCount,
    PendingPerson,
    QuestionCount,
    ScaleCount,
    StatusCount,
    build_digest,
)
from surveys.records import Attribution, Audience, ResponseStatus, Round

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
ARTIFACTS = ROOT / "test-artifacts" / "digest"
"""Where the pages, their screenshots and A4 prints are left (git-ignored; README says so)."""
WIDTH = 1024
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
S = ResponseStatus

DELEGATIONS = [
    ("FRA", "France", "Western European and other States", S.SUBMITTED),
    ("DEU", "Germany", "Western European and other States", S.SUBMITTED),
    ("SEN", "Senegal", "African States", S.SUBMITTED),
    ("EGY", "Egypt", "African States", S.SUBMITTED),
    ("ETH", "Ethiopia", "African States", S.NOT_STARTED),
    ("MEX", "Mexico", "Latin American and Caribbean States", S.SUBMITTED),
    ("ECU", "Ecuador", "Latin American and Caribbean States", S.SUBMITTED),
    ("COL", "Colombia", "Latin American and Caribbean States", S.PARTIAL),
    ("IDN", "Indonesia", "Asia-Pacific States", S.SUBMITTED),
    ("PAK", "Pakistan", "Asia-Pacific States", S.NOT_STARTED),
    ("POL", "Poland", "Eastern European States", S.SUBMITTED),
    ("MDA", "Republic of Moldova", "Eastern European States", S.SUBMITTED),
]
SCORES = [
    [2, 3, 3, 3, 3, 3, 4, 4, 4, 5],
    [1, 2, 2, 2, 3, 3, 3, 3, 3, 4],
    [3, 3, 4, 4, 4, 4, 4, 5, 5, 5],
    [2, 2, 3, 3, 3, 4, 4, 4, 5, 5],
    [3, 3, 4, 4, 4, 4, 4, 5, 5, 5],
]
"""Scores of the ten counted responses, per theme: two themes tie at the top."""
COMMENTS = [
    ("FRA", "comment_return", "La France soutient une approche fondée sur les itinéraires."),
    ("COL", "comment_transfer", "Colombia comparte la experiencia del Proceso de Quito."),
    ("DEU", "comment_asylum_systems", "A joint workshop on asylum capacity would help."),
    ("EGY", "comment_durable_solutions", "نرحب بمزيد من الدعم للحلول الدائمة في المنطقة."),
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "headless Chromium is needed to render the digest: install Debian's package "
            "with `apt-get install -y chromium` (.ci/run does this when it is missing)"
        )
    return found


def round_data(survey: Survey) -> DigestData:
    """A closed round of twelve delegations, as storage would count it (deterministic)."""
    plan = DigestPlan.of(survey)
    counted = [code for code, _, _, status in DELEGATIONS if status in (S.SUBMITTED, S.PARTIAL)]
    scale: list[ScaleCount] = []
    choices: list[ChoiceCount] = []
    answered: list[QuestionCount] = []
    for question_id, points in zip(plan.scale, SCORES, strict=True):
        for value in sorted(set(points)):
            count = points.count(value)
            scale.append(ScaleCount(question_id=question_id, value=value, count=count))
    for index, question in enumerate(survey.questions):
        if question.type not in (
            QuestionType.SINGLE_CHOICE,
            QuestionType.MULTIPLE_CHOICE,
            QuestionType.YES_NO,
        ):
            continue
        options = [option.value for option in survey.choices_of(question)]
        picked = [options[(n + index) % min(3, len(options))] for n in range(len(counted))]
        if question.type is QuestionType.MULTIPLE_CHOICE:
            picked += [options[-1]] if question.id == "frameworks_return" else []
        answered.append(QuestionCount(question_id=question.id, count=len(counted)))
        for code in sorted(set(picked)):
            count = picked.count(code)
            choices.append(ChoiceCount(question_id=question.id, code=code, count=count))
    names = {code: name for code, name, _, _ in DELEGATIONS}

    def row(n: int, code: str, question_id: str, words: str) -> CommentRow:
        return CommentRow(
            response_id=n,
            question_id=question_id,
            text=words,
            participant_name=f"Delegate of {names[code]}",
            delegation=code,
            delegation_name=names[code],
            answered_at=T0 + timedelta(days=1),
        )

    hours = [T0 + timedelta(hours=h) for h in (2, 3, 5, 27, 30, 50, 53, 76, 98)]
    return DigestData(
        statuses=tuple(
            StatusCount(delegation=code, delegation_name=name, region=region, status=s, count=1)
            for code, name, region, s in DELEGATIONS
        ),
        pending=tuple(
            PendingPerson(participant_id=n, name=f"Delegate of {name}", delegation=code, status=s)
            for n, (code, name, _, s) in enumerate(DELEGATIONS)
            if s is not S.SUBMITTED
        ),
        scale=tuple(scale),
        choices=tuple(choices),
        answered=tuple(answered),
        comments=tuple(row(n, *comment) for n, comment in enumerate(COMMENTS)),
        others=(row(9, "MEX", "frameworks_other_return", "Declaración de Cartagena"),),
        submissions_by_hour=tuple(HourCount(hour=hour, count=1) for hour in hours),
        first_answers_by_hour=tuple(HourCount(hour=hour, count=1) for hour in hours),
    )


def make_digest(language: str) -> Digest:
    survey = read_survey_file(EXAMPLE)
    round_ = Round(
        id=1,
        survey_id=survey.id,
        survey_version_id=1,
        audience=Audience("all"),
        opens_at=T0,
        closes_at=T0 + timedelta(days=4, hours=8),
        created_at=T0,
        attribution=Attribution.DELEGATION,
    )
    return build_digest(
        survey=survey,
        round_=round_,
        data=round_data(survey),
        previous=None,
        now=T0 + timedelta(days=4, hours=9),
        language=language,
        classification="UNHCR internal",
    )


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands by id, events kept in order."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = 0
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, session: str | None = None, **params: Any) -> Any:
        self._ids += 1
        message: dict[str, Any] = {"id": self._ids, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        await self._socket.send_str(json.dumps(message))
        while True:
            reply = await self._receive()
            if reply.get("id") == self._ids:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    async def event(self, method: str, session: str) -> dict[str, Any]:
        """The first event ``method`` of ``session``, waiting for it if it has not come."""
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            self.events.append(await self._receive())

    async def _receive(self) -> dict[str, Any]:
        message = await self._socket.receive()
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"Chromium closed the DevTools connection: {message.type}")
        return dict(json.loads(message.data))


@contextlib.asynccontextmanager
async def browser() -> AsyncIterator[DevTools]:
    """Chromium, headless, with an empty profile of its own, driven over its DevTools socket."""
    with tempfile.TemporaryDirectory(prefix="itinera-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            url = await asyncio.wait_for(_devtools_url(process), timeout=60)
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(url, max_msg_size=0) as socket,
            ):
                tools = DevTools(socket)
                yield tools
                with contextlib.suppress(AssertionError, aiohttp.ClientError):
                    await tools.call("Browser.close")
            await asyncio.wait_for(process.wait(), timeout=30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def _devtools_url(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    seen: list[str] = []
    while line := (await process.stderr.readline()).decode(errors="replace"):
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
        seen.append(line.rstrip())
    raise AssertionError("Chromium stopped before opening DevTools:\n" + "\n".join(seen[-20:]))


CHECKS = """
(async () => {
  const images = [...document.images];
  await Promise.all(images.map((image) => image.decode().catch(() => null)));
  const cells = [...document.querySelectorAll("table")][0].rows[0].cells;
  const wide = [...document.querySelectorAll("body *")]
    .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 0.5
      || element.getBoundingClientRect().left < -0.5)
    .map((element) => element.tagName + "." + element.className);
  return {
    images: images.map((image) => ({
      data: image.src.startsWith("data:image/png;base64,"),
      complete: image.complete,
      naturalWidth: image.naturalWidth,
      width: image.getBoundingClientRect().width,
    })),
    fetched: performance.getEntriesByType("resource").map((entry) => entry.name),
    innerWidth: window.innerWidth,
    clientWidth: document.documentElement.clientWidth,
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    wide: wide,
    direction: getComputedStyle(document.body).direction,
    firstColumnLeft: cells[0].getBoundingClientRect().left,
    secondColumnLeft: cells[1].getBoundingClientRect().left,
    height: document.documentElement.scrollHeight,
  };
})()
"""


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
async def test_the_digest_renders_in_chromium(language: str) -> None:
    digest = make_digest(language)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _markdown, html, _png, _image = write_digest_files(digest, ARTIFACTS, f"digest-{language}")
    screenshot = ARTIFACTS / f"screenshot-{language}.png"
    printed = ARTIFACTS / f"print-{language}.pdf"
    screenshot.unlink(missing_ok=True)

    async with browser() as tools:
        target = await tools.call("Target.createTarget", url="about:blank")
        attached = await tools.call(
            "Target.attachToTarget", targetId=target["targetId"], flatten=True
        )
        session = attached["sessionId"]
        await tools.call("Page.enable", session)
        await tools.call(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=WIDTH,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        await tools.call("Page.navigate", session, url=html.as_uri())
        await asyncio.wait_for(tools.event("Page.loadEventFired", session), timeout=60)
        found = await tools.call(
            "Runtime.evaluate", session, expression=CHECKS, awaitPromise=True, returnByValue=True
        )
        page = found["result"]["value"]
        shot = await tools.call(
            "Page.captureScreenshot", session, format="png", captureBeyondViewport=True
        )
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        pdf = await tools.call("Page.printToPDF", session, preferCSSPageSize=True)
        printed.write_bytes(base64.b64decode(pdf["data"]))

    # No broken image: the chart is inside the page and decodes.
    assert [image["data"] for image in page["images"]] == [True]
    assert all(image["complete"] and image["naturalWidth"] > 0 for image in page["images"])
    assert page["images"][0]["width"] > 400
    assert page["fetched"] == []  # nothing outside the file itself
    # No horizontal overflow at 1024 pixels.
    assert page["innerWidth"] == WIDTH
    assert page["scrollWidth"] <= WIDTH and page["bodyScrollWidth"] <= WIDTH
    assert page["scrollWidth"] <= page["clientWidth"]  # not even under the scroll bar
    assert page["wide"] == []
    # Right to left in Arabic, with the table columns mirrored; left to right otherwise.
    if language == "ar":
        assert page["direction"] == "rtl"
        assert page["firstColumnLeft"] > page["secondColumnLeft"]
    else:
        assert page["direction"] == "ltr"
        assert page["firstColumnLeft"] < page["secondColumnLeft"]
    picture = screenshot.read_bytes()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(picture[16:20], "big") == page["clientWidth"]
    assert int.from_bytes(picture[20:24], "big") == page["height"] > 2000  # the whole page
    assert printed.read_bytes().startswith(b"%PDF")
