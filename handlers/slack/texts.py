"""The texts Slack shows: ``slack.*`` messages of the catalogues in :mod:`surveys.i18n`.

``text("home_title", ...)`` reads ``slack.home_title``, or the shared ``home_title`` where
Slack has no message of its own (button captions, statuses, refusals of a command).

Example::

    text("home_progress", "es", answered=3, count=12)
    # '3 de 12 preguntas respondidas'
"""

from __future__ import annotations

from surveys import i18n

text = i18n.Texts("slack")
