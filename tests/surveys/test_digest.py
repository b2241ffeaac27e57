"""The digest's figures, texts and Markdown, from hand-made counts (no store)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from surveys import i18n
from surveys.definition import Survey
from surveys.digest import (
    DIGEST_LANGUAGES,
    FSI,
    PDI,
    ChoiceCount,
    CommentRow,
    Digest,
    DigestData,
    DigestFigures,
    DigestPlan,
    DigestRun,
    HourCount,
    OtherLink,
    PendingPerson,
    QuestionCount,
    ScaleCount,
    StatusCount,
    Tally,
    ThemeFigure,
    build_digest,
    digest_language,
    escape_markdown,
    format_date,
    format_decimal,
    format_moment,
    format_period,
    format_rate,
    other_links,
    plural,
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
        make_question(
            "topics_other",
            "text",
            tags=["transfer"],
            relevant="selected(${topics_transfer}, 'other')",
        ),
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
    others=(comment(5, "topics_other", "Cartagena Declaration", "Lucía", "MEX"),),
    submissions_by_hour=(
        HourCount(hour=datetime(2026, 3, 3, 9, tzinfo=UTC), count=1),
        HourCount(hour=datetime(2026, 3, 3, 14, tzinfo=UTC), count=1),
        HourCount(hour=datetime(2026, 3, 4, 10, tzinfo=UTC), count=1),
    ),
    first_answers_by_hour=(
        HourCount(hour=datetime(2026, 3, 3, 9, tzinfo=UTC), count=1),
        HourCount(hour=datetime(2026, 3, 3, 14, tzinfo=UTC), count=1),
    ),
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
    assert plan.other == ("topics_other",)  # "other, please specify": not a comment
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
    digest = digest_of(survey, round_=make_round(Attribution.NAMED))
    assert [(r.region, [(d.code, d.people) for d in r.delegations]) for r in digest.pending] == [
        ("African", [("SEN", (("Aminata", S.PARTIAL), ("Ibrahim", S.NOT_STARTED)))]),
        ("Asian", [("PAK", (("Ayesha", S.NOT_STARTED),))]),
        ("", [(None, (("Nobody", S.NOT_STARTED),))]),
    ]  # Hugo is not chased: France has answered through Claire


@pytest.mark.parametrize("attribution", [Attribution.DELEGATION, Attribution.ANONYMOUS])
def test_who_has_not_answered_is_counted_not_named_unless_the_round_names_people(
    survey: Survey, attribution: Attribution
) -> None:
    digest = digest_of(survey, round_=make_round(attribution))
    assert [
        (r.region, [(d.code, d.people, d.counts) for d in r.delegations]) for r in digest.pending
    ] == [
        ("African", [("SEN", (), ((S.PARTIAL, 1), (S.NOT_STARTED, 1)))]),
        ("Asian", [("PAK", (), ((S.NOT_STARTED, 1),))]),
        ("", [(None, (), ((S.NOT_STARTED, 1),))]),
    ]
    markdown = render_markdown(digest)
    assert "**Senegal (SEN)**: partial (round closed): 1; not started: 1" in markdown
    for name in ("Aminata", "Ibrahim", "Ayesha", "Nobody"):
        assert name not in markdown


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


def test_progress_is_cumulative_by_hour(survey: Survey) -> None:
    digest = digest_of(survey)
    assert [(p.at, p.participants, p.delegations) for p in digest.progress] == [
        (datetime(2026, 3, 3, 9, tzinfo=UTC), 1, 1),
        (datetime(2026, 3, 3, 14, tzinfo=UTC), 2, 2),
        (datetime(2026, 3, 4, 10, tzinfo=UTC), 3, 2),
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


def test_a_closed_round_has_no_not_yet_wording(survey: Survey) -> None:
    closed = digest_of(survey, round_=make_round(closed_at=T0 + timedelta(days=3)))
    markdown = render_markdown(closed)
    assert "## Did not answer" in markdown
    assert "not answered yet" not in markdown.lower()
    assert "not submitted yet" not in summary(closed)
    empty = digest_of(
        survey,
        round_=make_round(closed_at=T0 + timedelta(days=3)),
        data=DigestData(statuses=DATA.statuses),
    )
    assert "No answers." in render_markdown(empty) and "yet" not in summary(empty)
    assert "started but did not submit; its answers are kept as partial." in summary(closed)
    assert "## Not answered yet" in render_markdown(digest_of(survey))


def test_other_answers_are_listed_under_their_question_not_as_comments(survey: Survey) -> None:
    digest = digest_of(survey)
    assert "Cartagena Declaration" not in [quote.text for quote in digest.comments]
    choices = {c.question_id: c for section in digest.sections for c in section.choices}
    [other] = choices["topics_transfer"].others
    assert (other.code, other.label) == ("other", "Other")
    assert [(q.text, q.attribution) for q in other.quotes] == [("Cartagena Declaration", "Mexico")]
    anonymous = digest_of(survey, round_=make_round(Attribution.ANONYMOUS))
    anonymous_choices = {c.question_id: c for s in anonymous.sections for c in s.choices}
    assert anonymous_choices["topics_transfer"].others[0].quotes[0].attribution is None


def test_other_links_are_found_from_the_survey_conditions(make_survey, make_question) -> None:
    survey = make_survey(
        make_question("pick", "multiple_choice"),
        make_question("pick_other", "text", relevant="selected(${pick}, 'other')"),
        make_question("one", "single_choice"),
        make_question("one_health", "text", relevant="${one} = 'health'"),
        make_question("both", "text", relevant="selected(${pick}, 'other') and ${one} = 'trade'"),
        make_question("n", "integer"),
        make_question("why", "text", relevant="${n} > 3"),
    )
    assert other_links(survey) == {
        "pick_other": OtherLink(text_id="pick_other", question_id="pick", code="other"),
        "one_health": OtherLink(text_id="one_health", question_id="one", code="health"),
    }


def test_zero_rows_are_collapsed_and_counts_have_percentages(survey: Survey) -> None:
    digest = digest_of(survey)
    choices = {c.question_id: c for section in digest.sections for c in section.choices}
    topics = choices["topics_transfer"]
    assert [(o.code, o.count, o.share) for o in topics.chosen] == [
        ("trade", 3, 1.0),
        ("health", 2, pytest.approx(2 / 3)),
    ]
    markdown = render_markdown(digest)
    assert "- Trade: 3 (100%)" in markdown
    assert "- Public health: 2 (67%)" in markdown
    assert "_Not chosen: Security, Peace, justice and Other_" in markdown
    assert "- Security: 0" not in markdown


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        (
            {"score_return": 4.0, "score_transfer": 4.0, "score_general": 2.0},
            "Alignment with national priorities is the same for every theme: 4.0 out of 5.",
        ),
    ],
)
def test_a_tie_is_named_as_a_tie(survey: Survey, scores: dict[str, float], expected: str) -> None:
    data = DigestData(
        statuses=DATA.statuses,
        scale=tuple(ScaleCount(question_id=q, value=v, count=2) for q, v in scores.items()),
    )
    assert expected in summary(digest_of(survey, data=data))


def test_a_tie_at_the_top_names_every_theme_and_the_bottom_alone(make_survey, make_question):
    themes = {key: {"en": key.title()} for key in ("alpha", "beta", "gamma", "delta")}
    survey = make_survey(
        *(make_question(f"s_{key}", "scale", tags=[key]) for key in themes), themes=themes
    )
    means = {"alpha": 4.0, "beta": 2.0, "gamma": 4.0, "delta": 3.0}
    data = DigestData(
        statuses=DATA.statuses,
        scale=tuple(
            ScaleCount(question_id=f"s_{key}", value=mean, count=1) for key, mean in means.items()
        ),
    )
    paragraph = summary(digest_of(survey, data=data))
    assert (
        "Alignment with national priorities is highest for Alpha and Gamma, tied at 4.0 out of 5."
        in paragraph
    )
    assert "It is lowest for Beta (2.0 out of 5)." in paragraph
    french = summary(digest_of(survey, data=data, language="fr"))
    assert "à égalité, pour «\u00a0Alpha\u00a0» et «\u00a0Gamma\u00a0»" in french


def test_the_classification_is_carried_or_confidential_by_default(survey: Survey) -> None:
    assert digest_of(survey).classification == "Confidential"
    assert digest_of(survey, language="fr").classification == "Confidentiel"
    marked = digest_of(survey, classification="  UNHCR   internal ")
    assert marked.classification == "UNHCR internal"
    assert render_markdown(marked).splitlines()[2] == "**UNHCR internal**"


# -- languages, texts, plurals and formats ------------------------------------------------------


def bare(value: str) -> str:
    """``value`` without the bidi isolates a right-to-left digest puts around values."""
    return value.replace(FSI, "").replace(PDI, "")


def test_the_digest_texts_are_the_catalogues_digest_messages() -> None:
    assert DIGEST_LANGUAGES == i18n.LANGUAGES
    every_key = i18n.keys()
    digest_keys = [key for key in every_key if key.startswith("digest.")]
    assert {"digest.title", "digest.summary_rate", "digest.col_share"} <= set(digest_keys)
    assert text("title", "fr", survey="Routes") == "Synthèse\u00a0: Routes"
    assert text("title", "ar", survey="Routes") == f"موجز: {FSI}Routes{PDI}"
    assert text("title", "de", survey="Routes") == "Digest: Routes"  # no catalogue: English
    with pytest.raises(KeyError, match="no_such_text"):
        text("no_such_text", "en")


def test_a_text_already_in_the_readers_language_is_not_isolated_again() -> None:
    heading = text("others_heading", "ar", option=text("yes", "ar"))
    assert FSI not in heading and "نعم" in heading


def rate(answered: int, language: str) -> str:
    return bare(plural("summary_rate", answered, language, invited=12, rate="-"))


def test_english_digest_plurals_one_and_other() -> None:
    assert rate(0, "en") == "0 of 12 delegations have answered (-)."
    assert rate(1, "en") == "1 of 12 delegations has answered (-)."
    assert rate(2, "en") == "2 of 12 delegations have answered (-)."


def test_french_digest_plurals_zero_and_one_are_singular() -> None:
    assert rate(0, "fr") == "0 délégation sur 12 a répondu (-)."
    assert rate(1, "fr") == "1 délégation sur 12 a répondu (-)."
    assert rate(2, "fr") == "2 délégations sur 12 ont répondu (-)."
    assert plural("summary_comments", 1_000_000, "fr") == (  # many: "de"
        "1\u202f000\u202f000 de nouvelles observations ont été formulées."
    )


def test_spanish_digest_plurals_one_many_other() -> None:
    assert rate(1, "es") == "1 de 12 delegaciones ha respondido (-)."
    assert rate(2, "es") == "2 de 12 delegaciones han respondido (-)."
    assert plural("summary_comments", 1, "es") == "Hay 1 observación nueva."
    assert plural("summary_comments", 2, "es") == "Hay 2 observaciones nuevas."
    assert plural("summary_comments", 1_000_000, "es") == "Hay 1.000.000 de observaciones nuevas."


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "لم يردّ أي وفد من أصل 12 حتى الآن (-)."),  # zero: no number shown
        (1, "ردّ وفد واحد من أصل 12 (-)."),  # one
        (2, "ردّ وفدان من أصل 12 (-)."),  # two: the dual
        (3, "ردّت 3 وفود من أصل 12 (-)."),  # few: 3-10
        (10, "ردّت 10 وفود من أصل 12 (-)."),
        (11, "ردّ 11 وفدًا من أصل 12 (-)."),  # many: 11-99
        (100, "ردّ 100 وفد من أصل 12 (-)."),  # other
        (103, "ردّت 103 وفود من أصل 12 (-)."),  # few again
    ],
)
def test_arabic_digest_plurals_have_six_forms(count: int, expected: str) -> None:
    assert rate(count, "ar") == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "Ответила 1 делегация из 12 (-)."),  # one
        (3, "Ответили 3 делегации из 12 (-)."),  # few
        (5, "Ответили 5 делегаций из 12 (-)."),  # many
        (11, "Ответили 11 делегаций из 12 (-)."),  # many: 11-14 are neither one nor few
        (21, "Ответила 21 делегация из 12 (-)."),  # one again
        (22, "Ответили 22 делегации из 12 (-)."),  # few again
    ],
)
def test_russian_digest_plurals_one_few_many(count: int, expected: str) -> None:
    assert rate(count, "ru") == expected


def test_chinese_digest_plurals_have_one_form() -> None:
    assert rate(1, "zh") == "12个代表团中已有1个答复（-）。"
    assert rate(5, "zh") == "12个代表团中已有5个答复（-）。"


@pytest.mark.parametrize(
    ("language", "day", "expected"),
    [
        ("en", date(2026, 3, 2), "2 March 2026"),
        ("fr", date(2026, 3, 2), "2 mars 2026"),
        ("fr", date(2026, 12, 1), "1er décembre 2026"),
        ("fr-CA", date(2026, 8, 1), "1er août 2026"),
        ("es", date(2026, 3, 2), "2 de marzo de 2026"),
        ("ru", date(2026, 3, 2), "2 марта 2026\u202fг."),
        ("zh", date(2026, 3, 2), "2026年3月2日"),
        ("ar", date(2026, 3, 2), "2 مارس 2026"),
        ("de", date(2026, 3, 2), "2 March 2026"),  # not a digest language: English
    ],
)
def test_dates_are_written_for_the_locale(language: str, day: date, expected: str) -> None:
    assert format_date(day, language) == expected


def test_numbers_percentages_moments_and_periods_are_written_for_the_locale() -> None:
    assert [format_decimal(3.45, lang) for lang in ("en", "fr", "ru", "ar")] == [
        "3.5",  # as Python rounds the float 3.45 (3.4500000000000001776...)
        "3,5",
        "3,5",
        "3.5",
    ]
    assert [format_rate(0.75, lang) for lang in ("en", "fr", "es", "zh")] == [
        "75%",
        "75\u00a0%",
        "75\u00a0%",
        "75%",
    ]
    assert format_rate(2 / 3, "en") == "67%"
    assert format_moment(datetime(2026, 3, 6, 17, 0, tzinfo=UTC), "en") == (
        "6 March 2026, 17:00 UTC"
    )
    assert format_moment(datetime(2026, 3, 1, 17, 0, tzinfo=UTC), "fr") == (
        "1er mars 2026 à 17:00 UTC"
    )
    assert format_period(T0, T0 + timedelta(days=4), "fr") == "2–6 mars 2026"


@pytest.mark.parametrize(
    ("wanted", "fallback", "expected"),
    [
        ("fr", "en", "fr"),
        ("fr-CA", "en", "fr"),
        ("zh-Hans", "en", "zh"),
        ("ar", "en", "ar"),
        ("de", "es", "es"),
        ("de", "pt", "en"),
        (None, "ru", "ru"),
    ],
)
def test_the_digest_language_is_one_of_the_six(
    wanted: str | None, fallback: str, expected: str
) -> None:
    assert digest_language(wanted, fallback=fallback) == expected


def test_arabic_isolates_what_it_embeds_and_labels_fall_back(survey: Survey) -> None:
    digest = digest_of(survey, language="ar")
    assert digest.language == "ar" and digest.rtl
    assert digest.title == "Test survey"  # the survey has no Arabic: its default language
    paragraph = summary(digest)
    assert paragraph.startswith(f"ردّ وفدان من أصل {FSI}4{PDI} ({FSI}50%{PDI}).")
    assert f"«{FSI}Return{PDI}»" in paragraph  # the quote marks stay outside the isolate
    assert not digest_of(survey).rtl and FSI not in summary(digest_of(survey))


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
        "Alignment with national priorities is highest for Return (3.5 out of 5). It is lowest "
        "for Lawful transfer (3.0 out of 5)." in paragraph
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
    assert lines[2] == "**Confidential**"
    assert lines[4] == (
        "Round 7 · 2 – 16 Mar 2026 · open until 16 March 2026 · digest of 6 March 2026, 08:00 UTC"
    )
    assert lines[6] == "## In brief"
    assert lines[8].startswith("2 of 4 delegations have answered (50%).")
    for expected in (
        "_First digest of this round: nothing to compare with yet._",
        "_A delegation counts as answered when at least one of its delegates has submitted._",
        "- Delegations: 2 of 4 answered (50%)",
        "- Delegates: 3 submitted, 1 partial, 1 in progress, 3 not started, of 8 invited",
        "| Region | Delegations answered | Rate | Invited | Submitted | Partial | In progress "
        "| Not started |",
        "| African | 0 / 1 | 0% | 2 | 0 | 1 | 0 | 1 |",
        "| France (FRA) | Western | yes | 2 | 1 | 0 | 1 | 0 |",
        "- **Senegal (SEN)**: partial (round closed): 1; not started: 1",
        "### Return",
        "Mean alignment 3.5 out of 5 (n = 4)",
        "| 1 (Not at all) | 2 | 3 | 4 | 5 |",
        "| 1 (25%) | 0 (0%) | 0 (0%) | 2 (50%) | 1 (25%) |",
        "**Question topic\\_return?** (n = 3)",
        "- Trade: 2 (67%)",
        "- retired\\_code: 1 (33%)",
        "**Question topics\\_transfer?** (n = 3, several answers possible)",
        "Other, as specified:",
        "- Cartagena Declaration — Mexico",
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
    assert "- Commerce\u00a0: 2 (67\u00a0%)" in markdown


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


# -- anonymous rounds: small groups are not broken down -----------------------------------------

SMALL = DigestData(
    statuses=(
        status("FRA", S.SUBMITTED, 1, "Western"),
        status("SEN", S.SUBMITTED, 1, "African"),
        status("MEX", S.NOT_STARTED, 2, "Latin"),
    ),
    pending=(
        PendingPerson(participant_id=5, name="Lucía", delegation="MEX", status=S.NOT_STARTED),
        PendingPerson(participant_id=6, name="Diego", delegation="MEX", status=S.NOT_STARTED),
    ),
    scale=(
        ScaleCount(question_id="score_return", value=1.0, count=1),
        ScaleCount(question_id="score_return", value=5.0, count=1),
        ScaleCount(question_id="score_transfer", value=2.0, count=1),
    ),
    choices=(
        ChoiceCount(question_id="topic_return", code="trade", count=2),
        ChoiceCount(question_id="topics_transfer", code="other", count=1),
    ),
    answered=(
        QuestionCount(question_id="score_return", count=2),
        QuestionCount(question_id="score_transfer", count=1),
        QuestionCount(question_id="topic_return", count=2),
        QuestionCount(question_id="topics_transfer", count=1),
    ),
    comments=(comment(1, "comment_return", "Senegal's plan covers return.", "Aminata", "SEN"),),
    others=(comment(1, "topics_other", "Rabat Process", "Aminata", "SEN"),),
)
"""Two submitted responses (France, Senegal): fewer than the default minimum group of 3."""


def small_digest(survey: Survey, attribution: Attribution, **kwargs: object) -> Digest:
    return digest_of(survey, round_=make_round(attribution), data=SMALL, **kwargs)


def test_an_anonymous_round_holds_back_what_fewer_than_the_minimum_answered(
    survey: Survey,
) -> None:
    digest = small_digest(survey, Attribution.ANONYMOUS)
    assert digest.min_group == 3
    sections = {section.key: section for section in digest.sections}
    for key in ("return", "transfer"):
        scale = sections[key].scale
        assert scale is not None and scale.suppressed
        assert scale.mean is None and all(point.count == 0 for point in scale.points)
    for choice in (c for section in digest.sections for c in section.choices if c.n):
        assert choice.suppressed and not choice.others
        assert all(option.count == 0 and option.share is None for option in choice.options)
    assert digest.comments == () and digest.comments_suppressed
    assert digest.figures.themes["return"].mean is None  # nothing kept to compare with later

    markdown = render_markdown(digest)
    assert (
        markdown.count(
            "Not shown (anonymous round): fewer responses here than the minimum group size (3)."
        )
        >= 5
    )
    assert "Alignment scores are not shown: the round is anonymous" in summary(digest)
    for hidden in ("Senegal's plan", "Rabat Process", "Trade: 2", "n = 2", "Mean alignment"):
        assert hidden not in markdown, hidden


def test_completion_per_delegation_stays_visible_in_an_anonymous_round(survey: Survey) -> None:
    digest = small_digest(survey, Attribution.ANONYMOUS)
    assert {line.code: line.answered for line in digest.delegations} == {
        "FRA": True,
        "SEN": True,
        "MEX": False,
    }
    markdown = render_markdown(digest)
    assert "| France (FRA) | Western | yes | 1 | 1 | 0 | 0 | 0 |" in markdown
    assert "- **Mexico (MEX)**: not started: 2" in markdown
    assert "Lucía" not in markdown and "Diego" not in markdown


def test_a_group_as_large_as_the_minimum_is_shown(survey: Survey) -> None:
    digest = small_digest(survey, Attribution.ANONYMOUS, min_group=2)
    sections = {section.key: section for section in digest.sections}
    assert sections["return"].scale is not None
    assert not sections["return"].scale.suppressed and sections["return"].scale.mean == 3.0
    assert sections["transfer"].scale is not None and sections["transfer"].scale.suppressed
    topic = next(c for c in sections["return"].choices if c.question_id == "topic_return")
    assert not topic.suppressed and topic.options[0].count == 2
    assert [q.text for q in digest.comments] == ["Senegal's plan covers return."]
    assert [q.attribution for q in digest.comments] == [None]


@pytest.mark.parametrize("attribution", [Attribution.NAMED, Attribution.DELEGATION])
def test_only_anonymous_rounds_hold_back_small_groups(
    survey: Survey, attribution: Attribution
) -> None:
    digest = small_digest(survey, attribution)
    assert not any(
        summary.suppressed
        for section in digest.sections
        for summary in ([section.scale] if section.scale else []) + list(section.scales)
    )
    assert not digest.comments_suppressed and len(digest.comments) == 1


@pytest.mark.parametrize("attribution", [Attribution.DELEGATION, Attribution.ANONYMOUS])
@pytest.mark.parametrize("language", DIGEST_LANGUAGES)
def test_no_name_is_written_unless_the_round_names_people(
    survey: Survey, attribution: Attribution, language: str
) -> None:
    for data in (DATA, SMALL):
        digest = digest_of(survey, round_=make_round(attribution), data=data, language=language)
        texts = [render_markdown(digest), render_markdown(digest, compact=True), summary(digest)]
        for name in ("Claire", "Aminata", "Ibrahim", "Ayesha", "Lucía", "Diego", "Hugo"):
            assert not any(name in written for written in texts), (name, language)
        if attribution is Attribution.ANONYMOUS:
            assert all(q.attribution is None for q in digest.comments)
