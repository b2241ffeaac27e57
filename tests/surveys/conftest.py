"""Builders of survey definitions with sane defaults, as session fixtures.

``tests`` has no packages, so shared helpers are fixtures that return functions::

    def test_x(make_survey, make_question):
        survey = make_survey(make_question("age", "integer", min=0))

Session-scoped so that hypothesis tests may use them too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from surveys.definition import Survey, load_survey

QuestionFactory = Callable[..., dict[str, Any]]
SurveyFactory = Callable[..., Survey]

TOPICS: list[dict[str, Any]] = [
    {"value": "trade", "label": {"en": "Trade", "fr": "Commerce", "es": "Comercio"}},
    {"value": "security", "label": {"en": "Security", "fr": "Sécurité", "es": "Seguridad"}},
    {
        "value": "health",
        "label": {"en": "Public health", "fr": "Santé publique", "es": "Salud pública"},
    },
    {
        "value": "peace",
        "label": {"en": "Peace, justice", "fr": "Paix, justice", "es": "Paz, justicia"},
    },
    {"value": "other", "label": {"en": "Other", "fr": "Autre", "es": "Otro"}},
]
"""The default choice list, ``topics``: accents, a label with a comma, an ``other``."""

CHOICE_TYPES = {"single_choice", "multiple_choice"}


def build_question(question_id: str, type_: str = "text", **fields: Any) -> dict[str, Any]:
    """A question mapping with a label in en/fr/es; choice questions use ``topics``."""
    data: dict[str, Any] = {
        "id": question_id,
        "type": type_,
        "label": {
            "en": f"Question {question_id}?",
            "fr": f"Question {question_id} ?",
            "es": f"¿Pregunta {question_id}?",
        },
    }
    if type_ in CHOICE_TYPES:
        data["choices"] = "topics"
    data.update(fields)
    return data


def build_survey(*questions: dict[str, Any], **fields: Any) -> Survey:
    """A valid survey in en/fr/es (default en) asking ``questions``, through ``load_survey``."""
    data: dict[str, Any] = {
        "id": "test_survey",
        "version": "1",
        "title": {"en": "Test survey", "fr": "Enquête test", "es": "Encuesta de prueba"},
        "default_language": "en",
        "languages": ["en", "fr", "es"],
        "choice_lists": {"topics": TOPICS},
        "questions": list(questions) or [build_question("q1")],
    }
    data.update(fields)
    return load_survey(data)


@pytest.fixture(scope="session")
def make_question() -> QuestionFactory:
    return build_question


@pytest.fixture(scope="session")
def make_survey() -> SurveyFactory:
    return build_survey
