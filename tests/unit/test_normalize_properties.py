"""Property over generated input: whatever the template renders, normalize() yields words."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cuckoo.speech.normalize import normalize

_PIECES = [
    "№", "руб.", "коп.", "₽", "%", "кг", "км", "шт.", "г.", "д.", "ул.", "т.е.", ":", ".", ",",
    "-", "–", "/", "+7", "8", "(", ")", "«", "»", "января", "декабря", "документ", "место",
    "рубля", "минуты", "с", "до", "к", "в", "на", "о", "IV", "квартал", "Иван+ов", "OZON",
    "м²", "$", "@", "году", "года",
    # issue 16 item 5: day parts, ranges, identifiers, endings, units, markup
    "утра", "дня", "вечера", "ночи", "час", "по", "-й", "-ти", "-х", "-го", "-м", "ИНН", "код",
    "заказа", "0", "007", "км/ч", "°C", "млн", "тыс.", "долл.", "мм рт. ст.", "кВт·ч", "х",
    "мар", "дек.", "<b>", "</p>", "&nbsp;", "&#8470;", "\x07", "\x1b[0m", "\u00ad", "/", "*",
]  # fmt: skip

texts = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**12).map(str),
        st.sampled_from(_PIECES),
        st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВ0123456789 .,:-", max_size=8),
    ),
    max_size=12,
).map(lambda parts: " ".join(parts))


@settings(max_examples=300, deadline=None)
@given(texts)
def test_normalize_leaves_only_words(text: str) -> None:
    out = normalize(text)
    assert not re.search(r"\d", out), (text, out)
    assert re.fullmatch(r"[\w .,!?:;+\-—]*", out), (text, out)  # one line, plain spaces
