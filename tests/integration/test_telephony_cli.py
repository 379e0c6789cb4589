"""`cuckoo sim-phone` (flags) and `cuckoo call` as an admin runs them, as separate processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from telephony_helpers import REPO, free_port, pcm_of

pytestmark = pytest.mark.sip


def _cuckoo(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cuckoo.cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_call_a_sim_phone_that_presses_a_key_by_sip_info(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    heard = tmp_path / "heard-{user}-{n}.wav"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cuckoo.cli.main",
            "sim-phone",
            "--port",
            "0",
            "--answer-after",
            "0.3",
            "--dtmf",
            "1",
            "--dtmf-at",
            "1.5",
            "--dtmf-method",
            "info",
            "--record",
            str(heard),
            "--events",
            str(events),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while not events.exists() or '"ready"' not in events.read_text():
            assert time.monotonic() < deadline and sim.poll() is None
            time.sleep(0.05)
        port = json.loads(events.read_text().splitlines()[0])["port"]
        rec = tmp_path / "robot.wav"
        wav = tmp_path / "prompt.wav"
        t = np.arange(8000 * 3) / 8000
        tone = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(tone.tobytes())
        out = _cuckoo(
            "call",
            f"sip:alice@127.0.0.1:{port}",
            "--wav",
            str(wav),
            "--wait-dtmf",
            "5",
            "--record",
            str(rec),
            "--json",
        )
        assert out.returncode == 0, out.stderr[-2000:]
        r = json.loads(out.stdout.strip().splitlines()[-1])
        # The key came while the prompt played: barge-in, confirmed ("1" confirms by default).
        assert r["outcome"] == "confirmed" and r["sip_code"] == 200 and r["dtmf"] == "1", r
        assert 1.0 < r["duration_s"] < 3.0
        with wave.open(str(rec), "rb") as w:
            stereo = pcm_of(w.readframes(w.getnframes())).reshape(-1, 2)
        sent = stereo[:, 0]
        assert np.sqrt(np.mean(sent[:8000] ** 2)) > 3000  # the robot's channel holds the tone
        # human-readable output
        out = _cuckoo("call", f"sip:bob@127.0.0.1:{port}", "--wav", str(wav), "--wait-dtmf", "2")
        assert out.returncode == 0
        assert "outcome:   confirmed" in out.stdout and "dtmf:      1" in out.stdout
    finally:
        sim.terminate()
        sim.wait(10)
    assert sim.returncode == 0
    ended = [json.loads(x) for x in events.read_text().splitlines() if '"ended"' in x]
    assert ended and ended[0]["recording"] and Path(ended[0]["recording"]).exists()


def test_call_a_number_without_a_trunk_is_refused(tmp_path: Path) -> None:
    toml = tmp_path / "cuckoo.toml"
    toml.write_text("[telephony]\n")
    out = _cuckoo("-c", str(toml), "call", "+79123456789", "--wav", "x.wav", timeout=30)
    assert out.returncode == 1
    assert "no trunk configured" in out.stderr and "SIP URI" in out.stderr


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_call_over_tcp_and_tls(tmp_path: Path, transport: str) -> None:
    port = free_port(socket.SOCK_STREAM)
    extra: list[str] = []
    if transport == "tls":
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                str(tmp_path / "key.pem"),
                "-out",
                str(tmp_path / "cert.pem"),
            ],
            check=True,
            capture_output=True,
        )
        extra = ["--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")]
    events = tmp_path / "events.jsonl"
    sim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cuckoo.cli.main",
            "sim-phone",
            "--port",
            str(port),
            "--transport",
            transport,
            *extra,
            "--dtmf",
            "9",
            "--dtmf-at",
            "0.5",
            "--events",
            str(events),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    toml = tmp_path / "cuckoo.toml"
    toml.write_text(f'[telephony]\nbind_host = "127.0.0.1"\ntransport = "{transport}"\n')
    try:
        deadline = time.monotonic() + 15
        while not events.exists() or '"ready"' not in events.read_text():
            assert time.monotonic() < deadline and sim.poll() is None
            time.sleep(0.05)
        uri = f"sip:carol@127.0.0.1:{port};transport={transport}"
        out = _cuckoo(
            "-c",
            str(toml),
            "call",
            uri,
            "--wav",
            str(_tone_wav(tmp_path)),
            "--wait-dtmf",
            "4",
            "--json",
        )
        assert out.returncode == 0, out.stderr[-2000:]
        r = json.loads(out.stdout.strip().splitlines()[-1])
        assert r["sip_code"] == 200 and r["dtmf"] == "9", r
    finally:
        sim.terminate()
        sim.wait(10)
    # Nobody listening on TCP: the connection is refused at once (503) → network.
    closed = free_port(socket.SOCK_STREAM)
    out = _cuckoo(
        "-c",
        str(toml),
        "call",
        f"sip:x@127.0.0.1:{closed};transport={transport}",
        "--wav",
        str(_tone_wav(tmp_path)),
        "--json",
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["outcome"] == "network" and r["sip_code"] == 503, r
    assert out.returncode == 3  # not answered


def _tone_wav(tmp_path: Path) -> Path:
    wav = tmp_path / "tone.wav"
    t = np.arange(8000 * 2) / 8000
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((6000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())
    return wav


def test_codec_order_from_config(tmp_path: Path) -> None:
    from telephony_helpers import SimPhoneProc

    phone = SimPhoneProc({"default": {"answer_after_s": 0.1}}, tmp_path)
    try:
        for codecs, expected in ([["PCMU/8000"], "PCMU/8000"], [["G722/16000"], "G722/16000"]):
            toml = tmp_path / "cuckoo.toml"
            toml.write_text(
                f'[telephony]\nbind_host = "127.0.0.1"\ncodecs = {json.dumps(codecs)}\n'
            )
            out = _cuckoo(
                "-c",
                str(toml),
                "call",
                phone.uri("dave"),
                "--wav",
                str(_tone_wav(tmp_path)),
                "--wait-dtmf",
                "0",
                "--json",
            )
            assert out.returncode == 0, out.stderr[-2000:]
            assert json.loads(out.stdout.strip().splitlines()[-1])["codec"] == expected
    finally:
        assert phone.stop() == 0
