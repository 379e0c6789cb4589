"""The in-band DTMF detector on generated tones: every key, noise, twist, level, duration,
speech-like audio, chunking, repeats."""

from __future__ import annotations

import numpy as np
import pytest

from cuckoo.telephony.dtmf import BLOCK, KEYS, DtmfDetector, key_freqs, tone, tones_pcm

ALL_KEYS = "".join(KEYS)


def pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tobytes()


def gap(s: float) -> np.ndarray:
    return np.zeros(int(s * 8000))


def detect(x: np.ndarray, chunk: int = 320) -> str:
    d = DtmfDetector()
    data = pcm(x)
    return "".join(d.feed(data[i : i + chunk]) for i in range(0, len(data), chunk))


@pytest.mark.parametrize("key", list(ALL_KEYS))
def test_every_key(key: str) -> None:
    assert detect(np.concatenate([gap(0.05), tone(key, 0.08), gap(0.05)])) == key


def test_key_frequencies() -> None:
    assert key_freqs("1") == (697.0, 1209.0)
    assert key_freqs("#") == (941.0, 1477.0)
    assert key_freqs("d") == (941.0, 1633.0)
    with pytest.raises(ValueError):
        key_freqs("x")


def test_sequence_with_short_tones_and_pauses() -> None:
    # Short presses: 45 ms tone, 45 ms pause (ITU-T Q.24 asks for 40 ms).
    d = DtmfDetector()
    assert d.feed(tones_pcm(ALL_KEYS, on_s=0.045, off_s=0.045)) == ALL_KEYS


def test_repeated_key_needs_a_pause_between_presses() -> None:
    x = np.concatenate([tone("5", 0.1), gap(0.06), tone("5", 0.1), gap(0.05)])
    assert detect(x) == "55"
    # one long press is one key
    assert detect(np.concatenate([tone("5", 1.0), gap(0.05)])) == "5"


def test_too_short_a_blip_is_not_a_key() -> None:
    assert detect(np.concatenate([gap(0.05), tone("3", 0.02), gap(0.1)])) == ""


@pytest.mark.parametrize("noise", [0.0, 0.01, 0.03, 0.06])
@pytest.mark.parametrize("key", ["1", "5", "9", "0", "#", "*", "D"])
def test_keys_in_noise(key: str, noise: float) -> None:
    rng = np.random.default_rng(abs(hash((key, noise))) % 2**32)
    x = np.concatenate([gap(0.05), tone(key, 0.1, level=0.2), gap(0.05)])
    x = x + rng.normal(0, noise, len(x))
    assert detect(x) == key


@pytest.mark.parametrize("twist_db", [-6.0, -4.0, 0.0, 4.0, 6.0])
def test_twist_within_limits_is_accepted(twist_db: float) -> None:
    assert detect(np.concatenate([tone("8", 0.1, level=0.15, twist_db=twist_db), gap(0.05)])) == "8"


@pytest.mark.parametrize("twist_db", [-14.0, 14.0])
def test_excessive_twist_is_rejected(twist_db: float) -> None:
    assert detect(np.concatenate([tone("8", 0.1, level=0.1, twist_db=twist_db), gap(0.05)])) == ""


@pytest.mark.parametrize(
    ("level", "found"), [(0.3, True), (0.05, True), (0.02, True), (0.003, False)]
)
def test_level_threshold(level: float, found: bool) -> None:
    # min level -36 dBFS per tone ~= 0.016 peak
    assert (detect(np.concatenate([tone("2", 0.1, level=level), gap(0.05)])) == "2") is found


def test_single_tone_is_not_a_key() -> None:
    t = np.arange(8000) / 8000
    assert detect(0.3 * np.sin(2 * np.pi * 697 * t)) == ""
    assert detect(0.3 * np.sin(2 * np.pi * 1336 * t)) == ""


def test_speech_like_harmonic_audio_gives_no_keys() -> None:
    t = np.arange(8000 * 3) / 8000
    rng = np.random.default_rng(7)
    for f0 in (90.0, 120.0, 180.0, 230.0):
        f = f0 * (1 + 0.15 * np.sin(2 * np.pi * 0.7 * t))
        ph = np.cumsum(2 * np.pi * f / 8000)
        v = np.sum([np.sin(k * ph) / k for k in range(1, 35)], axis=0) * 0.15
        assert detect(v + rng.normal(0, 0.01, len(v))) == "", f0


def test_white_noise_gives_no_keys() -> None:
    rng = np.random.default_rng(3)
    assert detect(rng.normal(0, 0.3, 8000 * 5)) == ""


def test_key_over_quiet_speech_still_detected() -> None:
    t = np.arange(int(0.12 * 8000)) / 8000
    ph = 2 * np.pi * 140 * t
    speech = np.sum([np.sin(k * ph) / k for k in range(1, 20)], axis=0) * 0.02
    x = np.concatenate([tone("6", 0.12, level=0.25) + speech, gap(0.05)])
    assert detect(x) == "6"


@pytest.mark.parametrize("chunk", [2, 100, 320, BLOCK * 2, 4000])
def test_chunking_does_not_matter(chunk: int) -> None:
    x = np.frombuffer(tones_pcm("147*"), dtype="<i2").astype(np.float64) / 32767
    assert detect(x, chunk=chunk) == "147*"


def test_reset() -> None:
    d = DtmfDetector()
    data = pcm(tone("1", 0.2))
    assert d.feed(data) == "1"
    d.reset()
    assert d.feed(data) == "1"  # after reset the held key counts again
