"""What the far end plays before it answers (early media: a 183 with SDP), from the audio alone.

A call that will never be answered often says so in its early media: the network plays a
special information tone (SIT) and/or an operator's announcement («Абонент недоступен»,
«Аппарат абонента выключен», «Номер не существует»), then sends 480/404 — or keeps "ringing"
until our ring timeout. Recognizing it early saves the ring time and tells *why*:

- **SIT**: three tones back to back, rising. ITU-T E.180 / Q.35: 950 / 1400 / 1800 Hz (±50),
  330 ms each — a generic "cannot complete" (→ unreachable). Telcordia (GR-1162) codes the
  cause in the first two segments: low/high 913.8/985.2 Hz, then 1370.6/1428.5 Hz, each short
  (274 ms) or long (380 ms); the third is always 1776.7 Hz, 380 ms. Vacant code and intercept
  say the number does not exist (→ invalid); no circuit, reorder, ineffective other say it
  cannot be reached now (→ unreachable).
- **Ringback**: a 400–450 Hz tone of 0.7 s or more (Russia: 425 Hz, 1 s on / 4 s off). It is a
  state, not a verdict: a network may ring first and announce later.
- **Announcement**: speech that is not a tone: voiced runs above the noise floor (a steady
  tone of 150 ms or more is no speech; a shorter one is a vowel), with the level swings of
  syllables (steady noise and held notes do not swing), `early_speech_s` of it →
  an operator's message (→ unreachable; → invalid when a transcript, if one is available, says
  the number does not exist: `announcement_says_invalid`).
- **Silence** / **undecided** otherwise.

Frames: 8 kHz int16 of any length, analysed in 10 ms hops over a 32 ms Hann window (FFT
zero-padded to 2048 points: a tone's frequency to ~1 Hz, so 913.8 and 950 Hz are told apart).
Time is the amount of audio fed, never the wall clock. Pure numpy, no pjsua2.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections import deque
from dataclasses import dataclass

import numpy as np

from cuckoo.config.telephony import AmdSettings

RATE = 8000
HOP = 80  # 10 ms: the tone tracker's time step
WIN = 256  # 32 ms analysis window
NFFT = 2048  # zero-padded: 3.9 Hz bins, parabolic interpolation does the rest
HOP_S = HOP / RATE
LOBE_HZ = 2 * RATE / WIN  # a Hann window's main lobe half-width (62.5 Hz)
BAND = (250.0, 3500.0)  # where tones and speech are looked for
TONE_SHARE = 0.7  # of the band's energy within one main lobe: a tone, not speech or noise
SAME_TONE_HZ = 20.0  # hops closer than this to a run's frequency continue it
MIN_SEGMENT_HOPS = 5  # 50 ms: shorter tonal runs are a vowel's harmonic, not a tone
# A steady tone this long is no speech (a vowel may hold one harmonic for ~100 ms, a high voice
# more often than a low one); speech frames are counted this late, once that is known.
TONE_HOPS = 15
PENDING_FRAMES = 8  # level frames (160 ms) held back until their hops' tone runs are known
MIN_FLOOR = 1.0
LEVEL_FRAMES = 2  # hops per level frame (20 ms, as in cuckoo.telephony.amd)
STEADY_FRAMES = 10  # 200 ms of level within STEADY_DB: noise (or a tone), not speech
STEADY_DB = 3.0

# SIT segment bands (wide enough for ITU's ±50 Hz) and the Telcordia frequencies.
SIT_BANDS = ((880.0, 1020.0), (1330.0, 1470.0), (1740.0, 1860.0))
SIT_MAX_GAP_S = 0.08  # ITU allows up to 30 ms between segments; the window smears edges
SIT_SEGMENT_S = (0.18, 0.50)
TELCORDIA_HZ = ((913.8, 985.2), (1370.6, 1428.5), (1776.7,))
TELCORDIA_TOL_HZ = 15.0
TELCORDIA_LONG_S = 0.32  # between 274 ms (short) and 380 ms (long), measured a bit short
RINGBACK_HZ = (380.0, 470.0)  # 425 Hz ± what carriers use (400, 440, 450; 400+450 beats)
RINGBACK_MIN_S = 0.7


class EarlyKind(enum.StrEnum):
    SIT = "sit"
    RINGBACK = "ringback"
    ANNOUNCEMENT = "announcement"
    SILENCE = "silence"
    UNDECIDED = "undecided"


class SitVariant(enum.StrEnum):
    """Telcordia's SIT codes (segment 1, segment 2: L/H frequency, short/long), and ITU's."""

    INTERCEPT = "intercept"  # IC: L short, L short
    VACANT_CODE = "vacant code"  # VC: H long, L short
    NO_CIRCUIT = "no circuit"  # NC: H long, H long (interLATA)
    NO_CIRCUIT_LOCAL = "no circuit (local)"  # NC': L long, L long
    REORDER = "reorder"  # RO: L short, H long (interLATA)
    REORDER_LOCAL = "reorder (local)"  # RO': H short, L long
    INEFFECTIVE = "ineffective other"  # IO: L long, H short
    RESERVED = "reserved"  # H short, H short
    ITU = "ITU-T E.180"  # 950/1400/1800 Hz: the cause is not coded

    @property
    def invalid(self) -> bool:
        """The number does not exist (not merely unreachable now)."""
        return self in (SitVariant.INTERCEPT, SitVariant.VACANT_CODE)


# (segment 1 high?, long?), (segment 2 high?, long?) → variant
_TELCORDIA: dict[tuple[tuple[bool, bool], tuple[bool, bool]], SitVariant] = {
    ((False, False), (False, False)): SitVariant.INTERCEPT,
    ((True, True), (False, False)): SitVariant.VACANT_CODE,
    ((True, True), (True, True)): SitVariant.NO_CIRCUIT,
    ((False, True), (False, True)): SitVariant.NO_CIRCUIT_LOCAL,
    ((False, False), (True, True)): SitVariant.REORDER,
    ((True, False), (False, True)): SitVariant.REORDER_LOCAL,
    ((False, True), (True, False)): SitVariant.INEFFECTIVE,
    ((True, False), (True, False)): SitVariant.RESERVED,
}

# What an announcement says when the number itself is wrong (the rest: unreachable for now).
_INVALID_RE = re.compile(
    r"не\s+существ|неправильно\s+набран|неверно\s+набран|набран\s+неверно|набран\s+неправильно"
    r"|номер\s+не\s+определ|не\s+зарегистрирован",
    re.IGNORECASE,
)


def announcement_says_invalid(transcript: str) -> bool:
    """A recognizer's transcript of an early-media announcement says the number is wrong
    («номер не существует», «неправильно набран номер»)."""
    return bool(_INVALID_RE.search(transcript.replace("ё", "е")))


@dataclass(frozen=True)
class Segment:
    """One steady tone: start and length (s, audio time), frequency (Hz)."""

    start_s: float
    duration_s: float
    hz: float

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class Sit:
    variant: SitVariant
    segments: tuple[Segment, Segment, Segment]

    def describe(self) -> str:
        tones = "/".join(f"{s.hz:.0f}" for s in self.segments)
        ms = "/".join(f"{s.duration_s * 1000:.0f}" for s in self.segments)
        return f"{self.variant.value} ({tones} Hz, {ms} ms)"


def sit_tones(variant: SitVariant) -> tuple[tuple[float, float], ...]:
    """(Hz, seconds) of a SIT's three segments, as a network plays it (the sim phone)."""
    if variant == SitVariant.ITU:
        return ((950.0, 0.33), (1400.0, 0.33), (1800.0, 0.33))
    (h1, l1), (h2, l2) = next(k for k, v in _TELCORDIA.items() if v == variant)
    return (
        (TELCORDIA_HZ[0][h1], 0.38 if l1 else 0.274),
        (TELCORDIA_HZ[1][h2], 0.38 if l2 else 0.274),
        (TELCORDIA_HZ[2][0], 0.38),
    )


