"""Commands and buttons besides answering: enrolment, preferences, help, organisers' views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.fakes.telegram_api import FakeTelegram
from handlers.telegram.texts import LANGUAGES
from surveys.records import ResponseStatus
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor


async def test_enrolment_codes_work_once_and_until_they_expire(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    stranger = fake.user(8001, "Stranger")
    claire = fake.user(8002, "Claire")
    aminata = fake.user(8003, "Aminata")
    code = await world.invite("claire")
    late = await world.invite("aminata", days=1)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(stranger, "start"))
        welcome = fake.last_text(stranger)
        assert "enrolment link" in welcome and "lien d’inscription" in welcome
        assert "enlace de inscripción" in welcome

        await bot.act(fake.command(stranger, "start", "NoSuchCode_123"))
        assert "This enrolment link is not valid" in fake.last_text(stranger)
        await bot.act(fake.command(stranger, "survey"))
        assert "please open the personal enrolment link" in fake.last_text(stranger)

        await bot.act(fake.command(claire, "start", code))
        assert fake.bot_messages(claire)[0].text.startswith("Bienvenue, Claire Dubois")
        await bot.act(fake.command(stranger, "start", code))  # someone else, same link
        assert "has already been used" in fake.last_text(stranger)
        await bot.act(fake.command(claire, "start", code))  # herself again
        assert "Vous êtes déjà inscrit(e), Claire Dubois" in "\n".join(
            m.text for m in fake.bot_messages(claire)[-2:]
        )

        world.clock.advance(timedelta(days=2))
        await bot.act(fake.command(aminata, "start", late))
        assert "has expired" in fake.last_text(aminata)
        await bot.act(fake.command(aminata, "start"))
        assert "enrolment link" in fake.last_text(aminata)

    assert await world.store.roster.find_by_identity("telegram", "8001") is None
    assert await world.store.roster.find_by_identity("telegram", "8003") is None
    linked = await world.store.roster.find_by_identity("telegram", "8002")
    assert linked is not None and linked.email == "claire@example.org"


async def test_start_alone_greets_and_shows_where_the_delegate_is(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    diego = fake.user(8010, "Diego")
    await world.enrol("diego", diego.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(diego, "start"))
        hello, question = fake.bot_messages(diego)[-2:]
        assert hello.text == "Nos alegra verle de nuevo, Diego Ramírez."
        assert "Pregunta 1 de 22" in question.text


async def test_language_and_timezone_are_set_with_buttons_or_typed(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(8020, "Claire")
    participant = await world.enrol("claire", claire.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "language"))
        assert fake.last_text(claire) == "Dans quelle langue dois-je vous écrire\u00a0?"
        assert [b.text for b in fake.last_keyboard(claire)] == [
            "العربية",
            "中文",
            "English",
            "✓ Français",
            "Русский",
            "Español",
        ]
        await bot.act(fake.tap(claire, "Español"))
        assert fake.last_text(claire) == "Entendido, a partir de ahora le escribiré en español."
        await bot.act(fake.command(claire, "survey"))
        assert "Pregunta 1 de 22" in fake.last_text(claire)
        assert "Enfoque basado en rutas" in fake.last_text(claire)

        await bot.act(fake.command(claire, "timezone", "asia/tokyo"))
        assert fake.last_text(claire).startswith("Su zona horaria es ahora Asia/Tokyo")
        await bot.act(fake.command(claire, "timezone", "Mars/Olympus_Mons"))
        assert "Mars/Olympus_Mons no es una zona horaria" in fake.last_text(claire)
        await bot.act(fake.command(claire, "timezone"))
        assert "✓ Asia/Tokyo" in [b.text for b in fake.last_keyboard(claire)]
        await bot.act(fake.tap(claire, "Africa/Dakar"))
        assert fake.last_text(claire).startswith("Su zona horaria es ahora Africa/Dakar")

    updated = await world.store.roster.get_participant(participant.id)
    assert (updated.language, updated.timezone) == ("es", "Africa/Dakar")


async def test_help_differs_for_organisers(fake: FakeTelegram, world: Any, run_bot: Any) -> None:
    nour = fake.user(8030, "Nour")
    olga = fake.user(8031, "Olga")
    await world.enrol("nour", nour.id)
    await world.enrol("olga", olga.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(nour, "help"))
        assert "/survey" in fake.last_text(nour) and "/rounds" not in fake.last_text(nour)
        assert "أجمع إجابات وفدكم" in fake.last_text(nour)
        await bot.act(fake.command(olga, "help"))
        assert "/status ROUND" in fake.last_text(olga)
        await bot.act(fake.command(olga, "unknowncommand"))
        assert "/status ROUND" in fake.last_text(olga)
    menus = fake.calls_to("setMyCommands")
    assert {call.params.get("language_code") for call in menus} == {None, *LANGUAGES}


async def test_organisers_follow_rounds_and_others_are_refused(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    olga = fake.user(8040, "Olga")
    claire = fake.user(8041, "Claire")
    await world.enrol("olga", olga.id)
    await world.enrol("claire", claire.id)
    round_id = world.round.id
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "status", str(round_id)))
        assert fake.last_text(claire) == (
            "Désolé, cette commande est réservée à l’équipe organisatrice. Pour répondre à une "
            "enquête, utilisez les messages qu’Itinera vous envoie."
        )
        await bot.act(fake.command(claire, "rounds"))
        assert "réservée à l’équipe organisatrice" in fake.last_text(claire)

        await bot.act(fake.command(claire, "survey"))
        await bot.act(fake.send_text(claire, "4"))
        await bot.act(fake.command(olga, "rounds"))
        listing = fake.last_text(olga)
        assert listing.startswith(f"Rounds\nRound {round_id} Route-based approach")
        assert "0 of 4 submitted, 1 in progress, 3 not started" in listing

        await bot.act(fake.command(olga, "status", f"#{round_id}"))
        status = fake.last_text(olga)
        assert status.startswith(f"Round {round_id} – Route-based approach")
        assert "0 of 4 submitted (0%); open, closes" in status
        # The round attributes answers to delegations: states are counted, people not named.
        assert "• FRA France: 0 of 1 delegate submitted" in status
        assert "Claire" not in status

        await bot.act(fake.command(olga, "status"))
        assert fake.last_text(olga) == (
            "I could not read that command: status takes one round number, e.g. /status 3.\n"
            "For the organisers’ commands, send /help"
        )
        await bot.act(fake.command(olga, "status", "999"))
        assert fake.last_text(olga).startswith("There is no round 999.")
        await bot.act(fake.command(olga, "survey"))
        assert fake.last_text(olga).startswith("There is no survey open for you")


async def test_every_button_press_is_answered_even_stale_or_foreign_ones(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(8050, "Claire")
    aminata = fake.user(8051, "Aminata")
    stranger = fake.user(8052, "Stranger")
    await world.enrol("claire", claire.id)
    await world.enrol("aminata", aminata.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        first = fake.last_keyboard_message(claire)
        assert first is not None
        press_4 = next(b.data for b in first.buttons if b.text == "4")
        press_2 = next(b.data for b in first.buttons if b.text == "2")
        assert press_4 is not None and press_2 is not None
        await bot.act(fake.press(claire, first.message_id, press_4))
        # A second press on the same question (sent before the first was shown): stale.
        await bot.act(fake.press(claire, first.message_id, press_2))
        assert await world.answers("claire") == {"alignment_return": 4}
        assert "Question 2 sur" in fake.last_text(claire)

        await bot.act(fake.press(claire, first.message_id, "not-ours"))
        await bot.act(fake.press(aminata, first.message_id, press_4))  # not her response
        await bot.act(fake.press(stranger, first.message_id, press_4))
        assert "enrolment link" in fake.last_text(stranger)
        assert await world.answers("aminata") == {}

    queries = [c for c in fake.calls if c.method == "answerCallbackQuery"]
    assert len(queries) == 5 and all(c.status == 200 for c in queries)
    notices = [c.params.get("text") for c in queries]
    assert notices[1] == "Ce bouton n’est plus d’actualité\u00a0; voici où vous en êtes."
    assert notices[2] == "Ce bouton n’est plus valide."
    assert notices[3] == "Ce bouton n’est plus valide."


async def test_a_closed_round_answers_politely(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    claire = fake.user(8060, "Claire")
    aminata = fake.user(8061, "Aminata")
    await world.enrol("claire", claire.id)
    await world.enrol("aminata", aminata.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(claire, "survey"))
        await world.store.rounds.close_round(world.round.id, now=world.clock.now())
        await bot.act(fake.tap(claire, "3"))
        assert "a été clôturée" in fake.last_text(claire)
        assert fake.last_keyboard(claire) == []  # the question's buttons are gone
        # Typed for the question she was shown: that round is closed, she is told so.
        sent = len(fake.bot_messages(claire))
        await bot.act(fake.send_text(claire, "3"))
        assert len(fake.bot_messages(claire)) == sent + 1
        assert "a été clôturée" in fake.last_text(claire)
        # Typed with no question shown and no round open.
        await bot.act(fake.send_text(aminata, "3"))
        assert "Aucune enquête ne vous est ouverte" in fake.last_text(aminata)
    for who in ("claire", "aminata"):
        response = await world.store.responses.get_response(world.round.id, world.person(who).id)
        assert response.status is not ResponseStatus.SUBMITTED
        assert response.state.answers == {}


async def test_what_is_not_text_is_answered(fake: FakeTelegram, world: Any, run_bot: Any) -> None:
    claire = fake.user(8070, "Claire")
    await world.enrol("claire", claire.id)
    location = fake.text_update(claire, "")["message"]
    del location["text"]
    location["location"] = {"latitude": 46.2, "longitude": 6.1}
    async with run_bot("polling") as bot:
        await bot.act(fake.push_update({"message": location}))
        assert fake.last_text(claire).startswith("Je ne peux lire que du texte.")


async def test_an_organiser_scoped_to_a_region_sees_only_its_delegations(
    fake: FakeTelegram, world: Any, run_bot: Any
) -> None:
    full = Actor.command_line("test")
    now = world.clock.now()
    scoped = ",,,Olga Organiser,olga@example.org,organiser,en,Europe/Zurich,African States\n"
    header = "delegation,delegation_name,region,name,email,role,language,timezone,regions\n"
    await organising.import_roster(world.store, full, read_roster_csv(header + scoped), now=now)
    request = organising.LaunchRequest(
        survey_id=world.survey.id, audience="FRA", closes=now + timedelta(days=30), again=True
    )
    france = (await organising.launch(world.store, full, request, now=now)).round.id
    olga = fake.user(8042, "Olga")
    await world.enrol("olga", olga.id)
    async with run_bot("polling") as bot:
        await bot.act(fake.command(olga, "status", str(world.round.id)))
        status = fake.last_text(olga)
        assert "0 of 2 submitted (0%); open" in status
        assert "SEN Senegal: 0 of 1 delegate submitted" in status
        assert "EGY Egypt: 0 of 1 delegate submitted" in status
        assert "FRA" not in status and "Claire" not in status and "MEX" not in status
        await bot.act(fake.command(olga, "status", str(france)))
        assert fake.last_text(olga) == (
            f"Sorry, round {france} asks no delegation of the regions you follow (African States)."
        )
