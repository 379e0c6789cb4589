"""A wrong number end to end, as an admin runs it: `cuckoo run --once` against the sample SQL
ERP, a real SIP call to the simulated phone on loopback, the result written back to the ERP.

The simulated phone answers with keys (speech would need the Vosk model): the test copies the
shipped scenarios and lets key 8 stand for «вы не туда попали» in documents_sent. First run:
Иванова's document is called, 8 is pressed, the ERP gets wrong_number. Second run: a new
document for Иванова at that number is reported wrong_number without a call, while another
customer's document to the same number is called (and confirmed with 1).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.samples.erp import create_sample_erp
from cuckoo.demo.cast import DOCS, Customer, Expected, documents, phones_script
from cuckoo.demo.rig import Rig, RigOptions, scenarios_dir, toml_text
from cuckoo.domain import Outcome, Status

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(240)]

PHONE = "8 (912) 100-00-31"
WRONG_KEY = "  - dtmf: 8                  # the test phone's «вы не туда попали»\n"


def cuckoo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=150,
    )


def customer(last: str, first: str, number: str, calls: list[dict[str, object]]) -> Customer:
    return Customer(
        last,
        first,
        "Петровна",
        PHONE,
        None,
        "Екатеринбург",
        "documents_sent",
        number,
        "test",
        calls,
        Expected(Status.WRONG_NUMBER, Outcome.WRONG_NUMBER, 1, 0),
        DOCS,
    )


def keys(k: str) -> dict[str, object]:
    return {"action": "answer", "answer_after_s": 0.5, "dtmf": [{"at_s": 1.5, "keys": k}]}


def test_a_wrong_number_is_reported_and_that_customer_is_not_called_again(
    tmp_path: Path,
) -> None:
    scenarios = tmp_path / "scenarios"
    shutil.copytree(scenarios_dir(), scenarios)
    doc = scenarios / "documents_sent.yaml"
    text = doc.read_text("utf-8")
    assert text.count("  - intent: wrong_number") == 1
    doc.write_text(
        text.replace("  - intent: wrong_number", WRONG_KEY + "    intent: wrong_number"), "utf-8"
    )

    ivanova = customer("Иванова", "Мария", "АКТ-000801", [])
    ivanova_again = customer("Иванова", "Мария", "АКТ-000802", [])
    sidorov = customer("Сидоров", "Павел", "АКТ-000803", [])
    # The number's calls, in order: somebody else answers and presses 8; then Сидоров, who
    # owns the number now, presses 1 (so would any later call: the last script repeats).
    phone = replace(ivanova, calls=[keys("8"), keys("1")])
    rig = Rig(tmp_path, phones_script([phone]), RigOptions())
    rig.start_phones()
    try:
        data = rig.config_data()
        data["scheduler"]["lease_s"] = 120.0  # the real clock here
        data["scenarios_dir"] = str(scenarios)
        # Сидоров is called right after the wrong-number call to his number, in the second
        # run: without this he would wait the default 30 minutes after it (one customer, one
        # call; tests/integration/test_store_one_call.py).
        data["policy"]["min_minutes_between_calls_to_phone"] = 0
        (tmp_path / "cuckoo.toml").write_text(toml_text(data), "utf-8")
        create_sample_erp(rig.erp_url, documents=documents([ivanova]))
        up = cuckoo("-c", "cuckoo.toml", "db", "upgrade", cwd=tmp_path)
        assert up.returncode == 0, up.stderr

        first = cuckoo("-c", "cuckoo.toml", "run", "--once", "--timeout", "90", cwd=tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "ingested 1, dispatched 1, reported 1" in first.stdout, first.stdout

        # The manager flags two more documents to the same number.
        create_sample_erp(rig.erp_url, documents=documents([ivanova_again, sidorov]))
        second = cuckoo("-c", "cuckoo.toml", "run", "--once", "--timeout", "90", cwd=tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "ingested 2, dispatched 1, reported 2" in second.stdout, second.stdout
        status = cuckoo("-c", "cuckoo.toml", "status", cwd=tmp_path)
        assert "wrong numbers (customer, number): 1" in status.stdout, status.stdout
    finally:
        rig.stop()

    db = sqlite3.connect(tmp_path / "erp.sqlite")
    got = db.execute(
        "SELECT d.number, r.status_code, r.outcome_code, r.attempts, r.contacts, r.dtmf, r.detail"
        "  FROM notify_results r JOIN documents d ON d.id = r.document_id ORDER BY d.number"
    ).fetchall()
    flags = db.execute("SELECT number, notify_call, notify_status FROM documents").fetchall()
    db.close()
    assert [g[:6] for g in got] == [
        ("АКТ-000801", "wrong_number", "wrong_number", 1, 0, "8"),
        ("АКТ-000802", "wrong_number", None, 0, 0, ""),  # never dialled
        ("АКТ-000803", "confirmed", "confirmed", 1, 1, "1"),
    ]
    assert got[1][6].startswith("чужой номер: по номеру +79121000031 ответил не клиент")
    assert sorted(flags) == [
        ("АКТ-000801", 0, "чужой номер"),  # final: the ERP's flag is cleared
        ("АКТ-000802", 0, "чужой номер"),
        ("АКТ-000803", 0, "подтверждено"),
    ]
    events = [json.loads(x) for x in rig.events_path.read_text().splitlines() if x.strip()]
    assert len([e for e in events if e["event"] == "incoming"]) == 2
