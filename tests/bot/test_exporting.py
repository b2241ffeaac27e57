"""The export files themselves: what each attribution lets out, in every format, and hostile
free text that must never break a file or a spreadsheet. Each file is reopened with the
library a reader would use (csv, json, openpyxl)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.exporting import write_csv, write_json, write_xlsx
from surveys.definition import Survey, load_survey
from surveys.export import (
    FORMULA_TRIGGERS,
    XLSX_CELL_LIMIT,
    ExportItem,
    ValueStyle,
    columns,
    csv_cell,
    json_cell,
    utf16_length,
    xlsx_cell,
)
from surveys.records import (
    Attribution,
    Ballot,
    Delegation,
    ExportRow,
    Participant,
    ResponseStatus,
    Role,
)

SURVEY: Survey = load_survey(
    {
        "id": "check",
        "version": "1",
        "title": {"en": "Check"},
        "default_language": "en",
        "languages": ["en"],
        "choice_lists": {
            "topics": [
                {"value": "trade", "label": {"en": "Trade"}},
                {"value": "peace", "label": {"en": "Peace"}},
            ]
        },
        "questions": [
            {
                "id": "topic",
                "type": "single_choice",
                "label": {"en": "Topic?"},
                "choices": "topics",
            },
            {"id": "count", "type": "integer", "label": {"en": "How many?"}},
            {"id": "comment", "type": "text", "label": {"en": "Comment?"}},
        ],
    }
)

SENEGAL = Delegation("SEN", "Senegal", "African States")
FRANCE = Delegation("FRA", "France", "Western European and other States")
LONE = Participant(
    name="Aminata Diop",
    email="aminata.diop@senegal.example",
    role=Role.DELEGATE,
    delegation="SEN",
    id=11,
    language="wo",
)
"""Senegal's only delegate: whatever a delegation or anonymous export says of Senegal is hers."""
CLAIRE = Participant(
    name="Claire Dubois", email="claire@france.example", role=Role.DELEGATE, delegation="FRA", id=12
)
HUGO = Participant(
    name="Hugo Martin", email="hugo@france.example", role=Role.DELEGATE, delegation="FRA", id=13
)


def row(
    response_id: int,
    who: Participant,
    where: Delegation,
    comment: str | None,
    *,
    topic: str = "trade",
    status: ResponseStatus = ResponseStatus.SUBMITTED,
    hour: int = 9,
) -> ExportRow:
    return ExportRow(
        response_id=response_id,
        participant=who,
        delegation=where,
        status=status,
        started_at=datetime(2026, 11, 2, hour, 13, 27, tzinfo=UTC),
        submitted_at=datetime(2026, 11, 2, hour, 48, 51, tzinfo=UTC),
        answers={"topic": topic, "count": response_id, "comment": comment},
    )


ROWS = [
    row(101, CLAIRE, FRANCE, "We agree.", hour=8),
    row(102, HUGO, FRANCE, "With reservations.", topic="peace", hour=15),
    row(103, LONE, SENEGAL, "Our national plan covers return.", hour=11),
]


async def stream(rows: Sequence[ExportItem]) -> AsyncIterator[ExportItem]:
    for item in rows:
        yield item


def ballot_of(response: ExportRow) -> Ballot:
    """The ballot an anonymous round keeps instead of ``response`` (its id random-looking,
    but fixed per response here, so that two orders of the same rows can be compared)."""
    digest = hashlib.sha256(str(response.response_id).encode()).hexdigest()[:32]
    return Ballot(ballot_id=digest, round_id=1, answers=dict(response.answers))


def items(rows: Sequence[ExportRow], attribution: Attribution) -> list[ExportItem]:
    """What the store gives an export of a round with ``attribution``."""
    if attribution is Attribution.ANONYMOUS:
        return [ballot_of(response) for response in rows]
    return list(rows)


