"""The Slack channel end to end: signed requests over HTTP into the real Bolt app, Web API calls
over HTTP to the fake, the database underneath (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import io
import time
from typing import Any

from bot.exporting import write_csv
from bot.fakes.slack_api import SlackUser
from surveys.export import ValueStyle
from surveys.records import ResponseStatus
from surveys.roster import read_roster_csv
from surveys.service import organising
from surveys.service.actors import Actor
from tests.handlers.slack.conftest import CLOSES

LUCIA = "U01MEX0001"  # delegate, Mexico, Spanish
CLAIRE = "U01FRA0001"  # delegate, France, French
SOFIA = "U01ORG0001"  # organiser, Spanish
AMINATA = "U09SEN0001"  # delegate known only by email
STRANGER = "U09XXX0001"  # not on the roster


async def step(world: Any, response: Any, *, method: str = "chat.update") -> None:
    """A press was acknowledged at once, and its work is done."""
    assert response.status_code == 200, response.text
    await world.idle()


async def answer_theme(world: Any, lucia: SlackUser, *, scale: str, engagement: str) -> None:
    await step(world, await lucia.press(scale))
    await step(world, await lucia.press(engagement))
    lucia.tick()  # no framework: an optional multiple choice left empty
    await step(world, await lucia.press("Confirmar"))
    await step(world, await lucia.press("Omitir"))  # the comment


async def test_a_delegate_answers_the_example_survey_in_spanish(slack_world: Any) -> None:
    world = slack_world
    slack = world.slack
    lucia = world.user(LUCIA)

    # App Home lists her open round; "Abrir" sends the survey to her direct messages.
    await step(world, await lucia.open_home())
    home = slack.home[LUCIA]
    assert "Sus encuestas" in str(home)
    assert "0 de 22 preguntas respondidas" in str(home)
    await step(world, await lucia.press_home("Abrir"))
    first = lucia.screen()
    assert "Enfoque basado en rutas" in lucia.texts()
    assert "Pregunta 1 de 22" in str(first.blocks)
    assert slack.calls_to("conversations.open") == [], "DMs are posted to the user id"

    # Theme 1: a scale by button, a choice by button, checkboxes, a modal for "other".
    await step(world, await lucia.press("4"))
    assert lucia.screen().ts == first.ts  # updated in place
    await step(world, await lucia.press("Ya participa"))
    lucia.tick("Pacto Mundial sobre los Refugiados", "Otro")
    await step(world, await lucia.press("Confirmar"))
    assert "¿De qué otro(s) marco(s) se trata?" in lucia.texts()
    await step(world, await lucia.press("Responder"))
    assert slack.calls_to("views.open"), "the modal opens in the ack path"
    too_long = await lucia.submit("x" * 301)
    assert too_long.status_code == 200
    assert too_long.json() == {
        "response_action": "errors",
        "errors": {"answer": "Por favor, limite su respuesta a 300 caracteres; ahora tiene 301."},
    }
    await world.idle()
    ok = await lucia.submit("Proceso de Cartagena")
    assert ok.status_code == 200 and ok.text == ""
    await world.idle()
    assert "¿Desea formular alguna observación adicional sobre el retorno?" in lucia.texts()
    await step(world, await lucia.press("Omitir"))

    # Themes 2 to 5.
    await answer_theme(world, lucia, scale="3", engagement="Prevé participar")
    await answer_theme(world, lucia, scale="5", engagement="Lo está estudiando")
    await answer_theme(world, lucia, scale="2", engagement="No procede")
    await answer_theme(world, lucia, scale="4", engagement="Ya participa")

    # Closing: priorities (checkboxes, at most three), follow-up yes, a date in the modal.
    lucia.tick("Retorno", "Sistemas de asilo")
    await step(world, await lucia.press("Confirmar"))
    await step(world, await lucia.press("Sí"))
    await step(world, await lucia.press("Responder"))
    await step(world, await lucia.submit("2026-04-15"))
    assert "Sus respuestas" in lucia.texts()

    # Change an answer from the summary, then submit.
    summary = lucia.screen()
    change = [
        b for b in summary.blocks if b.get("accessory", {}).get("value") == "alignment_return"
    ]
    assert change, "each answer has its Change button"
    await step(world, await lucia.press(action_id=change[0]["accessory"]["action_id"]))
    assert "¿En qué medida las iniciativas basadas en rutas en materia de retorno" in lucia.texts()
    await step(world, await lucia.press("5"))
    assert "Sus respuestas" in lucia.texts()
    await step(world, await lucia.press("Enviar"))
    assert "Gracias. Sus respuestas han sido enviadas." in lucia.texts()
    updated = slack.calls_to("chat.update")
    assert len(updated) == 2, "only after the two answers typed in the form: presses reply by URL"
    assert all(call.args.get("channel") == f"D{LUCIA}" for call in updated)
    assert all(call.args.get("replace_original") for call in slack.calls_to("response_url"))
    assert len(slack.calls_to("chat.postMessage")) == 1, "one message, updated in place"
    assert lucia.screen().ts == first.ts and lucia.screen().updates > 20

    # In the database, and in the export.
    participant = await world.store.roster.find_by_identity("slack", LUCIA)
    response = await world.store.responses.get_response(world.round_id, participant.id)
    assert response.status is ResponseStatus.SUBMITTED
    answers = response.state.answers
    assert answers["alignment_return"] == 5
    assert answers["engagement_return"] == "engaged"
    assert answers["frameworks_return"] == ["gcr", "other"]
    assert answers["frameworks_other_return"] == "Proceso de Cartagena"
    assert answers["comment_return"] is None
    assert answers["priorities"] == ["return", "asylum_systems"]
    assert answers["follow_up"] == "yes"
    assert answers["follow_up_date"] == "2026-04-15"
    survey = (await world.store.surveys.latest_version("route_alignment")).definition
    out = io.StringIO()
    rows = world.store.responses.export_rows(world.round_id)
    await write_csv(rows, out, survey=survey, style=ValueStyle.CODES, language="en")
    exported = out.getvalue()
    assert "Proceso de Cartagena" in exported and "2026-04-15" in exported

    # Her live screen is that message, in her DM.
    live = await world.store.screens.get(channel="slack", response_id=response.id)
    assert live is not None and (live.message_id, live.address) == (first.ts, f"D{LUCIA}")

    # After submitting she can still change an answer.
    await step(world, await lucia.press(action_id=change[0]["accessory"]["action_id"]))
    await step(world, await lucia.press("3"))
    assert "Ha enviado estas respuestas" in lucia.texts()


async def test_organisers_follow_a_round_and_others_are_refused(slack_world: Any) -> None:
    world = slack_world
    slack = world.slack
    sofia = world.user(SOFIA)

    await step(world, await sofia.command(f"status {world.round_id}"))
    reply = slack.responses[-1]
    assert reply["response_type"] == "ephemeral"
    assert f"*Ronda {world.round_id} – Enfoque basado en rutas" in reply["text"]
    assert "0 de 14 enviadas" in reply["text"]
    # The round attributes answers to delegations, so status names States, not people.
    shown = reply["blocks"][0]["text"]["text"]
    assert "• *MEX Mexico*: 0 de 1 delegado ha enviado" in shown
    assert "Lucía" not in shown and "solo se muestran las delegaciones" in shown

    await step(world, await sofia.command("rounds"))
    assert "0 de 14 enviadas, 0 en curso, 14 sin empezar." in slack.responses[-1]["text"]
    await step(world, await sofia.command("help"))
    assert "`/itinera status RONDA` – quién ha respondido" in slack.responses[-1]["text"]
    await step(world, await sofia.command("frobnicate"))
    assert "No he podido leer ese comando" in slack.responses[-1]["text"]
    assert "`/itinera help`" in slack.responses[-1]["text"]

    # Her App Home shows the round with live counts.
    await step(world, await sofia.open_home())
    assert "0 de 14 enviadas · 0 en curso · 14 sin empezar" in str(slack.home[SOFIA])

    # Delegates are refused, ephemerally, in their language; so is a stranger.
    await step(world, await world.user(LUCIA).command(f"status {world.round_id}"))
    refusal = slack.responses[-1]
    assert refusal["response_type"] == "ephemeral"
    assert refusal["text"].startswith("Lo sentimos, este comando está reservado")
    await step(world, await world.user(CLAIRE).command("rounds"))
    assert slack.responses[-1]["text"].startswith("Désolé, cette commande est réservée")
    await step(world, await world.user(STRANGER).command("rounds"))
    assert slack.responses[-1]["text"].startswith("Sorry, this command is reserved")


async def test_an_organiser_launches_and_closes_a_round(slack_world: Any) -> None:
    world = slack_world
    slack = world.slack
    sofia = world.user(SOFIA)
    command = "launch route_alignment --audience region:'African States' --closes 2026-06-30"
    await step(world, await sofia.command(command))
    refused = slack.responses[-1]["text"]  # the world's round 1 asks these delegates already
    assert refused.startswith("No se ha podido hacer: round 1 of survey 'route_alignment'")
    assert "in ETH, MAR, NER, SEN; add --again" in refused
    await step(world, await sofia.command(f"{command} --again"))
    launched = slack.responses[-1]["text"]
    assert launched.startswith("La ronda 2 está lanzada: route_alignment versión 2026.1")
    assert "4 delegados" in launched
    await step(world, await sofia.command("close 2"))
    assert slack.responses[-1]["text"].startswith("La ronda 2 está ahora cerrada.")
    closed = await world.store.rounds.get_round(2)
    assert closed.closed_at is not None
    entries = await world.store.audit.entries()
    assert {"round.launch", "round.close"} <= {entry.action for entry in entries}
    await step(world, await sofia.command("launch route_alignment --audience all"))
    assert "launch needs --closes" in slack.responses[-1]["text"]
    await step(world, await sofia.command("status 99"))
    assert slack.responses[-1]["text"] == (
        "No existe la ronda 99. Para ver las rondas, envíe `/itinera rounds`"
    )


async def test_retries_and_replays_change_nothing(slack_world: Any) -> None:
    world = slack_world
    slack = world.slack
    lucia = world.user(LUCIA)
    await step(world, await lucia.open_home())
    await step(world, await lucia.press_home("Abrir"))
    message = lucia.screen().snapshot()

    press = await lucia.press("4", message=message, action_ts="1760000000.000100")
    await step(world, press)
    assert "Pregunta 2 de 22" in lucia.texts()
    calls = len(slack.calls)
    participant = await world.store.roster.find_by_identity("slack", LUCIA)
    before = await world.store.responses.get_response(world.round_id, participant.id)

    # The same press delivered again (a replay): acknowledged, not applied.
    again = await lucia.press("4", message=message, action_ts="1760000000.000100")
    await step(world, again)
    assert len(slack.calls) == calls
    # The same event retried by Slack with X-Slack-Retry-Num.
    body_event = {"type": "app_home_opened", "user": LUCIA, "channel": f"D{LUCIA}", "tab": "home"}
    first = await world.sender.event(body_event, event_id="Ev0REPLAYED1")
    await step(world, first)
    calls = len(slack.calls)
    retried = await world.sender.event(body_event, event_id="Ev0REPLAYED1", retry_num=1)
    await step(world, retried)
    assert len(slack.calls) == calls
    after = await world.store.responses.get_response(world.round_id, participant.id)
    assert after.state == before.state
    backlog = await world.store.events.backlog()
    assert backlog.pending == 0, "everything stored was processed"


async def test_forged_and_stale_signatures_are_refused(slack_world: Any) -> None:
    world = slack_world
    lucia = world.user(LUCIA)
    forged = await lucia.open_home(forged_signature="v0=" + "0" * 64)
    assert forged.status_code == 401
    stale = await lucia.open_home(timestamp=int(time.time()) - 10 * 60)
    assert stale.status_code == 401
    assert world.slack.calls_to("views.publish") == []
    assert (await world.store.events.backlog()).pending == 0


class RecordingDigests:
    """A DigestService that remembers what it was asked for."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, str | None]] = []

    async def publish(
        self, round_id: int, *, language: str | None = None, delegations: Any = None
    ) -> str:
        self.asked.append((round_id, language))
        return "9 of 12 delegations have answered (75%)."


