"""Which intent a short Russian answer means: yes / no / repeat / operator / optout / later /
wrong_number, else unknown.

Rules are checked by priority: optout > wrong_number > operator > repeat > later ("not now") >
no > yes > later (a callback request or a time, and nothing else). So "нет и не звоните больше"
is opt-out, "вы ошиблись номером" is a wrong number (not "no"), "нет позовите оператора" wants a
human, "не понял" asks to repeat (not "no"), "да нет" and "да не надо" are "no" (a "нет" or a
negated verb beats a "да"), "ну да" is yes.

Families are matched by lemma and negation scope (lemmas.py), not by word forms: «устроит»,
«устраивает», «сойдёт», «пойдёт», «годится» agree and their negation refuses; «возражаю»,
«против», «сомневаюсь», «вряд ли» refuse and their negation («не против», «ничего не имею
против», «возражений нет», «никаких проблем», «не вопрос») agrees; «получил», «дошло»,
«оплатил», «оплачу» report or promise the thing asked about and their negation («не дошло»,
«ничего не присылали») is a no.

`later` is "not now": the customer cannot talk now or asks to be called at another time, and
does not otherwise answer («я за рулём», «щас не могу», «у меня нет времени», «перезвоните
позже», «завтра в десять»). A plain «нет» with a time («нет, давайте в пятницу») answers the
question (no) and names another time; a real answer beside a "not now" («не получил,
перезвоните в понедельник») is that answer. The time itself is reported separately, whatever
the intent: the dialog treats a time as a callback request.

`wrong_number`: not the customer's number or not the person asked for («вы не туда попали», «нет
тут никакого Петра», «номер теперь у другого человека»); "not at home now" is not one.

The confidence is 1.0 for a plain answer, 0.9 when yes and no cues were both heard («да
нет»), 0.7 when the answer is hedged («наверное», «вроде»), 0.0 for unknown; see UNSURE_BELOW in
__init__.py.
"""

from __future__ import annotations

import enum
import re

from cuckoo.speech.nlu.lemmas import Word, analyse


class Intent(enum.StrEnum):
    YES = "yes"
    NO = "no"
    REPEAT = "repeat"
    OPERATOR = "operator"
    OPTOUT = "optout"
    LATER = "later"  # cannot talk now / call at another time, without otherwise answering
    WRONG_NUMBER = "wrong_number"  # not the customer's number, or not the person asked for
    UNKNOWN = "unknown"


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))


# --- opt-out ------------------------------------------------------------------------------

_CALL = r"(?:звон\w*|позвон\w*|названива\w*|набира\w*|беспоко\w*)"
# "можете не перезванивать" declines this callback; only "больше не перезванивайте" opts out.
_CALL_AGAIN = r"(?:звон\w*|позвон\w*|перезван\w*|названива\w*|набира\w*|беспоко\w*)"

_OPTOUT = _rx(
    r"\bне (?:надо |нужно |стоит |смейте |смей )?(?:мне |нам |сюда |больше |никогда |вообще )*"
    + _CALL,
    r"\bбольше не " + _CALL_AGAIN,
    r"\b" + _CALL + r"\b.*\bхватит\b",
    r"\b(?:хватит|прекратите|перестаньте|прекрати|перестань) (?:мне |нам |сюда |уже )*" + _CALL,
    r"\b(?:отпишите|исключите|вычеркните)\b",
    r"\bчерн\w* спис\w*",
    r"\bзапрещаю\b",
    r"\bсколько можно\b",
    r"\bотстаньте\b|\bотвяжитесь\b",
    r"\bне хочу чтобы (?:мне |нам )?звонили\b",
)
# The same on lemmas: any form of the verb («удалить мой номер», «удалите меня из базы»).
_OPTOUT_LEMMAS = _rx(
    r"\b(?:удалить|убрать|стереть|вычеркнуть|забыть)\b.*\b(?:номер|я|телефон|база)\b",
    r"\bоставить (?:\w+ ){0,2}в покой\b",  # «оставьте меня в покое», «оставьте мой номер в покое»
    r"\bотказываться от (?:\w+ )?(?:звонок|звонить|рассылка)\b",
)
# A threat is an opt-out whatever else is said («ещё раз позвоните — в полицию заявлю»).
_THREAT = frozenset(
    {"полиция", "прокуратура", "роскомнадзор", "пожаловаться", "жаловаться", "жалоба", "суд"}
)
# "не звоните сейчас" (with a time or "сейчас") is a "not now", not an opt-out.
_NOT_NOW_CALL = _rx(
    r"\bсейчас\b", r"\bпока\b", r"\bперезвоните\b", r"\bпозвоните\b", r"\bнаберите\b"
)

