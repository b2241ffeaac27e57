"""End to end: a delegate enrols and answers the example survey in French, over the Bot API.

Itinera, as the bootstrap builds it, runs against the fake Bot API over HTTP, in polling and
in webhook mode, on SQLite and (with ITINERA_TEST_DATABASE_URL) PostgreSQL: updates are
stored by the receiver, applied by the inbox, and what to show is sent from the outbox. Itinera
is stopped and a new one started half-way; the answers end up in the database and the export.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from bot.exporting import write_csv
from bot.fakes.telegram_api import FakeTelegram, FakeUser
from surveys.definition import QuestionType
from surveys.export import ValueStyle
from surveys.records import ResponseStatus


async def current_question(world: Any, participant_id: int) -> str | None:
    response = await world.store.responses.get_response(world.round.id, participant_id)
    return response.state.current


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_delegate_answers_the_example_survey_in_french(
    mode: str, fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(7001, "Claire", language_code="fr")
    person = world.person("claire")
    code = await world.invite("claire")

    async def at() -> str | None:
        return await current_question(world, person.id)

    async with run_bot(mode) as bot:
        # Enrolment: greeted in French, then the intro and the first question.
        await bot.act(fake.command(claire, "start", code))
        greeting, first = fake.bot_messages(claire)[-2:]
        assert greeting.text.startswith("Bienvenue, Claire Dubois")
        assert "France" in greeting.text
        assert "Question 1 sur 22" in first.text
        assert "Approche basée sur les itinéraires" in first.text
        assert [button.text for button in first.buttons] == ["1", "2", "3", "4", "5"]
        identity = await world.store.identities.identity(person.id, "telegram")
        assert identity is not None and identity.external_id == "7001"

        # An invalid typed answer is refused in French, and the question asked again.
        await bot.act(fake.send_text(claire, "9"))
        reasked = fake.bot_messages(claire)[-1]
        assert "Veuillez choisir un nombre de 1 (Pas du tout alignées) à 5" in reasked.text
        assert "Question 1 sur 22" in reasked.text
        assert first.buttons == []  # the old keyboard was taken off
        assert await at() == "alignment_return"

        # A press edits the message in place.
        sent_before = len(fake.bot_messages(claire))
        await bot.act(fake.tap(claire, "4"))
        assert len(fake.bot_messages(claire)) == sent_before
        assert "Question 2 sur 22" in reasked.text and reasked.edits == 1
        await bot.act(fake.tap(claire, "Engagement prévu"))

        # Multiple choice: toggles redraw the buttons only; Done submits the selection.
        assert await at() == "frameworks_return"
        await bot.act(fake.tap(claire, "Pacte mondial sur les réfugiés"))
        await bot.act(fake.tap(claire, "Autre"))
        selected = [b.text for b in fake.last_keyboard(claire) if b.text.startswith("☑")]
        assert selected == ["☑ 1. Pacte mondial sur les réfugiés", "☑ 10. Autre"]
        assert await at() == "frameworks_return"  # nothing stored before Done
        await bot.act(fake.tap(claire, "Valider"))
        assert await at() == "frameworks_other_return"
        assert "Passer" not in [b.text for b in fake.last_keyboard(claire)]  # required
        await bot.act(fake.send_text(claire, "Processus de Niamey"))
        await bot.act(fake.tap(claire, "Passer"))

        # Part 2, typed: a scale point and a choice by its number.
        assert await at() == "alignment_transfer"
        await bot.act(fake.send_text(claire, "3"))
        await bot.act(fake.send_text(claire, "2"))
        await bot.act(fake.tap(claire, "Valider"))  # nothing selected: skipped (optional)
        assert await at() == "comment_transfer"

        # Back, change the answer, go on.
        await bot.act(fake.tap(claire, "Retour"))
        assert await at() == "frameworks_transfer"
        await bot.act(fake.tap(claire, "Accords bilatéraux"))
        await bot.act(fake.tap(claire, "Valider"))
        await bot.act(fake.send_text(claire, "Coopération <bilatérale> & régionale"))
        assert await at() == "alignment_durable_solutions"

    # A new Itinera on the same database (a restart): the delegate carries on.
    async with run_bot(mode) as bot:
        await bot.act(fake.command(claire, "survey"))
        resumed = fake.bot_messages(claire)[-1]
        label = world.survey.question("alignment_durable_solutions").label_in("fr")
        assert label in resumed.text
        await bot.act(fake.tap(claire, "5"))
        assert await at() == "engagement_durable_solutions"

        # The rest, question by question, as the database says where she is.
        while (question_id := await at()) is not None:
            await answer(bot, fake, claire, world.survey.question(question_id), question_id)

        review = fake.bot_messages(claire)[-1]
        assert "Vos réponses" in "\n".join(m.text for m in fake.bot_messages(claire)[-3:])
        assert "✔ Envoyer" in [b.text for b in review.buttons]
        await bot.act(fake.tap(claire, "Envoyer"))
        assert "Merci. Vos réponses ont bien été envoyées." in "\n".join(
            m.text for m in fake.bot_messages(claire)[-3:]
        )
        toasts = [call.params.get("text") for call in fake.calls_to("answerCallbackQuery")]
        assert "Merci. Vos réponses ont bien été envoyées." in toasts
        assert len(toasts) == len([u for u in fake.calls_to("answerCallbackQuery")])

        # After submission /survey shows the answers, with change buttons and no submit.
        await bot.act(fake.command(claire, "survey"))
        after = fake.bot_messages(claire)[-1]
        assert "Vous pouvez encore les modifier" in after.text
        assert any(b.text.startswith("✎") for b in after.buttons)
        assert not any("Envoyer" in b.text for b in after.buttons)

    response = await world.store.responses.get_response(world.round.id, person.id)
    assert response.status is ResponseStatus.SUBMITTED
    answers = response.state.answers
    assert answers["alignment_return"] == 4
    assert answers["engagement_return"] == "planning"
    assert answers["frameworks_return"] == ["gcr", "other"]
    assert answers["frameworks_other_return"] == "Processus de Niamey"
    assert answers["comment_return"] is None
    assert answers["alignment_transfer"] == 3
    assert answers["engagement_transfer"] == "planning"
    assert answers["frameworks_transfer"] == ["bilateral"]
    assert answers["comment_transfer"] == "Coopération <bilatérale> & régionale"
    assert answers["alignment_durable_solutions"] == 5
    assert answers["priorities"] == ["return", "transfer"]
    assert answers["follow_up"] == "yes"
    assert answers["follow_up_date"] == "2027-03-15"

    out = io.StringIO()
    rows = world.store.responses.export_rows(world.round.id)
    await write_csv(rows, out, survey=world.survey, style=ValueStyle.CODES, language="fr")
    exported = {row["email"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    mine = exported["claire@example.org"]
    assert mine["status"] == "submitted"
    assert mine["frameworks_return"] == "gcr; other"
    assert mine["comment_transfer"] == "Coopération <bilatérale> & régionale"
    assert mine["follow_up_date"] == "2027-03-15"
    assert exported["aminata@example.org"]["status"] == "not_started"


async def answer(
    bot: Any,
    fake: FakeTelegram,
    user: FakeUser,
    question: Any,
    question_id: str,
) -> None:
    """Answer one question as a delegate would, with some invalid inputs on the way."""
    kind = question.type
    if question_id == "priorities":
        await bot.act(fake.tap(user, "Valider"))  # nothing chosen: it is required
        assert "Cette question appelle une réponse." in fake.bot_messages(user)[-1].text
        for label in ("Retour", "Transfert légal", "Solutions durables", "Systèmes d'asile"):
            await bot.act(fake.tap(user, f"☐ {label}"))
        await bot.act(fake.tap(user, "Valider"))
        assert "Veuillez choisir entre 1 et 3 options." in fake.bot_messages(user)[-1].text
        for label in ("Solutions durables", "Systèmes d'asile"):
            await bot.act(fake.tap(user, f"☑ {label}"))
        await bot.act(fake.tap(user, "Valider"))
    elif kind is QuestionType.SCALE:
        await bot.act(fake.tap(user, "3"))
    elif kind is QuestionType.YES_NO:
        await bot.act(fake.tap(user, "Oui"))
    elif kind is QuestionType.SINGLE_CHOICE:
        await bot.act(fake.tap(user, "Déjà engagé"))
    elif kind is QuestionType.MULTIPLE_CHOICE:
        await bot.act(fake.tap(user, "Processus de Rabat"))
        await bot.act(fake.tap(user, "Valider"))
    elif kind is QuestionType.DATE:
        await bot.act(fake.send_text(user, "31/02/2027"))
        assert "31/02/2027\u00a0» n’existe pas." in fake.bot_messages(user)[-1].text
        await bot.act(fake.send_text(user, "15/03/2027"))
    else:
        await bot.act(fake.send_text(user, "Rien à signaler"))
