"""Texts only the Telegram channel shows, in the format of :mod:`surveys.messages`.

Survey texts (questions, refusals of an answer, button captions) come from the core catalogue;
this one holds greetings, command help and replies to commands. Every key has English, French,
Spanish and Arabic. People we do not know yet get :func:`multilingual` texts, since we cannot
know their language.

Example::

    text("timezone_set", "fr", zone="Africa/Dakar", time="09:30")
    # 'Votre fuseau horaire est désormais Africa/Dakar (il y est 09:30).'
"""

from __future__ import annotations

from surveys.messages import MESSAGES as CORE_MESSAGES
from surveys.messages import text as core_text

LANGUAGES = ("en", "fr", "es", "ar")
"""Languages a delegate may choose with /language."""

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}

GUEST_LANGUAGES = ("en", "fr", "es")
"""Languages of texts to people we do not know yet."""

_NBSP = "\u00a0"

MESSAGES: dict[str, dict[str, str]] = {
    # --- Enrolment -----------------------------------------------------------------------------
    "unknown_user": {
        "en": "Hello. To answer surveys here, please open the personal enrolment link the "
        "organisers sent you.",
        "fr": "Bonjour. Pour répondre aux enquêtes ici, veuillez ouvrir le lien d’inscription "
        "personnel que l’équipe organisatrice vous a envoyé.",
        "es": "Hola. Para responder a las encuestas aquí, abra el enlace de inscripción "
        "personal que le envió el equipo organizador.",
        "ar": "مرحبًا. للإجابة عن الاستبيانات هنا، يرجى فتح رابط التسجيل الشخصي الذي أرسله "
        "إليكم فريق التنظيم.",
    },
    "code_unknown": {
        "en": "This enrolment link is not valid. Please check that you opened the whole link, "
        "or ask the organisers for a new one.",
        "fr": "Ce lien d’inscription n’est pas valide. Veuillez vérifier que vous avez ouvert "
        "le lien complet, ou en demander un nouveau à l’équipe organisatrice.",
        "es": "Este enlace de inscripción no es válido. Compruebe que ha abierto el enlace "
        "completo o pida uno nuevo al equipo organizador.",
        "ar": "رابط التسجيل هذا غير صالح. يرجى التأكد من فتح الرابط كاملًا، أو طلب رابط جديد "
        "من فريق التنظيم.",
    },
    "code_used": {
        "en": "This enrolment link has already been used. If that was not you, please ask the "
        "organisers for a new one.",
        "fr": "Ce lien d’inscription a déjà été utilisé. Si ce n’était pas vous, veuillez en "
        "demander un nouveau à l’équipe organisatrice.",
        "es": "Este enlace de inscripción ya se ha utilizado. Si no fue usted, pida uno nuevo "
        "al equipo organizador.",
        "ar": "تم استخدام رابط التسجيل هذا من قبل. إن لم تكونوا أنتم، يرجى طلب رابط جديد من "
        "فريق التنظيم.",
    },
    "code_expired": {
        "en": "This enrolment link has expired. Please ask the organisers for a new one.",
        "fr": "Ce lien d’inscription a expiré. Veuillez en demander un nouveau à l’équipe "
        "organisatrice.",
        "es": "Este enlace de inscripción ha caducado. Pida uno nuevo al equipo organizador.",
        "ar": "انتهت صلاحية رابط التسجيل هذا. يرجى طلب رابط جديد من فريق التنظيم.",
    },
    "greeting": {
        "en": "Welcome, {name}. You are now enrolled for {delegation}. I will send you the "
        "surveys here, one question at a time. Send /help at any time to see what I can do.",
        "fr": "Bienvenue, {name}. Vous êtes désormais inscrit(e) pour {delegation}. Je vous "
        "enverrai les enquêtes ici, une question à la fois. Envoyez /help à tout moment pour "
        "voir ce que je peux faire.",
        "es": "Le damos la bienvenida, {name}. Ya está inscrito/a por {delegation}. Le enviaré "
        "las encuestas aquí, una pregunta a la vez. Envíe /help en cualquier momento para ver "
        "lo que puedo hacer.",
        "ar": "مرحبًا بكم، {name}. أنتم الآن مسجلون عن {delegation}. سأرسل إليكم الاستبيانات "
        "هنا، سؤالًا تلو الآخر. أرسلوا /help في أي وقت لمعرفة ما يمكنني فعله.",
    },
    "greeting_organiser": {
        "en": "Welcome, {name}. You are now enrolled as an organiser. Send /rounds to follow "
        "the open rounds and /help for everything else.",
        "fr": "Bienvenue, {name}. Vous êtes désormais inscrit(e) en tant que membre de l’équipe "
        "organisatrice. Envoyez /rounds pour suivre les cycles ouverts et /help pour le reste.",
        "es": "Le damos la bienvenida, {name}. Ya está inscrito/a como organizador/a. Envíe "
        "/rounds para seguir las rondas abiertas y /help para todo lo demás.",
        "ar": "مرحبًا بكم، {name}. أنتم الآن مسجلون بصفتكم من فريق التنظيم. أرسلوا /rounds "
        "لمتابعة الجولات المفتوحة و/help لكل ما عدا ذلك.",
    },
    "welcome_back": {
        "en": "Welcome back, {name}.",
        "fr": "Heureux de vous retrouver, {name}.",
        "es": "Nos alegra verle de nuevo, {name}.",
        "ar": "مرحبًا بعودتكم، {name}.",
    },
    "already_enrolled": {
        "en": "You are already enrolled, {name}; this link is no longer needed.",
        "fr": "Vous êtes déjà inscrit(e), {name}{nbsp}; ce lien n’est plus nécessaire.",
        "es": "Ya está inscrito/a, {name}; este enlace ya no es necesario.",
        "ar": "أنتم مسجلون بالفعل، {name}؛ لم تعد هناك حاجة إلى هذا الرابط.",
    },
    "organisers": {
        "en": "the organising team",
        "fr": "l’équipe organisatrice",
        "es": "el equipo organizador",
        "ar": "فريق التنظيم",
    },
    # --- Surveys -------------------------------------------------------------------------------
    "no_open_round": {
        "en": "There is no survey open for you at the moment. I will write to you when one opens.",
        "fr": "Aucune enquête ne vous est ouverte pour le moment. Je vous écrirai dès qu’une "
        "enquête ouvrira.",
        "es": "No tiene ninguna encuesta abierta en este momento. Le escribiré cuando se abra una.",
        "ar": "لا يوجد استبيان مفتوح لكم في الوقت الحالي. سأكتب إليكم عندما يُفتح استبيان.",
    },
    "change_hint": {
        "en": "To change an answer, press its number.",
        "fr": "Pour modifier une réponse, appuyez sur son numéro.",
        "es": "Para modificar una respuesta, pulse su número.",
        "ar": "لتعديل إجابة، اضغطوا على رقمها.",
    },
    "submitted_until": {
        "en": "Your answers have been submitted. You may still change them until {when}.",
        "fr": "Vos réponses ont été envoyées. Vous pouvez encore les modifier jusqu’au {when}.",
        "es": "Sus respuestas han sido enviadas. Aún puede modificarlas hasta el {when}.",
        "ar": "تم إرسال إجاباتكم. لا يزال بإمكانكم تعديلها حتى {when}.",
    },
    "choose_then_done": {
        "en": "Press the options to select them, then {done}.",
        "fr": "Appuyez sur les options pour les sélectionner, puis sur {done}.",
        "es": "Pulse las opciones para seleccionarlas y después {done}.",
        "ar": "اضغطوا على الخيارات لتحديدها، ثم على {done}.",
    },
    "press_or_type": {
        "en": "Press a button, or type the number of your choice.",
        "fr": "Appuyez sur un bouton, ou tapez le numéro de votre choix.",
        "es": "Pulse un botón o escriba el número de su opción.",
        "ar": "اضغطوا على زر، أو اكتبوا رقم اختياركم.",
    },
    "stale_button": {
        "en": "This button is no longer current; here is where you are.",
        "fr": "Ce bouton n’est plus d’actualité{nbsp}; voici où vous en êtes.",
        "es": "Este botón ya no está vigente; aquí tiene dónde se encuentra.",
        "ar": "لم يعد هذا الزر صالحًا؛ إليكم أين وصلتم.",
    },
    "unknown_button": {
        "en": "This button is no longer valid.",
        "fr": "Ce bouton n’est plus valide.",
        "es": "Este botón ya no es válido.",
        "ar": "لم يعد هذا الزر صالحًا.",
    },
    "not_text": {
        "en": "I can only read text. Please type your answer or press a button.",
        "fr": "Je ne peux lire que du texte. Veuillez saisir votre réponse ou appuyer sur un "
        "bouton.",
        "es": "Solo puedo leer texto. Escriba su respuesta o pulse un botón.",
        "ar": "لا يمكنني قراءة سوى النصوص. يرجى كتابة إجابتكم أو الضغط على زر.",
    },
    "see_survey": {
        "en": "Send /survey to see your answers.",
        "fr": "Envoyez /survey pour voir vos réponses.",
        "es": "Envíe /survey para ver sus respuestas.",
        "ar": "أرسلوا /survey لعرض إجاباتكم.",
    },
    "something_went_wrong": {
        "en": "Sorry, something went wrong on our side. Please try again in a moment.",
        "fr": "Désolé, un problème est survenu de notre côté. Veuillez réessayer dans un instant.",
        "es": "Lo sentimos, se ha producido un problema por nuestra parte. Vuelva a intentarlo "
        "en un momento.",
        "ar": "عذرًا، حدث خطأ من جانبنا. يرجى المحاولة مرة أخرى بعد قليل.",
    },
    "private_only": {
        "en": "Please write to me in a private chat.",
        "fr": "Veuillez m’écrire dans une conversation privée.",
        "es": "Escríbame en un chat privado.",
        "ar": "يرجى مراسلتي في محادثة خاصة.",
    },
    # --- Preferences ---------------------------------------------------------------------------
    "language_prompt": {
        "en": "In which language should I write to you?",
        "fr": "Dans quelle langue dois-je vous écrire{nbsp}?",
        "es": "¿En qué idioma debo escribirle?",
        "ar": "بأي لغة تفضلون أن أكتب إليكم؟",
    },
    "language_set": {
        "en": "Understood, I will write to you in English from now on.",
        "fr": "Entendu, je vous écrirai désormais en français.",
        "es": "Entendido, a partir de ahora le escribiré en español.",
        "ar": "حسنًا، سأكتب إليكم بالعربية من الآن فصاعدًا.",
    },
    "timezone_prompt": {
        "en": "Your timezone is {zone}. Choose yours below, or send /timezone followed by its "
        "name, such as /timezone America/Santiago.",
        "fr": "Votre fuseau horaire est {zone}. Choisissez le vôtre ci-dessous, ou envoyez "
        "/timezone suivi de son nom, par exemple /timezone America/Santiago.",
        "es": "Su zona horaria es {zone}. Elija la suya a continuación o envíe /timezone "
        "seguido de su nombre, por ejemplo /timezone America/Santiago.",
        "ar": "منطقتكم الزمنية هي {zone}. اختاروا منطقتكم أدناه، أو أرسلوا /timezone متبوعًا "
        "باسمها، مثل /timezone Asia/Riyadh.",
    },
    "timezone_set": {
        "en": "Your timezone is now {zone} (it is {time} there).",
        "fr": "Votre fuseau horaire est désormais {zone} (il y est {time}).",
        "es": "Su zona horaria es ahora {zone} (allí son las {time}).",
        "ar": "منطقتكم الزمنية الآن هي {zone} (الساعة هناك {time}).",
    },
    "timezone_invalid": {
        "en": "{zone} is not a timezone I know. Please give a name such as Europe/Zurich or "
        "Africa/Dakar.",
        "fr": "{zone} n’est pas un fuseau horaire que je connais. Veuillez indiquer un nom "
        "comme Europe/Zurich ou Africa/Dakar.",
        "es": "{zone} no es una zona horaria que conozca. Indique un nombre como "
        "Europe/Zurich o America/Bogota.",
        "ar": "{zone} ليست منطقة زمنية أعرفها. يرجى إدخال اسم مثل Asia/Riyadh أو Africa/Cairo.",
    },
    # --- Help ----------------------------------------------------------------------------------
    "help": {
        "en": "I collect your delegation's answers to the organisers' surveys.\n\n"
        "/survey – the open survey: where you are, or your answers\n"
        "/language – the language I write to you in\n"
        "/timezone – your timezone, for reminders\n"
        "/help – this message\n\n"
        "Answer with the buttons, or type your answer. You can go back, stop and continue "
        "later: your answers are saved as you go.",
        "fr": "Je recueille les réponses de votre délégation aux enquêtes de l’équipe "
        "organisatrice.\n\n"
        "/survey – l’enquête ouverte{nbsp}: où vous en êtes, ou vos réponses\n"
        "/language – la langue dans laquelle je vous écris\n"
        "/timezone – votre fuseau horaire, pour les rappels\n"
        "/help – ce message\n\n"
        "Répondez avec les boutons, ou tapez votre réponse. Vous pouvez revenir en arrière, "
        "vous interrompre et reprendre plus tard{nbsp}: vos réponses sont enregistrées au fur "
        "et à mesure.",
        "es": "Recojo las respuestas de su delegación a las encuestas del equipo organizador."
        "\n\n"
        "/survey – la encuesta abierta: dónde se encuentra, o sus respuestas\n"
        "/language – el idioma en que le escribo\n"
        "/timezone – su zona horaria, para los recordatorios\n"
        "/help – este mensaje\n\n"
        "Responda con los botones o escriba su respuesta. Puede volver atrás, interrumpir y "
        "continuar más tarde: sus respuestas se guardan a medida que avanza.",
        "ar": "أجمع إجابات وفدكم على استبيانات فريق التنظيم.\n\n"
        "/survey – الاستبيان المفتوح: أين وصلتم، أو إجاباتكم\n"
        "/language – اللغة التي أكتب إليكم بها\n"
        "/timezone – منطقتكم الزمنية، من أجل التذكيرات\n"
        "/help – هذه الرسالة\n\n"
        "أجيبوا بالأزرار أو اكتبوا إجابتكم. يمكنكم الرجوع والتوقف والمتابعة لاحقًا: تُحفظ "
        "إجاباتكم أولًا بأول.",
    },
    "help_organiser": {
        "en": "For organisers:\n/rounds – open rounds and how many have answered\n"
        "/status ROUND – who has and has not answered, by delegation\n"
        "/launch SURVEY --audience A --closes WHEN [--opens WHEN] [--tz ZONE] – launch a round "
        "(audience: all, region:NAME, tag:NAME or ISO codes such as FRA,SEN; times in your "
        "timezone unless --tz)\n"
        "/close ROUND – close a round now\n"
        "/extend ROUND --closes WHEN [--tz ZONE] – move a round's closing time\n"
        "/digest ROUND – the round's digest, now",
        "fr": "Pour l’équipe organisatrice{nbsp}:\n/rounds – les cycles ouverts et le nombre de "
        "réponses\n/status CYCLE – qui a répondu et qui ne l’a pas fait, par délégation\n"
        "/launch ENQUÊTE --audience A --closes QUAND [--opens QUAND] [--tz FUSEAU] – lancer un "
        "cycle (audience{nbsp}: all, region:NOM, tag:NOM ou codes ISO comme FRA,SEN{nbsp}; "
        "heures dans votre fuseau horaire sauf --tz)\n"
        "/close CYCLE – clôturer un cycle maintenant\n"
        "/extend CYCLE --closes QUAND [--tz FUSEAU] – déplacer la clôture d’un cycle\n"
        "/digest CYCLE – la synthèse du cycle, maintenant",
        "es": "Para el equipo organizador:\n/rounds – las rondas abiertas y cuántos han "
        "respondido\n/status RONDA – quién ha respondido y quién no, por delegación\n"
        "/launch ENCUESTA --audience A --closes CUÁNDO [--opens CUÁNDO] [--tz ZONA] – lanzar "
        "una ronda (audiencia: all, region:NOMBRE, tag:NOMBRE o códigos ISO como FRA,SEN; "
        "horas en su zona horaria salvo --tz)\n"
        "/close RONDA – cerrar una ronda ahora\n"
        "/extend RONDA --closes CUÁNDO [--tz ZONA] – cambiar el cierre de una ronda\n"
        "/digest RONDA – el resumen de la ronda, ahora",
        "ar": "لفريق التنظيم:\n/rounds – الجولات المفتوحة وعدد من أجابوا\n"
        "/status رقم_الجولة – من أجاب ومن لم يُجب، حسب الوفد\n"
        "/launch SURVEY --audience A --closes WHEN [--opens WHEN] [--tz ZONE] – إطلاق جولة "
        "(الجمهور: all أو region:NAME أو tag:NAME أو رموز ISO مثل FRA,SEN؛ الأوقات بمنطقتكم "
        "الزمنية ما لم تُحدَّد --tz)\n"
        "/close رقم_الجولة – إغلاق جولة الآن\n"
        "/extend رقم_الجولة --closes WHEN [--tz ZONE] – تغيير موعد إغلاق جولة\n"
        "/digest رقم_الجولة – ملخص الجولة، الآن",
    },
    # --- Organisers ----------------------------------------------------------------------------
    "organiser_only": {
        "en": "Sorry, this command is reserved for the organising team.",
        "fr": "Désolé, cette commande est réservée à l’équipe organisatrice.",
        "es": "Lo sentimos, este comando está reservado al equipo organizador.",
        "ar": "عذرًا، هذا الأمر مخصص لفريق التنظيم.",
    },
    "no_rounds": {
        "en": "No round is open.",
        "fr": "Aucun cycle n’est ouvert.",
        "es": "No hay ninguna ronda abierta.",
        "ar": "لا توجد جولة مفتوحة.",
    },
    "rounds_title": {
        "en": "Open rounds",
        "fr": "Cycles ouverts",
        "es": "Rondas abiertas",
        "ar": "الجولات المفتوحة",
    },
    "round_line": {
        "en": "Round {id} – {title}\n{submitted} of {total} submitted, {in_progress} in "
        "progress, {not_started} not started; closes {closes}.",
        "fr": "Cycle {id} – {title}\n{submitted} sur {total} envoyées, {in_progress} en cours, "
        "{not_started} non commencées{nbsp}; clôture le {closes}.",
        "es": "Ronda {id} – {title}\n{submitted} de {total} enviadas, {in_progress} en curso, "
        "{not_started} sin empezar; cierra el {closes}.",
        "ar": "الجولة {id} – {title}\n{submitted} من {total} مُرسلة، {in_progress} قيد "
        "الإنجاز، {not_started} لم تبدأ؛ تُغلق في {closes}.",
    },
    "status_usage": {
        "en": "Please give a round number, such as /status {example}.",
        "fr": "Veuillez indiquer un numéro de cycle, par exemple /status {example}.",
        "es": "Indique un número de ronda, por ejemplo /status {example}.",
        "ar": "يرجى إدخال رقم الجولة، مثل /status {example}.",
    },
    "no_such_round": {
        "en": "There is no round {id}. Send /rounds to see the open ones.",
        "fr": "Il n’existe pas de cycle {id}. Envoyez /rounds pour voir les cycles ouverts.",
        "es": "No existe la ronda {id}. Envíe /rounds para ver las abiertas.",
        "ar": "لا توجد جولة رقم {id}. أرسلوا /rounds لعرض الجولات المفتوحة.",
    },
    "status_title": {
        "en": "Round {id} – {title}: {submitted} of {total} submitted ({state}, closes {closes})",
        "fr": "Cycle {id} – {title}{nbsp}: {submitted} sur {total} envoyées ({state}, clôture "
        "le {closes})",
        "es": "Ronda {id} – {title}: {submitted} de {total} enviadas ({state}, cierra el {closes})",
        "ar": "الجولة {id} – {title}: {submitted} من {total} مُرسلة ({state}، تُغلق في {closes})",
    },
    "status_answered": {
        "en": "Answered",
        "fr": "Ont répondu",
        "es": "Han respondido",
        "ar": "أجابوا",
    },
    "status_not_answered": {
        "en": "Not answered yet",
        "fr": "N’ont pas encore répondu",
        "es": "Aún no han respondido",
        "ar": "لم يُجيبوا بعد",
    },
    "status_none": {"en": "(none)", "fr": "(aucun)", "es": "(ninguno)", "ar": "(لا أحد)"},
    "state_open": {"en": "open", "fr": "ouvert", "es": "abierta", "ar": "مفتوحة"},
    "state_closed": {"en": "closed", "fr": "clôturé", "es": "cerrada", "ar": "مغلقة"},
    "state_scheduled": {
        "en": "not open yet",
        "fr": "pas encore ouvert",
        "es": "aún no abierta",
        "ar": "لم تُفتح بعد",
    },
    "status_submitted": {"en": "submitted", "fr": "envoyé", "es": "enviada", "ar": "مُرسلة"},
    "status_in_progress": {
        "en": "in progress ({answered} answers)",
        "fr": "en cours ({answered} réponses)",
        "es": "en curso ({answered} respuestas)",
        "ar": "قيد الإنجاز ({answered} إجابات)",
    },
    "status_not_started": {
        "en": "not started",
        "fr": "non commencé",
        "es": "sin empezar",
        "ar": "لم يبدأ",
    },
    "status_partial": {
        "en": "partial ({answered} answers, not submitted)",
        "fr": "partiel ({answered} réponses, non envoyé)",
        "es": "parcial ({answered} respuestas, sin enviar)",
        "ar": "جزئية ({answered} إجابات، لم تُرسل)",
    },
    "command_problem": {
        "en": "I could not read that command: {problem}. Send /help for the organisers' commands.",
        "fr": "Je n’ai pas pu lire cette commande{nbsp}: {problem}. Envoyez /help pour les "
        "commandes de l’équipe organisatrice.",
        "es": "No he podido leer ese comando: {problem}. Envíe /help para ver los comandos del "
        "equipo organizador.",
        "ar": "تعذّرت عليّ قراءة هذا الأمر: {problem}. أرسلوا /help لعرض أوامر فريق التنظيم.",
    },
    "command_failed": {
        "en": "That was not done: {problem}",
        "fr": "Ce n’a pas été fait{nbsp}: {problem}",
        "es": "No se ha hecho: {problem}",
        "ar": "لم يتم ذلك: {problem}",
    },
    "round_launched": {
        "en": "Round {id} is launched: {survey} version {version}, for {participants} "
        "delegates in {delegations} delegations. It closes {closes}. Invitations go out within "
        "a minute.",
        "fr": "Le cycle {id} est lancé{nbsp}: {survey} version {version}, pour {participants} "
        "délégué(e)s de {delegations} délégations. Il se clôture le {closes}. Les invitations "
        "partent dans la minute.",
        "es": "La ronda {id} está lanzada: {survey} versión {version}, para {participants} "
        "delegados de {delegations} delegaciones. Cierra el {closes}. Las invitaciones salen "
        "en menos de un minuto.",
        "ar": "أُطلقت الجولة {id}: {survey} الإصدار {version}، لـ{participants} من المندوبين في "
        "{delegations} وفود. تُغلق في {closes}. تُرسل الدعوات في غضون دقيقة.",
    },
    "round_launched_later": {
        "en": "Round {id} is launched: {survey} version {version}, for {participants} "
        "delegates in {delegations} delegations. It opens {opens} and closes {closes}. "
        "Invitations go out within a minute of its opening.",
        "fr": "Le cycle {id} est lancé{nbsp}: {survey} version {version}, pour {participants} "
        "délégué(e)s de {delegations} délégations. Il ouvre le {opens} et se clôture le "
        "{closes}. Les invitations partent dans la minute qui suit l’ouverture.",
        "es": "La ronda {id} está lanzada: {survey} versión {version}, para {participants} "
        "delegados de {delegations} delegaciones. Abre el {opens} y cierra el {closes}. Las "
        "invitaciones salen en menos de un minuto tras la apertura.",
        "ar": "أُطلقت الجولة {id}: {survey} الإصدار {version}، لـ{participants} من المندوبين في "
        "{delegations} وفود. تُفتح في {opens} وتُغلق في {closes}. تُرسل الدعوات في غضون دقيقة "
        "من فتحها.",
    },
    "round_closed": {
        "en": "Round {id} is now closed. Answers that were started are kept, marked partial.",
        "fr": "Le cycle {id} est désormais clôturé. Les réponses commencées sont conservées et "
        "marquées partielles.",
        "es": "La ronda {id} está ahora cerrada. Las respuestas empezadas se conservan, "
        "marcadas como parciales.",
        "ar": "أُغلقت الجولة {id} الآن. تُحفظ الإجابات التي بدأت وتُعلَّم بأنها جزئية.",
    },
    "round_extended": {
        "en": "Round {id} now closes {closes}. Reminders follow the new date.",
        "fr": "Le cycle {id} se clôture désormais le {closes}. Les rappels suivent la nouvelle "
        "date.",
        "es": "La ronda {id} cierra ahora el {closes}. Los recordatorios siguen la nueva fecha.",
        "ar": "تُغلق الجولة {id} الآن في {closes}. تتبع التذكيرات الموعد الجديد.",
    },
    "digest_posted_chat": {
        "en": "The full digest was posted to the Telegram chat {chat} (and to the organisers' "
        "Slack channel, where one is set).",
        "fr": "La synthèse complète a été publiée dans la conversation Telegram {chat} (et dans "
        "le canal Slack de l’équipe organisatrice, s’il y en a un).",
        "es": "El resumen completo se publicó en el chat de Telegram {chat} (y en el canal de "
        "Slack del equipo organizador, si lo hay).",
        "ar": "نُشر الملخص الكامل في محادثة Telegram {chat} (وفي قناة Slack الخاصة بفريق "
        "التنظيم، إن وُجدت).",
    },
    "digest_posted_organisers": {
        "en": "The full digest was sent here to every organiser enrolled on Telegram (and to "
        "the organisers' Slack channel, where one is set).",
        "fr": "La synthèse complète a été envoyée ici à chaque membre de l’équipe "
        "organisatrice inscrit sur Telegram (et dans le canal Slack de l’équipe, s’il y en a "
        "un).",
        "es": "El resumen completo se envió aquí a cada miembro del equipo organizador inscrito "
        "en Telegram (y al canal de Slack del equipo, si lo hay).",
        "ar": "أُرسل الملخص الكامل هنا إلى كل عضو في فريق التنظيم مسجل على Telegram (وإلى قناة "
        "Slack الخاصة بالفريق، إن وُجدت).",
    },
    "digest_unavailable": {
        "en": "Sorry, digests are not available here. The digest of a round can be made with "
        "the itinera digest command.",
        "fr": "Désolé, les synthèses ne sont pas disponibles ici. La synthèse d’un cycle peut "
        "être produite avec la commande itinera digest.",
        "es": "Lo sentimos, los resúmenes no están disponibles aquí. El resumen de una ronda "
        "puede obtenerse con el comando itinera digest.",
        "ar": "عذرًا، الملخصات غير متاحة هنا. يمكن إعداد ملخص جولة باستخدام الأمر itinera digest.",
    },
    "no_delegation": {
        "en": "Without delegation",
        "fr": "Sans délégation",
        "es": "Sin delegación",
        "ar": "بلا وفد",
    },
}
"""Message key -> language -> text with ``str.format`` placeholders (``{nbsp}`` is free)."""


def text(key: str, language: str, **params: object) -> str:
    """The Telegram text ``key`` in ``language`` (or its base), else in English.

    Keys of the core catalogue (:data:`surveys.messages.MESSAGES`) work too, so a caller needs
    one function. Raises ``KeyError`` for an unknown key.
    """
    if key not in MESSAGES and key in CORE_MESSAGES:
        return core_text(key, language, **params)
    by_language = MESSAGES[key]
    base = language.split("-")[0].lower()
    template = by_language.get(language) or by_language.get(base) or by_language["en"]
    return template.format_map({"nbsp": _NBSP, **params})


def multilingual(key: str, **params: object) -> str:
    """``key`` in every guest language, one paragraph each, for someone we do not know yet."""
    return "\n\n".join(text(key, language, **params) for language in GUEST_LANGUAGES)


def language_of(language: str) -> str:
    """The supported language closest to ``language`` (a participant's), else English."""
    base = language.split("-")[0].lower()
    return base if base in LANGUAGES else "en"
