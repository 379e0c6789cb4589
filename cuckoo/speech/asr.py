"""Streaming Vosk recognition of 8 kHz telephony audio.

- One `vosk.Model` per model folder per process (`load_model`, cached): the model is large and
  read-only, so every call shares it. One `VoskRecognizer` per call (per question).
- Audio arrives at 8 kHz; the model wants its own rate (16 kHz for the usual models, from
  conf/mfcc.conf), so frames are upsampled incrementally (linear interpolation carrying the
  last sample across frames — upsampling cannot alias, telephone audio has nothing above 4 kHz).
- A question's grammar restricts the decoder to its vocabulary plus "[unk]" (everything else),
  which makes short answers far more reliable than free decoding.
- `accept` returns partials (for barge-in) and Vosk's own finals; `finish` flushes. The caller
  (cuckoo.line.endpointing.UtteranceListener) decides when the utterance is over.

Runs on whatever thread feeds it — never the pjsua2 thread (telephony hands frames over).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from cuckoo.errors import AsrError
from cuckoo.line.speech import Recognition, RecognizerFactory, StreamingRecognizer
from cuckoo.speech.models import find_asr_model

log = logging.getLogger(__name__)

TELEPHONY_RATE = 8000
UNK = "[unk]"


def _vosk() -> Any:
    try:
        import vosk
    except ImportError as e:
        raise AsrError("speech recognition needs vosk: pip install 'cuckoo[asr]'") from e
    return vosk


_models: dict[Path, Any] = {}
_models_lock = threading.Lock()


def is_vosk_model(path: Path) -> bool:
    return (path / "am" / "final.mdl").is_file() and (path / "conf").is_dir()


def load_model(path: str | Path) -> Any:
    """The shared vosk.Model for `path` (loaded on first use)."""
    p = Path(path).resolve()
    with _models_lock:
        model = _models.get(p)
        if model is None:
            if not is_vosk_model(p):
                raise AsrError(
                    f"{p}: not a Vosk model folder (no am/final.mdl); "
                    "see `cuckoo models download vosk-small-ru`"
                )
            vosk = _vosk()
            vosk.SetLogLevel(-1)  # Kaldi logs every load step to stderr otherwise
            model = vosk.Model(str(p))
            _models[p] = model
            log.info("vosk model %s loaded", p)
        return model


def model_sample_rate(path: str | Path) -> int:
    """The rate the model was trained on (conf/mfcc.conf --sample-frequency; Kaldi's default
    16000 when not set)."""
    conf = Path(path) / "conf" / "mfcc.conf"
    try:
        text = conf.read_text(encoding="utf-8")
    except OSError:
        return 16000
    m = re.search(r"--sample-frequency\s*=\s*(\d+)", text)
    return int(m.group(1)) if m else 16000


class StreamResampler:
    """Linear-interpolation resampler for a stream of int16 chunks; keeps the tail between
    chunks so the output is identical however the input is cut. Meant for upsampling (no
    anti-alias filter: downsampling speech this way would fold sibilants into the band)."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        self.step = rate_in / rate_out
        self._buf = np.empty(0, dtype=np.float64)
        self._pos = 0.0  # next output position, in samples of _buf

    def process(self, pcm: bytes) -> bytes:
        if self.step == 1.0:
            return pcm
        x = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
        buf = np.concatenate([self._buf, x])
        last = len(buf) - 1  # interpolation needs a right neighbour
        if last <= self._pos:
            self._buf = buf
            return b""
        n = int(np.ceil((last - self._pos) / self.step))
        t = self._pos + np.arange(n) * self.step
        y = np.interp(t, np.arange(len(buf)), buf)
        new_pos = self._pos + n * self.step
        drop = int(new_pos)
        self._buf = buf[drop:]
        self._pos = new_pos - drop
        return np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes()

    def reset(self) -> None:
        self._buf = np.empty(0, dtype=np.float64)
        self._pos = 0.0


