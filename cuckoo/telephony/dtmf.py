"""In-band DTMF: a Goertzel detector for trunks that send keys as tones in the audio, and a tone
generator (the simulated phone presses keys this way). Pure numpy, no I/O.

The detector evaluates the eight DTMF frequencies over blocks of 205 samples (25.6 ms at 8 kHz,
the classic Goertzel block). Each power is |sum x[n] e^(-j 2 pi f n / fs)|^2 — exactly what the
Goertzel recurrence computes, done as one matrix product because that is what is fast in numpy.
A block holds a key when (ITU-T Q.24 style checks):
- the strongest row and column tones are loud enough (absolute level),
- together they carry most of the block's energy (speech and noise spread energy elsewhere),
- each is well above the other tones of its group,
- the twist (row vs column level) is within limits,
- the second harmonics are weak (speech vowels have strong harmonics, pure tones do not),
  measured after the two tones are fitted and taken out of the block: a row tone's harmonic
  lies 58-71 Hz from a column tone (697*2 = 1394 vs 1336 Hz), inside its leakage, so a loud
  column tone (forward twist) would otherwise pass for the row tone's harmonic.
Blocks overlap by half (hop 12.75 ms). A key is reported once, after it held for `min_blocks`
consecutive blocks (~40 ms of tone); it must go away for `gap_blocks` blocks before the same key
counts again.
"""

from __future__ import annotations

import numpy as np

ROWS = (697.0, 770.0, 852.0, 941.0)
COLS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
BLOCK = 205
HOP = 102  # blocks overlap by half: short tones still fill two whole blocks


def goertzel_basis(freqs: np.ndarray | tuple[float, ...], n: int, rate: int) -> np.ndarray:
    """The (len(freqs), n) matrix whose product with a block of n samples gives each
    frequency's Goertzel term sum x[k] e^(-j 2 pi f k / rate)."""
    return np.exp(-2j * np.pi * np.outer(np.asarray(freqs, dtype=np.float64), np.arange(n)) / rate)


def block_powers(basis: np.ndarray, block: np.ndarray) -> np.ndarray:
    """|X(f)|^2 of one block for every frequency of `basis` (see goertzel_basis)."""
    return np.abs(basis @ block) ** 2


def tone_share(power: float, block: np.ndarray) -> float:
    """The share of a block's energy that one tone of Goertzel power `power` carries: a pure
    tone of power |X|^2 holds 2|X|^2/N of the block's sum of squares."""
    total = float(np.dot(block, block))
    return 2 * power / len(block) / total if total > 0 else 0.0


def key_freqs(key: str) -> tuple[float, float]:
    for r, row in enumerate(KEYS):
        c = row.find(key.upper())
        if c >= 0:
            return ROWS[r], COLS[c]
    raise ValueError(f"not a DTMF key: {key!r}")


def tone(
    key: str,
    duration_s: float = 0.1,
    *,
    rate: int = 8000,
    level: float = 0.3,
    twist_db: float = 0.0,
) -> np.ndarray:
    """float64 samples of one key (full scale = 1.0); `level` is each tone's peak amplitude,
    `twist_db` > 0 makes the column tone louder than the row tone."""
    low, high = key_freqs(key)
    t = np.arange(int(duration_s * rate)) / rate
    high_amp = level * 10 ** (twist_db / 20)
    return level * np.sin(2 * np.pi * low * t) + high_amp * np.sin(2 * np.pi * high * t)


def tones_pcm(
    keys: str, *, on_s: float = 0.1, off_s: float = 0.1, rate: int = 8000, level: float = 0.3
) -> bytes:
    """int16 LE PCM of a key sequence with pauses, as a phone keypad sends it."""
    parts: list[np.ndarray] = []
    gap = np.zeros(int(off_s * rate))
    for k in keys:
        parts.append(tone(k, on_s, rate=rate, level=level))
        parts.append(gap)
    x = np.concatenate(parts) if parts else np.zeros(0)
    return np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tobytes()


