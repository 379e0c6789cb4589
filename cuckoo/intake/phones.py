"""Phone numbers: normalization to E.164 and the customer's time zone from the number. No I/O
except reading ru-phone-parser's bundled data file once, on first use.

Time zone of a number:
- Russian mobiles (+79…) are not tied to a zone by their code (+7 912 is sold from Komi to
  Orenburg), so `phonenumbers` answers with 16 zones. ru-phone-parser ships Rossvyaz's DEF-prefix
  → region table (+7 912 34… → Оренбургская область); `_SUBJECTS` below maps each of Russia's 89
  federal subjects to its IANA zone. The region is where the number was *issued*: a customer who
  moved or ported a number may live elsewhere, which is why the ERP's zone field wins when present.
- Landlines and other countries: `phonenumbers.timezone`, when it names exactly one zone.
- Anything ambiguous (a federal district spanning zones, "all of Russia", rows of one prefix
  naming regions in different zones, garbled rows of the data file) → None, and the caller
  falls back to the tenant's zone.

Russia has had no daylight saving time since 2014 (and no seasonal clock change since 2011's
"permanent summer time" was undone in 2014), so each of these zones is a fixed UTC offset today.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import timezone as pn_timezone
from phoneparser import get_data

from cuckoo.errors import InputError

# The 89 federal subjects as Russia counts them → IANA zone. Where a subject spans several zones
# (only Sakha/Yakutia: +9 … +11) the zone of its capital and of nearly all its people is used.
# Donetsk, Luhansk, Zaporozhye and Kherson regions keep Moscow time in Russian use.
_SUBJECTS: dict[str, str] = {
    # republics (24)
    "Республика Адыгея": "Europe/Moscow",
    "Республика Алтай": "Asia/Barnaul",
    "Республика Башкортостан": "Asia/Yekaterinburg",
    "Республика Бурятия": "Asia/Irkutsk",
    "Республика Дагестан": "Europe/Moscow",
    "Донецкая Народная Республика": "Europe/Moscow",
    "Республика Ингушетия": "Europe/Moscow",
    "Кабардино-Балкарская Республика": "Europe/Moscow",
    "Республика Калмыкия": "Europe/Moscow",
    "Карачаево-Черкесская Республика": "Europe/Moscow",
    "Республика Карелия": "Europe/Moscow",
    "Республика Коми": "Europe/Moscow",
    "Республика Крым": "Europe/Simferopol",
    "Луганская Народная Республика": "Europe/Moscow",
    "Республика Марий Эл": "Europe/Moscow",
    "Республика Мордовия": "Europe/Moscow",
    "Республика Саха (Якутия)": "Asia/Yakutsk",
    "Республика Северная Осетия — Алания": "Europe/Moscow",
    "Республика Татарстан": "Europe/Moscow",
    "Республика Тыва": "Asia/Krasnoyarsk",
    "Удмуртская Республика": "Europe/Samara",
    "Республика Хакасия": "Asia/Krasnoyarsk",
    "Чеченская Республика": "Europe/Moscow",
    "Чувашская Республика": "Europe/Moscow",
    # krais (9)
    "Алтайский край": "Asia/Barnaul",
    "Забайкальский край": "Asia/Chita",
    "Камчатский край": "Asia/Kamchatka",
    "Краснодарский край": "Europe/Moscow",
    "Красноярский край": "Asia/Krasnoyarsk",
    "Пермский край": "Asia/Yekaterinburg",
    "Приморский край": "Asia/Vladivostok",
    "Ставропольский край": "Europe/Moscow",
    "Хабаровский край": "Asia/Vladivostok",
    # oblasts (48)
    "Амурская область": "Asia/Yakutsk",
    "Архангельская область": "Europe/Moscow",
    "Астраханская область": "Europe/Astrakhan",
    "Белгородская область": "Europe/Moscow",
    "Брянская область": "Europe/Moscow",
    "Владимирская область": "Europe/Moscow",
    "Волгоградская область": "Europe/Volgograd",
    "Вологодская область": "Europe/Moscow",
    "Воронежская область": "Europe/Moscow",
    "Запорожская область": "Europe/Moscow",
    "Ивановская область": "Europe/Moscow",
    "Иркутская область": "Asia/Irkutsk",
    "Калининградская область": "Europe/Kaliningrad",
    "Калужская область": "Europe/Moscow",
    "Кемеровская область": "Asia/Novokuznetsk",
    "Кировская область": "Europe/Kirov",
    "Костромская область": "Europe/Moscow",
    "Курганская область": "Asia/Yekaterinburg",
    "Курская область": "Europe/Moscow",
    "Ленинградская область": "Europe/Moscow",
    "Липецкая область": "Europe/Moscow",
    "Магаданская область": "Asia/Magadan",
    "Московская область": "Europe/Moscow",
    "Мурманская область": "Europe/Moscow",
    "Нижегородская область": "Europe/Moscow",
    "Новгородская область": "Europe/Moscow",
    "Новосибирская область": "Asia/Novosibirsk",
    "Омская область": "Asia/Omsk",
    "Оренбургская область": "Asia/Yekaterinburg",
    "Орловская область": "Europe/Moscow",
    "Пензенская область": "Europe/Moscow",
    "Псковская область": "Europe/Moscow",
    "Ростовская область": "Europe/Moscow",
    "Рязанская область": "Europe/Moscow",
    "Самарская область": "Europe/Samara",
    "Саратовская область": "Europe/Saratov",
    "Сахалинская область": "Asia/Sakhalin",
    "Свердловская область": "Asia/Yekaterinburg",
    "Смоленская область": "Europe/Moscow",
    "Тамбовская область": "Europe/Moscow",
    "Тверская область": "Europe/Moscow",
    "Томская область": "Asia/Tomsk",
    "Тульская область": "Europe/Moscow",
    "Тюменская область": "Asia/Yekaterinburg",
    "Ульяновская область": "Europe/Ulyanovsk",
    "Херсонская область": "Europe/Moscow",
    "Челябинская область": "Asia/Yekaterinburg",
    "Ярославская область": "Europe/Moscow",
    # federal cities (3)
    "Москва": "Europe/Moscow",
    "Санкт-Петербург": "Europe/Moscow",
    "Севастополь": "Europe/Simferopol",
    # autonomous oblast (1) and okrugs (4)
    "Еврейская автономная область": "Asia/Vladivostok",
    "Ненецкий автономный округ": "Europe/Moscow",
    "Ханты-Мансийский автономный округ — Югра": "Asia/Yekaterinburg",
    "Чукотский автономный округ": "Asia/Anadyr",
    "Ямало-Ненецкий автономный округ": "Asia/Yekaterinburg",
}

# Other spellings found in ru-phone-parser's data (and common in ERPs) → the name above.
_ALIASES: dict[str, str] = {
    "Адыгея": "Республика Адыгея",
    "Башкортостан": "Республика Башкортостан",
    "Бурятия": "Республика Бурятия",
    "Дагестан": "Республика Дагестан",
    "Ингушетия": "Республика Ингушетия",
    "Калмыкия": "Республика Калмыкия",
    "Карелия": "Республика Карелия",
    "Коми": "Республика Коми",
    "Крым": "Республика Крым",
    "Марий Эл": "Республика Марий Эл",
    "Мордовия": "Республика Мордовия",
    "Якутия": "Республика Саха (Якутия)",
    "Республика Саха": "Республика Саха (Якутия)",
    "Республика Северная Осетия": "Республика Северная Осетия — Алания",
    "Республика Северная Осетия - Алания": "Республика Северная Осетия — Алания",
    "Северная Осетия": "Республика Северная Осетия — Алания",
    "Татарстан": "Республика Татарстан",
    "Республика Татарстан (Татарстан)": "Республика Татарстан",
    "Челны Республика Татарстан": "Республика Татарстан",  # "Набережные" went to the city field
    "Тыва": "Республика Тыва",
    "Удмуртия": "Удмуртская Республика",
    "Республика Удмуртия": "Удмуртская Республика",
    "Хакасия": "Республика Хакасия",
    "Чечня": "Чеченская Республика",
    "Чувашия": "Чувашская Республика",
    "воды Ставропольский край": "Ставропольский край",  # "Минеральные" went to the city field
    "Читинская область": "Забайкальский край",  # its name until 2008
    "Великий Новгородская область": "Новгородская область",
    "Кемеровская область — Кузбасс": "Кемеровская область",
    "Еврейская АО": "Еврейская автономная область",
    "Ненецкий АО": "Ненецкий автономный округ",
    "Ханты-Мансийский АО": "Ханты-Мансийский автономный округ — Югра",
    "Ханты-Мансийский автономный округ": "Ханты-Мансийский автономный округ — Югра",
    "Чукотский АО": "Чукотский автономный округ",
    "Ямало-Ненецкий АО": "Ямало-Ненецкий автономный округ",
    "ДНР": "Донецкая Народная Республика",
    "ЛНР": "Луганская Народная Республика",
}

# Federal districts that lie in one zone (rows for a whole operator block name a district).
# The others (Northwestern has Kaliningrad, Southern has Astrakhan, Volga, Siberian, Far Eastern)
# span several zones and stay ambiguous.
_ONE_ZONE_DISTRICTS: dict[str, str] = {
    "Центральный ФО": "Europe/Moscow",
    "Центральный ФО (кроме Москвы и Московской области)": "Europe/Moscow",
    "Центральный ФО (только Москва и Московская область": "Europe/Moscow",  # cut off in the data
    "Северо-Кавказский ФО": "Europe/Moscow",
    "Уральский ФО": "Asia/Yekaterinburg",
}


def _key(name: str) -> str:
    """Spelling-insensitive key: case, ё, spaces around dashes, dash kinds."""
    s = name.lower().replace("ё", "е").replace("—", "-").replace("–", "-")
    s = re.sub(r"\s*-\s*", "-", s)
    return re.sub(r"\s+", " ", s).strip()


_BY_KEY: dict[str, str] = {_key(k): v for k, v in _SUBJECTS.items()}
_BY_KEY.update({_key(k): _SUBJECTS[v] for k, v in _ALIASES.items()})
_BY_KEY.update({_key(k): v for k, v in _ONE_ZONE_DISTRICTS.items()})


def zone_for_region(region: str) -> str | None:
    """IANA zone of a Russian federal subject by name, or None if unknown or ambiguous.

    "A и B" / "A, B" (rows covering several subjects) resolve when all parts share one zone.
    """
    whole = _BY_KEY.get(_key(region))
    if whole is not None:
        return whole
    parts = [p for p in re.split(r",| и ", region) if p.strip()]
    if not parts:
        return None
    zones = {_BY_KEY.get(_key(p)) for p in parts}
    if None in zones or len(zones) != 1:
        return None
    return zones.pop()


_RU_LANDLINE_FIXES = {"Europe/Bucharest": "Europe/Kaliningrad"}


@functools.cache
def _def_table() -> dict[str, tuple[str, ...]]:
    """'+79123' → region names of ru-phone-parser's rows with that exact prefix (mobiles only).

    The package's own lookup scans all 31 000 rows per number; this index makes it a few dict
    probes. Rows without a region (operator-only rows) carry no information and are left out.
    """
    table: dict[str, list[str]] = {}
    for row in get_data():
        code = str(row.get("Код", "")).replace(" ", "")
        region = str(row.get("Регион", "")).strip()
        if code.startswith("+79") and region:
            table.setdefault(code, []).append(region)
    return {code: tuple(regions) for code, regions in table.items()}


def region_for_mobile(e164: str) -> tuple[str, ...]:
    """Region names of the longest matching DEF prefix (several when the data file disagrees)."""
    table = _def_table()
    for n in range(len(e164), 3, -1):
        regions = table.get(e164[:n])
        if regions:
            return regions
    return ()


def timezone_for_number(e164: str) -> str | None:
    """IANA zone of the customer by their number, None if unknown or ambiguous."""
    if not re.fullmatch(r"\+\d{6,15}", e164):
        return None
    if e164.startswith("+79"):
        if len(e164) != 12:
            return None
        regions = region_for_mobile(e164)
        if not regions:
            return None
        found = {zone_for_region(r) for r in regions}
        if None in found or len(found) != 1:
            return None
        return found.pop()
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    zones = pn_timezone.time_zones_for_number(number)
    if len(zones) != 1 or zones[0] == pn_timezone.UNKNOWN_TIMEZONE:
        return None
    zone = str(zones[0])
    if phonenumbers.region_code_for_number(number) == "RU":
        # phonenumbers files Kaliningrad (+7 401) under Europe/Bucharest: same winter offset,
        # but Bucharest has summer time and Kaliningrad does not.
        zone = _RU_LANDLINE_FIXES.get(zone, zone)
    return zone


# Between two numbers typed into one field: «89123456789; 89123456788», «… или …», «…, …».
_SEVERAL = re.compile(r"\s*(?:[;,/\n]|\s(?:или|or)\s)\s*", re.IGNORECASE)


def several_numbers(text: str) -> list[str]:
    """The numbers of a field that holds several (each part with at least 7 digits), in
    order; [] when it holds one (an extension after a comma stays with its number)."""
    parts = [p for p in _SEVERAL.split(text) if p.strip()]
    if len(parts) < 2 or not all(len(re.sub(r"\D", "", p)) >= 7 for p in parts):
        return []
    return parts


def normalize_phone(raw: str, default_region: str = "RU") -> str:
    """A phone number as typed in an ERP → E.164 ('+79123456789').

    Accepts the usual Russian spellings: '8 (912) 345-67-89', '+7 912 345 67 89', '9123456789',
    '79123456789', and international numbers with '+' or the Russian '810' prefix. A field with
    several numbers («89123456789; 89123456788», «… или …») gives the first dialable one (the
    field as typed is kept with the notification, phone_raw).
    Raises InputError, quoting the raw value, for anything that is not a valid dialable number.
    """
    if not isinstance(raw, str):
        raise InputError(f"phone {raw!r}: expected text, got {type(raw).__name__}")
    parts = several_numbers(raw.strip())
    if parts:
        problems = []
        for part in parts:
            try:
                return _one_number(part, default_region)
            except InputError as e:
                problems.append(str(e))
        raise InputError(f"phone {raw!r}: none of its {len(parts)} numbers can be dialled: "
                         + "; ".join(problems))  # fmt: skip
    return _one_number(raw, default_region)


def _one_number(raw: str, default_region: str) -> str:
    text = raw.strip()
    if not text:
        raise InputError("phone is empty")
    if re.search(r"[A-Za-zА-Яа-яЁё]", text) and not re.search(
        r"(доб|ext|x)\.?\s*\d+\s*$", text, re.IGNORECASE
    ):
        raise InputError(f"phone {raw!r}: contains letters")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as e:
        raise InputError(f"phone {raw!r}: not a phone number ({e._msg})") from e
    if number.extension:
        raise InputError(
            f"phone {raw!r}: has an extension ({number.extension}); cuckoo dials the number "
            "itself, so give a direct number"
        )
    if not phonenumbers.is_possible_number(number):
        raise InputError(f"phone {raw!r}: wrong number of digits")
    if not phonenumbers.is_valid_number(number):
        raise InputError(f"phone {raw!r}: no such number range")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
