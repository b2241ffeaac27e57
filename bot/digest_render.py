"""A digest as a standalone HTML page and as a PNG chart.

HTML is built with the standard library: the page is small and fixed, and every text that
comes from people or the survey goes through one function, :func:`html.escape`, so there is no
template language to learn or to misconfigure. The chart is drawn with matplotlib's
object-oriented API on the Agg canvas (no pyplot, no display, no global state), so it is safe to
draw from a worker thread while the bot serves delegates.

Example::

    png = render_chart(digest)
    page = render_html(digest, image_name="digest-round-3-2026-03-02.png")
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from html import escape

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from surveys.digest import (
    ChoiceSummary,
    Digest,
    ScaleSummary,
    Tally,
    change_lines,
    format_date,
    format_decimal,
    format_rate,
    format_score,
    mean_line,
    region_name,
    round_line,
    status_word,
    summary,
    text,
)

# -- HTML ---------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1d2433; max-width: 62rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 2px solid #0072bc; padding-bottom: .2rem;
     margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
.meta, .note { color: #5b6475; font-size: .9rem; }
.summary { font-size: 1.1rem; background: #eef5fb; border-left: 4px solid #0072bc;
           padding: .8rem 1rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #d5dae3; padding: .25rem .55rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f5f8; }
.bar { display: inline-block; height: .7rem; background: #0072bc; vertical-align: middle; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #d5dae3; }
blockquote { margin: .5rem 0 .9rem; padding: .3rem .9rem; border-left: 3px solid #9aa5b8;
             background: #fafbfc; }
blockquote footer { color: #5b6475; font-size: .9rem; margin-top: .2rem; }
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """A table; cells are already-escaped HTML, ``numeric`` column indexes align right."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if index in numeric else f"<td>{cell}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _tally(tally: Tally) -> list[str]:
    return [
        str(tally.invited),
        str(tally.submitted),
        str(tally.partial),
        str(tally.in_progress),
        str(tally.not_started),
    ]


def _bar(count: int, largest: int) -> str:
    if not count or not largest:
        return ""
    return f'<span class="bar" style="width:{max(2, round(160 * count / largest))}px"></span>'


def _scale_html(scale: ScaleSummary, lang: str) -> str:
    if scale.n == 0:
        return f"<p>{_e(text('no_answers', lang))}</p>"
    mean = mean_line(scale, lang)
    largest = max(point.count for point in scale.points)
    rows = [
        [
            _e(format_score(point.value) + (f" ({point.label})" if point.label else "")),
            str(point.count),
            _bar(point.count, largest),
        ]
        for point in scale.points
    ]
    header = [_e(text("col_score", lang)), _e(text("col_answers", lang)), ""]
    return f"<p><strong>{_e(mean)}</strong></p>" + _table(header, rows, {1})


def _choice_html(choice: ChoiceSummary, lang: str) -> str:
    n = text("choice_n_multiple" if choice.multiple else "choice_n", lang, n=choice.n)
    largest = max((option.count for option in choice.options), default=0)
    rows = [
        [_e(option.label), str(option.count), _bar(option.count, largest)]
        for option in choice.options
    ]
    return f"<p><strong>{_e(choice.label)}</strong> ({_e(n)})</p>" + _table(
        ["", _e(text("col_answers", lang)), ""], rows, {1}
    )


def _delegation(name: str, code: str | None) -> str:
    return f"{name} ({code})" if code and code != name else name


