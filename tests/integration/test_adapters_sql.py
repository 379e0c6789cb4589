"""The sql adapter against real databases: SQLite, PostgreSQL (and MariaDB when running)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from adapters_dbs import fresh_database

from adapters import build_adapter
from adapters.samples.erp import create_sample_erp
from adapters.sql import SqlAdapter
from cuckoo.config.adapters import AdapterSettings
from cuckoo.domain import ChannelKind, Outcome, ResultReport, Status
from cuckoo.errors import ConfigError, ErpUnavailable, InputError

MSK = ZoneInfo("Europe/Moscow")
AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # 12:00 in Moscow

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    "mariadb",
]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def make(url: str, tmp_path: Path, **options: Any) -> SqlAdapter:
    options.setdefault("erp_timezone", "Europe/Moscow")
    adapter = build_adapter(
        "shop", AdapterSettings.model_validate({"type": "sql", "url": url, **options}), tmp_path
    )
    assert isinstance(adapter, SqlAdapter)
    return adapter


def report(external_id: str, status: Status, attempts: int = 1, **kw: Any) -> ResultReport:
    kw.setdefault("outcome", Outcome.CONFIRMED if status is Status.CONFIRMED else None)
    return ResultReport(
        source="shop",
        external_id=external_id,
        status=status,
        attempts=attempts,
        contacts=kw.pop("contacts", 1),
        last_attempt_at=kw.pop("last_attempt_at", AT),
        **kw,
    )


def results(url: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT document_id, status, status_code, outcome, outcome_code, attempts, "
                    "contacts, dtmf, detail, last_attempt_at FROM notify_results ORDER BY id"
                )
            ).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def flags(url: str, doc_id: int) -> tuple[bool, bool, str | None]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            r = conn.execute(
                sa.text(
                    "SELECT notify_call, notify_sms, notify_status FROM documents WHERE id = :i"
                ),
                {"i": doc_id},
            ).one()
            return bool(r[0]), bool(r[1]), r[2]
    finally:
        engine.dispose()


def test_fetches_the_flagged_documents_of_the_sample_erp(db_url: str, tmp_path: Path) -> None:
    create_sample_erp(db_url)
    adapter = make(db_url, tmp_path)
    got = {n.external_id: n for n in adapter.fetch_pending()}
    adapter.close()
    assert sorted(got, key=int) == ["1", "2", "3", "4", "5", "6", "7"]  # 8, 9 are not flagged
    assert {k: n.channel for k, n in got.items() if k in "123"} == {
        "1": ChannelKind.CALL,
        "2": ChannelKind.CALL_THEN_SMS,
        "3": ChannelKind.SMS,
    }
    n2 = got["2"]
    assert (n2.source, n2.phone, n2.scenario) == ("shop", "+7 916 123 45 67", "documents_sent")
    assert n2.deadline == datetime(2026, 11, 30, 18, 0, tzinfo=MSK)
    assert n2.variables["doc_number"] == "СЧ-000245"
    assert n2.variables["last_name"] == "Петров"
    assert n2.variables["patronymic"] == "Иванович"
    assert str(n2.variables["amount"]).startswith("3490.5")
    assert str(n2.variables["doc_date"]).startswith("2026-11-17")
    assert got["1"].timezone == "Asia/Yekaterinburg"
    assert got["3"].timezone == "Etc/GMT-7"  # "MSK+4" as the manager typed it
    assert got["6"].phone == ""  # no phone: the store rejects it, the ERP hears why
    assert got["4"].phone == "+7(343)371-22-33 доб. 105"


def test_rows_stay_pending_until_a_final_result_is_written(db_url: str, tmp_path: Path) -> None:
    create_sample_erp(db_url)
    adapter = make(db_url, tmp_path)
    first = [n.external_id for n in adapter.fetch_pending()]
    # cuckoo "crashed" before storing: the next poll returns the same rows, nothing is lost
    assert [n.external_id for n in adapter.fetch_pending()] == first

    callback = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    adapter.report(
        report("2", Status.PENDING, outcome=Outcome.CALLBACK_REQUESTED, callback_at=callback)
    )
    assert "2" in [n.external_id for n in adapter.fetch_pending()]  # not final: still pending
    assert flags(db_url, 2) == (True, True, "в работе")

    final = report("2", Status.CONFIRMED, attempts=2, dtmf="1")
    adapter.report(final)
    adapter.report(final)  # the outbox may repeat a report whose answer got lost
    assert [n.external_id for n in adapter.fetch_pending()] == [x for x in first if x != "2"]
    assert flags(db_url, 2) == (False, False, "подтверждено")
    rows = results(db_url)
    adapter.close()
    assert [
        (r["document_id"], r["status"], r["status_code"], r["outcome"], r["outcome_code"])
        for r in rows
    ] == [
        (2, "в работе", "pending", "просит перезвонить", "callback_requested"),
        (2, "подтверждено", "confirmed", "подтвердил", "confirmed"),
    ]
    assert [r["attempts"] for r in rows] == [1, 2]
    assert rows[1]["dtmf"] == "1"
    # times are written as office time in erp_timezone (Moscow), on every backend
    assert str(rows[1]["last_attempt_at"]).startswith("2026-11-21 12:00:00")


def test_unreadable_rows_are_written_back_as_invalid(db_url: str, tmp_path: Path) -> None:
    create_sample_erp(
        db_url,
        [
            {"phone": "+79120000001", "notify_call": True, "notify_scenario": "order_ready"},
            {"phone": "+79120000002", "time_zone": "Луна/Море", "notify_sms": True},
        ],
    )
    adapter = make(db_url, tmp_path, default_scenario="documents_sent")
    got = adapter.fetch_pending()
    assert [n.external_id for n in got] == ["1"]
    rows = results(db_url)
    assert [(r["document_id"], r["status"], r["status_code"], r["attempts"]) for r in rows] == [
        (2, "неверные данные", "invalid", 0)
    ]
    assert rows[0]["detail"] == "неверные данные: неизвестный часовой пояс 'Луна/Море'"
    assert flags(db_url, 2) == (False, False, "неверные данные")
    assert [n.external_id for n in adapter.fetch_pending()] == ["1"]
    assert len(results(db_url)) == 1  # written once
    adapter.close()


def test_own_schema_with_custom_query_and_write_back(db_url: str, tmp_path: Path) -> None:
    """A different ERP layout: string ids, a JSON variables column, one write-back statement."""
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE call_queue (guid VARCHAR(40) PRIMARY KEY, tel VARCHAR(30), "
                "kind VARCHAR(20), vars TEXT, done_status VARCHAR(20), done_at TIMESTAMP NULL)"
            )
        )
        conn.execute(
            sa.text("INSERT INTO call_queue (guid, tel, kind, vars) VALUES (:g, :t, :k, :v)"),
            [
                {"g": "a-1", "t": "89120000001", "k": "звонок+смс", "v": '{"имя": "Анна"}'},
                {"g": "a-2", "t": "89120000002", "k": "sms", "v": None},
            ],
        )
    engine.dispose()
    adapter = make(
        db_url,
        tmp_path,
        pending_query="SELECT guid, tel, kind, vars FROM call_queue WHERE done_status IS NULL "
        "ORDER BY guid",
        fields={"external_id": "guid", "phone": "tel", "channel": "kind", "variables": "vars"},
        default_scenario="payment_reminder",
        tenant="filial-2",
        write_back="UPDATE call_queue SET done_at = :reported_at, "
        "done_status = CASE WHEN :final THEN :status ELSE NULL END WHERE guid = :external_id",
    )
    got = adapter.fetch_pending()
    assert [(n.external_id, n.channel, n.scenario, n.tenant) for n in got] == [
        ("a-1", ChannelKind.CALL_THEN_SMS, "payment_reminder", "filial-2"),
        ("a-2", ChannelKind.SMS, "payment_reminder", "filial-2"),
    ]
    assert got[0].variables == {"имя": "Анна"}
    adapter.report(report("a-1", Status.EXHAUSTED, attempts=5, contacts=0))
    assert [n.external_id for n in adapter.fetch_pending()] == ["a-2"]
    adapter.close()
    assert erp_value(db_url, "SELECT done_status FROM call_queue WHERE guid = 'a-1'") == (
        "не дозвонились"
    )


EXHAUSTED = ResultReport(
    "shop",
    "5",
    Status.EXHAUSTED,
    Outcome.NO_ANSWER,
    3,
    0,
    AT,
    detail="no_answer: cap of 3 attempts reached",
)


def erp_value(url: str, sql: str) -> Any:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar_one()
    finally:
        engine.dispose()


def test_results_en_writes_the_english_codes_and_details(db_url: str, tmp_path: Path) -> None:
    """An ERP integrated before the Russian texts: `results = "en"` keeps what it got."""
    create_sample_erp(db_url)
    adapter = make(db_url, tmp_path, results="en")
    adapter.report(EXHAUSTED)
    adapter.close()
    (row,) = results(db_url)
    assert (row["status"], row["status_code"], row["outcome"], row["outcome_code"]) == (
        "exhausted",
        "exhausted",
        "no_answer",
        "no_answer",
    )
    assert row["detail"] == "no_answer: cap of 3 attempts reached"
    assert flags(db_url, 5) == (False, False, "exhausted")


def test_russian_detail_and_status_names(db_url: str, tmp_path: Path) -> None:
    create_sample_erp(db_url)
    adapter = make(db_url, tmp_path, status_names={"exhausted": "4"})
    adapter.report(EXHAUSTED)
    adapter.report(report("1", Status.CONFIRMED))
    adapter.close()
    rows = results(db_url)
    assert [(r["status"], r["status_code"], r["outcome"], r["detail"]) for r in rows] == [
        ("4", "exhausted", "не ответил", "не дозвонились: исчерпано 3 попытки"),
        ("подтверждено", "confirmed", "подтвердил", "подтверждено"),
    ]
    assert flags(db_url, 5) == (False, False, "4")


def test_query_mistakes_are_config_errors(db_url: str, tmp_path: Path) -> None:
    create_sample_erp(db_url)
    bad_table = make(db_url, tmp_path, pending_query="SELECT id AS external_id FROM nosuch")
    with pytest.raises(ConfigError, match=r"\[adapters.shop.pending_query\]"):
        bad_table.fetch_pending()
    bad_table.close()
    no_id = make(db_url, tmp_path, pending_query="SELECT id, number FROM documents")
    with pytest.raises(ConfigError, match=r"returns no column 'external_id'.*id, number"):
        no_id.fetch_pending()
    no_id.close()
    bad_write = make(db_url, tmp_path, write_back="UPDATE nosuch SET a = :status")
    with pytest.raises(ConfigError, match=r"\[adapters.shop.write_back\]"):
        bad_write.report(report("1", Status.CONFIRMED))
    bad_write.close()


@pytest.mark.parametrize(
    "backend", [pytest.param("postgres", marks=pytest.mark.postgres), "mariadb"]
)
def test_value_the_erp_refuses_is_an_input_error(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        create_sample_erp(url)
        adapter = make(url, tmp_path)
        with pytest.raises(InputError, match=r"\[adapters.shop.write_back\] the database refused"):
            adapter.report(report("1", Status.CONFIRMED, dtmf="1" * 40))  # dtmf is VARCHAR(32)
        # the failed report changed nothing (one transaction): the row is still pending
        assert "1" in [n.external_id for n in adapter.fetch_pending()]
        assert results(url) == []
        adapter.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:{port}/test",
        "mysql+pymysql://root@127.0.0.1:{port}/test",
    ],
)
def test_database_down_is_retryable(url: str, tmp_path: Path) -> None:
    if "pymysql" in url:
        pytest.importorskip("pymysql", reason="the MariaDB driver is optional")
    adapter = make(url.format(port=_closed_port()), tmp_path, connect_timeout_s=2)
    with pytest.raises(ErpUnavailable, match="database unavailable"):
        adapter.fetch_pending()
    with pytest.raises(ErpUnavailable):
        adapter.report(report("1", Status.CONFIRMED))
    adapter.close()


@pytest.mark.postgres
def test_bad_credentials_are_a_config_error(tmp_path: Path) -> None:
    adapter = make("postgresql+psycopg://nobody_here@127.0.0.1:5432/test", tmp_path)
    with pytest.raises(ConfigError, match=r"\[adapters.shop.url\] the database refused.*nobody"):
        adapter.fetch_pending()
    adapter.close()


def test_sqlite_locked_is_retryable_and_the_retry_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    create_sample_erp(url)
    adapter = make(url, tmp_path, connect_timeout_s=0.2)
    locker = sa.create_engine(url)
    conn = locker.connect()
    conn.exec_driver_sql("BEGIN EXCLUSIVE")  # the ERP is busy writing
    try:
        with pytest.raises(ErpUnavailable, match="database is locked"):
            adapter.report(report("1", Status.CONFIRMED))
    finally:
        conn.exec_driver_sql("ROLLBACK")
        conn.close()
        locker.dispose()
    adapter.report(report("1", Status.CONFIRMED))  # what the outbox does next
    assert [(r["document_id"], r["status_code"]) for r in results(url)] == [(1, "confirmed")]
    adapter.close()


def test_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    create_sample_erp(url)
    monkeypatch.setenv("CUCKOO_TEST_SHOP_URL", url)
    built = build_adapter(
        "shop",
        AdapterSettings.model_validate({"type": "sql", "url_env": "CUCKOO_TEST_SHOP_URL"}),
        tmp_path,
    )
    assert len(built.fetch_pending()) == 7


def test_check_runs_the_query_without_side_effects(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'erp.db'}"
    create_sample_erp(url)
    make(url, tmp_path).check()
    assert results(url) == []
    with pytest.raises(ConfigError, match=r"\[adapters.shop.pending_query\].*no such table"):
        make(url, tmp_path, pending_query="SELECT 1 AS external_id FROM nosuch").check()


def test_pending_query_can_use_now_and_source(db_url: str, tmp_path: Path) -> None:
    create_sample_erp(db_url)
    adapter = make(
        db_url,
        tmp_path,
        pending_query="SELECT d.id AS external_id, c.phone AS phone, :source AS tenant "
        "FROM documents d JOIN customers c ON c.id = d.customer_id "
        "WHERE d.notify_call = TRUE AND d.notify_deadline > :now",
    )
    adapter.clock = lambda: datetime(2026, 11, 30, 14, 59, tzinfo=UTC)  # 17:59 in Moscow
    assert [(n.external_id, n.tenant) for n in adapter.fetch_pending()] == [("2", "shop")]
    adapter.clock = lambda: datetime(2026, 11, 30, 15, 1, tzinfo=UTC)  # past the deadline
    assert adapter.fetch_pending() == []
    adapter.close()


@pytest.mark.postgres
def test_hung_query_times_out_as_retryable(tmp_path: Path) -> None:
    with fresh_database("postgres", tmp_path) as url:
        adapter = make(
            url,
            tmp_path,
            pending_query="SELECT 1 AS external_id FROM pg_sleep(5)",
            query_timeout_s=0.5,
        )
        with pytest.raises(ErpUnavailable, match="statement timeout"):
            adapter.fetch_pending()
        adapter.close()


def test_a_missing_sqlite_file_is_named_and_never_created(tmp_path: Path) -> None:
    adapter = make("sqlite:///var/erp.db", tmp_path)
    missing = r"\[adapters.shop.url\] the SQLite file .*var/erp.db does not exist"
    with pytest.raises(ConfigError, match=missing):
        adapter.check()
    with pytest.raises(ConfigError, match=missing):
        adapter.fetch_pending()
    (tmp_path / "var").mkdir()  # even with its folder there, nothing makes the file
    with pytest.raises(ConfigError, match=missing):
        adapter.fetch_pending()
    with pytest.raises(ConfigError, match=missing):
        adapter.report(report("1", Status.CONFIRMED))
    assert list((tmp_path / "var").iterdir()) == []


@pytest.mark.postgres
def test_a_refused_postgresql_login_names_the_url(tmp_path: Path) -> None:
    adapter = make("postgresql+psycopg://no_such_user:s3cret@127.0.0.1:5432/test", tmp_path)
    with pytest.raises(ConfigError, match=r"\[adapters.shop.url\] the database refused") as e:
        adapter.check()
    assert 'role "no_such_user" does not exist' in str(e.value)
    assert "s3cret" not in str(e.value)
