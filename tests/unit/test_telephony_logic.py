"""Pure telephony logic: Q.850 parsing, dial outcomes, dial plan, settings, sim-phone scripts,
the player buffer, recordings, pool result conversion."""

from __future__ import annotations

import itertools
import pickle
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from cuckoo import config as config_mod
from cuckoo.config.telephony import DialRule, TelephonySettings, TrunkSettings
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.errors import ConfigError, InputError
from cuckoo.line.leg import CallReport, CallRequest
from cuckoo.policy.ratelimit import TokenBucket
from cuckoo.telephony.dialplan import is_sip_uri, rewrite, target_uri
from cuckoo.telephony.engine import FRAME_BYTES, SILENCE, Player, parse_q850
from cuckoo.telephony.outcomes import DialFacts, dial_outcome
from cuckoo.telephony.session import write_stereo_wav
from cuckoo.telephony.simphone import Behavior, Script, user_of

# ---- Q.850 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg", "cause"),
    [
        ('SIP/2.0 480 Unavailable\r\nReason: Q.850;cause=17;text="busy"\r\n\r\n', 17),
        ("SIP/2.0 486 Busy\r\nreason: q.850 ; cause = 34\r\n", 34),
        ('BYE sip:a@b SIP/2.0\r\nReason: Q.850;text="x";cause=16\r\n', 16),
        ("SIP/2.0 404 Not Found\r\nReason: SIP;cause=404\r\n", None),
        ("SIP/2.0 486 Busy\r\n\r\n", None),
        ("SIP/2.0 486 Busy\r\nX-Reason: Q.850;cause=17\r\n", None),
    ],
)
def test_parse_q850(msg: str, cause: int | None) -> None:
    assert parse_q850(msg) == cause


# ---- dial outcomes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "outcome"),
    [
        (DialFacts(True, 200), None),
        (DialFacts(False, 486), Outcome.BUSY),
        (DialFacts(False, 600), Outcome.BUSY),
        (DialFacts(False, 480, q850=17), Outcome.BUSY),
        (DialFacts(False, 480), Outcome.NO_ANSWER),
        (DialFacts(False, 408), Outcome.NO_ANSWER),  # it rang (a response came), then timed out
        (DialFacts(False, 408, any_response=False), Outcome.NETWORK),  # nobody there
        (DialFacts(False, 487, ring_timeout=True), Outcome.NO_ANSWER),  # our CANCEL
        (DialFacts(False, None, setup_timeout=True, any_response=False), Outcome.NETWORK),
        (DialFacts(False, 603), Outcome.REJECTED),
        (DialFacts(False, 403), Outcome.REJECTED),
        (DialFacts(False, 404), Outcome.INVALID_NUMBER),
        (DialFacts(False, 484), Outcome.INVALID_NUMBER),
        (DialFacts(False, 410), Outcome.INVALID_NUMBER),
        (DialFacts(False, 604), Outcome.INVALID_NUMBER),
        (DialFacts(False, 503), Outcome.NETWORK),
        (DialFacts(False, 500), Outcome.NETWORK),
        (DialFacts(False, None, bad_uri=True), Outcome.INVALID_NUMBER),
        (DialFacts(False, None, local_error=True), Outcome.NETWORK),
        (DialFacts(False, None), Outcome.NETWORK),
    ],
)
def test_dial_outcome(facts: DialFacts, outcome: Outcome | None) -> None:
    assert dial_outcome(facts) == outcome


# ---- dial plan --------------------------------------------------------------------------------

RU_8 = [DialRule(match=r"\+7(\d{10})", replace=r"8\1")]


@pytest.mark.parametrize(
    ("number", "rules", "out"),
    [
        ("+79123456789", RU_8, "89123456789"),
        ("+74951234567", RU_8, "84951234567"),
        ("+375291234567", RU_8, "+375291234567"),  # no rule matches: unchanged
        ("+79123456789", [DialRule(match=r"\+(\d+)", replace=r"00\1")], "0079123456789"),
        ("+79123456789", [DialRule(match=r"\+7(\d{10})", replace=r"\1"), *RU_8], "9123456789"),
        ("+7912", RU_8, "+7912"),  # whole-string match only
    ],
)
def test_rewrite(number: str, rules: list[DialRule], out: str) -> None:
    assert rewrite(number, rules) == out


