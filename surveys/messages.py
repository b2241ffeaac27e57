"""Every text the engine and the channels show delegates, per language.

Survey content (question labels, choices, custom constraint messages) comes from the survey
definition; this catalogue holds the rest: validation messages, button captions, summary
wording. English is complete and is the fallback; French and Spanish must have every key with
the same ``{placeholders}`` (a test checks it); Arabic is present too. Adding Russian or Chinese
is a matter of adding a column.

Example::

    text("number_between", "fr", low="1", high="10")
    # 'Veuillez indiquer un nombre compris entre 1 et 10.'
"""

from __future__ import annotations

from collections.abc import Mapping

FALLBACK_LANGUAGE = "en"

DECIMAL_COMMA_LANGUAGES = frozenset({"fr", "es", "ar", "ru"})
"""Languages whose decimal mark is a comma (when reading, a dot is accepted too)."""

_NBSP = "\u00a0"  # French puts a no-break space before ":" and ";" and inside « ».

MESSAGES: dict[str, dict[str, str]] = {
    # --- Answers that cannot be accepted -------------------------------------------------------
    "required": {
        "en": "This question needs an answer.",
        "fr": "Cette question appelle une réponse.",
        "es": "Esta pregunta requiere una respuesta.",
        "ar": "هذا السؤال يتطلب إجابة.",
    },
    "cannot_skip": {
        "en": "This question needs an answer, so it cannot be skipped.",
        "fr": "Cette question appelle une réponse et ne peut donc pas être passée.",
        "es": "Esta pregunta requiere una respuesta, por lo que no se puede omitir.",
        "ar": "هذا السؤال يتطلب إجابة، ولذلك لا يمكن تخطيه.",
    },
    "constraint_failed": {
        "en": "This answer cannot be accepted. Please check it and try again.",
        "fr": "Cette réponse ne peut pas être acceptée. Veuillez la vérifier et réessayer.",
        "es": "Esta respuesta no puede aceptarse. Por favor, revísela e inténtelo de nuevo.",
        "ar": "لا يمكن قبول هذه الإجابة. يرجى التحقق منها والمحاولة مرة أخرى.",
    },
    "type_answer": {
        "en": "Please type your answer.",
        "fr": "Veuillez saisir votre réponse.",
        "es": "Por favor, escriba su respuesta.",
        "ar": "يرجى كتابة إجابتكم.",
    },
    "option_unavailable": {
        "en": "That option is not available for this question. Please choose again.",
        "fr": "Cette option n’est pas proposée pour cette question. Veuillez choisir à nouveau.",
        "es": "Esa opción no está disponible para esta pregunta. Por favor, elija de nuevo.",
        "ar": "هذا الخيار غير متاح لهذا السؤال. يرجى الاختيار مرة أخرى.",
    },
    "not_an_option": {
        "en": "{item} is not one of the options.",
        "fr": "{item} ne fait pas partie des options.",
        "es": "{item} no es una de las opciones.",
        "ar": "{item} ليس من بين الخيارات.",
    },
    "not_options": {
        "en": "{items} are not among the options.",
        "fr": "{items} ne font pas partie des options.",
        "es": "{items} no están entre las opciones.",
        "ar": "{items} ليست من بين الخيارات.",
    },
    "reply_with_number": {
        "en": "Please reply with a number from 1 to {count}.",
        "fr": "Veuillez répondre par un nombre de 1 à {count}.",
        "es": "Por favor, responda con un número del 1 al {count}.",
        "ar": "يرجى الرد برقم من 1 إلى {count}.",
    },
    "reply_with_numbers": {
        "en": "Please reply with numbers from 1 to {count}, separated by commas.",
        "fr": "Veuillez répondre par des nombres de 1 à {count}, séparés par des virgules.",
        "es": "Por favor, responda con números del 1 al {count}, separados por comas.",
        "ar": "يرجى الرد بأرقام من 1 إلى {count}، مفصولة بفواصل.",
    },
    "yes_or_no": {
        "en": "Please answer yes or no.",
        "fr": "Veuillez répondre par oui ou par non.",
        "es": "Por favor, responda sí o no.",
        "ar": "يرجى الإجابة بنعم أو لا.",
    },
    "choose_one_only": {
        "en": "Please choose only one option.",
        "fr": "Veuillez choisir une seule option.",
        "es": "Por favor, elija una sola opción.",
        "ar": "يرجى اختيار خيار واحد فقط.",
    },
    "choose_at_least_one": {
        "en": "Please choose at least one option.",
        "fr": "Veuillez choisir au moins une option.",
        "es": "Por favor, elija al menos una opción.",
        "ar": "يرجى اختيار خيار واحد على الأقل.",
    },
    "choose_at_least": {
        "en": "Please choose at least {low} options.",
        "fr": "Veuillez choisir au moins {low} options.",
        "es": "Por favor, elija al menos {low} opciones.",
        "ar": "يرجى اختيار ما لا يقل عن {low} من الخيارات.",
    },
    "choose_at_most": {
        "en": "Please choose no more than {high} options.",
        "fr": "Veuillez choisir au plus {high} options.",
        "es": "Por favor, elija como máximo {high} opciones.",
        "ar": "يرجى اختيار ما لا يزيد على {high} من الخيارات.",
    },
    "choose_exactly": {
        "en": "Please choose exactly {count} options.",
        "fr": "Veuillez choisir exactement {count} options.",
        "es": "Por favor, elija exactamente {count} opciones.",
        "ar": "يرجى اختيار {count} من الخيارات بالضبط.",
    },
    "choose_between": {
        "en": "Please choose between {low} and {high} options.",
        "fr": "Veuillez choisir entre {low} et {high} options.",
        "es": "Por favor, elija entre {low} y {high} opciones.",
        "ar": "يرجى اختيار ما بين {low} و{high} من الخيارات.",
    },
    "scale_range": {
        "en": "Please choose a number from {low} to {high}.",
        "fr": "Veuillez choisir un nombre de {low} à {high}.",
        "es": "Por favor, elija un número del {low} al {high}.",
        "ar": "يرجى اختيار رقم من {low} إلى {high}.",
    },
    "scale_points": {
        "en": "Please choose one of these values: {points}.",
        "fr": f"Veuillez choisir l’une de ces valeurs{_NBSP}: {{points}}.",
        "es": "Por favor, elija uno de estos valores: {points}.",
        "ar": "يرجى اختيار إحدى هذه القيم: {points}.",
    },
    "not_a_whole_number": {
        "en": "Please give a whole number, such as {example}.",
        "fr": "Veuillez indiquer un nombre entier, par exemple {example}.",
        "es": "Por favor, indique un número entero, por ejemplo {example}.",
        "ar": "يرجى إدخال عدد صحيح، مثل {example}.",
    },
    "not_a_number": {
        "en": "Please give a number, such as {example}.",
        "fr": "Veuillez indiquer un nombre, par exemple {example}.",
        "es": "Por favor, indique un número, por ejemplo {example}.",
        "ar": "يرجى إدخال رقم، مثل {example}.",
    },
    "number_at_least": {
        "en": "Please give a number no lower than {low}.",
        "fr": "Veuillez indiquer un nombre supérieur ou égal à {low}.",
        "es": "Por favor, indique un número igual o superior a {low}.",
        "ar": "يرجى إدخال رقم لا يقل عن {low}.",
    },
    "number_at_most": {
        "en": "Please give a number no greater than {high}.",
        "fr": "Veuillez indiquer un nombre inférieur ou égal à {high}.",
        "es": "Por favor, indique un número igual o inferior a {high}.",
        "ar": "يرجى إدخال رقم لا يزيد على {high}.",
    },
    "number_between": {
        "en": "Please give a number from {low} to {high}.",
        "fr": "Veuillez indiquer un nombre compris entre {low} et {high}.",
        "es": "Por favor, indique un número entre {low} y {high}.",
        "ar": "يرجى إدخال رقم بين {low} و{high}.",
    },
    "text_too_long": {
        "en": "Please keep your answer within {limit} characters; it now has {length}.",
        "fr": (
            f"Veuillez limiter votre réponse à {{limit}} caractères{_NBSP}; "
            "elle en compte actuellement {length}."
        ),
        "es": "Por favor, limite su respuesta a {limit} caracteres; ahora tiene {length}.",
        "ar": "يرجى ألا يتجاوز عدد أحرف إجابتكم {limit}؛ وعددها الآن {length}.",
    },
    "not_a_date": {
        "en": "Please give a date as day/month/year, such as {example}.",
        "fr": "Veuillez indiquer une date au format jour/mois/année, par exemple {example}.",
        "es": "Por favor, indique una fecha en formato día/mes/año, por ejemplo {example}.",
        "ar": "يرجى إدخال تاريخ بصيغة يوم/شهر/سنة، مثل {example}.",
    },
    "no_such_date": {
        "en": "The date {date} does not exist.",
        "fr": "La date {date} n’existe pas.",
        "es": "La fecha {date} no existe.",
        "ar": "التاريخ {date} غير موجود.",
    },
    # --- Where the delegate stands -------------------------------------------------------------
    "already_complete": {
        "en": "All questions have been answered. You may review your answers or submit them.",
        "fr": (
            "Toutes les questions ont reçu une réponse. "
            "Vous pouvez relire vos réponses ou les envoyer."
        ),
        "es": (
            "Todas las preguntas han sido respondidas. Puede revisar sus respuestas o enviarlas."
        ),
        "ar": "تمت الإجابة عن جميع الأسئلة. يمكنكم مراجعة إجاباتكم أو إرسالها.",
    },
    "incomplete": {
        "en": "Some questions still need an answer before you can submit.",
        "fr": "Certaines questions appellent encore une réponse avant l’envoi.",
        "es": "Algunas preguntas aún requieren una respuesta antes del envío.",
        "ar": "لا تزال بعض الأسئلة بحاجة إلى إجابة قبل الإرسال.",
    },
    "cannot_edit": {
        "en": "That question cannot be changed at this point.",
        "fr": "Cette question ne peut pas être modifiée pour le moment.",
        "es": "Esa pregunta no se puede modificar en este momento.",
        "ar": "لا يمكن تعديل هذا السؤال في الوقت الحالي.",
    },
    "position": {
        "en": "Question {position} of {total}",
        "fr": "Question {position} sur {total}",
        "es": "Pregunta {position} de {total}",
        "ar": "السؤال {position} من {total}",
    },
    "previous_answer": {
        "en": "Your previous answer: {answer}",
        "fr": f"Votre réponse précédente{_NBSP}: {{answer}}",
        "es": "Su respuesta anterior: {answer}",
        "ar": "إجابتكم السابقة: {answer}",
    },
    "choose_several": {
        "en": "You may choose several options.",
        "fr": "Vous pouvez choisir plusieurs options.",
        "es": "Puede elegir varias opciones.",
        "ar": "يمكنكم اختيار أكثر من خيار.",
    },
    "round_closed": {
        "en": "The survey “{title}” closed on {when}. Thank you; answers can no longer be changed.",
        "fr": f"L’enquête «{_NBSP}{{title}}{_NBSP}» a été clôturée le {{when}}. Merci{_NBSP}; "
        "les réponses ne peuvent plus être modifiées.",
        "es": "La encuesta «{title}» se cerró el {when}. Gracias; las respuestas ya no pueden "
        "modificarse.",
        "ar": "أُغلق الاستبيان «{title}» في {when}. شكرًا لكم؛ لم يعد من الممكن تعديل الإجابات.",
    },
    "round_not_open": {
        "en": "The survey “{title}” opens on {when}. You will receive it then.",
        "fr": f"L’enquête «{_NBSP}{{title}}{_NBSP}» ouvrira le {{when}}. Vous la recevrez à "
        "ce moment-là.",
        "es": "La encuesta «{title}» se abrirá el {when}. La recibirá en ese momento.",
        "ar": "سيُفتح الاستبيان «{title}» في {when}. وستتلقونه حينها.",
    },
    "preview_help": {
        "en": "Type the number or the name of a choice; an empty line skips an optional "
        "question; {back} goes back.",
        "fr": f"Tapez le numéro ou le nom d'un choix{_NBSP}; une ligne vide passe une question "
        f"facultative{_NBSP}; {{back}} revient en arrière.",
        "es": "Escriba el número o el nombre de una opción; una línea vacía omite una pregunta "
        "opcional; {back} vuelve atrás.",
        "ar": "اكتبوا رقم الخيار أو اسمه؛ السطر الفارغ يتخطى السؤال الاختياري؛ {back} للرجوع.",
    },
    "summary_title": {
        "en": "Your answers",
        "fr": "Vos réponses",
        "es": "Sus respuestas",
        "ar": "إجاباتكم",
    },
    "summary_prompt": {
        "en": "Please review your answers. You may change any of them, or submit.",
        "fr": "Veuillez relire vos réponses. Vous pouvez en modifier ou les envoyer.",
        "es": "Por favor, revise sus respuestas. Puede modificarlas o enviarlas.",
        "ar": "يرجى مراجعة إجاباتكم. يمكنكم تعديل أي منها أو إرسالها.",
    },
    "submitted": {
        "en": "Thank you. Your answers have been submitted.",
        "fr": "Merci. Vos réponses ont bien été envoyées.",
        "es": "Gracias. Sus respuestas han sido enviadas.",
        "ar": "شكرًا لكم. تم إرسال إجاباتكم.",
    },
    # --- Button captions -----------------------------------------------------------------------
    "button_back": {"en": "Back", "fr": "Retour", "es": "Atrás", "ar": "رجوع"},
    "button_skip": {"en": "Skip", "fr": "Passer", "es": "Omitir", "ar": "تخطٍّ"},
    "button_done": {"en": "Done", "fr": "Valider", "es": "Confirmar", "ar": "تأكيد"},
    "button_change": {"en": "Change", "fr": "Modifier", "es": "Modificar", "ar": "تعديل"},
    "button_submit": {"en": "Submit", "fr": "Envoyer", "es": "Enviar", "ar": "إرسال"},
    # --- Pieces used to build other texts ------------------------------------------------------
    "skipped": {
        "en": "(skipped)",
        "fr": "(sans réponse)",
        "es": "(sin respuesta)",
        "ar": "(بلا إجابة)",
    },
    "quoted": {
        "en": '"{text}"',
        "fr": f"«{_NBSP}{{text}}{_NBSP}»",
        "es": "«{text}»",
        "ar": "«{text}»",
    },
    "list_separator": {"en": ", ", "fr": ", ", "es": ", ", "ar": "، "},
    # --- forms as written in KoboToolbox and ODK ---
    "reply_with_label": {
        "en": "Please reply with one of the options, as shown.",
        "fr": "Veuillez répondre par l’une des options, telle qu’elle est affichée.",
        "es": "Por favor, responda con una de las opciones, tal como se muestra.",
        "ar": "يرجى الرد بأحد الخيارات كما هو معروض.",
    },
    "reply_with_labels": {
        "en": "Please reply with options as shown, separated by commas.",
        "fr": "Veuillez répondre par des options telles qu’elles sont affichées, séparées par "
        "des virgules.",
        "es": "Por favor, responda con opciones tal como se muestran, separadas por comas.",
        "ar": "يرجى الرد بخيارات كما هي معروضة، مفصولة بفواصل.",
    },
    "type_number_between": {
        "en": "Please type a number from {low} to {high}.",
        "fr": "Veuillez saisir un nombre de {low} à {high}.",
        "es": "Por favor, escriba un número del {low} al {high}.",
        "ar": "يرجى كتابة رقم من {low} إلى {high}.",
    },
    "type_number_steps": {
        "en": "Please type a number from {low} to {high}, in steps of {step}.",
        "fr": "Veuillez saisir un nombre de {low} à {high}, par pas de {step}.",
        "es": "Por favor, escriba un número del {low} al {high}, de {step} en {step}.",
        "ar": "يرجى كتابة رقم من {low} إلى {high}، بزيادات قدرها {step}.",
    },
    "choice_other": {"en": "Other", "fr": "Autre", "es": "Otro", "ar": "أخرى"},
    "specify_other": {
        "en": "Please specify.",
        "fr": "Veuillez préciser.",
        "es": "Por favor, especifique.",
        "ar": "يرجى التحديد.",
    },
}
"""Message key -> language -> text with ``str.format`` placeholders."""

