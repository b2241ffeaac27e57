"""Walking a survey in the terminal exactly as the engine walks a delegate through it.

Choices are listed with their numbers, except where the labels are numbers themselves (a 0-10
list): then the labels alone are shown, and typing ``7`` picks the choice labelled 7.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from rich.console import Console
from rich.markup import escape

from surveys import engine
from surveys.answers import Typed
from surveys.definition import QuestionType, Survey
from surveys.messages import text as message

BACK = "<"
LISTED_POINTS = 11
"""A scale with more points is shown as the bounds and step to type within."""


def run_preview(
    survey: Survey,
    *,
    language: str,
    lines: Iterable[str],
    console: Console,
    interactive: bool,
    today: date,
    now: datetime,
) -> bool:
    """Ask every relevant question, reading one line per question; False if input runs out."""
    source: Iterator[str] = iter(lines)
    console.print(f"[bold]{escape(survey.title_in(language))}[/bold]")
    intro = survey.intro_in(language)
    if intro:
        console.print(escape(intro))
    console.print(
        f"[dim]{escape(message('preview_help', language, back=BACK))}[/dim]", highlight=False
    )
    state = engine.start(survey)
    while True:
        shown = engine.step(survey, state, language=language)
        if isinstance(shown, engine.Summary):
            for note in shown.notes:
                console.print(escape(note))
            console.print()
            console.print(f"[bold]{escape(message('summary_title', language))}[/bold]")
            for item in shown.items:
                console.print(f"- {escape(item.label)}: {escape(item.display)}")
            return True
        _show(console, survey, shown)
        if interactive:
            line: str | None = console.input("> ")
        else:
            line = next(source, None)
            if line is None:
                return False
            line = line.rstrip("\r\n")
            console.print(f"> {escape(line)}")
        assert line is not None
        if line.strip() == BACK:
            state = engine.back(survey, state)
            continue
        if not line.strip() and shown.can_skip:
            outcome = engine.skip(survey, state, language=language, now=now)
        else:
            outcome = engine.answer(
                survey, state, Typed(line), language=language, today=today, now=now
            )
        if isinstance(outcome, engine.Rejected):
            console.print(f"[red]{escape(outcome.message)}[/red]")
        else:
            state = outcome.state


def _show(console: Console, survey: Survey, prompt: engine.Prompt) -> None:
    for shown, heading in prompt.lead_in():
        console.print()
        console.print(
            f"[bold underline]{escape(shown)}[/bold underline]" if heading else escape(shown)
        )
    console.print()
    required = "" if prompt.can_skip else " *"
    console.print(
        f"[dim]{prompt.position}/{prompt.total}[/dim] [bold]{escape(prompt.label)}{required}[/bold]"
    )
    if prompt.hint:
        console.print(f"[dim]{escape(prompt.hint)}[/dim]")
    if prompt.question.type is QuestionType.SCALE and not 0 < len(prompt.options) <= LISTED_POINTS:
        console.print(f"[dim]{escape(prompt.number_hint)}[/dim]")
    else:
        for option in prompt.options:
            number = f"{option.number}. " if prompt.numbered else "- "
            console.print(f"  {number}{escape(option.label)}", highlight=False)
    if prompt.current is not None:
        current = engine.display_value(
            survey, prompt.question, prompt.current, language=prompt.language
        )
        console.print(
            f"[dim]{escape(message('previous_answer', prompt.language, answer=current))}[/dim]"
        )