# --- wrong number -------------------------------------------------------------------------

# Words that say the number now belongs to someone else («номер теперь у другого человека»).
_NEW_OWNER = frozenset(
    {"сменить", "смениться", "поменять", "поменяться", "теперь", "недавно", "купить", "новый"}
    | {"хозяин", "владелец"}
)
_NUMBER = frozenset({"номер", "симка", "сим", "телефон", "симкарта"})
_WHOSE = frozenset({"мой", "моя", "мое", "его", "ее", "их", "наш", "наша", "наше"})
# Verbs of living or working somewhere: «он здесь больше не живёт», «она тут не работает».
_LIVES_HERE = frozenset({"жить", "проживать", "работать"})
# The person named is away for now, not unknown here: «Ивана Петровича нет дома».
_AWAY_NOW = frozenset({"дома", "месте", "сейчас", "пока", "вышел", "вышла", "отошел", "отошла"})
_WRONG_TEXT = _rx(
    r"\bэто не \w+ это \w+",  # «это не ромашка это автосервис»: who was called, corrected
    r"\bэто (?:\w+ ){1,2}а не \w+",  # «это квартира а не офис»
)

# --- operator -----------------------------------------------------------------------------

_OPERATOR = _rx(
    r"\bоператор\w*",
    r"\bменеджер\w*",
    r"\bспециалист\w*",
    r"\bконсультант\w*",
    r"\bсотрудник\w*",
    r"\bчеловек(?:а|ом|у)?\b",
    r"\bжив\w+ (?:человек\w*|люд\w*)",
    r"\b(?:соедините|переключите|переведите|позовите|свяжите)\b",
)
# «хочу с кем-нибудь живым поговорить»: a live someone to talk to.
_ALIVE_WITH = frozenset({"поговорить", "говорить", "общаться", "связаться", "кто", "люди"})

# --- repeat -------------------------------------------------------------------------------

_REPEAT = _rx(
    r"\bповтор\w*",
    r"\bеще раз\b",
    r"\bне расслыша\w*",
    r"\bне (?:понял|поняла|поняли|понятно|разобрал\w*)\b",
    r"\bне слыш\w*",
    r"\bплохо (?:вас |тебя )?слыш\w*",
    r"\b(?:по)?громче\b",
    r"\b(?:что|как) вы (?:сказали|говорите|спросили|спрашиваете|сейчас сказали)\b",
    r"\b(?:начните|начинайте|давайте|расскажите|скажите) (?:все |еще раз )?(?:сначала|заново)\b",
    r"^(?:сначала|заново|с начала)$",
)
_FILLERS = {"а", "ой", "простите", "извините", "ну", "э", "эээ", "алло", "слушайте", "короче"}
_WHAT = {"что", "чего", "чо", "че", "ась", "как"}
# A question of one's own («а кто говорит», «а когда привезут») answers nothing.
_QUESTION = {"кто", "что", "какой", "какая", "какие", "какое", "где", "когда", "почему"}
_QUESTION |= {"зачем", "сколько", "откуда", "куда"}

