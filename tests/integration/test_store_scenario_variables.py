"""Ingest rejects a row whose variables don't fit its scenario's texts, before any call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cuckoo.config import load
from cuckoo.dialog.catalog import ScenarioCatalog
from cuckoo.domain import IncomingNotification, Status
from cuckoo.store import Store
from cuckoo.worker.store import open_store

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Moscow

GOOD_VARS = {
    "customer": {"first_name": "Пётр", "patronymic": "Николаевич"},
    "sent_date": "2026-02-07",
    "period": "декабрь",
    "company": "ООО «Ромашка»",
}


def make_store(tmp_path: Path) -> Store:
    catalog = ScenarioCatalog(REPO / "scenarios")
    store = Store(
        f"sqlite:///{tmp_path / 'store.sqlite'}",
        known_scenarios=catalog.names(),
        check_variables=catalog.problems_with,
    )
    store.upgrade()
    return store


def row(external_id: str, variables: dict[str, object]) -> IncomingNotification:
    return IncomingNotification(
        source="erp",
        external_id=external_id,
        phone="+79123456789",
        scenario="documents_sent",
        variables=variables,
    )


def test_rows_with_missing_or_bad_variables_are_invalid_and_reported(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    missing = {k: v for k, v in GOOD_VARS.items() if k != "sent_date"}
    bad_date = {**GOOD_VARS, "sent_date": "позавчера"}
    report = store.ingest(
        [row("ok", GOOD_VARS), row("missing", missing), row("bad", bad_date)], NOW
    )
    assert (report.new, report.invalid) == (1, 2)

    ok, gap, bad = (store.get("erp", x) for x in ("ok", "missing", "bad"))
    assert ok is not None and ok.status == Status.PENDING.value
    assert gap is not None and gap.status == Status.INVALID.value
    assert "variable 'sent_date' is missing" in gap.detail
    assert bad is not None and bad.status == Status.INVALID.value
    assert "позавчера" in bad.detail
    # The ERP hears about both bad rows through the outbox; the good row waits for its call.
    assert len(store.outbox_of(gap.id)) == 1 and len(store.outbox_of(bad.id)) == 1
    assert store.outbox_of(ok.id) == []


def test_a_scenario_file_added_while_running_is_known_without_a_restart(tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    shipped = (REPO / "scenarios" / "documents_sent.yaml").read_text(encoding="utf-8")
    (scenarios / "documents_sent.yaml").write_text(shipped, encoding="utf-8")
    (tmp_path / "cuckoo.toml").write_text(
        f'scenarios_dir = "scenarios"\n[store]\nurl = "sqlite:///{tmp_path / "s.sqlite"}"\n',
        encoding="utf-8",
    )
    store = open_store(load(tmp_path / "cuckoo.toml"), check_schema=False)
    store.upgrade()
    new = IncomingNotification(
        source="erp",
        external_id="n1",
        phone="+79123456789",
        scenario="documents_resent",
        variables=GOOD_VARS,
    )
    assert store.ingest([new], NOW).invalid == 1
    rejected = store.get("erp", "n1")
    assert rejected is not None and "unknown scenario 'documents_resent'" in rejected.detail

    # The admin drops a new file in: the running worker's next intake knows it.
    renamed = shipped.replace("name: documents_sent", "name: documents_resent")
    (scenarios / "documents_resent.yaml").write_text(renamed, encoding="utf-8")
    again = IncomingNotification(
        source="erp",
        external_id="n2",
        phone="+79123456789",
        scenario="documents_resent",
        variables=GOOD_VARS,
    )
    assert store.ingest([again], NOW).new == 1
    admitted = store.get("erp", "n2")
    assert admitted is not None and admitted.status == Status.PENDING.value
