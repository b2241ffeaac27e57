"""The texts of invitations, reminders and closing notices, per language.

Like :mod:`surveys.messages`: English is complete and the fallback; French, Spanish and Arabic
have every key with the same ``{placeholders}`` (a test checks it). Dates are written out in
the delegate's language and timezone by :func:`moment`.

Example::

    text("invitation", "fr", name="Claire Dubois", title="…", minutes=10, closes="…")
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from surveys.messages import FALLBACK_LANGUAGE
from surveys.reminders import zone_or_utc

_NBSP = "\u00a0"

TEXTS: dict[str, dict[str, str]] = {
    "invitation": {
        "en": "Dear {name},\n\nYour delegation is invited to answer the survey “{title}”. "
        "It takes {duration}. Please answer by {closes}.",
        "fr": f"Bonjour {{name}},\n\nVotre délégation est invitée à répondre à "
        f"l’enquête «{_NBSP}{{title}}{_NBSP}». Cela prend {{duration}}. Merci de répondre "
        "avant le {closes}.",
        "es": "Estimado/a {name}:\n\nSe invita a su delegación a responder a la encuesta "
        "«{title}». Responder lleva {duration}. Le rogamos que responda antes del {closes}.",
        "ar": "السيد/السيدة {name}،\n\nيُرجى من وفدكم الإجابة عن الاستبيان «{title}». "
        "تستغرق الإجابة {duration}. نرجو الإجابة قبل {closes}.",
    },
    "reminder_not_started": {
        "en": "Reminder: we have not yet received your answers to the survey “{title}”. "
        "It closes on {closes} and takes {duration}.",
        "fr": f"Rappel{_NBSP}: nous n’avons pas encore reçu vos réponses à l’enquête "
        f"«{_NBSP}{{title}}{_NBSP}». Elle sera clôturée le {{closes}} et prend {{duration}}.",
        "es": "Recordatorio: aún no hemos recibido sus respuestas a la encuesta «{title}». "
        "Se cerrará el {closes} y lleva {duration}.",
        "ar": "تذكير: لم نتلقَّ بعدُ إجاباتكم عن الاستبيان «{title}». "
        "سيُغلق الاستبيان في {closes}، وتستغرق الإجابة {duration}.",
    },
    "reminder_in_progress": {
        "en": "Reminder: you have answered {answered} of {total} questions of the survey "
        "“{title}”, which closes on {closes}. Here is where you stopped.",
        "fr": f"Rappel{_NBSP}: vous avez répondu à {{answered}} questions sur {{total}} de "
        f"l’enquête «{_NBSP}{{title}}{_NBSP}», qui sera clôturée le {{closes}}. Voici où "
        "vous vous êtes arrêté(e).",
        "es": "Recordatorio: ha respondido {answered} de {total} preguntas de la encuesta "
        "«{title}», que se cerrará el {closes}. Aquí es donde se detuvo.",
        "ar": "تذكير: أجبتم عن {answered} من أصل {total} من أسئلة الاستبيان «{title}»، "
        "الذي سيُغلق في {closes}. هذا هو الموضع الذي توقفتم عنده.",
    },
    "reminder_review": {
        "en": "Reminder: you have answered the questions of the survey “{title}” "
        "({answered} of {total}) but not submitted them yet. It closes on {closes}; please "
        "review your answers and submit them.",
        "fr": f"Rappel{_NBSP}: vous avez répondu aux questions de l’enquête "
        f"«{_NBSP}{{title}}{_NBSP}» ({{answered}} sur {{total}}) sans les envoyer encore. Elle "
        f"sera clôturée le {{closes}}{_NBSP}; veuillez relire vos réponses et les envoyer.",
        "es": "Recordatorio: ha respondido a las preguntas de la encuesta «{title}» "
        "({answered} de {total}) pero aún no las ha enviado. Se cerrará el {closes}; le "
        "rogamos que revise sus respuestas y las envíe.",
        "ar": "تذكير: أجبتم عن أسئلة الاستبيان «{title}» ({answered} من أصل {total}) ولكنكم "
        "لم ترسلوها بعد. سيُغلق الاستبيان في {closes}؛ يُرجى مراجعة إجاباتكم وإرسالها.",
    },
    "closed_partial": {
        "en": "The survey “{title}” closed on {closes}. The {answered} answers you gave "
        "have been kept as a partial response. Thank you.",
        "fr": f"L’enquête «{_NBSP}{{title}}{_NBSP}» a été clôturée le {{closes}}. Les "
        "{answered} réponses que vous avez données ont été conservées comme réponse "
        "partielle. Merci.",
        "es": "La encuesta «{title}» se cerró el {closes}. Las {answered} respuestas que dio "
        "se han conservado como respuesta parcial. Gracias.",
        "ar": "أُغلق الاستبيان «{title}» في {closes}. وقد احتُفظ بالإجابات التي قدمتموها "
        "({answered}) بوصفها ردًا جزئيًا. شكرًا لكم.",
    },
    "duration": {
        "en": "about {minutes} minutes",
        "fr": f"environ {{minutes}}{_NBSP}minutes",
        "es": "unos {minutes} minutos",
        "ar": "نحو {minutes} دقيقة",
    },
    "duration_few": {
        "en": "about {minutes} minutes",
        "fr": f"environ {{minutes}}{_NBSP}minutes",
        "es": "unos {minutes} minutos",
        "ar": "نحو {minutes} دقائق",
    },
    "moment": {
        "en": "{weekday} {day} {month} {year} at {hour}:{minute} ({zone} time)",
        "fr": f"{{weekday}} {{day}} {{month}} {{year}} à {{hour}}{_NBSP}h{_NBSP}{{minute}} "
        "(fuseau {zone})",
        "es": "{weekday} {day} de {month} de {year} a las {hour}:{minute} (zona horaria {zone})",
        "ar": "{weekday} {day} {month} {year} الساعة {hour}:{minute} (بتوقيت {zone})",
    },
}
"""Text key -> language -> ``str.format`` template."""

WEEKDAYS: dict[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "ar": ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"),
}
MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "ar": (
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
    ),
}

REQUIRED_LANGUAGES = ("en", "fr", "es", "ar")

SECONDS_PER_QUESTION = 30
"""For the estimate of how long a survey takes (rounded up to 5 minutes)."""


def language_of(language: str, available: Mapping[str, object]) -> str:
    """``language`` if present in ``available``, else its base (``fr-CA`` -> ``fr``), else en."""
    if language in available:
        return language
    base = language.split("-")[0].lower()
    return base if base in available else FALLBACK_LANGUAGE


def text(key: str, language: str, **params: object) -> str:
    """The text ``key`` in ``language`` (falling back to English); ``KeyError`` if unknown."""
    by_language = TEXTS[key]
    return by_language[language_of(language, by_language)].format_map(params)


def moment(when: datetime, language: str, timezone: str | None) -> str:
    """``when`` written out in ``language`` and in ``timezone`` (UTC if unknown)."""
    zone = zone_or_utc(timezone)
    local = when.astimezone(zone)
    names = language_of(language, WEEKDAYS)
    return text(
        "moment",
        language,
        weekday=WEEKDAYS[names][local.weekday()],
        day=local.day,
        month=MONTHS[names][local.month - 1],
        year=local.year,
        hour=f"{local.hour:02d}",
        minute=f"{local.minute:02d}",
        zone=str(zone).replace("_", " "),
    )


def estimated_minutes(questions: int) -> int:
    """How long ``questions`` questions take, rounded up to 5 minutes (at least 5)."""
    seconds = questions * SECONDS_PER_QUESTION
    fives = -(-seconds // (5 * 60))
    return max(5, fives * 5)


def duration(minutes: int, language: str) -> str:
    """``about 10 minutes`` in ``language`` (Arabic counts 3-10 differently)."""
    key = "duration_few" if 3 <= minutes <= 10 else "duration"
    return text(key, language, minutes=minutes)


__all__ = [
    "MONTHS",
    "TEXTS",
    "WEEKDAYS",
    "duration",
    "estimated_minutes",
    "language_of",
    "moment",
    "text",
]
