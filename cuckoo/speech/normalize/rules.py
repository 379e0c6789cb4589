"""The normalization passes, in the order they run. Each pass turns its digits into words, so a
later pass never sees what an earlier one claimed (a phone number is not read as a sum).

The passes live with their subject: cleanup (markup, control characters), identifiers (phones,
codes, order numbers), dates, times, units, ordinals; this module holds money, percentages,
decimals, Roman numerals and plain counts, and runs them all in `normalize`."""

from __future__ import annotations

import re
from functools import partial

from cuckoo.speech.normalize.cleanup import clean
from cuckoo.speech.normalize.context import (
    MONTHS,
    Pass,
    count_case,
    gender,
    is_noun,
    noun_after,
    prep_case,
    prev_word,
)
from cuckoo.speech.normalize.dates import DATE_PASSES, SHORT_DATE_PASS
from cuckoo.speech.normalize.identifiers import LONG_DIGITS_PASS, identifiers, phones
from cuckoo.speech.normalize.numbers import (
    DIGITS,
    MAX_FRACTION_DIGITS,
    cardinal,
    count_phrase,
    decimal,
    morph,
    noun_cases,
    ordinal,
)
from cuckoo.speech.normalize.ordinals import ORDINAL_PASSES, ordinal_case
from cuckoo.speech.normalize.times import TIME_PASSES
from cuckoo.speech.normalize.units import NUM, UNIT_PASSES, per_units

_CURRENCY = r"(?:руб(?:лей|ля|ль|\.)?|р\.|₽)"
_KOPECKS = r"(?:коп(?:еек|ейки|ейка|\.)?)"

# Abbreviations that expand the same way wherever they stand (matched case-sensitively).
_ABBREVIATIONS: list[tuple[str, str]] = [
    (r"\bт\.\s?е\.", "то есть"),
    (r"\bт\.\s?к\.", "так как"),
    (r"\bи\s+т\.\s?д\.", "и так далее"),
    (r"\bи\s+т\.\s?п\.", "и тому подобное"),
    (r"\bи\s+др\.", "и другие"),
    (r"\bул\.", "улица"),
    (r"\bпр-т\b\.?|\bпросп\.", "проспект"),
    (r"\bпер\.", "переулок"),
    (r"\bпл\.", "площадь"),
    (r"\bш\.", "шоссе"),
    (r"\bобл\.", "область"),
    (r"\bр-н\b", "район"),
    (r"\bмкр\.|\bмкр\b", "микрорайон"),
    (r"\bд\.(?=\s*\d)", "дом"),
    (r"\bкв\.(?=\s*\d)", "квартира"),
    (r"\bкорп\.(?=\s*\d)", "корпус"),
    (r"\bстр\.(?=\s*\d)", "строение"),
    (r"\bоф\.(?=\s*\d)", "офис"),
    (r"\bг\.(?=\s*[А-ЯЁ])", "город"),
    (r"\bим\.(?=\s*[А-ЯЁ])", "имени"),
    (r"\bпо тел\.", "по телефону"),
    (r"\bтел\.", "телефон"),
    (r"\bдоб\.", "добавочный"),
    (r"\bэл\.\s?почт", "электронн почт"),
    (r"\bл/с\b", "лицевой счёт"),
    (r"\bООО\b", "о-о-о"),
    (r"\bОАО\b", "о-а-о"),
    (r"\bЗАО\b", "зао"),
    (r"\bПАО\b", "пао"),
    (r"\bАО\b", "а-о"),
    (r"\bИП\b", "и-пэ"),
    (r"\bИНН\b", "и-эн-эн"),
    (r"\bОГРНИП\b", "о-гэ-эр-эн-и-пэ"),
    (r"\bОГРН\b", "о-гэ-эр-эн"),
    (r"\bКПП\b", "кэ-пэ-пэ"),
    (r"\bБИК\b", "бик"),
    (r"\bСНИЛС\b", "снилс"),
    (r"\bОКПО\b", "о-кэ-пэ-о"),
    (r"\bСМС\b|\bSMS\b", "эс-эм-эс"),
    (r"\bРФ\b", "эр-эф"),
]
_ABBREVIATIONS_COMPILED = [(re.compile(p), r) for p, r in _ABBREVIATIONS]

