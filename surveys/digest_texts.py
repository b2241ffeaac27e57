"""The digest's own texts in the six UN languages: Arabic, Chinese, English, French, Russian,
Spanish.

Two catalogues, one entry per message, every language side by side so that a translator sees
them together and a test can check that none is missing:

- :data:`TEXTS`: key -> language -> ``str.format`` template;
- :data:`PLURALS`: key -> language -> CLDR plural category (``zero``, ``one``, ``two``, ``few``,
  ``many``, ``other``) -> template, chosen by Babel's plural rule for the count. Each language
  has exactly the categories its CLDR rule uses (Chinese only ``other``; Arabic all six).

Templates take named placeholders; ``{nbsp}`` is a no-break space (French punctuation). Every
language of a key has the same placeholders, except that a plural form may leave out
``{count}`` where the language names the number in words (Arabic "two comments" is one word).
Dates, numbers and percentages are never written here: :mod:`surveys.digest` formats them with
Babel for the reader's locale. Survey texts (titles, themes, labels) come from the survey.
"""

from __future__ import annotations

DIGEST_LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")
"""The languages a digest is written in: the six official UN languages."""

TEXTS: dict[str, dict[str, str]] = {
    # --- Title and header ------------------------------------------------------------------
    "title": {
        "ar": "موجز: {survey}",
        "zh": "摘要：{survey}",
        "en": "Digest: {survey}",
        "fr": "Synthèse{nbsp}: {survey}",
        "ru": "Сводка: {survey}",
        "es": "Resumen: {survey}",
    },
    "round_line_open": {
        "ar": "الجولة {round} · {period} · مفتوحة حتى {closes} · موجز {generated}",
        "zh": "第{round}轮 · {period} · 开放至{closes} · 摘要编制于{generated}",
        "en": "Round {round} · {period} · open until {closes} · digest of {generated}",
        "fr": "Cycle {round} · {period} · ouvert jusqu'au {closes} · synthèse du {generated}",
        "ru": "Раунд {round} · {period} · открыт до {closes} · сводка от {generated}",
        "es": "Ronda {round} · {period} · abierta hasta el {closes} · resumen del {generated}",
    },
    "round_line_closed": {
        "ar": "الجولة {round} · {period} · أُغلقت في {closes} · موجز {generated}",
        "zh": "第{round}轮 · {period} · 已于{closes}截止 · 摘要编制于{generated}",
        "en": "Round {round} · {period} · closed on {closes} · digest of {generated}",
        "fr": "Cycle {round} · {period} · clos le {closes} · synthèse du {generated}",
        "ru": "Раунд {round} · {period} · закрыт {closes} · сводка от {generated}",
        "es": "Ronda {round} · {period} · cerrada el {closes} · resumen del {generated}",
    },
    "meta_round": {
        "ar": "الجولة",
        "zh": "轮次",
        "en": "Round",
        "fr": "Cycle",
        "ru": "Раунд",
        "es": "Ronda",
    },
    "meta_period": {
        "ar": "الفترة",
        "zh": "期间",
        "en": "Period",
        "fr": "Période",
        "ru": "Период",
        "es": "Período",
    },
    "meta_status": {
        "ar": "الحالة",
        "zh": "状态",
        "en": "Status",
        "fr": "État",
        "ru": "Статус",
        "es": "Estado",
    },
    "meta_generated": {
        "ar": "تاريخ الموجز",
        "zh": "摘要日期",
        "en": "Digest of",
        "fr": "Synthèse du",
        "ru": "Дата сводки",
        "es": "Resumen del",
    },
    "status_open": {
        "ar": "مفتوحة، تُغلق في {date}",
        "zh": "开放中，{date}截止",
        "en": "open, closes on {date}",
        "fr": "ouvert, clôture le {date}",
        "ru": "открыт, закрывается {date}",
        "es": "abierta, se cierra el {date}",
    },
    "status_closed": {
        "ar": "مغلقة منذ {date}",
        "zh": "已于{date}截止",
        "en": "closed on {date}",
        "fr": "clos le {date}",
        "ru": "закрыт {date}",
        "es": "cerrada el {date}",
    },
    "moment_utc": {
        "ar": "{date}، {time} (التوقيت العالمي)",
        "zh": "{date} {time}（协调世界时）",
        "en": "{date}, {time} UTC",
        "fr": "{date} à {time} UTC",
        "ru": "{date}, {time} UTC",
        "es": "{date}, {time} UTC",
    },
    "classification_default": {
        "ar": "سرّي",
        "zh": "机密",
        "en": "Confidential",
        "fr": "Confidentiel",
        "ru": "Конфиденциально",
        "es": "Confidencial",
    },
    "confidential_note": {
        "ar": "تعبّر ردود الوفود عن مواقف حكوماتها: لا يُعاد توجيه هذا الموجز إلا إلى قرّائه "
        "المقصودين.",
        "zh": "各代表团的答复代表其政府立场：本摘要仅可转发给预定读者。",
        "en": "Delegations' answers are their Governments' positions: forward this digest only "
        "to its intended readers.",
        "fr": "Les réponses des délégations expriment la position de leur gouvernement{nbsp}: "
        "ne transmettez cette synthèse qu'à ses destinataires.",
        "ru": "Ответы делегаций выражают позиции их правительств: пересылайте эту сводку только "
        "тем, кому она предназначена.",
        "es": "Las respuestas de las delegaciones expresan la posición de sus Gobiernos: "
        "reenvíe este resumen solo a sus destinatarios.",
    },
    # --- Headings --------------------------------------------------------------------------
    "h_summary": {
        "ar": "باختصار",
        "zh": "概要",
        "en": "In brief",
        "fr": "En bref",
        "ru": "Кратко",
        "es": "En resumen",
    },
    "h_change": {
        "ar": "منذ الموجز السابق ({date})",
        "zh": "自上一份摘要（{date}）以来",
        "en": "Since the last digest ({date})",
        "fr": "Depuis la dernière synthèse ({date})",
        "ru": "С момента предыдущей сводки ({date})",
        "es": "Desde el último resumen ({date})",
    },
    "h_rates": {
        "ar": "معدل الردود",
        "zh": "答复率",
        "en": "Response rate",
        "fr": "Taux de réponse",
        "ru": "Доля ответивших",
        "es": "Tasa de respuesta",
    },
    "h_by_region": {
        "ar": "حسب المنطقة",
        "zh": "按区域",
        "en": "By region",
        "fr": "Par région",
        "ru": "По регионам",
        "es": "Por región",
    },
    "h_by_delegation": {
        "ar": "حسب الوفد",
        "zh": "按代表团",
        "en": "By delegation",
        "fr": "Par délégation",
        "ru": "По делегациям",
        "es": "Por delegación",
    },
    "h_pending_open": {
        "ar": "لم تردّ بعد",
        "zh": "尚未答复",
        "en": "Not answered yet",
        "fr": "Pas encore de réponse",
        "ru": "Ещё не ответили",
        "es": "Sin respuesta todavía",
    },
    "h_pending_closed": {
        "ar": "لم تردّ",
        "zh": "未答复",
        "en": "Did not answer",
        "fr": "N'ont pas répondu",
        "ru": "Не ответили",
        "es": "No respondieron",
    },
    "h_themes": {
        "ar": "التوافق مع الأولويات الوطنية، حسب الموضوع",
        "zh": "与国家优先事项的一致程度（按主题）",
        "en": "Alignment with national priorities, by theme",
        "fr": "Alignement sur les priorités nationales, par thème",
        "ru": "Соответствие национальным приоритетам по темам",
        "es": "Alineación con las prioridades nacionales, por tema",
    },
    "h_other": {
        "ar": "أسئلة أخرى",
        "zh": "其他问题",
        "en": "Other questions",
        "fr": "Autres questions",
        "ru": "Прочие вопросы",
        "es": "Otras preguntas",
    },
    "h_comments": {
        "ar": "ملاحظات جديدة",
        "zh": "新意见",
        "en": "New comments",
        "fr": "Nouvelles observations",
        "ru": "Новые замечания",
        "es": "Nuevas observaciones",
    },
    # --- The summary paragraph -------------------------------------------------------------
    "summary_highest": {
        "ar": "التوافق مع الأولويات الوطنية في أعلى مستوياته في موضوع {theme} ({mean}).",
        "zh": "与国家优先事项一致程度最高的主题是{theme}（{mean}）。",
        "en": "Alignment with national priorities is highest for {theme} ({mean}).",
        "fr": "L'alignement sur les priorités nationales est le plus fort pour {theme} ({mean}).",
        "ru": "Соответствие национальным приоритетам наиболее высоко по теме {theme} ({mean}).",
        "es": "La alineación con las prioridades nacionales es mayor en {theme} ({mean}).",
    },
    "summary_highest_tie": {
        "ar": "التوافق مع الأولويات الوطنية في أعلى مستوياته، بالتساوي، في المواضيع التالية: "
        "{themes} ({mean} لكل منها).",
        "zh": "与国家优先事项一致程度最高的主题并列为{themes}（均为{mean}）。",
        "en": "Alignment with national priorities is highest for {themes}, tied at {mean}.",
        "fr": "L'alignement sur les priorités nationales est le plus fort, à égalité, pour "
        "{themes} ({mean} chacun).",
        "ru": "Соответствие национальным приоритетам наиболее высоко, поровну, по темам "
        "{themes} (по {mean}).",
        "es": "La alineación con las prioridades nacionales es mayor, con un empate, en "
        "{themes} ({mean} cada uno).",
    },
    "summary_lowest": {
        "ar": "وهو في أدنى مستوياته في موضوع {theme} ({mean}).",
        "zh": "一致程度最低的主题是{theme}（{mean}）。",
        "en": "It is lowest for {theme} ({mean}).",
        "fr": "Il est le plus faible pour {theme} ({mean}).",
        "ru": "Наиболее низко оно по теме {theme} ({mean}).",
        "es": "Es menor en {theme} ({mean}).",
    },
    "summary_lowest_tie": {
        "ar": "وهو في أدنى مستوياته، بالتساوي، في المواضيع التالية: {themes} ({mean} لكل منها).",
        "zh": "一致程度最低的主题并列为{themes}（均为{mean}）。",
        "en": "It is lowest for {themes}, tied at {mean}.",
        "fr": "Il est le plus faible, à égalité, pour {themes} ({mean} chacun).",
        "ru": "Наиболее низко оно, поровну, по темам {themes} (по {mean}).",
        "es": "Es menor, con un empate, en {themes} ({mean} cada uno).",
    },
    "summary_all_tied": {
        "ar": "التوافق مع الأولويات الوطنية متساوٍ في جميع المواضيع: {mean}.",
        "zh": "各主题与国家优先事项的一致程度相同：{mean}。",
        "en": "Alignment with national priorities is the same for every theme: {mean}.",
        "fr": "L'alignement sur les priorités nationales est le même pour tous les "
        "thèmes{nbsp}: {mean}.",
        "ru": "Соответствие национальным приоритетам одинаково по всем темам: {mean}.",
        "es": "La alineación con las prioridades nacionales es la misma en todos los temas: "
        "{mean}.",
    },
    "summary_one_theme": {
        "ar": "متوسط التوافق مع الأولويات الوطنية في موضوع {theme}: {mean}.",
        "zh": "{theme}与国家优先事项的平均一致程度：{mean}。",
        "en": "Average alignment with national priorities for {theme}: {mean}.",
        "fr": "Alignement moyen sur les priorités nationales pour {theme}{nbsp}: {mean}.",
        "ru": "Среднее соответствие национальным приоритетам по теме {theme}: {mean}.",
        "es": "Alineación media con las prioridades nacionales en {theme}: {mean}.",
    },
    "summary_no_scores": {
        "ar": "لم تُقدَّم أي درجات للتوافق بعد.",
        "zh": "尚无一致程度评分。",
        "en": "No alignment scores have been given yet.",
        "fr": "Aucune note d'alignement n'a encore été donnée.",
        "ru": "Оценок соответствия пока нет.",
        "es": "Todavía no se ha dado ninguna puntuación de alineación.",
    },
    "summary_no_scores_closed": {
        "ar": "لم تُقدَّم أي درجات للتوافق.",
        "zh": "未收到任何一致程度评分。",
        "en": "No alignment scores were given.",
        "fr": "Aucune note d'alignement n'a été donnée.",
        "ru": "Оценок соответствия не поступило.",
        "es": "No se dio ninguna puntuación de alineación.",
    },
    "summary_suppressed": {
        "ar": "لا تُعرض درجات التوافق: الجولة مجهولة الهوية وعدد ردودها أقل من الحد الأدنى لحجم "
        "المجموعة ({min}).",
        "zh": "未显示一致程度评分：本轮为匿名轮次，答复数少于最小组规模（{min}）。",
        "en": "Alignment scores are not shown: the round is anonymous and has fewer responses "
        "than the minimum group size ({min}).",
        "fr": "Les notes d'alignement ne sont pas affichées{nbsp}: le cycle est anonyme et compte "
        "moins de réponses que la taille minimale de groupe ({min}).",
        "ru": "Оценки соответствия не показаны: раунд анонимный, и ответов в нём меньше "
        "минимального размера группы ({min}).",
        "es": "Las puntuaciones de alineación no se muestran: la ronda es anónima y tiene menos "
        "respuestas que el tamaño mínimo de grupo ({min}).",
    },
    "summary_no_change": {
        "ar": "لم يردّ أي وفد منذ الموجز السابق ({date}).",
        "zh": "自上一份摘要（{date}）以来，没有新的代表团答复。",
        "en": "No delegation has answered since the last digest ({date}).",
        "fr": "Aucune délégation n'a répondu depuis la dernière synthèse ({date}).",
        "ru": "С момента предыдущей сводки ({date}) ни одна делегация не ответила.",
        "es": "Ninguna delegación ha respondido desde el último resumen ({date}).",
    },
    "summary_first": {
        "ar": "هذا هو الموجز الأول لهذه الجولة.",
        "zh": "这是本轮的第一份摘要。",
        "en": "This is the first digest of this round.",
        "fr": "Il s'agit de la première synthèse de ce cycle.",
        "ru": "Это первая сводка по данному раунду.",
        "es": "Este es el primer resumen de esta ronda.",
    },
    "summary_closes": {
        "ar": "تُغلق الجولة في {date}.",
        "zh": "本轮将于{date}截止。",
        "en": "The round closes on {date}.",
        "fr": "Le cycle sera clos le {date}.",
        "ru": "Раунд закрывается {date}.",
        "es": "La ronda se cierra el {date}.",
    },
    "summary_closed": {
        "ar": "أُغلقت الجولة في {date}؛ وتُحفظ الردود التي لم تُقدَّم حتى ذلك الحين بوصفها ردودًا جزئية.",
        "zh": "本轮已于{date}截止；届时尚未提交的答复作为部分答复保留。",
        "en": "The round closed on {date}; answers not submitted by then are kept as partial.",
        "fr": "Le cycle a été clos le {date}{nbsp}; les réponses non soumises à cette date sont "
        "conservées comme partielles.",
        "ru": "Раунд закрыт {date}; ответы, не отправленные к этому времени, сохранены как "
        "частичные.",
        "es": "La ronda se cerró el {date}; las respuestas no enviadas para entonces se "
        "conservan como parciales.",
    },
    "quoted": {
        "ar": "«{text}»",
        "zh": "“{text}”",
        "en": "{text}",
        "fr": "«{nbsp}{text}{nbsp}»",
        "ru": "«{text}»",
        "es": "«{text}»",
    },
    # --- Notes -----------------------------------------------------------------------------
    "note_answered": {
        "ar": "يُعدّ الوفد قد ردّ متى قدّم أحد مندوبيه على الأقل ردوده.",
        "zh": "只要代表团中至少有一名代表提交了答复，即视为该代表团已答复。",
        "en": "A delegation counts as answered when at least one of its delegates has submitted.",
        "fr": "Une délégation est comptée comme ayant répondu dès que l'un de ses délégués a "
        "soumis ses réponses.",
        "ru": "Делегация считается ответившей, если хотя бы один из её делегатов отправил ответы.",
        "es": "Una delegación cuenta como que ha respondido cuando al menos uno de sus "
        "delegados ha enviado sus respuestas.",
    },
    "note_counted_open": {
        "ar": "تستند الدرجات والأعداد إلى الردود المقدَّمة. ولا تُحتسب الردود التي لا تزال قيد "
        "الإعداد، لأنها قد تتغير.",
        "zh": "评分和计数依据已提交的答复。仍在填写中的答复不计入，因为其内容可能变化。",
        "en": "Scores and counts use the answers of submitted responses. Answers still in "
        "progress are not counted, as they may change.",
        "fr": "Les notes et décomptes portent sur les réponses soumises. Les réponses en cours "
        "ne sont pas comptées, car elles peuvent encore changer.",
        "ru": "Оценки и подсчёты основаны на отправленных ответах. Незавершённые ответы не "
        "учитываются, поскольку они ещё могут измениться.",
        "es": "Las puntuaciones y los recuentos usan las respuestas enviadas. Las respuestas "
        "en curso no se cuentan, porque aún pueden cambiar.",
    },
    "note_counted_closed": {
        "ar": "تستند الدرجات والأعداد إلى الردود المقدَّمة والجزئية (الجزئية: أُغلقت الجولة قبل "
        "أن يقدّمها المندوب).",
        "zh": "评分和计数依据已提交的答复和部分答复（部分答复：代表提交前本轮已截止）。",
        "en": "Scores and counts use the answers of submitted and partial responses (partial: "
        "the round closed before the delegate submitted).",
        "fr": "Les notes et décomptes portent sur les réponses soumises et partielles "
        "(partielles{nbsp}: le cycle a été clos avant leur soumission).",
        "ru": "Оценки и подсчёты основаны на отправленных и частичных ответах (частичные: "
        "раунд закрылся до того, как делегат отправил ответы).",
        "es": "Las puntuaciones y los recuentos usan las respuestas enviadas y parciales "
        "(parciales: la ronda se cerró antes del envío).",
    },
    "comments_since": {
        "ar": "الملاحظات المقدَّمة أو المعدَّلة منذ الموجز السابق ({date}).",
        "zh": "自上一份摘要（{date}）以来提出或修改的意见。",
        "en": "Comments given or changed since the last digest ({date}).",
        "fr": "Observations formulées ou modifiées depuis la dernière synthèse ({date}).",
        "ru": "Замечания, поступившие или изменённые после предыдущей сводки ({date}).",
        "es": "Observaciones formuladas o modificadas desde el último resumen ({date}).",
    },
    "comments_all": {
        "ar": "جميع الملاحظات حتى الآن: هذا هو الموجز الأول للجولة.",
        "zh": "迄今为止的全部意见：这是本轮的第一份摘要。",
        "en": "All comments so far: this is the round's first digest.",
        "fr": "Toutes les observations à ce jour{nbsp}: il s'agit de la première synthèse du "
        "cycle.",
        "ru": "Все замечания на данный момент: это первая сводка по раунду.",
        "es": "Todas las observaciones hasta la fecha: es el primer resumen de la ronda.",
    },
    "no_comments": {
        "ar": "لا توجد ملاحظات جديدة.",
        "zh": "没有新意见。",
        "en": "No new comments.",
        "fr": "Aucune nouvelle observation.",
        "ru": "Новых замечаний нет.",
        "es": "Ninguna observación nueva.",
    },
    "everyone_answered": {
        "ar": "ردّت جميع الوفود.",
        "zh": "所有代表团均已答复。",
        "en": "Every delegation has answered.",
        "fr": "Toutes les délégations ont répondu.",
        "ru": "Ответили все делегации.",
        "es": "Todas las delegaciones han respondido.",
    },
    "first_digest": {
        "ar": "الموجز الأول لهذه الجولة: لا يوجد ما يُقارَن به بعد.",
        "zh": "本轮第一份摘要：尚无可比较的内容。",
        "en": "First digest of this round: nothing to compare with yet.",
        "fr": "Première synthèse de ce cycle{nbsp}: rien à comparer pour l'instant.",
        "ru": "Первая сводка по раунду: сравнивать пока не с чем.",
        "es": "Primer resumen de esta ronda: todavía no hay nada con qué comparar.",
    },
    "full_digest": {
        "ar": "الموجز الكامل: {files}",
        "zh": "完整摘要：{files}",
        "en": "Full digest: {files}",
        "fr": "Synthèse complète{nbsp}: {files}",
        "ru": "Полная сводка: {files}",
        "es": "Resumen completo: {files}",
    },
    # --- Lines -----------------------------------------------------------------------------
    "line_delegations": {
        "ar": "الوفود: ردّ منها {answered} من أصل {invited} ({rate})",
        "zh": "代表团：{invited}个中已有{answered}个答复（{rate}）",
        "en": "Delegations: {answered} of {invited} answered ({rate})",
        "fr": "Délégations{nbsp}: {answered} sur {invited} ont répondu ({rate})",
        "ru": "Делегации: ответили {answered} из {invited} ({rate})",
        "es": "Delegaciones: {answered} de {invited} han respondido ({rate})",
    },
    "line_participants": {
        "ar": "المندوبون: قدّم {submitted} ردودهم، و{partial} جزئية، و{in_progress} قيد "
        "الإعداد، و{not_started} لم يبدؤوا، من أصل {invited} مدعوًّا",
        "zh": "代表：共邀请{invited}人，其中已提交{submitted}人，部分答复{partial}人，"
        "填写中{in_progress}人，未开始{not_started}人",
        "en": "Delegates: {submitted} submitted, {partial} partial, {in_progress} in progress, "
        "{not_started} not started, of {invited} invited",
        "fr": "Délégués{nbsp}: {submitted} ont soumis, {partial} partiels, {in_progress} en "
        "cours, {not_started} n'ont pas commencé, sur {invited} invités",
        "ru": "Делегаты: отправили {submitted}, частично {partial}, в процессе "
        "{in_progress}, не начинали {not_started}, всего приглашено {invited}",
        "es": "Delegados: {submitted} enviados, {partial} parciales, {in_progress} en curso, "
        "{not_started} sin empezar, de {invited} invitados",
    },
    "line_region": {
        "ar": "{region}: {answered} من أصل {delegations} ({rate})",
        "zh": "{region}：{delegations}个代表团中{answered}个（{rate}）",
        "en": "{region}: {answered} of {delegations} delegations ({rate})",
        "fr": "{region}{nbsp}: {answered} délégations sur {delegations} ({rate})",
        "ru": "{region}: {answered} из {delegations} ({rate})",
        "es": "{region}: {answered} de {delegations} delegaciones ({rate})",
    },
    "change_delegations": {
        "ar": "الوفود التي ردّت: {answered} ({delta}؛ معدل الردود {points} نقطة مئوية)",
        "zh": "已答复的代表团：{answered}（{delta}；答复率变化{points}个百分点）",
        "en": "Delegations answered: {answered} ({delta}; response rate {points} points)",
        "fr": "Délégations ayant répondu{nbsp}: {answered} ({delta}{nbsp}; taux de réponse "
        "{points} points)",
        "ru": "Ответившие делегации: {answered} ({delta}; доля ответивших {points} п. п.)",
        "es": "Delegaciones que han respondido: {answered} ({delta}; tasa de respuesta "
        "{points} puntos)",
    },
    "change_participants": {
        "ar": "المندوبون الذين قدّموا ردودهم: {submitted} ({delta})",
        "zh": "已提交答复的代表：{submitted}（{delta}）",
        "en": "Delegates who submitted: {submitted} ({delta})",
        "fr": "Délégués ayant soumis{nbsp}: {submitted} ({delta})",
        "ru": "Делегаты, отправившие ответы: {submitted} ({delta})",
        "es": "Delegados que han enviado: {submitted} ({delta})",
    },
    "change_theme": {
        "ar": "{theme}: {mean} ({delta})",
        "zh": "{theme}：{mean}（{delta}）",
        "en": "{theme}: {mean} ({delta})",
        "fr": "{theme}{nbsp}: {mean} ({delta})",
        "ru": "{theme}: {mean} ({delta})",
        "es": "{theme}: {mean} ({delta})",
    },
    "mean_line": {
        "ar": "متوسط التوافق {mean} (عدد الردود: {n})",
        "zh": "平均一致程度{mean}（n = {n}）",
        "en": "Mean alignment {mean} (n = {n})",
        "fr": "Alignement moyen {mean} (n = {n})",
        "ru": "Среднее соответствие {mean} (n = {n})",
        "es": "Alineación media {mean} (n = {n})",
    },
    "mean_delta": {
        "ar": "{mean}، {delta} منذ الموجز السابق",
        "zh": "{mean}，较上一份摘要{delta}",
        "en": "{mean}, {delta} since the last digest",
        "fr": "{mean}, {delta} depuis la dernière synthèse",
        "ru": "{mean}, {delta} с момента предыдущей сводки",
        "es": "{mean}, {delta} desde el último resumen",
    },
    "mean_of": {
        "ar": "{mean} من {high}",
        "zh": "{mean}（满分{high}）",
        "en": "{mean} out of {high}",
        "fr": "{mean} sur {high}",
        "ru": "{mean} из {high}",
        "es": "{mean} de {high}",
    },
    "suppressed": {
        "ar": "غير معروض (جولة مجهولة الهوية): عدد الردود هنا أقل من الحد الأدنى لحجم المجموعة "
        "({min}).",
        "zh": "未显示（匿名轮次）：此处答复数少于最小组规模（{min}）。",
        "en": "Not shown (anonymous round): fewer responses here than the minimum group size "
        "({min}).",
        "fr": "Non affiché (cycle anonyme){nbsp}: moins de réponses ici que la taille minimale de "
        "groupe ({min}).",
        "ru": "Не показано (анонимный раунд): ответов здесь меньше минимального размера группы "
        "({min}).",
        "es": "No se muestra (ronda anónima): hay aquí menos respuestas que el tamaño mínimo de "
        "grupo ({min}).",
    },
    "status_count": {
        "ar": "{status}: {count}",
        "zh": "{status}：{count}",
        "en": "{status}: {count}",
        "fr": "{status}{nbsp}: {count}",
        "ru": "{status}: {count}",
        "es": "{status}: {count}",
    },
    "no_answers_open": {
        "ar": "لا توجد ردود بعد.",
        "zh": "尚无答复。",
        "en": "No answers yet.",
        "fr": "Pas encore de réponse.",
        "ru": "Ответов пока нет.",
        "es": "Todavía no hay respuestas.",
    },
    "no_answers_closed": {
        "ar": "لم ترد أي ردود.",
        "zh": "没有答复。",
        "en": "No answers.",
        "fr": "Aucune réponse.",
        "ru": "Ответов нет.",
        "es": "Sin respuestas.",
    },
    "choice_n": {
        "ar": "عدد الردود: {n}",
        "zh": "n = {n}",
        "en": "n = {n}",
        "fr": "n = {n}",
        "ru": "n = {n}",
        "es": "n = {n}",
    },
    "choice_n_multiple": {
        "ar": "عدد الردود: {n}، يمكن اختيار أكثر من إجابة",
        "zh": "n = {n}，可多选",
        "en": "n = {n}, several answers possible",
        "fr": "n = {n}, plusieurs réponses possibles",
        "ru": "n = {n}, возможно несколько ответов",
        "es": "n = {n}, varias respuestas posibles",
    },
    "option_count": {
        "ar": "{option}: {count} ({share})",
        "zh": "{option}：{count}（{share}）",
        "en": "{option}: {count} ({share})",
        "fr": "{option}{nbsp}: {count} ({share})",
        "ru": "{option}: {count} ({share})",
        "es": "{option}: {count} ({share})",
    },
    "not_chosen": {
        "ar": "لم يُختر: {options}",
        "zh": "无人选择：{options}",
        "en": "Not chosen: {options}",
        "fr": "Non choisi{nbsp}: {options}",
        "ru": "Никто не выбрал: {options}",
        "es": "Sin elegir: {options}",
    },
    "others_heading": {
        "ar": "{option}، على النحو المحدَّد:",
        "zh": "{option}，具体说明：",
        "en": "{option}, as specified:",
        "fr": "{option}, précisé{nbsp}:",
        "ru": "{option}, с уточнением:",
        "es": "{option}, según se especificó:",
    },
    "no_delegation": {
        "ar": "بلا وفد",
        "zh": "无代表团",
        "en": "No delegation",
        "fr": "Sans délégation",
        "ru": "Без делегации",
        "es": "Sin delegación",
    },
    "no_region": {
        "ar": "بلا منطقة",
        "zh": "无区域",
        "en": "No region",
        "fr": "Sans région",
        "ru": "Без региона",
        "es": "Sin región",
    },
    # --- Table columns ---------------------------------------------------------------------
    "col_region": {
        "ar": "المنطقة",
        "zh": "区域",
        "en": "Region",
        "fr": "Région",
        "ru": "Регион",
        "es": "Región",
    },
    "col_delegation": {
        "ar": "الوفد",
        "zh": "代表团",
        "en": "Delegation",
        "fr": "Délégation",
        "ru": "Делегация",
        "es": "Delegación",
    },
    "col_delegations": {
        "ar": "الوفود التي ردّت",
        "zh": "已答复的代表团",
        "en": "Delegations answered",
        "fr": "Délégations ayant répondu",
        "ru": "Ответившие делегации",
        "es": "Delegaciones que han respondido",
    },
    "col_answered": {
        "ar": "ردّ",
        "zh": "已答复",
        "en": "Answered",
        "fr": "A répondu",
        "ru": "Ответила",
        "es": "Ha respondido",
    },
    "col_rate": {
        "ar": "المعدل",
        "zh": "比率",
        "en": "Rate",
        "fr": "Taux",
        "ru": "Доля",
        "es": "Tasa",
    },
    "col_invited": {
        "ar": "المدعوّون",
        "zh": "受邀",
        "en": "Invited",
        "fr": "Invités",
        "ru": "Приглашено",
        "es": "Invitados",
    },
    "col_submitted": {
        "ar": "مقدَّمة",
        "zh": "已提交",
        "en": "Submitted",
        "fr": "Soumis",
        "ru": "Отправили",
        "es": "Enviados",
    },
    "col_partial": {
        "ar": "جزئية",
        "zh": "部分",
        "en": "Partial",
        "fr": "Partiels",
        "ru": "Частично",
        "es": "Parciales",
    },
    "col_in_progress": {
        "ar": "قيد الإعداد",
        "zh": "填写中",
        "en": "In progress",
        "fr": "En cours",
        "ru": "В процессе",
        "es": "En curso",
    },
    "col_not_started": {
        "ar": "لم يبدأ",
        "zh": "未开始",
        "en": "Not started",
        "fr": "Pas commencé",
        "ru": "Не начинали",
        "es": "Sin empezar",
    },
    "col_score": {
        "ar": "الدرجة",
        "zh": "评分",
        "en": "Score",
        "fr": "Note",
        "ru": "Оценка",
        "es": "Puntuación",
    },
    "col_answers": {
        "ar": "الردود",
        "zh": "答复数",
        "en": "Answers",
        "fr": "Réponses",
        "ru": "Ответы",
        "es": "Respuestas",
    },
    "col_share": {
        "ar": "النسبة",
        "zh": "占比",
        "en": "Share",
        "fr": "Part",
        "ru": "Доля",
        "es": "Porcentaje",
    },
    "col_option": {
        "ar": "الخيار",
        "zh": "选项",
        "en": "Option",
        "fr": "Option",
        "ru": "Вариант",
        "es": "Opción",
    },
    "yes": {"ar": "نعم", "zh": "是", "en": "yes", "fr": "oui", "ru": "да", "es": "sí"},
    "no": {"ar": "لا", "zh": "否", "en": "no", "fr": "non", "ru": "нет", "es": "no"},
    # --- Statuses --------------------------------------------------------------------------
    "status_not_started": {
        "ar": "لم يبدأ",
        "zh": "未开始",
        "en": "not started",
        "fr": "pas commencé",
        "ru": "не начинал(а)",
        "es": "sin empezar",
    },
    "status_in_progress": {
        "ar": "قيد الإعداد",
        "zh": "填写中",
        "en": "in progress",
        "fr": "en cours",
        "ru": "в процессе",
        "es": "en curso",
    },
    "status_submitted": {
        "ar": "قدّم ردوده",
        "zh": "已提交",
        "en": "submitted",
        "fr": "soumis",
        "ru": "отправил(а)",
        "es": "enviado",
    },
    "status_partial": {
        "ar": "جزئي (أُغلقت الجولة)",
        "zh": "部分答复（本轮已截止）",
        "en": "partial (round closed)",
        "fr": "partiel (cycle clos)",
        "ru": "частично (раунд закрыт)",
        "es": "parcial (ronda cerrada)",
    },
    # --- Chart -----------------------------------------------------------------------------
    "chart_alignment": {
        "ar": "التوافق مع الأولويات الوطنية، حسب الموضوع (% من الردود)",
        "zh": "与国家优先事项的一致程度（按主题，占答复的百分比）",
        "en": "Alignment with national priorities, by theme (% of answers)",
        "fr": "Alignement sur les priorités nationales, par thème (% des réponses)",
        "ru": "Соответствие национальным приоритетам по темам (% ответов)",
        "es": "Alineación con las prioridades nacionales, por tema (% de respuestas)",
    },
    "chart_theme_stats": {
        "ar": "المتوسط {mean} · عدد الردود: {n}",
        "zh": "平均{mean} · n = {n}",
        "en": "mean {mean} · n = {n}",
        "fr": "moyenne {mean} · n = {n}",
        "ru": "среднее {mean} · n = {n}",
        "es": "media {mean} · n = {n}",
    },
    "chart_progress": {
        "ar": "معدل الردود بمرور الوقت",
        "zh": "答复率随时间的变化",
        "en": "Response rate over time",
        "fr": "Évolution du taux de réponse",
        "ru": "Доля ответивших во времени",
        "es": "Evolución de la tasa de respuesta",
    },
    "chart_rate_axis": {
        "ar": "% من المدعوّين",
        "zh": "占受邀者的百分比",
        "en": "% of those invited",
        "fr": "% des invités",
        "ru": "% приглашённых",
        "es": "% de los invitados",
    },
    "chart_time_axis": {
        "ar": "التاريخ (التوقيت العالمي)",
        "zh": "日期（协调世界时）",
        "en": "Date (UTC)",
        "fr": "Date (UTC)",
        "ru": "Дата (UTC)",
        "es": "Fecha (UTC)",
    },
    "chart_delegations": {
        "ar": "الوفود التي ردّت",
        "zh": "已答复的代表团",
        "en": "Delegations answered",
        "fr": "Délégations ayant répondu",
        "ru": "Ответившие делегации",
        "es": "Delegaciones que han respondido",
    },
    "chart_participants": {
        "ar": "المندوبون الذين قدّموا ردودهم",
        "zh": "已提交答复的代表",
        "en": "Delegates who submitted",
        "fr": "Délégués ayant soumis",
        "ru": "Делегаты, отправившие ответы",
        "es": "Delegados que han enviado",
    },
    "chart_both": {
        "ar": "الوفود التي ردّت والمندوبون الذين قدّموا ردودهم (متطابقان)",
        "zh": "已答复的代表团与已提交答复的代表（两者相同）",
        "en": "Delegations answered and delegates who submitted (the same)",
        "fr": "Délégations ayant répondu et délégués ayant soumis (identiques)",
        "ru": "Ответившие делегации и делегаты, отправившие ответы (совпадают)",
        "es": "Delegaciones que han respondido y delegados que han enviado (coinciden)",
    },
    "chart_opened": {
        "ar": "الافتتاح",
        "zh": "开放",
        "en": "Opened",
        "fr": "Ouverture",
        "ru": "Открытие",
        "es": "Apertura",
    },
    "chart_closes": {
        "ar": "موعد الإغلاق",
        "zh": "截止时间",
        "en": "Closes",
        "fr": "Clôture prévue",
        "ru": "Закрытие",
        "es": "Cierre previsto",
    },
    "chart_closed": {
        "ar": "الإغلاق",
        "zh": "已截止",
        "en": "Closed",
        "fr": "Clôture",
        "ru": "Закрыт",
        "es": "Cierre",
    },
    "chart_now": {
        "ar": "الآن",
        "zh": "当前",
        "en": "Now",
        "fr": "Maintenant",
        "ru": "Сейчас",
        "es": "Ahora",
    },
    "chart_no_scores": {
        "ar": "لا توجد درجات بعد",
        "zh": "尚无评分",
        "en": "No scores yet",
        "fr": "Pas encore de notes",
        "ru": "Оценок пока нет",
        "es": "Todavía no hay puntuaciones",
    },
    "chart_suppressed": {
        "ar": "غير معروض: جولة مجهولة الهوية، مجموعة أصغر من {min}",
        "zh": "未显示：匿名轮次，组规模小于{min}",
        "en": "Not shown: anonymous round, group under {min}",
        "fr": "Non affiché{nbsp}: cycle anonyme, groupe de moins de {min}",
        "ru": "Не показано: анонимный раунд, группа меньше {min}",
        "es": "No se muestra: ronda anónima, grupo de menos de {min}",
    },
    "chart_alt": {
        "ar": "رسم بياني: التوافق مع الأولويات الوطنية حسب الموضوع، ومعدل الردود بمرور الوقت",
        "zh": "图表：各主题与国家优先事项的一致程度，以及答复率随时间的变化",
        "en": "Chart: alignment with national priorities by theme, and response rate over time",
        "fr": "Graphique{nbsp}: alignement sur les priorités nationales par thème et évolution "
        "du taux de réponse",
        "ru": "Диаграмма: соответствие национальным приоритетам по темам и доля ответивших во "
        "времени",
        "es": "Gráfico: alineación con las prioridades nacionales por tema y evolución de la "
        "tasa de respuesta",
    },
}
"""Digest text key -> language -> ``str.format`` template."""

