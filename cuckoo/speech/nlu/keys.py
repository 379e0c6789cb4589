"""A key said instead of pressed: «нажмите 1 или скажите да» is often answered «один».

`spoken_key("один")` → "1". Only an utterance that is nothing but a key (with a few fillers and
"I press" verbs around it) counts: «один раз уже звонили» or «в час» are not keys. Digits only,
one per utterance: «двенадцать» could be the key 12 or a time, so it is left to the NLU.
"""

from __future__ import annotations

from collections.abc import Iterable

from cuckoo.speech.nlu.words import tokenize

# The forms people use for each key: the number, its nominative and accusative noun
# («единицу», «двойку»), the diminutive («единичка»). Written with ё, as the grammar wants them;
# a transcript without ё matches too.
_KEY_WORDS: dict[str, tuple[str, ...]] = {
    "0": ("ноль", "нуль", "нолик"),
    "1": ("один", "одна", "единица", "единицу", "единичка", "единичку"),
    "2": ("два", "двойка", "двойку", "двоечка", "двоечку"),
    "3": ("три", "тройка", "тройку", "троечка", "троечку"),
    "4": ("четыре", "четвёрка", "четвёрку"),
    "5": ("пять", "пятёрка", "пятёрку"),
    "6": ("шесть", "шестёрка", "шестёрку"),
    "7": ("семь", "семёрка", "семёрку"),
    "8": ("восемь", "восьмёрка", "восьмёрку"),
    "9": ("девять", "девятка", "девятку"),
    "*": ("звёздочка", "звёздочку", "звезда", "звезду"),
    "#": ("решётка", "решётку"),
}

# Words that may stand around a key without changing what it means.
_FILLERS = frozenset(
    [
        "ну", "эээ", "э", "ммм", "а", "так", "вот", "да", "давайте", "тогда", "нажимаю",
        "нажму", "нажал", "нажала", "жму", "выбираю", "цифра", "цифру", "кнопка", "кнопку",
        "клавиша", "клавишу", "номер", "пожалуй",
    ]
)  # fmt: skip

_BY_WORD = {w.replace("ё", "е"): key for key, words in _KEY_WORDS.items() for w in words}
_BY_WORD.update({d: d for d in "0123456789"})  # a transcript that writes digits


def spoken_key(text: str) -> str | None:
    """The key an utterance names, or None when it is not just a key."""
    tokens = tokenize(text)  # lower case, ё → е
    keys = [_BY_WORD[t] for t in tokens if t in _BY_WORD]
    if len(keys) != 1 or any(t not in _BY_WORD and t not in _FILLERS for t in tokens):
        return None
    return keys[0]


def key_vocabulary(keys: Iterable[str]) -> list[str]:
    """The words for `keys`, for a Vosk grammar (with the verbs people put before them)."""
    words = [w for key in keys for w in _KEY_WORDS.get(key, ())]
    return [*dict.fromkeys(words), "нажимаю", "цифра"]
