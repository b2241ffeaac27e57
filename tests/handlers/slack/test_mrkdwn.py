"""Digest Markdown becomes Slack mrkdwn that cannot ping or inject links."""

from __future__ import annotations

import pytest

from handlers.slack.mrkdwn import to_mrkdwn


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("# Round 3 digest", "*Round 3 digest*"),
        ("**12 of 20** delegations answered", "*12 of 20* delegations answered"),
        ("> \\<!channel\\> see \\<https://x\\>", "&gt; &lt;!channel&gt; see &lt;https://x&gt;"),
        ("Fish & chips", "Fish &amp; chips"),
        ("a\\_b \\*c\\*", "a_b *c*"),
    ],
)
def test_to_mrkdwn(markdown: str, expected: str) -> None:
    assert to_mrkdwn(markdown) == expected
