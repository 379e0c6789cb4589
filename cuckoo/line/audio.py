"""PCM audio as cuckoo passes it around: signed 16-bit little-endian mono."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

TELEPHONY_RATE = 8000


@dataclass(frozen=True)
class Audio:
    pcm: bytes  # int16 LE mono
    rate: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.rate

    def samples(self) -> np.ndarray:
        return np.frombuffer(self.pcm, dtype="<i2")

    @classmethod
    def from_samples(cls, samples: np.ndarray, rate: int) -> Audio:
        clipped = np.clip(np.round(samples), -32768, 32767).astype("<i2")
        return cls(clipped.tobytes(), rate)

    def resample(self, rate: int) -> Audio:
        """Band-limited rate change by libsoxr (the resampler inside sox), "HQ" quality: flat to
        92 % of the lower rate's Nyquist frequency (3.7 kHz at 8 kHz), more than 100 dB down above
        that Nyquist frequency, so sibilants above 4 kHz do not fold back into a call."""
        if rate == self.rate or not self.pcm:
            return Audio(self.pcm, rate)
        # Through float so from_samples stays the one place that rounds and clips (a full-scale
        # input can overshoot a little after filtering).
        y = soxr.resample(self.samples().astype(np.float64), self.rate, rate, quality="HQ")
        return Audio.from_samples(y, rate)

    def to_wav_bytes(self) -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(self.pcm)
        return buf.getvalue()

    def write_wav(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_wav_bytes())

    @classmethod
    def read_wav(cls, path: str | Path) -> Audio:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2:
                raise ValueError(f"{path}: need 16-bit PCM WAV, got {8 * w.getsampwidth()}-bit")
            frames = w.readframes(w.getnframes())
            rate = w.getframerate()
            channels = w.getnchannels()
        if channels > 1:
            stereo = np.frombuffer(frames, dtype="<i2").reshape(-1, channels)
            frames = stereo.mean(axis=1).astype("<i2").tobytes()
        return cls(frames, rate)


class StreamResampler:
    """`Audio.resample` for audio that arrives in pieces (speech streamed sentence by sentence).

    One libsoxr stream over all the pieces, not one resampling per piece: a piece resampled on
    its own would have its filter start and stop at each join (a transient, and a few samples
    more or fewer), where the stream carries its filter state across, so the joined output is
    the whole-phrase resampling sample for sample. The filter's delay is held back until
    `flush()`: call it after the last piece."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.rate_in = rate_in
        self.rate_out = rate_out
        self._stream = (
            None
            if rate_in == rate_out
            else soxr.ResampleStream(rate_in, rate_out, 1, dtype="float64", quality="HQ")
        )

    def feed(self, audio: Audio) -> Audio:
        """The resampled audio that is ready after `audio` (some of it comes with later pieces)."""
        if audio.rate != self.rate_in:
            raise ValueError(f"piece at {audio.rate} Hz fed to a {self.rate_in} Hz stream")
        if self._stream is None:
            return Audio(audio.pcm, self.rate_out)
        x = audio.samples().astype(np.float64)  # as Audio.resample: from_samples rounds
        return Audio.from_samples(self._stream.resample_chunk(x, last=False), self.rate_out)

    def flush(self) -> Audio:
        """The rest held in the filter: the end of the last piece."""
        if self._stream is None:
            return Audio(b"", self.rate_out)
        y = self._stream.resample_chunk(np.zeros(0, dtype=np.float64), last=True)
        return Audio.from_samples(y, self.rate_out)
