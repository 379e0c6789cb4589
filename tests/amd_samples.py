"""Real Russian audio for the answering-machine tests: voicemail greetings and short human
answers rendered by espeak-ng and Festival (festvox-ru), beeps, line noise. 8 kHz int16."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from cuckoo.line.audio import Audio
from cuckoo.speech.tts.festival import festival_available, festival_text

RATE = 8000

VOICEMAIL_TEXTS = {
    "abonent": "Абонент не может ответить. Оставьте сообщение после звукового сигнала.",
    "mts": (
        "Здравствуйте. Абонент, которому вы звоните, сейчас не может ответить. "
        "Пожалуйста, оставьте сообщение после сигнала."
    ),
    "autoanswer": (
        "Вы позвонили на автоответчик. Оставьте, пожалуйста, ваше сообщение "
        "после звукового сигнала, и вам перезвонят."
    ),
    "unavailable": "Абонент временно недоступен. Вы можете оставить голосовое сообщение.",
}
HUMAN_TEXTS = {
    "allo": "Алло?",
    "da": "Да.",
    "slushayu": "Слушаю.",
    "allo_govorite": "Алло, говорите.",
    "da_slushayu": "Да, слушаю.",
}
# a person who says a whole sentence at once, then waits
HUMAN_LONG = "Алло, здравствуйте, я вас слушаю."


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def have_festival() -> bool:
    return shutil.which("text2wave") is not None and festival_available() is None


def _wav_bytes_to_8k(data: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(data), "rb") as w:
        rate = w.getframerate()
        pcm = w.readframes(1 << 30)  # espeak-ng streams: its header's length is bogus
    return Audio(pcm, rate).resample(RATE).samples().astype(np.float64)


def espeak(text: str, speed: int = 150) -> np.ndarray:
    out = subprocess.run(
        ["espeak-ng", "-v", "ru", "-s", str(speed), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    return _wav_bytes_to_8k(out)


def festival(text: str, stretch: float = 1.0) -> np.ndarray:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "f.wav"
        subprocess.run(
            [
                "text2wave",
                "-eval",
                "(voice_msu_ru_nsh_clunits)",
                "-eval",
                f"(Parameter.set 'Duration_Stretch {stretch})",
                "-o",
                str(path),
            ],
            input=festival_text(text).encode("utf-8"),
            check=True,
            capture_output=True,
        )
        return _wav_bytes_to_8k(path.read_bytes())


def trim(x: np.ndarray, level: float = 100.0) -> np.ndarray:
    """Without the synthesizer's leading/trailing silence."""
    loud = np.flatnonzero(np.abs(x) > level)
    return x[loud[0] : loud[-1] + 1] if len(loud) else x[:0]


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """Scaled so that its voiced part has this RMS (dBFS), as speech on a phone line."""
    voiced = x[np.abs(x) > 0.05 * np.abs(x).max()] if len(x) else x
    rms = float(np.sqrt(np.mean(voiced**2))) if len(voiced) else 1.0
    return x * (32768 * 10 ** (dbfs / 20) / rms)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE))


def beep(hz: float = 1000.0, seconds: float = 0.5, dbfs: float = -12.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)  # 5 ms edges, as real beeps have
    return 32768 * 10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * hz * t) * ramp


def noisy(x: np.ndarray, noise_dbfs: float, seed: int = 1) -> np.ndarray:
    """White line noise at this RMS (dBFS) added throughout."""
    rng = np.random.default_rng(seed)
    return x + rng.normal(0.0, 32768 * 10 ** (noise_dbfs / 20), len(x))


def join(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts)


def pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def frames(x: np.ndarray) -> list[bytes]:
    """20 ms frames, as SipLine receives them."""
    data = pcm(x)
    return [data[i : i + 320] for i in range(0, len(data) - 319, 320)]


def write_wav(path: Path, x: np.ndarray) -> Path:
    Audio(pcm(x), RATE).write_wav(path)
    return path
