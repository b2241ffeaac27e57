"""What organisers are told, worded once in the core for every channel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from surveys import organiser_replies as replies
from surveys.i18n import FSI, PDI
from surveys.organiser_replies import SLACK, TELEGRAM
from surveys.records import (
    Attribution,
    Audience,
    Delegation,
    Participant,
    ResponseStatus,
    Role,
    Round,
    StatusLine,
)
from surveys.richtext import Span, Style
from surveys.service.organising import RoundReport, RoundSummary

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
FRANCE = Delegation("FRA", "France", "Western European and other States")
SENEGAL = Delegation("SEN", "Senegal", "African States")


def _round(attribution: Attribution) -> Round:
    return Round(
        id=3,
        survey_id="route_alignment",
        survey_version_id=1,
        audience=Audience("all"),
        opens_at=datetime(2026, 12, 1, tzinfo=UTC),
        closes_at=datetime(2026, 12, 15, 17, 0, tzinfo=UTC),
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        attribution=attribution,
    )


def _line(name: str, delegation: Delegation, status: ResponseStatus, answered: int) -> StatusLine:
    person = Participant(name, f"{name}@example.org", Role.DELEGATE, delegation.code, id=len(name))
    return StatusLine(person, delegation, status, answered, None, None, None)


LINES = (
    _line("Claire", FRANCE, ResponseStatus.SUBMITTED, 12),
    _line("Marc", FRANCE, ResponseStatus.IN_PROGRESS, 1),
    _line("Awa", SENEGAL, ResponseStatus.NOT_STARTED, 0),
)


def _report(attribution: Attribution) -> RoundReport:
    counts = {status: sum(1 for x in LINES if x.status is status) for status in ResponseStatus}
    return RoundReport(_round(attribution), "Route alignment", counts, LINES)


def test_a_named_round_shows_who_is_where() -> None:
    shown = replies.status(_report(Attribution.NAMED), language="en", zone="UTC", now=NOW)
    text = shown.plain()
    assert text.splitlines()[0].startswith("Round 3 – Route alignment: 1 of 3 submitted (33%)")
    assert "• FRA France: Claire – submitted; Marc – in progress (1 answer)" in text
    assert "• SEN Senegal: Awa – not started" in text
    assert shown.lines[1][1] == Span("FRA France", Style.STRONG)


@pytest.mark.parametrize("attribution", [Attribution.DELEGATION, Attribution.ANONYMOUS])
def test_other_rounds_count_delegates_without_naming_them(attribution: Attribution) -> None:
    text = replies.status(_report(attribution), language="en", zone="UTC", now=NOW).plain()
    assert "• FRA France: 1 of 2 delegates submitted" in text
    assert "• SEN Senegal: 0 of 1 delegate submitted" in text
    assert not {"Claire", "Marc", "Awa"} & set(text.replace(":", " ").split())
    assert "only delegations are shown" in text


def test_counts_follow_each_languages_plural_rules() -> None:
    french = replies.status(_report(Attribution.NAMED), language="fr", zone="UTC", now=NOW)
    assert "Marc – en cours (1 réponse)" in french.plain()
    russian = replies.status(_report(Attribution.DELEGATION), language="ru", zone="UTC", now=NOW)
    assert "ответ отправлен: 1 из 2 делегатов" in russian.plain()


def test_commands_are_written_as_each_channel_writes_them() -> None:
    assert "/itinera rounds" in replies.no_such_round(9, SLACK, language="en").plain()
    telegram = replies.help_text(TELEGRAM, language="fr").plain()
    assert "/status CYCLE – qui a répondu" in telegram
    assert "/itinera" not in telegram


def test_arabic_isolates_commands_and_names() -> None:
    help_ar = replies.help_text(TELEGRAM, language="ar")
    commands = [span for line in help_ar.lines for span in line if span.style is Style.CODE]
    assert commands and all(s.text.startswith(FSI) and s.text.endswith(PDI) for s in commands)
    status = replies.status(_report(Attribution.NAMED), language="ar", zone="UTC", now=NOW)
    assert f"{FSI}FRA France{PDI}" in status.plain()


def test_no_rounds_and_overview() -> None:
    assert replies.overview([], language="es", zone="UTC", now=NOW).plain() == (
        "Todavía no hay rondas."
    )
    summary = RoundSummary(
        _round(Attribution.NAMED), "Route alignment", _report(Attribution.NAMED).counts
    )
    text = replies.overview([summary], language="en", zone="Europe/Zurich", now=NOW).plain()
    assert "Round 3 Route alignment: open, closes Tuesday, 15 December 2026, 18:00" in text
    assert "1 of 3 submitted, 1 in progress, 1 not started." in text
