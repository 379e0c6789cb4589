"""Lexicon: load TOML with errors that name file and line; apply whole-word, stems, longest."""

from __future__ import annotations

from pathlib import Path

import pytest

from cuckoo.errors import ConfigError
from cuckoo.speech.lexicon import Lexicon, strip_stress_marks
from cuckoo.speech.normalize import normalize

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lexicon.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def lexicon(tmp_path: Path) -> Lexicon:
    return Lexicon.load(
        _write(
            tmp_path,
            """
[surnames]
"Иванов*" = "Иван+ов"
"Шевченко" = "Шевч+енко"
[brands]
"OZON" = "оз+он"
"Wildberries" = "в+айлдберриз"
[companies]
"Деловые Линии" = "делов+ые л+инии"
"Линии" = "л+инии"
""",
        )
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Иванов", "Иван+ов"),
        ("Иванову Петру", "Иван+ову Петру"),
        ("Ивановой", "Иван+овой"),
        ("г-ну Шевченко", "г-ну Шевч+енко"),
        ("заказ OZON готов", "заказ оз+он готов"),
        ("заказ ozon готов", "заказ оз+он готов"),
        ("ваш Wildberries", "ваш в+айлдберриз"),
        ("OZONE", "OZONE"),  # whole words only
        ("ДЕЛОВЫЕ  линии", "делов+ые л+инии"),  # longest entry wins, spaces tolerated
        ("линии", "л+инии"),
        ("Петров", "Петров"),
    ],
)
def test_apply(lexicon: Lexicon, text: str, expected: str) -> None:
    assert lexicon.apply(text) == expected


def test_empty_lexicon_changes_nothing() -> None:
    assert Lexicon.empty().apply("OZON Иванов") == "OZON Иванов"
    assert len(Lexicon.empty()) == 0


def test_shipped_sample_lexicon_loads_and_survives_normalize() -> None:
    lexicon = Lexicon.load(REPO / "voices" / "lexicon.toml")
    assert len(lexicon) >= 20
    spoken = normalize(lexicon.apply("Иванову: заказ OZON № 123 на 2 шт. готов"))
    assert spoken == "Иван+ову: заказ оз+он номер сто двадцать три на две штуки готов"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[brands]\n"OZON" = 5\n', "lexicon.toml:2: [brands] 'OZON': the spoken form"),
        ('[brands]\n"OZON" = ""\n', "lexicon.toml:2:"),
        ('top = "x"\n', "lexicon.toml:1: 'top' must be a table"),
        ('[brands\n"OZON" = "оз+он"\n', "lexicon.toml: "),
        ('[brands]\n"Деловые Линии*" = "x"\n', "lexicon.toml:2: [brands] 'Деловые Линии*'"),
        (
            '[surnames]\n"Сергеев*" = "Серг+еев*"\n',
            "lexicon.toml:2: [surnames] 'Сергеев*' = 'Серг+еев*': '*' belongs to the written "
            "form only; write 'Серг+еев'",
        ),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        Lexicon.load(_write(tmp_path, text))
    assert message in str(e.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        Lexicon.load(tmp_path / "nope.toml")


def test_strip_stress_marks() -> None:
    assert strip_stress_marks("Иван+ову из оз+он, +айфон") == "Иванову из озон, айфон"
    assert strip_stress_marks("2+2 и C++") == "2+2 и C++"  # only a "+" before a vowel is a mark
