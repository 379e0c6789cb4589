"""The robot against an independent SIP stack: Debian's baresip (auto-answer).

- REFER: baresip 1.0 as the transferee takes the robot's blind transfer (202, NOTIFY «100
  Trying»), places the call to the Refer-To target (a sim-phone operator) itself and reports it
  answered (NOTIFY 200): the robot's leg ends as transferred. With a target that never
  answers, baresip sends no final NOTIFY and the robot gives up after transfer_timeout_s.

- baresip plays what it receives back into its microphone (aubridge), so the
  robot hearing its own prompt proves audio both ways; `sndcode` over ctrl_tcp presses a key
  (RFC 2833) which the robot must get; `hangup` ends the call from baresip's side.
(baresip 1.0's aufile has no player and its file source ends calls at once here, so the WAV
direction is proven with the sim-phone in test_telephony_calls.py.)
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from telephony_helpers import (
    SimPhoneProc,
    best_correlation,
    free_port,
    matched_fraction,
    pcm_of,
)

from cuckoo.config.telephony import TelephonySettings
from cuckoo.domain import Outcome
from cuckoo.line import Expect, Line, ReplyKind
from cuckoo.line.audio import Audio
from cuckoo.line.leg import CallRequest, ConversationResult
from cuckoo.speech.tts import espeak_synthesizer
from cuckoo.telephony.calls import run_call
from cuckoo.telephony.engine import Engine, EngineConfig
from cuckoo.telephony.session import SipLine, dial

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip is not installed"),
]

SETTINGS = TelephonySettings(bind_host="127.0.0.1", ring_timeout_s=5, setup_timeout_s=3)


class Baresip:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "baresip"
        self.dir.mkdir()
        # baresip also listens on TCP sip_port and TLS sip_port + 1: keep ctrl_tcp away.
        while True:
            self.sip_port = free_port()
            self.ctrl_port = free_port(socket.SOCK_STREAM)
            if abs(self.ctrl_port - self.sip_port) > 2:
                break
        (self.dir / "config").write_text(
            "poll_method epoll\n"
            f"sip_listen 127.0.0.1:{self.sip_port}\n"
            "audio_player aubridge,echo\naudio_source aubridge,echo\n"
            "audio_srate 8000\naudio_channels 1\n"
            "module_path /usr/lib/baresip/modules\n"
            "module g711.so\nmodule aubridge.so\n"
            "module_app account.so\nmodule_app menu.so\nmodule ctrl_tcp.so\n"
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}\n"
        )
        (self.dir / "accounts").write_text(
            "<sip:bob@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMA,PCMU\n"
        )
        self.log = open(self.dir / "log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["baresip", "-f", str(self.dir)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while b"baresip is ready" not in (self.dir / "log").read_bytes():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError((self.dir / "log").read_text(errors="replace")[-2000:])
            time.sleep(0.1)

    @property
    def uri(self) -> str:
        return f"sip:bob@127.0.0.1:{self.sip_port}"

    def command(self, command: str, params: str = "") -> dict[str, Any]:
        body = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5) as s:
            s.sendall(str(len(body)).encode() + b":" + body + b",")
            buf = b""
            while True:  # netstrings; events (e.g. the call closing) may come before the answer
                while b":" not in buf:
                    buf += s.recv(4096)
                size, rest = buf.split(b":", 1)
                while len(rest) < int(size) + 1:
                    rest += s.recv(4096)
                # raw_decode: baresip 1.0 sometimes counts a netstring's length past its JSON
                # (seen once as "Extra data"); the object itself is complete.
                msg, _ = json.JSONDecoder().raw_decode(rest[: int(size)].decode())
                buf = rest[int(size) + 1 :]
                if msg.get("response"):
                    return dict(msg)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    e = Engine(EngineConfig(bind_host="127.0.0.1")).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("bs") / "baresip-says.wav"
    espeak_synthesizer().synthesize("Алло, это баресип. Слушаю вас внимательно.").write_wav(p)
    return p


def test_baresip_hangs_up_and_the_robot_notices(engine: Engine, wav: Path, tmp_path: Path) -> None:
    bs = Baresip(tmp_path)
    try:

        def listen(line: Line, request: CallRequest) -> ConversationResult:
            threading.Timer(1.0, lambda: bs.command("hangup")).start()
            reply = line.listen(Expect(speech=False, no_speech_timeout_s=15))
            return ConversationResult(Outcome.DELIVERED, detail=reply.kind.value)

        r = run_call(engine, CallRequest(bs.uri), settings=SETTINGS, converse=listen)
    finally:
        bs.stop()
    assert r.sip_code == 200 and r.remote_hangup is True, r
    assert r.detail.startswith("hangup")
    assert r.duration_s < 8


def test_audio_round_trip_and_dtmf_through_baresip(
    engine: Engine, wav: Path, tmp_path: Path
) -> None:
    bs = Baresip(tmp_path)
    prompt = Audio.read_wav(wav)
    seen: dict[str, Any] = {}

    def converse(line: Line, request: CallRequest) -> ConversationResult:
        line.play(prompt, barge_in=False)  # its own echo must not interrupt it
        threading.Timer(0.5, lambda: seen.setdefault("ack", bs.command("sndcode", "4"))).start()
        reply = line.listen(Expect(speech=False, no_speech_timeout_s=5))
        seen["reply"] = reply
        return ConversationResult(Outcome.DELIVERED, dtmf=reply.digits)

    rec = tmp_path / "robot.wav"
    try:
        request = CallRequest(bs.uri, record_path=str(rec))
        r = run_call(engine, request, settings=SETTINGS, converse=converse)
    finally:
        bs.stop()
    assert seen["ack"]["ok"] is True
    assert r.codec == "PCMA/8000"
    assert seen["reply"].kind == ReplyKind.DTMF and r.dtmf == "4", r
    with wave.open(str(rec), "rb") as w:
        stereo = pcm_of(w.readframes(w.getnframes())).reshape(-1, 2)
    sent = prompt.samples().astype(np.float64)
    # robot → baresip → robot: G.711 twice, still the same speech
    share = matched_fraction(sent, stereo[:, 1], min_corr=0.8)
    assert share >= 0.8, f"{share:.0%} of the prompt came back"
    _, lag = best_correlation(sent, stereo[:, 1])
    assert lag > 0  # the echo comes after the robot's own audio


def test_baresip_takes_a_refer_and_calls_the_operator(engine: Engine, tmp_path: Path) -> None:
    op = SimPhoneProc(
        {"default": {"action": "answer", "answer_after_s": 0.3, "hangup_after_s": 1.5}},
        tmp_path,
        name="operator",
    )
    bs = Baresip(tmp_path)
    try:
        d = dial(engine, bs.uri, ring_timeout_s=5.0, setup_timeout_s=3.0)
        assert d.answered and d.handle is not None, d
        line = SipLine(d.handle, settings=SETTINGS, transfer_timeout_s=8.0)
        ok = line.transfer(op.uri("operator"))
        codes = list(line.h.xfer_codes)
        incoming = op.wait_event("incoming", user="operator")
        op.wait_event("answered", user="operator")
        line.hangup()  # harmless: our leg is already gone after a transfer
        op.wait_event("ended", user="operator", timeout=10)
    finally:
        bs.stop()
        assert op.stop() == 0
    log = (bs.dir / "log").read_text(errors="replace")
    assert ok is True, (codes, line.transfer_failure, log[-3000:])
    assert codes[-1] == 200 and line.transferred_to == op.uri("operator")
    assert line.h.hangup_cause == "transferred"
    assert "bob@" in incoming["remote"]  # baresip itself placed the operator's call
    assert "transferring call" in log and f"to '{op.uri('operator')}'" in log


def test_baresip_refer_without_final_notify_times_out(engine: Engine, tmp_path: Path) -> None:
    # the operator takes the INVITE and says nothing: baresip sends NOTIFY «100 Trying» only
    op = SimPhoneProc(
        {"default": {"action": "silent", "hangup_after_s": 4.0}}, tmp_path, name="limbo"
    )
    bs = Baresip(tmp_path)
    try:
        d = dial(engine, bs.uri, ring_timeout_s=5.0, setup_timeout_s=3.0)
        assert d.answered and d.handle is not None, d
        line = SipLine(d.handle, settings=SETTINGS, transfer_timeout_s=1.5)
        ok = line.transfer(op.uri("limbo"))
        failure = line.transfer_failure
        codes = list(line.h.xfer_codes)
        op.wait_event("silent", user="limbo")
        op.wait_event("ended", user="limbo", sip_code=480, timeout=10)  # gives up: 480
        time.sleep(0.5)  # baresip's late final NOTIFY, if it sends one, arrives meanwhile
        still_up = not line.h.disconnected.is_set()
        late = list(line.h.xfer_codes)
        line.hangup()
    finally:
        bs.stop()
        assert op.stop() == 0
    assert ok is False and failure == "no final NOTIFY in 1.5 s", (codes, failure)
    assert codes and all(c < 200 for c in codes)
    assert late == codes and still_up  # nothing that came later acted on the call
