"""Cancelling during a call, end to end as an admin does it: `cuckoo run --once` calls the
simulated phone over real SIP on loopback; while the customer is on the line, a manager runs
`cuckoo notify cancel`. The call is not cut off: the customer finishes it (asks for a callback
tomorrow morning); then the notification ends cancelled instead of waiting for that callback,
the ERP is told in Russian, and the phone is not called again."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.samples.erp import create_sample_erp
from cuckoo.demo.cast import CAST, documents, phones_script
from cuckoo.demo.rig import Rig, RigOptions, toml_text

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(240)]


def cuckoo(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cuckoo.cli.main", "-c", "cuckoo.toml", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def events(rig: Rig) -> list[dict[str, object]]:
    if not rig.events_path.exists():
        return []
    return [json.loads(x) for x in rig.events_path.read_text().splitlines() if x.strip()]


def test_cancel_during_a_call_lets_it_finish_then_ends_cancelled(tmp_path: Path) -> None:
    # The demo's customer who asks for a callback (2, then 1: tomorrow morning), pressing
    # late enough for the cancel to land while the call is on.
    [asks_callback] = [c for c in CAST if c.scenario == "callback_offer"]
    call = dict(asks_callback.calls[0])
    call["dtmf"] = [
        {"at_s": 7.0, "keys": "2", "method": "rfc2833"},
        {"at_s": 10.0, "keys": "1", "method": "rfc2833"},
    ]
    customer = replace(asks_callback, calls=[call])
    rig = Rig(tmp_path, phones_script([customer]), RigOptions())
    rig.start_phones()
    try:
        data = rig.config_data()
        data["scheduler"]["lease_s"] = 120.0  # the real clock here
        (tmp_path / "cuckoo.toml").write_text(toml_text(data), "utf-8")
        create_sample_erp(rig.erp_url, documents=documents([customer]))
        up = cuckoo("db", "upgrade", cwd=tmp_path)
        assert up.wait(60) == 0, up.communicate()[1]

        run = cuckoo("run", "--once", "--timeout", "90", cwd=tmp_path)
        deadline = time.monotonic() + 60
        while not any(e["event"] == "incoming" for e in events(rig)):
            assert time.monotonic() < deadline, "the robot never called"
            assert run.poll() is None, run.communicate()
            time.sleep(0.1)
        cancel = subprocess.run(
            [sys.executable, "-m", "cuckoo.cli.main", "-c", "cuckoo.toml", "notify", "cancel",
             "shop/1", "--reason", "клиент приехал в офис", "--json"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert cancel.returncode == 0, cancel.stderr
        said = json.loads(cancel.stdout)
        assert (said["result"], said["status"]) == ("after_call", "active")
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-3000:]
    finally:
        rig.stop()

    got = events(rig)
    assert len([e for e in got if e["event"] == "incoming"]) == 1
    db = sqlite3.connect(tmp_path / "erp.sqlite")
    [(status_code, outcome_code, dtmf, detail)] = db.execute(
        "SELECT status_code, outcome_code, dtmf, detail FROM notify_results"
    ).fetchall()
    [(flag,)] = db.execute("SELECT notify_call FROM documents").fetchall()
    db.close()
    # The customer finished the call: both keys are heard and kept.
    assert (status_code, outcome_code, dtmf) == ("cancelled", "callback_requested", "21")
    assert detail == (
        "отменено: вручную (клиент приехал в офис); начатый звонок закончился: просит перезвонить"
    )
    assert flag == 0  # final: the ERP's flag is cleared, nothing is due
    again = cuckoo("run", "--once", "--timeout", "30", cwd=tmp_path)
    out, err = again.communicate(timeout=90)
    assert "dispatched 0" in out, out
