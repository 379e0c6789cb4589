"""espeak-ng: always available (Debian package), robotic but clear; one short process per phrase
is fine here (it starts in a few milliseconds, there is no model to load)."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio
from cuckoo.speech.tts.base import strip_stress

BASE_WPM = 160  # espeak-ng's words per minute at tempo 1.0 (its own default, 175, is hurried)


class EspeakEngine:
    name = "espeak"
    native_rate = 22050

    def __init__(
        self, *, voice: str = "ru", tempo: float = 1.0, pitch: int = 50, binary: str = "espeak-ng"
    ) -> None:
        path = shutil.which(binary)
        if path is None:
            raise TtsError(f"{binary} not found: install it (apt-get install espeak-ng)")
        self._argv = [
            path,
            "-v",
            voice,
            "-s",
            str(max(80, min(450, round(BASE_WPM * tempo)))),
            "-p",
            str(max(0, min(99, pitch))),
            "--stdout",
        ]

    def render(self, text: str, *, rate: int) -> Audio:
        clean = strip_stress(text).strip()
        if not clean:
            return Audio(b"", rate)
        try:
            # Text on stdin: no argv length limit and no option injection from a leading "-".
            proc = subprocess.run(
                self._argv, input=clean.encode("utf-8"), capture_output=True, timeout=60
            )
        except subprocess.TimeoutExpired as e:
            raise TtsError(f"espeak-ng timed out on {len(clean)} characters") from e
        if proc.returncode != 0 or not proc.stdout:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise TtsError(f"espeak-ng failed (exit {proc.returncode}): {err}")
        return wav_to_audio(proc.stdout, "espeak-ng")

    def close(self) -> None:
        pass


def wav_to_audio(data: bytes, who: str) -> Audio:
    """RIFF bytes → Audio. espeak-ng writes 0xFFFFFFFF as sizes to a pipe, so the frame count
    in the header is wrong: take everything after the header instead."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise TtsError(f"{who}: expected 16-bit mono WAV")
            rate = w.getframerate()
    except (wave.Error, EOFError) as e:
        raise TtsError(f"{who}: not a WAV stream: {e}") from e
    pos = data.find(b"data")
    if pos < 0:
        raise TtsError(f"{who}: WAV without a data chunk")
    pcm = data[pos + 8 :]
    return Audio(pcm[: len(pcm) // 2 * 2], rate)
