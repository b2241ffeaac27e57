"""The digest's figures, texts and Markdown, from hand-made counts (no store)."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta

import pytest

from surveys.definition import Survey
from surveys.digest import (
    DIGEST_TEXTS,
    REQUIRED_LANGUAGES,
    ChoiceCount,
    CommentRow,
    DayCount,
    Digest,
    DigestData,
    DigestFigures,
    DigestPlan,
    DigestRun,
    PendingPerson,
    QuestionCount,
    ScaleCount,
    StatusCount,
    Tally,
    ThemeFigure,
    build_digest,
    escape_markdown,
    format_date,
    render_markdown,
    summary,
    text,
)
from surveys.records import Attribution, Audience, ResponseStatus, Round

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=4)
S = ResponseStatus

THEMES = {
    "return": {"en": "Return", "fr": "Retour", "es": "Retorno"},
    "transfer": {"en": "Lawful transfer", "fr": "Transfert légal", "es": "Traslado legal"},
}


@pytest.fixture
def survey(make_survey, make_question) -> Survey:
    return make_survey(
        make_question("intro", "note"),
        make_question("score_return", "scale", tags=["return"]),
        make_question(
            "score_return_bis",
            "scale",
            tags=["extra", "return"],
            scale={"min": 1, "max": 5, "min_label": {"en": "Not at all", "fr": "Pas du tout"}},
        ),
        make_question("topic_return", "single_choice", tags=["return"]),
        make_question("score_transfer", "scale", tags=["transfer"]),
        make_question("topics_transfer", "multiple_choice", tags=["transfer"]),
        make_question("comment_return", "text", tags=["return"]),
        make_question("score_general", "scale"),
        make_question("agree", "yes_no"),
        make_question("remarks", "text"),
        themes=THEMES,
    )


def make_round(attribution: Attribution = Attribution.DELEGATION, **fields: object) -> Round:
    values: dict[str, object] = {
        "id": 7,
        "survey_id": "test_survey",
        "survey_version_id": 1,
        "audience": Audience("all"),
        "opens_at": T0,
        "closes_at": T0 + timedelta(days=14),
        "created_at": T0,
        "attribution": attribution,
    }
    values.update(fields)
    return Round(**values)  # type: ignore[arg-type]


def status(code: str | None, state: ResponseStatus, count: int, region: str = "R1") -> StatusCount:
    names = {"FRA": "France", "SEN": "Senegal", "MEX": "Mexico", "PAK": "Pakistan"}
    return StatusCount(
        delegation=code,
        delegation_name=names.get(code or ""),
        region=region if code else None,
        status=state,
        count=count,
    )


def comment(response_id: int, question_id: str, text_: str, who: str, code: str) -> CommentRow:
    names = {"FRA": "France", "SEN": "Senegal", "MEX": "Mexico"}
    return CommentRow(
        response_id=response_id,
        question_id=question_id,
        text=text_,
        participant_name=who,
        delegation=code,
        delegation_name=names[code],
        answered_at=T0 + timedelta(days=1),
    )


DATA = DigestData(
    statuses=(
        status("FRA", S.SUBMITTED, 1, "Western"),
        status("FRA", S.IN_PROGRESS, 1, "Western"),
        status("SEN", S.PARTIAL, 1, "African"),
        status("SEN", S.NOT_STARTED, 1, "African"),
        status("MEX", S.SUBMITTED, 2, "Latin"),
        status("PAK", S.NOT_STARTED, 1, "Asian"),
        status(None, S.NOT_STARTED, 1),
    ),
    pending=(
        PendingPerson(participant_id=2, name="Hugo", delegation="FRA", status=S.IN_PROGRESS),
        PendingPerson(participant_id=3, name="Aminata", delegation="SEN", status=S.PARTIAL),
        PendingPerson(participant_id=4, name="Ibrahim", delegation="SEN", status=S.NOT_STARTED),
        PendingPerson(participant_id=7, name="Ayesha", delegation="PAK", status=S.NOT_STARTED),
        PendingPerson(participant_id=8, name="Nobody", delegation=None, status=S.NOT_STARTED),
    ),
    scale=(
        ScaleCount(question_id="score_return", value=4.0, count=2),
        ScaleCount(question_id="score_return", value=5.0, count=1),
        ScaleCount(question_id="score_return_bis", value=1.0, count=1),
        ScaleCount(question_id="score_transfer", value=3.0, count=3),
        ScaleCount(question_id="score_general", value=2.0, count=1),
    ),
    choices=(
        ChoiceCount(question_id="topic_return", code="trade", count=2),
        ChoiceCount(question_id="topic_return", code="retired_code", count=1),
        ChoiceCount(question_id="topics_transfer", code="trade", count=3),
        ChoiceCount(question_id="topics_transfer", code="health", count=2),
        ChoiceCount(question_id="agree", code="yes", count=3),
    ),
    answered=(
        QuestionCount(question_id="topic_return", count=3),
        QuestionCount(question_id="topics_transfer", count=3),
        QuestionCount(question_id="agree", count=3),
    ),
    comments=(
        comment(5, "remarks", "Overall fine.", "Lucía", "MEX"),
        comment(1, "comment_return", "We <script>alert(1)</script> agree", "Claire", "FRA"),
        comment(3, "comment_return", "Avec réserves *importantes*", "Aminata", "SEN"),
    ),
    submissions_by_day=(
        DayCount(day=date(2026, 3, 3), count=2),
        DayCount(day=date(2026, 3, 4), count=1),
    ),
    first_answers_by_day=(DayCount(day=date(2026, 3, 3), count=2),),
)


def digest_of(survey: Survey, **kwargs: object) -> Digest:
    values: dict[str, object] = {
        "survey": survey,
        "round_": make_round(),
        "data": DATA,
        "previous": None,
        "now": NOW,
        "language": "en",
    }
    values.update(kwargs)
    return build_digest(**values)  # type: ignore[arg-type]


# -- the plan ----------------------------------------------------------------------------------


def test_the_plan_sorts_questions_by_what_is_counted(survey: Survey) -> None:
    plan = DigestPlan.of(survey)
    assert plan.scale == ("score_return", "score_return_bis", "score_transfer", "score_general")
    assert plan.single == ("topic_return", "agree")
    assert plan.multiple == ("topics_transfer",)
    assert plan.text == ("comment_return", "remarks")
    assert set(plan.counted) == set(plan.scale + plan.single + plan.multiple)


# -- figures -----------------------------------------------------------------------------------


def test_a_delegation_has_answered_when_one_of_its_delegates_submitted(survey: Survey) -> None:
    digest = digest_of(survey)
    lines = {line.code: line for line in digest.delegations}
    assert lines["FRA"].answered and lines["FRA"].tally == Tally(
        invited=2, submitted=1, in_progress=1
    )
    assert not lines["SEN"].answered and lines["SEN"].started
    assert lines[None].name == "No delegation"
    assert (digest.delegations_invited, digest.delegations_answered) == (4, 2)
    assert digest.delegations_started == 1
    assert digest.participants == Tally(
        invited=8, submitted=3, partial=1, in_progress=1, not_started=3
    )
    assert digest.delegation_rate == 0.5
    assert [(r.region, r.delegations, r.answered) for r in digest.regions] == [
        ("African", 1, 0),
        ("Asian", 1, 0),
        ("Latin", 1, 1),
        ("Western", 1, 1),
        ("", 0, 0),  # the participant without a delegation, counted as a person only
    ]


def test_who_has_not_answered_lists_delegations_without_a_submission(survey: Survey) -> None:
    digest = digest_of(survey)
    assert [(r.region, [(d.code, d.people) for d in r.delegations]) for r in digest.pending] == [
        ("African", [("SEN", (("Aminata", S.PARTIAL), ("Ibrahim", S.NOT_STARTED)))]),
        ("Asian", [("PAK", (("Ayesha", S.NOT_STARTED),))]),
        ("", [(None, (("Nobody", S.NOT_STARTED),))]),
    ]  # Hugo is not chased: France has answered through Claire


def test_scales_are_pooled_by_theme_with_their_mean(survey: Survey) -> None:
    digest = digest_of(survey)
    returns, transfer = digest.themes
    assert returns.question_ids == ("score_return", "score_return_bis")
    assert [(p.value, p.count) for p in returns.points] == [
        (1.0, 1),
        (2.0, 0),
        (3.0, 0),
        (4.0, 2),
        (5.0, 1),
    ]
    assert returns.points[0].label == "Not at all"
    assert (returns.n, returns.mean) == (4, (1 + 4 + 4 + 5) / 4)
    assert (transfer.n, transfer.mean) == (3, 3.0)
    other = digest.sections[-1]
    assert other.key == "" and other.title == "Other questions"
    assert [(s.key, s.n, s.mean) for s in other.scales] == [("score_general", 1, 2.0)]
    assert digest.figures.themes == {
        "return": ThemeFigure(mean=3.5, n=4),
        "transfer": ThemeFigure(mean=3.0, n=3),
    }


def test_a_theme_without_answers_has_no_mean(survey: Survey) -> None:
    digest = digest_of(survey, data=DigestData(statuses=DATA.statuses))
    assert [(t.n, t.mean) for t in digest.themes] == [(0, None), (0, None)]
    assert "No alignment scores have been given yet." in summary(digest)


def test_choices_are_counted_per_option_in_the_digest_language(survey: Survey) -> None:
    digest = digest_of(survey, language="fr")
    choices = {c.question_id: c for section in digest.sections for c in section.choices}
    topic = choices["topic_return"]
    assert [(o.code, o.label, o.count) for o in topic.options] == [
        ("trade", "Commerce", 2),
        ("security", "Sécurité", 0),
        ("health", "Santé publique", 0),
        ("peace", "Paix, justice", 0),
        ("other", "Autre", 0),
        ("retired_code", "retired_code", 1),  # not in the list any more, still counted
    ]
    assert (topic.n, topic.multiple) == (3, False)
    assert choices["topics_transfer"].multiple and choices["topics_transfer"].n == 3
    assert [(o.label, o.count) for o in choices["agree"].options] == [("Oui", 3), ("Non", 0)]
    assert [s.key for s in digest.sections] == ["return", "transfer", ""]


@pytest.mark.parametrize(
    ("attribution", "expected"),
    [
        (Attribution.NAMED, ["Claire (France)", "Aminata (Senegal)", "Lucía (Mexico)"]),
        (Attribution.DELEGATION, ["France", "Senegal", "Mexico"]),
        (Attribution.ANONYMOUS, [None, None, None]),
    ],
)
def test_comments_are_attributed_as_the_round_says(
    survey: Survey, attribution: Attribution, expected: list[str | None]
) -> None:
    digest = digest_of(survey, round_=make_round(attribution))
    assert [q.attribution for q in digest.comments] == expected
    assert [q.heading for q in digest.comments] == ["Return", "Return", "Question remarks?"]


def test_anonymous_comments_do_not_follow_the_delegation_order(survey: Survey) -> None:
    digest = digest_of(survey, round_=make_round(Attribution.ANONYMOUS))
    assert [q.text for q in digest.comments[:2]] == [
        "Avec réserves *importantes*",
        "We <script>alert(1)</script> agree",
    ]


def test_progress_is_cumulative_by_day(survey: Survey) -> None:
    digest = digest_of(survey)
    assert [(p.day.day, p.participants, p.delegations) for p in digest.progress] == [
        (3, 2, 2),
        (4, 3, 2),
    ]


def test_changes_compare_with_the_previous_run(survey: Survey) -> None:
    previous = DigestRun(
        id=1,
        round_id=7,
        created_at=T0 + timedelta(days=1),
        figures=DigestFigures(
            participants=Tally(invited=8, submitted=1, not_started=7),
            delegations_invited=4,
            delegations_answered=1,
            themes={"return": ThemeFigure(mean=3.0, n=2), "transfer": ThemeFigure(mean=None, n=0)},
        ),
    )
    digest = digest_of(survey, previous=previous)
    change = digest.change
    assert change is not None
    assert (change.delegations_answered, change.participants_submitted) == (1, 2)
    assert change.rate_points == pytest.approx(25.0)
    assert [t.delta for t in digest.themes] == [pytest.approx(0.5), None]
    assert digest.comments_since == previous.created_at
    assert "Since the last digest (3 March 2026), 1 more delegation has answered." in summary(
        digest
    )
    assert digest_of(survey).change is None


def test_figures_survive_a_json_round_trip(survey: Survey) -> None:
    figures = digest_of(survey).figures
    stored = figures.model_dump(mode="json")
    assert DigestFigures.model_validate(stored) == figures
    assert DigestFigures.model_validate({**stored, "added_later": 1}) == figures
    assert "Claire" not in str(stored)  # counts only, never names or comments


def test_a_closed_round_says_when_it_closed(survey: Survey) -> None:
    closed_at = T0 + timedelta(days=3)
    digest = digest_of(survey, round_=make_round(closed_at=closed_at))
    assert digest.closed and digest.closes_at == closed_at
    assert summary(digest).endswith(
        "The round closed on 5 March 2026; answers not submitted by then are kept as partial."
    )
    assert summary(digest_of(survey)).endswith("The round closes on 16 March 2026.")


# -- texts -------------------------------------------------------------------------------------


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("key", sorted(DIGEST_TEXTS))
def test_every_text_has_the_required_languages_with_the_same_placeholders(key: str) -> None:
    by_language = DIGEST_TEXTS[key]
    assert [lang for lang in REQUIRED_LANGUAGES if lang not in by_language] == []
    expected = placeholders(by_language["en"]) - {"nbsp"}
    for language, template in by_language.items():
        assert placeholders(template) - {"nbsp"} == expected, (key, language)
        params = {name: "X" for name in expected}
        assert text(key, language, **params).strip()


def test_months_and_dates_are_written_in_each_language() -> None:
    for language in REQUIRED_LANGUAGES:
        assert len(text("months", language).split("|")) == 12
        assert len(text("months_short", language).split("|")) == 12
    assert format_date(date(2026, 3, 2), "en") == "2 March 2026"
    assert format_date(date(2026, 3, 2), "fr") == "2 mars 2026"
    assert format_date(date(2026, 3, 2), "es") == "2 de marzo de 2026"
    assert format_date(date(2026, 8, 15), "fr-CA") == "15 août 2026"
    assert format_date(date(2026, 8, 15), "ru") == "15 August 2026"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "2 of 4 delegations have answered (50%). 1 more has started but not submitted"),
        ("fr", "2 délégations sur 4 ont répondu (50\u00a0%). 1 autre a commencé"),
        ("es", "2 de 4 delegaciones han respondido (50\u00a0%). Otra 1 ha empezado"),
    ],
)
def test_the_summary_is_plain_words_in_the_digest_language(
    survey: Survey, language: str, expected: str
) -> None:
    paragraph = summary(digest_of(survey, language=language))
    assert paragraph.startswith(expected)
    assert "\n" not in paragraph


def test_the_summary_names_the_strongest_and_weakest_themes(survey: Survey) -> None:
    paragraph = summary(digest_of(survey))
    assert (
        "Alignment with national priorities is highest for Return (3.5 out of 5) and lowest for "
        "Lawful transfer (3.0 out of 5)." in paragraph
    )
    assert "There are 3 new comments." in paragraph
    assert "This is the first digest of this round." in paragraph
    assert "3,5 sur 5" in summary(digest_of(survey, language="fr"))


# -- Markdown ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
        ("*bold* and _it_", "\\*bold\\* and \\_it\\_"),
        ("# not a heading", "\\# not a heading"),
        ("- not a list", "\\- not a list"),
        ("1. not a list", "\\1. not a list"),
        ("a | b", "a \\| b"),
        ("two\nlines", "two lines"),
        ("plain (text), 3.5!", "plain (text), 3.5!"),
    ],
)
def test_people_text_is_made_inert_in_markdown(raw: str, escaped: str) -> None:
    assert escape_markdown(raw) == escaped


def test_markdown_leads_with_the_summary_then_the_figures(survey: Survey) -> None:
    digest = digest_of(survey)
    markdown = render_markdown(digest)
    lines = markdown.splitlines()
    assert lines[0] == "# Digest: Test survey"
    assert lines[2] == "Round 7 · closes 16 March 2026 · generated 6 March 2026, 08:00 UTC"
    assert lines[4] == "## In brief"
    assert lines[6].startswith("2 of 4 delegations have answered (50%).")
    for expected in (
        "_First digest of this round: nothing to compare with yet._",
        "_A delegation counts as answered when at least one of its delegates has submitted._",
        "- Delegations: 2 of 4 answered (50%)",
        "- Delegates: 3 submitted, 1 partial, 1 in progress, 3 not started, of 8 invited",
        "| Region | Delegations answered | Rate | Invited | Submitted | Partial | In progress "
        "| Not started |",
        "| African | 0 / 1 | 0% | 2 | 0 | 1 | 0 | 1 |",
        "| France (FRA) | Western | yes | 2 | 1 | 0 | 1 | 0 |",
        "- **Senegal (SEN)**: Aminata (partial (round closed)); Ibrahim (not started)",
        "### Return",
        "Mean alignment 3.5 out of 5 (n = 4)",
        "| 1 (Not at all) | 1 | ██████████ |",
        "| 4 | 2 | ████████████████████ |",
        "**Question topic\\_return?** (n = 3)",
        "- Trade: 2",
        "- retired\\_code: 1",
        "**Question topics\\_transfer?** (n = 3, several answers possible)",
        "_All comments so far: this is the round's first digest._",
        "> We \\<script\\>alert(1)\\</script\\> agree",
        "> — France",
        "> Avec réserves \\*importantes\\*",
    ):
        assert expected in lines, expected
    assert "<script>" not in markdown


def test_markdown_in_french(survey: Survey) -> None:
    markdown = render_markdown(digest_of(survey, language="fr"))
    assert "## En bref" in markdown
    assert "- Délégations\u00a0: 2 sur 4 ont répondu (50\u00a0%)" in markdown
    assert "Alignement moyen 3,5 sur 5 (n = 4)" in markdown
    assert "- Commerce: 2" in markdown


def test_compact_markdown_for_channels_has_no_tables_and_few_comments(survey: Survey) -> None:
    digest = digest_of(survey)
    compact = render_markdown(digest, compact=True, max_comments=2, files="d.md, d.html")
    assert "|" not in compact.replace("\\|", "")
    assert "- Latin: 1 of 1 delegations (100%)" in compact
    assert "Mean alignment 3.5 out of 5 (n = 4) — 1: 1 · 2: 0 · 3: 0 · 4: 2 · 5: 1" in compact
    assert compact.count("> —") == 2
    assert "…and 1 more in the full digest." in compact
    assert compact.rstrip().endswith("Full digest: d.md, d.html")
    assert "- Senegal (SEN)" in compact
    assert "Trade" not in compact  # choice counts are in the files only
    assert len(compact) < len(render_markdown(digest))