class DtmfDetector:
    """Streaming detector for 8 kHz int16 audio. `feed(pcm) -> str` returns newly pressed keys."""

    def __init__(
        self,
        rate: int = 8000,
        *,
        min_level_dbfs: float = -36.0,
        # ITU-T Q.24 asks that 8 dB of twist be accepted; a 205-sample Goertzel measures a
        # tone pair's level ratio only to about +-0.4 dB (the other tone's and the negative
        # frequency's leakage), so the limit sits 1 dB above that (sox's +8 dB keys failed).
        max_twist_db: float = 9.0,
        min_group_ratio_db: float = 6.0,
        min_tone_share: float = 0.6,
        max_harmonic_ratio: float = 0.25,
        min_blocks: int = 2,
        gap_blocks: int = 3,
    ) -> None:
        self.rate = rate
        self._basis = goertzel_basis(ROWS + COLS + tuple(2 * f for f in ROWS + COLS), BLOCK, rate)
        # A pure tone of peak A gives |X|^2 = (A * BLOCK / 2)^2.
        min_amp = 32768 * 10 ** (min_level_dbfs / 20)
        self._min_power = (min_amp * BLOCK / 2) ** 2
        self._max_twist = 10 ** (max_twist_db / 10)
        self._group_ratio = 10 ** (min_group_ratio_db / 10)
        self._min_share = min_tone_share
        self._max_harm = max_harmonic_ratio
        self._min_blocks = min_blocks
        self._gap_blocks = gap_blocks
        # Least-squares fit of each row+column pair (cos and sin of both): the residual after
        # it holds what is not the two tones, where the harmonics are measured.
        n = np.arange(BLOCK)
        self._fit: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        for r, fr in enumerate(ROWS):
            for c, fc in enumerate(COLS):
                w = 2 * np.pi * np.array([fr, fc]) / rate
                a = np.column_stack([np.cos(np.outer(n, w)), np.sin(np.outer(n, w))])
                self._fit[r, c] = (a, np.linalg.pinv(a))
        self._tone_basis, self._harm_basis = self._basis[:8], self._basis[8:]
        self._buf = np.zeros(0)
        self._candidate = ""
        self._run = 0
        self._reported = ""  # key currently held down and already reported
        self._quiet = 0

    def reset(self) -> None:
        self._buf = np.zeros(0)
        self._candidate, self._run, self._reported, self._quiet = "", 0, "", 0

    def block_key(self, block: np.ndarray) -> str:
        """The key in one block of BLOCK samples, or ""."""
        p = block_powers(self._tone_basis, block)
        rows, cols = p[:4], p[4:]
        r = int(np.argmax(rows))
        c = int(np.argmax(cols))
        pr, pc = rows[r], cols[c]
        if pr < self._min_power or pc < self._min_power:
            return ""
        twist = pc / pr
        if twist > self._max_twist or twist < 1 / self._max_twist:
            return ""
        if np.sort(rows)[-2] * self._group_ratio > pr or np.sort(cols)[-2] * self._group_ratio > pc:
            return ""
        # Energy check: speech and noise spread their energy beyond the two tones.
        if tone_share(pr + pc, block) < self._min_share:
            return ""
        a, pinv = self._fit[r, c]
        rest = block - a @ (pinv @ block)
        hr, hc = block_powers(self._harm_basis[[r, 4 + c]], rest)
        if hr > self._max_harm * pr or hc > self._max_harm * pc:
            return ""
        return KEYS[r][c]

    def feed(self, pcm: bytes) -> str:
        x = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
        buf = np.concatenate((self._buf, x)) if len(self._buf) else x
        out = []
        i = 0
        while i + BLOCK <= len(buf):
            key = self.block_key(buf[i : i + BLOCK])
            i += HOP
            if key and key == self._candidate:
                self._run += 1
            else:
                self._candidate, self._run = key, 1 if key else 0
            if key:
                self._quiet = 0
                if self._run >= self._min_blocks and key != self._reported:
                    self._reported = key
                    out.append(key)
            else:
                self._quiet += 1
                if self._quiet >= self._gap_blocks:
                    self._reported = ""
        self._buf = buf[i:].copy()
        return "".join(out)
