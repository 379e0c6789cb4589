"""The onec adapter against a real local HTTP server speaking 1C's OData subset."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from adapters_odata_server import (
    CATALOG,
    DOCUMENT,
    EMPTY_DATE,
    REGISTER,
    OneCServer,
    compile_filter,
    make_counterparty,
    make_order,
)

from adapters import build_adapter
from adapters.onec import OneCAdapter
from cuckoo.config.adapters import AdapterSettings
from cuckoo.domain import ChannelKind, Outcome, ResultReport, Status
from cuckoo.errors import ConfigError, ErpUnavailable, InputError

pytestmark = pytest.mark.timeout(60)

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[OneCServer]:
    with OneCServer() as srv:
        yield srv


def make(srv: OneCServer, **options: Any) -> OneCAdapter:
    options.setdefault("username", "robot")
    options.setdefault("password", "секрет")
    options.setdefault("erp_timezone", "Europe/Moscow")
    options.setdefault("default_scenario", "documents_sent")
    adapter = build_adapter(
        "erp1c", AdapterSettings.model_validate({"type": "onec", "url": srv.url, **options}), Path()
    )
    assert isinstance(adapter, OneCAdapter)
    return adapter


def report(ref: str, status: Status, attempts: int = 1, **kw: Any) -> ResultReport:
    return ResultReport(
        source="erp1c",
        external_id=ref,
        status=status,
        outcome=kw.pop("outcome", Outcome.CONFIRMED),
        attempts=attempts,
        contacts=kw.pop("contacts", 1),
        last_attempt_at=AT,
        **kw,
    )


def seed(srv: OneCServer) -> dict[str, str]:
    """Orders as a shop's 1C holds them; returns {name: Ref_Key}."""
    ivanova = srv.state.add_counterparty(
        make_counterparty("Иванова Мария Петровна", "8 (912) 345-67-89", "Asia/Yekaterinburg")
    )
    romashka = srv.state.add_counterparty(make_counterparty("ООО «Ромашка»", "+7 343 371-22-33"))
    return {
        "call": srv.state.add_order(make_order(101, ivanova, call=True, amount=12500.5)),
        "both": srv.state.add_order(
            make_order(102, romashka, call=True, sms=True, deadline="2026-11-30T18:00:00")
        ),
        "sms": srv.state.add_order(make_order(103, ivanova, call=False, sms=True, scenario="")),
        "none": srv.state.add_order(make_order(104, ivanova, call=False, sms=False)),
        "deleted": srv.state.add_order(make_order(105, ivanova, call=True, deleted=True)),
    }


