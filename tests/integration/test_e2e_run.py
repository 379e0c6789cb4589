"""`cuckoo run` — the production worker — with the real channels from cuckoo.worker.channels, as an
admin runs it: a cuckoo.toml (sample SQL ERP, a trunk that is the simulated phone on loopback),
`cuckoo db upgrade`, then `cuckoo run --once`: the flagged document is called, the customer
presses 1, the result is written back to the ERP."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from telephony_helpers import free_port

from adapters.samples.erp import create_sample_erp
from cuckoo.demo.cast import DOCS, Customer, Expected, documents, phones_script
from cuckoo.demo.rig import Rig, RigOptions, toml_text
from cuckoo.domain import Outcome, Status

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(180)]


def cuckoo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=150,
    )


def presses_1() -> Customer:
    return Customer(
        "Иванова",
        "Мария",
        "Петровна",
        "8 (912) 100-00-01",
        None,
        "Екатеринбург",
        "documents_sent",
        "АКТ-000700",
        "presses 1",
        [{"action": "answer", "answer_after_s": 0.5, "dtmf": [{"at_s": 1.5, "keys": "1"}]}],
        Expected(Status.CONFIRMED, Outcome.CONFIRMED, 1, 1),
        DOCS,
    )


def test_cuckoo_run_once_calls_and_writes_back(tmp_path: Path) -> None:
    customer = presses_1()
    rig = Rig(tmp_path, phones_script([customer]), RigOptions())
    rig.start_phones()
    try:
        data = rig.config_data()
        data["scheduler"]["lease_s"] = 120.0  # the real clock here
        (tmp_path / "cuckoo.toml").write_text(toml_text(data), "utf-8")
        create_sample_erp(rig.erp_url, documents=documents([customer]))
        up = cuckoo("-c", "cuckoo.toml", "db", "upgrade", cwd=tmp_path)
        assert up.returncode == 0, up.stderr
        run = cuckoo("-c", "cuckoo.toml", "run", "--once", "--timeout", "90", cwd=tmp_path)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "ingested 1, dispatched 1, reported 1" in run.stdout, run.stdout + run.stderr
    finally:
        rig.stop()
    db = sqlite3.connect(tmp_path / "erp.sqlite")
    got = db.execute(
        "SELECT status_code, outcome_code, attempts, dtmf, status, detail FROM notify_results"
    ).fetchall()
    db.close()
    assert got == [("confirmed", "confirmed", 1, "1", "подтверждено", "подтверждено")]
    events = [json.loads(x) for x in rig.events_path.read_text().splitlines() if x.strip()]
    ended = [e for e in events if e["event"] == "ended"]
    assert len(ended) == 1 and ended[0]["first_audio_s"] is not None  # it heard the robot


def test_a_dead_first_trunk_hands_the_call_to_the_second(tmp_path: Path) -> None:
    """Two trunks: the first by priority has nobody at its address (a dead carrier), the
    second is the customer's phone. The worker's one attempt fails over within the call:
    one attempt stored, one call answered, the result in the ERP."""
    customer = presses_1()
    rig = Rig(tmp_path, phones_script([customer]), RigOptions())
    rig.start_phones()
    try:
        data = rig.config_data()
        data["scheduler"]["lease_s"] = 120.0
        live = data["telephony"].pop("trunk")
        data["telephony"]["setup_timeout_s"] = 2.0
        data["telephony"]["trunks"] = {
            "dead": {"domain": f"127.0.0.1:{free_port()}", "priority": 0},
            "live": {**live, "priority": 1},
        }
        (tmp_path / "cuckoo.toml").write_text(toml_text(data), "utf-8")
        create_sample_erp(rig.erp_url, documents=documents([customer]))
        assert cuckoo("-c", "cuckoo.toml", "db", "upgrade", cwd=tmp_path).returncode == 0
        run = cuckoo("-c", "cuckoo.toml", "run", "--once", "--timeout", "90", cwd=tmp_path)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "ingested 1, dispatched 1, reported 1" in run.stdout, run.stdout + run.stderr
        assert "trunk dead failed the call (no SIP response): trying the next" in run.stderr
    finally:
        rig.stop()
    db = sqlite3.connect(tmp_path / "erp.sqlite")
    got = db.execute("SELECT status_code, attempts, dtmf FROM notify_results").fetchall()
    db.close()
    assert got == [("confirmed", 1, "1")]
    store = sqlite3.connect(tmp_path / "cuckoo.sqlite")
    details = store.execute("SELECT outcome, detail FROM attempts").fetchall()
    store.close()
    assert len(details) == 1 and details[0][0] == "confirmed"
    assert "failed over from dead: no SIP response" in details[0][1]
    events = [json.loads(x) for x in rig.events_path.read_text().splitlines() if x.strip()]
    assert len([e for e in events if e["event"] == "answered"]) == 1
