"""A digest as one self-contained HTML document and as a PNG chart that stands on its own.

HTML is built with the standard library: the page is small and fixed, and every text that
comes from people or the survey goes through one function, :func:`html.escape`, so there is no
template language to learn or to misconfigure. The page carries its chart as a ``data:`` URI
and its style inline: forwarded alone, by mail or on a USB stick, it shows everything, and it
prints on A4. Arabic pages are ``dir="rtl"``: the layout, tables included, is mirrored by
the browser, since the style uses logical properties (``inline-start``) only.

The chart is drawn with matplotlib's object-oriented API on the Agg canvas (no pyplot, no
display, no global state), so it is safe to draw from a worker thread while the bot serves
delegates. It is laid out for a phone: portrait, large type, a title with the survey, round and
date, the confidentiality marking, a key to the scale, then the score distribution per theme
as a diverging stacked bar (the usual Likert chart) and the response rate over time with the
opening and closing marked. Matplotlib shapes Arabic itself (libraqm); Chinese needs a CJK font
on the system (Debian: ``fonts-noto-cjk`` or ``fonts-wqy-microhei``).

Example::

    png = render_chart(digest)
    page = render_html(digest, chart=png)
"""

from __future__ import annotations

import base64
import io
import logging
import re
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any, cast

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter

from surveys.digest import (
    ChoiceSummary,
    Digest,
    Point,
    ScaleSummary,
    Tally,
    change_lines,
    choice_n,
    counted_note,
    delegation_name,
    format_count,
    format_date,
    format_day,
    format_decimal,
    format_moment,
    format_period,
    format_rate,
    mean_line,
    no_answers,
    not_chosen_line,
    pending_heading,
    pending_people,
    plain,
    plural,
    point_label,
    region_name,
    round_line,
    status_line,
    status_word,
    summary,
    suppressed_note,
    text,
)

log = logging.getLogger("itinera.digest")

# -- HTML ---------------------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans", "Segoe UI", system-ui, -apple-system, Roboto, Arial,
       "DejaVu Sans", "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif;
       color: #1d2433; max-width: 60rem; margin: 1.5rem auto; padding: 0 1.25rem;
       line-height: 1.45; overflow-wrap: break-word; }