# --- later: "not now" ---------------------------------------------------------------------

# Calling back: «перезвоните», «наберите», «позвоните в другой раз», «созвонимся», «перезвоню сам».
_CALLBACK = frozenset(
    {"перезвонить", "позвонить", "набрать", "звонить", "созвониться", "перезванивать"}
    | {"набирать", "позванивать"}
)
# Put off to another moment, alone: «попозже», «потом», «поздно уже», «ночь на дворе».
# Words, not lemmas: the lemma of «попозже» is ПОЗДНИЙ, which «поздний вечер» has too.
_POSTPONE = frozenset({"попозже", "позже", "позднее", "потом", "поздно", "поздновато", "ночь"})
# A period the time parser cannot turn into a moment («в январе», «после праздников», «в
# следующем году»): still a time named for the call.
_MONTHS = frozenset(
    {"январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь"}
    | {"октябрь", "ноябрь", "декабрь"}
)
# Busy right now: «занята», «некогда».
_BUSY_WORDS = frozenset({"занятой", "занятый", "некогда"})
# The present moment, which a "cannot" makes a "not now": «щас не могу», «сегодня не получится».
_NOW = frozenset({"сейчас", "сегодня"})
# Talking, which a "cannot" makes a "not now" too: «не могу говорить».
_TALK = frozenset({"говорить", "разговаривать", "общаться", "поговорить"})
# What cannot be done now when negated: «не могу», «не получится», «не время», «не до того».
_CANNOT = frozenset({"мочь", "получиться", "удобно", "удобный", "время", "до"})
_CANNOT_WORDS = frozenset({"неудобно", "никак", "некогда"})
# Where or what keeps one from talking («я за рулём», «у меня совещание», «я сплю»): a place,
# an activity, a state. Said about oneself (я / мы / у меня / сейчас), nothing else answered.
_BUSY_WITH = frozenset(
    {"совещание", "встреча", "собрание", "планерка", "переговоры", "врач", "прием", "больница"}
    | {"поликлиника", "лекция", "урок", "экзамен", "тренировка", "работа", "объект"}
    | {"дорога", "пробка", "руль", "машина", "метро", "самолет", "поезд", "электричка"}
    | {"автобус", "касса", "командировка", "отпуск", "дача", "выходной", "обед", "ужин"}
    | {"спать", "ужинать", "обедать", "завтракать", "ехать", "укладывать", "кормить", "рулить"}
)
_ME = frozenset({"я", "мы", "меня", "нас", "сейчас", "щас", "ща"})

# --- no / yes -----------------------------------------------------------------------------

# "нет" that says someone is absent, not "no": "его нет дома", "мужа нет на месте".
_ABSENT = re.compile(
    r"\b(?:его|ее|их|никого|него|нее) (?:сейчас |пока )?нет\b|\bнет (?:дома|на месте)\b"
)

_NEG_WORDS = (
    r"удобно|получится|получилось|могу|можем|смогу|сможем|надо|нужно|нужен|нужна|хочу|хотим|"
    r"буду|будем|интересно|интересует|согласен|согласна|согласны|подтверждаю|"
    r"так|верно|правильно|в этот раз|актуально|нормально"
)
# The "not now" words (занят, за рулём, некогда, поздно, не сейчас) are not here: _not_now()
# makes them a later, and beside a real answer they are not the answer.
_NO = _rx(
    r"\bнет\b",
    r"\bнеа\b",
    r"^(?:не ?)+$",
    r"\bне (?:очень |совсем |особо |слишком )?(?:" + _NEG_WORDS + r")\b",
    r"\bне (?:получ|приход|приш|заказ|забр|забир|звон|перезван|набира|подход|устраива|"
    r"подтвержд|жд)\w*",
    r"\bне очень\b",
    r"\b(?:неудобно|неправильно|неверно|неинтересно)\b",
    r"\bне (?:было|видел|видела|видели)\b",
    r"\bотказ\w*",
    r"\bни в коем случае\b",
)
# A rhetorical "why not" is a yes: «а почему бы и нет».
_WHY_NOT = re.compile(r"\bпочему (?:бы )?(?:и )?нет\b")

