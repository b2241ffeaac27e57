"""Block Kit rendering: every screen kind and question type, within Slack's limits, in four
languages. The fake's :func:`block_problems` is the oracle for the limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.fakes.slack_api import block_problems
from handlers.slack import blocks, home
from surveys import engine, i18n
from surveys.conversation import Screen, ScreenKind
from surveys.definition import Survey, load_survey
from surveys.records import (
    Audience,
    Participant,
    Response,
    ResponseState,
    ResponseStatus,
    Role,
    Round,
)
from surveys.service.delegates import MyRound, progress
from surveys.service.organising import RoundSummary

OPENS = datetime(2026, 3, 1, tzinfo=UTC)
CLOSES = datetime(2026, 12, 15, 17, tzinfo=UTC)


def labels(text: str) -> dict[str, str]:
    return {"en": text, "fr": f"{text} (fr)", "es": f"{text} (es)", "ar": f"{text} بالعربية"}


def options(count: int, *, length: int = 12) -> list[dict[str, Any]]:
    return [
        {"value": f"o{n}", "label": labels(f"Option {n} ".ljust(length, "x"))}
        for n in range(1, count + 1)
    ]


def make_survey(*questions: dict[str, Any], choices: int = 3, length: int = 12) -> Survey:
    return load_survey(
        {
            "id": "s",
            "version": "1",
            "default_language": "en",
            "languages": ["en", "fr", "es", "ar"],
            "title": labels("Title"),
            "intro": labels("Intro"),
            "choice_lists": {"list": options(choices, length=length)},
            "questions": list(questions),
        }
    )


def question(qid: str, kind: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"id": qid, "type": kind, "label": labels(f"Question {qid}?")}
    if kind in ("single_choice", "multiple_choice"):
        data["choices"] = "list"
    data.update(fields)
    return data


def make_screen(
    survey: Survey,
    *,
    answers: dict[str, Any] | None = None,
    current: str | None = None,
    language: str = "en",
    kind: ScreenKind | None = None,
    notice: str | None = None,
    intro: str | None = None,
) -> Screen:
    state = ResponseState(answers=answers or {}, current=current, started=True)
    shown = engine.step(survey, state, language=language)
    if kind is None:
        kind = ScreenKind.ASKING if isinstance(shown, engine.Prompt) else ScreenKind.REVIEW
    participant = Participant(
        name="Ana",
        email="ana@example.org",
        role=Role.DELEGATE,
        delegation="MEX",
        language=language,
        timezone="America/Mexico_City",
        id=1,
    )
    round_ = Round(7, survey.id, 1, Audience("all"), OPENS, CLOSES, OPENS)
    status = (
        ResponseStatus.SUBMITTED if kind is ScreenKind.SUBMITTED else ResponseStatus.IN_PROGRESS
    )
    response = Response(3, 7, 1, status, state)
    return Screen(
        kind=kind,
        participant=participant,
        round=round_,
        survey=survey,
        response=response,
        language=language,
        prompt=shown if isinstance(shown, engine.Prompt) else None,
        summary=shown if isinstance(shown, engine.Summary) else None,
        notice=notice,
        intro=intro,
    )


def elements(message: blocks.Message) -> list[dict[str, Any]]:
    found = []
    for block in message.blocks:
        found.extend(block.get("elements") or [])
        if block.get("accessory"):
            found.append(block["accessory"])
    return [e for e in found if isinstance(e, dict) and "action_id" in e]


def render_ok(screen: Screen) -> blocks.Message:
    message = blocks.render_screen(screen)
    assert block_problems(message.blocks) == []
    assert len(message.text) <= blocks.MAX_FALLBACK_TEXT
    return message


@pytest.mark.parametrize(
    ("kind", "count", "expected"),
    [
        ("single_choice", 2, {"button": 2}),
        ("single_choice", 5, {"button": 5}),
        ("single_choice", 6, {"static_select": 1}),
        ("single_choice", 100, {"static_select": 1}),
        ("single_choice", 101, {"static_select": 2}),
        ("single_choice", 500, {"static_select": 5}),
        ("single_choice", 501, {"button": 1}),  # "Answer": typed in the modal
        ("multiple_choice", 3, {"checkboxes": 1, "button": 1}),
        ("multiple_choice", 10, {"checkboxes": 1, "button": 1}),
        ("multiple_choice", 11, {"checkboxes": 2, "button": 1}),
        ("multiple_choice", 50, {"checkboxes": 5, "button": 1}),
        ("multiple_choice", 51, {"button": 1}),
        ("yes_no", 0, {"button": 2}),
    ],
)
def test_choice_controls_respect_slack_limits(
    kind: str, count: int, expected: dict[str, int]
) -> None:
    survey = make_survey(question("q", kind, required=True), choices=max(count, 1))
    message = render_ok(make_screen(survey, current="q"))
    found: dict[str, int] = {}
    for element in elements(message):
        found[element["type"]] = found.get(element["type"], 0) + 1
    assert found == expected
    for element in elements(message):
        assert len(element.get("options") or []) <= (10 if element["type"] == "checkboxes" else 100)
        if element["type"] == "button" and element["action_id"].startswith("choose."):
            assert element["value"].startswith("o") or element["value"] in ("yes", "no")


def test_every_option_is_offered_once_across_groups() -> None:
    survey = make_survey(question("q", "multiple_choice"), choices=23)
    message = render_ok(make_screen(survey, current="q"))
    offered = [o["value"] for e in elements(message) for o in e.get("options") or []]
    assert offered == [f"o{n}" for n in range(1, 24)]
    assert [e["action_id"] for e in elements(message)] == [
        "tick.0",
        "tick.1",
        "tick.2",
        "done",
        "skip",
    ]


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ({"min": 1, "max": 5}, "button"),
        ({"min": 0, "max": 10}, "button"),
    ],
)
def test_scales_are_a_row_of_buttons(points: dict[str, int], expected: str) -> None:
    scale = {**points, "min_label": labels("low"), "max_label": labels("high")}
    survey = make_survey(question("q", "scale", scale=scale))
    message = render_ok(make_screen(survey, current="q"))
    controls = [e for e in elements(message) if e["action_id"] != "skip"]
    assert {e["type"] for e in controls} == {expected}
    assert "= low" in json.dumps(message.blocks)


@pytest.mark.parametrize(
    ("kind", "fields", "element"),
    [
        ("text", {"max_length": 300}, {"type": "plain_text_input", "max_length": 300}),
        ("text", {}, {"type": "plain_text_input", "multiline": True}),
        ("integer", {"min": 0}, {"type": "number_input", "is_decimal_allowed": False}),
        ("decimal", {}, {"type": "number_input", "is_decimal_allowed": True}),
        ("date", {}, {"type": "datepicker"}),
    ],
)
def test_typed_questions_open_a_modal(
    kind: str, fields: dict[str, Any], element: dict[str, Any]
) -> None:
    survey = make_survey(question("q", kind, **fields))
    screen = make_screen(survey, current="q", language="es")
    message = render_ok(screen)
    assert [e["action_id"] for e in elements(message)] == ["type", "skip"]
    assert elements(message)[0]["text"]["text"] == "Responder"
    modal = blocks.answer_modal(screen, channel="D1", ts="1.2")
    assert block_problems(modal["blocks"], surface="modal") == []
    assert modal["callback_id"] == blocks.VIEW_ANSWER
    assert len(modal["title"]["text"]) <= 24 and modal["title"]["text"] == "Pregunta 1 de 1"
    assert modal["submit"]["text"] == "Confirmar" and modal["close"]["text"] == "Cancelar"
    field = modal["blocks"][-1]
    assert field["block_id"] == blocks.INPUT_BLOCK and field["optional"] is True
    assert element.items() <= field["element"].items()
    assert blocks.ModalContext.load(modal["private_metadata"]) == blocks.ModalContext(
        7, "q", "D1", "1.2"
    )


def test_a_modal_shows_the_previous_answer() -> None:
    survey = make_survey(question("q", "date"), question("n", "decimal"), question("t", "text"))
    for qid, value, key in (
        ("q", "2026-04-15", "initial_date"),
        ("n", 2.5, "initial_value"),
        ("t", "hola", "initial_value"),
    ):
        screen = make_screen(survey, answers={qid: value}, current=qid)
        modal = blocks.answer_modal(screen, channel=None, ts=None)
        assert modal["blocks"][-1]["element"][key] == str(value)


def test_the_current_answer_is_marked_and_back_and_skip_shown_when_allowed() -> None:
    survey = make_survey(
        question("a", "yes_no", required=True),
        question("b", "single_choice"),
        question("c", "multiple_choice"),
    )
    first = render_ok(make_screen(survey, current="a"))
    assert [e["action_id"] for e in elements(first)] == ["choose.1", "choose.2"]  # no back, no skip
    again = render_ok(make_screen(survey, answers={"a": "yes", "b": "o2"}, current="b"))
    styled = {
        e["value"]: e.get("style") for e in elements(again) if e["action_id"].startswith("choose")
    }
    assert styled == {"o1": None, "o2": "primary", "o3": None}
    assert {"back", "skip"} <= {e["action_id"] for e in elements(again)}
    ticked = render_ok(
        make_screen(survey, answers={"a": "no", "b": None, "c": ["o1", "o3"]}, current="c")
    )
    box = next(e for e in elements(ticked) if e["type"] == "checkboxes")
    assert [o["value"] for o in box["initial_options"]] == ["o1", "o3"]


def test_long_labels_are_cut_on_buttons_and_shown_whole_above() -> None:
    survey = make_survey(question("q", "single_choice"), choices=3, length=200)
    message = render_ok(make_screen(survey, current="q"))
    assert all(len(e["text"]["text"]) <= 75 for e in elements(message))
    assert "1. Option 1 " + "x" * 100 in json.dumps(message.blocks)


def test_long_notes_and_intros_are_split_into_sections() -> None:
    note = {"id": "n", "type": "note", "label": labels("word " * 1500)}
    survey = make_survey(note, question("q", "text"))
    message = render_ok(
        make_screen(survey, current="q", intro="Title\n\n" + "intro " * 800, notice="¡Ojo!")
    )
    assert message.blocks[0]["type"] == "header"
    texts = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert len(texts) >= 5 and all(len(t) <= 3000 for t in texts)


def test_mrkdwn_is_escaped() -> None:
    survey = load_survey(
        {
            "id": "s",
            "version": "1",
            "default_language": "en",
            "languages": ["en"],
            "title": {"en": "T"},
            "questions": [{"id": "q", "type": "text", "label": {"en": "<!here> & co"}}],
        }
    )
    message = render_ok(make_screen(survey, current="q"))
    assert "&lt;!here&gt; &amp; co" in json.dumps(message.blocks)


def summary_survey(count: int) -> tuple[Survey, dict[str, Any]]:
    survey = make_survey(*[question(f"q{n}", "text") for n in range(count)])
    return survey, {f"q{n}": f"answer {n}" for n in range(count)}


@pytest.mark.parametrize("count", [1, 40])
def test_a_summary_has_a_change_button_per_answer_and_submit(count: int) -> None:
    survey, answers = summary_survey(count)
    message = render_ok(make_screen(survey, answers=answers, language="fr"))
    edits = [e for e in elements(message) if e["action_id"].startswith("edit.")]
    assert [e["value"] for e in edits] == [f"q{n}" for n in range(count)]
    assert {e["text"]["text"] for e in edits} == {"Modifier"}
    assert elements(message)[-1]["action_id"] == "submit"
    assert elements(message)[-1]["text"]["text"] == "Envoyer"


def test_a_long_summary_changes_answers_through_selects() -> None:
    survey, answers = summary_survey(45)
    message = render_ok(make_screen(survey, answers=answers))
    selects = [e for e in elements(message) if e["type"] == "static_select"]
    assert [e["action_id"] for e in selects] == ["edit.sel.0"]
    assert len(selects[0]["options"]) == 45


def test_a_submitted_summary_can_still_be_changed_until_closing() -> None:
    survey, answers = summary_survey(2)
    message = render_ok(
        make_screen(survey, answers=answers, kind=ScreenKind.SUBMITTED, language="es")
    )
    ids = [e["action_id"] for e in elements(message)]
    assert "submit" not in ids and ids == ["edit.0", "edit.1"]
    assert (
        "Puede modificarlas hasta el cierre de la encuesta, "
        "el martes, 15 de diciembre de 2026, 11:00 (hora estándar central)"
        in json.dumps(message.blocks, ensure_ascii=False)
    )


@pytest.mark.parametrize("kind", [ScreenKind.CLOSED, ScreenKind.NOT_OPEN])
def test_closed_and_not_yet_open_rounds_show_only_the_notice(kind: ScreenKind) -> None:
    survey, answers = summary_survey(1)
    screen = make_screen(survey, answers=answers, kind=kind, notice="La encuesta se cerró.")
    screen = Screen(**{**screen.__dict__, "prompt": None, "summary": None})
    message = render_ok(screen)
    assert elements(message) == [] and message.text == "La encuesta se cerró."
    with pytest.raises(blocks.RenderError):
        blocks.render_screen(Screen(**{**screen.__dict__, "notice": None}))


def test_arabic() -> None:
    survey = make_survey(question("a", "multiple_choice", required=True), question("b", "text"))
    message = render_ok(make_screen(survey, current="a", language="ar"))
    dumped = json.dumps(message.blocks, ensure_ascii=False)
    assert "السؤال \u20681\u2069 من \u20682\u2069" in dumped and "Option 1 xxx بالعربية" in dumped
    assert elements(message)[-1]["text"]["text"] == "تأكيد"
    modal = blocks.answer_modal(
        make_screen(survey, answers={"a": ["o1"]}, current="b", language="ar"),
        channel=None,
        ts=None,
    )
    assert modal["close"]["text"] == "إلغاء" and modal["blocks"][-1]["label"]["text"] == "إجابتكم"


def test_ids_stay_short_and_opaque() -> None:
    long_id = "q" * 64
    survey = make_survey(question(long_id, "single_choice"))
    message = render_ok(make_screen(survey, current=long_id))
    for block in message.blocks:
        if "block_id" in block:
            assert block["block_id"].startswith(f"7|{long_id}|") and len(block["block_id"]) <= 255
    assert all(
        "Option" not in e["action_id"] and "Option" not in e.get("value", "")
        for e in elements(message)
    )


def test_home_views() -> None:
    round_ = Round(1, "s", 1, Audience("all"), OPENS, CLOSES, OPENS)
    response = Response(1, 1, 1, ResponseStatus.IN_PROGRESS, ResponseState(started=True))
    rows = [MyRound(round_, "Encuesta", response, 3, 22)]
    view = home.delegate_home(rows, language="es", timezone="America/Mexico_City")
    assert block_problems(view["blocks"], surface="home") == []
    dumped = json.dumps(view, ensure_ascii=False)
    assert "3 de 22 preguntas respondidas · en curso" in dumped and "Abrir" in dumped
    empty = home.delegate_home([], language="fr", timezone="UTC")
    assert "Aucune enquête ne vous est ouverte" in json.dumps(empty, ensure_ascii=False)
    round_ = Round(4, "s", 1, Audience("region", ("African States",)), OPENS, CLOSES, OPENS)
    many = [
        RoundSummary(
            round_,
            "Survey",
            {ResponseStatus.SUBMITTED: 2, ResponseStatus.NOT_STARTED: 5},
        )
    ] * 40
    view = home.organiser_home(many, now=OPENS, language="en", timezone="Europe/Zurich")
    assert block_problems(view["blocks"], surface="home") == []
    assert "2 of 7 submitted · 0 in progress · 5 not started" in json.dumps(
        view, ensure_ascii=False
    )
    # Closing times are written by the core's i18n.moment, in the organiser's language; a
    # timezone name ZoneInfo cannot even look up (too long: OSError) reads as UTC.
    closes = i18n.moment(CLOSES, "fr", "Europe/Zurich")
    shown = json.dumps(
        home.organiser_home(many[:1], now=OPENS, language="fr", timezone="Europe/Zurich"),
        ensure_ascii=False,
    )
    assert closes in shown
    odd = home.organiser_home(many[:1], now=OPENS, language="en", timezone="Europe/" + "x" * 300)
    assert i18n.moment(CLOSES, "en", "UTC") in json.dumps(odd, ensure_ascii=False)


def test_progress_counts_only_questions_that_apply() -> None:
    survey = make_survey(
        question("a", "yes_no"),
        question("b", "text", relevant="${a} = 'yes'"),
        question("c", "text"),
    )
    assert progress(survey, {}) == (0, 2)
    assert progress(survey, {"a": "no"}) == (1, 2)
    assert progress(survey, {"a": "yes", "b": "x"}) == (2, 3)


def test_arabic_isolates_values_and_mrkdwn_escapes_still_happen() -> None:
    """An answer in Latin script, with Slack's special characters, in an Arabic screen."""
    fsi, pdi = "\u2068", "\u2069"
    survey = make_survey(question("a", "text"), question("b", "text"))
    typed = "<!channel> & <@U123> *Geneva*"
    asked = render_ok(make_screen(survey, answers={"a": typed}, current="a", language="ar"))
    dumped = json.dumps(asked.blocks, ensure_ascii=False)
    assert f"{fsi}&lt;!channel&gt; &amp; &lt;@U123&gt; *Geneva*{pdi}" in dumped
    assert "<!channel>" not in dumped and "<@U123>" not in dumped
    done = render_ok(
        make_screen(
            survey, answers={"a": typed, "b": "x"}, kind=ScreenKind.SUBMITTED, language="ar"
        )
    )
    dumped = json.dumps(done.blocks, ensure_ascii=False)
    assert f"{fsi}&lt;!channel&gt; &amp; &lt;@U123&gt; *Geneva*{pdi}" in dumped
    assert f"{fsi}الثلاثاء، 15 ديسمبر 2026، 11:00 ص{pdi}" in dumped  # the closing time, isolated
    french = render_ok(make_screen(survey, answers={"a": typed}, current="a", language="fr"))
    assert fsi not in json.dumps(french.blocks, ensure_ascii=False)
