"""Reading roster files from disk: encodings, and ISO country names from pycountry."""

from __future__ import annotations

from pathlib import Path

import pycountry

from surveys.errors import Problem, RosterError
from surveys.roster import Roster, read_roster_csv


def country_name(code: str) -> str | None:
    """The common name of an ISO 3166-1 alpha-3 country, or None for an unknown code."""
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return None
    return str(getattr(country, "common_name", None) or country.name)


def read_roster_file(path: Path) -> tuple[Roster, list[str]]:
    """Read and check a roster CSV; returns the roster and warnings to show.

    UTF-8 is expected (with or without a BOM); UTF-16 with its BOM (Excel's "Unicode text")
    is read too, and a file saved by a spreadsheet in Windows-1252 (common for French and
    Spanish names) is still read, with a warning.
    """
    notes: list[str] = []
    source = str(path)
    if path.suffix.lower() in (".xlsx", ".xls", ".ods"):
        raise RosterError(
            [Problem("", "a roster must be a CSV file; save the spreadsheet as CSV (UTF-8)")],
            source=source,
        )
    try:
        raw = path.read_bytes()
    except OSError as error:
        problem = Problem("", f"cannot read the file: {error.strerror}")
        raise RosterError([problem], source=source) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # "Unicode text" as Excel saves it
        try:
            return _read(raw.decode("utf-16"), source, notes)
        except UnicodeDecodeError:
            raise RosterError(
                [Problem("", "the file says it is UTF-16 but is not; save it as CSV (UTF-8)")],
                source=source,
            ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        notes.append(f"{source} is not UTF-8; read it as Windows-1252, check accented names")
    return _read(text, source, notes)


def _read(text: str, source: str, notes: list[str]) -> tuple[Roster, list[str]]:
    roster = read_roster_csv(text, source=source, country_name=country_name, strict_countries=True)
    notes.extend(f"{source}: {warning}" for warning in roster.warnings)
    return roster, notes
