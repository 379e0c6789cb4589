"""call_then_sms end to end: the customer never answers, the robot calls until the attempt cap,
then falls back to one SMS through a real SMPP server (tests/sms_smsc, the npm `smpp` server)
and the ERP gets "delivered"; the SMSC's delivery receipt lands on the SMS attempt."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cuckoo.demo.cast import DOCS, Customer, Expected, documents, phones_script
from cuckoo.demo.rig import Rig, RigOptions, scenarios_dir
from cuckoo.dialog import load_named, render_sms
from cuckoo.domain import Outcome, Status

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sms_smsc"))
from smsc import Smsc, SmscUnavailable

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    try:
        server = Smsc.start()
    except SmscUnavailable as e:
        pytest.skip(str(e))
    with server:
        yield server


def test_calls_exhausted_then_one_sms_through_smpp(tmp_path: Path, smsc: Smsc) -> None:
    customer = Customer(
        "Сидоренко",
        "Ольга",
        None,
        "8-923-100-00-03",
        None,
        "Новосибирск",
        "documents_sent",
        "АКТ-000300",
        "never answers; has SMS",
        [{"action": "never"}],
        Expected(Status.DELIVERED, Outcome.SENT, 3, 1, calls=2),
        DOCS,
        notify_sms=True,  # both flags in the ERP: call_then_sms
    )
    gateway = {
        "type": "smpp",
        "host": "127.0.0.1",
        "port": smsc.port,
        "system_id": "cuckoo",
        "password": "secret",
        "response_timeout_s": 2.0,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.5,
        "submit_timeout_s": 10.0,
    }
    rig = Rig(
        tmp_path,
        phones_script([customer]),
        RigOptions(speed=60.0, max_attempts=2, ring_timeout_s=3.0, sms_gateway=gateway),
    )
    rig.start()
    try:
        assert set(rig.channels) == {"call", "sms"}
        rig.flag(documents([customer]))
        ext = str(rig.document_ids()[customer.number])
        message = smsc.wait_for("message", lambda m: m["dest"] == "79231000003", timeout=90)
        deadline = time.monotonic() + 30
        while rig.row(ext).status != Status.DELIVERED.value or rig.outbox_pending():
            assert time.monotonic() < deadline, rig.row(ext).detail
            time.sleep(0.2)
        row = rig.row(ext)
        atts = rig.attempts(ext)
        # The receipt comes asynchronously; wait for it to be stored on the SMS attempt.
        deadline = time.monotonic() + 15
        while not rig.attempts(ext)[-1].receipt_status:
            assert time.monotonic() < deadline, "no delivery receipt stored"
            time.sleep(0.2)
        receipt = rig.attempts(ext)[-1].receipt_status
    finally:
        rig.stop()
    assert [(a.channel, a.outcome) for a in atts] == [
        ("call", "no_answer"),
        ("call", "no_answer"),
        ("sms", "sent"),
    ]
    assert (row.attempts, row.contacts, row.last_outcome) == (3, 1, "sent")
    assert receipt == "delivered"
    # The text is the scenario's `sms:` template rendered with the ERP row's variables.
    variables = dict(
        DOCS, customer={"first_name": "Ольга", "patronymic": "", "last_name": "Сидоренко"}
    )
    want = render_sms(load_named(scenarios_dir(), "documents_sent"), variables)
    assert message["text"] == want
    assert "Ольга" in message["text"] and "октябрь" in message["text"]
    results = [(r["status_code"], r["outcome_code"], r["attempts"]) for r in rig.erp_results()]
    assert results == [("delivered", "sent", 3)]
    calls = [e for e in rig.phone_events() if e["event"] == "incoming"]
    assert len(calls) == 2