_YES = _rx(
    r"\bда\b",
    r"\b(?:ага|угу|ок|окей|конечно|хорошо|ладно|договорились|отлично|естественно|разумеется)\b",
    r"\b(?:верно|правильно|подтверждаю|именно|точно|вроде|говорите)\b",
    r"\bсоглас(?:ен|на|ны)\b",
    r"\bдавайте\b|\bдавай\b",
    r"\bполуч\w*",
    r"\bпришл[оиа]\b",
    r"\b(?:буду|будем|приду|приедем|приеду|заберу|заберем|подъеду|понятно|ясно|актуально|нормально)\b",
    r"\bзабрал\w*",
    r"\bудобно\b",
    r"\bбез проблем\b",
    r"\bэто я\b",
    r"\bна месте\b",
    r"\bвсе хорошо\b",
    r"\bсамо собой\b",
)
_MAYBE_YES = re.compile(r"\bможно\b")
# Hedges lower the confidence of a yes or a no: «наверное нет», «вроде получил».
_HEDGE = re.compile(r"\b(?:наверное|наверно|вроде|кажется|скорее|возможно|может быть)\b")

# Agreeing words: alone a yes, negated a no («устроит» / «не устроит», «пойдёт» / «не пойдёт»).
_AGREE = frozenset(
    {"устроить", "устраивать", "сойти", "пойти", "годиться", "подходить", "подойти", "ладушка"}
)
# Objections: alone a no, negated a yes («возражаю» / «не возражаю», «против» / «не против»).
_OBJECT = frozenset({"возражать", "возражение", "против", "сомневаться", "сомнение"})
# Worries that are a yes only when negated («никаких проблем», «не вопрос», «не переживайте»).
_WORRY = frozenset({"проблема", "вопрос", "переживать", "беспокоиться", "волноваться"})
# Doubt is a soft no: «вряд ли», «навряд ли».
_DOUBT = frozenset({"вряд", "навряд"})
# What the call asks about, done (past: «получил», «дошло», «оплатил») or promised by the
# speaker (1st person: «оплачу», «заберу»): a yes; negated in any form a no («не дошло»).
_DONE = frozenset(
    {"получить", "прийти", "приходить", "дойти", "доходить", "забрать", "забирать"}
    | {"принести", "приносить", "прислать", "присылать", "доставить", "привезти", "расписаться"}
    | {"оплатить", "заплатить", "внести", "перевести", "погасить", "оплачивать", "платить"}
    | {"приехать", "подъехать", "заехать", "зайти"}  # «я на машине, подъеду»
)
# Negated, these answer the question with a no («не надо», «не интересует», «не заказывал»);
# a "not now" beside them does not make the answer a "later".
_NEEDED = frozenset(
    {"надо", "нужно", "нужный", "интересовать", "интересно", "интересный", "хотеть"}
    | {"актуальный", "актуально", "верно", "правильно", "подтверждать", "подтвердить"}
    | {"согласный", "заказывать", "заказать", "видеть", "быть", "успеть", "успевать"}
)