def test_fetches_flagged_orders_with_1c_field_names(server: OneCServer) -> None:
    refs = seed(server)
    adapter = make(server)
    got = {n.external_id: n for n in adapter.fetch_pending()}
    assert set(got) == {refs["call"], refs["both"], refs["sms"]}  # not unflagged, not deleted
    call, both, sms = got[refs["call"]], got[refs["both"]], got[refs["sms"]]
    assert (call.channel, both.channel, sms.channel) == (
        ChannelKind.CALL,
        ChannelKind.CALL_THEN_SMS,
        ChannelKind.SMS,
    )
    assert call.phone == "8 (912) 345-67-89"
    assert call.scenario == "order_ready"
    assert sms.scenario == "documents_sent"  # blank in 1C: the default
    assert call.deadline is None  # 0001-01-01T00:00:00 is 1C's empty date
    assert both.deadline == datetime(2026, 11, 30, 18, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    # every other scalar field is a variable; service fields and *_Key references are not
    assert call.variables["Number"] == "0000-000101"
    assert call.variables["СуммаДокумента"] == 12500.5
    assert call.variables["Date"] == "2026-11-16T10:15:00"
    assert not any(k.endswith("_Key") or "@" in k for k in call.variables)
    assert "DataVersion" not in call.variables and "Posted" not in call.variables
    adapter.close()


def test_paging_expand_and_explicit_variables(server: OneCServer) -> None:
    c = server.state.add_counterparty(make_counterparty("Ким Алексей", "8-914-555-12-34", "MSK+7"))
    refs = {server.state.add_order(make_order(200 + i, c, phone="")) for i in range(7)}
    adapter = make(
        server,
        page_size=3,
        expand="Контрагент",
        fields={"phone": "Контрагент/Телефон", "timezone": "Контрагент/ЧасовойПояс"},
        variables={"номер": "Number", "клиент": "Контрагент/Description"},
    )
    got = adapter.fetch_pending()
    assert {n.external_id for n in got} == refs
    assert len(got) == 7
    assert {(n.phone, n.timezone) for n in got} == {("8-914-555-12-34", "Etc/GMT-10")}
    assert got[0].variables.keys() == {"номер", "клиент"}
    assert got[0].variables["клиент"] == "Ким Алексей"
    gets = [p for m, p in server.state.requests if m == "GET"]
    assert len(gets) == 3  # 3 + 3 + 1
    adapter.close()


def test_report_writes_the_register_and_clears_flags_once_final(server: OneCServer) -> None:
    refs = seed(server)
    adapter = make(server)
    callback = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    adapter.report(
        report(
            refs["both"],
            Status.PENDING,
            outcome=Outcome.CALLBACK_REQUESTED,
            callback_at=callback,
            transcript="перезвоните завтра в десять",
        )
    )
    assert refs["both"] in {n.external_id for n in adapter.fetch_pending()}  # not final yet

    final = report(refs["both"], Status.CONFIRMED, attempts=2, dtmf="1")
    adapter.report(final)
    adapter.report(final)  # repeated by the outbox: the record is replaced, not duplicated
    assert refs["both"] not in {n.external_id for n in adapter.fetch_pending()}
    order = server.state.orders[refs["both"]]
    assert (order["УведомитьЗвонком"], order["УведомитьСМС"]) == (False, False)

    records = sorted(server.state.register.values(), key=lambda r: r["КоличествоПопыток"])
    assert len(records) == 2
    pending, confirmed = records
    assert (pending["Статус"], pending["КодСтатуса"]) == ("в работе", "pending")
    assert (pending["Исход"], pending["КодИсхода"]) == ("просит перезвонить", "callback_requested")
    assert pending["ПерезвонитьВ"] == "2026-11-22T10:00:00"  # Moscow time, as 1C stores it
    assert pending["Расшифровка"] == "перезвоните завтра в десять"
    assert confirmed == {
        "Документ_Key": refs["both"],
        "Статус": "подтверждено",
        "КодСтатуса": "confirmed",
        "Исход": "подтвердил",
        "КодИсхода": "confirmed",
        "КоличествоПопыток": 2,
        "КоличествоКонтактов": 1,
        "ДатаПопытки": "2026-11-21T12:00:00",
        "DTMF": "1",
        "Расшифровка": "",
        "ПерезвонитьВ": EMPTY_DATE,
        "Подробности": "подтверждено",
        "ДатаЗаписи": confirmed["ДатаЗаписи"],
    }
    adapter.close()


def test_unreadable_objects_are_written_back_as_invalid(server: OneCServer) -> None:
    c = server.state.add_counterparty(make_counterparty("Абрамов Олег", "+79120000000"))
    good = server.state.add_order(make_order(1, c))
    bad = server.state.add_order(make_order(2, c, zone="Марс"))
    adapter = make(server)
    assert [n.external_id for n in adapter.fetch_pending()] == [good]
    (record,) = server.state.register.values()
    assert (record["Документ_Key"], record["Статус"], record["КодСтатуса"]) == (
        bad,
        "неверные данные",
        "invalid",
    )
    assert record["Подробности"] == "неверные данные: неизвестный часовой пояс 'Марс'"
    assert server.state.orders[bad]["УведомитьЗвонком"] is False
    adapter.close()


def exhausted(ref: str) -> ResultReport:
    return report(
        ref,
        Status.EXHAUSTED,
        attempts=3,
        outcome=Outcome.NO_ANSWER,
        contacts=0,
        detail="no_answer: cap of 3 attempts reached",
    )


def test_results_en_and_status_names(server: OneCServer) -> None:
    refs = seed(server)
    english = make(server, results="en")
    english.report(exhausted(refs["call"]))
    english.close()
    numbers = make(server, status_names={"exhausted": "4"})
    numbers.report(exhausted(refs["both"]))
    numbers.close()
    by_doc = {r["Документ_Key"]: r for r in server.state.register.values()}
    en, ru = by_doc[refs["call"]], by_doc[refs["both"]]
    assert (en["Статус"], en["КодСтатуса"], en["Исход"], en["Подробности"]) == (
        "exhausted",
        "exhausted",
        "no_answer",
        "no_answer: cap of 3 attempts reached",
    )
    assert (ru["Статус"], ru["КодСтатуса"], ru["Исход"], ru["Подробности"]) == (
        "4",
        "exhausted",
        "не ответил",
        "не дозвонились: исчерпано 3 попытки",
    )


def test_bad_credentials_are_a_config_error(server: OneCServer) -> None:
    seed(server)
    adapter = make(server, password="неверный")
    with pytest.raises(ConfigError, match=r"401\): bad credentials for user 'robot'"):
        adapter.fetch_pending()
    with pytest.raises(ConfigError, match="bad credentials"):
        adapter.report(report("00000000-0000-0000-0000-000000000001", Status.CONFIRMED))
    adapter.close()


def test_password_from_environment(server: OneCServer, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(server)
    monkeypatch.setenv("CUCKOO_TEST_1C_PASSWORD", "секрет")
    adapter = make(server, password="", password_env="CUCKOO_TEST_1C_PASSWORD")
    assert len(adapter.fetch_pending()) == 3
    adapter.close()


def test_server_errors_are_retryable_and_nothing_is_lost(server: OneCServer) -> None:
    refs = seed(server)
    adapter = make(server)
    server.state.fail_with.extend([500])
    with pytest.raises(ErpUnavailable, match=r"1C answered 500.*Внутренняя ошибка"):
        adapter.fetch_pending()
    assert len(adapter.fetch_pending()) == 3  # the next poll gets everything

    final = report(refs["call"], Status.CONFIRMED)
    server.state.fail_with.extend([503])
    with pytest.raises(ErpUnavailable, match="503"):
        adapter.report(final)
    assert server.state.register == {}
    server.state.fail_with.extend([None, 502])  # register written, flag clearing failed
    with pytest.raises(ErpUnavailable, match="502"):
        adapter.report(final)
    assert len(server.state.register) == 1
    assert refs["call"] in {n.external_id for n in adapter.fetch_pending()}  # still pending
    adapter.report(final)  # the outbox retries: now complete
    assert refs["call"] not in {n.external_id for n in adapter.fetch_pending()}
    assert len(server.state.register) == 1
    adapter.close()


def test_slow_server_times_out_as_retryable(server: OneCServer) -> None:
    seed(server)
    adapter = make(server, timeout_s=0.3)
    server.state.delay_s = 1.5
    with pytest.raises(
        ErpUnavailable, match=r"did not answer in 0.3 s \(GET .*Document_ЗаказКлиента"
    ):
        adapter.fetch_pending()
    with pytest.raises(ErpUnavailable, match="did not answer"):
        adapter.report(report("00000000-0000-0000-0000-000000000001", Status.CONFIRMED))
    server.state.delay_s = 0
    assert len(adapter.fetch_pending()) == 3
    adapter.close()


def test_server_down_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    adapter = build_adapter(
        "erp1c",
        AdapterSettings.model_validate(
            {"type": "onec", "url": f"http://127.0.0.1:{port}/base/odata/standard.odata/"}
        ),
        Path(),
    )
    with pytest.raises(ErpUnavailable, match="cannot reach 1C"):
        adapter.fetch_pending()


def test_not_published_entity_and_bad_filter_are_config_errors(server: OneCServer) -> None:
    seed(server)
    adapter = make(server, entity="Document_Несуществующий")
    with pytest.raises(ConfigError, match=r"\[adapters.erp1c.entity\] 1C does not publish"):
        adapter.fetch_pending()
    adapter.close()
    adapter = make(server, filter="НетТакогоПоля eq true")
    with pytest.raises(ConfigError, match=r"\[adapters.erp1c.filter\] 1C rejected the query"):
        adapter.fetch_pending()
    adapter.close()


def test_unknown_register_field_is_an_input_error(server: OneCServer) -> None:
    refs = seed(server)
    adapter = make(server, register_fields={"Документ_Key": "external_id", "Опечатка": "status"})
    with pytest.raises(InputError, match=r"Неизвестное свойство: Опечатка"):
        adapter.report(report(refs["call"], Status.CONFIRMED))
    adapter.close()


def test_catalog_entity_without_register(server: OneCServer) -> None:
    """A catalog with its own flag field; no register (only the flag is cleared)."""
    c = server.state.add_counterparty(make_counterparty("Петров С.И.", "+7 916 123 45 67"))
    c["ПозвонитьКлиенту"] = True
    server.state.add_counterparty(make_counterparty("Сидоренко", "89231234567"))[
        "ПозвонитьКлиенту"
    ] = False
    adapter = make(
        server,
        entity=CATALOG,
        filter="ПозвонитьКлиенту eq true",
        fields={"call_flag": "ПозвонитьКлиенту", "sms_flag": "ПозвонитьКлиенту"},
        register_name="",
        clear_flags=False,
    )
    (n,) = adapter.fetch_pending()
    assert (n.external_id, n.phone) == (c["Ref_Key"], "+7 916 123 45 67")
    assert n.variables["Description"] == "Петров С.И."
    adapter.report(report(n.external_id, Status.CONFIRMED))
    assert server.state.register == {}
    assert all(m == "GET" for m, _ in server.state.requests)
    adapter.close()


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("A eq true", {"A": True}, True),
        ("A eq true", {"A": False}, False),
        ("(A eq true or B eq true) and D eq false", {"A": False, "B": True, "D": False}, True),
        ("(A eq true or B eq true) and D eq false", {"A": True, "B": True, "D": True}, False),
        ("N eq 'О''Нил'", {"N": "О'Нил"}, True),
        ("K eq guid'0a0b-1'", {"K": "0a0b-1"}, True),
        ("S ne 5", {"S": 5}, False),
    ],
)
def test_the_test_servers_filter_subset(text: str, row: dict[str, Any], expected: bool) -> None:
    assert compile_filter(text)(row) is expected