def test_target_uri() -> None:
    no_trunk = TelephonySettings()
    assert target_uri("sip:alice@127.0.0.1:5090", no_trunk) == "sip:alice@127.0.0.1:5090"
    assert is_sip_uri("sips:a@b") and not is_sip_uri("+7912")
    with pytest.raises(InputError, match="SIP URI"):
        target_uri("+79123456789", no_trunk)
    trunk = TelephonySettings(trunk=TrunkSettings(domain="pbx.local"), dial_plan=RU_8)
    assert target_uri("+79123456789", trunk) == "sip:89123456789@pbx.local"
    assert target_uri("+7 (912) 345-67-89", trunk) == "sip:89123456789@pbx.local"
    tcp = trunk.model_copy(update={"transport": "tcp"})
    assert target_uri("+79123456789", tcp) == "sip:89123456789@pbx.local;transport=tcp"
    tls = trunk.model_copy(update={"transport": "tls"})
    assert target_uri("+79123456789", tls) == "sips:89123456789@pbx.local;transport=tls"
    with pytest.raises(InputError, match="not a phone number"):
        target_uri("call me maybe", trunk)


# ---- settings ---------------------------------------------------------------------------------


def test_settings_defaults_and_toml() -> None:
    s = TelephonySettings()
    assert s.codecs == ["PCMA/8000", "PCMU/8000", "G722/16000"]
    assert s.calls_per_worker == 4 and s.max_concurrent_calls == 8
    cfg = config_mod.parse(
        '[telephony]\nworkers = 3\ntransport = "tcp"\n'
        "dial_plan = [{ match = '\\+7(\\d{10})', replace = '8\\1' }]\n"
        '[telephony.trunk]\ndomain = "pbx"\nusername = "u"\npassword = "p"\n'
    )
    assert cfg.telephony.workers == 3 and cfg.telephony.trunk.username == "u"
    assert rewrite("+79123456789", cfg.telephony.dial_plan) == "89123456789"


@pytest.mark.parametrize(
    "toml",
    [
        "[telephony]\ncalls_per_worker = 5\n",  # the wheel's limit is 4
        '[telephony]\ntransport = "sctp"\n',
        "[telephony]\ndial_plan = [{ match = '(', replace = '' }]\n",
        "[telephony]\nring_timeout_s = 0\n",
        "[telephony]\nbogus = 1\n",
    ],
)
def test_settings_errors_name_the_key(toml: str) -> None:
    with pytest.raises(ConfigError, match=r"cuckoo.toml(:\d+)?: \[telephony"):
        config_mod.parse(toml)


def test_dial_rule_regex_checked() -> None:
    with pytest.raises(ValidationError):
        DialRule(match="[", replace="")


# ---- sim-phone scripts ------------------------------------------------------------------------


