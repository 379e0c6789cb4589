"""Recorded prompts for hybrid `say:` texts (a company's greeting, a jingle, a sentence read in
a studio) played between synthesized parts.

A recording in any common format (WAV, FLAC, OGG/Opus, MP3, AIFF: what libsndfile reads) is
converted once per process — mixed to mono, resampled with soxr to the call's rate — and its
loudness matched to the voice's, so a recorded greeting and the synthesized name after it sound
equally loud. Converted audio is kept by the file's sha256 (an edited file is converted again).
"""

from __future__ import annotations

import hashlib
import math
import threading
from pathlib import Path

import numpy as np
import soundfile
import soxr

from cuckoo.errors import ConfigError
from cuckoo.line.audio import TELEPHONY_RATE, Audio
from cuckoo.line.speech import Synthesizer

# What the voice says to have its level measured (speech, not a tone: RMS over real syllables).
LEVEL_PROBE = "Здравствуйте! Это проверка громкости голоса, спасибо."
# Quieter than this is silence: not counted in the RMS (pauses would make speech look quiet).
_SILENCE_DBFS = -50.0
_MAX_CACHED = 64

_cache: dict[tuple[str, int, float | None], Audio] = {}
_lock = threading.Lock()


def file_problem(path: Path) -> str | None:
    """Why the recording cannot be played, or None."""
    if not path.is_file():
        return f"recording {path} not found"
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, OSError) as e:
        return f"recording {path} cannot be read as audio: {e}"
    if info.frames <= 0:
        return f"recording {path} is empty"
    return None


def speech_level_dbfs(audio: Audio) -> float | None:
    """RMS of the voiced part of `audio` (10 ms frames above -50 dBFS), in dBFS."""
    x = audio.samples().astype(np.float64) / 32768.0
    frame = max(1, audio.rate // 100)
    n = len(x) // frame
    if n == 0:
        return None
    power = (x[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    voiced = power[power > 10 ** (_SILENCE_DBFS / 10)]
    if len(voiced) == 0:
        return None
    return 10 * math.log10(float(voiced.mean()))


def load_recording(
    path: Path, *, rate: int = TELEPHONY_RATE, level_dbfs: float | None = None
) -> Audio:
    """The recording at `rate`, mono, its voiced level moved to `level_dbfs` (None: as it is).
    Raises ConfigError naming the file when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"recording {path}: {e.strerror or e}") from e
    key = (hashlib.sha256(data).hexdigest(), rate, level_dbfs)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    problem = file_problem(path)
    if problem:
        raise ConfigError(problem)
    samples, source_rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    mono = samples.mean(axis=1)
    if source_rate != rate:
        mono = soxr.resample(mono, source_rate, rate, quality="HQ")
    audio = Audio.from_samples(mono * 32767.0, rate)
    if level_dbfs is not None:
        audio = _to_level(audio, level_dbfs)
    with _lock:
        if len(_cache) >= _MAX_CACHED:
            _cache.pop(next(iter(_cache)))
        _cache[key] = audio
    return audio


def _to_level(audio: Audio, level_dbfs: float) -> Audio:
    now = speech_level_dbfs(audio)
    if now is None:
        return audio  # silence or a click: nothing to match
    gain = 10 ** ((level_dbfs - now) / 20)
    x = audio.samples().astype(np.float64) * gain
    peak = float(np.abs(x).max()) if len(x) else 0.0
    if peak > 32767.0:  # never clip: a loud peak keeps the recording a little quieter instead
        x *= 32767.0 / peak
    return Audio.from_samples(x, audio.rate)


_levels: dict[int, tuple[object, float | None]] = {}


def voice_level_dbfs(synthesizer: Synthesizer) -> float | None:
    """The voice's speech level (dBFS at the call's rate), measured once per synthesizer on
    LEVEL_PROBE: the loudness recordings are matched to, per voice profile."""
    hit = _levels.get(id(synthesizer))
    if hit is not None and hit[0] is synthesizer:
        return hit[1]
    level = speech_level_dbfs(synthesizer.synthesize(LEVEL_PROBE, rate=TELEPHONY_RATE))
    with _lock:
        _levels[id(synthesizer)] = (synthesizer, level)
    return level