REQUIRED_LANGUAGES = ("en", "fr", "es")
"""Languages every key must have; others fall back to English key by key."""


def text(key: str, language: str, **params: object) -> str:
    """The message ``key`` in ``language`` (or its base, ``fr-CA`` -> ``fr``), else in English.

    Raises ``KeyError`` for an unknown key: a typo is a bug, not something to show a delegate.
    """
    by_language = MESSAGES[key]
    template = _pick(by_language, language)
    return template.format_map(params)


def _pick(by_language: Mapping[str, str], language: str) -> str:
    if language in by_language:
        return by_language[language]
    base = language.split("-")[0].lower()
    if base in by_language:
        return by_language[base]
    return by_language[FALLBACK_LANGUAGE]


def quoted(value: str, language: str) -> str:
    """``value`` in the quotation marks of ``language``."""
    return text("quoted", language, text=value)


def joined(values: list[str], language: str) -> str:
    """``values`` joined with the list separator of ``language``."""
    return text("list_separator", language).join(values)


def decimal_mark(language: str) -> str:
    return "," if language.split("-")[0].lower() in DECIMAL_COMMA_LANGUAGES else "."


def format_number(value: float, language: str) -> str:
    """A number written plainly (no exponent, no grouping) with the language's decimal mark."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer():
        return str(int(value))
    written = f"{value:.15f}".rstrip("0").rstrip(".")
    if float(written) != value:  # more significant digits than 15 decimals show
        written = repr(value)
    return written.replace(".", decimal_mark(language))
