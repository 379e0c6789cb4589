"""The in-band DTMF detector (cuckoo.telephony.dtmf) on tones cuckoo did not make.

Every tone here comes from sox (`synth sin LOW sin HIGH`, mixed with `remix`), with the
frequency table written out below rather than taken from cuckoo: twist (the high group
louder or quieter than the low one), white noise mixed in by sox at several SNRs, short tones
and short pauses, low level, and G.711 round trips (sox `-e a-law` / `-e u-law` and back to
linear). The audio is fed to the detector in 20 ms frames, as RTP brings it. Negative cases:
Russian speech from espeak-ng, single tones (a DTMF row tone alone, the 425 Hz dial tone, a
1 kHz test tone), two tones of the same group, white noise — none may yield a key.

One test goes over SIP: the sim phone plays a sox-made key sequence in-band into a call (G.711
on the wire) and the robot's SipLine reports the keys.

`python -m pytest tests/integration/test_dtmf_foreign_tones.py -s` prints the table of
conditions (keys detected correctly / keys sent).
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from telephony_helpers import SimPhoneProc

from cuckoo.config.telephony import TelephonySettings
from cuckoo.line import Expect, ReplyKind
from cuckoo.telephony.dtmf import DtmfDetector
from cuckoo.telephony.engine import Engine, EngineConfig
from cuckoo.telephony.session import SipLine, dial

pytestmark = pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")

RATE = 8000
# ITU-T Q.23: the keypad's row (low group) and column (high group) frequencies.
FREQS = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip
ALL = "0123456789*#ABCD"
REPEATS = "1155#0099**2"  # the same key twice needs the pause between them seen
TONE_AMP = 0.2  # each sine's peak (-14 dBFS): a typical phone's level

RESULTS: dict[str, tuple[int, int]] = {}  # condition → (correct, sent), for the table


def sox(*args: object) -> None:
    subprocess.run(["sox", *map(str, args)], check=True, capture_output=True)


class Tones:
    """Key sequences as WAV files made by sox, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.n = 0

    def path(self, stem: str) -> Path:
        self.n += 1
        return self.dir / f"{self.n:03d}-{stem}.wav"

    def silence(self, seconds: float) -> Path:
        p = self.dir / f"silence-{seconds:.3f}.wav"
        if not p.exists():
            sox("-n", "-r", RATE, "-b", 16, "-c", 1, p, "trim", 0, f"{seconds:.3f}")
        return p

    def key(self, key: str, seconds: float, twist_db: float, amp: float) -> Path:
        p = self.dir / f"key-{ord(key)}-{seconds:.3f}-{twist_db:+.1f}-{amp:.3f}.wav"
        if not p.exists():
            low, high = FREQS[key]
            high_amp = amp * 10 ** (twist_db / 20)
            # two sines in two channels, mixed to one with each its own gain
            sox(
                "-n", "-r", RATE, "-b", 16, "-c", 1, p,
                "synth", f"{seconds:.3f}", "sin", low, "sin", high,
                "remix", f"1v{amp:.5f},2v{high_amp:.5f}",
            )  # fmt: skip
        return p

    def sequence(
        self,
        keys: str,
        *,
        on_s: float = 0.1,
        off_s: float = 0.1,
        twist_db: float = 0.0,
        amp: float = TONE_AMP,
    ) -> Path:
        parts: list[Path] = [self.silence(0.2)]
        for k in keys:
            parts += [self.key(k, on_s, twist_db, amp), self.silence(off_s)]
        parts.append(self.silence(0.2))
        out = self.path("keys")
        sox(*parts, out)  # sox concatenates its inputs
        return out

    def with_noise(self, src: Path, snr_db: float, tone_rms: float) -> Path:
        """`src` with sox's white noise mixed in, `snr_db` below the tones' power."""
        seconds = len(read(src)) / RATE
        ref = self.dir / "noise-ref.wav"
        if not ref.exists():
            sox("-n", "-r", RATE, "-b", 16, "-c", 1, ref, "synth", 10, "whitenoise")
        ref_rms = float(np.sqrt(np.mean(read(ref) ** 2)))
        vol = tone_rms / 10 ** (snr_db / 20) / ref_rms
        noise = self.path(f"noise{snr_db:g}")
        sox("-n", "-r", RATE, "-b", 16, "-c", 1, noise, "synth", f"{seconds:.4f}",
            "whitenoise", "vol", f"{vol:.6f}")  # fmt: skip
        out = self.path(f"snr{snr_db:g}")
        sox("-m", "-v", 1, src, "-v", 1, noise, out)  # -v 1: mix at full level each
        return out

    def g711(self, src: Path, law: str) -> Path:
        """A round trip through G.711 (`law`: a-law or u-law), back to 16-bit linear."""
        coded = self.path(law)
        sox(src, "-e", law, "-b", 8, coded)
        back = self.path(f"{law}-back")
        sox(coded, "-e", "signed-integer", "-b", 16, back)
        return back