async def test_an_organiser_extends_a_round_and_asks_for_a_digest(slack_world: Any) -> None:
    world = slack_world
    slack = world.slack
    sofia = world.user(SOFIA)
    rid = world.round_id

    digests = RecordingDigests()
    world.runtime.services.digests = digests
    await step(world, await sofia.command(f"digest {rid}"))
    assert digests.asked == [(rid, "es")]
    assert slack.responses[-1]["text"].startswith(
        f"Resumen de la ronda {rid}:\n9 of 12 delegations have answered (75%).\n\n"
        "El resumen completo se publicó"
    )
    await step(world, await sofia.command("digest 99"))
    assert slack.responses[-1]["text"].startswith("No existe la ronda 99.")
    assert digests.asked == [(rid, "es")]

    before = await world.store.rounds.get_round(rid)
    await step(world, await sofia.command(f"extend {rid} --closes 2027-01-31 --tz UTC"))
    after = await world.store.rounds.get_round(rid)
    assert after.closes_at > before.closes_at
    assert (after.closes_at.month, after.closes_at.day) == (1, 31)
    assert slack.responses[-1]["text"].startswith(f"La ronda {rid} cierra ahora el")
    await step(world, await sofia.command(f"extend {rid} --closes someday"))
    assert "is not a date or date-time" in slack.responses[-1]["text"]
    assert "round.extend" in {entry.action for entry in await world.store.audit.entries()}

    await step(world, await world.user(LUCIA).command(f"digest {rid}"))
    assert slack.responses[-1]["text"].startswith("Lo sentimos, este comando está reservado")


