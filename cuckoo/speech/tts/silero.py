"""Silero TTS (torch) from a local model file.

Models (put the file in models_dir/silero/, e.g. with `cuckoo models download silero-v4-ru`):

- v4_ru, v5_ru — Russian speakers aidar, baya, kseniya, xenia, eugene; license CC BY-NC 4.0
  (non-commercial use only — a company calling its customers needs a commercial license from
  Silero).
- v5_cis_base — MIT; Russian speakers named ru_*; it does not place stress itself, so the text
  should carry "+" before stressed vowels (the pronunciation lexicon adds them).

The file is a torch.package: `PackageImporter(path).load_pickle("tts_models", "model")`, then
`model.apply_tts(text=…, speaker=…, sample_rate=…, put_accent=…, put_yo=…)` (or `ssml_text=`)
returns a float tensor in [-1, 1]. Texts are split at sentence boundaries because the model
refuses inputs longer than about 1000 characters.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from cuckoo.errors import TtsError
from cuckoo.line.audio import Audio
from cuckoo.speech.models import CATALOG
from cuckoo.speech.tts.base import concat, split_sentences

log = logging.getLogger(__name__)

SUPPORTED_RATES = (8000, 24000, 48000)
MAX_CHARS = 800  # below Silero's ~1000-character limit, with room for SSML wrapping
SENTENCE_GAP_S = 0.15

LICENSES = {
    "v4_ru": "CC BY-NC 4.0 (non-commercial)",
    "v5_ru": "CC BY-NC 4.0 (non-commercial)",
    "v5_cis_base": "MIT",
}

_models: dict[Path, Any] = {}
_models_lock = threading.Lock()


def download_hint(path: Path) -> str:
    """The command that fetches this model file (the catalog entry whose file it is)."""
    spec = next((s for s in CATALOG.values() if Path(s.target).name == path.name), None)
    if spec is None:
        return "cuckoo models list shows the Silero files it can fetch"
    return f"cuckoo models download {spec.name}"


def _torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise TtsError(
            "Silero needs torch: pip install 'cuckoo[silero]' (torch==2.13.0, CPU build)"
        ) from e
    return torch


def load_model(path: Path, *, threads: int = 1) -> Any:
    """Load (once per process) a Silero torch.package file onto the CPU."""
    torch = _torch()
    path = Path(path).resolve()
    with _models_lock:
        if path not in _models:
            if not path.is_file():
                raise TtsError(f"{path}: Silero model file not found ({download_hint(path)})")
            torch.set_num_threads(threads)
            try:
                importer = torch.package.PackageImporter(str(path))
                model = importer.load_pickle("tts_models", "model")
            except Exception as e:  # a torch.package error can be many things: name the file
                raise TtsError(f"{path}: not a Silero TTS package: {e}") from e
            model.to(torch.device("cpu"))
            _models[path] = model
            log.info("silero model %s loaded (torch threads=%d)", path.name, threads)
        else:
            torch.set_num_threads(threads)
        return _models[path]


class SileroEngine:
    name = "silero"

    def __init__(
        self,
        model_path: Path,
        *,
        speaker: str,
        sample_rate: int = 24000,
        threads: int = 1,
        put_accent: bool = True,
        put_yo: bool = True,
        tempo: float = 1.0,
    ) -> None:
        if sample_rate not in SUPPORTED_RATES:
            raise TtsError(
                f"silero sample_rate must be one of {SUPPORTED_RATES}, not {sample_rate}"
            )
        self._model = load_model(model_path, threads=threads)
        speakers = list(getattr(self._model, "speakers", []) or [])
        if speakers and speaker not in speakers:
            raise TtsError(
                f"{model_path.name}: no speaker {speaker!r}; available: {', '.join(speakers)}"
            )
        self.speaker = speaker
        self.native_rate = sample_rate
        self._accent, self._yo = put_accent, put_yo
        self._prosody = _prosody_rate(tempo)
        self._lock = threading.Lock()  # one model object: apply_tts is not re-entrant

    def render(self, text: str, *, rate: int) -> Audio:
        # Silero renders 8 kHz itself: better than resampling 24 kHz down.
        out_rate = rate if rate in SUPPORTED_RATES else self.native_rate
        parts = [self._one(piece, out_rate) for piece in split_sentences(text, MAX_CHARS)]
        return concat([p for p in parts if p.pcm], out_rate, SENTENCE_GAP_S)

    def render_ssml(self, ssml: str, *, rate: int) -> Audio:
        """SSML (<speak>…</speak>, <break time="500ms"/>, <prosody rate="slow">) as is."""
        out_rate = rate if rate in SUPPORTED_RATES else self.native_rate
        with self._lock:
            wav = self._model.apply_tts(ssml_text=ssml, speaker=self.speaker, sample_rate=out_rate)
        return _to_audio(wav, out_rate)

    def _one(self, text: str, rate: int) -> Audio:
        if not text.strip():
            return Audio(b"", rate)
        with self._lock:
            if self._prosody:
                ssml = f'<speak><prosody rate="{self._prosody}">{_xml(text)}</prosody></speak>'
                wav = self._model.apply_tts(ssml_text=ssml, speaker=self.speaker, sample_rate=rate)
            else:
                wav = self._model.apply_tts(
                    text=text,
                    speaker=self.speaker,
                    sample_rate=rate,
                    put_accent=self._accent,
                    put_yo=self._yo,
                )
        return _to_audio(wav, rate)

    def close(self) -> None:
        pass


def _to_audio(wav: Any, rate: int) -> Audio:
    samples = np.asarray(wav.detach().cpu().numpy() if hasattr(wav, "detach") else wav)
    return Audio.from_samples(samples.astype(np.float64).reshape(-1) * 32767.0, rate)


def _prosody_rate(tempo: float) -> str:
    """Silero has no tempo argument; SSML prosody has five steps."""
    if tempo <= 0.7:
        return "x-slow"
    if tempo <= 0.9:
        return "slow"
    if tempo < 1.1:
        return ""
    if tempo < 1.3:
        return "fast"
    return "x-fast"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
