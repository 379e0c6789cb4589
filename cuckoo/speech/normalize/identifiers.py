"""Numbers that name something rather than count it: phone numbers, order, invoice and contract
numbers, codes, INN and other requisites. People dictate them in groups and keep every zero
("код 0042" → "ноль ноль, сорок два"), so they are claimed before any counting pass."""

from __future__ import annotations

import re

from cuckoo.speech.normalize.context import Pass
from cuckoo.speech.normalize.numbers import (
    digits_group,
    morph,
    noun_cases,
    read_in_groups,
)

# ---- phone numbers: country or trunk prefix, then 3-3-2-2 -------------------------------------

# A bare 7 is a prefix only before a separator or exactly ten more digits ("7 дней" is not).
_PHONE = re.compile(
    r"(?<![\d\w+])(\+7|8|7(?=[\s(\-]|\d{10}(?!\d)))"
    r"[\s\-]?\(?(\d{3})\)?[\s\-]?(\d{3})[\s\-]?(\d{2})[\s\-]?(\d{2})(?!\d)"
)
# Without a prefix the dashes tell: "(495) 777-00-11", "495-777-00-11", "555-01-23".
_LOCAL_PHONE = re.compile(
    r"(?<![\d\w\-/.])(?:\((\d{3,5})\)\s*|(\d{3})[\s\-])?(\d{3})-(\d{2})-(\d{2})(?![\d\-])"
)


def _phone(m: re.Match[str]) -> str:
    head = {"+7": "плюс семь", "8": "восемь", "7": "семь"}[m.group(1)]
    return ", ".join([head, *(digits_group(g) for g in m.groups()[1:])])


def _local_phone(m: re.Match[str]) -> str:
    return ", ".join(digits_group(g) for g in m.groups() if g)


def phones(text: str) -> str:
    """Before brackets and dashes go: "8 (800) 555-35-35" is one phone number."""
    return _LOCAL_PHONE.sub(_local_phone, _PHONE.sub(_phone, text))


# ---- numbers after "№" or a word that names an identifier --------------------------------------

# Requisites written as abbreviations, matched as written (before they are spelled out).
_ID_ABBREVIATIONS = frozenset(
    {"инн", "огрн", "огрнип", "кпп", "бик", "снилс", "окпо", "октмо", "окато", "id", "л/с"}
)
# Dictionary words (any form) after which a number is an identifier.
_ID_LEMMAS = frozenset(
    {
        "номер", "код", "пин-код", "промокод", "пароль", "заказ", "счёт", "счёт-фактура",
        "договор", "накладная", "артикул", "квитанция", "трек", "трек-номер", "полис",
        "заявка", "обращение", "отправление", "билет", "талон", "чек", "контракт",
        "лицензия", "идентификатор",
    }
)  # fmt: skip
_ID_LEMMAS_E = frozenset(w.replace("ё", "е") for w in _ID_LEMMAS)
# A number with its inner separators: "112-233-445", "17/025"; a last space-separated group
# only at the end of a clause ("СНИЛС 112-233-445 95").
_ID_NUMBER = (
    r"(\d+(?:[\-/]\d+)*(?:\s\d{2,4}(?=\s*(?:$|[.,;!?)])))?)"
    r"(?![\w:]|-[А-Яа-яЁё]|[.,]\d|\s*(?:%|₽|\$|€|руб|р\.|коп|тыс|млн|млрд))"
)
_NUMBER_SIGN = re.compile(r"(?:№|\bN\b\.?|#)\s*" + _ID_NUMBER)
_AFTER_WORD = re.compile(r"(?<=[\w/])(\s*:?\s*)" + _ID_NUMBER)


def _read_id(number: str) -> str:
    """ "12-3456/7" → "двенадцать, тридцать четыре, пятьдесят шесть дробь семь"."""
    fractions = number.split("/")
    return " дробь ".join(
        ", ".join(read_in_groups(part) for part in re.split(r"[\-\s]", fraction))
        for fraction in fractions
    )


