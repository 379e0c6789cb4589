"""Retention (issue 13, item 8; 152-ФЗ), on SQLite and PostgreSQL (db_url): notifications final
for longer than retention_days lose their phone, variables, transcripts, what was said, SMS
texts and their recordings on disk; counts stay; open ones and the do-not-call list are kept;
purging twice changes nothing more."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cuckoo.config.policy import PolicySettings
from cuckoo.domain import AttemptResult, IncomingNotification, Outcome
from cuckoo.store import Store
from cuckoo.store.retention import purged_phone

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
UNPACED = PolicySettings(max_calls_per_phone_per_day=0, min_minutes_between_calls_to_phone=0)
NAME = {"customer": {"first_name": "Пётр", "last_name": "Сидоров"}, "order": "A-1"}


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url, policy=UNPACED)
    s.upgrade()
    yield s
    s.close()


def test_purge(store: Store, tmp_path: Path) -> None:
    store.ingest(
        [
            IncomingNotification("erp", "done", "+79123456701", "order_ready", variables=NAME),
            IncomingNotification("erp", "open", "+79123456702", "order_ready", variables=NAME),
        ],
        NOW,
    )
    recording = tmp_path / "call.wav"
    recording.write_bytes(b"RIFF....")
    done = next(n for n in store.claim_due("w", NOW, 10, 60) if n.external_id == "done")
    result = AttemptResult(
        Outcome.CONFIRMED, NOW, NOW + timedelta(seconds=30), answered_at=NOW, dtmf="1",
        transcript="да, Сидоров слушает", said=["Пётр, здравствуйте!"],
        recording_path=str(recording), sms_text="Пётр, заказ A-1 готов",
    )  # fmt: skip
    store.finish_attempt(done, "w", result, NOW)
    store.block("+79123456701", "asked later by letter", NOW)
    before = store.counts_by_status()

    later = NOW + timedelta(days=400)
    dry = store.purge(later - timedelta(days=365), dry_run=True)
    assert (dry.notifications, dry.recordings) == (1, 1) and recording.exists()

    got = store.purge(later - timedelta(days=365))
    assert (got.notifications, got.attempts, got.recordings) == (1, 1, 1)
    assert not recording.exists()
    row = store.get("erp", "done")
    assert row is not None
    assert (row.phone, row.phone_raw, row.variables) == (purged_phone("+79123456701"), "", {})
    assert row.status == "confirmed"
    [att] = store.attempts_of(row.id)
    assert (att.transcript, att.said, att.recording_path, att.dtmf) == ("", [], None, "1")
    assert [r.text for r in store.sms_requests_of(row.id)] == [""]
    kept = store.get("erp", "open")
    assert kept is not None and kept.phone == "+79123456702" and kept.variables == NAME
    assert store.is_blocked("+79123456701")  # the do-not-call list keeps its numbers
    assert store.counts_by_status() == before
    assert store.purge(later - timedelta(days=365)).notifications == 0  # idempotent
    # Not old enough yet: nothing.
    assert store.purge(NOW - timedelta(days=1)).notifications == 0


def test_db_purge_command(tmp_path: Path) -> None:
    (tmp_path / "cuckoo.toml").write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "c.sqlite"}"\n', "utf-8"
    )

    def cuckoo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cuckoo.cli.main", "-c", "cuckoo.toml", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip

    assert cuckoo("db", "upgrade").returncode == 0
    refused = cuckoo("db", "purge")
    assert refused.returncode == 1 and "--older-than DAYS" in refused.stderr
    ok = cuckoo("db", "purge", "--older-than", "30", "--dry-run")
    assert ok.returncode == 0 and ok.stdout.startswith("would purge 0 notifications"), ok.stderr


def test_consent_is_stored_and_required_where_configured(db_url: str) -> None:
    """41-ФЗ: the ERP's consent record is kept with the notification; a tenant with
    require_consent gets a row without one stored INVALID and reported, never dialled; an ERP
    row maps its `consent` column (adapters.mapping)."""
    from adapters.mapping import RowDefaults, map_row

    policy = PolicySettings.model_validate({"tenants": {"shop": {"require_consent": True}}})
    s = Store(db_url, policy=policy)
    s.upgrade()
    try:
        row = {"external_id": "7", "phone": "+79123456703", "scenario": "order_ready",
               "consent": "договор 12/2025, п. 7", "tenant": "shop"}  # fmt: skip
        item = map_row("erp", row, RowDefaults())
        assert item.consent == "договор 12/2025, п. 7" and "consent" not in item.variables
        bare = IncomingNotification("erp", "8", "+79123456704", "order_ready", tenant="shop")
        report = s.ingest([item, bare], NOW)
        assert (report.new, report.invalid) == (1, 1)
        kept, refused = s.get("erp", "7"), s.get("erp", "8")
        assert kept is not None and kept.consent == "договор 12/2025, п. 7"
        assert refused is not None and refused.status == "invalid"
        assert refused.detail.startswith("no consent to calls on record")
        assert [o.payload["status"] for o in s.outbox_of(refused.id)] == ["invalid"]
    finally:
        s.close()
