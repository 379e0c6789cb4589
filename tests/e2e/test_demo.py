"""`cuckoo demo` as a user runs it: a subprocess, no cuckoo.toml, real SIP/RTP on loopback.

It must exit 0 (every customer reached the outcome its script implies) and leave the ERP holding
the written-back results, which this test reads itself from the kept ERP file.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(300)]

# document number → (status code, outcome code of its result row, attempts, dtmf)
EXPECTED = {
    "АКТ-000101": ("confirmed", "confirmed", 1, "1"),
    "АКТ-000102": ("confirmed", "confirmed", 2, "1"),
    "АКТ-000103": ("exhausted", "no_answer", 3, ""),
    "ЗК-000104": ("pending", "callback_requested", 1, "21"),
    "АКТ-000105": ("declined", "declined", 1, "2"),
    "АКТ-000106": ("invalid", "invalid_number", 1, ""),
    "АКТ-000107": ("invalid", None, 0, ""),
    "АКТ-000108": ("confirmed", "confirmed", 2, "1"),
}


def test_demo_runs_green_and_writes_results_back(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "CUCKOO_CONFIG"}
    proc = subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", "demo", "--keep", "--dir", str(workdir)],
        cwd=tmp_path,  # no cuckoo.toml here: the demo needs none
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "All 8 customers reached the outcome their script implies." in proc.stdout
    # Without a terminal the progress is plain lines, one per change.
    assert "confirmed, attempts 1, last confirmed, keys 1" in proc.stdout

    db = sqlite3.connect(workdir / "erp.sqlite")
    rows = db.execute(
        "SELECT d.number, d.notify_status, d.notify_call, r.status_code, r.outcome_code,"
        " r.attempts, r.dtmf, r.callback_at, r.detail"
        " FROM documents d JOIN notify_results r ON r.document_id = d.id"
    ).fetchall()
    db.close()
    got = {
        number: (status, outcome, attempts, dtmf or "")
        for number, _doc, _flag, status, outcome, attempts, dtmf, _cb, _text in rows
    }
    assert got == EXPECTED
    by_number = {r[0]: r for r in rows}
    # Final results clear the manager's flag; the agreed callback keeps it and has its time.
    assert by_number["АКТ-000101"][2] == 0
    assert by_number["ЗК-000104"][2] == 1
    # "tomorrow at 10" in the customer's zone (Asia/Yekaterinburg, UTC+5), written back in the
    # ERP's own zone (Europe/Moscow, UTC+3).
    assert str(by_number["ЗК-000104"][7]).endswith("08:00:00")
    # What the manager reads: the status and the result in Russian words.
    assert by_number["АКТ-000103"][1] == "не дозвонились"
    assert by_number["АКТ-000103"][8] == "не дозвонились: исчерпано 3 попытки"
    callback = by_number["ЗК-000104"][8]
    assert re.fullmatch(r"перезвонить \d\d\.\d\d в 10:00 \(по времени клиента\)", callback)
    # The generated configuration is a valid cuckoo.toml.
    from cuckoo.config import load

    assert load(workdir / "cuckoo.toml").adapters["shop"].type == "sql"