def classify(tokens: list[str], *, has_time: bool) -> tuple[Intent, float]:
    """The intent of a tokenized utterance (see the module docstring) and a confidence."""
    text = " ".join(tokens)
    if not text:
        return Intent.UNKNOWN, 0.0
    words = analyse(tokens)
    lemmas = {w.lemma for w in words}
    # A request to call; not «вам звонили», «кто это звонит», «откуда вы звоните», «третий
    # раз звоню».
    callback = any(
        w.lemma in _CALLBACK
        and not (w.negated or w.past() or "3per" in w.tags or {"1per", "pres"} <= w.tags)
        and (i == 0 or words[i - 1].text != "вы")
        for i, w in enumerate(words)
    )
    callback = callback or _period(words)
    if _is_optout(text, words, has_time):
        return Intent.OPTOUT, 1.0
    if _is_wrong_number(text, words):
        return Intent.WRONG_NUMBER, 1.0
    if _OPERATOR.search(text) or ("живой" in lemmas and lemmas & _ALIVE_WITH):
        return Intent.OPERATOR, 1.0
    core = [t for t in tokens if t not in _FILLERS]
    not_now = _not_now(words, has_time)
    # «я в метро плохо слышно перезвоните потом» asks for a call, not for the question again.
    heard_badly = _REPEAT.search(text) and not ((callback or not_now) and "повтор" not in text)
    if heard_badly or (core and set(core) <= _WHAT):
        return Intent.REPEAT, 1.0
    question = (
        len(core) > 0
        and core[0] in _QUESTION
        and core[1:2] != ["то"]  # «что-то не пришло»
        and not _WHY_NOT.search(text)
    )
    if question and not (callback or has_time):
        return Intent.UNKNOWN, 0.0
    yes_words, no_words = _polarity(words)
    if not_now and not (no_words & _NEEDED or yes_words & (_DONE | _AGREE | _OBJECT)):
        return Intent.LATER, 1.0
    plain = _ABSENT.sub(" ", _WHY_NOT.sub(" ", _drop_consumed_nets(words)))
    says_no = bool(_NO.search(plain) or no_words)
    says_yes = bool(_YES.search(text) or yes_words or _WHY_NOT.search(text))
    hedged = 0.7 if _HEDGE.search(text) else 1.0
    if says_no:
        return Intent.NO, min(hedged, 0.9 if says_yes else 1.0)
    if says_yes:
        return Intent.YES, hedged
    if _MAYBE_YES.search(text) and not (has_time or callback):
        return Intent.YES, 0.9
    if has_time or callback:
        return Intent.LATER, 1.0
    return Intent.UNKNOWN, 0.0


def _is_optout(text: str, words: list[Word], has_time: bool) -> bool:
    if any(w.lemma in _THREAT and not w.negated for w in words):
        return True
    lemma_text = " ".join(w.lemma for w in words)
    if _OPTOUT_LEMMAS.search(lemma_text):
        return True
    return bool(_OPTOUT.search(text)) and not (has_time or _NOT_NOW_CALL.search(text))


def _is_wrong_number(text: str, words: list[Word]) -> bool:
    lemmas = {w.lemma for w in words}
    tokens = {w.text for w in words}
    for i, w in enumerate(words):
        # «вы ошиблись (номером)», «номер перепутали»; «я ошибся» is the speaker's own slip.
        if w.lemma in ("ошибиться", "перепутать") and "plur" in w.tags and not w.negated:
            return True
        # «не туда попали», «вы не по адресу», «не тот номер», «звоните не тому человеку».
        if w.negated and (w.text == "туда" or w.lemma == "тот"):
            return True
        if w.negated and w.text == "по" and "адресу" in tokens:
            return True
        # «это не я», «я не Иван Петрович».
        if w.negated and w.text == "я" and "это" in tokens:
            return True
        # Someone named, denied: «я не Иван Петрович», «никакой Марии тут нет», «Ивана
        # Петровича нет и не было», «какой ещё Пётр»; not «Ивана Петровича нет дома».
        if w.tags & {"Name", "Patr"} and not tokens & _AWAY_NOW:
            absent = "gent" in w.tags and tokens & {"нет", "никакой", "никакого", "никаких"}
            if w.negated or absent or (i > 0 and words[i - 1].text == "еще"):
                return True
        # «он здесь больше не живёт», «уволился».
        if w.lemma in _LIVES_HERE and w.negated and tokens & {"здесь", "тут", "больше"}:
            return True
    if lemmas & {"уволиться", "переехать"}:
        return True
    # «таких здесь нет», «нет тут такого».
    if "такой" in lemmas and tokens & {"здесь", "тут"} and ("нет" in tokens or "не" in tokens):
        return True
    # «номер теперь у другого человека», «я купил эту симку месяц назад».
    if lemmas & _NUMBER and lemmas & _NEW_OWNER:
        return True
    # «неправильный номер», «чужой номер»
    if "номер" in lemmas and lemmas & {"неправильный", "неверный", "чужой", "ошибочный"}:
        return True
    # «это не её телефон», «это не мой номер»
    if lemmas & _NUMBER and any(w.negated and w.text in _WHOSE for w in words):
        return True
    return bool(_WRONG_TEXT.search(text))


