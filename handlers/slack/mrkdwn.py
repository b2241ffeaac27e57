"""CommonMark (as digests are written) to Slack's mrkdwn, with Slack's control characters escaped.

Slack reads ``<...>`` as links and mentions (``<!channel>`` pings everyone), so ``&``, ``<`` and
``>`` in text must be escaped, and ``**bold**`` and headings have their own mrkdwn forms.
"""

from __future__ import annotations

import re

from surveys.richtext import Reply, Span, Style

_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_BACKSLASH = re.compile(r"\\([\\`*_\[\]<>|~#+\-.!>])")


def to_mrkdwn(markdown: str) -> str:
    """Convert headings and bold, drop CommonMark backslash escapes, escape ``& < >``."""
    text = _BACKSLASH.sub(r"\1", markdown)
    text = escape(text)
    text = _HEADING.sub(r"*\1*", text)
    return _BOLD.sub(r"*\1*", text)


def render_reply(reply: Reply) -> str:
    """A core :class:`~surveys.richtext.Reply` as mrkdwn: every span escaped, bold as ``*…*``,
    commands as ``` `…` ```."""
    return reply.render(_span)


def _span(span: Span) -> str:
    text = escape(span.text)
    if not text.strip():
        return text
    if span.style is Style.STRONG:
        return f"*{text}*"
    if span.style is Style.CODE:
        return f"`{text}`"
    return text


def escape(value: str) -> str:
    """Text safe inside mrkdwn: Slack's three control characters escaped."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