def read(path: Path) -> np.ndarray:
    """Samples as floats at full scale 1.0 (8 kHz mono 16-bit, as sox wrote them)."""
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768.0


def detect(path: Path) -> str:
    with wave.open(str(path), "rb") as w:
        data = w.readframes(w.getnframes())
    d = DtmfDetector()
    return "".join(d.feed(data[i : i + 320]) for i in range(0, len(data), 320))  # 20 ms


def score(condition: str, sent: str, got: str) -> int:
    """Keys detected correctly (in order; an extra key costs one), noted for the table."""
    matched = sum(
        b.size
        for b in difflib.SequenceMatcher(None, sent, got, autojunk=False).get_matching_blocks()
    )
    correct = max(0, matched - max(0, len(got) - matched))
    RESULTS[condition] = (correct, len(sent))
    return correct


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tones]:
    yield Tones(tmp_path_factory.mktemp("sox-dtmf"))
    if RESULTS:
        width = max(len(c) for c in RESULTS)
        print("\ncondition".ljust(width + 1), " detected / sent")
        for condition, (ok, total) in RESULTS.items():
            print(condition.ljust(width), f" {ok:>3} / {total}")


def tone_rms(amp: float = TONE_AMP, twist_db: float = 0.0) -> float:
    """RMS of a key's two sines while it sounds."""
    return float(np.sqrt(amp**2 / 2 + (amp * 10 ** (twist_db / 20)) ** 2 / 2))


# -- keys that must be heard -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "kw"),
    [
        ("plain 100 ms / 100 ms", {}),
        ("forward twist +4 dB", {"twist_db": 4.0}),
        ("forward twist +8 dB", {"twist_db": 8.0}),
        ("reverse twist -4 dB", {"twist_db": -4.0}),
        ("reverse twist -6 dB", {"twist_db": -6.0}),
        ("reverse twist -8 dB", {"twist_db": -8.0}),
        ("short 40 ms tone / 40 ms pause", {"on_s": 0.04, "off_s": 0.04}),
        ("short 50 ms tone / 50 ms pause", {"on_s": 0.05, "off_s": 0.05}),
        ("low level -30 dBFS per tone", {"amp": 10 ** (-30 / 20)}),
    ],
)
def test_sox_keys(tones: Tones, condition: str, kw: dict[str, float]) -> None:
    for keys, label in ((ALL, ""), (REPEATS, ", repeats")):
        got = detect(tones.sequence(keys, **kw))
        assert score(condition + label, keys, got) == len(keys), (condition, keys, got)


@pytest.mark.parametrize("snr_db", [20.0, 15.0, 10.0])
def test_sox_keys_in_white_noise(tones: Tones, snr_db: float) -> None:
    for keys, label in ((ALL, ""), (REPEATS, ", repeats")):
        noisy = tones.with_noise(tones.sequence(keys), snr_db, tone_rms())
        got = detect(noisy)
        assert score(f"white noise, SNR {snr_db:g} dB{label}", keys, got) == len(keys), got


@pytest.mark.parametrize("law", ["a-law", "u-law"])
def test_sox_keys_through_g711(tones: Tones, law: str) -> None:
    got = detect(tones.g711(tones.sequence(ALL), law))
    assert score(f"G.711 {law} round trip", ALL, got) == len(ALL), got
    short = tones.g711(tones.sequence(REPEATS, on_s=0.045, off_s=0.045), law)
    got = detect(short)
    assert score(f"G.711 {law}, 45 ms tones, repeats", REPEATS, got) == len(REPEATS), got


