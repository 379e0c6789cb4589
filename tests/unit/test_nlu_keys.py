"""Keys said instead of pressed (cuckoo.speech.nlu.keys): only an utterance that is nothing but
one key, with fillers around it, names a key."""

from __future__ import annotations

import pytest

from cuckoo.speech.nlu import grammar_for, spoken_key
from cuckoo.speech.nlu.keys import key_vocabulary


@pytest.mark.parametrize(
    ("said", "key"),
    [
        ("один", "1"),
        ("одна", "1"),
        ("единица", "1"),
        ("нажимаю единицу", "1"),
        ("ну один", "1"),
        ("да один", "1"),
        ("цифра два", "2"),
        ("двойку", "2"),
        ("три", "3"),
        ("четвёрка", "4"),
        ("четверка", "4"),
        ("пять", "5"),
        ("семь", "7"),
        ("восьмёрку", "8"),
        ("девятка", "9"),
        ("ноль", "0"),
        ("нолик", "0"),
        ("звёздочка", "*"),
        ("решетку", "#"),
        ("1", "1"),
        ("эээ давайте тогда два", "2"),
    ],
)
def test_a_bare_key_is_that_key(said: str, key: str) -> None:
    assert spoken_key(said) == key


@pytest.mark.parametrize(
    "said",
    [
        "",
        "да",
        "нет",
        "ещё раз",
        "один раз уже звонили",  # a number inside a sentence is not a key
        "в час",
        "в одиннадцать",
        "двенадцать",  # the key 12 or a time: left to the NLU
        "один два",  # two keys: which one?
        "через пять минут",
        "перезвоните в три",
        "я один дома",
    ],
)
def test_anything_more_than_a_key_is_not_a_key(said: str) -> None:
    assert spoken_key(said) is None


def test_grammar_holds_the_words_of_the_keys_asked_for_only() -> None:
    words = grammar_for([], False, keys=["1", "0"])
    assert {"один", "единицу", "ноль", "нажимаю"} <= set(words)
    assert "два" not in words and "девять" not in words
    assert words[-1] == "[unk]" and len(words) == len(set(words))
    assert key_vocabulary([]) == ["нажимаю", "цифра"]
    assert grammar_for([], False) == grammar_for([], False, keys=[])
