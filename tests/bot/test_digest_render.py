"""The digest as an HTML page and a PNG chart."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.digest_render import render_chart, render_html
from bot.survey_files import read_survey_file
from surveys.definition import Survey
from surveys.digest import (
    ChoiceCount,
    CommentRow,
    DayCount,
    Digest,
    DigestData,
    PendingPerson,
    QuestionCount,
    ScaleCount,
    StatusCount,
    build_digest,
)
from surveys.records import Attribution, Audience, ResponseStatus, Round

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SCRIPT = "<script>alert('digest')</script> & \"quoted\""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOID = {"meta", "img", "br", "hr", "link", "input"}


@pytest.fixture(scope="module")
def survey() -> Survey:
    return read_survey_file(EXAMPLE)


def make_digest(survey: Survey, *, language: str = "en", empty: bool = False) -> Digest:
    round_ = Round(
        id=3,
        survey_id=survey.id,
        survey_version_id=1,
        audience=Audience("all"),
        opens_at=T0,
        closes_at=T0 + timedelta(days=14),
        created_at=T0,
        attribution=Attribution.NAMED,
    )
    statuses = (
        StatusCount(
            delegation="FRA",
            delegation_name="France",
            region="Western European and other States",
            status=ResponseStatus.SUBMITTED,
            count=1,
        ),
        StatusCount(
            delegation="SEN",
            delegation_name="Senegal",
            region="African States",
            status=ResponseStatus.IN_PROGRESS,
            count=1,
        ),
    )
    data = DigestData(statuses=statuses)
    if not empty:
        data = DigestData(
            statuses=statuses,
            pending=(
                PendingPerson(
                    participant_id=2,
                    name="Aminata <Diop>",
                    delegation="SEN",
                    status=ResponseStatus.IN_PROGRESS,
                ),
            ),
            scale=tuple(
                ScaleCount(question_id=f"alignment_{theme}", value=float(value), count=1)
                for theme, value in (("return", 4), ("transfer", 2), ("asylum_systems", 5))
            ),
            choices=(ChoiceCount(question_id="engagement_return", code="engaged", count=1),),
            answered=(QuestionCount(question_id="engagement_return", count=1),),
            comments=(
                CommentRow(
                    response_id=1,
                    question_id="comment_return",
                    text=SCRIPT,
                    participant_name="Claire Dubois",
                    delegation="FRA",
                    delegation_name="France",
                    answered_at=T0 + timedelta(days=1),
                ),
            ),
            submissions_by_day=(DayCount(day=date(2026, 3, 3), count=1),),
            first_answers_by_day=(DayCount(day=date(2026, 3, 3), count=1),),
        )
    return build_digest(
        survey=survey,
        round_=round_,
        data=data,
        previous=None,
        now=T0 + timedelta(days=3),
        language=language,
    )


class Checker(HTMLParser):
    """Checks that every element is closed in order, and remembers what it saw."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.declarations: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    return checker


def test_the_page_is_well_formed_and_standalone(survey: Survey) -> None:
    page = render_html(make_digest(survey), image_name="digest-round-3-2026-03-05.png")
    checker = parse(page)
    assert checker.problems == []
    assert checker.stack == []
    assert checker.declarations == ["DOCTYPE html"]
    tags = [tag for tag, _ in checker.tags]
    assert tags[:2] == ["html", "head"]
    assert ("html", {"lang": "en"}) in checker.tags
    assert ("meta", {"charset": "utf-8"}) in checker.tags
    assert "link" not in tags and "script" not in tags  # nothing to fetch, nothing to run
    images = [attrs for tag, attrs in checker.tags if tag == "img"]
    assert images == [
        {
            "src": "digest-round-3-2026-03-05.png",
            "alt": "Chart: mean alignment by theme, and response rate over time",
        }
    ]
    assert tags.count("table") >= 2 + 5  # regions, delegations, then scores and choices
    # The summary comes first, before any table.
    assert tags.index("p") < tags.index("table")


def test_text_from_people_is_escaped(survey: Survey) -> None:
    page = render_html(make_digest(survey), image_name=None)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;digest&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page
    assert "Aminata &lt;Diop&gt;" in page
    checker = parse(page)
    assert SCRIPT in "".join(checker.text)  # shown as text, exactly as written
    assert "Claire Dubois (France)" in "".join(checker.text)
    assert not [tag for tag, _ in checker.tags if tag == "img"]


def test_the_page_follows_the_digest_language(survey: Survey) -> None:
    checker = parse(render_html(make_digest(survey, language="es"), image_name="c.png"))
    assert ("html", {"lang": "es"}) in checker.tags
    words = "".join(checker.text)
    assert "En resumen" in words
    assert "Retorno de las personas que no necesitan protección internacional" in words
    assert "Ya participa" in words


def png_size(data: bytes) -> tuple[int, int]:
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("language", ["en", "fr", "es"])
def test_the_chart_is_a_png_with_two_panels(survey: Survey, language: str) -> None:
    image = render_chart(make_digest(survey, language=language))
    assert image.startswith(PNG_SIGNATURE)
    assert len(image) > 20_000
    width, height = png_size(image)
    assert width > 2 * height > 800  # two panels side by side


def test_a_chart_without_answers_still_renders(survey: Survey) -> None:
    image = render_chart(make_digest(survey, empty=True))
    assert image.startswith(PNG_SIGNATURE) and len(image) > 10_000
