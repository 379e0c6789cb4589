"""The csv drop-folder adapter on a real folder: encodings, moves, errors, results, no loss."""

from __future__ import annotations

import csv
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters import build_adapter
from adapters.csv_folder import CsvFolderAdapter
from cuckoo.config.adapters import AdapterSettings
from cuckoo.domain import ChannelKind, IncomingNotification, Outcome, ResultReport, Status
from cuckoo.errors import ConfigError, ErpUnavailable
from cuckoo.store import Store

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def make(base: Path, **options: Any) -> CsvFolderAdapter:
    options.setdefault("folder", "inbox")
    options.setdefault("erp_timezone", "Asia/Yekaterinburg")
    options.setdefault("default_scenario", "documents_sent")
    adapter = build_adapter(
        "drop", AdapterSettings.model_validate({"type": "csv", **options}), base
    )
    assert isinstance(adapter, CsvFolderAdapter)
    return adapter


def drop(folder: Path, name: str, data: bytes, age_s: float = 60) -> Path:
    """Save a file as an ERP would, `age_s` seconds ago."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def report(external_id: str, status: Status, **kw: Any) -> ResultReport:
    return ResultReport(
        source="drop",
        external_id=external_id,
        status=status,
        outcome=kw.pop("outcome", Outcome.CONFIRMED),
        attempts=kw.pop("attempts", 1),
        contacts=kw.pop("contacts", 1),
        last_attempt_at=AT,
        **kw,
    )


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


CP1251_EXPORT = (
    "Ид;Телефон;Сценарий;Уведомить звонком;Уведомить СМС;Номер;Сумма;Клиент\r\n"
    "ЗК-101;8 (912) 345-67-89;order_ready;Да;Нет;ЗК-101;12 500,00;Иванова Мария Петровна\r\n"
    "ЗК-102;+7 916 123 45 67;;Да;Да;ЗК-102;3 490,50;Петров Сергей\r\n"
    "ЗК-103;;order_ready;Да;Нет;ЗК-103;990,00;Ким Алексей\r\n"
    "ЗК-104;89231234567;order_ready;Нет;Нет;ЗК-104;1,00;Сидоренко Ольга\r\n"
).encode("cp1251")


def test_cp1251_export_good_rows_kept_bad_rows_reported(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    drop(inbox, "orders_2026-11-21.csv", CP1251_EXPORT)
    adapter = make(tmp_path)
    got = {n.external_id: n for n in adapter.fetch_pending()}
    assert set(got) == {"ЗК-101", "ЗК-102"}
    assert got["ЗК-101"].channel == ChannelKind.CALL
    assert got["ЗК-102"].channel == ChannelKind.CALL_THEN_SMS
    assert got["ЗК-102"].scenario == "documents_sent"
    assert got["ЗК-101"].variables == {
        "Номер": "ЗК-101",
        "Сумма": "12 500,00",
        "Клиент": "Иванова Мария Петровна",
    }
    # the file moved to processed/ with its errors next to it, as file:line: reason
    assert not (inbox / "orders_2026-11-21.csv").exists()
    assert (inbox / "processed" / "orders_2026-11-21.csv").read_bytes() == CP1251_EXPORT
    errors = (inbox / "processed" / "orders_2026-11-21.csv.errors.txt").read_text("utf-8")
    assert errors.splitlines() == [
        "orders_2026-11-21.csv:4: phone is empty",
        "orders_2026-11-21.csv:5: neither the call nor the SMS flag is set",
    ]
    # rows with an id are also reported as invalid in the results, once
    rows = read_results(inbox / "results" / "results.csv")
    assert [(r["external_id"], r["status"], r["status_code"], r["detail"]) for r in rows] == [
        ("ЗК-103", "неверные данные", "invalid", "неверные данные: не указан номер телефона"),
        (
            "ЗК-104",
            "неверные данные",
            "invalid",
            "неверные данные: не отмечено ни «уведомить звонком», ни «уведомить SMS»",
        ),
    ]


def test_utf8_bom_comma_and_tab_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    drop(
        inbox,
        "a.csv",
        b"\xef\xbb\xbf" + b"id,phone,channel,deadline\n1,+79120000001,sms,30.11.2026\n",
    )
    drop(inbox, "b.CSV", "id\tтелефон\n2\t+79120000002\n".encode())
    got = {n.external_id: n for n in make(tmp_path, pattern="*.[cC][sS][vV]").fetch_pending()}
    assert set(got) == {"1", "2"}
    assert got["1"].channel == ChannelKind.SMS
    assert (
        got["1"].deadline is not None
        and got["1"].deadline.isoformat() == "2026-12-01T00:00:00+05:00"
    )
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["a.csv", "b.CSV"]


def test_files_still_being_written_are_left_alone(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    body = b"id;phone\n1;+79120000001\n"
    drop(inbox, "fresh.csv", body, age_s=0)  # just written: may still grow
    drop(inbox, "copying.csv.part", body)
    drop(inbox, "copying.csv.tmp", body)
    drop(inbox, ".hidden.csv", body)
    drop(inbox, "~$open_in_excel.csv", body)
    adapter = make(tmp_path, min_age_s=30)
    assert adapter.fetch_pending() == []
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [
        ".hidden.csv",
        "copying.csv.part",
        "copying.csv.tmp",
        "fresh.csv",
        "~$open_in_excel.csv",
    ]
    old = time.time() - 60
    os.utime(inbox / "fresh.csv", (old, old))  # the copy finished a minute ago
    assert [n.external_id for n in adapter.fetch_pending()] == ["1"]


def test_all_bad_or_unreadable_files_go_to_failed(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    drop(inbox, "no_phone_column.csv", b"id;name\n1;x\n")
    drop(inbox, "all_bad.csv", b"id;phone\n1;\n2;\n")
    drop(inbox, "empty.csv", b"")
    drop(inbox, "header_only.csv", b"id;phone\n")
    adapter = make(tmp_path, encoding="utf-8")
    drop(inbox, "not_utf8.csv", "id;телефон\n".encode("cp1251"))
    assert adapter.fetch_pending() == []
    failed = inbox / "failed"
    assert sorted(p.name for p in failed.iterdir() if not p.name.endswith(".txt")) == [
        "all_bad.csv",
        "empty.csv",
        "no_phone_column.csv",
        "not_utf8.csv",
    ]
    assert (inbox / "processed" / "header_only.csv").exists()  # nothing bad in it

    def errors(name: str) -> str:
        return (failed / f"{name}.errors.txt").read_text("utf-8")

    assert errors("no_phone_column.csv").startswith("no_phone_column.csv:1: no phone column")
    assert errors("all_bad.csv") == "all_bad.csv:2: phone is empty\nall_bad.csv:3: phone is empty\n"
    assert errors("empty.csv") == "empty.csv:1: empty file (no header line)\n"
    assert errors("not_utf8.csv").startswith("not_utf8.csv:1: cannot decode as utf-8")


def test_rows_are_offered_again_after_a_restart_until_the_window_ends(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    drop(inbox, "orders.csv", b"id;phone\n1;+79120000001\n2;+79120000002\n")
    first = make(tmp_path).fetch_pending()
    assert [n.external_id for n in first] == ["1", "2"]
    # cuckoo died before storing them: a new process still gets them (the store dedups)
    restarted = make(tmp_path)
    assert restarted.fetch_pending() == first
    assert restarted.fetch_pending() == first
    # past the redelivery window the file is history
    old = time.time() - 3 * 3600
    os.utime(inbox / "processed" / "orders.csv", (old, old))
    assert make(tmp_path, redeliver_hours=2).fetch_pending() == []


def test_same_file_name_dropped_twice_keeps_both(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    adapter = make(tmp_path)
    drop(inbox, "export.csv", b"id;phone\n1;+79120000001\n")
    adapter.fetch_pending()
    drop(inbox, "export.csv", b"id;phone\n2;+79120000002\n")
    assert [n.external_id for n in adapter.fetch_pending()] == ["1", "2"]
    names = sorted(p.name for p in (inbox / "processed").iterdir())
    assert len(names) == 2 and "export.csv" in names
    assert all(n.startswith("export.") and n.endswith(".csv") for n in names)


def test_results_are_appended_once_per_id_and_status(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    adapter = make(tmp_path)
    adapter.report(report("1", Status.PENDING, outcome=Outcome.NO_ANSWER, contacts=0))
    adapter.report(report("1", Status.CONFIRMED, attempts=2, dtmf="1", transcript="да"))
    adapter.report(report("1", Status.CONFIRMED, attempts=2, dtmf="1"))  # repeated by the outbox
    # a new process (fresh memory) does not duplicate either
    make(tmp_path).report(report("1", Status.CONFIRMED, attempts=2, dtmf="1"))
    path = inbox / "results" / "results.csv"
    rows = read_results(path)
    assert [
        (r["external_id"], r["status"], r["status_code"], r["outcome"], r["outcome_code"])
        for r in rows
    ] == [
        ("1", "в работе", "pending", "не ответил", "no_answer"),
        ("1", "подтверждено", "confirmed", "подтвердил", "confirmed"),
    ]
    assert [r["attempts"] for r in rows] == ["1", "2"]
    assert rows[1]["dtmf"] == "1" and rows[1]["transcript"] == "да"
    assert rows[1]["last_attempt_at"] == "2026-11-21 14:00:00+05:00"  # erp_timezone
    assert path.read_bytes().count(b"\xef\xbb\xbf") == 1  # one BOM, at the start


def test_results_in_cp1251_for_old_tools(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    adapter = make(tmp_path, results_encoding="cp1251", results_delimiter=",")
    adapter.report(report("ЗК-1", Status.DECLINED, outcome=Outcome.DECLINED, transcript="нет"))
    text = (tmp_path / "inbox" / "results" / "results.csv").read_bytes().decode("cp1251")
    assert text.splitlines()[1].startswith("ЗК-1,отказался,declined,отказался,declined,1,1,")


EXHAUSTED = report(
    "7",
    Status.EXHAUSTED,
    outcome=Outcome.NO_ANSWER,
    attempts=3,
    contacts=0,
    detail="no_answer: cap of 3 attempts reached",
)


def test_results_in_russian_by_default_english_when_asked(tmp_path: Path) -> None:
    for name, options in [("ru", {}), ("en", {"results": "en"})]:
        inbox = tmp_path / name
        inbox.mkdir()
        make(tmp_path, folder=name, **options).report(EXHAUSTED)
        (row,) = read_results(inbox / "results" / "results.csv")
        said = (row["status"], row["outcome"], row["detail"], row["status_code"])
        if name == "ru":
            assert said == (
                "не дозвонились",
                "не ответил",
                "не дозвонились: исчерпано 3 попытки",
                "exhausted",
            )
        else:
            assert said == ("exhausted", "no_answer", EXHAUSTED.detail, "exhausted")
        assert row["outcome_code"] == "no_answer"


def test_status_names_replace_the_status_sent(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    adapter = make(tmp_path, status_names={"exhausted": "4", "confirmed": "1"})
    adapter.report(EXHAUSTED)
    adapter.report(report("8", Status.DECLINED, outcome=Outcome.DECLINED))
    rows = read_results(tmp_path / "inbox" / "results" / "results.csv")
    assert [(r["status"], r["status_code"]) for r in rows] == [
        ("4", "exhausted"),
        ("отказался", "declined"),  # not in the table: its Russian name
    ]
    assert rows[0]["detail"] == "не дозвонились: исчерпано 3 попытки"


def test_an_older_results_file_keeps_its_columns(tmp_path: Path) -> None:
    """A results.csv written before status_code existed: new lines follow its header, and a
    report already in it (English status) is not written again."""
    results = tmp_path / "inbox" / "results"
    results.mkdir(parents=True)
    old = "external_id;status;outcome;attempts;detail\r\n1;confirmed;confirmed;2;\r\n"
    (results / "results.csv").write_text(old, encoding="utf-8-sig")
    adapter = make(tmp_path)
    adapter.report(report("1", Status.CONFIRMED, attempts=2))  # already there
    adapter.report(EXHAUSTED)
    rows = read_results(results / "results.csv")
    assert [list(r.values()) for r in rows] == [
        ["1", "confirmed", "confirmed", "2", ""],
        ["7", "не дозвонились", "не ответил", "3", "не дозвонились: исчерпано 3 попытки"],
    ]


def test_unwritable_results_are_retryable_and_nothing_is_lost(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    adapter = make(tmp_path)
    adapter.fetch_pending()  # creates results/
    blocker = inbox / "results" / "results.csv"
    blocker.mkdir()  # something holds the name (as a locked file would)
    with pytest.raises(ErpUnavailable, match=r"cannot (read|write)"):
        adapter.report(report("1", Status.CONFIRMED))
    blocker.rmdir()
    adapter.report(report("1", Status.CONFIRMED))
    assert [r["external_id"] for r in read_results(blocker)] == ["1"]


def test_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[adapters.drop.folder\] .*nowhere is not a folder"):
        make(tmp_path, folder="nowhere").fetch_pending()


def test_check_is_read_only(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    make(tmp_path).check()
    assert list((tmp_path / "inbox").iterdir()) == []  # the working folders come with a poll


def test_check_names_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[adapters.drop.folder\] the folder .*nowhere does"):
        make(tmp_path, folder="nowhere").check()
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_check_names_an_unreadable_folder(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir(mode=0o300)
    try:
        with pytest.raises(ConfigError, match=r"cannot read the folder .*inbox"):
            make(tmp_path).check()
    finally:
        (tmp_path / "inbox").chmod(0o700)


def test_a_repeated_id_with_another_phone_is_said_not_dropped_silently(tmp_path: Path) -> None:
    """The same id twice in one file with two numbers: the first row is kept, the second is
    named with both lines and both numbers in the file's errors (13.9). The same id in a later
    file with another number: the store keeps the first and the worker says so, once."""
    inbox = tmp_path / "inbox"
    drop(
        inbox,
        "a.csv",
        "id;phone;name\nЗК-7;+79123456789;Иванова\nЗК-7;+79123456700;Иванова\n"
        "ЗК-8;+79123456701;Петров\nЗК-8;+79123456701;Петров\n".encode(),
    )
    adapter = make(tmp_path)
    got = [(n.external_id, n.phone) for n in adapter.fetch_pending()]
    assert ("ЗК-7", "+79123456789") in got and ("ЗК-7", "+79123456700") not in got
    errors = (inbox / "processed" / "a.csv.errors.txt").read_text("utf-8").splitlines()
    assert errors == [
        "a.csv:3: id 'ЗК-7' again (first at a.csv:2) with another phone ('+79123456700', "
        "first '+79123456789'); this row is ignored: give it its own id"
    ]  # ЗК-8 twice with one number is the same row twice: nothing to say

    store = Store(f"sqlite:///{tmp_path / 'cuckoo.sqlite'}")
    store.upgrade()
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    first = IncomingNotification("drop", "ЗК-9", "+79123456702", "documents_sent")
    store.ingest([first], now)
    again = store.ingest([first], now)
    assert (again.duplicates, again.conflicts) == (1, [])  # the same row again: quiet
    other = IncomingNotification("drop", "ЗК-9", "+79123456799", "documents_sent")
    said = store.ingest([other], now)
    assert said.conflicts == [
        "drop/ЗК-9: stored before with phone '+79123456702'; this row's phone '+79123456799' "
        "is ignored (a new notification needs a new id)"
    ]
    store.close()
