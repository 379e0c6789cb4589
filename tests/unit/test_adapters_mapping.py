"""Pure row → IncomingNotification mapping shared by all ERP adapters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.mapping import (
    REPORT_PARAMS,
    RowDefaults,
    RowError,
    get_path,
    json_safe,
    map_row,
    map_rows,
    parse_bool,
    parse_channel,
    parse_datetime,
    parse_timezone,
    report_params,
)
from cuckoo.domain import ChannelKind, Outcome, ResultReport, Status
from cuckoo.result_texts import ResultWording

MSK = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (None, False),
        (1, True),
        (0, False),
        (Decimal("1"), True),
        ("1", True),
        ("0", False),
        ("true", True),
        ("False", False),
        ("Да", True),
        ("нет", False),
        ("истина", True),
        ("Ложь", False),
        (" yes ", True),
        ("", False),
        ("x", True),
        ("-", False),
    ],
)
def test_parse_bool(value: Any, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", "ok"])
def test_parse_bool_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="yes/no"):
        parse_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("call", ChannelKind.CALL),
        ("CALL", ChannelKind.CALL),
        ("звонок", ChannelKind.CALL),
        ("sms", ChannelKind.SMS),
        ("СМС", ChannelKind.SMS),
        ("call_then_sms", ChannelKind.CALL_THEN_SMS),
        ("call-then-sms", ChannelKind.CALL_THEN_SMS),
        ("call+sms", ChannelKind.CALL_THEN_SMS),
        ("Звонок+СМС", ChannelKind.CALL_THEN_SMS),
        ("звонок и смс", ChannelKind.CALL_THEN_SMS),
        (ChannelKind.SMS, ChannelKind.SMS),
    ],
)
def test_parse_channel(value: Any, expected: ChannelKind) -> None:
    assert parse_channel(value) == expected


def test_parse_channel_rejects_with_hint() -> None:
    with pytest.raises(ValueError, match=r"unknown channel 'fax'.*call, sms or call_then_sms"):
        parse_channel("fax")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Asia/Yekaterinburg", "Asia/Yekaterinburg"),
        (" Europe/Moscow ", "Europe/Moscow"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("UTC+5", "Etc/GMT-5"),
        ("UTC+05:00", "Etc/GMT-5"),
        ("GMT+12", "Etc/GMT-12"),
        ("+07:00", "Etc/GMT-7"),
        ("+0200", "Etc/GMT-2"),
        ("UTC-3", "Etc/GMT+3"),
        ("UTC+0", "UTC"),
        ("MSK", "Etc/GMT-3"),
        ("MSK+2", "Etc/GMT-5"),
        ("МСК+9", "Etc/GMT-12"),
        ("мск-1", "Etc/GMT-2"),
    ],
)
def test_parse_timezone(value: str, expected: str) -> None:
    assert parse_timezone(value) == expected
    ZoneInfo(expected)  # every answer is a real zone


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Mars/Olympus", "unknown time zone"),
        ("UTC+5:30", "whole-hour"),
        ("UTC+15", "out of range"),
        ("МСК+12", "out of range"),
    ],
)
def test_parse_timezone_rejects(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_timezone(value)


@pytest.mark.parametrize(
    ("value", "end_of_day", "expected"),
    [
        (None, False, None),
        ("", False, None),
        ("0001-01-01T00:00:00", False, None),  # 1C empty date
        ("0001-01-01", True, None),
        (date(1, 1, 1), False, None),
        ("2026-11-20T18:30:00", False, datetime(2026, 11, 20, 18, 30, tzinfo=MSK)),
        ("2026-11-20 18:30", False, datetime(2026, 11, 20, 18, 30, tzinfo=MSK)),
        ("2026-11-20 18:30:00.000000", False, datetime(2026, 11, 20, 18, 30, tzinfo=MSK)),
        ("2026-11-20T15:30:00Z", False, datetime(2026, 11, 20, 15, 30, tzinfo=UTC)),
        ("2026-11-20T18:30:00+05:00", False, datetime(2026, 11, 20, 13, 30, tzinfo=UTC)),
        ("20.11.2026 18:30", False, datetime(2026, 11, 20, 18, 30, tzinfo=MSK)),
        ("20.11.2026 18:30:15", False, datetime(2026, 11, 20, 18, 30, 15, tzinfo=MSK)),
        ("20.11.26 18:30", False, datetime(2026, 11, 20, 18, 30, tzinfo=MSK)),
        ("20.11.2026", False, datetime(2026, 11, 20, tzinfo=MSK)),
        ("20.11.2026", True, datetime(2026, 11, 21, tzinfo=MSK)),
        ("2026-11-20", False, datetime(2026, 11, 20, tzinfo=MSK)),
        ("2026-11-20", True, datetime(2026, 11, 21, tzinfo=MSK)),
        (date(2026, 11, 20), True, datetime(2026, 11, 21, tzinfo=MSK)),
        (datetime(2026, 11, 20, 9, 0), False, datetime(2026, 11, 20, 9, 0, tzinfo=MSK)),
        (datetime(2026, 11, 20, 9, 0), True, datetime(2026, 11, 20, 9, 0, tzinfo=MSK)),
        (
            datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
            False,
            datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        ),
    ],
)
def test_parse_datetime(value: Any, end_of_day: bool, expected: datetime | None) -> None:
    got = parse_datetime(value, "Europe/Moscow", end_of_day=end_of_day)
    assert got == expected
    if got is not None:
        assert got.tzinfo is not None


@pytest.mark.parametrize("value", ["tomorrow", "32.13.2026", "2026/11/20 10:00"])
def test_parse_datetime_rejects(value: str) -> None:
    with pytest.raises(ValueError, match="not a date/time"):
        parse_datetime(value, "UTC")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("текст", "текст"),
        (5, 5),
        (2.5, 2.5),
        (True, True),
        (Decimal("3490.50"), "3490.50"),
        (Decimal("12500.00"), "12500"),
        (Decimal("1E+3"), "1000"),
        (date(2026, 11, 20), "2026-11-20"),
        (datetime(2026, 11, 20, 9, 5), "2026-11-20T09:05:00"),
        (time(9, 5), "09:05:00"),
        (b"\x01\xff", "01ff"),
        ({"a": Decimal("1.5"), "b": [date(2026, 1, 2)]}, {"a": "1.5", "b": ["2026-01-02"]}),
        ((1, "x"), [1, "x"]),
    ],
)
def test_json_safe(value: Any, expected: Any) -> None:
    assert json_safe(value) == expected


def test_get_path() -> None:
    row = {"a": 1, "Контрагент": {"Телефон": "8 912", "Адрес": {"Город": "Пермь"}}, "x/y": 2}
    assert get_path(row, "a") == 1
    assert get_path(row, "x/y") == 2  # not nested: literal name
    assert get_path(row, "Контрагент/Телефон", nested=True) == "8 912"
    assert get_path(row, "Контрагент/Адрес/Город", nested=True) == "Пермь"
    assert get_path(row, "Контрагент/Нет", nested=True) is None
    assert get_path(row, "a/b", nested=True) is None


D = RowDefaults(scenario="documents_sent", erp_timezone="Europe/Moscow")


def row(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"external_id": 17, "phone": "8 (912) 345-67-89"}
    base.update(kw)
    return base


# (row, defaults, expected attributes)
MAP_CASES: list[tuple[dict[str, Any], RowDefaults, dict[str, Any]]] = [
    (
        row(),
        D,
        {
            "external_id": "17",
            "phone": "8 (912) 345-67-89",
            "scenario": "documents_sent",
            "channel": ChannelKind.CALL,
            "tenant": "default",
            "timezone": None,
            "variables": {},
        },
    ),
    (row(scenario="order_ready"), D, {"scenario": "order_ready"}),
    (row(scenario="  "), D, {"scenario": "documents_sent"}),
    (row(), RowDefaults(), {"scenario": ""}),  # store rejects it: the ERP learns why
    (row(phone=None), D, {"phone": ""}),
    (row(phone=79123456789), D, {"phone": "79123456789"}),
    (row(channel="sms"), D, {"channel": ChannelKind.SMS}),
    (row(call_flag=1, sms_flag=0), D, {"channel": ChannelKind.CALL}),
    (row(call_flag=0, sms_flag=1), D, {"channel": ChannelKind.SMS}),
    (row(call_flag=True, sms_flag=True), D, {"channel": ChannelKind.CALL_THEN_SMS}),
    (row(call_flag="да"), D, {"channel": ChannelKind.CALL}),
    (row(channel="sms", call_flag=1), D, {"channel": ChannelKind.SMS}),  # explicit wins
    (row(), RowDefaults(channel=ChannelKind.SMS), {"channel": ChannelKind.SMS}),
    (row(tenant="filial-2"), D, {"tenant": "filial-2"}),
    (row(), RowDefaults(tenant="shop"), {"tenant": "shop"}),
    (row(timezone="MSK+2"), D, {"timezone": "Etc/GMT-5"}),
    (row(timezone=""), D, {"timezone": None}),
    (
        row(deadline="30.11.2026", not_before="2026-11-21 09:00"),
        D,
        {
            "deadline": datetime(2026, 12, 1, tzinfo=MSK),
            "not_before": datetime(2026, 11, 21, 9, tzinfo=MSK),
        },
    ),
    (
        row(doc_number="ЗК-1", amount=Decimal("10.50"), doc_date=date(2026, 11, 20)),
        D,
        {"variables": {"doc_number": "ЗК-1", "amount": "10.50", "doc_date": "2026-11-20"}},
    ),
    (
        row(variables='{"x": 1, "имя": "Мария"}', other="o"),
        D,
        {"variables": {"other": "o", "x": 1, "имя": "Мария"}},
    ),
    (row(variables={"x": 1}), D, {"variables": {"x": 1}}),
    (
        row(Number="1", Секрет="s"),
        RowDefaults(variables={"номер": "Number", "нет": "Нет"}),
        {"variables": {"номер": "1", "нет": None}},
    ),
    (
        {"Ref_Key": "guid-1", "Телефон": "8912", "Контрагент_Key": "g", "DataVersion": "v"},
        RowDefaults(
            fields={"external_id": "Ref_Key", "phone": "Телефон"},
            ignore=frozenset({"DataVersion"}),
            ignore_suffixes=("_Key",),
        ),
        {"external_id": "guid-1", "phone": "8912", "variables": {}},
    ),
    (
        {"id": " 5 ", "tel": "1", "nested": {"a": 1}, "list": [1]},
        RowDefaults(fields={"external_id": "id", "phone": "tel"}),
        {"external_id": "5", "phone": "1", "variables": {}},
    ),
]


@pytest.mark.parametrize(("data", "defaults", "expected"), MAP_CASES)
def test_map_row(data: dict[str, Any], defaults: RowDefaults, expected: dict[str, Any]) -> None:
    n = map_row("shop", data, defaults)
    assert n.source == "shop"
    for attr, value in expected.items():
        assert getattr(n, attr) == value, attr


def test_map_row_nested_paths() -> None:
    data = {"Ref_Key": "g", "Контрагент": {"Телефон": "+7 912", "ЧасовойПояс": "Asia/Omsk"}}
    d = RowDefaults(
        scenario="s",
        fields={
            "external_id": "Ref_Key",
            "phone": "Контрагент/Телефон",
            "timezone": "Контрагент/ЧасовойПояс",
        },
    )
    n = map_row("erp1c", data, d, nested=True)
    assert (n.phone, n.timezone) == ("+7 912", "Asia/Omsk")


@pytest.mark.parametrize(
    ("data", "external_id", "message"),
    [
        ({"phone": "1"}, None, "no external_id value"),
        (row(external_id=""), None, "no external_id value"),
        (row(channel="fax"), "17", "unknown channel"),
        (row(call_flag=0, sms_flag=0), "17", "neither the call nor the SMS flag"),
        (row(call_flag="может"), "17", "yes/no"),
        (row(timezone="Луна/Море"), "17", "unknown time zone"),
        (row(deadline="скоро"), "17", "not a date/time"),
        (row(not_before="32.01.2026"), "17", "not a date/time"),
        (row(variables="{broken"), "17", "variables: not valid JSON"),
        (row(variables="[1, 2]"), "17", "expected a JSON object"),
    ],
)
def test_map_row_errors(data: dict[str, Any], external_id: str | None, message: str) -> None:
    with pytest.raises(RowError, match=message) as info:
        map_row("shop", data, D)
    assert info.value.external_id == external_id


def test_map_row_error_names_mapped_id_column() -> None:
    with pytest.raises(RowError, match="no Ref_Key value"):
        map_row("x", {"phone": "1"}, RowDefaults(fields={"external_id": "Ref_Key"}))


def test_map_rows_keeps_good_rows() -> None:
    rows = [
        row(external_id=1),
        row(external_id=2, channel="fax"),
        {"phone": "x"},
        row(external_id=3),
    ]
    good, bad = map_rows("shop", rows, D)
    assert [n.external_id for n in good] == ["1", "3"]
    assert [(e.external_id, e.reason.split(" ")[0]) for e in bad] == [
        ("2", "unknown"),
        (None, "no"),
    ]


def test_report_params() -> None:
    at = datetime(2026, 11, 21, 9, tzinfo=UTC)
    report = ResultReport(
        source="shop",
        external_id="17",
        status=Status.CONFIRMED,
        outcome=Outcome.CONFIRMED,
        attempts=2,
        contacts=1,
        last_attempt_at=at,
        dtmf="1",
        transcript="да",
        callback_at=None,
        detail="confirmed: final",
    )
    p = report_params(report, at + timedelta(minutes=1))
    assert set(p) == set(REPORT_PARAMS)
    assert p == {
        "source": "shop",
        "external_id": "17",
        "status": "подтверждено",
        "status_code": "confirmed",
        "outcome": "подтвердил",
        "outcome_code": "confirmed",
        "final": True,
        "attempts": 2,
        "contacts": 1,
        "dtmf": "1",
        "transcript": "да",
        "callback_at": None,
        "detail": "подтверждено",
        "last_attempt_at": at,
        "reported_at": at + timedelta(minutes=1),
    }
    en = report_params(report, at, ResultWording("en", {"confirmed": "1"}))
    assert (en["status"], en["status_code"], en["outcome"], en["detail"]) == (
        "1",
        "confirmed",
        "confirmed",
        "confirmed: final",
    )
    pending = ResultReport("s", "1", Status.PENDING, None, 1, 0, None)
    assert report_params(pending, at)["final"] is False
    assert report_params(pending, at)["outcome"] is None
    assert report_params(pending, at)["outcome_code"] is None


@pytest.mark.parametrize(
    ("flat", "nested"),
    [
        ({"a": 1}, {"a": 1}),
        ({"customer__first_name": "А"}, {"customer": {"first_name": "А"}}),
        (
            {"customer.first_name": "А", "customer__patronymic": "Б"},
            {"customer": {"first_name": "А", "patronymic": "Б"}},
        ),
        ({"a__b__c": 1}, {"a": {"b": {"c": 1}}}),
        ({"x": {"y": 1}, "x__z": 2}, {"x": {"y": 1, "z": 2}}),
        ({"x": 5, "x__z": 2}, {"x": 5}),  # a plain variable wins over a clashing nested one
        ({"x__z": 2, "x": 5}, {"x": 5}),
        ({"x": {"z": 1}, "x__z": 2}, {"x": {"z": 1}}),  # the JSON object's value wins
        ({"__a": 1}, {"__a": 1}),
    ],
)
def test_nest_dotted(flat: dict[str, object], nested: dict[str, object]) -> None:
    from adapters.mapping import nest_dotted

    assert nest_dotted(flat) == nested