def test_script_per_user() -> None:
    s = Script.from_dict(
        {
            "default": {"answer_after_s": 1},
            "users": {
                "bob": {"action": "busy"},
                "eve": {"dtmf": [{"at_s": 2, "keys": "12", "method": "inband"}], "record": "x.wav"},
            },
        }
    )
    assert s.for_user("alice") == Behavior(answer_after_s=1)
    assert s.for_user("bob").action == "busy"
    eve = s.for_user("eve")
    assert eve.dtmf[0].keys == "12" and eve.dtmf[0].method == "inband" and eve.record == "x.wav"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"default": {"action": "dance"}}, "action"),
        ({"default": {"answer_after": 1}}, "unknown keys"),
        ({"users": {"a": {"dtmf": [{"at_s": 1, "keys": "1", "method": "pigeon"}]}}}, "method"),
        ({"people": {}}, "unknown keys"),
    ],
)
def test_script_errors(data: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Script.from_dict(data)


def test_script_load_yaml_and_json(tmp_path: Path) -> None:
    y = tmp_path / "s.yaml"
    y.write_text("default: {action: reject}\nusers:\n  a: {action: never}\n")
    assert Script.load(y).for_user("zzz").action == "reject"
    j = tmp_path / "s.json"
    j.write_text('{"users": {"a": {"action": "code", "code": 404}}}')
    assert Script.load(j).for_user("a").code == 404


@pytest.mark.parametrize(
    ("uri", "user"),
    [
        ("<sip:alice@127.0.0.1:5090>", "alice"),
        ("sip:89123456789@pbx;user=phone", "89123456789"),
        ("sips:bob@h", "bob"),
        ("<sip:127.0.0.1>", ""),
    ],
)
def test_user_of(uri: str, user: str) -> None:
    assert user_of(uri) == user


# ---- player and recordings --------------------------------------------------------------------


def test_player_frames_and_padding() -> None:
    p = Player()
    assert not p.playing and p.next_frame() == SILENCE
    data = bytes(range(256)) * 3  # 768 bytes: 2 full frames + 128 bytes
    p.load(data)
    assert p.playing
    f1, f2, f3 = p.next_frame(), p.next_frame(), p.next_frame()
    assert f1 + f2 == data[: 2 * FRAME_BYTES]
    assert f3 == data[2 * FRAME_BYTES :] + bytes(FRAME_BYTES - 128)
    assert not p.playing and p.first_frame_at is not None and p.next_frame() == SILENCE
    p.load(data)
    p.stop()
    assert not p.playing and p.next_frame() == SILENCE


def test_stereo_recording(tmp_path: Path) -> None:
    left = [np.full(160, 100, "<i2").tobytes()] * 3
    right = [np.full(160, -7, "<i2").tobytes()] * 2
    path = tmp_path / "r" / "call.wav"
    write_stereo_wav(path, left, right)
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (2, 8000, 480)
        x = np.frombuffer(w.readframes(480), "<i2").reshape(-1, 2)
    assert (x[:, 0] == 100).all()
    assert (x[:320, 1] == -7).all() and (x[320:, 1] == 0).all()


# ---- pool conversions -------------------------------------------------------------------------


def test_call_report_becomes_the_attempt_result() -> None:
    t0 = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    r = CallReport(
        "sip:1@x",
        Outcome.CONFIRMED,
        started_at=t0,
        ended_at=t0 + timedelta(seconds=12),
        answered_at=t0 + timedelta(seconds=2),
        sip_code=200,
        dtmf="1",
        transcript="да",
        said=("привет",),
        recording_path="/r.wav",
        sms_text="Заказ 1024: улица Ленина, дом 5.",
    ).attempt_result()
    assert r.outcome == Outcome.CONFIRMED and r.duration_s == 12 and r.dtmf == "1"
    assert r.answered_at == datetime(2026, 1, 1, 10, 0, 2, tzinfo=UTC)
    assert r.said == ["привет"] and r.recording_path == "/r.wav"
    assert r.sms_text == "Заказ 1024: улица Ленина, дом 5."  # the dialog's `sms:` step
    dead = CallReport.failed("sip:1@x", Outcome.INTERRUPTED, "call worker died").attempt_result()
    assert dead.outcome == Outcome.INTERRUPTED and dead.sip_code is None
    assert dead.sms_text is None and dead.detail == "call worker died"


def test_call_request_and_report_cross_a_process_boundary() -> None:
    n = Notification(
        id=7,
        source="erp",
        external_id="E7",
        tenant="t",
        phone="+79123456789",
        phone_raw="8 912 345-67-89",
        channel=ChannelKind.CALL,
        scenario="s",
        variables={"name": "Иван"},
        timezone="Asia/Yekaterinburg",
        attempt_no=2,
        contacts=1,
    )
    req = CallRequest("sip:79123456789@trunk", n, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert pickle.loads(pickle.dumps(req)) == req
    report = CallReport.failed(req.uri, Outcome.BUSY, "busy")
    assert pickle.loads(pickle.dumps(report)) == report


# ---- calls-per-second pacing -------------------------------------------------------------------


def test_pacer_spaces_calls() -> None:
    """The pool's INVITE pacing: a token bucket with burst 1, reserve() per call."""
    p = TokenBucket(5.0, 1, now=100.0)  # one INVITE every 0.2 s
    assert p.reserve(100.0) == 0.0
    # three more calls at the same instant queue up 0.2 s apart
    assert [round(p.reserve(100.0), 6) for _ in range(3)] == [0.2, 0.4, 0.6]
    # after a quiet spell there is no debt to pay
    assert p.reserve(200.0) == 0.0
    assert round(p.reserve(200.1), 6) == 0.1
    # 50 back-to-back calls take 49 gaps: the rate holds over any window
    q = TokenBucket(10.0, 1, now=1000.0)
    starts = [1000.0 + q.reserve(1000.0) for _ in range(50)]
    assert round(starts[-1] - starts[0], 6) == 4.9
    assert all(round(b - a, 6) == 0.1 for a, b in itertools.pairwise(starts))
