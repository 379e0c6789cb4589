"""Pure parts of the adapters: CSV text → rows, DB error → retry or not, OData helpers."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import exc as sa_exc

from adapters.csv_folder import decode, header_to_fields, parse_csv, row_id, sniff_delimiter
from adapters.mapping import RowDefaults
from adapters.onec import OneCOptions, odata_error_text, to_odata
from adapters.sql import classify_db_error
from cuckoo.domain import ChannelKind
from cuckoo.errors import ConfigError, ErpUnavailable, InputError

D = RowDefaults(scenario="documents_sent", erp_timezone="Europe/Moscow")


# ---- CSV ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "encoding", "expected"),
    [
        ("Телефон;Сумма\n".encode(), "auto", "Телефон;Сумма\n"),
        (b"\xef\xbb\xbf" + "Телефон\n".encode(), "auto", "Телефон\n"),
        ("Телефон;Сумма\n".encode("cp1251"), "auto", "Телефон;Сумма\n"),
        ("Телефон\n".encode("cp1251"), "cp1251", "Телефон\n"),
        ("phone\n".encode("utf-16"), "utf-16", "phone\n"),
    ],
)
def test_decode(data: bytes, encoding: str, expected: str) -> None:
    assert decode(data, encoding) == expected


def test_decode_explicit_wrong_encoding_raises() -> None:
    with pytest.raises(UnicodeDecodeError):
        decode("Телефон".encode("cp1251"), "utf-8")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Ид;Телефон;Сумма", ";"),
        ("id,phone,amount", ","),
        ("id\tphone\tamount", "\t"),
        ("id|phone", "|"),
        ("phone", ";"),
        ('id;"Фамилия, Имя";phone', ";"),
    ],
)
def test_sniff_delimiter(line: str, expected: str) -> None:
    assert sniff_delimiter(line) == expected


@pytest.mark.parametrize(
    ("header", "fields", "expected", "problem"),
    [
        (["Ид", "Телефон", "Сумма"], {}, ["external_id", "phone", "Сумма"], None),
        ([" PHONE ", "Сценарий"], {}, ["phone", "scenario"], None),
        (["Часовой пояс", "Срок"], {}, ["timezone", "deadline"], None),
        (["Уведомить звонком", "Уведомить СМС"], {}, ["call_flag", "sms_flag"], None),
        (["Моб", "Код"], {"phone": "моб", "external_id": "Код"}, ["phone", "external_id"], None),
        # an explicit mapping takes the field from the alias: "Телефон" stays a variable
        (["Телефон", "Моб"], {"phone": "Моб"}, ["Телефон", "phone"], None),
        (["phone", "Телефон"], {}, ["phone"], "columns 'phone' and 'Телефон' both map to phone"),
    ],
)
def test_header_to_fields(
    header: list[str], fields: dict[str, str], expected: list[str], problem: str | None
) -> None:
    got, err = header_to_fields(header, fields)
    assert err == problem
    assert got == expected


def test_row_id_is_stable_and_content_based() -> None:
    assert row_id(["8 912", "x"]) == row_id([" 8 912 ", "x"])
    assert row_id(["8 912", "x"]) != row_id(["8 912", "y"])
    assert row_id(["a"]).startswith("row-")


def test_parse_csv_good_and_bad_rows_with_lines() -> None:
    text = (
        "Ид;Телефон;Сценарий;Канал;Номер;Сумма\n"
        "101;8 (912) 345-67-89;order_ready;звонок;ЗК-1;100,50\n"
        "\n"  # blank lines are skipped, line numbers still count
        "102;;order_ready;смс;ЗК-2;5\n"
        "103;+79120000000;order_ready\n"
        "104;+79120000001;;факс;ЗК-4;1\n"
        '105;"+7 912 000-00-02";;sms;"ЗК-5; срочно";7\n'
    )
    p = parse_csv(text, "orders.csv", "drop", D, "auto")
    assert p.fatal is None
    assert p.rows == 5
    assert [(n.external_id, n.channel) for n in p.good] == [
        ("101", ChannelKind.CALL),
        ("105", ChannelKind.SMS),
    ]
    assert p.good[0].variables == {"Номер": "ЗК-1", "Сумма": "100,50"}
    assert p.good[1].scenario == "documents_sent"  # default
    assert p.good[1].variables["Номер"] == "ЗК-5; срочно"
    assert p.errors == [
        "orders.csv:4: phone is empty",
        "orders.csv:5: expected 6 columns, got 3",
        "orders.csv:6: unknown channel 'факс' (use call, sms or call_then_sms)",
    ]
    assert [e.external_id for e in p.rejected] == ["102", "104"]
    assert not p.all_bad


def test_parse_csv_without_id_column_uses_row_hash() -> None:
    p = parse_csv("phone,scenario\n+79120000000,s\n,s\n", "a.csv", "drop", RowDefaults(), "auto")
    assert len(p.good) == 1 and p.good[0].external_id.startswith("row-")
    assert p.errors == ["a.csv:3: phone is empty"]
    assert p.rejected == []  # a hashed id means nothing to the ERP


def test_parse_csv_quoted_multiline_field_keeps_line_numbers() -> None:
    text = 'id;phone;comment\n1;+79120000000;"две\nстроки"\n2;;x\n'
    p = parse_csv(text, "m.csv", "drop", D, ";")
    assert p.good[0].variables == {"comment": "две\nстроки"}
    assert p.errors == ["m.csv:4: phone is empty"]


@pytest.mark.parametrize(
    ("text", "defaults", "fatal"),
    [
        ("", D, "e.csv:1: empty file (no header line)"),
        ("\n\n", D, "e.csv:1: empty file (no header line)"),
        ("id;name\n1;x\n", D, "e.csv:1: no phone column (header: id, name)"),
        ("phone\n+79120000000\n", RowDefaults(), "e.csv:1: no scenario column and no default"),
        ("phone;Телефон\n1;2\n", D, "e.csv:1: columns 'phone' and 'Телефон' both map to phone"),
    ],
)
def test_parse_csv_fatal(text: str, defaults: RowDefaults, fatal: str) -> None:
    p = parse_csv(text, "e.csv", "drop", defaults, "auto")
    assert p.fatal is not None and p.fatal.startswith(fatal)
    assert p.all_bad and not p.good


def test_parse_csv_header_only_is_not_bad() -> None:
    p = parse_csv("phone;scenario\n", "h.csv", "drop", D, "auto")
    assert (p.rows, p.good, p.errors, p.all_bad) == (0, [], [], False)


def test_parse_csv_all_rows_bad() -> None:
    p = parse_csv("phone;scenario\n;x\n;y\n", "b.csv", "drop", D, "auto")
    assert p.all_bad and p.fatal is None and len(p.errors) == 2


def test_parse_csv_dates_in_erp_zone() -> None:
    text = "id;phone;deadline;not_before\n1;+7912;30.11.2026;21.11.2026 09:00\n"
    n = parse_csv(text, "d.csv", "drop", D, "auto").good[0]
    msk = ZoneInfo("Europe/Moscow")
    assert n.deadline == datetime(2026, 12, 1, tzinfo=msk)
    assert n.not_before == datetime(2026, 11, 21, 9, tzinfo=msk)


# ---- database errors ----------------------------------------------------------------------
class _PgError(Exception):
    def __init__(self, sqlstate: str | None, text: str = "x") -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


def _wrap(cls: type[sa_exc.DBAPIError], orig: BaseException) -> sa_exc.DBAPIError:
    return cls("SELECT 1", {}, orig)


DB_CASES: list[tuple[BaseException, type[Exception]]] = [
    # PostgreSQL: SQLSTATE classes
    (_wrap(sa_exc.OperationalError, _PgError("08006")), ErpUnavailable),
    (_wrap(sa_exc.OperationalError, _PgError("57P01")), ErpUnavailable),  # admin shutdown
    (_wrap(sa_exc.OperationalError, _PgError("40P01")), ErpUnavailable),  # deadlock
    (_wrap(sa_exc.OperationalError, _PgError("53300")), ErpUnavailable),  # too many conns
    (_wrap(sa_exc.OperationalError, _PgError("55P03")), ErpUnavailable),  # lock not available
    (_wrap(sa_exc.ProgrammingError, _PgError("42P01")), ConfigError),  # undefined table
    (_wrap(sa_exc.ProgrammingError, _PgError("42601")), ConfigError),  # syntax
    (_wrap(sa_exc.OperationalError, _PgError("28P01")), ConfigError),  # bad password
    (_wrap(sa_exc.OperationalError, _PgError("3D000")), ConfigError),  # no database
    (_wrap(sa_exc.DataError, _PgError("22001")), InputError),  # value too long
    (_wrap(sa_exc.IntegrityError, _PgError("23503")), InputError),  # foreign key
    # psycopg connect errors carry no SQLSTATE: the text decides
    (_wrap(sa_exc.OperationalError, _PgError(None, "connection refused")), ErpUnavailable),
    (
        _wrap(sa_exc.OperationalError, _PgError(None, 'FATAL: role "x" does not exist')),
        ConfigError,
    ),
    (
        _wrap(sa_exc.OperationalError, _PgError(None, "password authentication failed")),
        ConfigError,
    ),
    # MySQL/MariaDB error codes
    (_wrap(sa_exc.OperationalError, Exception(2003, "Can't connect")), ErpUnavailable),
    (_wrap(sa_exc.OperationalError, Exception(2013, "Lost connection")), ErpUnavailable),
    (_wrap(sa_exc.OperationalError, Exception(1213, "Deadlock")), ErpUnavailable),
    (_wrap(sa_exc.OperationalError, Exception(1045, "Access denied")), ConfigError),
    (_wrap(sa_exc.OperationalError, Exception(1054, "Unknown column")), ConfigError),
    (_wrap(sa_exc.ProgrammingError, Exception(1146, "Table doesn't exist")), ConfigError),
    (_wrap(sa_exc.DataError, Exception(1406, "Data too long")), InputError),
    # SQLite
    (
        _wrap(sa_exc.OperationalError, sqlite3.OperationalError("database is locked")),
        ErpUnavailable,
    ),
    (_wrap(sa_exc.OperationalError, sqlite3.OperationalError("disk I/O error")), ErpUnavailable),
    (_wrap(sa_exc.OperationalError, sqlite3.OperationalError("no such table: x")), ConfigError),
    (_wrap(sa_exc.OperationalError, sqlite3.OperationalError("no such column: y")), ConfigError),
    (
        _wrap(sa_exc.OperationalError, sqlite3.OperationalError('near "SELEC": syntax error')),
        ConfigError,
    ),
    (
        _wrap(sa_exc.IntegrityError, sqlite3.IntegrityError("NOT NULL constraint failed")),
        InputError,
    ),
    # SQLAlchemy's own
    (sa_exc.TimeoutError("QueuePool limit"), ErpUnavailable),
    (sa_exc.DisconnectionError("gone"), ErpUnavailable),
    (sa_exc.NoSuchModuleError("x"), ConfigError),
    (_wrap(sa_exc.InterfaceError, Exception("connection already closed")), ErpUnavailable),
]


@pytest.mark.parametrize(("error", "expected"), DB_CASES)
def test_classify_db_error(error: BaseException, expected: type[Exception]) -> None:
    assert classify_db_error(error) is expected


# ---- 1C OData helpers ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"odata.error": {"code": "6", "message": {"lang": "ru", "value": "Ошибка разбора"}}},
            "Ошибка разбора",
        ),
        ({"odata.error": {"code": "6", "message": "plain"}}, "plain"),
        ("<html>Service Unavailable</html>", "<html>Service Unavailable</html>"),
        ("", "Service Unavailable"),
    ],
)
def test_odata_error_text(body: Any, expected: str) -> None:
    if isinstance(body, dict):
        response = httpx.Response(503, json=body)
    else:
        response = httpx.Response(503, text=body)
    assert odata_error_text(response) == expected


def test_to_odata() -> None:
    yekt = ZoneInfo("Asia/Yekaterinburg")
    at = datetime(2026, 11, 21, 4, 0, 0, 123456, tzinfo=UTC)
    assert to_odata(at, yekt) == "2026-11-21T09:00:00"
    assert to_odata(3, yekt) == 3
    assert to_odata("x", yekt) == "x"


def test_onec_default_filter_follows_flag_fields() -> None:
    o = OneCOptions(url="http://x/", fields={"call_flag": "Позвонить", "sms_flag": "СМС"})
    assert o.effective_filter() == "(Позвонить eq true or СМС eq true) and DeletionMark eq false"
    assert OneCOptions(url="http://x/", filter="Пометка eq true").effective_filter() == (
        "Пометка eq true"
    )
    assert o.url == "http://x/"
    assert OneCOptions(url="http://x/base/odata/standard.odata").url.endswith(".odata/")
