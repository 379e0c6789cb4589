"""Understanding short spoken answers: a Vosk transcript (lower case, no punctuation, numbers as
words) → an intent (yes / no / repeat / operator / optout / unknown) and an optional time.

Pure Python, rule-based, deterministic: about 0.1 ms per utterance. Intent rules are in
intents.py, time rules (the p.m. rule, "next matching moment", day parts) in times.py; both
module docstrings state the rules. Accuracy on tests/data/nlu_labeled.tsv and on the blind
held-out batches tests/data/nlu_heldout*.tsv: see evaluate.py and
`benchmarks/speech.py --nlu-only`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cuckoo.speech.nlu.intents import Intent, classify
from cuckoo.speech.nlu.keys import key_vocabulary, spoken_key
from cuckoo.speech.nlu.times import DayParts, parse_time
from cuckoo.speech.nlu.words import tokenize

__all__ = ["DayParts", "Intent", "Understanding", "grammar_for", "spoken_key", "understand"]


@dataclass(frozen=True)
class Understanding:
    intent: Intent
    time: datetime | None  # aware, in the zone of `now`; None when no time was said
    confidence: float = 1.0


def understand(text: str, now: datetime, *, day_parts: DayParts | None = None) -> Understanding:
    """What the customer said. `now` must be aware, in the customer's zone; the returned time is
    the next moment after `now` that matches what was said, in the same zone."""
    if now.tzinfo is None:
        raise ValueError("understand(): `now` must be timezone-aware (the customer's zone)")
    when = parse_time(text, now, day_parts)
    intent, confidence = classify(tokenize(text), has_time=when is not None)
    return Understanding(intent, when, confidence)


# What each intent sounds like, for a Vosk grammar. Vosk accepts any sequence of these words,
# so phrases are listed as the words they are made of plus a few frequent whole phrases.
_VOCABULARY: dict[Intent, list[str]] = {
    Intent.YES: [
        "да", "ага", "угу", "конечно", "хорошо", "ладно", "окей", "договорились", "верно",
        "правильно", "подтверждаю", "согласен", "согласна", "давайте", "можно", "удобно",
        "получил", "получила", "получили", "пришло", "заберу", "приду", "буду", "ну да",
        "да конечно", "всё верно", "так точно",
    ],
    Intent.NO: [
        "нет", "не", "неа", "не надо", "не нужно", "неудобно", "не удобно", "не очень удобно",
        "да нет", "не получал", "не получила", "не пришло", "отказываюсь", "не сейчас", "занят",
        "не могу", "нет спасибо",
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
    Intent.LATER: [],
    Intent.WRONG_NUMBER: [],
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

    Operator and opt-out phrases are always included: a customer may ask for a human or to
    stop calls at any question, and the grammar must not turn that into a "да". `keys` are the
    question's one-digit key answers, which a customer may say instead of pressing («один»).
    """
    wanted = [*intents, Intent.OPERATOR, Intent.OPTOUT]
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
