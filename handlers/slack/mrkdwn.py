"""CommonMark (as digests are written) to Slack's mrkdwn, with Slack's control characters escaped.

Slack reads ``<...>`` as links and mentions (``<!channel>`` pings everyone), so ``&``, ``<`` and
``>`` in text must be escaped, and ``**bold**`` and headings have their own mrkdwn forms.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_BACKSLASH = re.compile(r"\\([\\`*_\[\]<>|~#+\-.!>])")


def to_mrkdwn(markdown: str) -> str:
    """Convert headings and bold, drop CommonMark backslash escapes, escape ``& < >``."""
    text = _BACKSLASH.sub(r"\1", markdown)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _HEADING.sub(r"*\1*", text)
    return _BOLD.sub(r"*\1*", text)
