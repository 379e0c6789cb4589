"""Which of yes / no / repeat / operator / optout a short Russian answer means.

Rules are checked by priority: optout > operator > repeat > no > yes. So "нет и не звоните
больше" is opt-out, "нет позовите оператора" wants a human, "не понял" asks to repeat (not "no"),
"да нет" and "да не надо" are "no" (a "нет" or a negated verb beats a "да"), "ну да" is yes.

The intent only says what the customer answered; a time is reported separately. An answer that
is only a time ("завтра в десять", "перезвоните в пятницу") has intent UNKNOWN and a time: the
dialog treats a time as a callback request whatever the intent. Two choices worth knowing:
"можно" followed by a time ("можно завтра") is a request, not a yes; "давайте" is a yes.
"не звоните сейчас, перезвоните вечером" is "no" with a time, not an opt-out.
"""

from __future__ import annotations

import enum
import re


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


_CALL = r"(?:звон\w*|позвон\w*|названива\w*|набира\w*|беспоко\w*)"
# "можете не перезванивать" declines this callback; only "больше не перезванивайте" opts out.
_CALL_AGAIN = r"(?:звон\w*|позвон\w*|перезван\w*|названива\w*|набира\w*|беспоко\w*)"

_OPTOUT = _rx(
    r"\bне (?:надо |нужно |стоит )?(?:мне |нам |сюда |больше |никогда |вообще )*" + _CALL,
    r"\bбольше не " + _CALL_AGAIN,
    r"\b" + _CALL + r"\b.*\bхватит\b",
    r"\b(?:хватит|прекратите|перестаньте|прекрати|перестань) (?:мне |нам |сюда |уже )*" + _CALL,
    r"\b(?:удалите|уберите|удали|сотрите|вычеркните|забудьте)\b.*\b(?:номер|меня|телефон)\b",
    r"\b(?:отпишите|исключите|вычеркните)\b",
    r"\bчерн\w* спис\w*",
    r"\bзапрещаю\b",
    r"\bсколько можно\b",
    r"\bотстаньте\b|\bотвяжитесь\b",
    r"\bоставьте (?:меня |нас )?в покое\b",
    r"\bне хочу чтобы (?:мне |нам )?звонили\b",
)
# "не звоните сейчас" (with a time or "сейчас") is a "not now", not an opt-out.
_NOT_NOW = _rx(r"\bсейчас\b", r"\bпока\b", r"\bперезвоните\b", r"\bпозвоните\b", r"\bнаберите\b")

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

_REPEAT = _rx(
    r"\bповтор\w*",
    r"\bеще раз\b",
    r"\bне расслыша\w*",
    r"\bне (?:понял|поняла|поняли|понятно|разобрал\w*)\b",
    r"\bне слыш\w*",
    r"\bплохо (?:вас |тебя )?слыш\w*",
    r"\b(?:по)?громче\b",
    r"\b(?:что|как) вы (?:сказали|говорите|спросили|спрашиваете|сейчас сказали)\b",
)
_FILLERS = {"а", "ой", "простите", "извините", "ну", "э", "алло"}
_WHAT = {"что", "чего", "чо", "че", "ась", "как"}
# "нет" that says someone is absent, not "no": "его нет дома", "мужа нет на месте".
_ABSENT = re.compile(r"\b(?:его|ее|их|никого|него|нее) нет\b|\bнет (?:дома|на месте)\b")

_NEG_WORDS = (
    r"удобно|получится|получилось|могу|можем|смогу|сможем|надо|нужно|нужен|нужна|хочу|хотим|"
    r"буду|будем|сейчас|сегодня|интересно|интересует|согласен|согласна|согласны|подтверждаю|"
    r"так|верно|правильно|в этот раз|актуально|нормально"
)
_NO = _rx(
    r"\bнет\b",
    r"\bнеа\b",
    r"^(?:не ?)+$",
    r"\bне (?:очень |совсем |особо |слишком )?(?:" + _NEG_WORDS + r")\b",
    r"\bне (?:получ|приход|приш|заказ|забр|забир|звон|перезван|набира|подход|устраива|"
    r"подтвержд|жд)\w*",
    r"\bне очень\b",
    r"\b(?:неудобно|неправильно|неверно|некогда|неинтересно)\b",
    r"\bзанят\w*",
    r"\bза рулем\b",
    r"\bне до (?:этого|того|вас|разговоров)\b",
    r"\bне (?:было|видел|видела|видели)\b",
    r"\bотказ\w*",
    r"\bошиблись\b",
    r"\bни в коем случае\b",
    r"\b(?:уже|сейчас|слишком) поздно\b|\bпоздно уже\b",
)

# Where the customer is: "no" alone ("я в дороге"), but with a time it only explains the callback
# ("я на совещании, наберите после двенадцати" is a time, like "я на работе, перезвоните вечером").
_BUSY = re.compile(r"\b(?:в дороге|на совещании|на встрече)\b")

_YES = _rx(
    r"\bда\b",
    r"\b(?:ага|угу|ок|окей|конечно|хорошо|ладно|договорились|отлично|естественно|разумеется)\b",
    r"\b(?:верно|правильно|подтверждаю|именно|точно|вроде|слушаю|говорите)\b",
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
)
_MAYBE_YES = re.compile(r"\bможно\b")


def classify(tokens: list[str], *, has_time: bool) -> tuple[Intent, float]:
    """The intent of a tokenized utterance (see the module docstring) and a confidence."""
    text = " ".join(tokens)
    if not text:
        return Intent.UNKNOWN, 0.0
    if _OPTOUT.search(text) and not (has_time or _NOT_NOW.search(text)):
        return Intent.OPTOUT, 1.0
    if _OPERATOR.search(text):
        return Intent.OPERATOR, 1.0
    core = [t for t in tokens if t not in _FILLERS]
    if _REPEAT.search(text) or (core and set(core) <= _WHAT):
        return Intent.REPEAT, 1.0
    if _NO.search(_ABSENT.sub(" ", text)) or (_BUSY.search(text) and not has_time):
        return Intent.NO, 1.0 if not _YES.search(text) else 0.9
    if _YES.search(text):
        return Intent.YES, 1.0
    if _MAYBE_YES.search(text) and not has_time:
        return Intent.YES, 0.9
    return Intent.UNKNOWN, 0.0
