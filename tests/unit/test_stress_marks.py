"""cuckoo.speech.stress.keep_marks: which of the placer's stress marks reach the voice. Pure:
the placer's output is written here as silero-stress gives it."""

from __future__ import annotations

from cuckoo.speech.stress import is_name, keep_marks

TEXT = "Ирина Сергеевна, мы поменяли замок на складе «Ромашка»."
MARKED = "Ир+ина Серг+еевна, м+ы помен+яли зам+ок н+а скл+аде «Ром+ашка»."
HOMOGRAPHS = {"замок", "стоит", "дома"}


def test_off_keeps_the_text() -> None:
    assert keep_marks(TEXT, MARKED, "off", HOMOGRAPHS) == TEXT


def test_all_keeps_every_mark() -> None:
    assert keep_marks(TEXT, MARKED, "all", HOMOGRAPHS) == MARKED


def test_names_keeps_names_homographs_and_capitalized_words() -> None:
    assert keep_marks(TEXT, MARKED, "names", HOMOGRAPHS) == (
        "Ир+ина Серг+еевна, мы поменяли зам+ок на складе «Ром+ашка»."
    )


def test_a_mark_from_the_lexicon_wins() -> None:
    text = "Господин Иван+ов, замок готов."
    marked = "Госп+один Иван+ов, з+амок гот+ов."  # the placer left the lexicon's mark alone
    assert keep_marks(text, marked, "all", HOMOGRAPHS) == marked
    assert keep_marks("Господин Ив+анов.", "Госп+один Иван+ов.", "all") == ("Госп+один Ив+анов.")


def test_the_original_case_and_the_placers_yo() -> None:
    assert keep_marks("АНАТОЛИЙ Федорович", "анат+олий ф+ёдорович", "all") == (
        "АНАТ+ОЛИЙ Ф+ёдорович"
    )


def test_words_the_placer_changed_keep_their_spelling() -> None:
    # A placer that dropped a word: the rest is matched no further, nothing is invented.
    assert keep_marks("Ирина Петровна Сидорова", "Ир+ина Сид+орова", "all") == (
        "Ир+ина Петровна Сидорова"
    )


def test_digits_and_latin_pass_through() -> None:
    text = "Заказ A-15 для Ирины"
    assert keep_marks(text, "Зак+аз A-15 для Ир+ины", "names") == "Заказ A-15 для Ир+ины"


def test_what_counts_as_a_name() -> None:
    assert is_name("Сергеевна", sentence_start=True)  # a patronymic, wherever it stands
    assert is_name("Ирина", sentence_start=True)
    assert is_name("Ромашка", sentence_start=False)  # capitalized inside a sentence
    assert not is_name("Документы", sentence_start=True)
    assert not is_name("Вам", sentence_start=False)  # the polite «Вы» of a letter
    assert not is_name("склад", sentence_start=False)