def render_html(digest: Digest, *, image_name: str | None) -> str:
    """A standalone page: the summary first, then rates, who is missing, themes, comments.

    ``image_name`` is the chart's file name beside the page (``None``: no chart).
    """
    lang = digest.language
    t = text
    parts: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(t('title', lang, survey=digest.title))}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(t('title', lang, survey=digest.title))}</h1>",
        f'<p class="meta">{_e(round_line(digest))}</p>',
        f"<h2>{_e(t('h_summary', lang))}</h2>",
        f'<p class="summary">{_e(summary(digest))}</p>',
    ]
    if image_name:
        parts.append(
            f'<figure><img src="{_e(image_name)}" alt="{_e(t("chart_alt", lang))}"></figure>'
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
                    _e(region_name(region.region, lang)),
                    f"{region.answered} / {region.delegations}",
                    _e(format_rate(region.rate, lang)),
                    *_tally(region.tally),
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
                    _e(_delegation(line.name, line.code)),
                    _e(region_name(line.region, lang)),
                    _e(t("yes" if line.answered else "no", lang)),
                    *_tally(line.tally),
                ]
                for line in digest.delegations
            ),
            {3, 4, 5, 6, 7},
        )
    )

    # Who has not answered.
    parts.append(f"<h2>{_e(t('h_pending', lang))}</h2>")
    if not digest.pending:
        parts.append(f"<p>{_e(t('everyone_answered', lang))}</p>")
    for region in digest.pending:
        parts.append(f"<h3>{_e(region_name(region.region, lang))}</h3><ul>")
        for delegation in region.delegations:
            people = "; ".join(
                f"{_e(person)} ({_e(status_word(status, lang))})"
                for person, status in delegation.people
            )
            name = _e(_delegation(delegation.name, delegation.code))
            parts.append(
                f"<li><strong>{name}</strong>" + (f": {people}" if people else "") + "</li>"
            )
        parts.append("</ul>")

    # Themes.
    parts += [
        f"<h2>{_e(t('h_themes', lang))}</h2>",
        f'<p class="note">{_e(t("note_counted", lang))}</p>',
    ]
    for section in digest.sections:
        parts.append(f"<h3>{_e(section.title)}</h3>")
        if section.scale is not None:
            parts.append(_scale_html(section.scale, lang))
        for scale in section.scales:
            parts.append(f"<p><strong>{_e(scale.title)}</strong></p>")
            parts.append(_scale_html(scale, lang))
        parts += [_choice_html(choice, lang) for choice in section.choices]

    # Comments.
    parts.append(f"<h2>{_e(t('h_comments', lang))}</h2>")
    if digest.comments_since is not None:
        since = t("comments_since", lang, date=format_date(digest.comments_since, lang))
    else:
        since = t("comments_all", lang)
    parts.append(f'<p class="note">{_e(since)}</p>')
    if not digest.comments:
        parts.append(f"<p>{_e(t('no_comments', lang))}</p>")
    heading = None
    for quote in digest.comments:
        if quote.heading != heading:
            heading = quote.heading
            parts.append(f"<h3>{_e(heading)}</h3>")
        footer = f"<footer>— {_e(quote.attribution)}</footer>" if quote.attribution else ""
        parts.append(f"<blockquote><p>{_e(quote.text)}</p>{footer}</blockquote>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


# -- PNG ----------------------------------------------------------------------------------------

BLUE = "#0072bc"
ORANGE = "#e07b00"
GREY = "#5b6475"


def render_chart(digest: Digest, *, dpi: int = 110) -> bytes:
    """Two panels as a PNG: mean alignment by theme (1-5 bars, n on each), and the share of
    delegations and delegates who answered, day by day (UTC)."""
    lang = digest.language
    figure = Figure(figsize=(12.5, 5.6), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, width_ratios=(1.15, 1))
    _alignment_panel(left, digest.themes, lang)
    _progress_panel(right, digest, lang)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def _alignment_panel(axes: Axes, themes: Sequence[ScaleSummary], lang: str) -> None:
    axes.set_title(text("chart_alignment", lang), loc="left", fontsize=12, fontweight="bold")
    if not themes:
        axes.set_axis_off()
        axes.text(0.5, 0.5, text("chart_no_scores", lang), ha="center", va="center", color=GREY)
        return
    low = min(theme.low for theme in themes)
    high = max(theme.high for theme in themes)
    positions = list(range(len(themes)))
    for position, theme in zip(positions, themes, strict=True):
        if theme.mean is None:
            axes.text(low + 0.05, position, text("chart_no_scores", lang), va="center", color=GREY)
            continue
        axes.barh(position, theme.mean - low, left=low, height=0.6, color=BLUE)
        label = f"{format_decimal(theme.mean, lang)}   n = {theme.n}"
        inside = theme.mean - low > (high - low) * 0.55
        axes.text(
            theme.mean - 0.05 if inside else theme.mean + 0.05,
            position,
            label,
            va="center",
            ha="right" if inside else "left",
            color="white" if inside else "#1d2433",
            fontsize=9,
        )
    axes.set_yticks(positions, [textwrap.fill(theme.title, 34) for theme in themes], fontsize=8.5)
    axes.invert_yaxis()
    axes.set_xlim(low, high)
    axes.set_xticks([float(point) for point in range(int(low), int(high) + 1)])
    axes.grid(axis="x", color="#d5dae3", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _progress_panel(axes: Axes, digest: Digest, lang: str) -> None:
    axes.set_title(text("chart_progress", lang), loc="left", fontsize=12, fontweight="bold")
    start = digest.opens_at.date()
    end = max(
        min(digest.generated_at, digest.closes_at).date(),
        max((point.day for point in digest.progress), default=start),
        start + timedelta(days=1),
    )
    days: list[date] = [start]
    delegations: list[float] = [0.0]
    people: list[float] = [0.0]
    for point in digest.progress:
        days.append(point.day)
        delegations.append(_percent(point.delegations, digest.delegations_invited))
        people.append(_percent(point.participants, digest.participants.invited))
    days.append(end)
    delegations.append(delegations[-1])
    people.append(people[-1])
    x = [float(day.toordinal()) for day in days]
    axes.step(x, delegations, where="post", color=BLUE, linewidth=2.2)
    axes.step(x, people, where="post", color=ORANGE, linewidth=1.6, linestyle="--")
    axes.legend(
        [text("chart_delegations", lang), text("chart_participants", lang)],
        loc="upper left",
        frameon=False,
        fontsize=9,
    )
    axes.set_ylim(0, 100)
    axes.set_ylabel(text("chart_rate_axis", lang))
    axes.set_xlabel(text("chart_day_axis", lang))
    axes.set_xlim(x[0], x[-1])
    months = text("months_short", lang).split("|")
    axes.xaxis.set_major_locator(MaxNLocator(nbins=7, integer=True))
    axes.xaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: _short_day(date.fromordinal(int(value)), months))
    )
    axes.grid(color="#d5dae3", linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _short_day(day: date, months: Sequence[str]) -> str:
    return f"{day.day} {months[day.month - 1]}"


def _percent(count: int, total: int) -> float:
    return 100 * count / total if total else 0.0


__all__ = ["render_chart", "render_html"]
