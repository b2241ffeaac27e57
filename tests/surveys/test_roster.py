"""Roster CSV parsing: columns by name, located errors, nothing half-read."""

from __future__ import annotations

import pytest

from surveys.errors import RosterError
from surveys.records import Role
from surveys.roster import read_roster_csv

HEADER = "delegation,delegation_name,region,name,email,role,language,timezone,slack_user_id,tags"


def known(code: str) -> str | None:
    return {"FRA": "France", "SEN": "Senegal", "MEX": "Mexico"}.get(code)


def parse(text: str) -> object:
    return read_roster_csv(text, source="roster.csv", country_name=known, strict_countries=True)


def test_reads_rows_and_merges_delegations() -> None:
    roster = read_roster_csv(
        f"{HEADER}\n"
        "FRA,France,WEOG,Claire Dubois,Claire.Dubois@Example.org,delegate,fr,Europe/Paris,"
        "U1FRA,a;b\n"
        "fra,,WEOG,Hugo Martin,hugo@example.org,delegate,fr,Europe/Paris,,\n"
        ",,,Sofia Marquez,sofia@example.org,organiser,es,Europe/Zurich,,\n",
        country_name=known,
        strict_countries=True,
    )
    assert [d.code for d in roster.delegations] == ["FRA"]
    assert roster.delegations[0].name == "France"
    first, second, organiser = roster.participants
    assert first.email == "claire.dubois@example.org"
    assert first.tags == ("a", "b")
    assert first.slack_user_id == "U1FRA"
    assert second.delegation == "FRA"
    assert organiser.role is Role.ORGANISER and organiser.delegation is None


def test_columns_in_any_order_unknown_reported_and_semicolon_csv() -> None:
    roster = read_roster_csv(
        "email;name;role;delegation;phone\nA@x.org;Aminata Diop;delegate;SEN;+221\n",
        country_name=known,
        strict_countries=True,
    )
    assert roster.participants[0].delegation == "SEN"
    assert roster.participants[0].language == "en"
    assert roster.participants[0].timezone == "UTC"
    assert roster.delegations[0].name == "Senegal"  # filled from the ISO name
    assert roster.warnings == ("ignored unknown column(s): phone",)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("XXX,,,A,a@x.org,delegate,fr,UTC,,", "line 2: delegation 'XXX' is not an ISO 3166"),
        ("FR,,,A,a@x.org,delegate,fr,UTC,,", "line 2: delegation 'FR' is not an ISO 3166 alpha-3"),
        ("FRA,,,,a@x.org,delegate,fr,UTC,,", "line 2: name is empty"),
        ("FRA,,,A,not-an-email,delegate,fr,UTC,,", "line 2: email 'not-an-email' is not"),
        ("FRA,,,A,a@x.org,observer,fr,UTC,,", "line 2: role 'observer' must be"),
        ("FRA,,,A,a@x.org,delegate,French,UTC,,", "line 2: language 'French' is not"),
        ("FRA,,,A,a@x.org,delegate,fr,Paris,,", "line 2: timezone 'Paris' is not an IANA"),
        ("FRA,,,A,a@x.org,delegate,fr,UTC,bob,", "line 2: slack_user_id 'bob' does not look"),
        (",,,A,a@x.org,delegate,fr,UTC,,", "line 2: a delegate needs a delegation"),
        ("FRA,,,A,a@x.org,delegate,fr,UTC,,,extra", "line 2: more cells than header columns"),
    ],
)
def test_bad_rows_are_reported_with_their_line(row: str, expected: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse(f"{HEADER}\n{row}\n")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("roster.csv: ")


def test_every_bad_line_is_reported_at_once() -> None:
    with pytest.raises(RosterError) as caught:
        parse(
            f"{HEADER}\n"
            "FRA,France,WEOG,A,a@x.org,delegate,fr,UTC,,\n"
            "\n"
            "FRA,République française,WEOG,B,b@x.org,delegate,fr,UTC,,\n"
            "SEN,,,C,A@X.ORG,delegate,fr,UTC,,\n"
        )
    problems = [str(p) for p in caught.value.problems]
    assert problems == [
        "line 4: delegation FRA is named 'République française' here but 'France' on line 2",
        "line 5: email a@x.org already on line 2",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("name,email,role\n", "line 1: missing column(s): delegation"),
        (f"{HEADER}\n", "the file has a header but no rows"),
        ("delegation,name,email,role,name\nFRA,A,a@x.org,delegate,B\n", "appear twice: name"),
    ],
)
def test_file_level_problems(text: str, expected: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse(text)
    assert expected in str(caught.value)


def test_byte_order_mark_is_ignored() -> None:
    roster = parse("\ufeffdelegation,name,email,role\nMEX,Lucía,l@x.org,delegate\n")
    assert roster.participants[0].name == "Lucía"
