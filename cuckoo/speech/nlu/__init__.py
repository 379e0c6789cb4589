"""Understanding short spoken answers: a Vosk transcript (lower case, no punctuation, numbers as
words) → an intent (yes / no / repeat / operator / optout / later / wrong_number / unknown), an
optional time and a confidence.

Rule-based and deterministic: about 0.1 ms per utterance once pymorphy3's dictionaries are
loaded (lemmas.py; ~0.3 s, once per process). Intent rules are in intents.py (families by lemma
and negation scope), time rules (the p.m. rule, "next matching moment", day parts, hours and
minutes, years) in times.py; both module docstrings state the rules. The time is kept whatever
the intent («да, давайте в среду часов в двенадцать» is yes and Wednesday 12:00). Accuracy on
tests/data/nlu_labeled.tsv and on the blind held-out batches tests/data/nlu_heldout*.tsv: see
evaluate.py and `benchmarks/speech.py --nlu-only`.

When `Understanding.unsure` (nothing understood, or a hedged answer such as «наверное нет»), the
dialog runner asks one clarifying question (`clarifying_question()`, or the scenario's
`clarify:`) before its retries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cuckoo.speech.nlu.intents import Intent, classify
from cuckoo.speech.nlu.keys import key_vocabulary, spoken_key
from cuckoo.speech.nlu.times import DayParts, parse_time
from cuckoo.speech.nlu.words import tokenize

__all__ = [
    "UNSURE_BELOW",
    "DayParts",
    "Intent",
    "Understanding",
    "clarifying_question",
    "grammar_for",
    "spoken_key",
    "understand",
]

# Below this confidence an answer is worth one clarifying question: unknown (0.0) and hedged
# answers (0.7: «наверное нет», «вроде получил»); «да нет» (0.9, a firm no) is not.
UNSURE_BELOW = 0.75


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    time: datetime | None  # aware, in the zone of `now`; None when no time was said
    confidence: float = 1.0

    @property
    def unsure(self) -> bool:
        """Not understood, or understood only tentatively: ask once more before acting."""
        return self.confidence < UNSURE_BELOW


def clarifying_question(yes_key: str | None = "1") -> str:
    """The one question to ask when an answer was unsure: yes or no, or the key for yes."""
    if yes_key is None:
        return "Скажите, пожалуйста, да или нет."
    return f"Скажите, пожалуйста, да или нет — или нажмите {yes_key}."


def understand(text: str, now: datetime, *, day_parts: DayParts | None = None) -> Understanding:
    """What the customer said. `now` must be aware, in the customer's zone; the returned time is
    the next moment after `now` that matches what was said, in the same zone."""
    if now.tzinfo is None:
        raise ValueError("understand(): `now` must be timezone-aware (the customer's zone)")
    when = parse_time(text, now, day_parts)
    if when is not None and when.timestamp() < int(now.timestamp()):  # instants, not wall clocks
        # a garbled count («через неделю ноль»: zero weeks, at midnight) is no time to call back
        when = None
    intent, confidence = classify(tokenize(text), has_time=when is not None)
    return Understanding(intent, when, confidence)


# What each intent sounds like, for a Vosk grammar. Vosk accepts any sequence of these words,
# so phrases are listed as the words they are made of plus a few frequent whole phrases.
_VOCABULARY: dict[Intent, list[str]] = {
    Intent.YES: [
        "да", "ага", "угу", "конечно", "хорошо", "ладно", "окей", "договорились", "верно",
        "правильно", "подтверждаю", "согласен", "согласна", "давайте", "можно", "удобно",
        "получил", "получила", "получили", "пришло", "дошло", "заберу", "приду", "буду",
        "ну да", "да конечно", "всё верно", "так точно", "устроит", "устраивает", "пойдёт",
        "сойдёт", "годится", "подходит", "не против", "не возражаю", "возражений нет",
        "без проблем", "никаких проблем", "оплачу", "оплатил", "оплатила", "заплачу",
    ],
    Intent.NO: [
        "нет", "не", "неа", "не надо", "не нужно", "неудобно", "не удобно", "не очень удобно",
        "да нет", "не получал", "не получила", "не пришло", "не дошло", "отказываюсь",
        "не могу", "нет спасибо", "не пойдёт", "не подходит", "не устраивает", "вряд ли",
        "навряд ли", "сомневаюсь", "не думаю",
    ],
    Intent.REPEAT: [
        "повторите", "ещё раз", "что", "не расслышал", "не расслышала", "не понял",
        "не поняла", "не слышно", "громче", "пожалуйста",
    ],
    Intent.OPERATOR: [
        "оператор", "оператора", "оператором", "менеджер", "менеджера", "менеджером",
        "специалист", "человек", "человеком", "живой человек", "позовите", "соедините с",
        "переключите на",
    ],
    Intent.OPTOUT: [
        "не звоните больше", "больше не звоните", "не звоните мне", "удалите мой номер",
        "хватит звонить", "отпишите меня", "не беспокойте",
    ],
    Intent.LATER: [
        "перезвоните", "наберите", "позвоните", "позже", "попозже", "потом", "в другой раз",
        "не сейчас", "занят", "занята", "за рулём", "не могу говорить", "некогда",
        "нет времени", "сейчас неудобно", "я на работе", "я на совещании",
    ],
    Intent.WRONG_NUMBER: [
        "вы ошиблись", "ошиблись номером", "не туда попали", "не тот номер", "это не я",
        "нет тут таких", "неправильный номер", "номер сменился",
    ],
    Intent.UNKNOWN: [],
}  # fmt: skip

_TIME_VOCABULARY = [
    "сегодня", "завтра", "послезавтра", "через", "в", "во", "к", "после", "около", "без",
    "понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье",
    "следующей неделе", "следующую", "следующий",
    "утром", "утра", "днём", "дня", "в обед", "после обеда", "вечером", "вечера",
    "час", "часа", "часов", "полчаса", "минут", "минуты", "неделю", "дня", "дней",
    "половине", "пол", "четверть", "четверти", "числа", "перезвоните",
    "ноль", "один", "одну", "два", "две", "три", "четыре", "пять", "шесть", "семь", "восемь",
    "девять", "десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать",
    "пятнадцать", "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать", "двадцать",
    "тридцать", "сорок", "пятьдесят",
    "трёх", "четырёх", "пяти", "шести", "семи", "восьми", "девяти", "десяти", "одиннадцати",
    "двенадцати", "пятнадцати", "двадцати",
    "первого", "второго", "третьего", "четвёртого", "пятого", "шестого", "седьмого",
    "восьмого", "девятого", "десятого", "одиннадцатого", "двенадцатого", "двадцатого",
    "тридцатого",
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
    "октября", "ноября", "декабря",
]  # fmt: skip


def grammar_for(intents: Iterable[Intent], with_time: bool, keys: Iterable[str] = ()) -> list[str]:
    """The words and phrases a question expects, for a Vosk grammar, ending with "[unk]".

    Operator, opt-out, "not now" and wrong-number phrases are always included: a customer may
    ask for a human, to stop calls, to be called later or say it is not them at any question,
    and the grammar must not turn that into a "да". `keys` are the question's one-digit key
    answers, which a customer may say instead of pressing («один»).
    """
    wanted = [*intents, Intent.OPERATOR, Intent.OPTOUT, Intent.LATER, Intent.WRONG_NUMBER]
    out: list[str] = []
    seen: set[str] = set()
    key_words = key_vocabulary(keys) if keys else []
    for phrase in (
        [p for i in wanted for p in _VOCABULARY[i]]
        + key_words
        + (_TIME_VOCABULARY if with_time else [])
    ):
        if phrase not in seen:
            seen.add(phrase)
            out.append(phrase)
    out.append("[unk]")
    return out
