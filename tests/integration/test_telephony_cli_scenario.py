"""`cuckoo call URI --scenario NAME --var k=v`: an admin tries a scenario on one real call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from telephony_helpers import REPO, SimPhoneProc

pytestmark = [pytest.mark.sip, pytest.mark.slow]


def cuckoo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_scenario_on_one_call_confirmed_by_key(tmp_path: Path) -> None:
    script = {
        "default": {"action": "answer", "answer_after_s": 0.1},
        "users": {"me": {"dtmf": [{"at_s": 1.5, "keys": "1", "method": "rfc2833"}]}},
    }
    phone = SimPhoneProc(script, tmp_path, name="admin")
    try:
        out = cuckoo(
            "call", phone.uri("me"), "--scenario", "documents_sent", "--json",
            "--var", "customer.first_name=Ольга", "--var", "period=ноябрь",
        )  # fmt: skip
    finally:
        assert phone.stop() == 0
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["outcome"] == "confirmed" and r["dtmf"] == "1" and r["sip_code"] == 200, r
    # The --var values replaced the scenario's samples in what was said.
    assert r["said"][0].startswith("Ольга Николаевич")
    assert "за ноябрь" in r["said"][0]


def test_variables_that_do_not_fit_are_refused_before_dialing() -> None:
    out = cuckoo("call", "sip:nobody@127.0.0.1:9", "--scenario", "documents_sent",
                 "--var", "customer=Пётр")  # fmt: skip
    assert out.returncode == 1
    assert "scenario 'documents_sent'" in out.stderr and "customer" in out.stderr


def test_an_sms_step_is_shown_not_sent(tmp_path: Path) -> None:
    """order_ready, key 1 (pressed during the message: barge-in): the dialog's `sms:` step
    renders the address; a one-off call shows it (only the worker sends requested SMS)."""
    script = {
        "default": {"action": "answer", "answer_after_s": 0.1},
        "users": {"me": {"dtmf": [{"at_s": 1.5, "keys": "1", "method": "rfc2833"}]}},
    }
    phone = SimPhoneProc(script, tmp_path, name="admin")
    try:
        out = cuckoo("call", phone.uri("me"), "--scenario", "order_ready",
                     "--var", "pickup.address=проспект Мира, дом 1")  # fmt: skip
    finally:
        assert phone.stop() == 0
    assert out.returncode == 0, out.stderr[-2000:]
    want = "sms asked: Заказ 1024: проспект Мира, дом 1, с 09:00 до 21:00. (not sent by"
    assert want in out.stdout, out.stdout
    assert "outcome:   confirmed" in out.stdout  # goal delivered: heard = done
