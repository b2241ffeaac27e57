"""The organisers' chat commands, one grammar for Slack (``/itinera ...``) and Telegram (``/...``).

``rounds``, ``status ROUND``, ``launch SURVEY --audience A --closes WHEN [--opens WHEN]
[--tz ZONE] [--again]``, ``close ROUND``, ``extend ROUND --closes WHEN [--tz ZONE]``,
``digest ROUND``, ``help``. Parsing is pure and never raises: a malformed command becomes
:class:`BadCommand` with the problem in words.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class ListRounds:
    pass


@dataclass(frozen=True)
class RoundStatusCommand:
    round_id: int


@dataclass(frozen=True)
class Launch:
    survey_id: str
    audience: str
    closes: str
    opens: str | None = None
    tz: str | None = None
    again: bool = False
    """Launch even while a round of the survey asks some of the same delegates."""


@dataclass(frozen=True)
class Close:
    round_id: int


@dataclass(frozen=True)
class Extend:
    round_id: int
    closes: str
    tz: str | None = None


@dataclass(frozen=True)
class DigestCommand:
    round_id: int


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class BadCommand:
    problem: str


Command = (
    ListRounds | RoundStatusCommand | Launch | Close | Extend | DigestCommand | Help | BadCommand
)

_LAUNCH_OPTIONS = ("--audience", "--closes", "--opens", "--tz")
_LAUNCH_FLAGS = ("--again",)
_EXTEND_OPTIONS = ("--closes", "--tz")
_ONE_ROUND: dict[str, type[RoundStatusCommand | Close | DigestCommand]] = {
    "status": RoundStatusCommand,
    "close": Close,
    "digest": DigestCommand,
}


def parse_organiser_command(text: str, *, prefix: str = "/itinera ") -> Command:
    """Parse the words after the command name; ``prefix`` is how examples in messages start."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        return BadCommand(str(error))
    if not words or words[0].lower() == "help":
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb == "rounds" and not args:
        return ListRounds()
    if verb in _ONE_ROUND:
        round_id = _round_id(args[0]) if len(args) == 1 else None
        if round_id is None:
            return BadCommand(f"{verb} takes one round number, e.g. `{prefix}{verb} 3`")
        return _ONE_ROUND[verb](round_id)
    if verb == "launch":
        return _launch(args, prefix)
    if verb == "extend":
        return _extend(args, prefix)
    return BadCommand(f"`{' '.join(words)}`; try `{prefix}help`")


def _round_id(word: str) -> int | None:
    """A round number as typed: ``12`` or ``#12`` (decimal digits, at most 18 of them, so it
    fits every database's integer; a superscript ``²`` is not a number here)."""
    digits = word.removeprefix("#")
    if not digits.isdecimal() or len(digits) > 18:
        return None
    return int(digits)


def _options(
    words: list[str], allowed: tuple[str, ...], flags: tuple[str, ...] = ()
) -> dict[str, str] | BadCommand:
    """``--name value`` or ``--name=value`` for each of ``allowed``; a flag (no value) maps
    to ``""``."""
    options: dict[str, str] = {}
    rest = words
    while rest:
        name, *tail = rest
        if name in flags:
            options[name], rest = "", tail
            continue
        name, eq, inline = name.partition("=")
        if name in flags:
            return BadCommand(f"{name} takes no value")
        if name not in allowed:
            return BadCommand(f"unknown option {name!r} (use {', '.join(allowed + flags)})")
        if eq:
            options[name], rest = inline, tail
        elif tail:
            options[name], rest = tail[0], tail[1:]
        else:
            return BadCommand(f"{name} needs a value")
    return options


def _launch(args: list[str], prefix: str) -> Command:
    if not args or args[0].startswith("--"):
        return BadCommand(f"launch needs a survey id, e.g. `{prefix}launch route_alignment ...`")
    options = _options(args[1:], _LAUNCH_OPTIONS, _LAUNCH_FLAGS)
    if isinstance(options, BadCommand):
        return options
    missing = [name for name in ("--audience", "--closes") if name not in options]
    if missing:
        return BadCommand(f"launch needs {' and '.join(missing)}")
    return Launch(
        survey_id=args[0],
        audience=options["--audience"],
        closes=options["--closes"],
        opens=options.get("--opens"),
        tz=options.get("--tz"),
        again="--again" in options,
    )


def _extend(args: list[str], prefix: str) -> Command:
    round_id = _round_id(args[0]) if args else None
    if round_id is None:
        return BadCommand(f"extend takes a round number, e.g. `{prefix}extend 3 --closes ...`")
    options = _options(args[1:], _EXTEND_OPTIONS)
    if isinstance(options, BadCommand):
        return options
    if "--closes" not in options:
        return BadCommand("extend needs --closes")
    return Extend(round_id=round_id, closes=options["--closes"], tz=options.get("--tz"))


EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, 23, 59, tzinfo=UTC)
"""The moments a round may name: a year's margin inside what ``datetime`` holds, so that
reminders, timezones and extensions computed from them never leave its range."""


def parse_moment(value: str, *, zone: str, end_of_day: bool) -> datetime:
    """An ISO date or date-time; without an offset it is read in ``zone``. UTC out.

    A date alone is the start of the day, or its end (23:59) for a closing time. Raises
    ``ValueError`` with a readable message, also for a moment outside ``EARLIEST``..``LATEST``.
    """
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ValueError(f"{zone!r} is not an IANA timezone like Europe/Zurich") from None
    written = value.strip().replace(" ", "T", 1)
    try:
        if len(written) == 10:
            day = date.fromisoformat(written)
            moment = datetime.combine(day, time(23, 59) if end_of_day else time(0, 0))
        else:
            moment = datetime.fromisoformat(written.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date or date-time like 2026-12-15 or 2026-12-15T18:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it: before year 1
        moment = datetime.min.replace(tzinfo=UTC)
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(
            f"{value!r} is out of range: give a date between {EARLIEST:%Y-%m-%d} and"
            f" {LATEST:%Y-%m-%d}"
        )
    return moment