header.masthead { border-block-end: 3px solid #0072bc; padding-block-end: .6rem; }
.classification { display: inline-block; margin: 0 0 .6rem; padding: .15rem .6rem;
                  border: 2px solid #a4262c; color: #a4262c; font-weight: 700;
                  letter-spacing: .03em; text-transform: uppercase; font-size: .85rem; }
h1 { font-size: 1.55rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; border-block-end: 2px solid #0072bc; padding-block-end: .2rem;
     margin-block: 1.8rem .6rem; }
h3 { font-size: 1.05rem; margin-block: 1.3rem .4rem; }
dl.meta { display: flex; flex-wrap: wrap; gap: .3rem 1.6rem; margin: 0; font-size: .95rem; }
dl.meta div { display: flex; gap: .4rem; }
dl.meta dt { color: #5b6475; }
dl.meta dd { margin: 0; font-weight: 600; }
.note { color: #5b6475; font-size: .9rem; }
.summary { font-size: 1.08rem; background: #eef5fb; border-inline-start: 4px solid #0072bc;
           padding: .8rem 1rem; margin: 0; }
figure.chart { margin: 1.2rem 0; text-align: center; }
figure.chart img { max-width: min(100%, 40rem); height: auto; border: 1px solid #d5dae3; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: .5rem 0 .9rem; font-size: .9rem; }
th, td { border: 1px solid #d5dae3; padding: .25rem .5rem; text-align: start;
         vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.n, th.n { text-align: end; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar { display: inline-block; height: .7rem; background: #0072bc; vertical-align: middle;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.question { margin: .2rem 0 0; font-weight: 600; }
.not-chosen { color: #5b6475; font-size: .9rem; margin-block: -.4rem .9rem; }
.others { margin-block: -.3rem 1rem; }
.others p { margin: 0; font-size: .9rem; }
.others ul { margin: .2rem 0; padding-inline-start: 1.3rem; }
.who { color: #5b6475; }
blockquote { margin: .5rem 0 .9rem; padding: .3rem .9rem; border-inline-start: 3px solid #9aa5b8;
             background: #fafbfc; }
blockquote p { margin: 0; }
blockquote footer { color: #5b6475; font-size: .9rem; margin-block-start: .2rem; }
footer.colophon { margin-block-start: 2.5rem; border-block-start: 1px solid #d5dae3;
                  padding-block-start: .6rem; font-size: .9rem; color: #5b6475; }
@page { size: A4; margin: 16mm 14mm 16mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3, .question { break-after: avoid; page-break-after: avoid; }
  table, figure, blockquote, .others, dl.meta { break-inside: avoid; page-break-inside: avoid; }
  figure.chart { break-before: page; page-break-before: always; margin: 0; }
  figure.chart img { max-width: 100%; max-height: 245mm; width: auto; border: none; }
  .summary { background: none; border: 1pt solid #0072bc; }
  .table-wrap { overflow: visible; }
}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _b(value: object) -> str:
    """Text from the survey or from people, escaped and isolated (``<bdi>``): an English label
    in an Arabic page keeps its own direction, and its punctuation stays with it."""
    return f"<bdi>{_e(value)}</bdi>"


def _css_string(value: str) -> str:
    """``value`` as a CSS string literal that cannot end the string or the style element."""
    safe = "".join(
        f"\\{ord(char):x} " if char in '"\\<>' or unicodedata.category(char)[0] == "C" else char
        for char in " ".join(value.split())
    )
    return f'"{safe}"'


def _page_marking(classification: str) -> str:
    """The marking in the top margin of every printed page."""
    marking = _css_string(classification)
    return (
        "@page { @top-center { content: "
        + marking
        + '; font: 700 8pt "Noto Sans", Arial, "DejaVu Sans", sans-serif; color: #a4262c; } }'
    )


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int], *, caption: str = ""
) -> str:
    """A table; cells are already-escaped HTML, ``numeric`` column indexes align to the end."""

    def cell(tag: str, index: int, value: str) -> str:
        css = ' class="n"' if index in numeric else ""
        return f"<{tag}{css}>{value}</{tag}>"

    head = "".join(cell("th", index, value) for index, value in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", index, value) for index, value in enumerate(row)) + "</tr>"
        for row in rows
    )
    title = f"<caption>{caption}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table>{title}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _tally(tally: Tally, lang: str) -> list[str]:
    return [
        _e(format_count(value, lang))
        for value in (
            tally.invited,
            tally.submitted,
            tally.partial,
            tally.in_progress,
            tally.not_started,
        )
    ]


def _bar(share: float | None) -> str:
    if not share:
        return ""
    return f'<span class="bar" style="width:{max(2, round(140 * share))}px"></span>'


def _scale_html(digest: Digest, scale: ScaleSummary) -> str:
    lang = digest.language
    if scale.suppressed:
        return f'<p class="note">{_e(suppressed_note(digest))}</p>'
    if scale.n == 0:
        return f"<p>{_e(no_answers(digest))}</p>"
    header = [_e(text("col_score", lang))] + [_b(point_label(point)) for point in scale.points]
    row = [_e(text("col_answers", lang))] + [
        _e(f"{format_count(point.count, lang)} ({format_rate(scale.share(point), lang)})")
        for point in scale.points
    ]
    numeric = set(range(1, len(header)))
    return f"<p><strong>{_e(mean_line(scale, lang))}</strong></p>" + _table(header, [row], numeric)


def _choice_html(digest: Digest, choice: ChoiceSummary) -> str:
    lang = digest.language
    if choice.suppressed:
        return (
            f'<p class="question">{_b(choice.label)}</p>'
            f'<p class="note">{_e(suppressed_note(digest))}</p>'
        )
    n = f'<span class="who">({_e(choice_n(choice, lang))})</span>'
    parts = [f'<p class="question">{_b(choice.label)} {n}</p>']
    if choice.n == 0:
        return "".join([*parts, f"<p>{_e(no_answers(digest))}</p>"])
    parts.append(
        _table(
            [
                _e(text("col_option", lang)),
                _e(text("col_answers", lang)),
                _e(text("col_share", lang)),
                "",
            ],
            (
                [
                    _b(option.label),
                    _e(format_count(option.count, lang)),
                    _e(format_rate(option.share, lang)),
                    _bar(option.share),
                ]
                for option in choice.chosen
            ),
            {1, 2},
        )
    )
    if choice.not_chosen:
        parts.append(f'<p class="not-chosen">{_e(not_chosen_line(choice, lang))}</p>')
    for other in choice.others:
        items = "".join(
            f"<li>{_b(quote.text)}"
            + (f' <span class="who">— {_b(quote.attribution)}</span>' if quote.attribution else "")
            + "</li>"
            for quote in other.quotes
        )
        heading = _e(text("others_heading", lang, option=other.label))
        more = (
            f'<p class="more">{_e(plural("more_in_export", other.more, lang))}</p>'
            if other.more
            else ""
        )
        parts.append(f'<div class="others"><p>{heading}</p><ul>{items}</ul>{more}</div>')
    return "".join(parts)


def chart_data_uri(chart: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(chart).decode("ascii")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def render_html(digest: Digest, *, chart: bytes | None) -> str:
    """One self-contained page: header, summary, chart (embedded), rates, who is missing,
    themes, comments. ``chart`` is the PNG from :func:`render_chart` (``None``: no chart)."""
    lang = digest.language
    t = text
    direction = "rtl" if digest.rtl else "ltr"
    title = t("title", lang, survey=digest.title)
    meta = [
        (t("meta_round", lang), str(digest.round_id)),
        (t("meta_period", lang), format_period(digest.opens_at, digest.closes_at, lang)),
        (t("meta_status", lang), status_line(digest)),
        (t("meta_generated", lang), format_moment(digest.generated_at, lang)),
    ]
    parts: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(lang)}" dir="{direction}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}{_page_marking(digest.classification)}</style>",
        "</head>",
        "<body>",
        '<header class="masthead">',
        f'<p class="classification">{_e(digest.classification)}</p>',
        f"<h1>{_e(title)}</h1>",
        '<dl class="meta">'
        + "".join(f"<div><dt>{_e(key)}</dt><dd>{_e(value)}</dd></div>" for key, value in meta)
        + "</dl>",
        "</header>",
        "<main>",
        f"<h2>{_e(t('h_summary', lang))}</h2>",
        f'<p class="summary">{_e(summary(digest))}</p>',
    ]
    if chart is not None:
        width, height = png_size(chart)
        parts.append(
            f'<figure class="chart"><img src="{chart_data_uri(chart)}" '
            f'alt="{_e(t("chart_alt", lang))}" width="{width * 5 // 8}" height="{height * 5 // 8}">'
            "</figure>"
        )
    if digest.change is not None:
        when = format_date(digest.change.previous_at, lang)
        parts.append(f"<h2>{_e(t('h_change', lang, date=when))}</h2>")
        parts.append("<ul>" + "".join(f"<li>{_e(x)}</li>" for x in change_lines(digest)) + "</ul>")
    else:
        parts.append(f'<p class="note">{_e(t("first_digest", lang))}</p>')

    # Response rate.
    tally = digest.participants
    parts += [
        f"<h2>{_e(t('h_rates', lang))}</h2>",
        f'<p class="note">{_e(t("note_answered", lang))}</p>',
        "<ul>",
        "<li>"
        + _e(
            t(
                "line_delegations",
                lang,
                answered=digest.delegations_answered,
                invited=digest.delegations_invited,
                rate=format_rate(digest.delegation_rate, lang),
            )
        )
        + "</li>",
        "<li>"
        + _e(
            t(
                "line_participants",
                lang,
                submitted=tally.submitted,
                partial=tally.partial,
                in_progress=tally.in_progress,
                not_started=tally.not_started,
                invited=tally.invited,
            )
        )
        + "</li>",
        "</ul>",
        f"<h3>{_e(t('h_by_region', lang))}</h3>",
    ]
    tally_header = [
        _e(t(key, lang))
        for key in ("col_invited", "col_submitted", "col_partial", "col_in_progress")
    ] + [_e(t("col_not_started", lang))]
    parts.append(
        _table(
            [
                _e(t("col_region", lang)),
                _e(t("col_delegations", lang)),
                _e(t("col_rate", lang)),
                *tally_header,
            ],
            (
                [
                    _b(region_name(region.region, lang)),
                    _e(
                        f"{format_count(region.answered, lang)} / "
                        f"{format_count(region.delegations, lang)}"
                    ),
                    _e(format_rate(region.rate, lang)),
                    *_tally(region.tally, lang),
                ]
                for region in digest.regions
            ),
            {1, 2, 3, 4, 5, 6, 7},
        )
    )
    parts.append(f"<h3>{_e(t('h_by_delegation', lang))}</h3>")
    parts.append(
        _table(
            [
                _e(t("col_delegation", lang)),
                _e(t("col_region", lang)),
                _e(t("col_answered", lang)),
                *tally_header,
            ],
            (
                [
                    _b(delegation_name(line.name, line.code)),
                    _b(region_name(line.region, lang)),
                    _e(t("yes" if line.answered else "no", lang)),
                    *_tally(line.tally, lang),
                ]
                for line in digest.delegations
            ),
            {3, 4, 5, 6, 7},
        )
    )

    # Who has not answered.
    parts.append(f"<h2>{_e(pending_heading(digest))}</h2>")
    if not digest.pending:
        parts.append(f"<p>{_e(t('everyone_answered', lang))}</p>")
    for region in digest.pending:
        parts.append(f"<h3>{_b(region_name(region.region, lang))}</h3><ul>")
        for delegation in region.delegations:
            people = "; ".join(
                [
                    f"{_b(person)} — {_e(status_word(status, lang))}"
                    for person, status in delegation.people
                ]
                or [_e(item) for item in pending_people(delegation, lang)]
            )
            name = _b(delegation_name(delegation.name, delegation.code))
            parts.append(
                f"<li><strong>{name}</strong>" + (f": {people}" if people else "") + "</li>"
            )
        parts.append("</ul>")

    # Themes.
    parts += [
        f"<h2>{_e(t('h_themes', lang))}</h2>",
        f'<p class="note">{_e(counted_note(digest))}</p>',
    ]
    for section in digest.sections:
        parts.append(f"<h3>{_b(section.title)}</h3>")
        if section.scale is not None:
            parts.append(_scale_html(digest, section.scale))
        for scale in section.scales:
            parts.append(f'<p class="question">{_b(scale.title)}</p>')
            parts.append(_scale_html(digest, scale))
        parts += [_choice_html(digest, choice) for choice in section.choices]

    # Comments.
    parts.append(f"<h2>{_e(t('h_comments', lang))}</h2>")
    if digest.comments_since is not None:
        since = t("comments_since", lang, date=format_date(digest.comments_since, lang))
    else:
        since = t("comments_all", lang)
    parts.append(f'<p class="note">{_e(since)}</p>')
    if digest.comments_suppressed:
        parts.append(f'<p class="note">{_e(suppressed_note(digest))}</p>')
    elif not digest.comments:
        parts.append(f"<p>{_e(t('no_comments', lang))}</p>")
    heading = None
    more = {count.question_id: count.count for count in digest.comments_more}
    quotes = digest.comments
    for index, quote in enumerate(quotes):
        if quote.heading != heading:
            heading = quote.heading
            parts.append(f"<h3>{_b(heading)}</h3>")
        footer = f"<footer>— {_b(quote.attribution)}</footer>" if quote.attribution else ""
        parts.append(f'<blockquote><p dir="auto">{_e(quote.text)}</p>{footer}</blockquote>')
        last = index + 1 == len(quotes) or quotes[index + 1].question_id != quote.question_id
        if last and more.get(quote.question_id):
            line = plural("more_in_export", more[quote.question_id], lang)
            parts.append(f'<p class="more">{_e(line)}</p>')
    parts += [
        "</main>",
        '<footer class="colophon">',
        f'<p class="classification">{_e(digest.classification)}</p>',
        f"<p>{_e(t('confidential_note', lang))}</p>",
        "</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


# -- PNG ----------------------------------------------------------------------------------------

INK = "#1d2433"
GREY = "#5b6475"
RULE = "#d5dae3"
BLUE = "#0072bc"
ORANGE = "#d55e00"
RED = "#a4262c"
LIKERT = LinearSegmentedColormap.from_list(
    "likert", ["#b5451b", "#f1a57a", "#d9dce1", "#86b8de", "#0b5394"]
)
"""Disagreeing end (orange) through neutral grey to agreeing end (blue): legible without red
and green, and in greyscale."""

WIDTH_IN = 6.4
DPI = 160
"""1024 pixels wide: sharp in a browser, and legible when a phone shows it 360 points wide."""
MARGIN_IN = 0.32

_FONT_SIZES = {"title": 17.0, "subtitle": 12.0, "heading": 14.5, "body": 12.5, "small": 11.5}
_LINE_IN = 1.32 / 72
"""Line height per point of font size, in inches."""

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
_CJK_FILES = re.compile(r"(NotoSans.*CJK|NotoSansSC|SourceHanSans|wqy-|DroidSansFallback)", re.I)


@lru_cache(maxsize=1)
def _families() -> tuple[str, ...]:
    """The chart's font families: DejaVu Sans (Latin, Cyrillic, Arabic), then a CJK font if
    the system has one; fonts installed after matplotlib built its font list are added."""
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    if not known & set(_CJK_FAMILIES):
        for path in font_manager.findSystemFonts():
            if _CJK_FILES.search(Path(path).name):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # pragma: no cover - a broken font
                    continue
        known = {entry.name for entry in font_manager.fontManager.ttflist}
    cjk = tuple(name for name in _CJK_FAMILIES if name in known)
    return ("DejaVu Sans", *cjk)


def _fonts_for(language: str) -> list[str]:
    if language != "zh":
        return ["DejaVu Sans"]
    families = list(_families())
    if len(families) == 1:
        log.warning(
            "no CJK font found: the Chinese chart cannot show its texts "
            "(install one, e.g. Debian's fonts-noto-cjk or fonts-wqy-microhei)"
        )
    return families


_NBSP = "\u00a0"
_SEPARATOR = " · "


_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_TOKENS = re.compile(f"[{_WIDE}]|[^\\s{_WIDE}]+|\\s+")
_NO_LINE_START = set("，。、；：！？）」』》〉%")


def _width(value: str, language: str = "") -> int:
    """Width of ``value`` in Latin-character units (an ideograph counts as two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in value)


def _wrap_line(value: str, width: int) -> list[str]:
    """Greedy wrapping by width: between words, or between any two ideographs."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(value):
        if token.isspace():
            if line:
                line += " "
            continue
        if line and _width(line + token) > width and token[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = token
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _wrap(value: str, width: int, language: str) -> list[str]:
    """Lines of at most ``width`` Latin characters (an ideograph counts as two); the parts of
    a ``a · b · c`` line stay whole when they fit."""
    lines: list[str] = []
    for part in plain(value).split(_SEPARATOR):
        if lines and _width(lines[-1]) + len(_SEPARATOR) + _width(part) <= width:
            lines[-1] += _SEPARATOR + part
        else:
            lines += _wrap_line(part, width) or [""]
    return lines or [""]


def _theme_lines(theme: ScaleSummary, width: int, language: str) -> list[str]:
    """A theme's name, wrapped, with its mean and n after it (on a line of their own if need
    be), never broken inside "n = 9"."""
    mean = format_decimal(theme.mean, language) if theme.mean is not None else "–"
    stats = plain(text("chart_theme_stats", language, mean=mean, n=theme.n)).replace(" ", _NBSP)
    if theme.suppressed:
        return _wrap(theme.title, width, language)
    lines = _wrap(theme.title, width, language)
    if _width(lines[-1], language) + _width(stats, language) + 3 <= width:
        lines[-1] += _SEPARATOR + stats
    else:
        lines.append(stats)
    return lines


class _Layout:
    """Stacks blocks from the top of a figure, in inches; :func:`_draw` places them."""

    def __init__(self, digest: Digest) -> None:
        self.digest = digest
        self.lang = digest.language
        self.rtl = digest.rtl
        self.fonts = _fonts_for(self.lang)
        self.blocks: list[tuple[float, float, str, object]] = []
        self.height = MARGIN_IN

    def add(self, height: float, kind: str, payload: object = None) -> None:
        self.blocks.append((self.height, height, kind, payload))
        self.height += height

    def lines(self, kind: str, lines: Sequence[str], size: float, gap: float = 0.08) -> None:
        self.add(len(lines) * size * _LINE_IN + gap, kind, (list(lines), size))


def _key_label(point: Point, language: str) -> str:
    return "\n".join(_wrap(point_label(point), 12, language))


PROGRESS_IN = 2.6
"""Height of the response-rate panel."""


def render_chart(digest: Digest, *, dpi: int = DPI) -> bytes:
    """The chart as a PNG, portrait for phones: title block, score distribution per theme
    (diverging stacked bars with a key and n), then the response rate over time."""
    layout = _Layout(digest)
    lang = digest.language
    sizes = _FONT_SIZES
    usable = WIDTH_IN - 2 * MARGIN_IN

    def chars(size: float) -> int:
        return int(usable * 72 / (size * 0.58))

    layout.add(0.36, "classification", digest.classification)
    layout.lines("title", _wrap(digest.title, chars(sizes["title"]), lang), sizes["title"])
    subtitle = _wrap(round_line(digest), chars(sizes["subtitle"]), lang)
    layout.lines("subtitle", subtitle, sizes["subtitle"], gap=0.22)

    themes = digest.themes
    heading = _wrap(text("chart_alignment", lang), chars(sizes["heading"]), lang)
    layout.lines("heading", heading, sizes["heading"], gap=0.1)
    scored = [theme for theme in themes if theme.n and not theme.suppressed]
    if scored:
        key_points = max(scored, key=lambda theme: len(theme.points)).points
        key_lines = max(len(_key_label(point, lang).splitlines()) for point in key_points)
        layout.add(key_lines * sizes["small"] * _LINE_IN + 0.18, "key", key_points)
    for theme in themes:
        layout.lines(
            "theme_label", _theme_lines(theme, chars(sizes["body"]), lang), sizes["body"], 0.02
        )
        layout.add(0.36, "bar", theme)
    if not themes:
        layout.add(0.4, "no_scores")
    elif scored:
        layout.add(0.34, "share_axis")
    layout.add(0.3, "space")

    heading = _wrap(text("chart_progress", lang), chars(sizes["heading"]), lang)
    layout.lines("heading", heading, sizes["heading"], gap=0.1)
    layout.add(0.5, "legend")
    layout.add(PROGRESS_IN, "progress")
    layout.add(0.62, "space")
    height = layout.height + MARGIN_IN - 0.15

    figure = Figure(figsize=(WIDTH_IN, height), dpi=dpi)
    FigureCanvasAgg(figure)
    figure.patch.set_facecolor("white")
    _draw(figure, layout, height)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _draw(figure: Figure, layout: _Layout, height: float) -> None:
    digest, lang, fonts, rtl = layout.digest, layout.lang, layout.fonts, layout.rtl
    start_x = 1 - MARGIN_IN / WIDTH_IN if rtl else MARGIN_IN / WIDTH_IN
    align = "right" if rtl else "left"
    left = MARGIN_IN / WIDTH_IN
    width = 1 - 2 * MARGIN_IN / WIDTH_IN
    styles: dict[str, dict[str, Any]] = {
        "title": {"fontweight": "bold", "color": INK},
        "subtitle": {"color": GREY},
        "heading": {"fontweight": "bold", "color": INK},
        "theme_label": {"color": INK},
    }

    def y(top_in: float) -> float:
        return 1 - top_in / height

    def box(
        top_in: float, block_in: float, *, start: float = 0.0, end: float = 0.0
    ) -> tuple[float, float, float, float]:
        return (
            left + start / WIDTH_IN,
            y(top_in + block_in),
            width - (start + end) / WIDTH_IN,
            block_in / height,
        )

    legend_box = (0.0, 0.0)
    for top, size_in, kind, payload in layout.blocks:
        if kind == "classification":
            figure.text(
                start_x,
                y(top),
                plain(str(payload)).upper(),
                ha=align,
                va="top",
                fontsize=10,
                fontweight="bold",
                color=RED,
                fontfamily=fonts,
                bbox={"boxstyle": "square,pad=0.3", "edgecolor": RED, "facecolor": "white"},
            )
        elif kind in styles:
            lines, size = cast(tuple[list[str], float], payload)
            figure.text(
                start_x,
                y(top),
                "\n".join(lines),
                ha=align,
                va="top",
                fontsize=size,
                linespacing=1.2,
                fontfamily=fonts,
                multialignment=align,
                **styles[kind],
            )
            if kind == "heading":
                figure.add_artist(_rule(figure, y(top) + 0.05 / height, left, width))
        elif kind == "key":
            points = cast(Sequence[Point], payload)
            colors = _likert_colors(len(points))
            handles = [
                Patch(facecolor=color, edgecolor="none", label=_key_label(point, lang))
                for point, color in zip(points, colors, strict=True)
            ]
            figure.legend(
                handles=handles,
                loc="upper left",
                mode="expand",
                bbox_to_anchor=(left, y(top + size_in), width, size_in / height),
                ncols=len(handles),
                frameon=False,
                prop={"family": fonts, "size": _FONT_SIZES["small"]},
                handlelength=1.0,
                handleheight=1.0,
                handletextpad=0.4,
                columnspacing=0.6,
                borderaxespad=0,
            )
        elif kind == "bar":
            _likert_bar(
                figure.add_axes(box(top, 0.3)),
                cast(ScaleSummary, payload),
                lang,
                fonts,
                min_group=digest.min_group,
            )
        elif kind == "share_axis":
            _share_axis(figure.add_axes(box(top, 0.01)), lang, fonts)
        elif kind == "no_scores":
            figure.text(
                0.5,
                y(top + 0.2),
                plain(text("chart_no_scores", lang)),
                ha="center",
                va="center",
                color=GREY,
                fontsize=_FONT_SIZES["body"],
                fontfamily=fonts,
            )
        elif kind == "legend":
            legend_box = (y(top + size_in), size_in / height)
        elif kind == "progress":
            axes = figure.add_axes(box(top, size_in, start=0.62, end=0.42))
            _progress_panel(
                axes, digest, lang, fonts, figure=figure, legend=(left, width, *legend_box)
            )


def _rule(figure: Figure, at: float, left: float, width: float) -> Line2D:
    return Line2D(
        [left, left + width], [at, at], transform=figure.transFigure, color=BLUE, linewidth=1.6
    )


def _likert_colors(count: int) -> list[str]:
    if count == 1:
        return [to_hex(LIKERT(0.5))]
    return [to_hex(LIKERT(index / (count - 1))) for index in range(count)]


def _segments(theme: ScaleSummary) -> list[tuple[float, float, int]]:
    """(left, width, point index) of each segment, in % of answers, centred on neutral."""
    shares = [100 * point.count / theme.n for point in theme.points]
    middle = len(shares) // 2
    odd = len(shares) % 2 == 1
    negative = sum(shares[:middle]) + (shares[middle] / 2 if odd else 0.0)
    segments: list[tuple[float, float, int]] = []
    position = -negative
    for index, share in enumerate(shares):
        segments.append((position, share, index))
        position += share
    return segments


def _likert_bar(
    axes: Axes, theme: ScaleSummary, lang: str, fonts: list[str], *, min_group: int
) -> None:
    axes.set_xlim(-100, 100)
    axes.set_ylim(-0.5, 0.5)
    axes.set_axis_off()
    if theme.suppressed or not theme.n:
        axes.barh(0, 200, left=-100, height=0.8, color="#f3f5f8")
        label = (
            text("chart_suppressed", lang, min=min_group)
            if theme.suppressed
            else text("chart_no_scores", lang)
        )
        axes.text(
            0,
            0,
            plain(label),
            ha="center",
            va="center",
            color=GREY,
            fontsize=_FONT_SIZES["small"],
            fontfamily=fonts,
        )
        return
    colors = _likert_colors(len(theme.points))
    for start, share, index in _segments(theme):
        if share <= 0:
            continue
        axes.barh(
            0,
            share,
            left=start,
            height=0.8,
            color=colors[index],
            edgecolor="white",
            linewidth=0.8,
            zorder=2,
        )
        if share >= 10:
            dark = index in (0, len(colors) - 1) and len(colors) > 2
            axes.text(
                start + share / 2,
                0,
                plain(format_rate(share / 100, lang)),
                ha="center",
                va="center",
                fontsize=_FONT_SIZES["small"] - (1.5 if share < 15 else 0),
                fontfamily=fonts,
                color="white" if dark else INK,
                zorder=3,
            )
    # The neutral middle, marked above and below the bar (not through its figures).
    axes.axvline(0, color=INK, linewidth=1.2, zorder=1)


def _share_axis(axes: Axes, lang: str, fonts: list[str]) -> None:
    axes.set_xlim(-100, 100)
    axes.set_ylim(0, 1)
    axes.yaxis.set_visible(False)
    for side in ("left", "right", "top"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color(GREY)
    axes.set_facecolor("none")
    axes.xaxis.set_major_locator(FixedLocator([-100, -50, 0, 50, 100]))
    axes.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: plain(format_rate(abs(value) / 100, lang)))
    )
    axes.tick_params(axis="x", labelsize=_FONT_SIZES["small"], colors=GREY, labelfontfamily=fonts)


def _progress_panel(
    axes: Axes,
    digest: Digest,
    lang: str,
    fonts: list[str],
    *,
    figure: Figure,
    legend: tuple[float, float, float, float],
) -> None:
    """Cumulative share of delegations (and delegates) who answered, hour by hour, from the
    opening to the closing (or to now, with the closing still ahead)."""
    opens, closes, now = digest.opens_at, digest.closes_at, digest.generated_at
    end = closes if digest.closed else min(max(now, opens), closes)
    times: list[datetime] = [opens]
    delegations: list[float] = [0.0]
    people: list[float] = [0.0]
    for point in digest.progress:
        at = min(max(point.at, opens), end)
        times.append(at)
        delegations.append(_percent(point.delegations, digest.delegations_invited))
        people.append(_percent(point.participants, digest.participants.invited))
    times.append(end)
    delegations.append(delegations[-1])
    people.append(people[-1])

    def hours(moment: datetime) -> float:
        return (moment - opens).total_seconds() / 3600

    x = [hours(moment) for moment in times]

    same = delegations == people
    if same:
        lines = [
            axes.step(x, delegations, where="post", color=BLUE, linewidth=2.6)[0],
        ]
        labels = [text("chart_both", lang)]
    else:
        lines = [
            axes.step(x, delegations, where="post", color=BLUE, linewidth=2.6)[0],
            axes.step(x, people, where="post", color=ORANGE, linewidth=2.0, linestyle=(0, (4, 2)))[
                0
            ],
        ]
        labels = [text("chart_delegations", lang), text("chart_participants", lang)]
    axes.fill_between(x, delegations, step="post", color=BLUE, alpha=0.08, linewidth=0)
    x0, width, y0, height = legend
    figure.legend(
        lines,
        [plain(label) for label in labels],
        loc="upper left",
        bbox_to_anchor=(x0, y0, width, height),
        frameon=False,
        prop={"family": fonts, "size": _FONT_SIZES["small"]},
        ncols=1 if same or len(" ".join(labels)) > 56 else 2,
        borderaxespad=0,
        handlelength=2.2,
    )
    # The latest figures, at the end of each line.
    end_x = x[-1]
    axes.annotate(
        plain(format_rate(delegations[-1] / 100, lang)),
        (end_x, delegations[-1]),
        xytext=(4, 0 if same else 6),
        textcoords="offset points",
        va="center",
        ha="left",
        fontsize=_FONT_SIZES["small"],
        fontweight="bold",
        color=BLUE,
        fontfamily=fonts,
        annotation_clip=False,
    )
    if not same:
        axes.annotate(
            plain(format_rate(people[-1] / 100, lang)),
            (end_x, people[-1]),
            xytext=(4, -8),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=_FONT_SIZES["small"],
            fontweight="bold",
            color=ORANGE,
            fontfamily=fonts,
            annotation_clip=False,
        )

    # Opening and closing (and now, while open), marked and named.
    axes.set_xlim(0, max(hours(closes), 1.0))
    axes.set_ylim(0, 105)
    marks = [(opens, text("chart_opened", lang), "left")]
    marks.append((closes, text("chart_closed" if digest.closed else "chart_closes", lang), "right"))
    if not digest.closed and opens < now < closes:
        marks.append((now, text("chart_now", lang), "right"))
    for moment, label, side in marks:
        where = hours(moment)
        axes.axvline(where, color=GREY, linewidth=1.1, linestyle=(0, (2, 2)))
        day = plain(format_day(moment, lang))
        caption = f"{plain(label)}\n{day} {moment.astimezone(UTC):%H:%M}"
        axes.text(
            where,
            103,
            caption,
            ha="left" if side == "left" else "right",
            va="top",
            fontsize=_FONT_SIZES["small"] - 1,
            color=GREY,
            fontfamily=fonts,
            transform=axes.transData,
            linespacing=1.15,
            bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )

    axes.yaxis.set_major_locator(FixedLocator([0, 25, 50, 75, 100]))
    axes.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: plain(format_rate(value / 100, lang)))
    )
    days = _day_ticks(opens, closes)
    axes.xaxis.set_major_locator(FixedLocator([hours(day) for day in days]))
    axes.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: plain(format_day(opens + timedelta(hours=value), lang)))
    )
    axes.tick_params(labelsize=_FONT_SIZES["small"], colors=INK, labelfontfamily=fonts)
    axes.set_xlabel(
        plain(text("chart_time_axis", lang)),
        fontsize=_FONT_SIZES["small"],
        color=GREY,
        fontfamily=fonts,
    )
    axes.set_ylabel(
        plain(text("chart_rate_axis", lang)),
        fontsize=_FONT_SIZES["small"],
        color=GREY,
        fontfamily=fonts,
    )
    axes.grid(color=RULE, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _day_ticks(opens: datetime, closes: datetime) -> list[datetime]:
    """Midnights (UTC) between opening and closing, at most seven of them."""
    first = opens.replace(hour=0, minute=0, second=0, microsecond=0)
    if first < opens:
        first += timedelta(days=1)
    days = []
    day = first
    while day <= closes:
        days.append(day)
        day += timedelta(days=1)
    step = max(1, -(-len(days) // 7))
    return days[::step] or [opens]


def _percent(count: int, total: int) -> float:
    return 100 * count / total if total else 0.0


__all__ = ["chart_data_uri", "png_size", "render_chart", "render_html"]