def test_server_shapes_like_1c(server: OneCServer) -> None:
    """The helper answers with 1C's JSON shape, so the adapter is tested against it."""
    import httpx

    seed(server)
    r = httpx.get(
        server.url + DOCUMENT, params={"$format": "json"}, auth=("robot", "секрет"), timeout=5
    )
    body = r.json()
    assert body["odata.metadata"].endswith("$metadata#" + DOCUMENT)
    assert len(body["value"]) == 5 and "Ref_Key" in body["value"][0]
    r = httpx.post(server.url + REGISTER, json={"Лишнее": 1}, auth=("robot", "секрет"), timeout=5)
    assert r.status_code == 400 and r.json()["odata.error"]["message"]["lang"] == "ru"
    r = httpx.get(server.url + DOCUMENT, timeout=5)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")


def test_check_asks_1c_once(server: OneCServer) -> None:
    seed(server)
    make(server).check()
    assert [m for m, _ in server.state.requests] == ["GET"]
    with pytest.raises(ConfigError, match="bad credentials"):
        make(server, password="x").check()


def test_1c_down_is_unavailable_and_named(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # released: nobody listens there
    adapter = build_adapter(
        "erp1c",
        AdapterSettings.model_validate(
            {"type": "onec", "url": f"http://127.0.0.1:{port}/base/odata/standard.odata/"}
        ),
        tmp_path,
    )
    with pytest.raises(ErpUnavailable, match=r"adapters.erp1c: cannot reach 1C .*refused"):
        adapter.check()