PLURALS: dict[str, dict[str, dict[str, str]]] = {
    "summary_rate": {
        "ar": {
            "zero": "لم يردّ أي وفد من أصل {invited} حتى الآن ({rate}).",
            "one": "ردّ وفد واحد من أصل {invited} ({rate}).",
            "two": "ردّ وفدان من أصل {invited} ({rate}).",
            "few": "ردّت {count} وفود من أصل {invited} ({rate}).",
            "many": "ردّ {count} وفدًا من أصل {invited} ({rate}).",
            "other": "ردّ {count} وفد من أصل {invited} ({rate}).",
        },
        "zh": {"other": "{invited}个代表团中已有{count}个答复（{rate}）。"},
        "en": {
            "one": "{count} of {invited} delegations has answered ({rate}).",
            "other": "{count} of {invited} delegations have answered ({rate}).",
        },
        "fr": {
            "one": "{count} délégation sur {invited} a répondu ({rate}).",
            "many": "{count} de délégations sur {invited} ont répondu ({rate}).",
            "other": "{count} délégations sur {invited} ont répondu ({rate}).",
        },
        "ru": {
            "one": "Ответила {count} делегация из {invited} ({rate}).",
            "few": "Ответили {count} делегации из {invited} ({rate}).",
            "many": "Ответили {count} делегаций из {invited} ({rate}).",
            "other": "Ответили {count} делегации из {invited} ({rate}).",
        },
        "es": {
            "one": "{count} de {invited} delegaciones ha respondido ({rate}).",
            "many": "{count} de {invited} delegaciones han respondido ({rate}).",
            "other": "{count} de {invited} delegaciones han respondido ({rate}).",
        },
    },
    "summary_started_open": {
        "ar": {
            "zero": "لم يبدأ أي وفد آخر.",
            "one": "وبدأ وفد آخر دون أن يقدّم ردوده بعد.",
            "two": "وبدأ وفدان آخران دون أن يقدّما ردودهما بعد.",
            "few": "وبدأت {count} وفود أخرى دون أن تقدّم ردودها بعد.",
            "many": "وبدأ {count} وفدًا آخر دون أن تقدّم ردودها بعد.",
            "other": "وبدأ {count} وفد آخر دون أن تقدّم ردودها بعد.",
        },
        "zh": {"other": "另有{count}个代表团已开始填写但尚未提交。"},
        "en": {
            "one": "{count} more has started but not submitted yet.",
            "other": "{count} more have started but not submitted yet.",
        },
        "fr": {
            "one": "{count} autre a commencé sans avoir encore soumis ses réponses.",
            "many": "{count} d'autres ont commencé sans avoir encore soumis leurs réponses.",
            "other": "{count} autres ont commencé sans avoir encore soumis leurs réponses.",
        },
        "ru": {
            "one": "Ещё {count} делегация начала, но пока не отправила ответы.",
            "few": "Ещё {count} делегации начали, но пока не отправили ответы.",
            "many": "Ещё {count} делегаций начали, но пока не отправили ответы.",
            "other": "Ещё {count} делегации начали, но пока не отправили ответы.",
        },
        "es": {
            "one": "Otra {count} ha empezado pero aún no ha enviado sus respuestas.",
            "many": "Otras {count} han empezado pero aún no han enviado sus respuestas.",
            "other": "Otras {count} han empezado pero aún no han enviado sus respuestas.",
        },
    },
    "summary_started_closed": {
        "ar": {
            "zero": "لم يترك أي وفد آخر ردودًا جزئية.",
            "one": "وبدأ وفد آخر دون أن يقدّم ردوده؛ وتُحفظ ردوده بوصفها جزئية.",
            "two": "وبدأ وفدان آخران دون أن يقدّما ردودهما؛ وتُحفظ ردودهما بوصفها جزئية.",
            "few": "وبدأت {count} وفود أخرى دون أن تقدّم ردودها؛ وتُحفظ ردودها بوصفها جزئية.",
            "many": "وبدأ {count} وفدًا آخر دون أن تقدّم ردودها؛ وتُحفظ ردودها بوصفها جزئية.",
            "other": "وبدأ {count} وفد آخر دون أن تقدّم ردودها؛ وتُحفظ ردودها بوصفها جزئية.",
        },
        "zh": {"other": "另有{count}个代表团开始填写但未提交；其答复作为部分答复保留。"},
        "en": {
            "one": "{count} more started but did not submit; its answers are kept as partial.",
            "other": "{count} more started but did not submit; their answers are kept as partial.",
        },
        "fr": {
            "one": "{count} autre a commencé sans soumettre ses réponses{nbsp}; elles sont "
            "conservées comme partielles.",
            "many": "{count} d'autres ont commencé sans soumettre leurs réponses{nbsp}; elles "
            "sont conservées comme partielles.",
            "other": "{count} autres ont commencé sans soumettre leurs réponses{nbsp}; elles "
            "sont conservées comme partielles.",
        },
        "ru": {
            "one": "Ещё {count} делегация начала, но не отправила ответы; они сохранены как "
            "частичные.",
            "few": "Ещё {count} делегации начали, но не отправили ответы; они сохранены как "
            "частичные.",
            "many": "Ещё {count} делегаций начали, но не отправили ответы; они сохранены как "
            "частичные.",
            "other": "Ещё {count} делегации начали, но не отправили ответы; они сохранены как "
            "частичные.",
        },
        "es": {
            "one": "Otra {count} empezó pero no envió sus respuestas; se conservan como parciales.",
            "many": "Otras {count} empezaron pero no enviaron sus respuestas; se conservan como "
            "parciales.",
            "other": "Otras {count} empezaron pero no enviaron sus respuestas; se conservan "
            "como parciales.",
        },
    },
    "summary_untouched_open": {
        "ar": {
            "zero": "وبدأت جميع الوفود.",
            "one": "ولم يبدأ وفد واحد بعد.",
            "two": "ولم يبدأ وفدان بعد.",
            "few": "ولم تبدأ {count} وفود بعد.",
            "many": "ولم يبدأ {count} وفدًا بعد.",
            "other": "ولم يبدأ {count} وفد بعد.",
        },
        "zh": {"other": "{count}个代表团尚未开始。"},
        "en": {"one": "{count} has not started.", "other": "{count} have not started."},
        "fr": {
            "one": "{count} n'a pas commencé.",
            "many": "{count} de délégations n'ont pas commencé.",
            "other": "{count} n'ont pas commencé.",
        },
        "ru": {
            "one": "{count} делегация ещё не начинала.",
            "few": "{count} делегации ещё не начинали.",
            "many": "{count} делегаций ещё не начинали.",
            "other": "{count} делегации ещё не начинали.",
        },
        "es": {
            "one": "{count} no ha empezado.",
            "many": "{count} no han empezado.",
            "other": "{count} no han empezado.",
        },
    },
    "summary_untouched_closed": {
        "ar": {
            "zero": "وبدأت جميع الوفود.",
            "one": "ولم يبدأ وفد واحد.",
            "two": "ولم يبدأ وفدان.",
            "few": "ولم تبدأ {count} وفود.",
            "many": "ولم يبدأ {count} وفدًا.",
            "other": "ولم يبدأ {count} وفد.",
        },
        "zh": {"other": "{count}个代表团未开始填写。"},
        "en": {"one": "{count} did not start.", "other": "{count} did not start."},
        "fr": {
            "one": "{count} n'a pas commencé.",
            "many": "{count} de délégations n'ont pas commencé.",
            "other": "{count} n'ont pas commencé.",
        },
        "ru": {
            "one": "{count} делегация так и не начала.",
            "few": "{count} делегации так и не начали.",
            "many": "{count} делегаций так и не начали.",
            "other": "{count} делегации так и не начали.",
        },
        "es": {
            "one": "{count} no empezó.",
            "many": "{count} no empezaron.",
            "other": "{count} no empezaron.",
        },
    },
    "summary_change": {
        "ar": {
            "zero": "لم يردّ أي وفد آخر منذ الموجز السابق ({date}).",
            "one": "ردّ وفد آخر منذ الموجز السابق ({date}).",
            "two": "ردّ وفدان آخران منذ الموجز السابق ({date}).",
            "few": "ردّت {count} وفود أخرى منذ الموجز السابق ({date}).",
            "many": "ردّ {count} وفدًا آخر منذ الموجز السابق ({date}).",
            "other": "ردّ {count} وفد آخر منذ الموجز السابق ({date}).",
        },
        "zh": {"other": "自上一份摘要（{date}）以来，又有{count}个代表团答复。"},
        "en": {
            "one": "Since the last digest ({date}), {count} more delegation has answered.",
            "other": "Since the last digest ({date}), {count} more delegations have answered.",
        },
        "fr": {
            "one": "Depuis la dernière synthèse ({date}), {count} délégation de plus a répondu.",
            "many": "Depuis la dernière synthèse ({date}), {count} de délégations de plus ont "
            "répondu.",
            "other": "Depuis la dernière synthèse ({date}), {count} délégations de plus ont "
            "répondu.",
        },
        "ru": {
            "one": "С момента предыдущей сводки ({date}) ответила ещё {count} делегация.",
            "few": "С момента предыдущей сводки ({date}) ответили ещё {count} делегации.",
            "many": "С момента предыдущей сводки ({date}) ответили ещё {count} делегаций.",
            "other": "С момента предыдущей сводки ({date}) ответили ещё {count} делегации.",
        },
        "es": {
            "one": "Desde el último resumen ({date}), ha respondido {count} delegación más.",
            "many": "Desde el último resumen ({date}), han respondido {count} delegaciones más.",
            "other": "Desde el último resumen ({date}), han respondido {count} delegaciones más.",
        },
    },
    "summary_comments": {
        "ar": {
            "zero": "لا توجد ملاحظات جديدة.",
            "one": "هناك ملاحظة جديدة واحدة.",
            "two": "هناك ملاحظتان جديدتان.",
            "few": "هناك {count} ملاحظات جديدة.",
            "many": "هناك {count} ملاحظة جديدة.",
            "other": "هناك {count} ملاحظة جديدة.",
        },
        "zh": {"other": "有{count}条新意见。"},
        "en": {
            "one": "There is {count} new comment.",
            "other": "There are {count} new comments.",
        },
        "fr": {
            "one": "{count} nouvelle observation a été formulée.",
            "many": "{count} de nouvelles observations ont été formulées.",
            "other": "{count} nouvelles observations ont été formulées.",
        },
        "ru": {
            "one": "Поступило {count} новое замечание.",
            "few": "Поступило {count} новых замечания.",
            "many": "Поступило {count} новых замечаний.",
            "other": "Поступило {count} нового замечания.",
        },
        "es": {
            "one": "Hay {count} observación nueva.",
            "many": "Hay {count} de observaciones nuevas.",
            "other": "Hay {count} observaciones nuevas.",
        },
    },
    "more_comments": {
        "ar": {
            "zero": "لا توجد ملاحظات أخرى.",
            "one": "…وملاحظة أخرى في الموجز الكامل.",
            "two": "…وملاحظتان أخريان في الموجز الكامل.",
            "few": "…و{count} ملاحظات أخرى في الموجز الكامل.",
            "many": "…و{count} ملاحظة أخرى في الموجز الكامل.",
            "other": "…و{count} ملاحظة أخرى في الموجز الكامل.",
        },
        "zh": {"other": "……另有{count}条，见完整摘要。"},
        "en": {
            "one": "…and {count} more in the full digest.",
            "other": "…and {count} more in the full digest.",
        },
        "fr": {
            "one": "…et {count} de plus dans la synthèse complète.",
            "many": "…et {count} de plus dans la synthèse complète.",
            "other": "…et {count} de plus dans la synthèse complète.",
        },
        "ru": {
            "one": "…и ещё {count} в полной сводке.",
            "few": "…и ещё {count} в полной сводке.",
            "many": "…и ещё {count} в полной сводке.",
            "other": "…и ещё {count} в полной сводке.",
        },
        "es": {
            "one": "…y {count} más en el resumen completo.",
            "many": "…y {count} más en el resumen completo.",
            "other": "…y {count} más en el resumen completo.",
        },
    },
}
"""Digest text key -> language -> CLDR plural category -> ``str.format`` template."""


__all__ = ["DIGEST_LANGUAGES", "PLURALS", "TEXTS"]