# Left after every number pass: bare currency and unit words.
_LEFTOVER = [
    (re.compile(r"\bруб\.|\bр\.(?=\s|$)"), "рублей"),
    (re.compile(r"\bкоп\."), "копеек"),
    (re.compile(r"₽"), "рублей"),
    (re.compile(r"\bдолл\.(?!\w)"), "долларов"),
    (re.compile(r"\bшт\."), "штук"),
    (re.compile(r"№"), "номер"),
    (re.compile(r"%"), "процентов"),
    (re.compile(r"&"), " и "),
    (re.compile(r"@"), " собака "),
]


def _int(s: str) -> int:
    return int(re.sub(r"\D", "", s))


# ---- money, percentages, decimals --------------------------------------------------------------

_MONEY = re.compile(
    r"(?<![\d,.])(" + NUM + r")(?:[,.](\d{1,2}))?\s*" + _CURRENCY
    + r"(?!\w)(?:\s*(\d{1,2})\s*" + _KOPECKS + r"(?!\w))?"
)  # fmt: skip
_FOREIGN = re.compile(r"(?<![\d,.])(" + NUM + r")(?:[,.](\d{1,2}))?\s*(\$|€|USD|EUR|долл\.?(?!\w))")
_FOREIGN_UNITS = {"$": "доллар", "USD": "доллар", "€": "евро", "EUR": "евро"}


def _money(m: re.Match[str]) -> str:
    case = count_case(m)
    out = count_phrase(_int(m.group(1)), "рубль", case)
    kop = m.group(2) or m.group(3)
    if kop:
        k = int(kop) * (10 if m.group(2) and len(m.group(2)) == 1 else 1)
        if k:
            out += " " + count_phrase(k, "копейка", case)
    return out


def _foreign(m: re.Match[str]) -> str:
    case = count_case(m)
    unit = _FOREIGN_UNITS.get(m.group(3), "доллар")
    out = count_phrase(_int(m.group(1)), unit, case)
    if m.group(2) and int(m.group(2)):
        cents = int(m.group(2)) * (10 if len(m.group(2)) == 1 else 1)
        out += " " + count_phrase(cents, "цент", case)
    return out


# A decimal point may be a comma (Russian) or a dot (a float rendered by Python); dates and
# dotted clock times were claimed by earlier passes. A fraction keeps its zeros: "0,0045" is
# forty-five ten-thousandths, not "ноль, сорок пять".
_FRACTION = r"(\d{1," + str(MAX_FRACTION_DIGITS) + r"})"
_PERCENT = re.compile(r"(?<![\d,.])(" + NUM + r")(?:[,.]" + _FRACTION + r")?\s*%")
_DECIMAL = re.compile(r"(?<![\d,.])(\d+)[,.](\d+)(?!\d|[,.]\d)")


def _percent(m: re.Match[str]) -> str:
    if m.group(2):
        return decimal(_int(m.group(1)), m.group(2), count_case(m)) + " процента"
    return count_phrase(_int(m.group(1)), "процент", count_case(m))


def _decimal(m: re.Match[str]) -> str:
    return decimal(int(m.group(1)), m.group(2), count_case(m))


# ---- Roman numerals before a noun: "IV квартал", "XXI век" ----------------------------------

_ROMAN = re.compile(r"\b([IVXLC]{1,7})\s+([А-Яа-яЁё]+)")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def _roman_value(roman: str) -> int | None:
    total = 0
    for i, ch in enumerate(roman):
        value = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[roman[i + 1]] if i + 1 < len(roman) else 0
        total += -value if value < nxt else value
    return total if total > 0 else None


def _roman(m: re.Match[str]) -> str:
    value = _roman_value(m.group(1))
    noun = m.group(2).lower()
    parses = [p for p in morph().parse(noun) if p.tag.POS == "NOUN" and p.tag.number == "sing"]
    if value is None or not parses or not morph().word_is_known(noun):
        return m.group(0)
    cases = [str(p.tag.case) for p in parses]
    noun_gender = str(parses[0].tag.gender or "masc")
    # The nominative reading first ("IV квартал"); an inanimate accusative looks the same
    # except in the feminine ("за II четверть" → "вторую").
    prep = prep_case(m)
    case = prep if prep in cases else next((c for c in ("nomn", "accs") if c in cases), cases[0])
    if case == "accs" and noun_gender != "femn":
        case = "nomn"
    return f"{ordinal(value, case, noun_gender)} {m.group(2)}"


# ---- plain numbers ------------------------------------------------------------------------------

_RANGE = re.compile(r"(?<![\d,.])(\d+)\s*[-–—]\s*(\d+)\s+([А-Яа-яЁё]+)")
_COUNT = re.compile(r"(?<![\d,.])(" + NUM + r")(\s+)([А-Яа-яЁё]+)")
_BARE = re.compile(NUM)


