"""Audio.resample: alias rejection above 4 kHz on the way to 8 kHz (issue 16: <= -40 dB), level
and frequency of passband tones, output length, quiet ends.

Levels are taken on the middle of a 1 s tone: its first and last 100 ms are cut, where the tone's
abrupt start and stop are (a click there is broadband and would be counted as aliasing)."""

from __future__ import annotations

import numpy as np
import pytest

from cuckoo.line.audio import TELEPHONY_RATE, Audio

AMP = 16000.0  # half of full scale: int16 rounding noise is then ~-90 dB, far below the targets
SOURCE_RATES = [16000, 22050, 24000, 44100, 48000]


def tone(hz: float, rate: int, seconds: float = 1.0) -> Audio:
    t = np.arange(round(seconds * rate)) / rate
    return Audio.from_samples(AMP * np.sin(2 * np.pi * hz * t), rate)


def middle(audio: Audio) -> np.ndarray:
    cut = audio.rate // 10
    return audio.samples().astype(np.float64)[cut:-cut]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def db(ratio: float) -> float:
    return 20 * float(np.log10(max(ratio, 1e-12)))


def fit_sine(x: np.ndarray, hz: float, rate: int) -> tuple[float, float]:
    """Least-squares sine at hz (any phase) in x: its amplitude, and the rms of the rest."""
    t = np.arange(len(x)) / rate
    basis = np.column_stack([np.sin(2 * np.pi * hz * t), np.cos(2 * np.pi * hz * t)])
    coef, *_ = np.linalg.lstsq(basis, x, rcond=None)
    return float(np.hypot(coef[0], coef[1])), rms(x - basis @ coef)


@pytest.mark.parametrize("rate", SOURCE_RATES)
def test_tones_above_4khz_do_not_fold_into_the_telephone_band(rate: int) -> None:
    # Every 100 Hz from 4.1 kHz to the source's Nyquist frequency. The whole 8 kHz output is the
    # 0-4 kHz band, so any energy in it is the tone folded back.
    levels = {}
    for hz in range(4100, rate // 2, 100):
        out = tone(hz, rate).resample(TELEPHONY_RATE)
        levels[hz] = db(rms(middle(out)) / (AMP / np.sqrt(2)))
    worst = max(levels, key=levels.__getitem__)
    assert levels[worst] <= -40, f"{worst} Hz at {rate} Hz folds back at {levels[worst]:.1f} dB"


@pytest.mark.parametrize(
    ("rate_in", "rate_out"),
    [*((r, TELEPHONY_RATE) for r in SOURCE_RATES), (TELEPHONY_RATE, 16000)],
)
@pytest.mark.parametrize("hz", [300, 1000, 3000, 3400])
def test_passband_tones_keep_level_and_frequency(rate_in: int, rate_out: int, hz: int) -> None:
    out = tone(hz, rate_in).resample(rate_out)
    assert out.rate == rate_out
    x = middle(out)
    amp, rest = fit_sine(x, hz, rate_out)
    assert abs(db(amp / AMP)) <= 1.0
    # Whatever is not the tone at its own frequency (a shifted frequency, distortion, or the
    # image at 8000 - hz when going up to 16 kHz) stays 40 dB down.
    assert db(rest / (AMP / np.sqrt(2))) <= -40


@pytest.mark.parametrize(
    ("rate_in", "rate_out"),
    [*((r, TELEPHONY_RATE) for r in SOURCE_RATES), (TELEPHONY_RATE, 16000), (11025, 8000)],
)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 160, 4411, 240_007])
def test_length_follows_the_duration(rate_in: int, rate_out: int, n: int) -> None:
    x = np.random.default_rng(n).normal(0, 3000, n)
    out = Audio.from_samples(x, rate_in).resample(rate_out)
    assert abs(len(out.samples()) - n * rate_out / rate_in) <= 1


@pytest.mark.parametrize(
    ("rate_in", "rate_out"),
    [*((r, TELEPHONY_RATE) for r in SOURCE_RATES), (TELEPHONY_RATE, 16000)],
)
def test_silent_ends_stay_silent(rate_in: int, rate_out: int) -> None:
    # 50 ms of silence around loud white noise (full of energy above 4 kHz): the filter's ringing
    # must not reach the ends of the output as a click.
    rng = np.random.default_rng(1)
    gap = np.zeros(rate_in // 20)
    x = np.concatenate([gap, rng.normal(0, 8000, rate_in // 2), gap])
    out = Audio.from_samples(x, rate_in).resample(rate_out).samples()
    edge = rate_out // 200  # 5 ms
    assert np.max(np.abs(out[:edge])) <= 1
    assert np.max(np.abs(out[-edge:])) <= 1


def test_full_scale_clips_instead_of_wrapping() -> None:
    # A full-scale 1 kHz square wave overshoots after the low-pass (Gibbs); int16 must saturate.
    rate = 24000
    square = np.where(np.arange(rate) % 24 < 12, 32767.0, -32768.0)
    out = Audio.from_samples(square, rate).resample(TELEPHONY_RATE).samples()
    body = out[100:-100]
    assert body.max() == 32767
    assert body.min() == -32768
    # each output sample is +, +, +, +, -, -, -, - with the phase of the input (8 per period):
    # a wrapped overshoot would show up as a sign flip at a crest
    crests = np.arange(100, len(out) - 100)
    expected = np.where(crests % 8 < 4, 1, -1)
    inner = crests % 4 != 0  # skip the samples on a transition
    assert np.all(np.sign(out[crests][inner]) == expected[inner])


def test_same_rate_and_empty_are_untouched() -> None:
    a = tone(1000, 8000, 0.1)
    assert a.resample(8000) == a
    assert Audio(b"", 24000).resample(8000) == Audio(b"", 8000)
