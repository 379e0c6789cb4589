"""Early media over real SIP on loopback: the simulated phone answers the INVITE with a 183
with SDP and plays a special information tone, an operator's announcement (espeak-ng) or
ringback; dial() judges it (cuckoo.telephony.early) and CANCELs a call the network refused,
without waiting for the far end's final answer or our ring timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from telephony_helpers import SimPhoneProc

from cuckoo.config.telephony import AmdSettings
from cuckoo.domain import Outcome
from cuckoo.line import Expect, ReplyKind
from cuckoo.policy.retry import RetryPolicy, counts_as_contact
from cuckoo.telephony.engine import Engine, EngineConfig
from cuckoo.telephony.session import DialResult, SipLine, dial

pytestmark = [pytest.mark.sip, pytest.mark.slow]

ON = AmdSettings(early_announcements=True)
OFF = AmdSettings(early_media=False)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(EngineConfig(bind_host="127.0.0.1", rtp_timeout_s=3.0)).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def phone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimPhoneProc]:
    users: dict[str, Any] = {
        # the network: a vacant-code SIT for 4 s, then 404
        "vacant": {"action": "code", "code": 404, "early": "sit", "early_s": 4.0},
        # no circuit: the SIT over and over, never a final answer
        "nocircuit": {"action": "never", "early": "sit", "early_sit": "no_circuit"},
        "itu": {"action": "code", "code": 480, "early": "sit", "early_sit": "itu", "early_s": 5},
        # «Абонент недоступен…» for 8 s, then 480
        "switched_off": {"action": "code", "code": 480, "early": "announcement", "early_s": 8},
        # ringback for 2.5 s, then a person answers and presses 1
        "rings": {
            "action": "human",
            "early": "ringback",
            "early_s": 2.5,
            "say": "Алло?",
            "dtmf": [{"at_s": 1.5, "keys": "1"}],
        },
    }
    p = SimPhoneProc(
        {"default": {"action": "answer"}, "users": users}, tmp_path_factory.mktemp("early")
    )
    yield p
    assert p.stop() == 0


def place(
    engine: Engine, phone: SimPhoneProc, user: str, amd: AmdSettings | None
) -> tuple[DialResult, float]:
    t0 = time.monotonic()
    d = dial(engine, phone.uri(user), ring_timeout_s=10.0, setup_timeout_s=3.0, amd=amd)
    return d, time.monotonic() - t0


def ended(phone: SimPhoneProc, user: str) -> dict[str, Any]:
    n = max(e["n"] for e in phone.events() if e["event"] == "incoming" and e["user"] == user)
    return phone.wait_event("ended", timeout=5, user=user, n=n)


def test_a_vacant_code_sit_is_an_invalid_number_at_once(
    engine: Engine, phone: SimPhoneProc
) -> None:
    d, took = place(engine, phone, "vacant", ON)
    assert d.outcome == Outcome.INVALID_NUMBER, d
    assert d.detail.startswith("SIT: vacant code") and d.detail.endswith("(early media)"), d.detail
    assert took < 3.0  # one SIT is ~1.3 s; the phone's own 404 comes at 4 s
    assert ended(phone, "vacant")["answered"] is False
    assert not counts_as_contact(d.outcome, RetryPolicy())


@pytest.mark.parametrize(
    ("user", "variant"), [("nocircuit", "SIT: no circuit"), ("itu", "SIT: ITU-T E.180")]
)
def test_other_sits_are_unreachable(
    engine: Engine, phone: SimPhoneProc, user: str, variant: str
) -> None:
    d, took = place(engine, phone, user, ON)
    assert d.outcome == Outcome.NO_ANSWER, d
    assert d.detail.startswith(variant), d.detail
    assert took < 3.0
    assert ended(phone, user)["answered"] is False
    assert not counts_as_contact(d.outcome, RetryPolicy())


def test_an_operator_announcement_is_unreachable_before_the_480(
    engine: Engine, phone: SimPhoneProc
) -> None:
    d, took = place(engine, phone, "switched_off", ON)
    assert d.outcome == Outcome.NO_ANSWER, d
    assert d.detail.startswith("operator announcement in early media"), d.detail
    assert took < 6.0  # the phone sends its 480 only at 8 s
    assert ended(phone, "switched_off")["answered"] is False


def test_ringback_then_an_answer_is_a_normal_call(engine: Engine, phone: SimPhoneProc) -> None:
    d, took = place(engine, phone, "rings", ON)
    assert d.answered, d
    assert took >= 2.4  # it rang through its early media
    assert d.handle is not None
    line = SipLine(d.handle)
    try:
        reply = line.listen(Expect(speech=False, no_speech_timeout_s=6.0))
    finally:
        line.hangup()
    assert reply.kind == ReplyKind.DTMF and reply.digits == "1", reply
    # the ringback heard before the answer is not the far end's greeting
    assert line.answering_machine[0] != "machine", line.answering_machine


@pytest.mark.parametrize("amd", [OFF, None], ids=["early_media-false", "no-settings"])
def test_with_early_media_off_the_call_waits_for_the_far_end(
    engine: Engine, phone: SimPhoneProc, amd: AmdSettings | None
) -> None:
    d, took = place(engine, phone, "vacant", amd)
    assert d.outcome == Outcome.INVALID_NUMBER, d  # from the far end's own 404, 4 s later
    assert d.sip_code == 404 and "SIT" not in d.detail, d
    assert took >= 3.9
    d, took = place(engine, phone, "switched_off", amd)
    assert d.outcome == Outcome.NO_ANSWER and d.sip_code == 480, d
    assert took >= 7.9


def test_early_media_reaches_the_detector_only_before_the_answer(
    engine: Engine, phone: SimPhoneProc
) -> None:
    """The early frames go to the early tap, never into the answered call's audio queue."""
    got: list[bytes] = []
    h = engine.dial(phone.uri("rings"))
    h.early_tap = got.append
    assert h.confirmed.wait(8.0)
    h.early_tap = None
    n_early = len(got)
    queued = h.rx.qsize()
    h.hangup()
    h.disconnected.wait(3.0)
    assert n_early > 50  # ~2.5 s of ringback, 20 ms frames
    assert queued < 50  # what came after the answer only