@pytest.mark.parametrize("law", ["a-law", "u-law"])
def test_sox_keys_twist_noise_and_g711_together(tones: Tones, law: str) -> None:
    # a bad line: +6 dB twist, 15 dB SNR, then the codec
    src = tones.sequence(ALL, twist_db=6.0, on_s=0.06, off_s=0.06)
    noisy = tones.with_noise(src, 15.0, tone_rms(twist_db=6.0))
    got = detect(tones.g711(noisy, law))
    assert score(f"twist +6, SNR 15 dB, 60 ms, {law}", ALL, got) == len(ALL), got


# -- audio that must not be taken for keys ----------------------------------------------------


@pytest.fixture(scope="module")
def speech(tones: Tones) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    raw = tones.dir / "speech-raw.wav"
    text = (
        "Здравствуйте! Это компания Ромашка. Ваш заказ номер сорок семь готов к выдаче. "
        "Нажмите один, чтобы подтвердить, или два, чтобы соединиться с оператором. "
        "Спасибо, до свидания. Алло, алло, вы меня слышите? Да, да, конечно, слушаю."
    )
    subprocess.run(["espeak-ng", "-v", "ru", "-w", str(raw), text], check=True)
    out = tones.dir / "speech-8k.wav"
    sox(raw, "-r", RATE, "-b", 16, "-c", 1, out, "gain", "-n", "-3")  # loud, as a customer
    return out


def test_speech_is_not_keys(tones: Tones, speech: Path) -> None:
    assert len(read(speech)) > 10 * RATE  # enough talk to matter
    for law in ("", "a-law", "u-law"):
        src = tones.g711(speech, law) if law else speech
        got = detect(src)
        RESULTS[f"negative: espeak-ng speech{', ' + law if law else ''}"] = (int(got == ""), 1)
        assert got == "", (law, got)


@pytest.mark.parametrize(
    ("condition", "synth"),
    [
        ("a row tone alone (697 Hz)", ["sin", 697]),
        ("a column tone alone (1336 Hz)", ["sin", 1336]),
        ("dial tone 425 Hz", ["sin", 425]),
        ("1 kHz test tone", ["sin", 1000]),
        ("two row tones (770 + 852 Hz)", ["sin", 770, "sin", 852, "remix", "1v0.2,2v0.2"]),
        ("white noise", ["whitenoise", "vol", 0.3]),
    ],
)
def test_single_tones_and_noise_are_not_keys(
    tones: Tones, condition: str, synth: list[object]
) -> None:
    out = tones.path("negative")
    sox("-n", "-r", RATE, "-b", 16, "-c", 1, out, "synth", 2, *synth, "vol", 0.3)
    got = detect(out)
    RESULTS[f"negative: {condition}"] = (int(got == ""), 1)
    assert got == "", got


# -- over SIP ----------------------------------------------------------------------------------


@pytest.mark.sip
def test_sox_keys_played_into_a_call_reach_the_sipline(tones: Tones, tmp_path: Path) -> None:
    keys = "15907*3"  # no "#": it ends a key answer early
    wav = tones.sequence(keys, on_s=0.07, off_s=0.07, twist_db=3.0)
    phone = SimPhoneProc(
        {"default": {"action": "answer", "play": str(wav), "play_at_s": 0.5}},
        tmp_path,
        name="tones",
    )
    engine = Engine(EngineConfig(bind_host="127.0.0.1", rtp_timeout_s=5.0)).start()
    try:
        d = dial(engine, phone.uri("keys"), ring_timeout_s=3.0, setup_timeout_s=2.0)
        assert d.answered and d.handle is not None, d
        line = SipLine(d.handle, settings=TelephonySettings(bind_host="127.0.0.1"))
        reply = line.listen(
            Expect(speech=False, dtmf=ALL, max_digits=len(keys), no_speech_timeout_s=5.0)
        )
        line.hangup()
        phone.wait_event("ended", user="keys")
    finally:
        engine.stop()
        assert phone.stop() == 0
    assert reply.kind == ReplyKind.DTMF, reply
    got = reply.digits
    RESULTS[f"over SIP ({d.handle.codec}), sim phone plays sox WAV"] = (
        score("sip", keys, got),
        len(keys),
    )
    RESULTS.pop("sip", None)
    assert got == keys
