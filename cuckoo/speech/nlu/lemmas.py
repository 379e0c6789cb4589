"""Words of a transcript with their lemma, grammar and negation (pymorphy3).

Intent rules match families of answers by lemma («устроит», «устраивает», «устроило» are all
УСТРОИТЬ) and by negation scope («не против», «ничего не имею против», «возражений нет»,
«никаких проблем» negate ПРОТИВ, ВОЗРАЖЕНИЕ, ПРОБЛЕМА), instead of lists of word forms.

Negation scope, the few rules Russian needs for short answers:

- «не» / «ни» negate the next word, reaching over intensifiers and fillers («не очень удобно»,
  «не особо устраивает», «не имею ничего против»): the word reached is negated, not those
  reached over;
- a noun in the genitive is negated by «нет», «никаких», «никакого», «без» right before it, or
  by «нет», «никаких» after it («нет проблем», «возражений (у нас) нет», «проблем никаких»,
  «без вопросов»).

The analyzer's first parse is used; its dictionary knows colloquial forms («щас» → СЕЙЧАС).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer


@lru_cache(maxsize=1)
def _morph() -> MorphAnalyzer:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@dataclass(frozen=True)
class Word:
    text: str
    lemma: str  # ё written as е, like the transcript
    tags: frozenset[str]  # pymorphy3 grammemes: "VERB", "past", "1per", "gent", "Name"...
    negated: bool = False

    def past(self) -> bool:
        return "past" in self.tags

    def first_person(self) -> bool:
        return "1per" in self.tags


@lru_cache(maxsize=20_000)
def _analyse(token: str) -> tuple[str, frozenset[str]]:
    parse = _morph().parse(token)[0]
    return parse.normal_form.replace("ё", "е"), frozenset(parse.tag.grammemes)


def grammemes(token: str) -> frozenset[str]:
    """The grammemes of a word's first parse ("Name", "Surn", "Patr", "gent"...)."""
    return _analyse(token)[1]


# Words that a «не» reaches over to negate the word after them.
_SCOPE_SKIP = frozenset(
    {"очень", "совсем", "особо", "особенно", "слишком", "вполне", "так", "уже", "еще", "пока"}
    | {"вообще", "имею", "имеем", "ничего", "я", "мы", "мне", "нам"}
)
# Between a genitive noun and the «нет» after it: «возражений у нас нет».
_AFTER_NOUN_SKIP = _SCOPE_SKIP | {"у", "меня", "нас", "вас", "с", "этим"}
_NEGATORS = frozenset({"не", "ни"})
# Before or after a genitive noun: «нет проблем», «возражений нет», «никаких проблем».
_GENITIVE_NEGATORS = frozenset({"нет", "никаких", "никакого", "никакой", "без"})


def analyse(tokens: list[str]) -> list[Word]:
    """The words of a tokenized utterance, each with its lemma, tags and negation."""
    base = [(t, *_analyse(t)) for t in tokens]
    words: list[Word] = []
    for i, (text, lemma, tags) in enumerate(base):
        words.append(Word(text, lemma, tags, _negated(tokens, [b[2] for b in base], i)))
    return words


def _negated(tokens: list[str], tags: list[frozenset[str]], i: int) -> bool:
    if tokens[i] in _NEGATORS or tokens[i] in _GENITIVE_NEGATORS:
        return False
    if tokens[i] in _SCOPE_SKIP and i + 1 < len(tokens) and tokens[i + 1] not in _NEGATORS:
        return False  # reached over: the word after it is what is negated («не очень удобно»)
    j = i - 1
    while j >= 0 and i - j <= 3 and tokens[j] in _SCOPE_SKIP:
        j -= 1
    if j >= 0 and tokens[j] in _NEGATORS:
        return True
    if "NOUN" in tags[i] and "gent" in tags[i]:
        if i > 0 and tokens[i - 1] in _GENITIVE_NEGATORS:
            return True
        k = i + 1  # «времени совсем нет», «возражений у нас нет»
        while k < len(tokens) and k - i <= 3 and tokens[k] in _AFTER_NOUN_SKIP:
            k += 1
        return k < len(tokens) and tokens[k] in _GENITIVE_NEGATORS - {"без"}
    return False
