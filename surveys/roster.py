"""Reading a roster: the delegations and the people who answer or organise.

A roster is a CSV file with a header row; columns are found by name, in any order. Every row is
checked before anything is stored, and every bad row is reported with its line number, so an
organiser fixes the file once rather than discovering problems one import at a time.

The core stays free of third-party packages: whether a code is a real ISO 3166 country is asked
of the ``country_name`` callable that the caller passes in.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from surveys.errors import Problem, RosterError
from surveys.records import Delegation, ParticipantData, Role

COLUMNS = (
    "delegation",
    "delegation_name",
    "region",
    "name",
    "email",
    "role",
    "language",
    "timezone",
    "slack_user_id",
    "tags",
    "regions",
)
REQUIRED_COLUMNS = ("delegation", "name", "email", "role")
ROLE_WORDS = {
    "delegate": Role.DELEGATE,
    "organiser": Role.ORGANISER,
    "organizer": Role.ORGANISER,
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_ISO3 = re.compile(r"^[A-Z]{3}$")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters (a tab or line break inside a name too) and lone surrogates: nothing a
name, an email or a tag holds, and in a terminal or a chat they are commands."""

LONGEST = {
    "delegation_name": 200,
    "region": 100,
    "name": 200,
    "email": 320,
    "tags": 2000,
    "regions": 2000,
}
"""Most characters a roster cell may hold (what the database keeps for each)."""


@dataclass(frozen=True)
class Roster:
    """A checked roster, ready to store; ``warnings`` are things ignored, not errors."""

    delegations: tuple[Delegation, ...]
    participants: tuple[ParticipantData, ...]
    warnings: tuple[str, ...] = field(default=())