def export(rows: Sequence[ExportRow], attribution: Attribution, folder: Path) -> dict[str, bytes]:
    """The three files' bytes; the XLSX as its unzipped XML parts, where its text is."""

    rows = items(rows, attribution)

    async def write() -> dict[str, bytes]:
        options = {
            "survey": SURVEY,
            "style": ValueStyle.CODES,
            "language": "en",
            "attribution": attribution,
        }
        as_csv, as_json = io.StringIO(), io.StringIO()
        await write_csv(stream(rows), as_csv, **options)  # type: ignore[arg-type]
        await write_json(stream(rows), as_json, **options)  # type: ignore[arg-type]
        path = folder / "export.xlsx"
        await write_xlsx(stream(rows), path, **options)  # type: ignore[arg-type]
        with zipfile.ZipFile(path) as archive:
            names = sorted(archive.namelist())
            parts = b"".join(archive.read(name) for name in names)
            sheets = b"".join(archive.read(name) for name in names if "worksheets" in name)
        return {
            "csv": as_csv.getvalue().encode("utf-8"),
            "json": as_json.getvalue().encode("utf-8"),
            "xlsx": parts,
            "xlsx-sheets": sheets,
            "xlsx-file": path.read_bytes(),
        }

    return asyncio.run(write())


IDENTITIES = [
    LONE.name,
    LONE.email,
    "Aminata",
    "senegal.example",
    CLAIRE.name,
    CLAIRE.email,
    HUGO.email,
    "09:13:27",  # her start time, to the second, matches the status list
]


def test_a_named_export_names_everyone(tmp_path: Path) -> None:
    files = export(ROWS, Attribution.NAMED, tmp_path)
    for name, data in files.items():
        if name not in ("xlsx-file", "xlsx-sheets"):
            for identity in (LONE.name, LONE.email, CLAIRE.email, "11:13:27"):
                assert identity.encode() in data, (name, identity)


@pytest.fixture(autouse=True)
def long_csv_fields() -> object:
    """CSV keeps long texts whole; Python's reader refuses fields over 128 KiB by default."""
    before = csv.field_size_limit(sys.maxsize)
    yield
    csv.field_size_limit(before)


@pytest.mark.parametrize("attribution", [Attribution.DELEGATION, Attribution.ANONYMOUS])
def test_no_export_format_lets_a_lone_delegate_be_named(
    tmp_path: Path, attribution: Attribution
) -> None:
    files = export(ROWS, attribution, tmp_path)
    for name, data in files.items():
        for identity in IDENTITIES:
            assert identity.encode() not in data, (name, identity)
    header = next(csv.reader(io.StringIO(files["csv"].decode())))
    for column in ("response_id", "participant", "email", "language", "started_at"):
        assert column not in header
    records = json.loads(files["json"])
    assert {key for record in records for key in record} == set(header)
    assert sorted(record["count"] for record in records) == [101, 102, 103]  # answers kept


def test_an_anonymous_export_carries_no_delegation_either(tmp_path: Path) -> None:
    files = export(ROWS, Attribution.ANONYMOUS, tmp_path)
    for data in files.values():
        for identity in ("SEN", "Senegal", "African States", "FRA", "France"):
            assert identity.encode() not in data
    records = json.loads(files["json"])
    assert {key for record in records for key in record} == {"ballot", "topic", "count", "comment"}
    for data in files.values():  # no time at all, not even the day
        assert b"2026-11-02" not in data


def test_a_delegation_export_keeps_the_delegation(tmp_path: Path) -> None:
    records = json.loads(export(ROWS, Attribution.DELEGATION, tmp_path)["json"])
    assert [(r["delegation"], r["delegation_name"], r["region"]) for r in records] == [
        ("FRA", "France", FRANCE.region),
        ("FRA", "France", FRANCE.region),
        ("SEN", "Senegal", SENEGAL.region),
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=st.permutations(ROWS), attribution=st.sampled_from(list(Attribution)))
def test_rows_follow_the_roster_only_in_a_named_export(
    order: list[ExportRow], attribution: Attribution
) -> None:
    with TemporaryDirectory() as one, TemporaryDirectory() as two:
        given_order = export(order, attribution, Path(one))
        roster_order = export(ROWS, attribution, Path(two))
    if attribution is Attribution.NAMED:
        ids = [r["response_id"] for r in json.loads(given_order["json"])]
        assert ids == [item.response_id for item in order]
    else:  # the same bytes whatever order the store gave: the order carries nothing
        for name in ("csv", "json", "xlsx-sheets"):  # (the XLSX also holds its creation time)
            assert given_order[name] == roster_order[name], name


