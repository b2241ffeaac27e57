"""``itinera participant show|erase|relink``: a person's data, shown, erased, relinked."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.database import open_store
from surveys.records import AnswerChange, ResponseState, ResponseStatus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "surveys" / "examples" / "route_alignment.yaml"
ROSTER = ROOT / "surveys" / "examples" / "roster.csv"
AMINATA = "aminata.diop@example.org"
COMMENT = "Our national plan, drafted by Aminata"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ITINERA_DATABASE_URL", database_url)

    def invoke(*args: str, actor: str = "olga", input: str | None = None) -> Result:
        monkeypatch.setenv("ITINERA_ACTOR", actor)
        return CliRunner().invoke(app, list(args), input=input)

    return invoke


async def _answered(url: str, round_id: int) -> int:
    """Aminata (SEN) answers a scale and a comment, submits, and is linked on Telegram."""
    store = await open_store(url)
    try:
        people = {p.email: p for p in await store.roster.list_participants()}
        aminata = people[AMINATA]
        response = await store.responses.get_response(round_id, aminata.id)
        now = datetime.now(UTC)
        answers = {"alignment_return": 4, "comment_return": COMMENT}
        await store.responses.save_state(
            response.id,
            version=response.version,
            state=ResponseState(answers=answers, started=True),
            changes=[AnswerChange(q, v, now) for q, v in answers.items()],
            status=ResponseStatus.SUBMITTED,
            now=now,
        )
        await store.roster.link_identity(aminata.id, "telegram", "4242")
        return aminata.id
    finally:
        await store.close()


@pytest.fixture
def aminata(cli, database_url: str) -> tuple[int, str]:
    assert cli("survey", "import", str(EXAMPLE)).exit_code == 0
    assert cli("roster", "import", str(ROSTER)).exit_code == 0
    closes = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    launched = cli(
        "round", "launch", "route_alignment", "--audience", "SEN,FRA", "--closes", closes
    )
    assert launched.exit_code == 0, launched.output
    round_id = launched.output.strip().splitlines()[-1]
    return asyncio.run(_answered(database_url, int(round_id))), round_id


def test_show_prints_everything_about_the_person_as_json(cli, aminata) -> None:
    participant_id, round_id = aminata

    shown = cli("participant", "show", str(participant_id))

    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["participant"]["email"] == AMINATA
    assert data["participant"]["name"] == "Aminata Diop"
    assert data["delegation"]["code"] == "SEN"
    assert [(i["channel"], i["external_id"]) for i in data["identities"]] == [("telegram", "4242")]
    [response] = data["responses"]
    assert response["response"]["round_id"] == int(round_id)
    assert response["response"]["state"]["answers"]["comment_return"] == COMMENT
    assert {c["question_id"] for c in response["history"]} == {
        "alignment_return",
        "comment_return",
    }
    log = json.loads(cli("audit", "--format", "json").output)
    assert log[0]["action"] == "participant.show"
    assert log[0]["target"] == f"participant {participant_id}"


def test_erase_asks_then_removes_personal_data_and_keeps_counts(cli, aminata) -> None:
    participant_id, round_id = aminata
    before = cli("export", round_id, "--format", "json")
    assert before.exit_code == 0

    declined = cli("participant", "erase", str(participant_id), input="n\n")
    assert declined.exit_code == 1
    assert "Aminata Diop <aminata.diop@example.org> (SEN)" in declined.output
    assert "Nothing was erased." in declined.output
    assert (
        json.loads(cli("participant", "show", str(participant_id)).output)["participant"]["email"]
        == AMINATA
    )

    erased = cli("participant", "erase", str(participant_id), input="y\n")

    assert erased.exit_code == 0, erased.output
    assert f"Erased the personal data of participant {participant_id}" in erased.output
    assert "identities: 1" in erased.output and "answers: 2" in erased.output
    after = json.loads(cli("participant", "show", str(participant_id)).output)
    assert AMINATA not in json.dumps(after) and "Aminata" not in json.dumps(after)
    assert COMMENT not in json.dumps(after)
    assert after["identities"] == []
    answers = after["responses"][0]["response"]["state"]["answers"]
    assert answers == {"alignment_return": 4, "comment_return": None}
    exported = cli("export", round_id, "--format", "json")
    assert exported.exit_code == 0
    rows_before, rows_after = json.loads(before.output), json.loads(exported.output)
    assert len(rows_after["responses"] if isinstance(rows_after, dict) else rows_after) == len(
        rows_before["responses"] if isinstance(rows_before, dict) else rows_before
    )
    assert COMMENT not in exported.output and "SEN" in exported.output
    status = cli("round", "status", round_id)
    assert status.exit_code == 0 and "Aminata" not in status.output
    [entry] = [
        e
        for e in json.loads(cli("audit", "--format", "json").output)
        if e["action"] == "participant.erase"
    ]
    assert entry["actor"] == "olga" and entry["target"] == f"participant {participant_id}"
    assert entry["details"]["answers"] == 2 and entry["details"]["via"] == "cli"
    assert AMINATA not in cli("audit", "--format", "json").output


def test_erase_with_yes_does_not_ask_and_refusals_are_said(cli, aminata) -> None:
    participant_id, _ = aminata
    refused = cli("participant", "erase", str(participant_id), "--yes", actor=AMINATA)
    assert refused.exit_code == 1 and "error:" in refused.output
    assert "erase a participant's data" in refused.output
    missing = cli("participant", "show", "99999")
    assert missing.exit_code == 1 and "error: no participant 99999" in missing.output
    assert cli("participant", "show", "0").exit_code == 2

    erased = cli("participant", "erase", str(participant_id), "--yes")

    assert erased.exit_code == 0 and "Erase?" not in erased.output


def test_relink_unlinks_the_current_account(cli, aminata) -> None:
    participant_id, _ = aminata

    relinked = cli("participant", "relink", str(participant_id), "--channel", "telegram")

    assert relinked.exit_code == 0, relinked.output
    assert "Unlinked telegram account 4242" in relinked.output
    assert json.loads(cli("participant", "show", str(participant_id)).output)["identities"] == []
    again = cli("participant", "relink", str(participant_id))
    assert again.exit_code == 0 and "has no telegram account linked" in again.output
    log = json.loads(cli("audit", "--format", "json").output)
    relinks = [e for e in log if e["action"] == "participant.relink"]
    assert [e["details"]["unlinked"] for e in relinks] == [False, True]
