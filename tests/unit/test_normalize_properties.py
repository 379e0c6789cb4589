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
    assert re.fullmatch(r"[\w\s.,!?:;+\-—]*", out), (text, out)