def classify_sit(segments: tuple[Segment, Segment, Segment]) -> Sit | None:
    """The SIT these three consecutive tones make, or None if they are not one."""
    for seg, (lo, hi) in zip(segments, SIT_BANDS, strict=True):
        if not (lo <= seg.hz <= hi and SIT_SEGMENT_S[0] <= seg.duration_s <= SIT_SEGMENT_S[1]):
            return None
    for a, b in itertools.pairwise(segments):
        if b.start_s - a.end_s > SIT_MAX_GAP_S:
            return None
    coded: list[tuple[bool, bool]] = []
    for seg, ref in zip(segments[:2], TELCORDIA_HZ[:2], strict=True):
        dist = [abs(seg.hz - f) for f in ref]
        if min(dist) > TELCORDIA_TOL_HZ:
            break
        coded.append((dist[1] < dist[0], seg.duration_s >= TELCORDIA_LONG_S))
    third_telcordia = abs(segments[2].hz - TELCORDIA_HZ[2][0]) <= TELCORDIA_TOL_HZ
    if len(coded) == 2 and third_telcordia:
        return Sit(_TELCORDIA[(coded[0], coded[1])], segments)
    return Sit(SitVariant.ITU, segments)


@dataclass(frozen=True)
class EarlyDecision:
    kind: EarlyKind
    reason: str = ""
    at_s: float = 0.0  # audio time of the decision
    sit: Sit | None = None
    invalid: bool = False  # the number does not exist (a SIT's code or the transcript)

    @property
    def final(self) -> bool:
        """The call will not be answered: hang up now."""
        return self.kind in (EarlyKind.SIT, EarlyKind.ANNOUNCEMENT)