def grammar_json(grammar: list[str]) -> str:
    """Vosk grammar: the phrases (lower case, deduplicated, order kept) plus "[unk]"."""
    phrases: list[str] = []
    for g in grammar:
        g = " ".join(g.lower().split())
        if g and g != UNK and g not in phrases:
            phrases.append(g)
    return json.dumps([*phrases, UNK], ensure_ascii=False)


def _parse(raw: str, key: str) -> tuple[str, float]:
    data = json.loads(raw)
    text = str(data.get(key, "")).strip()
    words = data.get("result") or []
    confs = [float(w.get("conf", 0.0)) for w in words if isinstance(w, dict)]
    conf = min(confs) if confs else (1.0 if text else 0.0)
    return text, conf


class VoskRecognizer:
    """StreamingRecognizer over a shared vosk.Model; one per call.

    Vosk decides where an utterance ends at the boundaries of the chunks it is fed, so the same
    audio cut into other chunks can end up recognized differently. The recognizer therefore
    feeds it fixed 20 ms blocks whatever the line delivers: the result depends on the audio
    only."""

    def __init__(
        self,
        model: Any,
        grammar: list[str] | None = None,
        *,
        rate_in: int = TELEPHONY_RATE,
        model_rate: int = 16000,
    ) -> None:
        vosk = _vosk()
        self.grammar = grammar
        if grammar:
            self._rec = vosk.KaldiRecognizer(model, float(model_rate), grammar_json(grammar))
        else:
            self._rec = vosk.KaldiRecognizer(model, float(model_rate))
        self._rec.SetWords(True)  # per-word confidences
        self._resampler = StreamResampler(rate_in, model_rate)
        self._block = model_rate // 50 * 2  # bytes of 20 ms at the model's rate
        self._pending = b""  # resampled audio not fed yet (less than one block)
        self._results: deque[Recognition] = deque()
        self._partial = ""

    def accept(self, pcm8k: bytes) -> Recognition | None:
        data = self._pending + self._resampler.process(pcm8k)
        whole = len(data) // self._block * self._block
        self._pending = data[whole:]
        for start in range(0, whole, self._block):
            self._feed(data[start : start + self._block])
        return self._results.popleft() if self._results else None

    def _feed(self, block: bytes) -> None:
        if self._rec.AcceptWaveform(block):
            text, conf = _parse(self._rec.Result(), "text")
            self._partial = ""
            if text:
                self._results.append(Recognition(text, True, conf))
            return
        partial = str(json.loads(self._rec.PartialResult()).get("partial", "")).strip()
        if partial and partial != self._partial:
            self._partial = partial
            self._results.append(Recognition(partial, False))

    def finish(self) -> Recognition:
        if self._pending:
            self._feed(self._pending)
        # finals the caller has not collected yet come first, then the rest of the utterance
        texts = [r.text for r in self._results if r.is_final]
        confs = [r.confidence for r in self._results if r.is_final]
        text, conf = _parse(self._rec.FinalResult(), "text")
        if text:
            texts.append(text)
            confs.append(conf)
        self._resampler.reset()
        self._pending = b""
        self._results.clear()
        self._partial = ""
        return Recognition(" ".join(texts), True, min(confs) if confs else 0.0)


def recognizer_factory(
    model_path: str | Path, *, rate_in: int = TELEPHONY_RATE
) -> RecognizerFactory:
    """A factory making one recognizer per call over the shared model at `model_path`."""
    model = load_model(model_path)
    model_rate = model_sample_rate(model_path)

    def make(grammar: list[str] | None) -> StreamingRecognizer:
        return VoskRecognizer(model, grammar, rate_in=rate_in, model_rate=model_rate)

    return make


def recognizer_from_config(config: Any) -> RecognizerFactory | None:
    """For [telephony] recognizer = "cuckoo.speech.asr:recognizer_from_config": the model in
    [speech] asr_model, else the first installed Russian Vosk model, else None (DTMF only)."""

    path = find_asr_model(config)
    if path is None:
        log.warning(
            "no Russian Vosk model installed: listening to DTMF only "
            "(cuckoo models download vosk-small-ru)"
        )
        return None
    return recognizer_factory(path)
