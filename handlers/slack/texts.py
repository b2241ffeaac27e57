"""Texts only the Slack channel shows, per language, in the format of :mod:`surveys.messages`.

Survey wording and the shared button captions live in :mod:`surveys.messages`; this holds what
Slack adds: the modal, App Home, the ``/itinera`` command and a few notices. English is the
fallback; French, Spanish and Arabic have every key with the same placeholders (a test checks).

Example::

    text("home_progress", "es", answered=3, total=12)
    # '3 de 12 preguntas respondidas'
"""

from __future__ import annotations

from collections.abc import Mapping

from surveys.messages import FALLBACK_LANGUAGE

_NBSP = "\u00a0"

TEXTS: dict[str, dict[str, str]] = {
    # --- answering ------------------------------------------------------------------------------
    "button_answer": {"en": "Answer", "fr": "Répondre", "es": "Responder", "ar": "أجيبوا"},
    "button_cancel": {"en": "Cancel", "fr": "Annuler", "es": "Cancelar", "ar": "إلغاء"},
    "button_open": {"en": "Open", "fr": "Ouvrir", "es": "Abrir", "ar": "فتح"},
    "your_answer": {
        "en": "Your answer",
        "fr": "Votre réponse",
        "es": "Su respuesta",
        "ar": "إجابتكم",
    },
    "choose_placeholder": {
        "en": "Choose an option",
        "fr": "Choisissez une option",
        "es": "Elija una opción",
        "ar": "اختاروا خيارًا",
    },
    "options_range": {
        "en": "Options {low}–{high}",
        "fr": "Options {low} à {high}",
        "es": "Opciones {low} a {high}",
        "ar": "الخيارات {low}–{high}",
    },
    "type_choices": {
        "en": "Type the numbers or names of your choices, separated by commas:",
        "fr": f"Tapez les numéros ou les noms de vos choix, séparés par des virgules{_NBSP}:",
        "es": "Escriba los números o los nombres de sus opciones, separados por comas:",
        "ar": "اكتبوا أرقام خياراتكم أو أسماءها، مفصولة بفواصل:",
    },
    "change_placeholder": {
        "en": "Change an answer",
        "fr": "Modifier une réponse",
        "es": "Modificar una respuesta",
        "ar": "تعديل إجابة",
    },
    "submitted_review": {
        "en": "You have submitted these answers. You may still change them until the survey "
        "closes on {when}.",
        "fr": "Vous avez envoyé ces réponses. Vous pouvez encore les modifier jusqu’à la "
        "clôture de l’enquête, le {when}.",
        "es": "Ha enviado estas respuestas. Puede modificarlas hasta el cierre de la encuesta, "
        "el {when}.",
        "ar": "لقد أرسلتم هذه الإجابات. ولا يزال بإمكانكم تعديلها حتى إغلاق الاستبيان في {when}.",
    },
    "stale": {
        "en": "That message was about an earlier question. Here is where you are now.",
        "fr": f"Ce message portait sur une question précédente. Voici où vous en êtes{_NBSP}.",
        "es": "Ese mensaje se refería a una pregunta anterior. Aquí está donde se encuentra.",
        "ar": "كانت تلك الرسالة تخص سؤالًا سابقًا. إليكم ما وصلتم إليه الآن.",
    },
    "not_registered": {
        "en": "Sorry, your Slack account is not on the list of participants. Please contact "
        "the organisers.",
        "fr": "Désolé, votre compte Slack ne figure pas sur la liste des participants. "
        "Veuillez contacter l’équipe organisatrice.",
        "es": "Lo sentimos, su cuenta de Slack no figura en la lista de participantes. "
        "Póngase en contacto con el equipo organizador.",
        "ar": "عذرًا، حسابكم على Slack غير مدرج في قائمة المشاركين. يرجى التواصل مع المنظمين.",
    },
    "no_open_round": {
        "en": "You have no open survey at the moment.",
        "fr": "Vous n’avez aucune enquête ouverte pour le moment.",
        "es": "No tiene ninguna encuesta abierta en este momento.",
        "ar": "لا يوجد لديكم أي استبيان مفتوح حاليًا.",
    },
    "try_again": {
        "en": "Something went wrong on our side. Please try again in a moment.",
        "fr": "Un problème est survenu de notre côté. Veuillez réessayer dans un instant.",
        "es": "Se produjo un problema por nuestra parte. Vuelva a intentarlo en un momento.",
        "ar": "حدث خطأ من جانبنا. يرجى المحاولة مرة أخرى بعد قليل.",
    },
    # --- App Home -------------------------------------------------------------------------------
    "home_title": {
        "en": "Your surveys",
        "fr": "Vos enquêtes",
        "es": "Sus encuestas",
        "ar": "استبياناتكم",
    },
    "home_progress": {
        "en": "{answered} of {total} questions answered",
        "fr": "{answered} question(s) sur {total} ayant reçu une réponse",
        "es": "{answered} de {total} preguntas respondidas",
        "ar": "تمت الإجابة عن {answered} من {total} من الأسئلة",
    },
    "home_closes": {
        "en": "Closes on {when}",
        "fr": "Clôture le {when}",
        "es": "Se cierra el {when}",
        "ar": "يُغلق في {when}",
    },
    "home_rounds": {
        "en": "Rounds",
        "fr": "Cycles de consultation",
        "es": "Rondas",
        "ar": "الجولات",
    },
    "home_no_rounds": {
        "en": "No rounds yet.",
        "fr": "Aucun cycle pour le moment.",
        "es": "Todavía no hay rondas.",
        "ar": "لا توجد جولات بعد.",
    },
    "home_counts": {
        "en": "{submitted} of {total} submitted · {in_progress} in progress · "
        "{not_started} not started",
        "fr": "{submitted} sur {total} envoyées · {in_progress} en cours · "
        "{not_started} non commencées",
        "es": "{submitted} de {total} enviadas · {in_progress} en curso · "
        "{not_started} sin empezar",
        "ar": "{submitted} من {total} مُرسلة · {in_progress} قيد الإنجاز · {not_started} لم تبدأ",
    },
    # --- statuses -------------------------------------------------------------------------------
    "status_not_started": {
        "en": "not started",
        "fr": "non commencée",
        "es": "sin empezar",
        "ar": "لم تبدأ",
    },
    "status_in_progress": {
        "en": "in progress",
        "fr": "en cours",
        "es": "en curso",
        "ar": "قيد الإنجاز",
    },
    "status_submitted": {"en": "submitted", "fr": "envoyée", "es": "enviada", "ar": "مُرسلة"},
    "status_partial": {
        "en": "partial (closed)",
        "fr": "partielle (clôturée)",
        "es": "parcial (cerrada)",
        "ar": "جزئية (مغلقة)",
    },
    "round_open": {"en": "open", "fr": "ouvert", "es": "abierta", "ar": "مفتوحة"},
    "round_scheduled": {"en": "scheduled", "fr": "programmé", "es": "programada", "ar": "مجدولة"},
    "round_closed_word": {"en": "closed", "fr": "clôturé", "es": "cerrada", "ar": "مغلقة"},
    # --- /itinera -------------------------------------------------------------------------------
    "not_organiser": {
        "en": "Sorry, only organisers can use /itinera. To answer a survey, open your direct "
        "messages with Itinera.",
        "fr": "Désolé, seule l’équipe organisatrice peut utiliser /itinera. Pour répondre à "
        "une enquête, ouvrez vos messages directs avec Itinera.",
        "es": "Lo sentimos, solo el equipo organizador puede usar /itinera. Para responder a "
        "una encuesta, abra sus mensajes directos con Itinera.",
        "ar": "عذرًا، يقتصر استخدام ‎/itinera على المنظمين. للإجابة عن استبيان، افتحوا "
        "رسائلكم المباشرة مع Itinera.",
    },
    "help": {
        "en": "*/itinera rounds* — every round and how many have submitted\n"
        "*/itinera status ROUND* — who has and has not answered, by delegation\n"
        "*/itinera launch SURVEY --audience all|region:NAME|tag:NAME|FRA,SEN "
        "--closes 2026-12-15T18:00 [--opens WHEN] [--tz Europe/Zurich]* — launch a round\n"
        "*/itinera close ROUND* — close a round now\n"
        "*/itinera extend ROUND --closes WHEN [--tz ZONE]* — move the closing time\n"
        "*/itinera digest ROUND* — post the round's digest to the organisers now\n"
        "*/itinera help* — this help",
        "fr": "*/itinera rounds* — tous les cycles et le nombre de réponses envoyées\n"
        "*/itinera status CYCLE* — qui a répondu et qui n’a pas répondu, par délégation\n"
        "*/itinera launch ENQUÊTE --audience all|region:NOM|tag:NOM|FRA,SEN "
        "--closes 2026-12-15T18:00 [--opens QUAND] [--tz Europe/Zurich]* — lancer un cycle\n"
        "*/itinera close CYCLE* — clôturer un cycle maintenant\n"
        "*/itinera extend CYCLE --closes QUAND [--tz ZONE]* — reporter la clôture\n"
        "*/itinera digest CYCLE* — publier maintenant la synthèse du cycle\n"
        "*/itinera help* — cette aide",
        "es": "*/itinera rounds* — todas las rondas y cuántas respuestas se han enviado\n"
        "*/itinera status RONDA* — quién ha respondido y quién no, por delegación\n"
        "*/itinera launch ENCUESTA --audience all|region:NOMBRE|tag:NOMBRE|FRA,SEN "
        "--closes 2026-12-15T18:00 [--opens CUÁNDO] [--tz Europe/Zurich]* — lanzar una ronda\n"
        "*/itinera close RONDA* — cerrar una ronda ahora\n"
        "*/itinera extend RONDA --closes CUÁNDO [--tz ZONA]* — aplazar el cierre\n"
        "*/itinera digest RONDA* — publicar ahora el resumen de la ronda\n"
        "*/itinera help* — esta ayuda",
        "ar": "*/itinera rounds* — جميع الجولات وعدد الإجابات المُرسلة\n"
        "*/itinera status ROUND* — من أجاب ومن لم يُجب، حسب الوفد\n"
        "*/itinera launch SURVEY --audience all|region:NAME|tag:NAME|FRA,SEN "
        "--closes 2026-12-15T18:00 [--opens WHEN] [--tz Europe/Zurich]* — إطلاق جولة\n"
        "*/itinera close ROUND* — إغلاق جولة الآن\n"
        "*/itinera extend ROUND --closes WHEN [--tz ZONE]* — تأجيل موعد الإغلاق\n"
        "*/itinera digest ROUND* — نشر ملخص الجولة الآن\n"
        "*/itinera help* — هذه المساعدة",
    },
    "command_unknown": {
        "en": "I do not know that command: {problem}",
        "fr": f"Je ne connais pas cette commande{_NBSP}: {{problem}}",
        "es": "No conozco ese comando: {problem}",
        "ar": "لا أعرف هذا الأمر: {problem}",
    },
    "command_failed": {
        "en": "That did not work: {problem}",
        "fr": f"Cela n’a pas fonctionné{_NBSP}: {{problem}}",
        "es": "No se pudo hacer: {problem}",
        "ar": "تعذّر ذلك: {problem}",
    },
    "rounds_line": {
        "en": "Round {id} · {survey} · {audience} · {status} · closes {closes} · "
        "{submitted}/{total} submitted",
        "fr": "Cycle {id} · {survey} · {audience} · {status} · clôture le {closes} · "
        "{submitted}/{total} envoyées",
        "es": "Ronda {id} · {survey} · {audience} · {status} · cierre {closes} · "
        "{submitted}/{total} enviadas",
        "ar": "الجولة {id} · {survey} · {audience} · {status} · تُغلق {closes} · "
        "{submitted}/{total} مُرسلة",
    },
    "status_header": {
        "en": "Round {id} ({survey}), {status}, closes {closes}: {submitted} of {total} "
        "submitted ({rate}).",
        "fr": "Cycle {id} ({survey}), {status}, clôture le {closes}\u00a0: {submitted} sur "
        "{total} envoyées ({rate}).",
        "es": "Ronda {id} ({survey}), {status}, cierre {closes}: {submitted} de {total} "
        "enviadas ({rate}).",
        "ar": "الجولة {id} ({survey})، {status}، تُغلق {closes}: أُرسلت {submitted} من "
        "{total} ({rate}).",
    },
    "no_delegation": {
        "en": "No delegation",
        "fr": "Sans délégation",
        "es": "Sin delegación",
        "ar": "بلا وفد",
    },
    "launched": {
        "en": "Round {id} launched: {survey} version {version}, {participants} delegates in "
        "{delegations} delegations, closes {closes}.",
        "fr": "Cycle {id} lancé\u00a0: {survey} version {version}, {participants} délégués dans "
        "{delegations} délégations, clôture le {closes}.",
        "es": "Ronda {id} lanzada: {survey} versión {version}, {participants} delegados en "
        "{delegations} delegaciones, cierre {closes}.",
        "ar": "أُطلقت الجولة {id}: {survey} الإصدار {version}، {participants} مندوبًا في "
        "{delegations} وفدًا، تُغلق {closes}.",
    },
    "extended_round": {
        "en": "Round {id} now closes {closes}; reminders follow the new date.",
        "fr": f"Le cycle {{id}} sera clôturé le {{closes}}{_NBSP}; les rappels suivent la "
        "nouvelle date.",
        "es": "La ronda {id} se cerrará el {closes}; los recordatorios siguen la nueva fecha.",
        "ar": "ستُغلق الجولة {id} في {closes}؛ وتتبع التذكيرات الموعد الجديد.",
    },
    "digest_posted": {
        "en": "Digest of round {id}: {summary}",
        "fr": f"Synthèse du cycle {{id}}{_NBSP}: {{summary}}",
        "es": "Resumen de la ronda {id}: {summary}",
        "ar": "ملخص الجولة {id}: {summary}",
    },
    "digest_unavailable": {
        "en": "Digests cannot be made from Slack here; use `itinera digest {id}`.",
        "fr": f"Les synthèses ne peuvent pas être produites depuis Slack ici{_NBSP}; utilisez "
        "`itinera digest {id}`.",
        "es": "Aquí no se pueden generar resúmenes desde Slack; use `itinera digest {id}`.",
        "ar": "لا يمكن إعداد الملخصات من Slack هنا؛ استخدموا `itinera digest {id}`.",
    },
    "closed_round": {
        "en": "Round {id} is closed.",
        "fr": "Le cycle {id} est clôturé.",
        "es": "La ronda {id} está cerrada.",
        "ar": "أُغلقت الجولة {id}.",
    },
}
"""Message key -> language -> text with ``str.format`` placeholders."""

REQUIRED_LANGUAGES = ("en", "fr", "es", "ar")


def text(key: str, language: str, **params: object) -> str:
    """The Slack text ``key`` in ``language`` (or its base), else English; KeyError if unknown."""
    return _pick(TEXTS[key], language).format_map(params)


def _pick(by_language: Mapping[str, str], language: str) -> str:
    if language in by_language:
        return by_language[language]
    base = language.split("-")[0].lower()
    return by_language.get(base, by_language[FALLBACK_LANGUAGE])
