"""ERP adapter + the real store and scheduler jobs: ingest once, write results back through the
outbox, and lose nothing while the ERP is down (poll backs off, reports wait in the outbox)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from adapters import build_adapter
from adapters.samples.erp import create_sample_erp
from cuckoo.config.adapters import AdapterSettings
from cuckoo.store import Store
from cuckoo.worker.scheduler import Scheduler


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def erp_results(url: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.text(
                        "SELECT document_id, status_code, status, detail FROM notify_results "
                        "ORDER BY document_id"
                    )
                )
            ]
    finally:
        engine.dispose()


class ErpLock:
    """Holds an exclusive lock on the SQLite ERP: to cuckoo the ERP is down."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.conn = self.engine.connect()
        self.conn.exec_driver_sql("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.exec_driver_sql("ROLLBACK")
        self.conn.close()
        self.engine.dispose()


def test_sample_erp_through_store_and_outbox(tmp_path: Path) -> None:
    erp_url = f"sqlite:///{tmp_path / 'shop.db'}"
    create_sample_erp(erp_url)
    adapter = build_adapter(
        "shop",
        AdapterSettings.model_validate(
            {
                "type": "sql",
                "url": erp_url,
                "erp_timezone": "Europe/Moscow",
                "connect_timeout_s": 0.2,
            }
        ),
        tmp_path,
    )
    store = Store(f"sqlite:///{tmp_path / 'cuckoo.db'}")
    store.upgrade()
    clock = Clock()
    sched = Scheduler(store, {}, [adapter], clock=clock)

    # the ERP is down at the first poll: nothing stored, nothing lost
    lock = ErpLock(erp_url)
    try:
        assert sched.poll() == 0
    finally:
        lock.release()
    clock.now += timedelta(hours=1)  # past any backoff
    stored = sched.poll()
    assert stored == 7  # documents 1..7 are flagged
    assert sched.poll() == 0  # the same rows again: the store keeps one of each

    # documents 6 (no phone) and 7 ("912-34-56") are invalid: their results wait in the outbox
    pending_reports = store.outbox_pending()
    assert pending_reports >= 2
    lock = ErpLock(erp_url)
    try:
        assert sched.flush_outbox() == 0  # ERP down: retried later
    finally:
        lock.release()
    assert store.outbox_pending() == pending_reports
    assert erp_results(erp_url) == []

    clock.now += timedelta(hours=2)
    assert sched.flush_outbox() == pending_reports
    assert store.outbox_pending() == 0
    written = {r[0]: r[1:] for r in erp_results(erp_url)}
    # admission's reasons reach the manager in Russian; the store keeps its English codes
    assert written[6] == ("invalid", "неверные данные", "неверные данные: не указан номер телефона")
    assert written[7] == (
        "invalid",
        "неверные данные",
        "неверные данные: неверный номер телефона '912-34-56': такого диапазона номеров нет",
    )
    assert written[4][2].endswith("добавочный 105: нужен прямой номер")
    kept = sa.create_engine(f"sqlite:///{tmp_path / 'cuckoo.db'}")
    with kept.connect() as conn:
        row = conn.execute(
            sa.text("SELECT status, detail FROM notifications WHERE external_id = '7'")
        ).one()
    kept.dispose()
    assert tuple(row) == ("invalid", "phone '912-34-56': no such number range")
    # a final result clears the flags: those documents are no longer offered
    left = {n.external_id for n in adapter.fetch_pending()}
    assert "6" not in left and "7" not in left
    assert {"1", "2", "3", "5"} <= left
    store.close()


def test_unticked_in_the_erp_is_cancelled_after_two_polls(tmp_path: Path) -> None:
    """`withdraw_unlisted`: a document a manager unticks is cancelled (two polls in a row
    without it: one poll is not proof), its ERP is told in Russian, nobody is called; a
    document unticked for one poll only and ticked again stays."""
    erp_url = f"sqlite:///{tmp_path / 'shop.db'}"
    create_sample_erp(erp_url)
    settings = {"type": "sql", "url": erp_url, "erp_timezone": "Europe/Moscow"}
    adapter = build_adapter(
        "shop", AdapterSettings.model_validate({**settings, "withdraw_unlisted": True}), tmp_path
    )
    store = Store(f"sqlite:///{tmp_path / 'cuckoo.db'}")
    store.upgrade()
    clock = Clock()
    sched = Scheduler(store, {}, [adapter], clock=clock)
    assert sched.poll() == 7
    erp = sa.create_engine(erp_url)

    def tick(doc: int, on: bool) -> None:
        with erp.begin() as conn:
            conn.execute(
                sa.text("UPDATE documents SET notify_call = :on, notify_sms = :on WHERE id = :id"),
                {"on": on, "id": doc},
            )

    tick(1, False)
    tick(2, False)
    sched.poll()
    assert {store.get("shop", x).status for x in ("1", "2")} == {"pending"}  # type: ignore[union-attr]
    tick(2, True)  # ticked again before the next poll
    sched.poll()
    one, two = store.get("shop", "1"), store.get("shop", "2")
    assert one is not None and two is not None
    assert (one.status, one.detail) == ("cancelled", "withdrawn in the ERP")
    assert two.status == "pending"
    assert sched.flush_outbox() >= 1
    written = {r[0]: r[1:] for r in erp_results(erp_url)}
    assert written[1] == ("cancelled", "отменено", "отменено: снято в ERP")
    erp.dispose()

    # Off (the default): an unticked document is left alone.
    plain = build_adapter("shop2", AdapterSettings.model_validate(settings), tmp_path)
    assert plain.listed_ids() is None  # type: ignore[attr-defined]
    store.close()