async def test_an_organiser_scoped_to_a_region_sees_only_its_delegations(make_world: Any) -> None:
    full = Actor.command_line("test")
    rounds: dict[str, int] = {}

    async def scope_sofia(store: Any) -> None:
        now = (await store.rounds.list_rounds())[0].created_at
        row = (
            "delegation,name,email,role,language,timezone,slack_user_id,regions\n"
            ",Sofia Marquez,sofia.marquez@example.org,organiser,es,Europe/Zurich,"
            "U01ORG0001,Latin American and Caribbean States\n"
        )
        await organising.import_roster(store, full, read_roster_csv(row), now=now)
        request = organising.LaunchRequest("route_alignment", "FRA,DEU", closes=CLOSES, again=True)
        rounds["europe"] = (await organising.launch(store, full, request, now=now)).round.id

    async with make_world(before_start=scope_sofia) as world:
        slack = world.slack
        sofia = world.user(SOFIA)
        await step(world, await sofia.command(f"status {world.round_id}"))
        reply = slack.responses[-1]
        assert "0 de 3 enviadas" in reply["text"]
        shown = reply["blocks"][0]["text"]["text"]
        assert "*MEX Mexico*" in shown and "*COL Colombia*" in shown
        assert "FRA" not in shown and "SEN" not in shown
        await step(world, await sofia.command(f"status {rounds['europe']}"))
        assert slack.responses[-1]["text"] == (
            f"Lo sentimos, la ronda {rounds['europe']} no incluye ninguna delegación de las "
            "regiones que usted sigue (Latin American and Caribbean States)."
        )
        await step(world, await sofia.command(f"close {world.round_id}"))
        refusal = slack.responses[-1]["text"]
        assert refusal.startswith("Lo sentimos, esta solicitud va más allá de las regiones")
        assert "FRA (France, Western European and other States)" in refusal
        assert (await world.store.rounds.get_round(world.round_id)).closed_at is None
