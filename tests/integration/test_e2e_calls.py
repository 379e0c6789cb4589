"""The robot end to end through real SIP on loopback: sample SQL ERP → store → scheduler →
call workers (the default voice, RHVoice, over RTP; the dialog) → simulated phones → results in
the ERP.

Each flow is checked against what the customer's phone script implies (cuckoo.demo.cast) and
the callback flow is followed to the second call, placed at the agreed time on the fast clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cuckoo.demo import CustomerState, check_customer, read_state
from cuckoo.demo.cast import CALLBACK, CAST, Customer, Expected, documents, phones_script
from cuckoo.demo.rig import Rig, RigOptions
from cuckoo.domain import Outcome, Status
from cuckoo.errors import InputError
from cuckoo.intake.phones import normalize_phone

pytestmark = [pytest.mark.sip, pytest.mark.slow, pytest.mark.timeout(240)]


def wait_for(what: str, pred: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cast_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo's whole cast through one rig; yields each customer's final state and the
    ERP rows and phone events, for the per-flow tests below."""
    workdir = tmp_path_factory.mktemp("e2e-cast")
    rig = Rig(workdir, phones_script(CAST), RigOptions(speed=60.0)).start()
    try:
        rig.flag(documents(CAST))
        ids = rig.document_ids()
        ext = {c.number: str(ids[c.number]) for c in CAST}

        def states() -> list[CustomerState]:
            return [read_state(rig, c, ext[c.number]) for c in CAST]

        wait_for(
            "every customer to settle and every result to reach the ERP",
            lambda: all(s.settled for s in states()) and rig.outbox_pending() == 0,
            180,
        )
        final = {s.customer.number: s for s in states()}
    finally:
        rig.stop()
    yield {"states": final, "erp": rig.erp_results(), "events": rig.phone_events()}


@pytest.mark.parametrize("customer", CAST, ids=[c.plays for c in CAST])
def test_flow_reaches_the_outcome_its_script_implies(
    cast_run: dict[str, Any], customer: Customer
) -> None:
    st = cast_run["states"][customer.number]
    try:
        e164: str | None = normalize_phone(customer.phone)
    except InputError:
        e164 = None
    assert check_customer(st, cast_run["erp"], cast_run["events"], e164) == []


def test_robot_speech_reaches_the_phones_over_rtp(cast_run: dict[str, Any]) -> None:
    answered = [e for e in cast_run["events"] if e["event"] == "ended" and e.get("answered")]
    # Иванова, Петров (2nd call), Захарова, Смирнова, Орлова (her voicemail, then she)
    assert len(answered) == 6
    for e in answered:
        assert e["first_audio_s"] is not None, e
        # The robot speaks within a couple of seconds of the answer (synthesis + RTP).
        assert e["first_audio_s"] < 5.0, e


def test_callback_agreed_by_keys_is_called_back_at_that_time(tmp_path: Path) -> None:
    # 00:30 on 19 November in Yekaterinburg when the fast clock starts (3600×: start-up and
    # the first call take hours of cuckoo time, still 19 November): "tomorrow at 10" is
    # 20 November, 10:00 local, some 20 hours of cuckoo time (~20 s wall) after the first call.
    start = datetime(2026, 11, 18, 19, 30, tzinfo=UTC)
    zone = ZoneInfo("Asia/Yekaterinburg")
    customer = Customer(
        "Захарова",
        "Анна",
        "Сергеевна",
        "8 912 100-00-06",
        "Asia/Yekaterinburg",
        "Пермь",
        "callback_offer",
        "ЗК-000900",
        "callback by keys, then agrees on the callback",
        [
            # call 1: not tomorrow 10 (2) → tomorrow morning (1)
            {
                "action": "answer",
                "answer_after_s": 0.5,
                "dtmf": [{"at_s": 1.5, "keys": "2"}, {"at_s": 3.5, "keys": "1"}],
            },
            # call 2 (the callback): yes, tomorrow around ten suits (1)
            {"action": "answer", "answer_after_s": 0.5, "dtmf": [{"at_s": 1.5, "keys": "1"}]},
        ],
        Expected(Status.CONFIRMED, Outcome.CONFIRMED, 2, 2, calls=2),
        CALLBACK,
    )
    rig = Rig(tmp_path, phones_script([customer]), RigOptions(speed=3600.0, start_at=start)).start()
    try:
        rig.flag(documents([customer]))
        ext = str(rig.document_ids()[customer.number])
        wait_for(
            "the first call to end with a callback",
            lambda: (r := rig.row(ext)) is not None and r.attempts == 1,
            60,
        )
        first = rig.row(ext)
        assert first.last_outcome == Outcome.CALLBACK_REQUESTED.value
        att1 = rig.attempts(ext)[0]
        assert att1.dtmf == "21"
        agreed = (
            att1.callback_at.replace(tzinfo=UTC)
            if att1.callback_at.tzinfo is None
            else att1.callback_at
        )
        assert agreed.astimezone(zone) == datetime(2026, 11, 20, 10, 0, tzinfo=zone)
        # The store schedules the next call exactly at the agreed time...
        if first.status == Status.PENDING.value:
            nxt = first.next_attempt_at
            nxt = nxt.replace(tzinfo=UTC) if nxt.tzinfo is None else nxt
            assert nxt == agreed
        wait_for(
            "the callback call",
            lambda: rig.row(ext).status == Status.CONFIRMED.value and rig.outbox_pending() == 0,
            90,
        )
        # ...and the scheduler placed it no earlier than that on its clock.
        assert rig.clock is not None and rig.clock() >= agreed
        atts = rig.attempts(ext)
        assert [a.outcome for a in atts] == ["callback_requested", "confirmed"]
    finally:
        rig.stop()
    results = [(r["status_code"], r["outcome_code"], r["attempts"]) for r in rig.erp_results()]
    assert results == [("pending", "callback_requested", 1), ("confirmed", "confirmed", 2)]
    calls = [e for e in rig.phone_events() if e["event"] == "incoming"]
    assert len(calls) == 2