def _number_sign(m: re.Match[str]) -> str:
    return "номер " + _read_id(m.group(1))


def _is_id_word(word: str) -> bool:
    word = word.lower().replace("ё", "е")
    if word in _ID_ABBREVIATIONS:
        return True
    parts = {word, word.rsplit("-", 1)[-1]}  # "трек-номер", "смс-код"
    return any(
        parse.tag.POS == "NOUN" and parse.normal_form.replace("ё", "е") in _ID_LEMMAS_E
        for part in parts
        for parse in morph().parse(part)
    )


def _counts_a_noun(m: re.Match[str]) -> bool:
    """ "заказ 1500 штук": the number counts the noun after it, it does not name the order.
    The next word's likeliest reading decides ("готов" is "ready", not "of the Goths"), and a
    capitalized word after it is a name or a new sentence, not a counted noun."""
    after = re.match(r"\s+([а-яё]+)", m.string[m.end() :])
    if after is None:
        return False
    top = morph().parse(after.group(1))[0]
    return top.tag.POS == "NOUN" and top.tag.case == "gent"


def _names_an_id(before: str) -> bool:
    """True when the words before a number end in an identifier word, maybe followed by words
    that say which one: a genitive ("код подтверждения 005821", "номер лицевого счёта
    0012345") and prepositional phrases ("код для входа в личный кабинет: 4821")."""
    words = re.findall(r"[\w/-]+", before)[-8:]
    for start in range(len(words) - 1, -1, -1):
        if _is_id_word(words[start]):
            return _is_qualifier(words[start + 1 :])
    return False


# "заказ на сумму 1500", "счёт за услуги 900": what follows these is an amount, not a name.
_AMOUNT_PREPS = frozenset({"на", "за", "по"})


def _is_qualifier(words: list[str]) -> bool:
    """Genitive nouns and adjectives, then any number of prepositions with their nouns."""
    tags = [morph().parse(w.lower())[0].tag for w in words]
    nominal = ("NOUN", "ADJF", "PRTF")
    i = 0
    while i < len(tags) and tags[i].POS in nominal and tags[i].case == "gent":
        i += 1
    while i < len(tags):
        if tags[i].POS != "PREP" or words[i].lower() in _AMOUNT_PREPS:
            return False
        if i + 1 == len(tags) or tags[i + 1].POS not in nominal:
            return False  # "код для 3 человек": a preposition right before the number
        i += 1
        while i < len(tags) and tags[i].POS in nominal:
            i += 1
    return True


def _after_word(m: re.Match[str]) -> str:
    number = m.group(2)
    if not _names_an_id(m.string[max(0, m.start() - 80) : m.start()]):
        return m.group(0)
    if not number.startswith("0") and _counts_a_noun(m):
        return m.group(0)
    return m.group(1) + _read_id(number)


# ---- long digit runs ---------------------------------------------------------------------------

_LONG_DIGITS = re.compile(r"(?<![\d,.])\d{7,}(?!\d|[,.]\d)")


def _long_digits(m: re.Match[str]) -> str:
    """A run of 7+ digits with no word that names it: a phone, an account, a tracking number —
    read in groups — unless it is a count of the noun after it ("1250000 человек") and not
    so long or zero-led that it could only be an identifier."""
    digits = m.group(0)
    if len(digits) < 10 and not digits.startswith("0"):
        after = re.match(r"\s+([А-Яа-яЁё]+)", m.string[m.end() :])
        if after and noun_cases(after.group(1).lower()):
            return digits  # left to the counting passes
    return read_in_groups(digits)


def identifiers(text: str) -> str:
    """Numbers after "№" or an identifier word, read in groups with their zeros."""
    text = _NUMBER_SIGN.sub(_number_sign, text)
    return _AFTER_WORD.sub(_after_word, text)


# After money and units ("5000000 руб." is a sum), before the counting passes.
LONG_DIGITS_PASS: Pass = (_LONG_DIGITS, _long_digits)
