"""The digest as an HTML page and a PNG chart."""

from __future__ import annotations

import base64
import io
import warnings
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from bot.digest_render import png_size, render_chart, render_html
from bot.survey_files import read_survey_file
from surveys.definition import Survey
from surveys.digest import (
    ChoiceCount,
    CommentRow,
    Digest,
    DigestData,
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
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SCRIPT = "<script>alert('digest')</script> & \"quoted\""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOID = {"meta", "img", "br", "hr", "link", "input"}


@pytest.fixture(scope="module")
def survey() -> Survey:
    return read_survey_file(EXAMPLE)


def make_digest(
    survey: Survey, *, language: str = "en", empty: bool = False, closed: bool = False
) -> Digest:
    round_ = Round(
        id=3,
        survey_id=survey.id,
        survey_version_id=1,
        audience=Audience("all"),
        opens_at=T0,
        closes_at=T0 + timedelta(days=14),
        created_at=T0,
        attribution=Attribution.NAMED,
        closed_at=T0 + timedelta(days=2) if closed else None,
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
            choices=(
                ChoiceCount(question_id="engagement_return", code="engaged", count=1),
                ChoiceCount(question_id="frameworks_return", code="gcr", count=1),
                ChoiceCount(question_id="frameworks_return", code="other", count=1),
            ),
            answered=(
                QuestionCount(question_id="engagement_return", count=1),
                QuestionCount(question_id="frameworks_return", count=1),
            ),
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
            others=(
                CommentRow(
                    response_id=1,
                    question_id="frameworks_other_return",
                    text="Cartagena <Declaration>",
                    participant_name="Claire Dubois",
                    delegation="FRA",
                    delegation_name="France",
                    answered_at=T0 + timedelta(days=1),
                ),
            ),
            submissions_by_hour=(HourCount(hour=T0 + timedelta(hours=27), count=1),),
            first_answers_by_hour=(HourCount(hour=T0 + timedelta(hours=27), count=1),),
        )
    return build_digest(
        survey=survey,
        round_=round_,
        data=data,
        previous=None,
        now=T0 + timedelta(days=3),
        language=language,
        classification="UNHCR internal",
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


def test_the_page_is_well_formed_and_self_contained(survey: Survey) -> None:
    chart = render_chart(make_digest(survey))
    page = render_html(make_digest(survey), chart=chart)
    checker = parse(page)
    assert checker.problems == []
    assert checker.stack == []
    assert checker.declarations == ["DOCTYPE html"]
    tags = [tag for tag, _ in checker.tags]
    assert tags[:2] == ["html", "head"]
    assert ("html", {"lang": "en", "dir": "ltr"}) in checker.tags
    assert ("meta", {"charset": "utf-8"}) in checker.tags
    assert "link" not in tags and "script" not in tags  # nothing to fetch, nothing to run
    # Every resource is inside the page: forwarded alone, it still shows its chart.
    sources = [attrs.get("src") or "" for _, attrs in checker.tags if "src" in attrs]
    assert len(sources) == 1 and sources[0].startswith("data:image/png;base64,")
    embedded = base64.b64decode(sources[0].removeprefix("data:image/png;base64,"))
    assert embedded == chart
    with Image.open(io.BytesIO(embedded)) as image:
        image.load()  # decodes
        assert image.size == png_size(chart)
    assert "url(" not in page
    [image_attrs] = [attrs for tag, attrs in checker.tags if tag == "img"]
    assert image_attrs["alt"] == (
        "Chart: alignment with national priorities by theme, and response rate over time"
    )
    assert tags.count("table") >= 2 + 3  # regions, delegations, then scores and choices
    # The marking heads the page and every printed page; the summary comes before any table.
    assert page.index('<p class="classification">UNHCR internal</p>') < page.index("<h1>")
    assert page.count("UNHCR internal") == 3  # the page's head, its foot, each printed page
    assert '@page { @top-center { content: "UNHCR internal"' in page
    assert "@page { size: A4;" in page and "@media print" in page
    assert tags.index("p") < tags.index("table")


def test_the_marking_cannot_escape_its_css_string(survey: Survey) -> None:
    digest = make_digest(survey).model_copy(update={"classification": '"}</style><b>x'})
    page = render_html(digest, chart=None)
    assert "</style><b>" not in page
    assert 'content: "\\22 }\\3c /style\\3e \\3c b\\3e x"' in page


def test_an_arabic_page_is_right_to_left(survey: Survey) -> None:
    checker = parse(render_html(make_digest(survey, language="ar"), chart=None))
    assert ("html", {"lang": "ar", "dir": "rtl"}) in checker.tags
    assert "باختصار" in "".join(checker.text)


def test_choices_list_their_other_answers_and_collapse_zero_rows(survey: Survey) -> None:
    page = render_html(make_digest(survey), chart=None)
    words = " ".join("".join(parse(page).text).split())
    assert "Other, as specified:" in words
    assert "Cartagena <Declaration> — Claire Dubois (France)" in words
    assert "Cartagena &lt;Declaration&gt;" in page
    assert "Not chosen: Planning to engage, Considering it, Not planning to engage and " in words
    assert "Not applicable" in words


def test_a_closed_round_says_did_not_answer(survey: Survey) -> None:
    words = "".join(parse(render_html(make_digest(survey, closed=True), chart=None)).text)
    assert "Did not answer" in words and "Not answered yet" not in words
    assert "closed on 4 March 2026" in words


def test_text_from_people_is_escaped(survey: Survey) -> None:
    page = render_html(make_digest(survey), chart=None)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;digest&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page
    assert "Aminata &lt;Diop&gt;" in page
    checker = parse(page)
    assert SCRIPT in "".join(checker.text)  # shown as text, exactly as written
    assert "Claire Dubois (France)" in "".join(checker.text)
    assert not [tag for tag, _ in checker.tags if tag == "img"]


def test_the_page_follows_the_digest_language(survey: Survey) -> None:
    checker = parse(render_html(make_digest(survey, language="es"), chart=None))
    assert ("html", {"lang": "es", "dir": "ltr"}) in checker.tags
    words = "".join(checker.text)
    assert "En resumen" in words
    assert "Retorno de las personas que no necesitan protección internacional" in words
    assert "Ya participa" in words


@pytest.mark.parametrize("language", ["ar", "zh", "en", "fr", "ru", "es"])
def test_the_chart_is_a_portrait_png_for_phones(survey: Survey, language: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph missing from every font is an error here
        image = render_chart(make_digest(survey, language=language))
    assert image.startswith(PNG_SIGNATURE)
    width, height = png_size(image)
    assert width == 1024 and height > 1.4 * width  # portrait, shown full width on a phone
    with Image.open(io.BytesIO(image)) as picture:
        colours = picture.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50  # drawn, not blank


def test_a_chart_without_answers_still_renders(survey: Survey) -> None:
    image = render_chart(make_digest(survey, empty=True))
    assert image.startswith(PNG_SIGNATURE) and len(image) > 10_000
