"""Phone normalization and the zone of a number, checked against ru-phone-parser's real data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phoneparser
import pytest

from cuckoo.errors import InputError
from cuckoo.intake import phones
from cuckoo.intake.phones import (
    normalize_phone,
    region_for_mobile,
    timezone_for_number,
    zone_for_region,
)

GOOD = [
    ("8 (912) 345-67-89", "+79123456789"),
    ("+7 912 345 67 89", "+79123456789"),
    ("+7 (912) 345-67-89", "+79123456789"),
    ("9123456789", "+79123456789"),
    ("79123456789", "+79123456789"),
    ("89123456789", "+79123456789"),
    ("+79123456789", "+79123456789"),
    ("  8-912-345-67-89  ", "+79123456789"),
    ("8.912.345.67.89", "+79123456789"),
    ("７９１２３４５６７８９", "+79123456789"),  # full-width digits pasted from a document
    ("8 (495) 123-45-67", "+74951234567"),  # Moscow landline
    ("4951234567", "+74951234567"),
    ("8 (4012) 12-34-56", "+74012123456"),  # Kaliningrad landline
    ("8 800 555 35 35", "+78005553535"),  # toll-free
    ("+49 30 12345678", "+493012345678"),
    ("810 49 30 12345678", "+493012345678"),  # the Russian international prefix
    ("+7 701 123 4567", "+77011234567"),  # Kazakhstan shares +7
]


@pytest.mark.parametrize(("raw", "e164"), GOOD)
def test_normalize_good(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


def test_normalize_other_default_region() -> None:
    assert normalize_phone("030 12345678", default_region="DE") == "+493012345678"


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("abc", "contains letters"),
    ("8-912-ABC-67-89", "contains letters"),
    ("123", "wrong number of digits"),
    ("+7 912 345", "wrong number of digits"),
    ("8 912 345 67 890", "wrong number of digits"),
    ("+7 000 000 00 00", "no such number range"),
    ("+7 912 345 67 89 доб. 12", "extension"),
    ("+7 (912) 345-67-89 ext 5", "extension"),
    ("-", "not a phone number"),
]


@pytest.mark.parametrize(("raw", "why"), BAD)
def test_normalize_bad(raw: str, why: str) -> None:
    with pytest.raises(InputError) as e:
        normalize_phone(raw)
    message = str(e.value)
    assert why in message
    if raw.strip():
        assert repr(raw) in message  # the admin sees exactly what the ERP sent


def test_normalize_rejects_non_text() -> None:
    with pytest.raises(InputError, match="expected text"):
        normalize_phone(79123456789)  # type: ignore[arg-type]


# --- the zone of Russian mobiles: ru-phone-parser's region, then our region → zone table ---------

# Numbers under DEF blocks from all over Russia, UTC+2 … UTC+12. The region column is what
# ru-phone-parser itself answers for the number (asserted below), not our guess.
MOBILES = [
    ("+79005600000", "Калининградская область", "Europe/Kaliningrad", 2),
    ("+79637100000", "Москва", "Europe/Moscow", 3),
    ("+79161234567", "Москва", "Europe/Moscow", 3),
    ("+79022345678", "Республика Мордовия", "Europe/Moscow", 3),
    ("+79277000000", "Самарская область", "Europe/Samara", 4),
    ("+79658500000", "Удмуртская Республика", "Europe/Samara", 4),
    ("+79123456789", "Оренбургская область", "Asia/Yekaterinburg", 5),  # the docstring's example
    ("+79122000000", "Свердловская область", "Asia/Yekaterinburg", 5),
    ("+79040700000", "Омская область", "Asia/Omsk", 6),
    ("+79137000000", "Новосибирская область", "Asia/Novosibirsk", 7),
    ("+79037000000", "Кемеровская область", "Asia/Novokuznetsk", 7),
    ("+79501000000", "Иркутская область", "Asia/Irkutsk", 8),
    ("+79140001122", "Иркутская область", "Asia/Irkutsk", 8),
    ("+79141000000", "Республика Саха (Якутия)", "Asia/Yakutsk", 9),
    ("+79143500000", "Забайкальский край", "Asia/Chita", 9),
    ("+79003300000", "Приморский край", "Asia/Vladivostok", 10),
    ("+79140300000", "Магаданская область", "Asia/Magadan", 11),
    ("+79140900000", "Сахалинская область", "Asia/Sakhalin", 11),
    ("+79004400000", "Камчатский край", "Asia/Kamchatka", 12),
    ("+79140800000", "Чукотский АО", "Asia/Anadyr", 12),
]


@pytest.fixture(scope="module")
def parser() -> phoneparser.PhoneParser:
    return phoneparser.PhoneParser()


@pytest.mark.parametrize(("number", "region", "zone", "hours"), MOBILES)
def test_mobile_zone_from_real_data(
    parser: phoneparser.PhoneParser, number: str, region: str, zone: str, hours: int
) -> None:
    assert parser.parse(number.lstrip("+"))["region"] == region
    assert region in region_for_mobile(number)
    assert timezone_for_number(number) == zone
    winter = datetime(2026, 1, 15, 12, tzinfo=UTC).astimezone(ZoneInfo(zone)).utcoffset()
    assert winter == timedelta(hours=hours)


AMBIGUOUS = [
    ("+79841234567", "a block assigned to the whole Far Eastern district (+9 … +12)"),
    ("+79990000000", "a block for all of Russia"),
    ("+79148200000", "one prefix, rows for Yakutia (+9) and Chukotka (+12)"),
    ("+79540000000", "satellite phones: 'Россия'"),
    ("+79400000000", "Abkhazia"),
]


@pytest.mark.parametrize(("number", "why"), AMBIGUOUS)
def test_mobile_zone_ambiguous_is_none(number: str, why: str) -> None:
    assert timezone_for_number(number) is None, why


LANDLINES = [
    ("+74951234567", "Europe/Moscow"),
    ("+78121234567", "Europe/Moscow"),
    ("+74012123456", "Europe/Kaliningrad"),  # phonenumbers says Europe/Bucharest: fixed
    ("+73432123456", "Asia/Yekaterinburg"),
    ("+73812123456", "Asia/Omsk"),
    ("+74152123456", "Asia/Kamchatka"),
    ("+74232123456", "Asia/Vladivostok"),
    ("+493012345678", "Europe/Berlin"),
    ("+78005553535", None),  # toll-free: nowhere in particular
    ("+77011234567", None),  # Kazakh mobile
    ("+7912", None),  # not a number
    ("+791234567890", None),  # too long for a Russian mobile
    ("79123456789", None),  # not E.164 (no '+')
    ("garbage", None),
]


@pytest.mark.parametrize(("number", "zone"), LANDLINES)
def test_landline_and_foreign_zones(number: str, zone: str | None) -> None:
    assert timezone_for_number(number) == zone


# --- the region → zone table ----------------------------------------------------------------------


def test_all_89_subjects_have_a_russian_zone() -> None:
    assert len(phones._SUBJECTS) == 89
    for subject, zone in phones._SUBJECTS.items():
        offset = datetime(2026, 7, 1, tzinfo=UTC).astimezone(ZoneInfo(zone)).utcoffset()
        assert offset is not None
        assert timedelta(hours=2) <= offset <= timedelta(hours=12), subject
    assert set(phones._ALIASES.values()) <= set(phones._SUBJECTS)


# Region labels in ru-phone-parser's mobile rows that deliberately give no zone: districts or
# lists spanning several zones, the whole country, territories outside Russia, and rows whose
# region column is garbled (a district name with an unrelated operator).
KNOWN_UNMAPPED = {
    "Все",
    "Все, Южная Осетия",
    "Россия",
    "Российская Федерация",
    "Абхазия",
    "Дальневосточный ФО",
    "Сибирский ФО",
    "Северо-Западный ФО",
    "Приволжский ФО",
    "Приволжский ФО (кроме Нижегородской области)",
    "Приволжский ФО, Центральный ФО (только Москва и Мо",
    "Южный ФО, Северо-Кавказский ФО",
    "Центральный ФО, Уральский ФО, Южный ФО, Северо-Кав",
    "кроме Дальневосточного ФО",
    "кроме Северо-Западного ФО",
    "кроме Уральского ФО и Дальневосточного ФО",
    "Курская область, Калужская область, Санкт-Петербур",
    "Москва, Тюменская область, Красноярский край, Рост",
    "Москва, Южная Осетия",
    "Санкт-Петербург, Приморский край, Кемеровская обла",
    "Нижнеудинский",
    "Нижняя Тура",
    "Таштагольский",
    "Тоджинский",
    "Увинский",
    "Ярский",
}


def test_every_region_label_in_the_data_is_mapped_or_known_ambiguous() -> None:
    labels = {r for regions in phones._def_table().values() for r in regions}
    unmapped = {label for label in labels if zone_for_region(label) is None}
    assert unmapped == KNOWN_UNMAPPED
    assert len(labels) > 100  # the data file really was read


@pytest.mark.parametrize(
    ("label", "zone"),
    [
        ("Москва и Московская область", "Europe/Moscow"),
        ("Санкт - Петербург и Ленинградская область", "Europe/Moscow"),
        ("Ленинградская область, Мурманская область", "Europe/Moscow"),
        ("Архангельская область и Ненецкий автономный округ", "Europe/Moscow"),
        ("Кабардино - Балкарская Республика", "Europe/Moscow"),
        ("Хабаровский Край", "Asia/Vladivostok"),
        ("Уральский ФО", "Asia/Yekaterinburg"),
        ("Республика Северная Осетия - Алания", "Europe/Moscow"),
        ("Читинская область", "Asia/Chita"),
        ("Москва, Новосибирская область", None),  # two zones
        ("Атлантида", None),
        ("", None),
    ],
)
def test_zone_for_region_spellings(label: str, zone: str | None) -> None:
    assert zone_for_region(label) == zone


# ---- several numbers in one field (issue 13, item 9) -------------------------------------


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("89123456789; 89123456788", "+79123456789"),
        ("8 912 345-67-89 или +7 495 123-45-67", "+79123456789"),
        ("+7 (912) 345-67-89, 8 (495) 123-45-67", "+79123456789"),
        ("89123456789/89123456788", "+79123456789"),
        ("89123456789\n89123456788", "+79123456789"),
        ("8 912 345 67 89 or 8 912 345 67 88", "+79123456789"),
        ("12345678; 89123456788", "+79123456788"),  # the first one cannot be dialled
        ("7 (000) 000-00-00; +7 912 345 67 88", "+79123456788"),
    ],
)
def test_several_numbers_in_one_field_give_the_first_dialable(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    ["8 (912) 345-67-89, доб. 105", "+7 912 345-67-89 ext 5", "8 912 345-67-89 доб. 1234"],
)
def test_an_extension_is_still_an_extension(raw: str) -> None:
    with pytest.raises(InputError, match="has an extension"):
        normalize_phone(raw)


def test_none_of_several_numbers_dialable() -> None:
    with pytest.raises(InputError, match=r"none of its 2 numbers can be dialled"):
        normalize_phone("1234567; 7654321")
    from cuckoo.result_texts import reason_text

    assert reason_text("phone '1234567; 7654321': none of its 2 numbers can be dialled: x") == (
        "неверный номер телефона '1234567; 7654321': ни один из 2 номеров не набирается"
    )