def _number_case(n: int, noun: str, prep: str | None) -> str:
    """The case a number takes before `noun` (any form), given the preposition before it.

    The noun's form decides when it is unambiguous ("с 2 документами" → instrumental,
    "в течение 3 дней" → genitive: "3 дня" would be the nominative); otherwise the preposition;
    otherwise nominative, and the noun is then made to agree ("у вас 5 документа" → "пять
    документов", a template that forgot to pluralize).
    """
    cases = noun_cases(noun.lower())
    plural_gent = any(
        p.tag.case == "gent" and p.tag.number == "plur"
        for p in morph().parse(noun.lower())
        if p.tag.POS == "NOUN"
    )
    oblique = cases & {"datv", "ablt", "loct"}
    if prep in cases and prep not in ("nomn", "accs"):
        return prep
    if oblique and not cases & {"nomn", "accs", "gent"}:
        return sorted(oblique)[0]
    if prep == "accs" and "accs" in cases:
        return "accs"
    paucal = n % 10 in (1, 2, 3, 4) and n % 100 not in (11, 12, 13, 14)
    if cases == {"gent"} and plural_gent and paucal:
        return "gent"
    return "nomn"


def _range(m: re.Match[str]) -> str:
    """A range: "2-3 дня" → "два-три дня", "в течение 2-3 дней" → "двух-трёх дней"."""
    a, b, noun = int(m.group(1)), int(m.group(2)), m.group(3)
    if not is_noun(noun) or a >= b:
        return m.group(0)
    case = _number_case(b, noun, prep_case(m))
    return f"{cardinal(a, case, gender(noun))}-{count_phrase(b, noun, case)}"


_PREDICATE_POS = frozenset({"ADJS", "PRTS", "VERB", "INFN", "ADVB", "PRED", "GRND"})


def _count(m: re.Match[str]) -> str:
    n, space, word = _int(m.group(1)), m.group(2), m.group(3)
    first = morph().parse(word.lower())[0]
    if word.lower() in MONTHS or word.isupper():  # "1С", "5 ТБ": a name, not a counted noun
        return cardinal(n, count_case(m)) + space + word
    if first.tag.POS in ("ADJF", "PRTF"):
        noun = noun_after(m.string[m.end() :])
        if noun is not None:  # the adjective and noun stay as written; only the number agrees
            reading = ordinal_case(n, noun, prev_word(m))
            if reading is not None:
                return ordinal(n, *reading) + space + word
            case = _number_case(n, noun, prep_case(m))
            return cardinal(n, case, gender(noun)) + space + word
    # "Заказ 123 готов": the likeliest reading is a predicate (short adjective, verb), not the
    # rare noun the dictionary also has ("готов" = of the Goths); the number is not a count.
    if first.tag.POS in _PREDICATE_POS or not is_noun(word):
        return cardinal(n, count_case(m)) + space + word
    # "2 этаж", "на 4 этаже", "до 8 этажа": no count agrees with that noun form: an ordinal.
    reading = ordinal_case(n, word, prev_word(m))
    if reading is not None:
        return ordinal(n, *reading) + space + word
    return count_phrase(n, word, _number_case(n, word, prep_case(m)))


def _bare(m: re.Match[str]) -> str:
    return cardinal(_int(m.group(0)), count_case(m))


# ---- the pipeline -------------------------------------------------------------------------------

_PASSES: list[Pass] = [
    (_ROMAN, _roman),
    *DATE_PASSES,
    *TIME_PASSES,
    SHORT_DATE_PASS,
    (_MONEY, _money),
    (_FOREIGN, _foreign),
    (_PERCENT, _percent),
    *UNIT_PASSES,
    (_DECIMAL, _decimal),
    LONG_DIGITS_PASS,
    *ORDINAL_PASSES,
    (_RANGE, _range),
    (_COUNT, _count),
    (_BARE, _bare),
]

