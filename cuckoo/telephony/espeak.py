"""A minimal espeak-ng synthesizer: the fallback when the configured speech synthesizer
(cuckoo.speech.tts) is not available, so `cuckoo call --say` still works. Caches by text."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio


class EspeakSynthesizer:
    def __init__(self, voice: str = "ru", speed: int = 150) -> None:
        if shutil.which("espeak-ng") is None:
            raise TtsError("espeak-ng is not installed: apt-get install espeak-ng")
        self.voice = voice
        self.speed = speed
        self._cache: dict[tuple[str, int], Audio] = {}

    def synthesize(self, text: str, *, rate: int = 8000) -> Audio:
        key = (text, rate)
        if key not in self._cache:
            wav = subprocess.run(
                ["espeak-ng", "-v", self.voice, "-s", str(self.speed), "--stdout", text],
                check=True,
                capture_output=True,
            ).stdout
            with wave.open(io.BytesIO(wav), "rb") as w:
                # espeak-ng streams: the header's length fields are bogus, read what is there
                audio = Audio(w.readframes(1 << 30), w.getframerate())
            self._cache[key] = audio.resample(rate)
        return self._cache[key]
