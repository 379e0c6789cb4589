"""The incremental 8 kHz → model-rate resampler in cuckoo.speech.asr (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from cuckoo.speech.asr import StreamResampler, grammar_json


def sine(n: int, rate: int, hz: float = 440.0, amp: float = 8000.0) -> bytes:
    t = np.arange(n) / rate
    return (amp * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes()


@pytest.mark.parametrize(("rate_in", "rate_out"), [(8000, 16000), (8000, 11025), (16000, 8000)])
@pytest.mark.parametrize("chunk", [2, 160, 320, 1000, 8000])
def test_chunking_does_not_change_the_output(rate_in: int, rate_out: int, chunk: int) -> None:
    pcm = sine(rate_in, rate_in)  # one second
    whole = StreamResampler(rate_in, rate_out).process(pcm)
    r = StreamResampler(rate_in, rate_out)
    pieces = b"".join(r.process(pcm[i : i + chunk]) for i in range(0, len(pcm), chunk))
    assert pieces == whole


@pytest.mark.parametrize(("rate_in", "rate_out"), [(8000, 16000), (8000, 11025), (8000, 48000)])
def test_length_and_waveform(rate_in: int, rate_out: int) -> None:
    pcm = sine(rate_in, rate_in)
    out = np.frombuffer(StreamResampler(rate_in, rate_out).process(pcm), dtype="<i2")
    # one input sample is held back (it needs its right neighbour)
    assert abs(len(out) - rate_out) <= rate_out // rate_in + 1
    t = np.arange(len(out)) / rate_out
    ideal = 8000 * np.sin(2 * np.pi * 440 * t)
    assert np.max(np.abs(out - ideal)) < 8000 * 0.05


def test_doubling_keeps_the_original_samples() -> None:
    x = np.array([0, 100, -100, 3000, 5], dtype="<i2")
    out = np.frombuffer(StreamResampler(8000, 16000).process(x.tobytes()), dtype="<i2")
    assert list(out[::2]) == [0, 100, -100, 3000]
    assert list(out[1::2]) == [50, 0, 1450, 1502]


def test_same_rate_is_a_pass_through_and_reset_forgets_the_tail() -> None:
    assert StreamResampler(8000, 8000).process(b"\x01\x02\x03\x04") == b"\x01\x02\x03\x04"
    r = StreamResampler(8000, 16000)
    r.process(np.array([1000], dtype="<i2").tobytes())
    r.reset()
    out = np.frombuffer(r.process(np.array([0, 0], dtype="<i2").tobytes()), dtype="<i2")
    assert list(out) == [0, 0]


@pytest.mark.parametrize(
    ("grammar", "expected"),
    [
        (["да", "нет"], '["да", "нет", "[unk]"]'),
        (["Да", "да", "  ДА  "], '["да", "[unk]"]'),
        (["не  звоните", "[unk]", ""], '["не звоните", "[unk]"]'),
        ([], '["[unk]"]'),
    ],
)
def test_grammar_json(grammar: list[str], expected: str) -> None:
    assert grammar_json(grammar) == expected