def _spectrum_basis() -> tuple[np.ndarray, np.ndarray, int, int]:
    window = np.hanning(WIN)
    freqs = np.fft.rfftfreq(NFFT, 1 / RATE)
    lo = int(np.searchsorted(freqs, BAND[0]))
    hi = int(np.searchsorted(freqs, BAND[1]))
    return window, freqs, lo, hi


_WINDOW, _FREQS, _LO, _HI = _spectrum_basis()
_LOBE_BINS = round(LOBE_HZ / (RATE / NFFT))


def tone_of(block: np.ndarray) -> tuple[float, float]:
    """(frequency, share of the band's energy in its main lobe) of the strongest tone in a
    WIN-sample block."""
    spec = np.abs(np.fft.rfft(block * _WINDOW, NFFT)) ** 2
    band = spec[_LO:_HI]
    total = float(band.sum())
    if total <= 0:
        return 0.0, 0.0
    k = int(np.argmax(band)) + _LO
    share = float(spec[max(0, k - _LOBE_BINS) : k + _LOBE_BINS + 1].sum()) / total
    # parabolic interpolation of the log power around the peak
    a, b, c = (float(np.log(spec[i] + 1e-12)) for i in (k - 1, k, k + 1))
    den = a - 2 * b + c
    delta = 0.5 * (a - c) / den if den != 0 else 0.0
    return float(_FREQS[k] + delta * RATE / NFFT), min(1.0, share)