def read_roster_csv(
    text: str,
    *,
    source: str | None = None,
    country_name: Callable[[str], str | None] = lambda code: None,
    strict_countries: bool = False,
) -> Roster:
    """Parse and check a roster CSV. Raises :class:`RosterError` listing every bad line.

    ``country_name(code)`` returns the country's name for an ISO 3166 alpha-3 code or None;
    with ``strict_countries`` an unknown code is an error, and the name fills an empty
    ``delegation_name``.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise RosterError([Problem("", "the file is empty")], source=source)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    lines = _Lines(csv.reader(io.StringIO(text, newline=None), dialect))  # CR, CRLF or LF
    try:
        header = [cell.strip().lower() for cell in next(lines)]
    except csv.Error as error:
        raise RosterError([_unreadable(lines, error)], source=source) from None
    problems: list[Problem] = []
    warnings: list[str] = []
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        problems.append(Problem("line 1", f"missing column(s): {', '.join(missing)}"))
        raise RosterError(problems, source=source)
    unknown = [column for column in header if column and column not in COLUMNS]
    if unknown:
        warnings.append(f"ignored unknown column(s): {', '.join(unknown)}")
    duplicated = sorted({column for column in header if column and header.count(column) > 1})
    if duplicated:
        problems.append(Problem("line 1", f"column(s) appear twice: {', '.join(duplicated)}"))

    delegations: dict[str, tuple[int, Delegation]] = {}
    participants: list[ParticipantData] = []
    emails: dict[str, int] = {}
    try:
        rows = list(_rows(lines))
    except csv.Error as error:
        raise RosterError([*problems, _unreadable(lines, error)], source=source) from None
    for line, cells in rows:
        row = {
            name: cells[index].strip() if index < len(cells) else ""
            for index, name in enumerate(header)
            if name in COLUMNS
        }
        if len(cells) > len(header):
            problems.append(Problem(f"line {line}", "more cells than header columns"))
            continue
        parsed = _participant(row, line, problems, country_name, strict_countries)
        if parsed is None:
            continue
        participant, delegation = parsed
        first = emails.get(participant.email)
        if first is not None:
            problems.append(
                Problem(f"line {line}", f"email {participant.email} already on line {first}")
            )
            continue
        emails[participant.email] = line
        participants.append(participant)
        if delegation is not None:
            known = delegations.get(delegation.code)
            if known is None:
                delegations[delegation.code] = (line, delegation)
            else:
                merged = _merge(known, delegation, line, problems)
                delegations[delegation.code] = (known[0], merged)
    if not participants and not problems:
        problems.append(Problem("", "the file has a header but no rows"))
    if problems:
        raise RosterError(problems, source=source, notes=warnings)
    return Roster(
        delegations=tuple(delegation for _, delegation in delegations.values()),
        participants=tuple(participants),
        warnings=tuple(warnings),
    )


class _Lines:
    """The CSV reader, remembering the file line it got to (for a line it cannot read)."""

    def __init__(self, reader: Iterator[list[str]]) -> None:
        self._reader = reader
        self.read = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> list[str]:
        cells = next(self._reader)
        self.read += 1
        return cells


def _unreadable(lines: _Lines, error: csv.Error) -> Problem:
    reason = str(error)
    if "field larger than field limit" in reason:
        reason = "a cell is far too long to be a roster cell"
    return Problem(f"line {lines.read + 1}", f"cannot be read as CSV: {reason}")


def _rows(reader: Iterable[list[str]]) -> Iterable[tuple[int, list[str]]]:
    for index, cells in enumerate(reader, start=2):
        if any(cell.strip() for cell in cells):
            yield index, cells


def _cell_problems(row: dict[str, str]) -> list[str]:
    """Cells holding a control character, or longer than the database keeps."""
    errors = []
    for column, value in row.items():
        found = _CONTROL.search(value)
        if found:
            errors.append(
                f"{column} holds the control character U+{ord(found.group()):04X}; remove it"
            )
        limit = LONGEST.get(column)
        if limit is not None and len(value) > limit:
            errors.append(f"{column} is {len(value)} characters long; at most {limit}")
    return errors


def _merge(
    known: tuple[int, Delegation], new: Delegation, line: int, problems: list[Problem]
) -> Delegation:
    first_line, first = known
    name = first.name or new.name
    region = first.region or new.region
    if new.name and first.name and new.name != first.name:
        problems.append(
            Problem(
                f"line {line}",
                f"delegation {new.code} is named {new.name!r} here but {first.name!r} "
                f"on line {first_line}",
            )
        )
    if new.region and first.region and new.region != first.region:
        problems.append(
            Problem(
                f"line {line}",
                f"delegation {new.code} is in region {new.region!r} here but {first.region!r} "
                f"on line {first_line}",
            )
        )
    return Delegation(code=first.code, name=name, region=region)


def _participant(
    row: dict[str, str],
    line: int,
    problems: list[Problem],
    country_name: Callable[[str], str | None],
    strict_countries: bool,
) -> tuple[ParticipantData, Delegation | None] | None:
    where = f"line {line}"
    errors: list[str] = _cell_problems(row)
    name = row.get("name", "")
    if not name:
        errors.append("name is empty")
    email = row.get("email", "").lower()
    if not _EMAIL.match(email):
        errors.append(f"email {row.get('email', '')!r} is not an email address")
    role = ROLE_WORDS.get(row.get("role", "").lower())
    if role is None:
        errors.append(f"role {row.get('role', '')!r} must be 'delegate' or 'organiser'")
    code = row.get("delegation", "").upper()
    delegation: Delegation | None = None
    if code:
        official = country_name(code)
        if not _ISO3.match(code):
            errors.append(f"delegation {row['delegation']!r} is not an ISO 3166 alpha-3 code")
        elif strict_countries and official is None:
            errors.append(f"delegation {code!r} is not an ISO 3166 alpha-3 country code")
        else:
            delegation = Delegation(
                code=code,
                name=row.get("delegation_name", "") or official or "",
                region=row.get("region", ""),
            )
    elif role is Role.DELEGATE:
        errors.append("a delegate needs a delegation (ISO 3166 alpha-3 code)")
    language = (row.get("language", "") or "en").lower()
    if not _LANGUAGE.match(language):
        errors.append(f"language {row.get('language', '')!r} is not a language code like 'fr'")
    timezone = row.get("timezone", "") or "UTC"
    if not _valid_timezone(timezone):
        errors.append(f"timezone {timezone!r} is not an IANA timezone like 'Europe/Zurich'")
    slack = row.get("slack_user_id", "") or None
    if slack is not None and not _SLACK_ID.match(slack):
        errors.append(f"slack_user_id {slack!r} does not look like a Slack user id (U...)")
    tags = tuple(tag.strip() for tag in row.get("tags", "").split(";") if tag.strip())
    regions = tuple(
        dict.fromkeys(part.strip() for part in row.get("regions", "").split(";") if part.strip())
    )
    if regions and role is Role.DELEGATE:
        errors.append("regions are for organisers (a delegate's region is their delegation's)")
    if errors:
        problems.extend(Problem(where, error) for error in errors)
        return None
    assert role is not None
    participant = ParticipantData(
        name=name,
        email=email,
        role=role,
        delegation=delegation.code if delegation else None,
        language=language,
        timezone=timezone,
        slack_user_id=slack,
        tags=tags,
        regions=regions,
    )
    return participant, delegation


def _valid_timezone(name: str) -> bool:
    if name not in _timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_TIMEZONES: set[str] = set()


def _timezones() -> set[str]:
    if not _TIMEZONES:
        _TIMEZONES.update(available_timezones())
        _TIMEZONES.add("UTC")
    return _TIMEZONES