# An abbreviation after a number that also ends the sentence: its dot is two dots. A sentence
# ends at the end of the text or before a capitalized word ("долл. США" goes on).
_DOTTED = (
    r"руб|коп|шт|кг|гр|г|тыс|млн|млрд|трлн|долл|мин|сек|ч|р|л|мл|км|м|см|мм|т|уп|дн|мес|сут|"
    r"нед|чел|мм\s*рт\.\s*ст"
)
_FINAL_ABBREVIATION = re.compile(
    r"(\d\s*(?:(?:тыс|млн|млрд|трлн)\.?\s*)?(?:" + _DOTTED + r")(?:\.?\s*/\s*[а-яё]+)?)"
    r"\.(?=\s*$|\s+[А-ЯЁA-Z][а-яёa-z])"
)
_GLUED_LETTERS = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")  # RA123456789RU
# "тест5" → "тест 5", "5шт" → "5 шт"; not "м2" after a number, and not the case ending in "5ти".
_GLUED_CYRILLIC = re.compile(
    r"(?<=[А-Яа-яЁё])(?<!\d[кcсмд]м)(?<!\dм)(?<!\d [кcсмд]м)(?<!\d м)(?=\d)"
    r"|(?<=\d)(?=[А-Яа-яЁё])(?!(?:ти|ми|мя|ью|ух|ёх|х)\b)"
)
_DIMENSIONS = re.compile(r"(?<![\d,.])(\d+(?:[,.]\d+)?)\s*[хxХX×*]\s*(?=\d)")
# "с" → "со", "в" → "во", "к" → "ко" before "второй" and "с" before "ста", as people say it.
_EUPHONY = re.compile(r"\b([СсВвКк])(?=\s+втор)|\b([Сс])(?=\s+ст[ао]\b)")
_STRESS_OR_PLUS = re.compile(r"\+(?![аеёиоуыэюяАЕЁИОУЫЭЮЯ])")
_JUNK = re.compile(r"[^\w\s.,!?:;+\-—]")


def _expand(replacement: str, m: re.Match[str]) -> str:
    """An abbreviation's words, apart from what was glued to it: "д.5" → "дом 5"."""
    glued = re.match(r"[\w+]", m.string[m.end() :])
    return replacement + " " if glued else replacement


def _split_glued(text: str) -> str:
    text = re.sub(r"\s*№\s*", " № ", text)  # "заказ№123"
    text = _DIMENSIONS.sub(r"\1 на ", text)  # "3х3 м" → "3 на 3 м"
    text = _GLUED_LETTERS.sub(" ", text)
    text = _GLUED_CYRILLIC.sub(" ", text)
    text = re.sub(r"(?<=[а-яё]\.)(?=[А-ЯЁ])", " ", text)  # "ул.Ленина"
    return re.sub(r",(?=[А-Яа-яЁёA-Za-z])", ", ", text)  # "Ленина,д.5"


def normalize(text: str) -> str:
    """A rendered template as speakable Russian: numbers, dates, times, sums and abbreviations
    become words that agree in case and gender. Sentence punctuation is kept for prosody."""
    text = clean(text)
    text = phones(text)  # before brackets go: "8 (800) 555-35-35"
    text = re.sub(r"(?<![\w+])\+(?=\d)", "плюс ", text)  # "+25 °C"
    text = re.sub(r"[«»“”„\"]", "", text)
    text = re.sub(r"\s*[()\[\]]\s*", ", ", text)
    text = _split_glued(text)
    text = identifiers(text)  # before "ИНН" is spelled out: it names what follows
    for pattern, replacement in _ABBREVIATIONS_COMPILED:
        text = pattern.sub(partial(_expand, replacement), text)
    text = _FINAL_ABBREVIATION.sub(r"\1..", text)  # "… 300 руб." keeps its full stop
    text = re.sub(r"(?<![\w\d])[-−–](?=\d)", "минус ", text)  # "-5 градусов"
    for pattern, func in _PASSES:
        text = pattern.sub(func, text)
    text = per_units(text)  # "километров/ч" → "километров в час", before "шт." is a word
    for pattern, word in _LEFTOVER:
        text = pattern.sub(word, text)
    text = _EUPHONY.sub(lambda m: (m.group(1) or m.group(2)) + "о", text)
    text = re.sub(r"\d", lambda m: " " + DIGITS[int(m.group(0))] + " ", text)
    text = _STRESS_OR_PLUS.sub(" ", text)  # "+" survives only as a stress mark before a vowel
    text = _JUNK.sub(" ", text)
    text = re.sub(r"(?<=\w)\.(?=\w)", " точка ", text)  # "1.2.3", "example.ru"
    text = re.sub(r"(?<=\s)[-–](?=\s)", "—", text)
    text = re.sub(r"\s+([.,!?:;])", r"\1", text)
    text = re.sub(r"([.,!?:;])(?:\s*[,;])+", r"\1", text)
    text = re.sub(r"^\s*[,;]\s*", "", text)
    return re.sub(r"\s{2,}", " ", text).strip()
