"""Text with a little emphasis, written once in the core and rendered by each channel.

What Itinera says to an organiser (a round launched, who has answered) is the same on Slack,
Telegram and the terminal; only the markup differs: mrkdwn on Slack, HTML on Telegram, plain text
in the CLI. A :class:`Reply` holds lines of :class:`Span` s whose text is never markup, so each
renderer escapes every span and adds its own emphasis; nothing a delegate or an organiser typed
can turn into a mention or a link.

Example::

    reply = Reply.of(
        (Span("Round 3", Style.STRONG), Span(" is now closed.")),
        (),
        (Span("itinera export 3", Style.CODE),),
    )
    reply.plain()   # 'Round 3 is now closed.\\n\\nitinera export 3'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class Style(StrEnum):
    PLAIN = "plain"
    STRONG = "strong"
    """Bold: headings, a delegation's name."""
    CODE = "code"
    """A command or a value to type as it is shown."""


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = Style.PLAIN


Line = tuple[Span, ...]
"""One line; the empty line separates paragraphs."""


@dataclass(frozen=True)
class Reply:
    lines: tuple[Line, ...]

    @classmethod
    def of(cls, *lines: Line | str) -> Reply:
        """A reply from lines; a ``str`` is one plain span."""
        return cls(tuple((Span(line),) if isinstance(line, str) else line for line in lines))

    def __add__(self, other: Reply) -> Reply:
        """This reply, a blank line, then ``other``."""
        if not self.lines:
            return other
        if not other.lines:
            return self
        return Reply((*self.lines, (), *other.lines))

    def plain(self) -> str:
        """The text without emphasis: what the terminal prints, and what parity tests compare."""
        return self.render(lambda span: span.text)

    def render(self, span: Callable[[Span], str], *, newline: str = "\n") -> str:
        """Every line joined by ``newline``, each span written by ``span``."""
        return newline.join("".join(span(part) for part in line) for line in self.lines)


def joined(parts: Iterable[Line], separator: str) -> Line:
    """``parts`` on one line, ``separator`` between them."""
    spans: list[Span] = []
    for index, part in enumerate(parts):
        if index:
            spans.append(Span(separator))
        spans.extend(part)
    return tuple(spans)