class EarlyMediaDetector:
    """Feed early media (8 kHz int16 bytes, any length); `decision` says what it is so far,
    `decision.final` that the call will not be answered. Thresholds come from
    `[telephony.amd]` (the silence level, the noise floor and its window, `early_speech_s`)."""

    def __init__(self, settings: AmdSettings | None = None, *, rate: int = RATE) -> None:
        if rate != RATE:
            raise ValueError("the detector works on 8 kHz audio")
        s = settings or AmdSettings()
        self.settings = s
        self.decision = EarlyDecision(EarlyKind.UNDECIDED)
        self.segments: list[Segment] = []  # every steady tone heard
        self.speech_s = 0.0  # voiced, non-tonal audio so far
        self.heard_s = 0.0  # any audio above the floor so far
        self._announcements = s.early_announcements
        self._buf = np.zeros(0)
        self._win = np.zeros(WIN)
        self._n = 0  # hops fed
        self._run_start: int | None = None  # first hop of the current tonal run
        self._run_hz: list[float] = []
        self._run_id = 0  # runs are numbered; a level frame remembers its run
        self._run_lens: dict[int, int] = {}  # hops of each recent run
        self._pending: deque[tuple[bool, float, int | None]] = deque()
        # noise floor: minimum statistics over 20 ms levels, as in cuckoo.telephony.amd
        self._snr = 10 ** (s.voice_snr_db / 20)
        self._floor_frames = max(1, round(s.noise_window_s / (HOP_S * LEVEL_FRAMES)))
        self._levels: deque[float] = deque(maxlen=self._floor_frames)
        self._recent_db: deque[float] = deque(maxlen=STEADY_FRAMES)
        self._prior: float | None = s.silence_threshold / self._snr
        self._frame_acc: list[float] = []  # hop energies of the level frame being built
        self._frame_run: int | None = None  # the tone run of the level frame's last hop
        self._frame_voice = False  # the last level frame was voice
        self._frame_db: deque[float] = deque(maxlen=round(1.0 / (HOP_S * LEVEL_FRAMES)))
        self._voiced_db: list[float] = []  # dB of voiced, non-tonal frames (the swing check)
        self._dips = 0  # voiced runs after a dip: syllables, roughly
        self._quiet_frames = 0

    @property
    def t(self) -> float:
        """Seconds of audio fed."""
        return self._n * HOP_S

    def feed(self, pcm: bytes) -> EarlyDecision:
        x = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
        buf = np.concatenate((self._buf, x)) if len(self._buf) else x
        i = 0
        while i + HOP <= len(buf):
            if not self.decision.final:
                self._hop(buf[i : i + HOP])
            i += HOP
        self._buf = buf[i:].copy()
        return self.decision

    def note_transcript(self, text: str) -> EarlyDecision:
        """A recognizer's transcript of the early media: an announcement that says the number
        does not exist is INVALID; any other words make it an announcement (unreachable)."""
        if self.decision.kind == EarlyKind.SIT or not text.strip():
            return self.decision
        invalid = announcement_says_invalid(text)
        self.decision = EarlyDecision(
            EarlyKind.ANNOUNCEMENT,
            f"operator announcement in early media: «{text.strip()}»",
            self.t,
            invalid=invalid,
        )
        return self.decision

    # ---- one hop ------------------------------------------------------------------------------
    def _hop(self, x: np.ndarray) -> None:
        n = self._n
        self._n += 1
        self._win = np.concatenate((self._win[HOP:], x))
        energy = float(np.dot(x, x))
        self._frame_acc.append(energy)
        hz, share = tone_of(self._win)
        rms_win = float(np.sqrt(np.dot(self._win, self._win) / WIN))
        loud = rms_win > self.settings.silence_threshold * 0.5
        tonal = loud and share >= TONE_SHARE
        self._track_tone(n, hz if tonal else None)
        if self._run_start is not None:
            self._run_lens[self._run_id] = len(self._run_hz)
            self._frame_run = self._run_id
        if len(self._frame_acc) == LEVEL_FRAMES:
            rms = float(np.sqrt(sum(self._frame_acc) / (HOP * LEVEL_FRAMES)))
            self._frame_acc = []
            self._level_frame(rms, self._frame_run)
            self._frame_run = None
        if self.decision.final:
            return
        s = self.settings
        quiet = self.decision.kind == EarlyKind.UNDECIDED and self.heard_s == 0.0
        if quiet and self.t >= s.initial_silence_s:
            self.decision = EarlyDecision(
                EarlyKind.SILENCE, f"nothing heard in {s.initial_silence_s:g} s", self.t
            )
        if self._announcements and self._is_announcement():
            swing = float(np.std(self._voiced_db)) if self._voiced_db else 0.0
            self.decision = EarlyDecision(
                EarlyKind.ANNOUNCEMENT,
                f"operator announcement in early media ({self.speech_s:.1f} s of speech, "
                f"{self._dips} syllables, ±{swing:.0f} dB)",
                self.t,
            )

    def _track_tone(self, n: int, hz: float | None) -> None:
        if hz is not None and self._run_start is not None and self._continues(hz):
            self._run_hz.append(hz)
            if self.decision.kind != EarlyKind.RINGBACK:
                self._check_ringback(n)
            return
        self._close_run(n)
        if hz is not None:
            self._run_start = n
            self._run_hz = [hz]
            self._run_id += 1
            self._run_lens = {k: v for k, v in self._run_lens.items() if k > self._run_id - 8}

    def _continues(self, hz: float) -> bool:
        ref = float(np.median(self._run_hz))
        lo, hi = RINGBACK_HZ
        if lo <= ref <= hi and lo <= hz <= hi:
            return True  # two-tone ringback (400 + 450 Hz) beats: its peak wanders
        return abs(hz - ref) <= SAME_TONE_HZ

    def _close_run(self, n: int) -> None:
        start, hzs = self._run_start, self._run_hz
        self._run_start, self._run_hz = None, []
        if start is None or len(hzs) < MIN_SEGMENT_HOPS:
            return
        # A hop's window ends at its hop: the run's audio started ~half a window earlier.
        seg = Segment(
            (start + 1) * HOP_S - WIN / 2 / RATE, (n - start) * HOP_S, float(np.median(hzs))
        )
        self.segments.append(seg)
        if len(self.segments) >= 3 and not self.decision.final:
            s1, s2, s3 = self.segments[-3:]
            sit = classify_sit((s1, s2, s3))
            if sit is not None:
                self.decision = EarlyDecision(
                    EarlyKind.SIT, f"SIT: {sit.describe()}", self.t, sit, sit.variant.invalid
                )

    def _check_ringback(self, n: int) -> None:
        assert self._run_start is not None
        ref = float(np.median(self._run_hz))
        dur = (n - self._run_start + 1) * HOP_S
        if RINGBACK_HZ[0] <= ref <= RINGBACK_HZ[1] and dur >= RINGBACK_MIN_S:
            self.decision = EarlyDecision(EarlyKind.RINGBACK, f"ringback ({ref:.0f} Hz)", self.t)

    def _level_frame(self, rms: float, run: int | None) -> None:
        """A 20 ms level frame: the noise floor and voice now; speech and syllables once its
        tone run's length is known (PENDING_FRAMES later)."""
        s = self.settings
        db = 20.0 * float(np.log10(max(rms, MIN_FLOOR)))
        self._levels.append(rms)
        floor = min(self._levels)
        if self._prior is not None:
            self._recent_db.append(db)
            steady = len(self._recent_db) == STEADY_FRAMES and (
                max(self._recent_db) - min(self._recent_db) <= STEADY_DB
            )
            if steady or len(self._levels) >= self._floor_frames:
                self._prior = None
            else:
                floor = min(floor, self._prior)
        floor = max(floor, MIN_FLOOR)
        voice = rms > max(s.silence_threshold, floor * self._snr)
        if voice or run is not None:
            self.heard_s += HOP_S * LEVEL_FRAMES
        self._pending.append((voice, db, run))
        if len(self._pending) > PENDING_FRAMES:
            self._speech_frame(*self._pending.popleft())

    def _speech_frame(self, voice: bool, db: float, run: int | None) -> None:
        tone = run is not None and self._run_lens.get(run, TONE_HOPS) >= TONE_HOPS
        speech = voice and not tone
        if speech:
            self.speech_s += HOP_S * LEVEL_FRAMES
            self._voiced_db.append(db)
            if not self._frame_voice and self._quiet_frames >= 2:
                self._dips += 1  # a run of voice after ≥ 40 ms of quiet: a new syllable
            self._quiet_frames = 0
        else:
            self._quiet_frames += 1
        self._frame_voice = speech

    def _is_announcement(self) -> bool:
        s = self.settings
        if self.speech_s < s.early_speech_s or self._dips < s.early_min_syllables:
            return False
        return float(np.std(self._voiced_db)) >= s.early_min_swing_db