def _period(words: list[Word]) -> bool:
    """A period named for the call that is not a moment (see _MONTHS)."""
    lemmas = {w.lemma for w in words}
    if lemmas & _MONTHS or "праздник" in lemmas:
        return True
    if "следующий" in lemmas and lemmas & {"месяц", "год"}:
        return True
    return "год" in lemmas and "новый" in lemmas  # «в новом году», «после нового года»


def _not_now(words: list[Word], has_time: bool) -> bool:
    """Cannot talk now / not now (see the module docstring)."""
    lemmas = {w.lemma for w in words}
    tokens = {w.text for w in words}
    if tokens & _POSTPONE or "ночь" in lemmas or lemmas & _BUSY_WORDS or tokens & _BUSY_WORDS:
        return True
    if "за" in tokens and "руль" in lemmas:
        return True
    if "в" in tokens and "другой" in lemmas and "раз" in lemmas:  # «позвоните в другой раз»
        return True
    cannot = any(w.negated and w.lemma in _CANNOT for w in words) or tokens & _CANNOT_WORDS
    # «не сейчас», «только не сегодня», «не до того»
    if any(w.negated and w.lemma in _NOW | {"до"} for w in words):
        return True
    if cannot and (lemmas & _NOW or lemmas & _TALK):
        return True
    if any(w.negated and w.lemma == "время" for w in words):  # «у меня нет времени»
        return True
    if lemmas & _BUSY_WITH and (tokens & _ME or "у" in tokens):
        return True
    # «не звоните сейчас, наберите в понедельник»: a call refused for now, another asked for.
    return has_time and any(w.negated and w.lemma in _CALLBACK for w in words)


def _polarity(words: list[Word]) -> tuple[set[str], set[str]]:
    """Lemmas that say yes and lemmas that say no, by the families in the module docstring."""
    yes: set[str] = set()
    no: set[str] = set()
    for w in words:
        lemma = w.lemma
        if lemma in _AGREE:
            (no if w.negated else yes).add(lemma)
        elif lemma in _OBJECT:
            (yes if w.negated else no).add(lemma)
        elif lemma in _WORRY and w.negated:
            yes.add(lemma)
        elif lemma in _DOUBT or (lemma == "думать" and w.negated and w.first_person()):
            no.add(lemma)  # «вряд ли», «не думаю»
        elif lemma in _DONE:
            if w.negated:
                no.add(lemma)
            elif w.past() or (w.first_person() and "VERB" in w.tags):
                yes.add(lemma)
        elif lemma in _NEEDED and w.negated:
            no.add(lemma)
    return yes, no


def _drop_consumed_nets(words: list[Word]) -> str:
    """The text without a «нет» that negates a noun of an objection or worry («возражений нет»,
    «нет проблем»): that «нет» is part of a yes, not a no."""
    out: list[str] = []
    for i, w in enumerate(words):
        if w.text == "нет":
            near = words[max(0, i - 4) : i] + words[i + 1 : i + 2]
            if any(n.negated and n.lemma in _OBJECT | _WORRY for n in near):
                continue
        out.append(w.text)
    return " ".join(out)