# -- hostile free text --------------------------------------------------------------------------

HOSTILE = [
    "\x00",
    "\x0b",
    "\x0c",
    "\x1b[2J\x1b]0;owned\x07",
    "\x7f",
    "\x85",
    "\x9b",
    "\ud800",
    "\udfff",
    "\ufffe",
    "\uffff",
    "\ufeff",
    "\u202e",
    "\u2066",
    "\u200b",
    "\u200d",
    "\r",
    "\r\n",
    "\n",
    "\t",
    " ",
    '"',
    ",",
    ";",
    "=",
    "+",
    "-",
    "@",
    "|",
    "\uff1d",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.invalid","x")',
    "_x0041_",
    "_x000D_",
    "<t>&amp;</t>]]>",
    "é",
    "\U0001f600",
    "مرحبا",
]
hostile_text = st.one_of(
    st.lists(
        st.one_of(
            st.sampled_from(HOSTILE),
            st.text(st.characters(exclude_categories=()), max_size=12),
        ),
        max_size=10,
    ).map("".join),
    st.builds(
        lambda piece, size: (piece * (size // len(piece) + 1))[:size],
        st.sampled_from([*HOSTILE, "a"]),
        st.integers(min_value=16_000, max_value=40_000),
    ),
)
"""Short texts made of hostile pieces and any code point (lone surrogates too), or one long
text of up to 40,000 characters (more than an XLSX cell holds)."""


def hostile_rows(texts: Sequence[str]) -> list[ExportRow]:
    people = [CLAIRE, HUGO, LONE]
    places = [FRANCE, FRANCE, SENEGAL]
    return [
        row(200 + n, people[n % 3], places[n % 3], text, hour=8 + n % 10)
        for n, text in enumerate(texts)
    ]


def starts_a_formula(value: str) -> bool:
    return value.lstrip(" \t\r\n\u00a0\u200b\u200d\u202e\u2066\ufeff").startswith(FORMULA_TRIGGERS)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(hostile_text, min_size=1, max_size=4),
    attribution=st.sampled_from(list(Attribution)),
)
def test_hostile_text_never_breaks_an_export_in_any_format(
    texts: list[str], attribution: Attribution
) -> None:
    rows = hostile_rows(texts)
    with TemporaryDirectory() as folder:
        files = export(rows, attribution, Path(folder))
        workbook = load_workbook(Path(folder) / "export.xlsx")
    keys = [column.key for column in columns(SURVEY, attribution=attribution)]
    where = keys.index("comment")
    expected = sorted(texts) if attribution is Attribution.NAMED else None

    # CSV: valid UTF-8, one record per response, every text as it was but defused.
    table = list(csv.reader(io.StringIO(files["csv"].decode("utf-8"), newline="")))
    assert table[0] == keys and len(table) == len(rows) + 1
    written = [record[where] for record in table[1:]]
    assert sorted(written) == sorted(str(csv_cell(text)) for text in texts)
    for value in written:
        assert "\x00" not in value and "\x1b" not in value
        assert not starts_a_formula(value) or value.startswith("'")
    if expected is not None:
        assert [record[where] for record in table[1:]] == [csv_cell(text) for text in texts]

    # JSON: valid UTF-8 and valid JSON; texts kept whole (lone surrogates replaced).
    records = json.loads(files["json"].decode("utf-8"))
    assert sorted(r["comment"] for r in records) == sorted(str(json_cell(t)) for t in texts)

    # XLSX: opens; each text within a cell's limit, never a formula, as xlsx_cell made it.
    sheet = workbook["responses"]
    cells = [list(line) for line in sheet.iter_rows(min_row=2)]
    assert len(cells) == len(rows)
    assert all(cell.data_type != "f" for line in cells for cell in line)
    values = [line[where].value or "" for line in cells]
    assert sorted(values) == sorted(str(xlsx_cell(text) or "") for text in texts)
    for value in values:
        assert utf16_length(value) <= XLSX_CELL_LIMIT
        assert not starts_a_formula(value) or value.startswith("'")
