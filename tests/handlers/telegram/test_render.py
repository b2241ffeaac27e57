"""Screens as Telegram messages: every kind renders, within Telegram's limits, in any language.

Screens come from the real conversation service on the in-memory store, walking the example
survey (long labels, ten options, conditional questions) to its end; what is rendered is
checked the way Telegram checks it (HTML that parses, 4096 characters, 64-byte button data).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.fakes.telegram_api import visible_text
from handlers.telegram import callbacks, keyboards
from handlers.telegram.inbound import Redraw, Stale, question_index, survey_action
from handlers.telegram.render import (
    MESSAGE_LIMIT,
    Outgoing,
    Span,
    html_reply,
    markdown_blocks,
    messages,
    plain,
    render_reply,
    render_screen,
    render_text,
    split_text,
    units,
)
from handlers.telegram.texts import text
from surveys import engine
from surveys import organiser_replies as replies
from surveys.conversation import (
    Answer,
    Back,
    Edit,
    Screen,
    ScreenKind,
    Show,
    Skip,
    Submit,
)
from surveys.definition import QuestionType, load_survey
from surveys.engine import Pressed, Typed
from surveys.organiser_replies import TELEGRAM
from surveys.records import (
    Attribution,
    Audience,
    Delegation,
    Participant,
    Response,
    ResponseState,
    ResponseStatus,
    Role,
    Round,
    StatusLine,
)
from surveys.richtext import Reply, Style
from surveys.richtext import Span as RichSpan
from surveys.service.answering import Conversation
from surveys.service.organising import RoundReport


def valid_input(prompt: engine.Prompt) -> engine.RawInput:
    """An acceptable answer that also opens the conditional questions (other, follow-up)."""
    values = [option.value for option in prompt.options]
    match prompt.question.type:
        case QuestionType.SCALE:
            return Pressed((values[2],))
        case QuestionType.SINGLE_CHOICE | QuestionType.YES_NO:
            return Pressed((values[0],))
        case QuestionType.MULTIPLE_CHOICE:
            return Pressed(("gcr", "other") if "other" in values else tuple(values[:2]))
        case QuestionType.DATE:
            return Typed("15/03/2027")
        case _:
            return Typed("Une réponse <avec> des & caractères")


async def walk(world: Any, email_prefix: str) -> list[Screen]:
    """Every screen a delegate meets, from the first question to the submitted summary."""
    conversation = Conversation(world.store, clock=world.clock)
    participant = world.person(email_prefix)
    screens = [await conversation.act(participant, world.round.id, Show())]
    while screens[-1].kind is ScreenKind.ASKING:
        assert screens[-1].prompt is not None
        raw = valid_input(screens[-1].prompt)
        screens.append(await conversation.act(participant, world.round.id, Answer(raw)))
    screens.append(await conversation.act(participant, world.round.id, Submit()))
    return screens


def check(rendered: list[Outgoing]) -> list[str]:
    """Assert Telegram would accept the messages; return their visible texts."""
    shown = []
    for message in rendered:
        text = visible_text(message.text, "HTML")  # raises where Telegram would refuse
        assert 0 < units(text) <= MESSAGE_LIMIT
        shown.append(text)
        if message.keyboard is not None:
            buttons = [b for row in message.keyboard.inline_keyboard for b in row]
            assert 0 < len(buttons) <= keyboards.MAX_BUTTONS
            for button in buttons:
                assert button.callback_data is not None
                assert len(str(button.callback_data).encode()) <= callbacks.MAX_BYTES
                assert callbacks.decode(str(button.callback_data)) is not None
    assert all(message.keyboard is None for message in rendered[:-1])
    return shown


@pytest.mark.parametrize(
    ("who", "position"),
    [("claire", "Question 1 sur"), ("diego", "Pregunta 1 de"), ("nour", "السؤال \u20681\u2069 من")],
)
async def test_every_screen_of_the_example_survey_renders(
    memory_world: Any, who: str, position: str
) -> None:
    screens = await walk(memory_world, who)
    kinds = [screen.kind for screen in screens]
    assert kinds[-2:] == [ScreenKind.REVIEW, ScreenKind.SUBMITTED]
    asked = [s.prompt.question.id for s in screens if s.prompt is not None]
    assert "frameworks_other_return" in asked and "follow_up_date" in asked
    assert position in check(render_screen(screens[0]))[0]
    for screen in screens:
        rendered = render_screen(screen)
        check(rendered)
        if screen.kind is ScreenKind.ASKING:
            assert screen.prompt is not None
            assert rendered[-1].keyboard is not None or not screen.prompt.can_skip
            if screen.prompt.question.type is QuestionType.MULTIPLE_CHOICE:
                everything = (1 << len(screen.prompt.options)) - 1
                check(render_screen(screen, mask=everything))


async def test_the_arabic_delegate_gets_arabic_texts_and_survey_labels_as_available(
    memory_world: Any,
) -> None:
    screens = await walk(memory_world, "nour")
    second = check(render_screen(screens[1]))[0]
    assert "السؤال \u20682\u2069 من" in second
    assert "هل تشارك حكومتكم بالفعل" in second  # the survey's own Arabic
    keyboard = render_screen(screens[1])[-1].keyboard
    assert keyboard is not None
    captions = [b.text for row in keyboard.inline_keyboard for b in row]
    assert captions[-2:] == ["رجوع", "تخطي"]
    review = "\n".join(check(render_screen(screens[-2])))
    assert "إجاباتكم" in review and "يرجى مراجعة إجاباتكم" in review


def test_survey_texts_are_escaped_and_right_to_left_text_is_kept() -> None:
    survey = load_survey(
        {
            "id": "arabic",
            "version": "1",
            "default_language": "ar",
            "languages": ["ar", "en"],
            "title": {"ar": "استبيان <تجريبي> & قصير", "en": "A <short> & test"},
            "questions": [
                {
                    "id": "q1",
                    "type": "single_choice",
                    "choices": "c",
                    "label": {"ar": "ما رأيكم في <b>المسار</b>؟", "en": "Your view?"},
                    "hint": {"ar": "اختاروا & أجيبوا", "en": "Choose"},
                },
            ],
            "choice_lists": {
                "c": [
                    {"value": "a", "label": {"ar": "نعم <بالتأكيد>", "en": "Yes"}},
                    {"value": "b", "label": {"ar": "لا & أبدًا", "en": "No"}},
                ]
            },
        }
    )
    state = engine.start(survey)
    prompt = engine.step(survey, state, language="ar")
    assert isinstance(prompt, engine.Prompt)
    screen = _screen(survey, prompt=prompt, intro="استبيان <تجريبي> & قصير\n\nمرحبًا")
    (text,) = check(render_screen(screen))
    assert "ما رأيكم في <b>المسار</b>؟" in text
    assert "استبيان <تجريبي> & قصير" in text
    keyboard = render_screen(screen)[0].keyboard
    assert keyboard is not None
    rows = [[button.text for button in row] for row in keyboard.inline_keyboard]
    assert rows == [["نعم <بالتأكيد>"], ["لا & أبدًا"], ["تخطي"]]


async def test_keyboards_fit_the_question(memory_world: Any) -> None:
    screens = {s.prompt.question.id: s for s in await walk(memory_world, "claire") if s.prompt}

    def captions(question_id: str) -> list[list[str]]:
        keyboard = render_screen(screens[question_id])[-1].keyboard
        assert keyboard is not None
        return [[button.text for button in row] for row in keyboard.inline_keyboard]

    assert captions("alignment_return") == [["1", "2", "3", "4", "5"]]  # first: no Back
    assert captions("engagement_return") == [
        ["Déjà engagé"],
        ["Engagement prévu"],
        ["À l'étude"],
        ["Aucun engagement prévu"],
        ["Sans objet"],
        ["Retour", "Passer"],
    ]
    frameworks = captions("frameworks_return")
    assert frameworks[0] == ["☐ 1. Pacte mondial sur les réfugiés"]
    assert frameworks[1] == ["☐ 2. Pacte mondial pour des migrations…"]  # shortened
    assert frameworks[-2:] == [["Valider"], ["Retour", "Passer"]]
    assert captions("frameworks_other_return") == [["Retour"]]  # typed and required
    assert captions("follow_up") == [["Oui", "Non"], ["Retour"]]
    listed = "\n".join(check(render_screen(screens["frameworks_return"])))
    assert "2. Pacte mondial pour des migrations sûres, ordonnées et régulières" in listed


async def test_a_previous_answer_is_marked_when_the_delegate_comes_back(
    memory_world: Any,
) -> None:
    conversation = Conversation(memory_world.store, clock=memory_world.clock)
    claire = memory_world.person("claire")
    rid = memory_world.round.id
    await conversation.act(claire, rid, Answer(Pressed(("4",))))
    await conversation.act(claire, rid, Answer(Pressed(("planning",))))
    await conversation.act(claire, rid, Answer(Pressed(("gcr", "bilateral"))))
    back = await conversation.act(claire, rid, Back())
    rendered = render_screen(back)
    text = check(rendered)[0]
    assert "Votre réponse précédente\u00a0: Pacte mondial sur les réfugiés, Accords bilatéraux" in (
        text
    )
    keyboard = rendered[-1].keyboard
    assert keyboard is not None
    ticked = [row[0].text for row in keyboard.inline_keyboard if row[0].text.startswith("☑")]
    assert ticked == ["☑ 1. Pacte mondial sur les réfugiés", "☑ 9. Accords bilatéraux"]
    again = await conversation.act(claire, rid, Back())
    captions = [row[0].text for row in (render_screen(again)[-1].keyboard or []).inline_keyboard]
    assert "✓ Engagement prévu" in captions


async def test_buttons_mean_what_they_say_on_the_current_screen_only(memory_world: Any) -> None:
    conversation = Conversation(memory_world.store, clock=memory_world.clock)
    claire = memory_world.person("claire")
    rid = memory_world.round.id
    first = await conversation.act(claire, rid, Show())
    assert first.prompt is not None
    response = first.response.id
    q = question_index(first.survey, first.prompt.question)
    assert survey_action(callbacks.Choose(response, q, 4), first) == Answer(Pressed(("4",)))
    assert survey_action(callbacks.Choose(response, q, 6), first) == Stale()
    assert survey_action(callbacks.Choose(response, q + 1, 4), first) == Stale()
    assert survey_action(callbacks.Choose(response + 1, q, 4), first) == Stale()
    assert survey_action(callbacks.GoBack(response, q), first) == Stale()  # first question
    assert survey_action(callbacks.Toggle(response, q, 1), first) == Stale()  # not multiple
    assert survey_action(callbacks.SubmitAnswers(response), first) == Stale()
    assert survey_action(callbacks.Change(response, q), first) == Stale()

    await conversation.act(claire, rid, Answer(Pressed(("4",))))
    second = await conversation.act(claire, rid, Answer(Pressed(("planning",))))
    assert second.prompt is not None
    m = question_index(second.survey, second.prompt.question)
    assert survey_action(callbacks.Toggle(response, m, 0b101), second) == Redraw(0b101)
    assert survey_action(callbacks.Toggle(response, m, 1 << 10), second) == Stale()
    confirmed = survey_action(callbacks.Confirm(response, m, 0b1000000001), second)
    assert confirmed == Answer(Pressed(("gcr", "other")))
    assert survey_action(callbacks.GoBack(response, m), second) == Back()
    assert survey_action(callbacks.SkipQuestion(response, m), second) == Skip()

    screens = await walk(memory_world, "claire")
    review = screens[-2]
    assert review.kind is ScreenKind.REVIEW
    assert survey_action(callbacks.SubmitAnswers(response), review) == Submit()
    assert survey_action(callbacks.Change(response, q), review) == Edit("alignment_return")
    note = question_index(review.survey, review.survey.question("welcome"))
    assert survey_action(callbacks.Change(response, note), review) == Stale()
    assert survey_action(callbacks.Change(response, 10_000), review) == Stale()
    submitted = screens[-1]
    assert survey_action(callbacks.Change(response, q), submitted) == Edit("alignment_return")
    assert survey_action(callbacks.SubmitAnswers(response), submitted) == Stale()


async def test_closed_and_not_yet_open_rounds_render_their_notice(memory_world: Any) -> None:
    store, clock = memory_world.store, memory_world.clock
    conversation = Conversation(store, clock=clock)
    claire = memory_world.person("claire")
    later = await store.rounds.create_round(
        survey_version_id=memory_world.round.survey_version_id,
        audience=Audience("all"),
        opens_at=clock.now() + timedelta(days=3),
        closes_at=clock.now() + timedelta(days=9),
        participant_ids=[claire.id],
        now=clock.now(),
    )
    waiting = await conversation.act(claire, later.id, Show())
    assert waiting.kind is ScreenKind.NOT_OPEN
    (text,) = check(render_screen(waiting))
    assert "ouvrira le" in text and render_screen(waiting)[0].keyboard is None
    await store.rounds.close_round(memory_world.round.id, now=clock.now())
    closed = await conversation.act(claire, memory_world.round.id, Show())
    assert closed.kind is ScreenKind.CLOSED
    (text,) = check(render_screen(closed))
    assert "a été clôturée" in text


def test_long_texts_are_split_under_the_limit_at_paragraphs_then_words() -> None:
    paragraph = "Le délégué a précisé la position de son gouvernement. " * 40
    long_note = "😀 " * 3000  # two UTF-16 units per emoji
    rendered = messages([plain(paragraph), plain(long_note), plain("fin")], None, limit=4096)
    texts = [visible_text(message.text, "HTML") for message in rendered]
    assert all(units(text) <= 4096 for text in texts)
    assert texts[0].strip() == paragraph.strip()
    assert "".join(texts[1:-1]).count("😀") + texts[-1].count("😀") == 3000
    assert texts[-1].endswith("fin")
    assert split_text("a b c d e f", 3) == ["a b", "c d", "e f"]
    assert split_text("abcdef", 4) == ["abcd", "ef"]
    assert units("😀a") == 3


def test_styles_escape_their_text() -> None:
    assert Span("<b>&", "b").html() == "<b>&lt;b&gt;&amp;</b>"
    assert Span("x < y").html() == "x &lt; y"
    (message,) = render_text("Une <balise> & plus")
    assert visible_text(message.text, "HTML") == "Une <balise> & plus"


def test_a_long_status_is_split_and_lists_everyone() -> None:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    round_ = Round(
        id=3,
        survey_id="route_alignment",
        survey_version_id=1,
        audience=Audience("all"),
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=10),
        created_at=now,
        attribution=Attribution.NAMED,
    )
    lines = []
    for index in range(300):
        delegation = Delegation(f"D{index:02d}"[:3].upper(), f"Délégation numéro {index}")
        participant = Participant(
            name=f"Déléguée numéro {index} avec un nom assez long",
            email=f"d{index}@example.org",
            role=Role.DELEGATE,
            delegation=delegation.code,
            id=index + 1,
        )
        status = ResponseStatus.SUBMITTED if index % 3 == 0 else ResponseStatus.NOT_STARTED
        lines.append(
            StatusLine(
                participant, delegation, status, 0, None, now if index % 3 == 0 else None, None
            )
        )
    counts = {ResponseStatus.SUBMITTED: 100, ResponseStatus.NOT_STARTED: 200}
    report = RoundReport(round_, "Route", counts, lines)
    reply = replies.status(report, language="fr", zone="Europe/Paris", now=now)
    texts = check(render_reply(reply))
    assert len(texts) > 2
    joined = "\n".join(texts)
    assert all(f"Déléguée numéro {index} avec" in joined for index in range(300))
    assert texts[0].startswith("Cycle 3 – Route")
    assert "100 sur 300 envoyées (33\u00a0%)" in texts[0].split("\n")[0]


def _screen(survey: Any, *, prompt: engine.Prompt, intro: str | None = None) -> Screen:
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    participant = Participant(
        name="Nour",
        email="n@example.org",
        role=Role.DELEGATE,
        delegation="EGY",
        language="ar",
        id=1,
    )
    round_ = Round(
        id=1,
        survey_id=survey.id,
        survey_version_id=1,
        audience=Audience("all"),
        opens_at=now,
        closes_at=now + timedelta(days=1),
        created_at=now,
    )
    response = Response(1, 1, 1, ResponseStatus.IN_PROGRESS, ResponseState(started=True))
    return Screen(
        kind=ScreenKind.ASKING,
        participant=participant,
        round=round_,
        survey=survey,
        response=response,
        language="ar",
        prompt=prompt,
        intro=intro,
    )


def test_digest_markdown_becomes_telegram_formatting() -> None:
    markdown = (
        "# Digest: Route \\*based\\*\n\n## Summary\n\n_Counted once_\n\n"
        "- **France (FRA)**: Claire\n- Senegal \\<SEN\\>\n\n> Une \\*bonne\\* idée & plus\n"
        "> — France\n"
    )
    (message,) = messages(markdown_blocks(markdown), None)
    assert message.text == (
        "<b>Digest: Route *based*</b>\n\n<b>Summary</b>\n\n<i>Counted once</i>\n\n"
        "• <b>France (FRA)</b>: Claire\n• Senegal &lt;SEN&gt;\n\n"
        "<i>Une *bonne* idée &amp; plus</i>\n<i>— France</i>"
    )


def test_arabic_isolates_names_numbers_and_dates_and_still_escapes_them() -> None:
    """In Arabic every value in a text is between FSI and PDI; HTML escaping is untouched."""
    fsi, pdi = "\u2068", "\u2069"
    greeting = text("greeting", "ar", name="Dr <Amal> & Co", delegation="EGY Egypt")
    (html_text,) = [message.text for message in render_text(greeting)]
    assert f"{fsi}Dr &lt;Amal&gt; &amp; Co{pdi}" in html_text
    assert f"{fsi}/help{pdi}" in html_text  # a command inside an Arabic sentence stays whole
    (shown,) = check(render_text(greeting))
    assert f"{fsi}Dr <Amal> & Co{pdi}" in shown and f"{fsi}EGY Egypt{pdi}" in shown
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    round_ = Round(
        3,
        "route_alignment",
        1,
        Audience("all"),
        now,
        now + timedelta(days=2),
        now,
        attribution=Attribution.NAMED,
    )
    delegation = Delegation("EGY", "Egypt & <Sudan>")
    nour = Participant(
        name="Nour <Hassan>",
        email="n@example.org",
        role=Role.DELEGATE,
        delegation="EGY",
        id=1,
    )
    line = StatusLine(nour, delegation, ResponseStatus.IN_PROGRESS, 2, None, None, None)
    report = RoundReport(round_, "مسار", {}, [line])
    rendered = render_reply(replies.status(report, language="ar", zone="Africa/Cairo", now=now))
    raw = "\n".join(message.text for message in rendered)
    assert f"{fsi}EGY Egypt &amp; &lt;Sudan&gt;{pdi}" in raw
    assert f"{fsi}Nour &lt;Hassan&gt;{pdi} – قيد الإنجاز (إجابتان)" in raw
    visible = "\n".join(check(rendered))
    assert f"الجولة {fsi}3{pdi}" in visible and f"{fsi}EGY Egypt & <Sudan>{pdi}" in visible


def test_other_languages_have_no_isolates() -> None:
    greeting = text("greeting", "fr", name="Dr <Amal> & Co", delegation="EGY")
    (html_text,) = [message.text for message in render_text(greeting)]
    assert "Bienvenue, Dr &lt;Amal&gt; &amp; Co." in html_text and "\u2068" not in html_text


def test_a_core_reply_becomes_escaped_telegram_html() -> None:
    reply = Reply.of(
        (
            RichSpan("Round <3>", Style.STRONG),
            RichSpan(" & co: "),
            RichSpan("/close 3", Style.CODE),
        ),
        (),
        "plain <i>not italic</i>",
    )
    assert html_reply(reply) == (
        "<b>Round &lt;3&gt;</b> &amp; co: <code>/close 3</code>\n\n"
        "plain &lt;i&gt;not italic&lt;/i&gt;"
    )
    (message,) = render_reply(reply)
    assert message.text == html_reply(reply) and message.keyboard is None
    assert visible_text(message.text, "HTML") == reply.plain()


def test_the_organisers_help_is_telegram_html_with_slash_commands() -> None:
    (message,) = render_reply(replies.help_text(TELEGRAM, language="fr"))
    assert message.text.startswith("<b>")
    assert "<code>/launch ENQUÊTE --audience AUDIENCE --closes QUAND" in message.text
    assert "/itinera" not in message.text
