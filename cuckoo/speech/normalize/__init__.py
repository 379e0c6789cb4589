"""Rendered template → speakable Russian: every number, date, time, sum and abbreviation as words.

`normalize(text)` is what the TTS layer calls before synthesis (after `Lexicon.apply`, so brand
names and stress marks from the lexicon are already in place: a "+" before a vowel is kept as a
Silero stress mark). The output keeps sentence punctuation (. , ! ? : ; —) because the engines
use it for pauses and intonation; everything else is words.

Why our own rules and not a library (evaluated 2026-11 on the phrases our templates produce):

- ru-normalizr 1.3.0 (MIT) is broad, but got core notification phrases wrong: "Сумма 3 400,00
  руб." → "Сумма трёх тысяч четырёхсот рублей", "Ожидайте 2 минуты" → "двух минуты",
  "т.к. 5%" → "пяти процентам", "до 31.12" → "тридцати одной целой двенадцати сотых", clock
  times as "десяти часов ноля минут", and a phone inside a sentence as "семь миллионов…". It also
  depends on phonenumberslite, which installs the same `phonenumbers` module as the full
  phonenumbers package the telephony code needs.
- russian-tts-normalization 1.0.2 (MIT, regex only) has no morphology: "1 место" → "первое
  место", "03.12.2026" → "третье декабря", "с 10:00" → "с десять часов", "1 250 руб. 50 коп."
  leaves "коп.".

So the numeral morphology comes from num2words (all cases and genders, ordinals) and noun
agreement from pymorphy3; this module only decides, with a few explicit rules, which case and
gender a number takes (from the preposition before it and the noun after it).

The passes live with their subject: `cleanup` (markup, control characters), `identifiers`
(phones, codes, order and requisite numbers, read in groups with their zeros), `dates`,
`times`, `units`, `ordinals` (case endings like "3-ей", "5-ти", "1980-х" and ordinals without
one, "на 4 этаже"); `rules` holds money, decimals and counts and runs them all in order.

Blind held-out batches (tests/data/normalize_heldout*.tsv) measure it:
`python -m cuckoo.speech.normalize.evaluate [file.tsv] [--misses]`.
"""

from __future__ import annotations

from cuckoo.speech.normalize.rules import normalize

__all__ = ["normalize"]
